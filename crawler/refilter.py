"""`newswatch refilter`: the current rules applied again to the articles already stored.

It holds the crawl lock while it writes, so no crawl stores decisions of other rules in the
middle of it, and goes through the articles one batch (one transaction) at a time: a huge
database is never loaded at once, and an interruption keeps the batches already done. The
queries are `storage.matches`'; this module supplies the crawl's own filter decision.
"""

from __future__ import annotations

import contextlib
import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from crawler.filter import RuleEngine
from crawler.processing import decide, stored_explanation
from storage.locks import crawl_lock
from storage.matches import NEWLY_MATCHED
from storage.records import RefilterChange, StoredArticle, Verdict
from storage.repository import Repository

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

    from crawler.config import Config

logger = logging.getLogger(__name__)

BATCH_SIZE = 500  # articles per transaction: about a second of filtering, a few MB of text


@dataclass(frozen=True, slots=True)
class RefilterSummary:
    rules: str
    rules_digest: str
    dry_run: bool
    examined: int
    score_changed: int
    unchanged: int
    changes: tuple[RefilterChange, ...]
    seconds: float

    @property
    def newly_matched(self) -> list[RefilterChange]:
        return [change for change in self.changes if change.kind == NEWLY_MATCHED]

    @property
    def no_longer_matched(self) -> list[RefilterChange]:
        return [change for change in self.changes if change.kind != NEWLY_MATCHED]


def refilter(
    config: Config,
    *,
    since: datetime | None = None,
    dry_run: bool = False,
    batch_size: int = BATCH_SIZE,
    progress: Callable[[int], object] | None = None,
) -> RefilterSummary:
    """Decide again on every stored article (first seen at or after `since`) with the rules of
    `config`, and store the new decisions unless `dry_run`.

    Raises CrawlLockedError when a crawl holds the database (a dry run takes no lock: it
    writes nothing). `progress` is called with the number of articles examined so far.
    """
    started = time.monotonic()
    rules = config.rules_path()
    engine = RuleEngine.from_path(rules)  # a bad rules file fails before the lock
    verdict = _verdicts(engine)
    lock = contextlib.nullcontext() if dry_run else crawl_lock(config.database.url, what="refilter")
    examined = score_changed = unchanged = 0
    changes: list[RefilterChange] = []
    with lock, Repository(config.database.url) as repository:
        after = 0
        while True:
            batch = repository.refilter_batch(
                verdict, after=after, since=since, limit=batch_size, dry_run=dry_run
            )
            if batch.last_id is None:
                break
            after = batch.last_id
            examined += batch.examined
            score_changed += batch.score_changed
            unchanged += batch.unchanged
            changes.extend(batch.changes)
            logger.debug("Refiltered %d articles, up to id %d", examined, after)
            if progress is not None:
                progress(examined)
    return RefilterSummary(
        rules=str(rules),
        rules_digest=engine.rules_digest,
        dry_run=dry_run,
        examined=examined,
        score_changed=score_changed,
        unchanged=unchanged,
        changes=tuple(changes),
        seconds=time.monotonic() - started,
    )


def _verdicts(engine: RuleEngine) -> Callable[[StoredArticle], Verdict]:
    """The crawl's decision on a stored article, with its explanation as a crawl stores it."""

    def verdict(article: StoredArticle) -> Verdict:
        result = decide(engine, article.title, article.text, article.language)
        return Verdict(result.score, result.matched, stored_explanation(engine, result))

    return verdict
