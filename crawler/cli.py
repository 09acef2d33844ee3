"""The `newswatch` command line. It parses arguments, calls the modules that do the work,
formats their output and maps errors to exit codes; with `crawler.cli_rules` (the `rules`
commands) and `crawler.cli_refilter` (`refilter`), it is the only module that prints. Shared options: `crawler.cli_options`.

Exit codes: 0 success (a crawl in which some pages failed is still a success), 1 an error the
message explains (database unreachable...), 2 a usage or configuration error.
"""

from __future__ import annotations

import functools
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import click

from crawler.cli_options import (
    CONTEXT,
    F,
    config_option,
    csv_text,
    echo_table,
    format_option,
    handle_errors,
    shorten,
    verbose_option,
)
from crawler.cli_refilter import refilter
from crawler.cli_rules import rules
from crawler.config import Config, load_config
from crawler.errors import NewswatchError
from crawler.logs import configure_logging

if TYPE_CHECKING:
    from collections.abc import Sequence

    from storage.records import MatchView, StoryView


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


main.add_command(rules)
main.add_command(refilter)


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
    from crawler.workers import start_forkserver

    configure_logging(verbose)
    config = _load(config_path)
    config.select_sources(list(sources))  # a mistyped --source fails before anything starts
    # Before importing the crawl (Scrapy, storage): the extraction workers' forkserver loads
    # its modules on the other core meanwhile.
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
@click.option(
    "--since",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Only matches first seen or published on or after this date (YYYY-MM-DD).",
)
@click.option("--limit", type=click.IntRange(min=1), default=None, help="At most this many rows.")
@click.option(
    "--by",
    "group_by",
    type=click.Choice(["article", "story"]),
    default="article",
    show_default=True,
    help="One row per matched article, or per story (an article and its copies on other outlets).",
)
@click.option(
    "--region",
    metavar="NAME",
    default=None,
    help='Only matches that recognised this Moroccan region (any case), e.g. "Souss-Massa".',
)
@format_option
@handle_errors
def matches(
    config_path: Path | None,
    since: datetime | None,
    limit: int | None,
    group_by: str,
    region: str | None,
    output_format: str,
) -> None:
    """List stored matches, newest first; --by story lists each story once with its outlets.

    \b
    Example:
      newswatch matches --since 2026-11-01 --format json
      newswatch matches --region "Souss-Massa"
      newswatch matches --by story
    """
    from storage.repository import Repository

    if region is not None and group_by == "story":
        raise click.UsageError("--region lists articles: use it without --by story")
    config = _load(config_path)
    since_utc = since.replace(tzinfo=UTC) if since else None
    with Repository(config.database.url) as repository:
        if group_by == "story":
            records = _story_records(repository.list_stories(since=since_utc, limit=limit))
        else:
            found = repository.list_matches(since=since_utc, limit=limit, region=region)
            records = _match_records(found)
    if output_format == "json":
        click.echo(json.dumps(records, ensure_ascii=False, indent=2))
    elif output_format == "csv":
        click.echo(csv_text(records), nl=False)
    else:
        who = "outlets" if group_by == "story" else "source"
        echo_table(
            ["date", who, "score", "tier", "region ↔ partner", "title", "url"],
            [
                [
                    (r["published"] or r["first_seen"])[:10],
                    ", ".join(r["outlets"]) if group_by == "story" else r["source"],
                    f"{r['score']:.1f}",
                    r["tier"] or "-",
                    shorten(_places(r["regions"], r["partners"]), 40),
                    shorten(r["title"], 60),
                    r["url"],
                ]
                for r in records
            ],
        )


def _places(regions: list[str], partners: list[str]) -> str:
    """ "Souss-Massa ↔ Canary Islands": the regions and partners a match recognised."""
    sides = [", ".join(regions) or "-", ", ".join(partners) or "-"]
    return "-" if sides == ["-", "-"] else " ↔ ".join(sides)


def _match_records(rows: Sequence[MatchView]) -> list[dict[str, Any]]:
    return [
        {
            "url": row.url,
            "title": row.title,
            "source": row.source,
            "published": row.published.isoformat() if row.published else None,
            "score": row.score,
            "matched": row.matched,
            "first_seen": row.first_seen.isoformat(),
            "language": row.language,
            "story": row.story,
            "also_in": row.also_in,
            "tier": row.tier,
            "regions": row.regions,
            "partners": row.partners,
        }
        for row in rows
    ]


