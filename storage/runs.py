"""Crawl runs: their start, their end and figures, and the runs a killed crawl left open.

Called by `storage.repository` inside its transactions; the figures are converted to columns
by `storage.rows` and `storage.health` before.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select, update

from storage.models import Article, CrawlRun, Match, utcnow
from storage.rows import run_view

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from datetime import datetime

    from sqlalchemy.orm import Session
    from sqlalchemy.sql.dml import Update

    from storage.records import RunView

ABANDONED_STATUSES = ("interrupted", "timeout", "failed")


def start(session: Session, sources: Sequence[str], started_at: datetime) -> int:
    """Insert a run "running" since `started_at` over `sources`; returns its id."""
    run = CrawlRun(started_at=started_at, status="running", sources=list(sources))
    session.add(run)
    session.flush()
    return run.id


def finish(session: Session, run_id: int, values: Mapping[str, Any]) -> bool:
    """Store a run's end and figures; False when there is no run `run_id`."""
    result = session.execute(update(CrawlRun).where(CrawlRun.id == run_id).values(values))
    updated: int = result.rowcount  # type: ignore[attr-defined]
    return updated != 0


def close_abandoned(status: str) -> Update:
    """The update that closes runs still "running" with `status`, their figures counted.

    Built before the transaction, so that a bad `status` raises `ValueError` without one.
    """
    if status not in ABANDONED_STATUSES:
        raise ValueError(f"An abandoned run ends interrupted, timeout or failed, not {status!r}")
    # A killed crawl never reported its figures: count what it stored instead.
    stored = select(func.count()).where(Article.run_id == CrawlRun.id).scalar_subquery()
    matched = (
        select(func.count())
        .select_from(Match)
        .join(Article, Article.id == Match.article_id)
        .where(Article.run_id == CrawlRun.id)
        .scalar_subquery()
    )
    return (
        update(CrawlRun)
        .where(CrawlRun.status == "running")
        .values(
            status=status,
            finished_at=utcnow(),
            articles_extracted=stored,
            matches=matched,
            new_matches=matched,
        )
    )


def list_runs(session: Session, limit: int) -> list[RunView]:
    """The last `limit` runs, newest first."""
    query = select(CrawlRun).order_by(CrawlRun.started_at.desc(), CrawlRun.id.desc())
    return [run_view(run) for run in session.scalars(query.limit(limit))]


def get(session: Session, run_id: int) -> RunView | None:
    run = session.get(CrawlRun, run_id)
    return None if run is None else run_view(run)
