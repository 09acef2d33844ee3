"""The `newswatch` command line. It parses arguments, calls the modules that do the work,
formats their output and maps errors to exit codes; it is the only module that prints.

Exit codes: 0 success (a crawl in which some pages failed is still a success), 1 an error the
message explains (database unreachable...), 2 a usage or configuration error.
"""

from __future__ import annotations

import csv
import functools
import io
import json
import sys
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO, TypeVar

import click

from crawler.config import Config, load_config
from crawler.errors import ConfigError, NewswatchError
from crawler.logs import configure_logging

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


def format_option(command: F) -> F:
    return click.option(
        "--format",
        "output_format",
        type=click.Choice(["table", "json", "csv"]),
        default="table",
        show_default=True,
        help="Output format.",
    )(command)


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


def _load(config_path: Path | None) -> Config:
    return load_config(config_path)


@click.group(context_settings=CONTEXT)
@click.version_option(package_name="newswatch")
def main() -> None:
    """Watch Moroccan news sites for decentralized-cooperation stories.

    \b
    Example:
      newswatch crawl && newswatch matches
    """


@main.command(context_settings=CONTEXT)
@config_option
@click.option(
    "--source",
    "sources",
    multiple=True,
    metavar="NAME",
    help="Crawl only this source (repeatable). Default: all configured sources.",
)
@verbose_option
@handle_errors
def crawl(config_path: Path | None, sources: tuple[str, ...], verbose: int) -> None:
    """Run one crawl now and print its figures.

    \b
    Example:
      newswatch crawl --source lematin --source leseco
    """
    from crawler.runner import run_crawl

    configure_logging(verbose)
    config = _load(config_path)
    run = run_crawl(config, sources)
    stats = run.stats
    duration = ((run.finished_at or datetime.now(UTC)) - run.started_at).total_seconds()
    click.echo(
        f"Crawl #{run.id} {run.status} in {duration:.0f}s: "
        f"{stats.pages_fetched} pages fetched, {stats.articles_extracted} articles extracted, "
        f"{stats.matches} matches ({stats.new_matches} new), {stats.duplicates} duplicates, "
        f"{stats.skipped} skipped, {stats.errors} errors"
    )
    for sample in stats.error_samples[:10]:
        click.echo(f"  error: {sample}")
    if len(stats.error_samples) > 10:
        click.echo(f"  … {stats.errors - 10} more errors (run with -v, or see the log)")
    if stats.pages_fetched == 0 and stats.errors:
        click.echo(
            "No page could be fetched: check this machine's network connection and DNS, then "
            "try `newswatch sources --check` (README: Troubleshooting)."
        )
    click.echo(f"Database: {config.database.safe_url}")


@main.command(context_settings=CONTEXT)
@config_option
@click.option(
    "--since",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Only matches first seen or published on or after this date (YYYY-MM-DD).",
)
@click.option("--limit", type=click.IntRange(min=1), default=None, help="At most this many rows.")
@format_option
@handle_errors
def matches(
    config_path: Path | None, since: datetime | None, limit: int | None, output_format: str
) -> None:
    """List stored matches, newest first.

    \b
    Example:
      newswatch matches --since 2026-11-01 --format json
    """
    from storage.repository import Repository

    config = _load(config_path)
    with Repository(config.database.url) as repository:
        rows = repository.list_matches(
            since=since.replace(tzinfo=UTC) if since else None, limit=limit
        )
    records: list[dict[str, Any]] = [
        {
            "url": row.url,
            "title": row.title,
            "source": row.source,
            "published": row.published.isoformat() if row.published else None,
            "score": row.score,
            "matched": row.matched,
            "first_seen": row.first_seen.isoformat(),
            "language": row.language,
        }
        for row in rows
    ]
    if output_format == "json":
        click.echo(json.dumps(records, ensure_ascii=False, indent=2))
    elif output_format == "csv":
        click.echo(_csv(records), nl=False)
    else:
        _table(
            ["date", "source", "score", "title", "url"],
            [
                [
                    (r["published"] or r["first_seen"])[:10],
                    r["source"],
                    f"{r['score']:.1f}",
                    _shorten(r["title"], 60),
                    r["url"],
                ]
                for r in records
            ],
        )