def _story_records(stories: Sequence[StoryView]) -> list[dict[str, Any]]:
    """One record per story: its first article's fields, its outlets and its other copies."""
    return [
        {
            "story": story.story_id,
            "url": story.url,
            "title": story.title,
            "source": story.source,
            "outlets": story.outlets,
            "published": story.published.isoformat() if story.published else None,
            "score": story.score,
            "matched": story.matched,
            "first_seen": story.first_seen.isoformat(),
            "language": story.language,
            "also_in": story.also_in,
            "tier": story.tier,
            "regions": story.regions,
            "partners": story.partners,
        }
        for story in stories
    ]


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
    from crawler.evaluation import BadArticleLine, parse_article_line
    from crawler.filter import RuleEngine
    from crawler.processing import decide

    config = _load(config_path)
    engine = RuleEngine.from_path(config.rules_path())
    bad = 0
    for number, line in enumerate(file, start=1):
        if not line.strip():
            continue
        try:
            item, title, text = parse_article_line(line)
        except BadArticleLine as exc:
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


def _emit(records: list[dict[str, Any]], output_format: str) -> None:
    if output_format == "json":
        click.echo(json.dumps(records, ensure_ascii=False, indent=2))
    elif output_format == "csv":
        click.echo(csv_text(records), nl=False)
    elif records:
        headers = list(records[0])
        echo_table(headers, [[str(r[h]) for h in headers] for r in records])


# The daemon, the digest and the status (issue #4).


def _log_file_option(command: F) -> F:
    return click.option(
        "--log-file",
        type=click.Path(dir_okay=False, writable=True, path_type=Path),
        default=None,
        help="Also append the log to this file (it is never rotated by newswatch).",
    )(command)


def _configure_logging(verbose: int, log_file: Path | None) -> None:
    try:
        configure_logging(verbose, log_file)
    except OSError as exc:
        raise click.BadParameter(
            f"cannot write {log_file}: {exc.strerror}", param_hint="--log-file"
        ) from None


@main.command(context_settings=CONTEXT)
@config_option
@_log_file_option
@verbose_option
@handle_errors
def run(config_path: Path | None, log_file: Path | None, verbose: int) -> None:
    """Run the daemon: crawl and send the digest on schedule, until SIGTERM or Ctrl-C.

    Crawls run one at a time in a child process, under [crawl] max_duration; a crawl or
    digest missed while the daemon was down runs once when it starts. One line per crawl and
    per digest is logged to stderr (and to --log-file).

    \b
    Example:
      newswatch run --config /etc/newswatch/newswatch.toml --log-file /var/log/newswatch.log
    """
    from crawler.daemon import Daemon

    config = _load(config_path)
    _configure_logging(verbose, log_file)
    Daemon(config, child_setup=functools.partial(configure_logging, verbose, log_file)).run()


@main.command(context_settings=CONTEXT)
@config_option
@click.option(
    "--output",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    default=None,
    help="Write the message to FILE instead of sending it: .eml (whole message), .html or .txt "
    "(one part). Nothing is marked sent.",
)
@click.option("--dry-run", is_flag=True, help="Print what would be sent; send and mark nothing.")
@verbose_option
@handle_errors
def digest(config_path: Path | None, output: Path | None, dry_run: bool, verbose: int) -> None:
    """Send the digest of the stories not sent yet, now (to [digest] to, through [smtp]).

    \b
    Example:
      newswatch digest --dry-run
      newswatch digest --output digest.eml
    """
    from crawler.digest import deliver_digest, preview_digest

    config = _load(config_path)
    configure_logging(verbose)
    if output is not None and output.suffix.lower() not in (".eml", ".html", ".htm", ".txt"):
        raise click.BadParameter(
            "the file name must end in .eml, .html or .txt", param_hint="--output"
        )
    if output is not None or dry_run:
        preview = preview_digest(config)
        assert preview.content is not None
        assert preview.message is not None
        content, message = preview.content, preview.message
        if output is not None:
            suffix = output.suffix.lower()
            if suffix == ".eml":
                output.write_bytes(message.as_bytes())
            else:
                output.write_text(content.html if suffix != ".txt" else content.text, "utf-8")
            click.echo(f"Wrote the digest ({content.stories} stories) to {output}; nothing sent")
        if dry_run:
            click.echo(f"From: {message['From']}")
            click.echo(f"To: {message['To'] or '(no [digest] to configured)'}")
            click.echo(f"Subject: {message['Subject']}")
            more = (
                f"; {content.more_pending} more wait for the next one"
                if content.more_pending
                else ""
            )
            click.echo(f"Stories: {content.stories} ({len(content.article_ids)} articles){more}")
            click.echo("")
            click.echo(content.text, nl=False)
        return
    result = deliver_digest(config, kind="manual")
    stories = result.content.stories if result.content is not None else 0
    articles = len(result.content.article_ids) if result.content is not None else 0
    if result.status == "empty":
        click.echo("Nothing new to send ([digest] send_empty is off); nothing sent")
    elif result.status == "sent":
        assert result.delivery is not None
        click.echo(
            f"Digest #{result.digest_id} sent: {stories} stories "
            f"({articles} articles) to {len(result.recipients)} recipients, "
            f"Message-ID {result.delivery.message_id}"
        )
        for recipient, answer in result.delivery.refused.items():
            click.echo(f"  refused: {recipient}: {answer}", err=True)
    else:
        raise NewswatchError(
            f"digest #{result.digest_id} not sent: {result.error}. Its {stories} stories stay "
            "pending for the next digest."
        )


