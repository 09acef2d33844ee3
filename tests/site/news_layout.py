"""The `news` layout of bulk pages: an article page with the weight of a real news site's.

The lean layout (`templates/bulk/`) is an 11 KB page: a short menu, the article, five "most read"
links. A real article page is ten to thirty times that (six news pages of trafilatura's own test
cache weigh 36, 82, 127, 200, 211 and 382 KB), and extraction's cost grows with the page,
while what the crawl adds per page (a request, a hand-off to a worker, a row) barely does. A
benchmark on lean pages therefore overstates the crawl's share; this layout gives the benchmark
the page a crawl of a Moroccan outlet actually meets: a WordPress news theme with its head of
meta tags, JSON-LD, inline CSS and ad scripts, a mega menu, a ticker, breadcrumbs, share bars, a
figure, "lire aussi" and ad blocks inside the text, tags, an author box, related posts, comments,
a sidebar of widgets (most read, latest, market quotes, newsletter, tag cloud), a four-column
footer, a cookie banner and the scripts at the end. About 130 KB and 1,200 elements a page.

Everything here is generated from fixed lists and the page number: the same page `i` gives the
same bytes, and the furniture (other headlines, quotes, related posts) changes from page to page
as it does on a live site.
"""

from __future__ import annotations

import itertools
import json
import random
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from tests.site.pages import esc, human_date, slug_id

if TYPE_CHECKING:
    from tests.site.pages import Entry

SITE = "Dépêches des Régions"
# Top-level sections and their sub-menus, as a Moroccan business daily lays them out.
MENU: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Économie", ("Conjoncture", "Finances publiques", "Commerce extérieur", "Investissement",
                  "Emploi", "Fiscalité", "Douanes", "Zones franches")),
    ("Entreprises", ("Industrie", "Automobile", "Aéronautique", "BTP", "Immobilier", "Énergie",
                     "Mines", "Télécoms", "Startups", "Distribution")),
    ("Finance", ("Banques", "Bourse de Casablanca", "Assurances", "Marché des changes",
                 "Microfinance", "Fintech")),
    ("Régions", ("Casablanca-Settat", "Rabat-Salé-Kénitra", "Tanger-Tétouan-Al Hoceïma",
                 "Fès-Meknès", "Marrakech-Safi", "Souss-Massa", "L'Oriental",
                 "Béni Mellal-Khénifra", "Drâa-Tafilalet", "Guelmim-Oued Noun",
                 "Laâyoune-Sakia El Hamra", "Dakhla-Oued Ed-Dahab")),
    ("International", ("Afrique", "Europe", "Amériques", "Asie", "Monde arabe")),
    ("Agriculture", ("Filières", "Pêche", "Eau", "Génération Green")),
    ("Tourisme", ("Hôtellerie", "Transport aérien", "Destinations")),
    ("Politique", ("Gouvernement", "Parlement", "Partis", "Diplomatie")),
    ("Société", ("Éducation", "Santé", "Justice", "Environnement")),
    ("Culture", ("Cinéma", "Musique", "Livres", "Patrimoine")),
    ("Sport", ("Football", "Athlétisme", "Mondial 2030")),
    ("Opinions", ("Éditorial", "Tribunes", "Entretiens")),
)  # fmt: skip
TAGS = (
    "coopération décentralisée", "jumelage", "conseil régional", "investissement", "export",
    "PME", "infrastructures", "énergies renouvelables", "hydrogène vert", "dessalement",
    "tourisme", "agriculture", "formation professionnelle", "Afrique", "Union européenne",
    "Espagne", "France", "États-Unis", "Mondial 2030", "Port Tanger Med", "Dakhla Atlantique",
    "zones industrielles", "offshoring", "automobile", "phosphates", "OCP", "ONCF", "ONEE",
    "CDG", "Bank Al-Maghrib", "inflation", "budget", "AMDIE", "CRI",
)  # fmt: skip
QUOTES = (
    "Attijariwafa Bank", "Banque Populaire", "BMCE Bank of Africa", "CIH Bank", "Maroc Telecom",
    "LafargeHolcim Maroc", "Ciments du Maroc", "Cosumar", "Label'Vie", "Marsa Maroc",
    "TotalEnergies Marketing Maroc", "Taqa Morocco", "Managem", "Addoha", "Alliances",
)  # fmt: skip
SOCIAL = ("facebook", "x", "linkedin", "whatsapp", "telegram", "email")
AD_SLOTS = ("top-leaderboard", "in-article-1", "in-article-2", "sidebar-1", "sidebar-2",
            "footer-billboard", "interstitial", "sticky-mobile")  # fmt: skip
IMAGE_WIDTHS = (300, 390, 600, 780, 1024, 1200)