@main.command(context_settings=CONTEXT)
@config_option
@click.argument("file", type=click.File("r", encoding="utf-8"), default="-")
@handle_errors
def classify(config_path: Path | None, file: TextIO) -> None:
    """Classify JSON lines ({"title", "text", optional "id", "lang"}) with the crawl's filter.

    Writes one JSON line per input: {"id", "match", "score", "matched"}. Reads stdin without FILE.

    \b
    Example:
      echo '{"id": 1, "title": "Jumelage", "text": "..."}' | newswatch classify
    """
    from crawler.filter import RuleEngine
    from crawler.processing import decide

    config = _load(config_path)
    engine = RuleEngine.from_path(config.rules_path())
    bad = 0
    for number, line in enumerate(file, start=1):
        if not line.strip():
            continue
        try:
            item, title, text = _classify_input(line)
        except _BadLine as exc:
            bad += 1
            click.echo(f"Error: {file.name}: line {number}: {exc}; line skipped", err=True)
            continue
        result = decide(engine, title, text, item.get("lang"))
        output = {
            "id": item.get("id", number),
            "match": result.matched,
            "score": result.score,
            "matched": result.groups,
        }
        click.echo(json.dumps(output, ensure_ascii=False))
    if bad:
        sys.exit(1)


@main.command(context_settings=CONTEXT)
@config_option
@click.option("--check", is_flag=True, help="Fetch robots.txt, feeds and sitemaps once and report.")
@format_option
@verbose_option
@handle_errors
def sources(config_path: Path | None, check: bool, output_format: str, verbose: int) -> None:
    """List the configured sources (after validating the config); --check tries them.

    \b
    Example:
      newswatch sources --check
    """
    config = _load(config_path)
    if not check:
        records = [
            {
                "name": s.name,
                "language": s.language or "",
                "homepage": str(s.homepage or ""),
                "feeds": len(s.feeds),
                "sitemaps": len(s.sitemaps),
                "sections": len(s.sections),
                "discover": ",".join(s.discover),
            }
            for s in config.sources
        ]
        _emit(records, output_format)
        return
    from crawler.source_check import check_sources

    configure_logging(verbose)
    reports = check_sources(config)
    if output_format == "json":
        click.echo(json.dumps([r.to_dict() for r in reports], ensure_ascii=False, indent=2))
        return
    for report in reports:
        failed = sum(1 for probe in report.probes if not probe.ok)
        verdict = "OK" if report.ok else "NO ENTRIES"
        click.echo(f"{report.source}: {verdict}" + (f", {failed} failed" if failed else ""))
        for probe in report.probes:
            status = "ok  " if probe.ok else "FAIL"
            if not probe.ok:
                detail = probe.error
            elif probe.kind == "robots":
                detail = f"{probe.entries} Sitemap lines"
            elif probe.kind == "homepage":
                detail = f"{probe.entries} feeds announced"
            else:
                detail = f"{probe.recent} recent of {probe.entries} entries"
            click.echo(f"  {status} {probe.kind:13} {probe.url}  {detail}")


class _BadLine(Exception):
    """A `classify` input line that is not a JSON object with string title and text."""


def _classify_input(line: str) -> tuple[dict[str, Any], str, str]:
    try:
        item = json.loads(line)
    except ValueError as exc:
        raise _BadLine(f"not JSON ({exc})") from None
    if not isinstance(item, dict):
        raise _BadLine("not a JSON object")
    title, text = item.get("title") or "", item.get("text") or ""
    if not isinstance(title, str) or not isinstance(text, str):
        raise _BadLine('"title" and "text" must be strings')
    return item, title, text


def _emit(records: list[dict[str, Any]], output_format: str) -> None:
    if output_format == "json":
        click.echo(json.dumps(records, ensure_ascii=False, indent=2))
    elif output_format == "csv":
        click.echo(_csv(records), nl=False)
    elif records:
        headers = list(records[0])
        _table(headers, [[str(r[h]) for h in headers] for r in records])


def _csv(records: list[dict[str, Any]]) -> str:
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


def _table(headers: Sequence[str], rows: Iterable[Sequence[str]]) -> None:
    rows = list(rows)
    if not rows:
        click.echo("(nothing)")
        return
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(headers)]
    click.echo("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip())
    for row in rows:
        click.echo("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())


def _shorten(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"
