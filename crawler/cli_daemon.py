"""`newswatch run` (the daemon), `newswatch digest` (send or preview the digest now) and
`newswatch status` (last crawls and digests, what is pending, source health). They parse and
print; the work is in `crawler.daemon`, `crawler.digest` and `storage`.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import TYPE_CHECKING

import click

from crawler.cli_options import (
    CONTEXT,
    F,
    config_option,
    echo_table,
    handle_errors,
    shorten,
    verbose_option,
)
from crawler.config import load_config
from crawler.errors import NewswatchError
from crawler.logs import configure_logging

if TYPE_CHECKING:
    from datetime import datetime


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


@click.command(context_settings=CONTEXT)
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

    config = load_config(config_path)
    _configure_logging(verbose, log_file)
    Daemon(config, child_setup=functools.partial(configure_logging, verbose, log_file)).run()


@click.command(context_settings=CONTEXT)
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

    config = load_config(config_path)
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


@click.command(context_settings=CONTEXT)
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

    config = load_config(config_path)
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