def render(
    entry: Entry,
    paragraphs: Sequence[str],
    title_of: Callable[[int], str],
    url_of: Callable[[int], str],
    summary_of: Callable[[int], str],
    index: int,
    count: int,
    now: datetime,
    base: str,
) -> str:
    """The whole page of bulk article `index`; `title_of(j)`, `url_of(j)` and `summary_of(j)`
    give the others' headline, address and first lines, for the furniture."""
    rng = random.Random(f"news-layout-{index}")
    others = [j for j in rng.sample(range(count), min(count, 40)) if j != index] or [index]

    def pick(n: int) -> list[int]:
        return [others[k % len(others)] for k in range(n)]

    cursor = itertools.count()  # each headline a little older than the one before

    def headline(j: int, image: bool = False, summary: bool = False) -> str:
        k = next(cursor)
        when = now - timedelta(hours=3 * k + (j % 7), minutes=(j * 13) % 60)
        img = _img(base, f"other-{j}", title_of(j), small=True) if image else ""
        text = f'<p class="post-excerpt">{esc(summary_of(j)[:140])}…</p>' if summary else ""
        thumb = (
            f'<div class="post-thumb"><a href="{esc(url_of(j))}">{img}</a></div>' if image else ""
        )
        return (
            f'<li class="widget-post-list-item{" has-thumb" if image else ""}">{thumb}'
            f'<div class="post-widget-body"><h3 class="post-title"><a href="{esc(url_of(j))}">'
            f"{esc(title_of(j))}</a></h3>{text}"
            f'<div class="post-meta"><span class="date meta-item tie-icon">'
            f"{esc(human_date(when, 'fr'))}</span></div></div></li>"
        )

    article = entry.article
    body_open = (
        f'<body id="tie-body" class="post-template-default single single-post '
        f"postid-{_post_id(article.id)} single-format-standard wp-embed-responsive "
        "wrapper-has-shadow block-head-4 magazine2 is-thumb-overlay-disabled is-desktop "
        'is-header-layout-3 has-header-ad sidebar-right has-sidebar post-layout-1">'
        '<div class="background-overlay"><div id="tie-container" class="site tie-container">'
        '<div id="tie-wrapper">'
    )
    content_open = (
        '<div id="content" class="site-content container"><div id="main-content-row" '
        'class="tie-row main-content-row"><div class="main-content tie-col-md-8 tie-col-xs-12" '
        'role="main">'
    )
    sidebar_open = (
        '</div><aside class="sidebar tie-col-md-4 tie-col-xs-12 normal-side is-sticky" '
        'aria-label="Barre latérale principale"><div class="theiaStickySidebar">'
    )
    most_read = [headline(j, image=True) for j in pick(10)]
    latest = [headline(j, summary=True) for j in pick(10)]
    parts = [
        _head(entry, base, rng),
        body_open,
        _top_bar(now, [headline(j) for j in pick(5)]),
        _header(base, [headline(j, image=True) for j in pick(16)]),
        _ticker([(title_of(j), url_of(j)) for j in pick(10)]),
        content_open,
        _breadcrumbs(base, entry),
        _article(entry, paragraphs, base, rng, (title_of, url_of), pick(3)),
        _related([headline(j, image=True) for j in pick(6)]),
        sidebar_open,
        _sidebar(base, rng, most_read, latest),
        "</div></aside></div></div>",
        _footer(base, now, [headline(j) for j in pick(5)]),
        "</div></div></div>",
        _cookie_banner(base),
        _tail_scripts(base, article.id),
        "</body>\n</html>\n",
    ]
    return "\n".join(parts)


def _post_id(article_id: str) -> int:
    return int(slug_id(article_id)[:6], 16)


def _img(base: str, key: str, alt: str, small: bool = False) -> str:
    name = slug_id(key)
    widths = IMAGE_WIDTHS[:3] if small else IMAGE_WIDTHS
    srcset = ", ".join(
        f"{base}/wp-content/uploads/2026/11/{name}-{w}x{w * 9 // 16}.jpg {w}w" for w in widths
    )
    w = widths[-1]
    return (
        f'<img width="{w}" height="{w * 9 // 16}" '
        f'src="{base}/wp-content/uploads/2026/11/{name}-{w}x{w * 9 // 16}.jpg" '
        f'class="attachment-jannah-image-large size-jannah-image-large wp-post-image" '
        f'alt="{esc(alt)}" decoding="async" loading="lazy" srcset="{srcset}" '
        f'sizes="(max-width: {w}px) 100vw, {w}px">'
    )


