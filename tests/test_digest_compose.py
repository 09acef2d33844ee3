"""Composing the digest: grouping, order, snippets with highlighted terms, "also in", languages,
escaping of untrusted titles and snippets, and the source-health footer. No database, no SMTP."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from crawler.config import DigestConfig
from crawler.digest.compose import compose_digest, format_date, snippet
from storage.records import DigestArticle, PendingStory, SourceHealth

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


def article(
    article_id: int,
    title: str,
    text: str,
    *,
    regions=(),
    partners=(),
    groups=None,
    score: float = 12.0,
    tier: str = "core",
    source: str = "lematin",
) -> DigestArticle:
    return DigestArticle(
        article_id=article_id,
        url=f"https://www.example.ma/article-{article_id}.html",
        title=title,
        source=source,
        published=datetime(2026, 11, 18, 9, 30, tzinfo=UTC),
        first_seen=datetime(2026, 11, 18, 10, 0, tzinfo=UTC),
        score=score,
        language="fr",
        explanation={
            "tier": tier,
            "regions": list(regions),
            "partners": list(partners),
            "groups": groups or {},
        },
        text=text,
    )


SOUSS = PendingStory(
    article(
        1,
        "Souss-Massa et la Bavière signent un mémorandum",
        "Le conseil de la région Souss-Massa a signé à Agadir un mémorandum d'entente avec "
        "l'État libre de Bavière sur la formation aux métiers de l'eau.",
        regions=["Souss-Massa"],
        partners=["Bavière"],
        groups={"agreement": ["mémorandum d'entente", "sign*"], "moroccan_region": ["région <x>"]},
        score=14.0,
    ),
    also_in=(("leseco", "https://leseco.ma/souss-baviere"), ("lebrief", "https://lebrief.ma/sb")),
    article_ids=(1, 4, 5),
    story_id=1,
)
TANGER = PendingStory(
    article(
        2,
        "Tanger et Séville renouvellent leur jumelage",
        "La commune de Tanger et la ville de Séville ont renouvelé leur accord de jumelage.",
        regions=["Tanger-Tétouan-Al Hoceïma"],
        partners=["Séville"],
        groups={"twinning": ["jumel*"]},
        score=16.0,
        source="hespress",
    ),
    article_ids=(2,),
)
ORIENTAL = PendingStory(
    article(
        3,
        "L'Oriental présente sa feuille de route export",
        "La région de l'Oriental a présenté sa feuille de route pour le commerce extérieur.",
        regions=["Oriental"],
        groups={"initiative": ["feuille de route"]},
        score=20.0,
        tier="related",
    ),
    article_ids=(3,),
)
AGADIR = PendingStory(
    article(
        6,
        "Agadir accueille une délégation de Bavière",
        "Une délégation bavaroise est attendue à Agadir pour suivre le mémorandum.",
        regions=["Souss-Massa"],
        partners=["Bavière"],
        score=11.0,
    ),
    article_ids=(6,),
)


def config(**values) -> DigestConfig:
    return DigestConfig.model_validate({"to": ["veille@example.org"], **values})


def titles_in(html: str) -> list[str]:
    return re.findall(
        r'<a href="[^"]+" style="color:#0b57a4;text-decoration:none;">([^<]+)</a>', html
    )


def test_grouped_by_region_most_relevant_first():
    digest = compose_digest([ORIENTAL, AGADIR, SOUSS, TANGER], config(), NOW)
    assert digest.stories == 4
    # Core stories before related ones, higher scores first; a region's stories stay together.
    assert titles_in(digest.html) == [
        "Tanger et Séville renouvellent leur jumelage",
        "Souss-Massa et la Bavière signent un mémorandum",
        "Agadir accueille une délégation de Bavière",
        "L&#39;Oriental présente sa feuille de route export",
    ]
    text = digest.text
    assert text.index("== Tanger-Tétouan-Al Hoceïma ==") < text.index("== Souss-Massa ==")
    assert text.count("== Souss-Massa ==") == 1
    assert sorted(digest.article_ids) == [1, 2, 3, 4, 5, 6]


def test_entry_has_link_outlet_date_snippet_reason_and_also_in():
    digest = compose_digest([SOUSS], config(), NOW)
    html, text = digest.html, digest.text
    assert 'href="https://www.example.ma/article-1.html"' in html
    assert "lematin · 18 novembre 2026" in html
    assert '<strong style="background:#fff1a8;">Souss-Massa</strong>' in html
    assert '<strong style="background:#fff1a8;">mémorandum d&#39;entente</strong>' in html
    assert '<strong style="background:#fff1a8;">signé</strong>' in html
    assert "Pourquoi\u202f: Maroc\u202f: Souss-Massa · partenaire\u202f: Bavière" in html
    assert "termes\u202f: mémorandum d&#39;entente, sign…" in html
    assert 'Aussi dans\u202f: <a href="https://leseco.ma/souss-baviere"' in html
    # The plain text carries the same content.
    assert "* Souss-Massa et la Bavière signent un mémorandum" in text
    assert "https://www.example.ma/article-1.html" in text
    assert "*Souss-Massa*" in text
    assert "leseco <https://leseco.ma/souss-baviere>" in text
    assert "région <x>" not in text  # rule templates are not shown to readers


def test_subject_counts_and_dates_in_each_language():
    french = compose_digest([SOUSS, TANGER], config(), NOW)
    assert french.subject == "Coopération décentralisée\u202f: 2 articles, 23 novembre 2026"
    one = compose_digest([SOUSS], config(), NOW)
    assert one.subject == "Coopération décentralisée\u202f: 1 article, 23 novembre 2026"
    english = compose_digest([SOUSS, TANGER], config(language="en"), NOW)
    assert english.subject == "Decentralized cooperation: 2 stories, 23 November 2026"
    assert "Why: Morocco: Souss-Massa" in english.text
    assert "Also in: leseco" in english.text
    assert '<html lang="en">' in english.html


def test_custom_subject_fills_count_date_and_title():
    digest = compose_digest([TANGER], config(subject="[veille] {count} · {date} · {title}"), NOW)
    assert digest.subject == (
        "[veille] 1 · 23 novembre 2026 · Tanger et Séville renouvellent leur jumelage"
    )


def test_max_stories_keeps_the_most_relevant_and_says_how_many_wait():
    digest = compose_digest([ORIENTAL, AGADIR, SOUSS, TANGER], config(max_stories=2), NOW)
    assert digest.stories == 2
    assert digest.more_pending == 2
    assert sorted(digest.article_ids) == [1, 2, 4, 5]
    assert "2 autres articles attendent le prochain envoi." in digest.text


def test_untrusted_title_and_text_are_escaped_in_html():
    hostile = PendingStory(
        article(
            9,
            'Casablanca-Settat <script>alert("x")</script> & <b>Île-de-France</b>\nBcc: x@evil.test',
            'Le conseil de la région Casablanca-Settat <img src=x onerror="alert(1)"> coopère.',
            regions=["Casablanca-Settat"],
        ),
        also_in=(("evil", 'https://evil.test/"><script>alert(2)</script>'),),
        article_ids=(9,),
    )
    digest = compose_digest([hostile], config(), NOW)
    html = digest.html
    assert "<script>" not in html
    assert "<img" not in html
    assert "<b>Île" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &lt;b&gt;Île-de-France" in html
    assert "&#34;&gt;&lt;script&gt;alert(2)" in html  # the also-in URL cannot close the href
    # The title is one line (its newline folded), in both bodies.
    assert "Île-de-France</b> Bcc: x@evil.test" in digest.text


def test_empty_digest_says_so():
    digest = compose_digest([], config(), NOW)
    assert digest.stories == 0
    assert "Aucun nouvel article depuis le dernier envoi." in digest.text
    assert "Aucun nouvel article depuis le dernier envoi." in digest.html


def test_health_footer_names_broken_sources():
    health = [
        SourceHealth("hespress", "silent", 3),
        SourceHealth(
            "leseco", "failing", 1, ("https://leseco.ma/feed/", "https://leseco.ma/s.xml")
        ),
    ]
    digest = compose_digest([SOUSS], config(), NOW, health=health)
    assert "hespress: aucun article trouvé lors des 3 dernières collectes" in digest.text
    assert "leseco: 2 flux ou plans de site en échec" in digest.text
    assert "Sources à vérifier" in digest.html
    english = compose_digest([SOUSS], config(language="en"), NOW, health=health[:1])
    assert "hespress: no article found in its last 3 crawls" in english.text


def test_snippet_centres_on_the_first_term_and_ignores_case_and_accents():
    text = ("Préambule sans rapport. " * 30) + "La REGION DE FES-MEKNES coopère avec la Bavière."
    pieces = snippet(text, ["région de Fès-Meknès", "Bavière"], width=120)
    marked = [piece for piece, highlighted in pieces if highlighted]
    assert marked == ["REGION DE FES-MEKNES", "Bavière"]
    assert pieces[0] == ("…", False)
    assert sum(len(piece) for piece, _ in pieces) <= 125


def test_snippet_without_terms_is_the_lead():
    pieces = snippet("Un texte. " * 100, [], width=50)
    assert len(pieces) == 1
    assert pieces[0][0].endswith("…")
    assert not pieces[0][1]


@pytest.mark.parametrize(("language", "expected"), [("fr", "3 mars 2026"), ("en", "3 March 2026")])
def test_dates(language, expected):
    assert format_date(datetime(2026, 3, 3, tzinfo=UTC), language) == expected
