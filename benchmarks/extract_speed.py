"""Measure decoding and extraction speed, and what each trafilatura option costs.

Run from the repository root:  python benchmarks/extract_speed.py [--rounds N]

The pages are the golden inputs of tests/data/extract/, plus three built from the French one: a
"typical" page whose article text is about 6 KB, a "heavy" one carrying what real news
templates carry around it (a mega-menu, inline scripts, a link-farm footer: ~150 KB of HTML).
The third is the heavy page stripped of every date, where htmldate has to search the text.
"""

from __future__ import annotations

import argparse
import contextlib
import re
import statistics
import sys
import time
from copy import copy
from pathlib import Path
from typing import TYPE_CHECKING

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # a script, not an installed module

import trafilatura
from trafilatura.deduplication import LRUCache
from trafilatura.settings import Extractor

from crawler.encoding import decode_html
from crawler.errors import ExtractionError
from crawler.extract import build_extractor, extract_article

if TYPE_CHECKING:
    from collections.abc import Callable

DATA = ROOT / "tests" / "data" / "extract"
URL = "https://www.maroc-regions.example/regions/article/"


def typical_page() -> str:
    """The French WordPress page with more paragraphs: about 6 KB of article text."""
    html = (DATA / "fr_wordpress.html").read_text(encoding="utf-8")
    extra = "".join(
        f"<p>Complément {n} : les élus des deux régions ont détaillé le calendrier du projet "
        f"numéro {n}, ses partenaires locaux, son budget prévisionnel et les indicateurs qui "
        f"permettront d’en mesurer les effets auprès des habitants concernés.</p>\n"
        for n in range(1, 11)
    )
    return html.replace("<p>Une première réunion du comité", extra + "<p>Une première réunion", 1)


def heavy_page() -> str:
    """The typical page inside the bulk of a real template."""
    html = typical_page()
    menu = "".join(
        f'<li><a href="/rubrique/{n}/">Rubrique numéro {n}</a><ul>'
        + "".join(f'<li><a href="/rubrique/{n}/{m}/">Sous-rubrique {m}</a></li>' for m in range(8))
        + "</ul></li>"
        for n in range(40)
    )
    script = "<script>var cfg=[" + ('{"k":"' + "x" * 60 + '"},') * 1500 + "0];</script>"
    footer = "".join(f'<a href="/archives/{n}/">Archives {n}</a> ' for n in range(400))
    html = html.replace(
        '<ul id="menu-principal" class="sf-menu">', f'<ul class="mega">{menu}</ul><ul>'
    )
    html = html.replace("</head>", script + "</head>", 1)
    return html.replace(
        "</footer>\n<script", f"<div class='links'>{footer}</div></footer>\n<script", 1
    )


def undated_page() -> str:
    """The heavy page without any date markup: htmldate has to search the text."""
    html = heavy_page()
    html = re.sub(r'<meta property="article:(?:published|modified)_time"[^>]*>', "", html)
    html = re.sub(r"<time\b[^>]*>", "<span>", html).replace("</time>", "</span>")
    return re.sub(r"\b\d{1,2} mars 2025\b", "hier", html)


def interleaved(
    runs: dict[str, Callable[[str], object]], pages: list[str], rounds: int
) -> dict[str, list[float]]:
    """Median ms per call of each run on each page, the runs taking turns every round so that
    all of them see the same background load (other processes on a shared machine)."""
    samples: dict[tuple[str, int], list[float]] = {}
    for round_ in range(rounds + 1):
        for label, run in runs.items():
            for index, html in enumerate(pages):
                start = time.perf_counter()
                with contextlib.suppress(ExtractionError):
                    run(html)
                if round_:  # the first round warms caches up
                    elapsed = (time.perf_counter() - start) * 1000
                    samples.setdefault((label, index), []).append(elapsed)
    return {
        label: [statistics.median(samples[label, index]) for index in range(len(pages))]
        for label in runs
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30)
    rounds = parser.parse_args().rounds

    bodies = {path.stem: path.read_bytes() for path in sorted(DATA.glob("*.html"))}
    typical, heavy, undated = typical_page(), heavy_page(), undated_page()
    extractor = build_extractor()
    text_kb = len(extract_article(typical, URL, extractor=extractor).text.encode()) / 1024
    print(f"typical page: {len(typical.encode()) / 1024:.0f} KB HTML, {text_kb:.1f} KB text")
    print(f"heavy page:   {len(heavy.encode()) / 1024:.0f} KB HTML, same text\n")

    print("golden pages, ms per page: decode_html / extract_article")
    for name, body in bodies.items():
        html = decode_html(body, None).text
        cost = interleaved(
            {
                "decode": lambda _h, b=body: decode_html(b, None),
                "extract": lambda h: extract_article(h, URL, extractor=extractor),
            },
            [html],
            rounds,
        )
        print(f"  {name:24s} {cost['decode'][0]:7.2f} {cost['extract'][0]:7.2f}")

    chosen = build_extractor()
    fixed = {
        "  library defaults + metadata": Extractor(output_format="python", with_metadata=True),
        "  chosen + extensive date": _with(chosen, extensive=True),
        "  chosen, balanced focus": _with(chosen, focus="balanced"),
        "  chosen, fast": _with(chosen, fast=True),
        "  chosen, no tables": _with(chosen, tables=False),
        "  chosen, no metadata": _with(chosen, with_metadata=False),
        "  chosen, readability always": _ungated(chosen),
    }
    runs: dict[str, Callable[[str], object]] = {
        "extract_article (all of it)": lambda h: extract_article(h, URL, extractor=chosen),
        "trafilatura, chosen options": _bare(lambda: chosen),
        # A fresh cache per call, or the repeated page is dropped as a duplicate and looks cheap.
        "  chosen + deduplicate": _bare(lambda: _with(chosen, dedup=LRUCache(maxsize=4096))),
    }
    runs |= {label: _bare(lambda o=options: o) for label, options in fixed.items()}
    print("\nms per page:                     typical   heavy  heavy, no date markup")
    for label, cost in interleaved(runs, [typical, heavy, undated], rounds).items():
        print(f"  {label:30s}" + "".join(f" {ms:7.2f}" for ms in cost))
    ms = interleaved({"x": runs["extract_article (all of it)"]}, [typical], rounds)["x"][0]
    print(f"\nextract_article on the typical page: {1000 / ms:.0f} pages/s on one core")


def _bare(make: Callable[[], Extractor]) -> Callable[[str], object]:
    return lambda html: trafilatura.bare_extraction(html, options=make())


def _ungated(base: Extractor) -> Extractor:
    """The same options in a plain Extractor: readability is compared on every page (see
    crawler/readability_gate.py)."""
    options = copy(base)
    options.__class__ = Extractor
    return options


def _with(base: Extractor, *, extensive: bool | None = None, **changes: object) -> Extractor:
    options = copy(base)
    for key, value in changes.items():
        setattr(options, key, value)
    if extensive is not None:
        options.date_params = {**base.date_params, "extensive_search": extensive}
    return options


if __name__ == "__main__":
    main()