def _head(entry: Entry, base: str, rng: random.Random) -> str:
    article = entry.article
    published = entry.published.isoformat(timespec="seconds")
    modified = (entry.published + timedelta(minutes=42)).isoformat(timespec="seconds")
    tags = rng.sample(TAGS, 6)
    graph = {
        "@context": "https://schema.org",
        "@graph": [
            {
                "@type": "NewsArticle",
                "@id": f"{entry.canonical}#article",
                "headline": article.title,
                "datePublished": published,
                "dateModified": modified,
                "author": {"@type": "Person", "name": article.author},
                "publisher": {"@id": f"{base}/#organization"},
                "keywords": ", ".join(tags),
                "articleSection": "Régions",
                "inLanguage": "fr-FR",
                "mainEntityOfPage": {"@id": entry.canonical},
                "image": {"@type": "ImageObject", "url": f"{base}/wp-content/uploads/2026/11/"
                          f"{slug_id(article.id)}-1200x675.jpg", "width": 1200, "height": 675},
            },
            {
                "@type": "Organization",
                "@id": f"{base}/#organization",
                "name": SITE,
                "url": f"{base}/",
                "logo": {"@type": "ImageObject", "url": f"{base}/wp-content/uploads/logo.png"},
                "sameAs": [f"https://www.{name}.com/depechesdesregions" for name in SOCIAL[:3]],
            },
            {
                "@type": "BreadcrumbList",
                "itemListElement": [
                    {"@type": "ListItem", "position": 1, "name": "Accueil", "item": f"{base}/"},
                    {"@type": "ListItem", "position": 2, "name": "Régions",
                     "item": f"{base}/regions/"},
                    {"@type": "ListItem", "position": 3, "name": article.title},
                ],
            },
        ],
    }  # fmt: skip
    styles = "\n".join(
        f'<link rel="stylesheet" id="{name}-css" href="{base}/wp-content/{path}?ver=7.{k}.2" '
        f'type="text/css" media="all">'
        for k, (name, path) in enumerate(
            [
                ("wp-block-library", "../wp-includes/css/dist/block-library/style.min.css"),
                ("tie-css-base", "themes/jannah/assets/css/base.min.css"),
                ("tie-css-styles", "themes/jannah/assets/css/style.min.css"),
                ("tie-css-widgets", "themes/jannah/assets/css/widgets.min.css"),
                ("tie-css-helpers", "themes/jannah/assets/css/helpers.min.css"),
                ("tie-css-ilightbox", "themes/jannah/assets/ilightbox/dark-skin/skin.css"),
                ("tie-css-shortcodes", "themes/jannah/assets/css/plugins/shortcodes.min.css"),
                ("tie-css-single", "themes/jannah/assets/css/single.min.css"),
                ("tie-css-print", "themes/jannah/assets/css/print.css"),
                ("newsletter", "plugins/newsletter/style.css"),
            ]
        )
    )
    meta_tags = "\n".join(f'<meta property="article:tag" content="{esc(t)}">' for t in tags)
    return f"""<!DOCTYPE html>
<html lang="fr-FR" prefix="og: https://ogp.me/ns#">
<head>
<meta charset="UTF-8">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<meta http-equiv="X-UA-Compatible" content="IE=edge">
<title>{esc(article.title)} - {SITE}</title>
<meta name="description" content="{esc(entry.article.paragraphs[0][:155])}">
<meta name="robots" content="index, follow, max-snippet:-1, max-video-preview:-1, max-image-preview:large">
<link rel="canonical" href="{esc(entry.canonical)}">
<meta property="og:locale" content="fr_FR">
<meta property="og:type" content="article">
<meta property="og:title" content="{esc(article.title)}">
<meta property="og:description" content="{esc(entry.article.paragraphs[0][:155])}">
<meta property="og:url" content="{esc(entry.canonical)}">
<meta property="og:site_name" content="{SITE}">
<meta property="article:publisher" content="https://www.facebook.com/depechesdesregions">
<meta property="article:section" content="Régions">
{meta_tags}
<meta property="article:published_time" content="{published}">
<meta property="article:modified_time" content="{modified}">
<meta property="og:image" content="{base}/wp-content/uploads/2026/11/{slug_id(article.id)}-1200x675.jpg">
<meta property="og:image:width" content="1200">
<meta property="og:image:height" content="675">
<meta name="author" content="{esc(article.author)}">
<meta name="twitter:card" content="summary_large_image">
<meta name="twitter:site" content="@depechesregions">
<meta name="twitter:label1" content="Écrit par">
<meta name="twitter:data1" content="{esc(article.author)}">
<meta name="twitter:label2" content="Durée de lecture">
<meta name="twitter:data2" content="4 minutes">
<script type="application/ld+json" class="rank-math-schema">{json.dumps(graph, ensure_ascii=False)}</script>
<link rel="dns-prefetch" href="//fonts.googleapis.com">
<link rel="dns-prefetch" href="//securepubads.g.doubleclick.net">
<link rel="preconnect" href="https://fonts.gstatic.com" crossorigin>
<link rel="alternate" type="application/rss+xml" title="{SITE} &raquo; Flux" href="{base}/feed/">
<link rel="alternate" type="application/rss+xml" title="{SITE} &raquo; Flux des commentaires" href="{base}/comments/feed/">
<link rel="https://api.w.org/" href="{base}/wp-json/">
<link rel="shortlink" href="{base}/?p={_post_id(article.id)}">
{styles}
<style id="tie-css-inline-css" type="text/css">{_inline_css()}</style>
<script type="text/javascript">{_head_script(entry, tags)}</script>
<link rel="icon" href="{base}/wp-content/uploads/favicon-32x32.png" sizes="32x32">
<link rel="apple-touch-icon" href="{base}/wp-content/uploads/favicon-180x180.png">
</head>"""


def _inline_css() -> str:
    """A theme's customizer CSS: colours and spacing for its blocks, minified as themes ship it."""
    blocks = ("main-nav", "top-nav", "breaking", "post-cat", "widget-title", "mag-box",
              "entry-header", "share-buttons", "post-footer", "related", "footer", "sidebar",
              "tie-slider", "newsletter", "stream-item", "comment-list", "tagcloud", "author-box")  # fmt: skip
    rules = []
    for k, block in enumerate(blocks):
        hue = (k * 37) % 360
        rules.append(
            f".{block},.{block} a,.{block} .post-title a{{color:hsl({hue},62%,28%);"
            f"font-family:'Cairo',Arial,sans-serif;font-size:{12 + k % 6}px;line-height:1.{4 + k % 4}}}"
            f".{block}:hover,.{block} a:hover{{color:#0b5e9c;text-decoration:none}}"
            f"@media (max-width:991px){{.{block}{{padding:{k % 5 + 6}px {k % 3 + 10}px;"
            f"margin-bottom:{k % 4 * 5 + 10}px}}.{block} .post-thumb img{{width:100%;height:auto}}}}"
            f"@media (min-width:992px){{.{block} .tie-col-md-{k % 12 + 1}{{flex:0 0 {(k % 12 + 1) * 100 / 12:.4f}%}}}}"
        )
    return "".join(rules * 3)


