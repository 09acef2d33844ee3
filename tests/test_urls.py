"""Canonical URLs, site identity, the article pre-filter and trap detection (crawler.urls)."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from crawler.urls import (
    allowed_sites,
    canonicalize_url,
    is_same_site,
    is_trap_url,
    looks_like_article,
    site_key,
)

# An Arabic headline slug ("the Oriental region signs a partnership agreement with Andalusia").
ARABIC_SLUG = "جهة-الشرق-توقع-اتفاقية-شراكة-مع-الأندلس"
ARABIC_UPPER = quote(ARABIC_SLUG)
ARABIC_LOWER = ARABIC_UPPER.lower()

# -- canonicalize_url ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "param",
    [
        "utm_source=newsletter",
        "utm_medium=social",
        "UTM_Campaign=rentree",
        "fbclid=IwAR0abc",
        "gclid=Cj0KCQ",
        "dclid=x1",
        "msclkid=abc",
        "yclid=42",
        "mc_cid=5f2a",
        "mc_eid=9e8d",
        "igshid=MzRl",
        "_ga=2.1234.5678",
        "_gl=1*abc",
        "spm=a2g0o",
        "ref_src=twsrc%5Etfw",
        "at_medium=RSS",
        "at_campaign=flux",
        "xtor=RSS-1",
        "cmpid=nl",
        "PHPSESSID=6c3f0e1a2b",
        "jsessionid=AB12CD",
        "sessionid=xyz",
        "session_id=xyz",
        "sid=a81f5e2c9d0b4e7f8a1c",
    ],
)
def test_tracking_and_session_parameters_are_dropped(param):
    url = f"https://www.challenge.ma/article-123?id=7&{param}"
    assert canonicalize_url(url) == "https://www.challenge.ma/article-123?id=7"


@pytest.mark.parametrize(
    "kept",
    [
        "p=32800",
        "id=7",
        "cid=12",  # a content id on some CMSs, unlike courlan's tracker list says
        "s=cooperation",  # WordPress search, not a session
        "sid=42",  # PHP-Nuke style story id, not a session token
        "page=2",
    ],
)
def test_content_parameters_are_kept(kept):
    assert canonicalize_url(f"https://lnt.ma/?{kept}") == f"https://lnt.ma/?{kept}"


def test_every_parameter_tracking_leaves_no_question_mark():
    url = "https://lnt.ma/accord-de-jumelage/?utm_source=fb&fbclid=x"
    assert canonicalize_url(url) == "https://lnt.ma/accord-de-jumelage/"
    assert canonicalize_url("https://lnt.ma/accord-de-jumelage/?") == (
        "https://lnt.ma/accord-de-jumelage/"
    )


def test_jsessionid_path_parameter_is_dropped():
    url = "https://www.mapnews.ma/fr/actualites/regions;jsessionid=0A1B2C3D?page=2"
    assert canonicalize_url(url) == "https://www.mapnews.ma/fr/actualites/regions?page=2"


def test_fragment_is_dropped():
    assert canonicalize_url("https://lnt.ma/un-article/#comments") == "https://lnt.ma/un-article/"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://lematin.ma:443/regions/", "https://lematin.ma/regions/"),
        ("http://lematin.ma:80/regions/", "http://lematin.ma/regions/"),
        ("https://lematin.ma:8443/regions/", "https://lematin.ma:8443/regions/"),
        ("http://lematin.ma:443/regions/", "http://lematin.ma:443/regions/"),
        ("http://127.0.0.1:8001/feed.xml", "http://127.0.0.1:8001/feed.xml"),
    ],
)
def test_default_ports(url, expected):
    assert canonicalize_url(url) == expected


def test_scheme_and_host_are_lowercased_but_not_the_path():
    url = "HTTPS://WWW.LODJ.MA/Le-Mississippi-Fait-Escale_a136958.html"
    assert canonicalize_url(url) == "https://www.lodj.ma/Le-Mississippi-Fait-Escale_a136958.html"


def test_trailing_slash_is_kept_as_is():
    assert canonicalize_url("https://lnt.ma/un-article/") == "https://lnt.ma/un-article/"
    assert canonicalize_url("https://lnt.ma/un-article") == "https://lnt.ma/un-article"
    assert canonicalize_url("https://lnt.ma") == "https://lnt.ma/"


def test_host_trailing_dot_is_dropped():
    assert canonicalize_url("https://lnt.ma./un-article") == "https://lnt.ma/un-article"


def test_query_arguments_are_sorted():
    url = "https://www.mapexpress.ma/?s=region&post_type=actualite&lang=fr"
    assert (
        canonicalize_url(url) == "https://www.mapexpress.ma/?lang=fr&post_type=actualite&s=region"
    )


@pytest.mark.parametrize(
    "spelling",
    [ARABIC_SLUG, ARABIC_UPPER, ARABIC_LOWER],
    ids=["raw", "upper-escapes", "lower-escapes"],
)
def test_arabic_slugs_have_one_spelling(spelling):
    url = f"https://www.barlamane.com/{spelling}/"
    assert canonicalize_url(url) == f"https://www.barlamane.com/{ARABIC_UPPER}/"


def test_arabic_query_values_have_one_spelling():
    raw = canonicalize_url("https://www.hespress.com/?s=الدار البيضاء")
    encoded = canonicalize_url(
        "https://www.hespress.com/?s=" + quote("الدار البيضاء").lower().replace("%20", "+")
    )
    assert raw == encoded
    assert raw.startswith("https://www.hespress.com/?s=%D8%A7")


def test_international_host_is_idna_encoded():
    assert canonicalize_url("https://مثال.المغرب/خبر") == (
        "https://xn--mgbh0fb.xn--mgbc0a9azcg/%D8%AE%D8%A8%D8%B1"
    )


def test_relative_urls_resolve_against_the_base():
    base = "https://fr.hespress.com/economie/page/2"
    assert (
        canonicalize_url("/412345-accord.html", base)
        == "https://fr.hespress.com/412345-accord.html"
    )
    assert canonicalize_url("../regions", base) == "https://fr.hespress.com/economie/regions"
    assert canonicalize_url("//en.hespress.com/x", base) == "https://en.hespress.com/x"
    assert canonicalize_url("https://lnt.ma/a", base) == "https://lnt.ma/a"


@pytest.mark.parametrize(
    "url",
    [
        "https://WWW.Hespress.com:443/%d8%a7?utm_source=x&b=2&a=1#top",
        f"https://www.barlamane.com/{ARABIC_SLUG}/?fbclid=1",
        "http://127.0.0.1:8001/a;jsessionid=1?sid=42",
    ],
)
def test_canonicalization_is_idempotent(url):
    once = canonicalize_url(url)
    assert canonicalize_url(once) == once


@pytest.mark.parametrize(
    "url",
    [
        "mailto:redaction@lnt.ma",
        "javascript:void(0)",
        "ftp://lnt.ma/file",
        "/relative/without/base",
        "",
        "https:///no-host",
        "https://lnt.ma:99999/",
        "https://ln t.ma/",
        "https://*.lnt.ma/",
        "https://lnt..ma/",
    ],
)
def test_non_http_or_malformed_urls_raise_value_error(url):
    with pytest.raises(ValueError):  # noqa: PT011 -- the spider catches exactly ValueError
        canonicalize_url(url)


# -- site identity ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "key"),
    [
        ("https://fr.hespress.com/economie", "hespress.com"),
        ("https://www.hespress.com/", "hespress.com"),
        ("https://en.hespress.com/feed", "hespress.com"),
        ("https://WWW.LeMatin.MA/regions/", "lematin.ma"),
        ("https://ar.le360.ma/arc/outboundfeeds/rss/?outputType=xml", "le360.ma"),
        ("https://www.example.co.ma/a", "example.co.ma"),
        ("https://news.bbc.co.uk/a", "bbc.co.uk"),
        ("https://www.mapnews.ma/fr", "mapnews.ma"),
        ("http://127.0.0.1:8001/feed.xml", "127.0.0.1:8001"),
        ("http://127.0.0.1/feed.xml", "127.0.0.1:80"),
        ("https://127.0.0.1/feed.xml", "127.0.0.1:443"),
        ("http://localhost:8002/", "localhost:8002"),
        ("http://[::1]:8003/", "[::1]:8003"),
    ],
)
def test_site_key(url, key):
    assert site_key(url) == key


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("https://www.hespress.com/\ud800", "surrogates not allowed"),
        ("ftp://hespress.com/", "not an http"),
        ("https:///a", "has no host"),
        ("https://a:x/", "Port could not be cast"),
    ],
)
def test_site_key_of_a_url_that_cannot_be_canonical_is_an_error(url, message):
    with pytest.raises(ValueError, match=message):
        canonicalize_url(url)
    with pytest.raises(ValueError, match=message):
        site_key(url)


def test_subdomains_of_one_registered_domain_are_one_site():
    allowed = allowed_sites(["https://fr.hespress.com/feed", "https://fr.hespress.com/"])
    assert allowed == frozenset({"hespress.com"})
    assert is_same_site("https://www.hespress.com/article-1234567.html", allowed)
    assert is_same_site("https://en.hespress.com/economy", allowed)


@pytest.mark.parametrize(
    "url",
    [
        "https://hespress.com.example.net/phishing",
        "https://evilhespress.com/",
        "https://hespress.co.ma/",
        "mailto:contact@hespress.com",
        "not a url",
        "https://hespress.com:99999/",
    ],
)
def test_other_sites_and_garbage_are_not_the_same_site(url):
    assert not is_same_site(url, allowed_sites(["https://www.hespress.com/feed"]))


def test_sibling_domains_under_a_shared_suffix_are_different_sites():
    allowed = allowed_sites(["https://www.example.co.ma/"])
    assert not is_same_site("https://other.co.ma/", allowed)


def test_ip_addresses_include_the_port():
    allowed = allowed_sites(["http://127.0.0.1:8001/feed.xml"])
    assert is_same_site("http://127.0.0.1:8001/articles/one-two-three-four", allowed)
    assert not is_same_site("http://127.0.0.1:8002/articles/one-two-three-four", allowed)
    assert not is_same_site("http://127.0.0.1/articles/", allowed)


def test_localhost_includes_the_port():
    allowed = allowed_sites(["http://localhost:8001/"])
    assert is_same_site("http://localhost:8001/x", allowed)
    assert not is_same_site("http://localhost:8002/x", allowed)


def test_allowed_sites_ignores_unusable_urls():
    assert allowed_sites(["mailto:a@b.ma", "https://lnt.ma/feed/"]) == frozenset({"lnt.ma"})


# -- looks_like_article ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        # /<slug>-<digits> (Challenge, LeBrief)
        (
            "https://www.challenge.ma/franchise-un-partenariat-strategique-entre-la-region-"
            "casablanca-settat-et-le-comte-de-miami-dade-312561"
        ),
        (
            "https://www.lebrief.ma/casablanca-settat-et-ile-de-france-renforcent-leur-"
            "cooperation-pour-2025-2027-100094299"
        ),
        # WMaker ..._a12345.html (L'ODJ, L'Opinion)
        (
            "https://www.lodj.ma/Le-Mississippi-fait-escale-au-Maroc-quand-business-rime-avec-"
            "audace_a136958.html"
        ),
        "https://www.lopinion.ma/Tanger-accueille-une-delegation-andalouse_a22930.html",
        # WordPress short links (Express TV, le12)
        "https://fr.expresstv.ma/?p=32800",
        "https://le12.ma/fr/?p=49794",
        # long slug, one segment (LNT)
        (
            "https://lnt.ma/casablanca-rencontre-de-concertation-autour-de-la-feuille-de-route-"
            "du-commerce-exterieur-en-2025/"
        ),
        # /<section>/<slug>/<id> and its AMP twin (Le Matin)
        "https://lematin.ma/regions/cri-casablanca-settat-une-annee-2024-record/270613",
        "https://lematin.ma/regions/cri-casablanca-settat-une-annee-2024-record/270613/amp",
        # /<slug>.html (LesEco, Hespress)
        "https://leseco.ma/maroc/valerie-pecresse-deux-regions-jumelles-un-avenir-commun.html",
        "https://fr.hespress.com/412345-loriental-et-la-wallonie-renouvellent-leur-accord.html",
        # /YYYY/MM/<id>/<slug>/ (Morocco World News) and /YYYY/MM/DD/<slug>/ (Médias24)
        "https://www.moroccoworldnews.com/2025/11/12345/virginia-hosts-morocco-day-summit/",
        "https://medias24.com/2025/11/03/la-region-casablanca-settat-en-mission-a-miami/",
        # Arc XP slug with its id suffix (Le360)
        (
            "https://fr.le360.ma/economie/souss-massa-signe-un-memorandum-avec-la-virginie_"
            "KXQ3ZT5VYJHB7PMRW2A4L6NDEU/"
        ),
        # Maghress republication, MAP Daily
        "https://www.maghress.com/fr/barlamanefr/445604",
        "https://mdaily.ma/news/voir/1186-alexandria-proclame-une-journee-du-maroc",
        # percent-encoded and raw Arabic slugs (Barlamane, Hespress)
        f"https://www.barlamane.com/{ARABIC_UPPER}/",
        f"https://www.barlamane.com/{ARABIC_LOWER}/",
        f"https://www.hespress.com/{ARABIC_SLUG}-1234567.html",
    ],
)
def test_article_shaped_urls_are_kept(url):
    assert looks_like_article(url)


@pytest.mark.parametrize(
    "url",
    [
        # homepages and generic sections
        "https://lematin.ma/",
        "https://lematin.ma",
        "https://lematin.ma/regions/",
        "https://fr.hespress.com/economie",
        "https://fr.le360.ma/economie/",
        "https://www.mapnews.ma/fr/actualites/economie",
        "https://www.maghress.com/fr/barlamanefr",
        # taxonomy, author, search and pagination listings
        "https://medias24.com/categorie/environnement/",
        "https://www.barlamane.com/category/%D8%A7%D9%82%D8%AA%D8%B5%D8%A7%D8%AF/",
        "https://www.lereporter.ma/tag/casablanca-settat-ile-de-france-cooperation/",
        "https://medias24.com/author/la-redaction-de-medias24/",
        "https://leseco.ma/?s=cooperation+decentralisee",
        "https://leseco.ma/page/2/",
        "https://fr.hespress.com/economie/page/3",
        "https://www.lesiteinfo.com/economie/page-4",
        # feeds and sitemaps
        "https://www.challenge.ma/feed/",
        "https://fr.hespress.com/economie/feed",
        "https://www.hespress.com/sitemap-news.xml",
        "https://lnt.ma/un-article-avec-des-commentaires-1234/feed/",
        # calendar archives
        "https://medias24.com/2025/",
        "https://medias24.com/2025/11/",
        "https://medias24.com/2025/11/23/",
        "https://www.moroccoworldnews.com/fr/2025/11/",
        # admin, login, machinery
        "https://medias24.com/wp-admin/",
        "https://medias24.com/wp-login.php",
        "https://medias24.com/wp-json/wp/v2/posts",
        "https://lnt.ma/login",
        "https://lnt.ma/contact/",
        # static files
        "https://medias24.com/wp-content/uploads/2025/11/delegation-miami-casablanca.jpg",
        "https://www.casasettat.ma/documents/rapport-annuel-de-la-region-2024.pdf",
        "https://lnt.ma/assets/app.min.js",
        "https://lnt.ma/assets/style.css",
        "https://lnt.ma/videos/reportage-sur-la-region-de-loriental.mp4",
        "https://lnt.ma/archives/export-des-articles-2025.zip",
        # comment replies, print and share links
        "https://lnt.ma/casablanca-rencontre-de-concertation-autour-de-la-feuille/?replytocom=1234",
        "https://www.lodj.ma/Le-Mississippi-fait-escale-au-Maroc_a136958.html?print=1",
        "https://lnt.ma/casablanca-rencontre-de-concertation-autour/?share=facebook",
        "https://lnt.ma/print/casablanca-rencontre-de-concertation-autour-1234",
        # boilerplate pages with headline-like slugs
        "https://lnt.ma/mentions-legales/",
        "https://www.lesiteinfo.com/politique-de-confidentialite/",
        # not http
        "mailto:redaction@lnt.ma",
        "javascript:void(0)",
        "tel:+212522000000",
        "",
    ],
)
def test_non_article_urls_are_rejected(url):
    assert not looks_like_article(url)


# -- is_trap_url -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "https://lnt.ma/" + "a" * 600,
        "https://lnt.ma/" + "/".join(f"s{i}" for i in range(11)) + "/",
        "https://lnt.ma/economie/economie/economie/un-article",
        "https://lnt.ma/a/b/a/c/a/",
        "https://lnt.ma/liste?" + "&".join(f"f{i}=1" for i in range(7)),
        "https://lnt.ma/agenda/2031/04/",
        "https://lnt.ma/events/2026-11-23/",
        "https://lnt.ma/calendrier/?month=2031-04",
        "https://lnt.ma/evenements/?ical=1",
        "https://lnt.ma/events/?tribe-bar-date=2031-01-01",
    ],
)
def test_trap_urls(url):
    assert is_trap_url(url)


@pytest.mark.parametrize(
    "url",
    [
        "https://www.moroccoworldnews.com/2025/11/12345/virginia-hosts-morocco-day-summit/",
        "https://medias24.com/2025/11/11/la-region-casablanca-settat-en-mission-a-miami/",
        "https://lematin.ma/regions/cri-casablanca-settat-une-annee-2024-record/270613/amp",
        "https://www.challenge.ma/economie/economie-regionale-un-bilan-312561",
        "https://lnt.ma/liste?" + "&".join(f"f{i}=1" for i in range(6)),
        "https://lnt.ma/events/forum-des-regions-maroc-france/",
        # a long Arabic headline: over 500 characters percent-encoded, not when decoded
        "https://www.hespress.com/" + quote("-".join([ARABIC_SLUG] * 4)) + "-1234567.html",
    ],
)
def test_ordinary_urls_are_not_traps(url):
    assert not is_trap_url(url)
