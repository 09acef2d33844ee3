"""Canonical URLs, site identity and the cheap URL pre-filters run before any download.

w3lib does the RFC work (IDNA, percent-encoding, dot segments, query sorting) and tldextract's
bundled public-suffix list (no network) gives registered domains; this module adds only what they
lack: tracking and session parameters, default ports, and news-specific heuristics. Pure: no I/O.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from typing import TYPE_CHECKING
from urllib.parse import unquote, unquote_plus, urljoin, urlsplit, urlunsplit

import tldextract
from courlan.filters import extension_filter, is_not_crawlable
from w3lib.url import canonicalize_url as w3lib_canonicalize_url

if TYPE_CHECKING:
    from collections.abc import Iterable
    from urllib.parse import SplitResult

# Query parameters that only say where a click came from. Matched on the lowercased name.
# courlan's TRACKERS_RE is not used: it also drops `cid`, `uid`, `source` and `ref`, which some
# CMSs use as content ids, and a dropped id merges distinct articles into one canonical URL.
_TRACKING_PREFIXES = ("utm_", "at_", "pk_", "mtm_", "hsa_", "ns_", "fb_action_", "oly_")
_TRACKING_PARAMS = frozenset(
    {
        "fbclid", "gclid", "gclsrc", "dclid", "msclkid", "yclid", "wbraid", "gbraid",
        "ttclid", "twclid", "li_fat_id", "srsltid", "mc_cid", "mc_eid", "igshid", "_ga",
        "_gl", "_hsenc", "_hsmi", "mkt_tok", "spm", "ref_src", "ref_url", "xtor", "xts",
        "cmpid", "ocid", "ncid", "fb_ref", "fb_source", "vero_id", "__twitter_impression",
        "guccounter", "amp_js_v", "usqp",
    }
)  # fmt: skip
# Session ids never name content. `sid` is dropped only when its value looks like a token, since
# PHP-Nuke-style CMSs use `sid=<digits>` as the story id. `s` is kept: on WordPress it is the
# search query, and dropping it would turn every search URL into the homepage.
_SESSION_PARAMS = frozenset({"phpsessid", "jsessionid", "sessionid", "session_id", "aspsessionid"})
_SESSION_TOKEN = re.compile(r"^(?=.*[a-z])[a-z0-9]{16,}$", re.IGNORECASE)
_PATH_SESSION = re.compile(r";(?:jsessionid|phpsessid)=[^/?#;]*", re.IGNORECASE)
_DEFAULT_PORTS = {"http": 80, "https": 443}
# What is left of a valid host once w3lib has IDNA-encoded it (letters, digits, dots, hyphens,
# underscores as seen on some CDNs), or a bracketed IPv6 address.
_VALID_HOST = re.compile(r"[a-z0-9._-]+|\[[0-9a-f:.]+\]")

# The public-suffix snapshot bundled with tldextract: no download, no cache directory. Private
# suffixes (blogspot.com, github.io) count, so two blogs on one host are two sites.
_EXTRACT = tldextract.TLDExtract(
    suffix_list_urls=(), cache_dir=None, include_psl_private_domains=True
)


def canonicalize_url(url: str, base: str | None = None) -> str:
    """The one spelling of `url` used for dedup and storage.

    Lowercase scheme and host, IDNA host, no default port, no fragment, no tracking or session
    parameters, sorted query, percent-escapes in upper case (so a raw Arabic slug and its
    encoded forms agree), path case and trailing slash kept.

    Raises:
        ValueError: `url` is not an absolute http(s) URL (after resolving against `base`),
            or its host or port is malformed.
    """
    url = url.strip()
    if base:
        url = urljoin(base.strip(), url)
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise ValueError(f"{url!r} is not an http(s) URL")
    if not parts.hostname:
        raise ValueError(f"{url!r} has no host")
    path = _PATH_SESSION.sub("", parts.path)
    query = "&".join(p for p in parts.query.split("&") if p and _keeps_param(p))
    cleaned = w3lib_canonicalize_url(urlunsplit((scheme, parts.netloc, path, query, "")))
    final = urlsplit(cleaned)
    return urlunsplit((scheme, _netloc(final, scheme), final.path or "/", final.query, ""))


def _keeps_param(pair: str) -> bool:
    raw_name, _, value = pair.partition("=")
    name = unquote_plus(raw_name).strip().lower()
    if name in _TRACKING_PARAMS or name.startswith(_TRACKING_PREFIXES):
        return False
    if name in _SESSION_PARAMS or name.startswith("aspsessionid"):
        return False
    return not (name == "sid" and _SESSION_TOKEN.match(unquote_plus(value)))


def _netloc(parts: SplitResult, scheme: str) -> str:
    """Rebuild user@host:port without a trailing dot in the host or a default port."""
    userinfo, at, hostport = parts.netloc.rpartition("@")
    port = parts.port  # raises ValueError on a malformed port
    if hostport.startswith("["):
        host = hostport[: hostport.index("]") + 1]
    else:
        host = hostport.rsplit(":", 1)[0] if ":" in hostport else hostport
    host = host.rstrip(".").lower()
    if not _VALID_HOST.fullmatch(host) or ".." in host or host.startswith("."):
        raise ValueError(f"{host!r} is not a valid host name")
    netloc = f"{userinfo}{at}{host}"
    if port is not None and port != _DEFAULT_PORTS[scheme]:
        netloc += f":{port}"
    return netloc


def site_key(url: str) -> str:
    """The registered domain of `url` (`fr.hespress.com` → `hespress.com`).

    IP addresses, `localhost` and hosts without a public suffix keep their effective port
    (`127.0.0.1:8001`), because test outlets share one address on different ports.

    Raises:
        ValueError: `url` is not an absolute http(s) URL.
    """
    parts = urlsplit(url.strip())
    key = _origin_site_key(parts.scheme, parts.netloc)
    if not url.isascii():
        canonicalize_url(url)  # raises for a path or query it cannot spell (a lone surrogate)
    return key


# The key depends on the scheme and host only: computed once per origin, not for each of the
# thousands of URLs a sitemap lists (each owned by its source: a canonicalisation and a
# public-suffix lookup, 0.05 ms).
@functools.lru_cache(maxsize=1024)
def _origin_site_key(scheme: str, netloc: str) -> str:
    parts = urlsplit(canonicalize_url(f"{scheme}://{netloc}/"))
    host = parts.hostname or ""
    extracted = _EXTRACT(host)
    if _is_ip(host) or not extracted.suffix or not extracted.domain:
        port = parts.port or _DEFAULT_PORTS[parts.scheme]
        return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    return f"{extracted.domain}.{extracted.suffix}"


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def allowed_sites(urls: Iterable[str]) -> frozenset[str]:
    """Site keys of a source's configured URLs; URLs that are not http(s) are ignored."""
    keys: set[str] = set()
    for url in urls:
        try:
            keys.add(site_key(url))
        except ValueError:
            continue
    return frozenset(keys)