def _head_script(entry: Entry, tags: list[str]) -> str:
    slots = ",".join(
        f'{{"id":"div-gpt-ad-{slot}","path":"/21800000/depeches/{slot}",'
        f'"sizes":[[728,90],[970,250],[300,250],[320,100]]}}'
        for slot in AD_SLOTS
    )
    return (
        "window.dataLayer=window.dataLayer||[];function gtag(){dataLayer.push(arguments);}"
        "gtag('js',new Date());gtag('config','G-DR2026NEWS',{'anonymize_ip':true});"
        f"dataLayer.push({{'pageType':'article','section':'regions','author':"
        f"{json.dumps(entry.article.author, ensure_ascii=False)},'tags':"
        f"{json.dumps(tags, ensure_ascii=False)}}});"
        "var tie={'is_rtl':'','ajaxurl':'/wp-admin/admin-ajax.php','mobile_menu_active':'area',"
        "'lazyload':'true','reading_indicator':'true','lightbox_all':'true','sticky_desktop':'true',"
        "'ajax_loader':'<div class=\"loader-overlay\"><div class=\"spinner-circle\"></div></div>'};"
        "window.googletag=window.googletag||{cmd:[]};var adSlots=["
        + slots
        + "];googletag.cmd.push(function(){adSlots.forEach(function(s){googletag.defineSlot("
        "s.path,s.sizes,s.id).addService(googletag.pubads());});googletag.pubads()."
        "enableSingleRequest();googletag.pubads().collapseEmptyDivs();googletag.enableServices();});"
    )


def _top_bar(now: datetime, trending: list[str]) -> str:
    social = "".join(
        f'<li class="social-icons-item"><a class="social-link {s}-social-icon" rel="external '
        f'noopener nofollow" target="_blank" href="https://www.{s}.com/depechesdesregions">'
        f'<span class="tie-social-icon tie-icon-{s}"></span><span class="screen-reader-text">{s}'
        f"</span></a></li>"
        for s in SOCIAL
    )
    return (
        '<nav id="top-nav" class="has-date-breaking-components top-nav header-nav has-breaking-news" '
        'aria-label="Navigation secondaire"><div class="container"><div class="topbar-wrapper">'
        f'<div class="topbar-today-date tie-icon">{esc(human_date(now, "fr"))}</div>'
        f'<div class="tie-alignleft"><div class="trending-now"><span class="trending-title">'
        f"Tendances</span><ul>{''.join(trending)}</ul></div></div>"
        f'<div class="tie-alignright"><ul class="components"><li class="search-compact-icon '
        f'menu-item custom-menu-link"><a href="#" class="tie-search-trigger"><span '
        f'class="tie-icon-search tie-search-icon" aria-hidden="true"></span><span '
        f'class="screen-reader-text">Rechercher</span></a></li>{social}</ul></div>'
        "</div></div></nav>"
    )


def _header(base: str, mega_posts: list[str]) -> str:
    items = []
    for k, (section, subsections) in enumerate(MENU):
        slug = _slug(section)
        subs = "".join(
            f'<li id="menu-item-{1000 + 17 * k + m}" class="menu-item menu-item-type-taxonomy '
            f'menu-item-object-category"><a href="{base}/{slug}/{_slug(sub)}/">{esc(sub)}</a></li>'
            for m, sub in enumerate(subsections)
        )
        mega = ""
        if k < 4:  # the first sections open a mega menu with four recent posts
            mega = (
                '<div class="mega-menu-block menu-sub-content"><div class="mega-recent-featured">'
                f'<ul class="mega-recent-post">{"".join(mega_posts[4 * k : 4 * k + 4])}</ul>'
                "</div></div>"
            )
        items.append(
            f'<li id="menu-item-{900 + k}" class="menu-item menu-item-type-taxonomy '
            f'menu-item-object-category menu-item-has-children mega-menu mega-cat">'
            f'<a href="{base}/{slug}/">{esc(section)}</a><ul class="sub-menu menu-sub-content">'
            f"{subs}</ul>{mega}</li>"
        )
    return (
        '<header id="theme-header" class="theme-header header-layout-3 main-nav-light '
        "main-nav-default-light main-nav-below has-stream-item top-nav-active has-shadow "
        'mobile-header-default"><div class="container header-container"><div class="tie-row '
        'logo-row"><div class="logo-wrapper"><div class="tie-col-md-4 logo-container clearfix">'
        f'<div id="logo" class="image-logo"><a title="{SITE}" href="{base}/"><picture '
        f'class="tie-logo-default tie-logo-picture"><source class="tie-logo-source-default '
        f'tie-logo-source" srcset="{base}/wp-content/uploads/logo@2x.png 2x, '
        f'{base}/wp-content/uploads/logo.png 1x"><img class="tie-logo-img-default tie-logo-img" '
        f'src="{base}/wp-content/uploads/logo.png" alt="{SITE}" width="300" height="60"></picture>'
        f'</a></div></div></div><div class="tie-col-md-8 stream-item stream-item-top-wrapper">'
        f'<div class="stream-item-top"><div id="div-gpt-ad-top-leaderboard" class="ad-slot" '
        f'style="min-height:90px"></div></div></div></div></div>'
        '<div class="main-nav-wrapper"><nav id="main-nav" class="main-nav header-nav" '
        'aria-label="Navigation principale"><div class="container"><div class="main-menu-wrapper">'
        '<div id="menu-components-wrap"><div class="main-menu main-menu-wrap tie-alignleft">'
        f'<div id="main-nav-menu" class="main-menu header-menu"><ul id="menu-main" class="menu">'
        f'<li class="menu-item menu-item-home current-menu-ancestor"><a href="{base}/">Accueil'
        f"</a></li>{''.join(items)}</ul></div></div></div></div></div></nav></div></header>"
    )


