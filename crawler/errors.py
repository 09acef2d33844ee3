"""The exception tree of newswatch.

    NewswatchError              (storage.errors: base; the CLI prints "Error: <message>", exit 1)
    ├── ConfigError             a config or rules file is invalid (the CLI exits 2)
    ├── SourceError             a source cannot be used as configured
    ├── ExtractionError         a fetched page holds no article (recorded as skipped)
    ├── StorageError            (storage.errors) the database cannot be opened or written
    ├── MailError               a digest could not be delivered
    └── CrawlLockedError        another crawl holds the database

Every message says what went wrong, where (file and key, URL, source) and what to do.
"""

from storage.errors import CrawlLockedError, NewswatchError, StorageError


class ConfigError(NewswatchError):
    """A configuration or rules file is invalid; nothing has been written."""


class SourceError(NewswatchError):
    """A source is unusable as configured (unknown name, no URL to start from)."""


class ExtractionError(NewswatchError):
    """A page is not an article: no text, too short, not HTML. `reason` is stored as the skip reason."""

    def __init__(self, reason: str, url: str = "") -> None:
        super().__init__(f"{url}: {reason}" if url else reason)
        self.reason = reason
        self.url = url


class MailError(NewswatchError):
    """A digest could not be delivered."""


__all__ = [
    "ConfigError",
    "CrawlLockedError",
    "ExtractionError",
    "MailError",
    "NewswatchError",
    "SourceError",
    "StorageError",
]


def not_utf8(exc: UnicodeDecodeError) -> str:
    """Where input is not UTF-8, for an error message (bytes counted from 1)."""
    return f"not UTF-8 text (byte {exc.start + 1} is {exc.object[exc.start]:#04x})"
