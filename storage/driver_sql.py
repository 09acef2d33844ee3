"""The save path's hot Core statements, compiled once per kind of database and run as driver SQL.

`Connection.execute` does for every execution what could be done once: it looks the compiled
statement up, builds its parameters and runs each value through its type's bind processor inside
a new execution context. For the few statements run for every stored article that was two thirds
of what saving one cost in Python on SQLite (0.44 ms, against 0.15 ms for the driver's own work).
A `DriverStatement` is compiled by SQLAlchemy once for a dialect, with the bind processors its
types have there, and runs through `Connection.exec_driver_sql`: SQLAlchemy still owns the
connection, the transaction, the events and the translation of driver errors.

Only statements whose SQL does not change from one execution to the next qualify: no expanding
`IN` (compile one statement per list length instead) and no Python-side column default that the
caller does not supply (it would not run).
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import StatementError
from sqlalchemy.orm import Session
from sqlalchemy.sql.compiler import SQLCompiler

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, CursorResult, Dialect
    from sqlalchemy.sql import ClauseElement

# A result row of any width, as `Connection.exec_driver_sql` types it.
Row = tuple[Any, ...]

Processor = Callable[[Any], Any]


class DriverStatement:
    """One statement as the driver runs it on one dialect: its SQL, and how to turn a mapping of
    parameter values into the driver's parameters (in order when its style is positional)."""

    __slots__ = ("_fixed", "_pick", "_processed", "many", "names", "positional", "sql")

    def __init__(
        self,
        sql: str,
        names: Sequence[str],
        positional: bool,
        processors: Sequence[Processor | None],
        fixed: Mapping[str, Any],
        many: bool = False,
    ) -> None:
        """`names` as the SQL takes them (in order, and repeated if used twice, when positional),
        each with its bind processor; `fixed`, values the statement carries (a LIMIT's); `many`,
        whether it was compiled for several rows at once (`execute_many`) or for one."""
        self.sql = sql
        self.many = many
        self.names = tuple(names)
        self.positional = positional
        # A bands insert passes 40 rows an article: values are picked in C (`itemgetter`), and
        # only the parameters whose type has a bind processor go through Python.
        pick = operator.itemgetter(*self.names) if self.names else (lambda values: ())
        self._pick = pick if len(self.names) != 1 else (lambda values: (pick(values),))
        self._processed = tuple(
            (index, process) for index, process in enumerate(processors) if process is not None
        )
        self._fixed = {name: fixed[name] for name in self.names if name in fixed}

    def parameters(self, values: Mapping[str, Any]) -> tuple[Any, ...] | dict[str, Any]:
        """The driver's parameters for `values` (a missing one raises KeyError)."""
        if self._fixed:
            values = {**self._fixed, **values}
        picked: tuple[Any, ...] = self._pick(values)
        if self._processed:
            row = list(picked)
            for index, process in self._processed:
                row[index] = process(row[index])
            picked = tuple(row)
        return picked if self.positional else dict(zip(self.names, picked, strict=True))

    def execute(self, connection: Connection, values: Mapping[str, Any]) -> CursorResult[*Row]:
        if self.many:
            raise TypeError("compiled for several rows: use execute_many")
        return connection.exec_driver_sql(self.sql, self._converted(values))

    def execute_many(
        self, connection: Connection, rows: Sequence[Mapping[str, Any]]
    ) -> CursorResult[*Row]:
        """Run it once for each of `rows` (the driver's executemany)."""
        if not self.many:
            raise TypeError("compiled for one row: use execute, or compile with many=True")
        return connection.exec_driver_sql(self.sql, [self._converted(row) for row in rows])

    def _converted(self, values: Mapping[str, Any]) -> tuple[Any, ...] | dict[str, Any]:
        """`parameters`, its failures raised as SQLAlchemy raises them for a Core statement
        (a missing value, one its type cannot convert), not as a bare KeyError or TypeError."""
        try:
            return self.parameters(values)
        except Exception as error:
            raise StatementError(
                f"({type(error).__name__}) {error}", self.sql, dict(values), error
            ) from error


def compile_statement(
    statement: ClauseElement,
    dialect: Dialect,
    column_keys: Sequence[str] | None = None,
    many: bool = False,
) -> DriverStatement:
    """Compile `statement` for `dialect`; an INSERT without values takes `column_keys`. With
    `many`, for `execute_many`: as SQLAlchemy does for several rows (on PostgreSQL, an INSERT
    for one row also returns its new primary key; for several, it does not).

    Raises:
        ValueError: the statement's SQL would change with its parameters (an expanding `IN`), or
            it relies on Python-side defaults that `column_keys` leaves out.
    """
    compiled = statement.compile(
        dialect=dialect, column_keys=list(column_keys or ()), for_executemany=many
    )
    if not isinstance(compiled, SQLCompiler):
        raise TypeError(f"{statement!r} is not a SQL statement")
    if compiled.post_compile_params or compiled.literal_execute_params:
        raise ValueError(f"{statement} has parameters rendered per execution (expanding IN)")
    prefetch = [*compiled.insert_prefetch, *compiled.update_prefetch]
    if prefetch:
        missing = ", ".join(sorted(column.name for column in prefetch))
        raise ValueError(f"{statement} needs Python-side defaults for: {missing}; supply them")
    binds = {name: bind for bind, name in compiled.bind_names.items()}
    if compiled.positional:
        names = tuple(compiled.positiontup or ())
    else:
        if compiled.escaped_bind_names:
            raise ValueError(f"{statement} has bind names that the driver's SQL escapes")
        names = tuple(binds)
    processors = tuple(
        binds[name].type.dialect_impl(dialect).bind_processor(dialect) for name in names
    )
    fixed = {
        name: bind.effective_value
        for name, bind in binds.items()
        if not bind.required and bind.callable is None
    }
    return DriverStatement(str(compiled), names, compiled.positional, processors, fixed, many)


class DriverStatements:
    """`DriverStatement`s compiled on first use, per kind of dialect and per key the caller gives
    (a statement, and its shape when it varies).

    Per kind (dialect class, driver, parameter style), not per dialect object: the compiled
    bind processors hold their dialect, so a cache keyed by the object itself would keep every
    engine's dialect alive. Engines of one kind share the statements compiled with the first
    one's processors, which are the same for all: newswatch creates every engine the same way
    (`storage.db`), without a JSON serializer or other type options of its own.
    """

    def __init__(self) -> None:
        self._compiled: dict[tuple[type, str, str, Hashable], DriverStatement] = {}

    def get(
        self,
        dialect: Dialect,
        key: Hashable,
        build: Callable[[], ClauseElement],
        column_keys: Sequence[str] | None = None,
        many: bool = False,
    ) -> DriverStatement:
        """The statement `build()` makes, compiled for `dialect`'s kind once per `key` (see
        `compile_statement` for the others)."""
        cache_key = (type(dialect), dialect.driver, dialect.paramstyle, key)
        found = self._compiled.get(cache_key)
        if found is None:
            found = self._compiled[cache_key] = compile_statement(
                build(), dialect, column_keys, many
            )
        return found


def connection_of(bind: Connection | Session) -> Connection:
    """The connection of `bind`'s transaction (a session's, begun if need be)."""
    return bind.connection() if isinstance(bind, Session) else bind
