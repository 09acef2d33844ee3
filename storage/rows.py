"""Conversions between the plain records and table rows, cleaning what a database would refuse.

PostgreSQL rejects NUL characters and SQLite turns NaN into NULL; values are cleaned here, once,
so that both backends store the same thing. Queries belong to the modules that
`storage.repository` calls.
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from storage import minhash
from storage.dedupe import hash_normalized, normalize_text
from storage.errors import StorageError
from storage.models import RUN_STATUSES, URL_LENGTH, summary_fields, utcnow
from storage.records import ArticleRecord, MatchView, RunStats, RunView

if TYPE_CHECKING:
    from sqlalchemy.engine import Row

    from storage.models import CrawlRun

MAX_ERROR_SAMPLES = 50
MAX_SHORT_TEXT = 1000  # characters of a skip reason or an error sample


@dataclass(frozen=True, slots=True)
class PreparedArticle:
    """An article's row values, computed without the database (hash, cleaning, compression).

    Built by `prepare_article`, possibly in another process: the costly part of saving is then
    off the process that writes to the database.
    """

    record: ArticleRecord  # without its HTML, which is in `values["html_gz"]`
    urls: list[str]  # canonical URL first, then the fetched URL if it differs
    values: dict[str, Any]


def prepare_article(record: ArticleRecord) -> PreparedArticle:
    urls = list(dict.fromkeys([checked_url(record.url), checked_url(record.fetched_url)]))
    values = article_values(record)
    return PreparedArticle(replace(record, html=None), urls, values)


def article_values(record: ArticleRecord) -> dict[str, Any]:
    """The columns of a new article (all but its source and story), cleaned, with the text's
    hash and MinHash signature (the costly parts, computed here in the extraction workers).
    """
    text = clean(record.text)
    normalized = normalize_text(text)
    if not normalized:
        raise StorageError(f"Article {record.url} has no words in its text; it was not stored")
    if not math.isfinite(record.score):
        raise ValueError(f"Article {record.url} has a non-finite score {record.score!r}")
    html = clean(record.html) if record.matched and record.html else None
    return {
        "url": record.url,
        "title": clean(record.title),
        "text": text,
        "content_hash": hash_normalized(normalized),
        "minhash": minhash.signature(normalized),
        "published_at": record.published_at,
        "first_seen_at": utcnow(),
        "language": clean_optional(record.language),
        "author": clean_optional(record.author),
        "score": float(record.score),
        "matched": record.matched,
        "explanation": clean_json(record.explanation),
        "html_gz": None if html is None else zlib.compress(html.encode("utf-8")),
        "run_id": record.run_id,
    }


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


def checked_url(url: str) -> str:
    if not storable_url(url):
        raise StorageError(
            f"URL {url[:200]!r} cannot be stored: it is empty, holds a NUL character or is "
            f"longer than {URL_LENGTH} bytes"
        )
    return url


def storable_url(url: str) -> bool:
    return bool(url) and "\x00" not in url and len(url.encode("utf-8", "replace")) <= URL_LENGTH


def clean(value: str) -> str:
    """`value` without NUL characters and with unpaired surrogates replaced."""
    if "\x00" in value:
        value = value.replace("\x00", "")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        value = value.encode("utf-8", "replace").decode("utf-8")
    return value


def clean_optional(value: str | None) -> str | None:
    return None if value is None else clean(value)


def clean_json(value: Any) -> Any:
    if isinstance(value, str):
        return clean(value)
    if isinstance(value, dict):
        return {clean(str(key)): clean_json(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [clean_json(item) for item in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None  # JSON has no NaN or infinity
    return value


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
