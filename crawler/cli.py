"""The `newswatch` command line. It parses arguments, calls the modules that do the work,
formats their output and maps errors to exit codes. This module holds the command group and the
`crawl`, `classify` and `sources` commands; the others have modules of their own:
`crawler.cli_matches` (`matches`), `crawler.cli_daemon` (`run`, `digest`, `status`),
`crawler.cli_rules` (the `rules` commands) and `crawler.cli_refilter` (`refilter`). Only these
modules print. Shared options: `crawler.cli_options`.

Exit codes: 0 success (a crawl in which some pages failed is still a success), 1 an error the
message explains (database unreachable...), 2 a usage or configuration error.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, BinaryIO

import click

from crawler.cli_daemon import digest, run, status
from crawler.cli_matches import matches
from crawler.cli_options import (
    CONTEXT,
    config_option,
    csv_text,
    decode_input,
    echo_table,
    format_option,
    handle_errors,
    input_name,
    verbose_option,
)
from crawler.cli_refilter import refilter
from crawler.cli_rules import rules
from crawler.config import load_config
from crawler.errors import not_utf8
from crawler.logs import configure_logging

if TYPE_CHECKING:
    from pathlib import Path


@click.group(context_settings=CONTEXT)
@click.version_option(package_name="newswatch")
def main() -> None:
    """Watch Moroccan news sites for decentralized-cooperation stories.

    \b
    Example:
      newswatch crawl && newswatch matches
    """


main.add_command(rules)
main.add_command(refilter)
main.add_command(matches)
main.add_command(run)
main.add_command(digest)
main.add_command(status)


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
    from crawler.collection import collection_paused
    from crawler.workers import start_forkserver

    configure_logging(verbose)
    with collection_paused():
        config = load_config(config_path)
        config.select_sources(list(sources))  # a mistyped --source fails before anything starts
        # Before importing the crawl (Scrapy, storage): the extraction workers' forkserver
        # loads its modules on the other core meanwhile.
        start_forkserver(config.rules_path())
        from crawler.runner import run_crawl

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
@click.argument("file", type=click.File("rb"), default="-")
@handle_errors
def classify(config_path: Path | None, file: BinaryIO) -> None:
    """Classify JSON lines ({"title", "text", optional "id", "lang"}) with the crawl's filter.

    Writes one JSON line per input: {"id", "match", "score", "matched"}. Reads stdin without FILE.

    \b
    Example:
      echo '{"id": 1, "title": "Jumelage", "text": "..."}' | newswatch classify
    """
    from crawler.evaluation import BadArticleLine, parse_article_line
    from crawler.filter import RuleEngine
    from crawler.processing import decide

    config = load_config(config_path)
    engine = RuleEngine.from_path(config.rules_path())
    bad, name = 0, input_name(file)
    for number, raw in enumerate(file, start=1):
        try:
            line = decode_input(raw, first=number == 1)
        except UnicodeDecodeError as exc:
            bad += 1
            click.echo(f"Error: {name}: line {number}: {not_utf8(exc)}; line skipped", err=True)
            continue
        if not line.strip():
            continue
        try:
            item, title, text = parse_article_line(line)
        except BadArticleLine as exc:
            bad += 1
            click.echo(f"Error: {name}: line {number}: {exc}; line skipped", err=True)
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
    config = load_config(config_path)
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


def _emit(records: list[dict[str, Any]], output_format: str) -> None:
    if output_format == "json":
        click.echo(json.dumps(records, ensure_ascii=False, indent=2))
    elif output_format == "csv":
        click.echo(csv_text(records), nl=False)
    elif records:
        headers = list(records[0])
        echo_table(headers, [[str(r[h]) for h in headers] for r in records])
