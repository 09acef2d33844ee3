"""Match rows: what a match keeps of its decision, their listing, and articles filtered again.

A match row holds the tier, regions and partners of its article's decision, for the listings
(`newswatch matches`; the digest reads them from the article's explanation). Re-filtering
(`newswatch refilter`) reads articles in id order, one batch per transaction, so a huge
database is never loaded at once and an interruption keeps the batches already done. The filter
itself is the caller's, passed in as a function: storage never imports the crawler. Called by
`storage.repository` inside its transactions.
"""

from __future__ import annotations

from itertools import islice
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, func, insert, select, update

from storage import stories
from storage.models import (
    ARTICLE_SUMMARY_COLUMNS,
    Article,
    Match,
    Source,
    as_utc,
    decision_fields,
    utcnow,
)
from storage.prepare import clean_json
from storage.records import MatchView, RefilterBatch, RefilterChange, StoredArticle, Verdict
from storage.rows import match_view

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator, Mapping
    from datetime import datetime

    from sqlalchemy.engine import Row
    from sqlalchemy.orm import Session

NEWLY_MATCHED = "newly matched"
NO_LONGER_MATCHED = "no longer matched"

# What a listing of matches reads of the match row, next to the article's summary columns.
LISTED_COLUMNS = (Match.tier, Match.regions, Match.partners)


def match_values(
    article_id: int, matched_at: datetime, explanation: Mapping[str, Any]
) -> dict[str, Any]:
    """The columns of a new match row, its tier, regions and partners taken from the decision."""
    return {"article_id": article_id, "matched_at": matched_at, **decision_fields(explanation)}


def list_matches(
    session: Session, since: datetime | None, limit: int | None, region: str | None
) -> list[MatchView]:
    """Matched articles, newest first: see `Repository.list_matches`."""
    when = func.coalesce(Article.published_at, Article.first_seen_at)
    query = (
        select(*ARTICLE_SUMMARY_COLUMNS, Source.name, *LISTED_COLUMNS)
        .join(Match, Match.article_id == Article.id)
        .join(Source, Source.id == Article.source_id)
        # A match row whose article no longer matches (after a refilter) is sent history.
        .where(Article.matched.is_(True))
        .order_by(when.desc(), Article.id.desc())
        # Regions are a JSON list: filtered here, below, so the limit applies after it.
        .limit(limit if region is None else None)
    )
    if since is not None:
        query = query.where(when >= as_utc(since))
    if region is None:
        found = session.execute(query).all()
    else:
        found = list(islice(in_region(session.execute(query), region), limit))
    copies = stories.story_copies(session, (r.story_id for r in found if r.story_id))
    return [
        match_view(row, stories.also_in(copies.get(row.story_id, []), row.url)) for row in found
    ]


def refilter_batch(
    session: Session,
    decide: Callable[[StoredArticle], Verdict],
    *,
    after: int,
    since: datetime | None,
    limit: int,
    write: bool,
) -> RefilterBatch:
    """Decide again on the next `limit` articles with an id above `after`, and store the new
    decisions unless `write` is false.

    A newly matched article gets a match row waiting for the next digest. An article no longer
    matched loses its match row if no digest sent it yet; a sent one stays, as history, and
    the article's `matched` flag goes false (listings show only matched articles; the digest
    reads unsent match rows, and a sent row is never sent again).
    """
    query = (
        select(
            Article.id,
            Article.url,
            Article.title,
            Article.text,
            Article.language,
            Article.score,
            Article.matched,
            Article.explanation,
            Match.id.label("match_id"),
            Match.digest_id,
            Match.tier,
            Match.regions,
            Match.partners,
        )
        .outerjoin(Match, Match.article_id == Article.id)
        .where(Article.id > after)
        .order_by(Article.id)
        .limit(limit)
    )
    if since is not None:
        query = query.where(Article.first_seen_at >= as_utc(since))
    rows = session.execute(query).all()
    if not rows:
        return RefilterBatch(last_id=None)
    articles: list[dict[str, Any]] = []
    new_matches: list[dict[str, Any]] = []
    changed_matches: list[dict[str, Any]] = []
    unsent: list[int] = []
    changes: list[RefilterChange] = []
    score_changed = unchanged = 0
    now = utcnow()
    for row in rows:
        verdict = decide(StoredArticle(row.id, row.title, row.text, row.language))
        explanation = clean_json(verdict.explanation)
        if (verdict.score, verdict.matched, explanation) != (
            row.score,
            row.matched,
            row.explanation,
        ):
            articles.append(
                {
                    "id": row.id,
                    "score": float(verdict.score),
                    "matched": verdict.matched,
                    "explanation": explanation,
                }
            )
        fields = decision_fields(explanation)
        if verdict.matched and row.match_id is None:
            new_matches.append(match_values(row.id, now, explanation))
        elif verdict.matched and fields != _stored_fields(row):
            changed_matches.append({"id": row.match_id, **fields})
        elif not verdict.matched and row.match_id is not None and row.digest_id is None:
            unsent.append(row.id)
        if verdict.matched != row.matched:
            kind = NEWLY_MATCHED if verdict.matched else NO_LONGER_MATCHED
            sent = not verdict.matched and row.digest_id is not None
            changes.append(
                RefilterChange(
                    article_id=row.id,
                    url=row.url,
                    title=row.title,
                    kind=kind,
                    old_score=row.score,
                    new_score=verdict.score,
                    tier=fields["tier"],
                    sent=sent,
                )
            )
        elif verdict.score != row.score:
            score_changed += 1
        else:
            unchanged += 1
    if write:
        if articles:
            session.execute(update(Article), articles)  # by primary key, in one executemany
        if new_matches:
            session.execute(insert(Match), new_matches)
        if changed_matches:
            session.execute(update(Match), changed_matches)
        if unsent:
            # Only unsent rows: a digest that sent one meanwhile keeps it as history.
            session.execute(
                delete(Match).where(Match.article_id.in_(unsent), Match.digest_id.is_(None))
            )
    return RefilterBatch(
        last_id=rows[-1].id,
        examined=len(rows),
        score_changed=score_changed,
        unchanged=unchanged,
        changes=tuple(changes),
    )


def in_region(rows: Iterable[Row[Any]], region: str) -> Iterator[Row[Any]]:
    """The rows (with `LISTED_COLUMNS`) that name `region` among their regions, in any case;
    lazily, so a listing with a limit stops reading once it has enough."""
    wanted = region.strip().casefold()
    return (row for row in rows if any(name.casefold() == wanted for name in row.regions or []))


def _stored_fields(row: Any) -> dict[str, Any]:
    return {"tier": row.tier, "regions": row.regions or [], "partners": row.partners or []}
