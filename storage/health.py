"""Source health from the per-source figures each crawl run records (`crawl_runs.source_stats`).

A source is *silent* when its last `window` finished crawls found no article at all: no new
one, none already stored, and no feed answering "not modified". It is *failing* when, in its
last complete crawl, a feed, sitemap or listing page gave no usable answer. Either way a broken
source is noticed even though the crawl as a whole succeeded.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from storage.models import CrawlRun
from storage.prepare import clean_json
from storage.records import SourceHealth

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from sqlalchemy.orm import Session

WINDOW = 3  # crawls without any article before a source is called silent
_RUNS_READ = 60  # recent runs looked at: enough for `WINDOW` crawls of a source crawled alone
_MAX_FAILED_URLS = 10
# Counters that show a source is alive: candidates found, articles stored, feeds unchanged.
_SIGNS_OF_LIFE = ("candidates", "articles", "not_modified")


def source_stats_values(figures: Mapping[str, Mapping[str, Any]] | None) -> dict[str, Any]:
    """The `source_stats` column of a finished run, bounded and cleaned."""
    if figures is None:
        return {}
    bounded: dict[str, Any] = {}
    for source, values in figures.items():
        entry = dict(values)
        if "failed_urls" in entry:
            entry["failed_urls"] = list(entry["failed_urls"])[:_MAX_FAILED_URLS]
        bounded[source] = entry
    return {"source_stats": clean_json(bounded)}


def source_health(
    session: Session, sources: Sequence[str] | None = None, window: int = WINDOW
) -> list[SourceHealth]:
    """The sources (all those recorded, or the given ones) that look broken, by name."""
    query = (
        select(CrawlRun.status, CrawlRun.sources, CrawlRun.source_stats)
        .where(CrawlRun.status.in_(("ok", "timeout")), CrawlRun.source_stats.is_not(None))
        .order_by(CrawlRun.started_at.desc(), CrawlRun.id.desc())
        .limit(_RUNS_READ)
    )
    runs = session.execute(query).all()
    names = list(sources) if sources is not None else sorted({n for r in runs for n in r.sources})
    problems = []
    for name in names:
        crawled = [run for run in runs if name in run.sources]
        recent = [dict((run.source_stats or {}).get(name) or {}) for run in crawled[:window]]
        if len(recent) >= window and not any(
            int(figures.get(key, 0)) for figures in recent for key in _SIGNS_OF_LIFE
        ):
            problems.append(SourceHealth(name, "silent", window))
            continue
        complete = next((run for run in crawled if run.status == "ok"), None)
        if complete is None:
            continue
        failed = ((complete.source_stats or {}).get(name) or {}).get("failed_urls") or []
        if failed:
            problems.append(SourceHealth(name, "failing", 1, tuple(str(u) for u in failed)))
    return problems