def _ticker(headlines: list[tuple[str, str]]) -> str:
    items = "".join(
        f'<li class="news-item"><a href="{esc(url)}">{esc(title)}</a></li>'
        for title, url in headlines
    )
    return (
        '<div class="breaking container"><span class="breaking-title"><span class="tie-icon-bolt '
        'breaking-icon" aria-hidden="true"></span><span class="breaking-title-text">Flash info'
        f'</span></span><ul id="breaking-news-in-header" class="breaking-news" data-type="reveal">'
        f"{items}</ul></div>"
    )


def _breadcrumbs(base: str, entry: Entry) -> str:
    return (
        '<nav id="breadcrumb" aria-label="Fil d\'Ariane"><a href="'
        f'{base}/"><span class="tie-icon-home" aria-hidden="true"></span> Accueil</a><em '
        f'class="delimiter">/</em><a href="{base}/regions/">Régions</a><em class="delimiter">/'
        f'</em><span class="current">{esc(entry.article.title)}</span></nav>'
    )


def _share(url: str, title: str, where: str) -> str:
    links = "".join(
        f'<a href="https://www.{s}.com/share?url={esc(url)}&amp;text={esc(title)}" rel="external '
        f'noopener nofollow" title="{s}" target="_blank" class="{s}-share-btn large-share-button">'
        f'<span class="share-btn-icon tie-icon-{s}"></span><span class="social-text">{s}</span></a>'
        for s in SOCIAL
    )
    return (
        f'<div id="share-buttons-{where}" class="share-buttons share-buttons-{where}"><div '
        f'class="share-links share-centered icons-text">{links}<a href="#" class="print-share-btn '
        'large-share-button" rel="nofollow"><span class="share-btn-icon tie-icon-print"></span>'
        '<span class="social-text">Imprimer</span></a></div></div>'
    )


def _article(
    entry: Entry,
    paragraphs: Sequence[str],
    base: str,
    rng: random.Random,
    names: tuple[Callable[[int], str], Callable[[int], str]],
    read_also: list[int],
) -> str:
    title_of, url_of = names
    article = entry.article
    body: list[str] = []
    for k, paragraph in enumerate(paragraphs):
        body.append(f"<p>{esc(paragraph)}</p>")
        if k == 1 and read_also:
            body.append(
                '<div class="read-also"><span class="read-also-label">Lire aussi :</span> '
                f'<a href="{esc(url_of(read_also[0]))}">{esc(title_of(read_also[0]))}</a></div>'
            )
        if k == 3:
            body.append(
                '<div class="stream-item stream-item-in-post"><div id="div-gpt-ad-in-article-1" '
                'class="ad-slot"></div><script>googletag.cmd.push(function(){googletag.display('
                '"div-gpt-ad-in-article-1");});</script></div>'
            )
    tags = rng.sample(TAGS, 6)
    tag_links = "".join(f'<a href="{base}/tag/{_slug(t)}/" rel="tag">{esc(t)}</a>' for t in tags)
    post_id = _post_id(article.id)
    previous, following = read_also[1 % len(read_also)], read_also[2 % len(read_also)]
    return f"""<article id="the-post" class="container-wrapper post-content tie-standard">
<header class="entry-header-outer"><div class="entry-header">
<span class="post-cat-wrap"><a class="post-cat tie-cat-12" href="{base}/regions/">Régions</a></span>
<h1 class="post-title entry-title">{esc(article.title)}</h1>
<div class="single-post-meta post-meta clearfix"><span class="author-meta single-author with-avatars"><span class="meta-item meta-author-wrapper meta-author-7"><span class="meta-author-avatar"><a href="{base}/author/{slug_id(article.author)}/"><img alt="Photo de {esc(article.author)}" src="{base}/wp-content/uploads/avatars/{slug_id(article.author)}-140x140.jpg" class="avatar avatar-140 photo" height="140" width="140" loading="lazy"></a></span>
<span class="meta-author"><a href="{base}/author/{slug_id(article.author)}/" class="author-name tie-icon" title="{esc(article.author)}">{esc(article.author)}</a></span></span></span>
<span class="date meta-item tie-icon">{esc(human_date(entry.published, "fr"))}</span>
<div class="tie-alignright"><span class="meta-comment tie-icon meta-item fa-before">3</span><span class="meta-views meta-item"><span class="tie-icon-fire" aria-hidden="true"></span> {1000 + post_id % 9000} </span><span class="meta-reading-time meta-item"><span class="tie-icon-bookmark" aria-hidden="true"></span> 4 minutes de lecture</span></div></div>
</div></header>
{_share(entry.canonical, article.title, "top")}
<div class="featured-area"><div class="featured-area-inner"><figure class="single-featured-image">{_img(base, article.id, article.title)}<figcaption class="single-caption-text"><span class="tie-icon-camera" aria-hidden="true"></span> Photo d'illustration. © DR</figcaption></figure></div></div>
<div class="entry-content entry clearfix">
{"".join(body)}
</div>
<div class="post-bottom-meta post-bottom-tags post-tags-modern"><div class="post-bottom-meta-title"><span class="tie-icon-tags" aria-hidden="true"></span> Mots-clés</div><span class="tagcloud">{tag_links}</span></div>
{_share(entry.canonical, article.title, "bottom")}
</article>
<div class="post-components"><div class="about-author container-wrapper about-author-7"><div class="author-avatar"><a href="{base}/author/{slug_id(article.author)}/"><img alt="Photo de {esc(article.author)}" src="{base}/wp-content/uploads/avatars/{slug_id(article.author)}-180x180.jpg" class="avatar avatar-180 photo" height="180" width="180" loading="lazy"></a></div>
<div class="author-info"><h3 class="author-name"><a href="{base}/author/{slug_id(article.author)}/">{esc(article.author)}</a></h3><div class="author-bio">Journaliste au service Régions, suit l'investissement et les collectivités territoriales.</div>
<ul class="social-icons">{"".join(f'<li class="social-icons-item"><a href="https://www.{s}.com/" rel="external noopener nofollow" target="_blank" class="social-link {s}-social-icon"><span class="tie-social-icon tie-icon-{s}"></span><span class="screen-reader-text">{s}</span></a></li>' for s in SOCIAL[:3])}</ul></div></div>
<div class="prev-next-post-nav container-wrapper media-overlay"><div class="tie-col-xs-6 prev-post"><a href="{esc(url_of(previous))}" class="post-thumb" rel="prev"><div class="post-thumb-overlay-wrap"><div class="post-thumb-overlay"><span class="tie-icon tie-media-icon"></span></div></div></a><a href="{esc(url_of(previous))}" rel="prev"><h3 class="post-title">{esc(title_of(previous))}</h3></a></div>
<div class="tie-col-xs-6 next-post"><a href="{esc(url_of(following))}" class="post-thumb" rel="next"><div class="post-thumb-overlay-wrap"><div class="post-thumb-overlay"><span class="tie-icon tie-media-icon"></span></div></div></a><a href="{esc(url_of(following))}" rel="next"><h3 class="post-title">{esc(title_of(following))}</h3></a></div></div>
{_comments(base, entry, post_id)}
</div>"""