def is_same_site(url: str, allowed: frozenset[str]) -> bool:
    """Whether `url` belongs to one of the `allowed` site keys (False for malformed URLs)."""
    try:
        return site_key(url) in allowed
    except ValueError:
        return False


# -- the article pre-filter ------------------------------------------------------------------

# Path segments that name a listing, an account page or machinery, never an article.
_NON_ARTICLE_SEGMENTS = frozenset(
    {
        "tag", "tags", "category", "categorie", "categories", "categoria", "rubrique",
        "author", "authors", "auteur", "auteurs", "writer", "search", "recherche", "feed",
        "feeds", "rss", "atom", "wp-admin", "wp-login.php", "wp-content", "wp-includes",
        "wp-json", "xmlrpc.php", "cdn-cgi", "login", "logout", "signin", "signup",
        "connexion", "register", "inscription", "account", "compte", "my-account",
        "newsletter", "print", "imprimer", "share", "partager", "sharer", "trackback",
        "embed", "attachment", "comments", "page", "archives", "archive", "calendar",
        "calendrier", "agenda", "vocabulary", "taxonomy",
    }
)  # fmt: skip
# Boilerplate pages whose slug looks like a headline.
_BOILERPLATE_SLUGS = frozenset(
    {
        "mentions-legales", "qui-sommes-nous", "politique-de-confidentialite",
        "conditions-generales-d-utilisation", "conditions-d-utilisation", "privacy-policy",
        "terms-of-use", "terms-and-conditions", "about-us", "contact-us", "nous-contacter",
        "a-propos", "charte-editoriale", "cookie-policy", "politique-cookies",
    }
)  # fmt: skip
_NON_ARTICLE_QUERY = frozenset(
    {
        "replytocom", "share", "print", "s", "q", "query", "search", "page", "paged",
        "feed", "page_id", "attachment_id", "cat", "tag", "author", "action", "redirect_to",
        "output", "format",
    }
)  # fmt: skip
# What courlan's extension_filter lets through: extensions with digits (its pattern is
# letters-only) and feed or data files (it whitelists .xml and .txt as web pages).
_MORE_NON_PAGES = re.compile(
    r"\.(?:mp[34]|m4[av]|3gp|woff2|7z|xml|rss|atom|json|txt)$", re.IGNORECASE
)
_PAGE_SEGMENT = re.compile(r"^(?:page|p)[-_]?\d+$", re.IGNORECASE)
_CALENDAR_PATH = re.compile(r"^/(?:[a-z]{2}/)?\d{4}(?:/\d{1,2}){0,2}/?$", re.IGNORECASE)
_NUMERIC_ID = re.compile(r"^\d{4,}$")
_SLUG_WITH_ID = re.compile(r"[-_]\d{3,}(?:\.[a-z]{2,5})?$|_a\d+\.html?$", re.IGNORECASE)
_WEB_PAGE_EXT = re.compile(r"\.(?:html?|php|aspx?|jsp|shtml)$", re.IGNORECASE)
_WP_POST_QUERY = re.compile(r"(?:^|&)p=\d+(?:&|$)")
# An article's last segment: a headline slug of four or more words (section names rarely have
# more than three). Separators are hyphens in almost every CMS; `\w` covers Arabic letters
# once the path is percent-decoded.
_HEADLINE_SLUG = re.compile(r"^\w+(?:[-_.]\w+){3,}")
_TRAILING_NOISE = frozenset({"amp", "index.html", "index.php"})


