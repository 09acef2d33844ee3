"""Conversions between table rows and the plain records (runs, matches), cleaned as
`storage.prepare` cleans an article's values. Queries belong to the modules that
`storage.repository` calls.
"""

from __future__ import annotations

import zlib
from typing import TYPE_CHECKING, Any

from storage.models import RUN_STATUSES, summary_fields, utcnow
from storage.prepare import clean
from storage.records import MatchView, RunStats, RunView

if TYPE_CHECKING:
    from sqlalchemy.engine import Row

    from storage.models import CrawlRun

MAX_ERROR_SAMPLES = 50
MAX_SHORT_TEXT = 1000  # characters of a skip reason or an error sample


def decompress_html(compressed: bytes) -> str:
    return zlib.decompress(compressed).decode("utf-8")


def finished_run_values(stats: RunStats, status: str) -> dict[str, Any]:
    """The columns a finished run updates, with the error samples bounded and cleaned."""
    if status not in RUN_STATUSES or status == "running":
        raise ValueError(f"A run finishes as ok, failed, interrupted or timeout, not {status!r}")
    samples = [clean(sample)[:MAX_SHORT_TEXT] for sample in stats.error_samples]
    return {
        "finished_at": utcnow(),
        "status": status,
        "pages_fetched": stats.pages_fetched,
        "articles_extracted": stats.articles_extracted,
        "matches": stats.matches,
        "new_matches": stats.new_matches,
        "duplicates": stats.duplicates,
        "skipped": stats.skipped,
        "errors": stats.errors,
        "error_samples": samples[:MAX_ERROR_SAMPLES],
    }


def run_view(run: CrawlRun) -> RunView:
    stats = RunStats(
        pages_fetched=run.pages_fetched,
        articles_extracted=run.articles_extracted,
        matches=run.matches,
        new_matches=run.new_matches,
        duplicates=run.duplicates,
        skipped=run.skipped,
        errors=run.errors,
        error_samples=list(run.error_samples),
    )
    return RunView(
        id=run.id,
        started_at=run.started_at,
        finished_at=run.finished_at,
        status=run.status,
        stats=stats,
        sources=tuple(run.sources),
    )


def match_view(row: Row[Any], also_in: list[str]) -> MatchView:
    """A `list_matches` row (with `story_id` and the match's tier, regions and partners), and
    the URLs of its story's other copies."""
    explanation = dict(row.explanation)
    return MatchView(
        **summary_fields(row),
        matched=explanation.get("groups", {}),
        explanation=explanation,
        story=row.story_id,
        also_in=also_in,
        tier=row.tier,
        regions=list(row.regions or []),
        partners=list(row.partners or []),
    )