@main.command(context_settings=CONTEXT)
@config_option
@click.option("--limit", type=click.IntRange(min=1), default=5, show_default=True,
              help="How many crawls and digests to show.")  # fmt: skip
@click.option("--format", "output_format", type=click.Choice(["table", "json"]), default="table",
              show_default=True, help="Output format.")  # fmt: skip
@handle_errors
def status(config_path: Path | None, limit: int, output_format: str) -> None:
    """Show the last crawls and digests, what the next digest holds, source health, and
    whether a daemon is running.

    \b
    Example:
      newswatch status
    """
    from storage.locks import daemon_holder
    from storage.repository import Repository

    config = _load(config_path)
    zone = config.schedule.zone
    holder = daemon_holder(config.database.url)
    with Repository(config.database.url) as repository:
        runs = repository.list_runs(limit=limit)
        digests = repository.list_digests(limit=limit)
        pending_stories, pending_articles = repository.count_pending()
        health = repository.source_health([source.name for source in config.sources])

    def local(moment: datetime | None) -> str:
        return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S") if moment else ""

    crawls = [
        {
            "id": run.id,
            "started": local(run.started_at),
            "seconds": round((run.finished_at - run.started_at).total_seconds())
            if run.finished_at
            else None,
            "status": run.status,
            "pages": run.stats.pages_fetched,
            "articles": run.stats.articles_extracted,
            "new_matches": run.stats.new_matches,
            "errors": run.stats.errors,
        }
        for run in runs
    ]
    sent = [
        {
            "id": item.id,
            "time": local(item.created_at),
            "kind": item.kind,
            "status": item.status,
            "stories": item.stories,
            "recipients": len(item.recipients),
            "message_id": item.message_id,
            "error": item.error,
        }
        for item in digests
    ]
    problems = [
        {"source": item.source, "problem": item.problem, "failed_urls": list(item.failed_urls)}
        for item in health
    ]
    if output_format == "json":
        report = {
            "daemon": {"running": holder is not None, "holder": holder},
            "crawls": crawls,
            "digests": sent,
            "pending": {"stories": pending_stories, "articles": pending_articles},
            "source_health": problems,
            "time_zone": config.schedule.timezone,
        }
        click.echo(json.dumps(report, ensure_ascii=False, indent=2))
        return
    click.echo(f"Daemon: running ({holder})" if holder else "Daemon: not running")
    click.echo(f"Database: {config.database.safe_url}; times in {config.schedule.timezone}")
    click.echo("")
    click.echo("Last crawls:")
    echo_table(
        ["#", "started", "duration", "status", "pages", "articles", "new matches", "errors"],
        [
            [
                str(c["id"]),
                str(c["started"]),
                f"{c['seconds']}s" if c["seconds"] is not None else "running",
                str(c["status"]),
                str(c["pages"]),
                str(c["articles"]),
                str(c["new_matches"]),
                str(c["errors"]),
            ]
            for c in crawls
        ],
    )
    click.echo("")
    click.echo("Last digests:")
    echo_table(
        ["#", "time", "status", "stories", "recipients", "detail"],
        [
            [
                str(d["id"]),
                str(d["time"]),
                f"{d['status']} ({d['kind']})",
                str(d["stories"]),
                str(d["recipients"]),
                shorten(str(d["error"] or d["message_id"] or ""), 70),
            ]
            for d in sent
        ],
    )
    click.echo("")
    click.echo(
        f"Pending for the next digest: {pending_stories} stories ({pending_articles} articles)"
    )
    if not problems:
        click.echo("Source health: no problem found")
        return
    click.echo("Source health:")
    for item in health:
        if item.problem == "silent":
            click.echo(f"  {item.source}: no article found in its last {item.crawls} crawls")
        else:
            click.echo(
                f"  {item.source}: {len(item.failed_urls)} failing feed/sitemap/section URLs"
            )
            for url in item.failed_urls[:5]:
                click.echo(f"    {url}")