def looks_like_article(url: str) -> bool:
    """Cheap pre-download guess that a link found on a listing page is an article.

    Feeds and sitemaps are trusted more and do not go through this. False negatives only
    cost recall on section pages; false positives cost one download each.
    """
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return False
    if parts.scheme.lower() not in _DEFAULT_PORTS or not parts.netloc:
        return False
    path = unquote(parts.path)
    if not extension_filter(path.lower()) or is_not_crawlable(path):
        return False  # images, pdf, video, archives; login and contact pages
    if _MORE_NON_PAGES.search(path):
        return False
    query_names = {unquote_plus(p.partition("=")[0]).lower() for p in parts.query.split("&") if p}
    if _WP_POST_QUERY.search(parts.query) and not query_names & _NON_ARTICLE_QUERY:
        return True  # WordPress short link /?p=123
    if query_names & _NON_ARTICLE_QUERY or _CALENDAR_PATH.match(path):
        return False
    segments = [s for s in path.split("/") if s]
    lowered = [s.lower() for s in segments]
    if any(s in _NON_ARTICLE_SEGMENTS or _PAGE_SEGMENT.match(s) for s in lowered):
        return False
    while lowered and lowered[-1] in _TRAILING_NOISE:
        lowered.pop()
    if not lowered:
        return False  # homepage
    last = lowered[-1]
    if _WEB_PAGE_EXT.search(last):
        last = last.rsplit(".", 1)[0]
    if last in _BOILERPLATE_SLUGS:
        return False
    if _SLUG_WITH_ID.search(lowered[-1]) or _HEADLINE_SLUG.match(last):
        return True
    # /<section>/<slug>/<numeric id> (Le Matin) or /<source>/<numeric id> (Maghress)
    return len(lowered) >= 2 and bool(_NUMERIC_ID.match(last))


# -- crawler traps ---------------------------------------------------------------------------

MAX_URL_LENGTH = 500
MAX_PATH_SEGMENTS = 10
MAX_REPEATED_SEGMENT = 3
MAX_QUERY_PARAMS = 6
_CALENDAR_WORDS = frozenset({"calendar", "calendrier", "agenda", "events", "event", "evenements"})
# Event-calendar plugins (The Events Calendar, iCal exports) generate one URL per day, forever.
_CALENDAR_QUERY = frozenset({"ical", "outlook-ical", "tribe-bar-date", "eventdate", "eventdisplay"})
_DATE_LIKE = re.compile(r"\d{4}-\d{1,2}(?:-\d{1,2})?|^\d{4}$|^\d{1,2}$")


def is_trap_url(url: str) -> bool:
    """URLs that generate endless variants: calendars, repeated paths, parameter soup.

    Bounds are deliberately loose (no news article comes near them); they exist to stop
    a crawl that has wandered into a generated URL space.
    """
    # Measured decoded: a percent-encoded Arabic headline is six characters per letter, and
    # Hespress or Barlamane slugs of 80 letters are ordinary articles, not traps.
    if len(unquote(url)) > MAX_URL_LENGTH:
        return True
    try:
        parts = urlsplit(url)
    except ValueError:
        return True
    segments = [s.lower() for s in unquote(parts.path).split("/") if s]
    if len(segments) > MAX_PATH_SEGMENTS:
        return True
    if any(segments.count(s) >= MAX_REPEATED_SEGMENT for s in set(segments)):
        return True
    params = [p for p in parts.query.split("&") if p]
    if len(params) > MAX_QUERY_PARAMS:
        return True
    names = {unquote_plus(p.partition("=")[0]).lower() for p in params}
    if names & _CALENDAR_QUERY:
        return True
    # /agenda/2031/04/, /events/2026-11-23/, /calendar/?month=2031-04: a date under a calendar
    values = [unquote_plus(p.partition("=")[2]) for p in params]
    return bool(_CALENDAR_WORDS & set(segments)) and any(
        _DATE_LIKE.search(s) for s in [*segments, *values]
    )


__all__ = [
    "allowed_sites",
    "canonicalize_url",
    "is_same_site",
    "is_trap_url",
    "looks_like_article",
    "site_key",
]