def _comments(base: str, entry: Entry, post_id: int) -> str:
    authors = ("Karim", "Nadia B.", "Un lecteur d'Agadir")
    texts = (
        "Enfin du concret pour la région. Reste à voir le suivi des engagements.",
        "Ces accords existent depuis longtemps, on aimerait voir les bilans chiffrés.",
        "Bonne nouvelle pour les jeunes diplômés de la région.",
    )
    items = "".join(
        f'<li class="comment byuser even depth-1" id="li-comment-{post_id + k}"><div '
        f'id="comment-{post_id + k}" class="comment-body"><div class="comment-author vcard">'
        f'<div class="comment-author-avatar"><img alt="" src="{base}/wp-content/uploads/'
        f'avatars/default-70x70.png" class="avatar avatar-70 photo" height="70" width="70" '
        f'loading="lazy"></div><div class="author-date-wrap"><div class="fn">{esc(author)}</div>'
        f'<div class="comment-date"><a href="{esc(entry.canonical)}#comment-{post_id + k}">'
        f'<time datetime="{(entry.published + timedelta(hours=k + 1)).isoformat(timespec="seconds")}">'
        f"{esc(human_date(entry.published + timedelta(hours=k + 1), 'fr'))}</time></a></div></div>"
        f'</div><div class="comment-content comment-entry"><p>{esc(text)}</p></div><div '
        f'class="reply"><a rel="nofollow" class="comment-reply-link" href="#respond">Répondre</a>'
        f"</div></div></li>"
        for k, (author, text) in enumerate(zip(authors, texts, strict=True))
    )
    fields = "".join(
        f'<p class="comment-form-{name}"><label for="{name}">{label}</label><input id="{name}" '
        f'name="{name}" type="{kind}" value="" size="30" maxlength="245"></p>'
        for name, label, kind in (
            ("author", "Nom", "text"),
            ("email", "E-mail", "email"),
            ("url", "Site web", "url"),
        )
    )
    return (
        f'<div id="comments" class="comments-area"><div id="comments-box" class="container-wrapper">'
        f'<div class="block-head"><h3 id="comments-title" class="the-global-title">3 commentaires'
        f'</h3></div><ol class="comment-list">{items}</ol></div><div id="add-comment-block" '
        f'class="container-wrapper"><div id="respond" class="comment-respond"><h3 '
        f'id="reply-title" class="comment-reply-title the-global-title">Laisser un commentaire'
        f'</h3><form action="{base}/wp-comments-post.php" method="post" id="commentform" '
        f'class="comment-form" novalidate><p class="comment-notes">Votre adresse e-mail ne sera '
        f'pas publiée.</p><p class="comment-form-comment"><label for="comment">Commentaire'
        f'</label><textarea id="comment" name="comment" cols="45" rows="8" maxlength="65525">'
        f'</textarea></p>{fields}<p class="form-submit"><input name="submit" type="submit" '
        f'id="submit" class="submit" value="Publier le commentaire"><input type="hidden" '
        f'name="comment_post_ID" value="{post_id}"></p></form></div></div></div>'
    )


