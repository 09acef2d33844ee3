"""Pages to compare extractions on: the golden pages, bulk benchmark pages, every page of the
local news site, and pages built to push readability's text towards the gate's bound (scripts,
video iframes, loose div text, comments, non-breaking spaces, raw-text elements, furniture).

Used by the tests of the extraction's shortcuts (`crawler.readability_gate`,
`crawler.metadata_trim`): each must leave every one of these pages' extraction unchanged.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING

from crawler.encoding import decode_html
from tests.site.server import render_bulk_page

if TYPE_CHECKING:
    from tests.site.plugin import NewsSite

GOLDEN = Path(__file__).parent / "data" / "extract"
LARGEST_PAGE = 1_000_000  # the over-sized page takes seconds to extract and proves nothing here

# Text in every place readability may keep, move, drop or add to.
PACKED_PAGE = """<!DOCTYPE html><html><head><title>Jumelage Fès-Meknès et Occitanie</title>
<style>.une { color: red } body { margin: 0 }</style>
<script>var analytics = {"page": "jumelage", "section": "regions"};</script></head>
<body><div id="page">Fès, le 12 mai<b>&nbsp;—&nbsp;</b>La Région Fès-Meknès<!-- pub -->et la
Région Occitanie ont signé un protocole de coopération décentralisée.
<div>Le texte prévoit des échanges dans l'agriculture<span>et</span>le tourisme.</div>
tail après le bloc<iframe src="https://www.youtube.com/embed/abc"></iframe>suite
<iframe src="https://vimeo.com/123"></iframe><iframe src="https://ads.example/x"></iframe>
<script>document.write("publicité");</script>après le script
<p>Une délégation de Toulouse est attendue à Fès en juin pour installer le comité mixte.</p>
<p>Le conseil régional a voté la convention à l'unanimité lors de sa session ordinaire.</p>
<noscript>Activez JavaScript</noscript><textarea>commentaire</textarea>
<form>Recherche<input name="q"></form><h2 class="comment">Réagir</h2></div></body></html>"""


# Raw-text elements: readability's text comes back from its XML round trip with "<" as "&lt;"
# (and everything after <plaintext> as text), longer than the page's own text.
RAW_TEXT_ELEMENTS = ("xmp", "noembed", "noframes", "plaintext")
_PARAGRAPHS = "".join(
    f"<p>Point {i} de la feuille de route entre la Région de l'Oriental et la Wallonie : "
    f"{'formation, eau, énergie, échanges universitaires et missions économiques. ' * (i % 3 + 1)}"
    "</p>"
    for i in range(1, 9)
)


# A news template's furniture, in blocks readability removes first: the simple bound counts it,
# the tightened one does not.
_MENU = "".join(f'<li><a href="/rubrique/{i}">Rubrique régionale {i}</a></li>' for i in range(120))
_FOOTER = " ".join(
    f'<a href="/archives/{i}">Archives de la semaine {i} : économie, régions et culture</a>'
    for i in range(60)
)
HEAVY_PAGE = (
    "<html><head><title>Oriental - Wallonie</title></head><body>"
    f'<div class="mega-menu"><ul>{_MENU}</ul></div>'
    f'<div class="article-body"><h1>L\'Oriental et la Wallonie</h1>{_PARAGRAPHS}</div>'
    f'<footer class="site-footer"><script>var footer = "{"x" * 500}";</script>{_FOOTER}</footer>'
    "</body></html>"
)


# Form-feed references: whitespace to the bound, a visible U+FFFD each after readability's XML.
CONTROL_PAGE = (
    "<html><body><div class='article'><h1>L'Oriental et la Wallonie</h1>"
    f"{_PARAGRAPHS}<p>Note{' &#12;' * 2000} fin.</p></div></body></html>"
)


def raw_text_page(element: str) -> str:
    return (
        "<html><head><title>Oriental - Wallonie</title></head><body><div class='article'>"
        f"{_PARAGRAPHS}<{element}>{'&lt;a&gt; ' * 150}</{element}><p>Fin.</p></div></body></html>"
    )


def site_pages(news_site: NewsSite) -> list[tuple[str, str]]:
    pages = []
    for article in news_site.manifest.articles:
        for url in article.urls:
            try:
                with urllib.request.urlopen(url, timeout=10) as response:
                    body = response.read(LARGEST_PAGE + 1)
                    content_type = response.headers.get("Content-Type")
            except urllib.error.HTTPError:
                continue  # the site's error pages are not pages to extract
            if len(body) <= LARGEST_PAGE:
                pages.append((url, decode_html(body, content_type).text))
    return pages


def all_pages(news_site: NewsSite) -> list[tuple[str, str]]:
    golden = [
        (f"https://golden.example/{path.stem}", decode_html(path.read_bytes(), None).text)
        for path in sorted(GOLDEN.glob("*.html"))
    ]
    bulk = [
        (f"http://127.0.0.1/actualite/{i}/depeche.html", render_bulk_page(i, 40).decode())
        for i in range(40)
    ] + [
        (
            f"http://127.0.0.1/actualite/{i}/depeche.html",
            render_bulk_page(i, 40, layout="news").decode(),
        )
        for i in range(0, 40, 4)
    ]
    raw_text = [(f"https://raw.example/{name}", raw_text_page(name)) for name in RAW_TEXT_ELEMENTS]
    return [
        *golden,
        *bulk,
        ("https://packed.example/", PACKED_PAGE),
        ("https://heavy.example/", HEAVY_PAGE),
        ("https://control.example/", CONTROL_PAGE),
        *raw_text,
        *site_pages(news_site),
    ]
