"""The digest's queries: the stories waiting to be sent, and the record of each delivery.

A match is sent when its `digest_id` points at a delivery the server accepted. A story is
pending while none of its matches was sent: a late copy of a story already sent is not news.
Called by `storage.repository` inside its transactions; composing and sending live in
`crawler.digest`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import func, insert, select, update

from storage import stories
from storage.matches import match_values
from storage.models import (
    ARTICLE_SUMMARY_COLUMNS,
    Article,
    CrawlRun,
    DigestDelivery,
    Match,
    Source,
    summary_fields,
    utcnow,
)
from storage.prepare import clean
from storage.records import DigestArticle, DigestView, PendingStory

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import datetime

    from sqlalchemy.orm import Session

_CHUNK = 500  # ids per IN (...) list

_SENT_STORIES = (
    select(Article.story_id)
    .join(Match, Match.article_id == Article.id)
    .where(Match.digest_id.is_not(None), Article.story_id.is_not(None))
)
_PENDING = (
    select(Match.article_id, Article.story_id)
    .join(Article, Article.id == Match.article_id)
    .where(
        Match.digest_id.is_(None),
        (Article.story_id.is_(None)) | (Article.story_id.not_in(_SENT_STORIES)),
    )
)


def pending_stories(session: Session) -> list[PendingStory]:
    """Every story with an unsent match and none sent, each led by its most relevant match."""
    pending = session.execute(_PENDING).all()
    groups: dict[tuple[str, int], list[int]] = {}
    for row in pending:
        key = ("story", row.story_id) if row.story_id is not None else ("article", row.article_id)
        groups.setdefault(key, []).append(row.article_id)
    articles = _load_articles(session, [row.article_id for row in pending])
    story_ids = [key[1] for key in groups if key[0] == "story"]
    copies = stories.story_copies(session, story_ids)
    result = []
    for (kind, number), article_ids in groups.items():
        members = [articles[article_id] for article_id in article_ids]
        lead = max(members, key=_relevance)
        story_id = number if kind == "story" else None
        outlets = _also_in(lead, copies.get(number, []) if story_id is not None else [])
        result.append(
            PendingStory(
                lead=lead,
                also_in=outlets,
                article_ids=tuple(sorted(article_ids)),
                story_id=story_id,
            )
        )
    return result


def count_pending(session: Session) -> tuple[int, int]:
    """(stories, matched articles) waiting for the next digest."""
    pending = session.execute(_PENDING).all()
    keys = {row.story_id if row.story_id is not None else -row.article_id for row in pending}
    return len(keys), len(pending)


def start_delivery(
    session: Session,
    *,
    kind: str,
    message_id: str | None,
    subject: str,
    recipients: Sequence[str],
    stories: int,
    article_ids: Sequence[int],
    status: str = "sending",
) -> int:
    delivery = DigestDelivery(
        created_at=utcnow(),
        finished_at=None if status == "sending" else utcnow(),
        kind=kind,
        status=status,
        message_id=message_id,
        subject=clean(subject),
        recipients=list(recipients),
        stories=stories,
        article_ids=list(article_ids),
        attempts=0,
    )
    session.add(delivery)
    session.flush()
    return delivery.id


def finish_delivery(
    session: Session, delivery_id: int, *, status: str, attempts: int, error: str | None
) -> int:
    """Record how a delivery ended; when sent, mark its matches (returns how many were marked)."""
    delivery = session.get(DigestDelivery, delivery_id, with_for_update=True)
    if delivery is None:
        raise ValueError(f"No digest delivery {delivery_id}")
    delivery.status = status
    delivery.attempts = attempts
    delivery.error = None if error is None else clean(error)[:2000]
    delivery.finished_at = utcnow()
    if status != "sent":
        return 0
    marked = 0
    ids = sorted(delivery.article_ids)
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        # PostgreSQL: wait for, then hold off, a refilter changing these articles' decisions
        # (it updates their rows before it adds or removes their matches); rows in id order, as
        # refilter takes them, so that neither waits for the other in a cycle. SQLite runs one
        # writing transaction at a time already.
        session.execute(
            select(Article.id).where(Article.id.in_(chunk)).order_by(Article.id).with_for_update()
        )
        result = session.execute(
            update(Match)
            .where(Match.article_id.in_(chunk), Match.digest_id.is_(None))
            .values(digest_id=delivery_id)
        )
        marked += int(result.rowcount)  # type: ignore[attr-defined]
        marked += _record_sent_without_match(session, chunk, delivery_id)
    return marked


def _record_sent_without_match(session: Session, article_ids: list[int], delivery_id: int) -> int:
    """Sent articles whose match is gone get one, marked sent: a `refilter` during the SMTP
    exchange may have removed it (the article no longer matched). Without that record, rules
    that match the article again would make it pending, and send it a second time. (Its tier,
    regions and partners are those of the article's current decision, which has none.)"""
    now = utcnow()
    without_match = select(Article.id, Article.explanation).where(
        Article.id.in_(article_ids),
        ~select(Match.id).where(Match.article_id == Article.id).exists(),
    )
    rows = [
        {**match_values(row.id, now, row.explanation), "digest_id": delivery_id}
        for row in session.execute(without_match)
    ]
    if rows:
        session.execute(insert(Match), rows)
    return len(rows)


def close_abandoned(session: Session) -> int:
    """Deliveries left "sending" by a process that died: their outcome is unknown."""
    result = session.execute(
        update(DigestDelivery)
        .where(DigestDelivery.status == "sending")
        .values(
            status="interrupted",
            finished_at=utcnow(),
            error="newswatch stopped during the SMTP exchange; the stories stay pending",
        )
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def list_deliveries(session: Session, limit: int) -> list[DigestView]:
    query = (
        select(DigestDelivery)
        .order_by(DigestDelivery.created_at.desc(), DigestDelivery.id.desc())
        .limit(limit)
    )
    return [_view(delivery) for delivery in session.scalars(query)]


def last_delivery_at(session: Session) -> datetime | None:
    """When the last digest was attempted, whatever its outcome."""
    return session.scalar(select(func.max(DigestDelivery.created_at)))


def first_run_at(session: Session) -> datetime | None:
    return session.scalar(select(func.min(CrawlRun.started_at)))


def _load_articles(session: Session, article_ids: list[int]) -> dict[int, DigestArticle]:
    found: dict[int, DigestArticle] = {}
    for start in range(0, len(article_ids), _CHUNK):
        query = (
            select(*ARTICLE_SUMMARY_COLUMNS, Article.text, Source.name)
            .join(Source, Source.id == Article.source_id)
            .where(Article.id.in_(article_ids[start : start + _CHUNK]))
        )
        for row in session.execute(query):
            found[row.id] = DigestArticle(
                **summary_fields(row),
                explanation=dict(row.explanation),
                text=row.text,
            )
    return found


def _relevance(article: DigestArticle) -> tuple[bool, float, float, int]:
    core = article.explanation.get("tier") != "related"
    when = (article.published or article.first_seen).timestamp()
    return core, article.score, -when, -article.article_id  # ties: the first published


def _also_in(lead: DigestArticle, copies: Sequence[Any]) -> tuple[tuple[str, str], ...]:
    """(source, url) of the story on other outlets, one link per outlet, newest first."""
    outlets: dict[str, str] = {}
    for copy in copies:
        if copy.source != lead.source and copy.url != lead.url:
            outlets.setdefault(copy.source, copy.url)
    return tuple(outlets.items())


def _view(delivery: DigestDelivery) -> DigestView:
    return DigestView(
        id=delivery.id,
        created_at=delivery.created_at,
        finished_at=delivery.finished_at,
        kind=delivery.kind,
        status=delivery.status,
        message_id=delivery.message_id,
        subject=delivery.subject,
        recipients=tuple(delivery.recipients),
        stories=delivery.stories,
        articles=len(delivery.article_ids),
        attempts=delivery.attempts,
        error=delivery.error,
    )