def _related(posts: list[str]) -> str:
    return (
        '<div id="related-posts" class="container-wrapper has-extra-post"><div class="mag-box-title '
        'the-global-title"><h3>Articles similaires</h3></div><div class="related-posts-list">'
        f'<ul class="posts-items">{"".join(posts)}</ul></div></div>'
    )


def _sidebar(base: str, rng: random.Random, most_read: list[str], latest: list[str]) -> str:
    followers = "".join(
        f'<li class="social-counter-item"><a href="https://www.{s}.com/depechesdesregions" '
        f'class="{s}-social-icon" rel="external noopener nofollow" target="_blank"><span '
        f'class="counter-icon tie-icon-{s}"></span><span class="followers"><span '
        f'class="followers-num">{rng.randint(10, 900)},{rng.randint(100, 999)}</span><span '
        f'class="followers-name">Abonnés</span></span></a></li>'
        for s in SOCIAL[:4]
    )
    quotes = "".join(
        f'<tr><td class="stock-name"><a href="{base}/bourse/{_slug(name)}/">{esc(name)}</a></td>'
        f'<td class="stock-price">{rng.uniform(80, 4000):.2f}</td><td class="stock-change '
        f'{"up" if (change := rng.uniform(-3, 3)) >= 0 else "down"}">{change:+.2f}%</td></tr>'
        for name in rng.sample(QUOTES, 10)
    )
    cloud = "".join(
        f'<a href="{base}/tag/{_slug(t)}/" class="tag-cloud-link" style="font-size:{8 + k % 10}pt" '
        f'aria-label="{esc(t)} ({20 + k * 3} éléments)">{esc(t)}</a>'
        for k, t in enumerate(TAGS[:25])
    )
    return (
        '<div id="social-statistics-2" class="container-wrapper widget social-statistics-widget">'
        '<div class="widget-title the-global-title"><div class="the-subtitle">Suivez-nous</div>'
        f'</div><ul class="solid-social-icons two-cols circle-icons">{followers}</ul></div>'
        '<div id="posts-list-widget-2" class="container-wrapper widget posts-list"><div '
        'class="widget-title the-global-title"><div class="the-subtitle">Les plus lus</div></div>'
        f'<div class="widget-posts-list-wrapper"><div class="widget-posts-list-container"><ul '
        f'class="posts-list-items widget-posts-wrapper">{"".join(most_read)}</ul></div></div>'
        '</div><div id="stream-item-widget-3" class="widget stream-item-widget widget-content-only">'
        '<div class="stream-item-widget-content"><div id="div-gpt-ad-sidebar-1" class="ad-slot" '
        'style="min-height:250px"></div></div></div>'
        '<div id="stock-widget-2" class="container-wrapper widget stock-widget"><div '
        'class="widget-title the-global-title"><div class="the-subtitle">Bourse de Casablanca'
        '</div></div><table class="stock-table"><thead><tr><th>Valeur</th><th>Cours</th><th>Var.'
        f"</th></tr></thead><tbody>{quotes}</tbody></table></div>"
        '<div id="tie-newsletter-2" class="container-wrapper widget subscribe-widget"><div '
        'class="widget-inner-wrap"><span class="tie-icon-envelope newsletter-icon" '
        'aria-hidden="true"></span><div class="subscribe-widget-content"><h4>Newsletter</h4><p>'
        "L'essentiel de l'économie des régions, chaque matin.</p></div><div "
        f'id="mc_embed_signup-2"><form action="{base}/newsletter/subscribe" method="post" '
        'id="mc-embedded-subscribe-form-2" name="mc-embedded-subscribe-form" class="subscribe-form'
        ' validate" target="_blank" novalidate><div class="mc-field-group"><label '
        'class="screen-reader-text" for="mce-EMAIL-2">Adresse e-mail</label><input type="email" '
        'value="" id="mce-EMAIL-2" placeholder="Adresse e-mail" name="EMAIL" '
        'class="subscribe-input required email"></div><input type="submit" value="S\'abonner" '
        'name="subscribe" class="button subscribe-submit"></form></div></div></div>'
        '<div id="posts-list-widget-3" class="container-wrapper widget posts-list"><div '
        'class="widget-title the-global-title"><div class="the-subtitle">Dernières infos</div>'
        f'</div><div class="widget-posts-list-wrapper"><ul class="posts-list-items '
        f'widget-posts-wrapper">{"".join(latest)}</ul></div></div>'
        '<div id="stream-item-widget-4" class="widget stream-item-widget widget-content-only">'
        '<div class="stream-item-widget-content"><div id="div-gpt-ad-sidebar-2" class="ad-slot" '
        'style="min-height:600px"></div></div></div>'
        '<div id="tag_cloud-2" class="container-wrapper widget widget_tag_cloud"><div '
        'class="widget-title the-global-title"><div class="the-subtitle">Mots-clés</div></div>'
        f'<div class="tagcloud">{cloud}</div></div>'
    )


