"""The base of newswatch's exception tree, kept here because storage is the lowest layer.

The whole tree is drawn in `crawler.errors`.
"""


class NewswatchError(Exception):
    """Base class of every error newswatch raises on purpose; the CLI prints its message."""


class StorageError(NewswatchError):
    """The database could not be opened, migrated or written."""


class CrawlLockedError(NewswatchError):
    """Another crawl or daemon holds the database's crawl lock."""
