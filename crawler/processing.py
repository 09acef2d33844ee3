"""One fetched page to one decision: decode → extract → filter. Runs in extraction worker processes.

Extraction is the unavoidable cost of a crawl, so it runs in a process pool (one worker per core)
while Scrapy keeps fetching in the main process. Everything here is picklable and free of I/O.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from crawler.encoding import clean_text, decode_html
from crawler.errors import ExtractionError
from crawler.extract import build_extractor, extract_article
from crawler.filter import MatchResult, RuleEngine
from crawler.urls import allowed_sites, canonicalize_url, is_same_site
from crawler.workers import (
    PageJob,
    ProcessedArticle,
    RulesIdentity,
    SkippedPage,
    rules_file_identity,
)
from storage.errors import StorageError
from storage.prepare import prepare_article
from storage.records import ArticleRecord

if TYPE_CHECKING:
    from trafilatura.settings import Extractor

    from crawler.filter.results import Trace


class _Worker:
    """Per-process state, set by `init_worker`: the engine preloaded in the forkserver (see
    `preload`), or one it compiles itself."""

    extractor: Extractor | None = None
    engine: RuleEngine | None = None
    # Built by `preload` in the forkserver, with the identity of the file it was built from.
    preloaded: tuple[RulesIdentity, RuleEngine] | None = None


def preload(rules_path: str) -> None:
    """Make the workers start hot: run in the forkserver, before it forks any of them.

    The rules are compiled once there (0.15 s, which each worker repeated) and one sample page
    goes through the whole of `process_page` (a worker's first page cost 30 ms more than the
    next: trafilatura's and the engine's lazy set-up). Forked workers inherit all of it. The
    engine's per-term patterns stay lazy: compiling all of them (0.3 s) cost more than the few
    each crawl uses.
    """
    identity = rules_file_identity(rules_path)  # before reading: an edit meanwhile is then seen
    engine = RuleEngine.from_path(Path(rules_path))
    _Worker.preloaded = (identity, engine)
    _Worker.extractor, _Worker.engine = build_extractor(), engine
    try:
        process_page(_warm_up_job())
    finally:
        _Worker.extractor = _Worker.engine = None


def init_worker(rules_path: str, rules_identity: RulesIdentity, crawl_pid: int) -> None:
    """Build this worker's state. `rules_identity` is the rules file as the pool found it when
    the crawl started: a worker forked later (after a restart) keeps the rules of the run."""
    _Worker.extractor = build_extractor()
    preloaded = _Worker.preloaded
    if preloaded is not None and preloaded[0] == rules_identity:
        _Worker.engine = preloaded[1]
    else:  # no forkserver preload, or built from another rules file, or the file was edited
        _Worker.engine = RuleEngine.from_path(Path(rules_path))
    threading.Thread(target=_exit_with, args=(crawl_pid,), daemon=True).start()


def _warm_up_job() -> PageJob:
    return PageJob(
        source="warm-up",
        run_id=None,
        url=_WARM_UP_URL,
        response_url=_WARM_UP_URL,
        body=_WARM_UP_PAGE.encode("utf-8"),
        content_type="text/html; charset=utf-8",
        language_hint=None,
        hint_published=None,
        min_text_chars=100,
    )


# example.com is reserved for examples (RFC 2606); nothing is fetched. The page's canonical URL
# is on another host of the site, so that the warm-up also builds tldextract's suffix list
# (0.04 s, for `_stored_url`'s site check), which every worker built again on its first page.
_WARM_UP_URL = "http://www.example.com/2026/01/15/jumelage"
_WARM_UP_PAGE = """<!DOCTYPE html>
<html lang="fr"><head><meta charset="utf-8">
<title>Oujda et Saint-Étienne font le point sur leur jumelage</title>
<meta property="article:published_time" content="2026-01-15T10:00:00+01:00">
<link rel="canonical" href="https://example.com/2026/01/15/jumelage"></head>
<body><nav><a href="/">Accueil</a> <a href="/economie">Économie</a></nav>
<article><h1>Oujda et Saint-Étienne font le point sur leur jumelage</h1>
<p class="byline">Par la rédaction</p>
<p>Une délégation de la commune de Saint-Étienne a été reçue mardi à Oujda pour un bilan
des projets menés depuis la signature de leur convention de jumelage, dans l'eau potable,
la formation professionnelle et le tourisme.</p>
<p>Le conseil de la région de l'Oriental a présenté les chantiers ouverts cette année et
les deux villes ont convenu d'une feuille de route pour les trois prochaines années.</p>
<p>وقع مجلس جهة الشرق ومدينة سانت إتيان الفرنسية على برنامج عمل مشترك للتعاون اللامركزي.</p>
</article><aside><h2>Les plus lus</h2><ul><li><a href="/a">Le dirham face à l'euro</a></li>
</ul></aside></body></html>
"""


def _exit_with(crawl_pid: int, interval: float = 1.0) -> None:
    """End this worker soon after the crawl process is gone, even if it was killed (SIGKILL).

    A pool worker never learns of it otherwise: it holds both ends of its task queue (and the
    forkserver's "alive" pipe), so it would wait for work forever as an orphan.
    """
    while True:
        time.sleep(interval)
        try:
            os.kill(crawl_pid, 0)
        except ProcessLookupError:
            os._exit(0)
        except PermissionError:
            pass  # the PID exists (reused by another user's process is possible but harmless)


def process_page(job: PageJob) -> ProcessedArticle | SkippedPage:
    if _Worker.engine is None:
        raise RuntimeError("process_page() called before init_worker()")
    try:
        page = decode_html(job.body, job.content_type)
        article = extract_article(
            page.text,
            job.response_url,
            extractor=_Worker.extractor,
            min_text_chars=job.min_text_chars,
            language_hint=job.language_hint,
        )
    except ExtractionError as exc:
        return SkippedPage(exc.reason)
    # Already through `clean_text` in `extract_article` (cleaning again changes nothing, and
    # cost 0.2 ms a page): filtered as `decide` filters, and stored as they are.
    title, text = article.title, article.text
    result = _Worker.engine.evaluate(title, text, article.language)
    explanation = stored_explanation(_Worker.engine, result)
    record = ArticleRecord(
        source=job.source,
        url=_stored_url(job, article.canonical_url),
        fetched_url=job.url,
        title=title,
        text=text,
        published_at=article.published_at or job.hint_published,
        author=article.author,
        language=article.language,
        score=result.score,
        matched=result.matched,
        explanation=explanation,
        # As fetched (decoded): storage removes the NUL characters PostgreSQL refuses, and
        # `clean_text`'s text rules meant nothing for markup (0.2 ms a matched page).
        html=page.text if result.matched else None,
        run_id=job.run_id,
    )
    try:
        return ProcessedArticle(prepare_article(record))
    except StorageError as exc:  # e.g. no words left once cleaned
        return SkippedPage(f"not storable: {exc}")


def _stored_url(job: PageJob, declared: str | None) -> str:
    """rel=canonical is honoured only when it stays on the site that served the page."""
    if declared:
        try:
            canonical = canonicalize_url(declared, job.response_url)
        except ValueError:
            return job.response_url
        # Most pages declare the URL they were served at: no site check needed (0.1 ms).
        if canonical == job.response_url or is_same_site(
            canonical, allowed_sites([job.response_url])
        ):
            return canonical
    return job.response_url


def stored_explanation(engine: RuleEngine, result: MatchResult) -> dict[str, Any]:
    """A decision's explanation as stored with an article: with the digest of the rules that
    made it (`refilter` stores the same, so one change here is seen by both)."""
    explanation = result.to_dict()
    explanation["rules"] = engine.rules_digest
    return explanation


def decide(engine: RuleEngine, title: str, text: str, language: str | None) -> MatchResult:
    """The filter decision exactly as the crawl makes it (same cleaning), for `newswatch classify`."""
    return engine.evaluate(clean_text(title), clean_text(text), language)


def trace(engine: RuleEngine, title: str, text: str, language: str | None) -> Trace:
    """`decide` with the evidence behind it, for `newswatch rules explain`."""
    return engine.trace(clean_text(title), clean_text(text), language)