def _footer(base: str, now: datetime, recent: list[str]) -> str:
    categories = "".join(
        f'<li class="cat-item"><a href="{base}/{_slug(section)}/">{esc(section)}</a> '
        f'<span class="count">({120 + 37 * k})</span></li>'
        for k, (section, _) in enumerate(MENU)
    )
    bottom = "".join(
        f'<li class="menu-item"><a href="{base}/{_slug(name)}/">{esc(name)}</a></li>'
        for name in (
            "Qui sommes-nous",
            "Contact",
            "Publicité",
            "Mentions légales",
            "Politique de confidentialité",
            "Charte des commentaires",
            "Plan du site",
            "Archives",
        )
    )
    return (
        '<footer id="footer" class="site-footer dark-skin dark-widgetized-area"><div '
        'id="footer-widgets-container"><div class="container"><div class="footer-widget-area">'
        '<div class="tie-row"><div class="tie-col-md-3 normal-side"><div id="text-2" '
        'class="container-wrapper widget widget_text"><div class="widget-title the-global-title">'
        f'<div class="the-subtitle">À propos</div></div><div class="textwidget"><p>{SITE} est un '
        "quotidien en ligne consacré à l'économie marocaine et à la vie des régions : "
        "investissement, collectivités territoriales, coopération internationale et "
        'entreprises.</p></div></div></div><div class="tie-col-md-3 normal-side"><div '
        'class="container-wrapper widget widget_categories"><div class="widget-title '
        f'the-global-title"><div class="the-subtitle">Rubriques</div></div><ul>{categories}</ul>'
        '</div></div><div class="tie-col-md-3 normal-side"><div class="container-wrapper widget '
        'posts-list"><div class="widget-title the-global-title"><div class="the-subtitle">'
        f'Récemment publié</div></div><ul class="posts-list-items">{"".join(recent)}</ul></div>'
        '</div><div class="tie-col-md-3 normal-side"><div class="container-wrapper widget '
        'widget_text"><div class="widget-title the-global-title"><div class="the-subtitle">'
        'Nous contacter</div></div><div class="textwidget"><p>Rédaction : 12, boulevard '
        "Mohammed V, Casablanca</p><p>Tél. : +212 5 22 00 00 00</p><p>redaction@example.ma</p>"
        "</div></div></div></div></div></div></div>"
        '<div id="site-info" class="site-info site-info-layout-2"><div class="container"><div '
        f'class="tie-row"><div class="tie-col-md-12"><div class="copyright-text '
        f'copyright-text-first">© {now.year} {SITE}. Tous droits réservés.</div><div '
        f'class="footer-menu"><ul id="menu-footer" class="menu">{bottom}</ul></div></div></div>'
        "</div></div></footer>"
    )


def _cookie_banner(base: str) -> str:
    return (
        '<div id="cookie-notice" role="dialog" class="cookie-notice-hidden cookie-revoke-hidden '
        'cn-position-bottom" aria-label="Cookies"><div class="cookie-notice-container"><span '
        'id="cn-notice-text" class="cn-text-container">Ce site utilise des cookies pour mesurer '
        "son audience et vous proposer des publicités adaptées.</span><span "
        'id="cn-notice-buttons" class="cn-buttons-container"><a href="#" id="cn-accept-cookie" '
        'data-cookie-set="accept" class="cn-set-cookie cn-button">Accepter</a><a href="#" '
        'id="cn-refuse-cookie" data-cookie-set="refuse" class="cn-set-cookie cn-button">Refuser'
        f'</a><a href="{base}/politique-de-confidentialite/" target="_blank" id="cn-more-info" '
        'class="cn-more-info cn-button">En savoir plus</a></span></div></div>'
    )


def _tail_scripts(base: str, article_id: str) -> str:
    files = (
        "wp-includes/js/jquery/jquery.min.js",
        "wp-includes/js/jquery/jquery-migrate.min.js",
        "wp-content/themes/jannah/assets/js/scripts.min.js",
        "wp-content/themes/jannah/assets/js/desktop.min.js",
        "wp-content/themes/jannah/assets/js/single.min.js",
        "wp-content/themes/jannah/assets/ilightbox/lightbox.js",
        "wp-content/plugins/cookie-notice/js/front.min.js",
        "wp-content/plugins/newsletter/main.js",
        "wp-includes/js/comment-reply.min.js",
        "wp-content/plugins/post-views-counter/js/frontend.min.js",
    )
    tags = "\n".join(
        f'<script type="text/javascript" src="{base}/{path}?ver=7.{k}.0" id="script-{k}-js" '
        f"defer></script>"
        for k, path in enumerate(files)
    )
    return (
        f"{tags}\n<script>var pvcArgsFrontend={{'mode':'rest_api','postID':"
        f"{_post_id(article_id)},'requestURL':'{base}/wp-json/post-views-counter/view-post/"
        f"{_post_id(article_id)}','nonce':'4f1c2d9a7b','dataStorage':'cookies'}};"
        "document.addEventListener('DOMContentLoaded',function(){var b=document.querySelectorAll"
        "('.share-links a');for(var i=0;i<b.length;i++){b[i].addEventListener('click',function(e)"
        "{if(this.classList.contains('print-share-btn')){e.preventDefault();window.print();}});}"
        "});</script>"
    )


def _slug(text: str) -> str:
    folded = text.lower()
    for accented, plain in (("éèêë", "e"), ("àâä", "a"), ("îï", "i"), ("ôö", "o"), ("ûüù", "u"),
                            ("ç", "c")):  # fmt: skip
        for ch in accented:
            folded = folded.replace(ch, plain)
    return "-".join("".join(c if c.isalnum() else " " for c in folded).split())
