"""The daily digest: pending stories composed (`compose`), sent (`send`) and recorded.

Exactly once per story as far as SMTP allows: the digest is recorded as "sending" first, its
stories are marked sent in the same commit that records the server's acceptance, and a digest
the server did not accept leaves them pending for the next one. Only one digest is composed and
sent at a time per database (the digest lock), so a manual `newswatch digest` and the daemon's
never send the same stories twice.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from crawler.digest.compose import DigestContent, compose_digest
from crawler.digest.send import (
    BACKOFF_SECONDS,
    Delivery,
    DeliveryError,
    build_message,
    new_message_id,
    send_message,
)
from crawler.errors import ConfigError
from storage.locks import digest_lock
from storage.repository import Repository

if TYPE_CHECKING:
    import threading
    from email.message import EmailMessage

    from crawler.config import Config

logger = logging.getLogger(__name__)

__all__ = ["DigestResult", "deliver_digest", "preview_digest"]


@dataclass(frozen=True, slots=True)
class DigestResult:
    """What a digest run did. `status`: sent, empty, failed, refused, or preview."""

    status: str
    digest_id: int | None
    content: DigestContent | None
    message: EmailMessage | None
    recipients: tuple[str, ...]
    delivery: Delivery | None = None
    error: str | None = None
    seconds: float = 0.0


def preview_digest(config: Config, now: datetime | None = None) -> DigestResult:
    """The digest that would be sent now, composed but neither sent, recorded nor marked."""
    started = time.monotonic()
    with Repository(config.database.url) as repository:
        content, message = _compose(config, repository, _local(config, now))
    return DigestResult(
        "preview",
        None,
        content,
        message,
        config.digest.to,
        seconds=time.monotonic() - started,
    )


def deliver_digest(
    config: Config,
    *,
    kind: str = "manual",
    stop: threading.Event | None = None,
    now: datetime | None = None,
    backoff: float | None = None,
) -> DigestResult:
    """Send the pending stories (unless there are none and `send_empty` is off), and record it.

    Raises ConfigError when `[digest] to` is empty, CrawlLockedError when another digest is
    being sent; a refused or failed delivery is a result (status failed/refused), not an error.
    """
    if not config.digest.to:
        raise ConfigError(
            '[digest] to: no recipients; add e.g. to = ["you@example.org"] to the config file'
        )
    started = time.monotonic()
    recipients = config.digest.to
    with digest_lock(config.database.url), Repository(config.database.url) as repository:
        abandoned = repository.close_abandoned_digests()
        if abandoned:
            logger.warning(
                "%d earlier digest(s) were cut off while sending; their stories stay pending",
                abandoned,
            )
        content, message = _compose(config, repository, _local(config, now))
        if content.stories == 0 and not config.digest.send_empty:
            digest_id = repository.start_digest(
                kind=kind,
                message_id=None,
                subject=content.subject,
                recipients=recipients,
                stories=0,
                article_ids=(),
                status="empty",
            )
            return DigestResult(
                "empty",
                digest_id,
                content,
                None,
                recipients,
                seconds=time.monotonic() - started,
            )
        digest_id = repository.start_digest(
            kind=kind,
            message_id=str(message["Message-ID"]),
            subject=content.subject,
            recipients=recipients,
            stories=content.stories,
            article_ids=content.article_ids,
        )
        try:
            delivery = send_message(
                message,
                config.smtp,
                stop=stop,
                backoff=BACKOFF_SECONDS if backoff is None else backoff,
            )
        except DeliveryError as exc:
            status = "refused" if exc.permanent else "failed"
            repository.finish_digest(
                digest_id, status=status, attempts=exc.attempts, error=str(exc)
            )
            return DigestResult(
                status,
                digest_id,
                content,
                message,
                recipients,
                error=str(exc),
                seconds=time.monotonic() - started,
            )
        refused = "; ".join(f"{rcpt}: {why}" for rcpt, why in delivery.refused.items())
        repository.finish_digest(
            digest_id,
            status="sent",
            attempts=delivery.attempts,
            error=f"refused recipients: {refused}" if refused else None,
        )
    return DigestResult(
        "sent",
        digest_id,
        content,
        message,
        recipients,
        delivery=delivery,
        seconds=time.monotonic() - started,
    )


def _compose(
    config: Config, repository: Repository, now: datetime
) -> tuple[DigestContent, EmailMessage]:
    stories = repository.pending_stories()
    health = repository.source_health([source.name for source in config.sources])
    content = compose_digest(stories, config.digest, now, health=health)
    message = build_message(
        subject=content.subject,
        sender=config.digest.sender,
        recipients=config.digest.to,
        text=content.text,
        html=content.html,
        message_id=new_message_id(config.digest.sender),
        date=now,
    )
    return content, message


def _local(config: Config, now: datetime | None) -> datetime:
    """Now (or `now`) in the schedule's time zone: the digest's date is the reader's date."""
    return (now or datetime.now(config.schedule.zone)).astimezone(config.schedule.zone)
