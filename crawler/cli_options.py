"""What every `newswatch` command shares: its options, the error-to-exit-code mapping and the
table and CSV output. The commands live in `crawler.cli`, `crawler.cli_matches`,
`crawler.cli_daemon`, `crawler.cli_rules` and `crawler.cli_refilter`.
"""

from __future__ import annotations

import csv
import functools
import io
import json
import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import click

from crawler.errors import ConfigError, NewswatchError

F = TypeVar("F", bound=Callable[..., Any])
CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


def config_option(command: F) -> F:
    return click.option(
        "--config",
        "config_path",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help="TOML config file (default: $NEWSWATCH_CONFIG, else ./newswatch.toml, else built-in).",
    )(command)


def verbose_option(command: F) -> F:
    return click.option(
        "-v", "--verbose", count=True, help="More log output (-v pages, -vv Scrapy too)."
    )(command)


def format_choice(*choices: str) -> Callable[[F], F]:
    """A `--format` option offering `choices`, the first being the default."""

    def decorate(command: F) -> F:
        return click.option(
            "--format",
            "output_format",
            type=click.Choice(list(choices)),
            default=choices[0],
            show_default=True,
            help="Output format.",
        )(command)

    return decorate


format_option = format_choice("table", "json", "csv")


def since_option(help_text: str) -> Callable[[F], F]:
    """A `--since YYYY-MM-DD` option (a naive datetime at midnight, or None)."""
    return click.option(
        "--since", type=click.DateTime(formats=["%Y-%m-%d"]), default=None, help=help_text
    )


def handle_errors(command: F) -> F:
    """NewswatchError → 'Error: <message>' (exit 1; ConfigError exit 2). Other errors keep their traceback."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except ConfigError as exc:
            click.echo(f"Error: {exc}", err=True)
            sys.exit(2)
        except NewswatchError as exc:
            click.echo(f"Error: {exc}", err=True)
            sys.exit(1)

    return wrapper  # type: ignore[return-value]


def csv_text(records: list[dict[str, Any]]) -> str:
    """Records as CSV, lists and objects written as JSON in their cell."""
    if not records:
        return ""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(records[0]))
    writer.writeheader()
    for record in records:
        writer.writerow(
            {
                k: json.dumps(v, ensure_ascii=False) if isinstance(v, dict | list) else v
                for k, v in record.items()
            }
        )
    return buffer.getvalue()


def echo_table(headers: Sequence[str], rows: Iterable[Sequence[str]]) -> None:
    rows = list(rows)
    if not rows:
        click.echo("(nothing)")
        return
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(headers)]
    click.echo("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip())
    for row in rows:
        click.echo("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())


def shorten(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def decode_input(raw: bytes, *, first: bool = True) -> str:
    """Input text from a file or stdin: UTF-8, a byte-order mark allowed at its start (as
    Windows editors write it). `crawler.errors.not_utf8` says where a UnicodeDecodeError is."""
    return raw.decode("utf-8-sig" if first else "utf-8")


def input_name(file: object) -> str:
    """A FILE argument's name for messages ("<stdin>" for standard input)."""
    return str(getattr(file, "name", "<stdin>"))
