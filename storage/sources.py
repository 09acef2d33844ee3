"""Source ids: each outlet's row, created on first sight and its id cached once committed.

Every saved article and skipped page names its source; caching the ids spares a query per save.
An id is cached only after its transaction commits, since a rolled-back row never existed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import bindparam, select

from storage.dedupe import insert_ignoring_duplicates
from storage.models import SOURCES, Source, utcnow

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

_NEW_SOURCES = "newswatch_new_sources"  # session.info key: source ids found in this transaction
_SOURCE_ID = select(Source.id).where(Source.name == bindparam("name"))


class SourceIds:
    """The ids of sources by name, for one database; share one instance between transactions."""

    def __init__(self, dialect_name: str) -> None:
        self._committed: dict[str, int] = {}
        # Built once: constructing statements costs more than running them on SQLite.
        self._insert = insert_ignoring_duplicates(dialect_name, SOURCES)

    def id_of(self, session: Session, name: str) -> int:
        """The id of source `name`, its row inserted in `session`'s transaction if missing."""
        if not name or len(name) > 200 or "\x00" in name:
            raise ValueError(f"Source name {name!r} must have 1 to 200 characters")
        new_sources: dict[str, int] = session.info.setdefault(_NEW_SOURCES, {})
        source_id = self._committed.get(name) or new_sources.get(name)
        if source_id is None:
            row = {"name": name, "created_at": utcnow()}
            session.execute(self._insert, row)
            source_id = session.scalars(_SOURCE_ID, {"name": name}).one()
            new_sources[name] = source_id
        return source_id

    def keep_committed(self, session: Session) -> None:
        """Cache the ids found in `session`'s transaction; call once it has committed."""
        self._committed.update(session.info.get(_NEW_SOURCES, {}))
