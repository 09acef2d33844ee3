"""`newswatch refilter`: the current rules applied again to the stored articles. It parses and
prints; the work is in `crawler.refilter`.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import click

from crawler.cli_options import (
    CONTEXT,
    config_option,
    echo_table,
    format_choice,
    handle_errors,
    shorten,
    since_option,
)
from crawler.config import load_config

if TYPE_CHECKING:
    from pathlib import Path

    from crawler.refilter import RefilterSummary
    from storage.records import RefilterChange


@click.command(context_settings=CONTEXT)
@config_option
@since_option("Only articles first seen on or after this date (YYYY-MM-DD). Default: all.")
@click.option("--dry-run", is_flag=True, help="List what would change; write nothing.")
@format_choice("table", "json")
@handle_errors
def refilter(
    config_path: Path | None, since: datetime | None, dry_run: bool, output_format: str
) -> None:
    """Apply the current rules to the stored articles again, after a change of rules.

    Articles that now match wait for the next digest. A match no longer kept is removed, unless
    a digest already sent it: it then stays as history, and listings skip it. Holds the crawl
    lock: it refuses to run (exit 1) while a crawl works on the database.

    \b
    Example:
      newswatch refilter --since 2026-11-01 --dry-run
    """
    from crawler.refilter import refilter as run_refilter

    config = load_config(config_path)
    progress = _progress if sys.stderr.isatty() and output_format == "table" else None
    summary = run_refilter(
        config,
        since=since.replace(tzinfo=UTC) if since else None,
        dry_run=dry_run,
        progress=progress,
    )
    if progress is not None:
        click.echo("", err=True)
    if output_format == "json":
        click.echo(json.dumps(_summary_record(summary), ensure_ascii=False, indent=2))
        return
    would = "would be " if summary.dry_run else ""
    click.echo(
        f"{'Dry run, nothing written: ' if summary.dry_run else ''}"
        f"{summary.examined} articles refiltered in {summary.seconds:.1f}s with "
        f"{summary.rules} (digest {summary.rules_digest})"
    )
    kept = sum(change.sent for change in summary.no_longer_matched)
    click.echo(
        f"  {len(summary.newly_matched)} {would}newly matched (pending for the next digest), "
        f"{len(summary.no_longer_matched)} {would}no longer matched ({kept} already sent, kept "
        f"as history), {summary.score_changed} score changed, {summary.unchanged} unchanged"
    )
    if summary.newly_matched:
        click.echo("Newly matched:")
        _echo_changes("tier", [(c, c.tier or "-") for c in summary.newly_matched])
    if summary.no_longer_matched:
        click.echo("No longer matched:")
        _echo_changes("sent", [(c, "yes" if c.sent else "no") for c in summary.no_longer_matched])


def _echo_changes(label: str, changes: list[tuple[RefilterChange, str]]) -> None:
    echo_table(
        ["id", "score", label, "title", "url"],
        [
            [
                str(change.article_id),
                f"{change.old_score:g} → {change.new_score:g}",
                note,
                shorten(change.title, 60),
                change.url,
            ]
            for change, note in changes
        ],
    )


def _progress(examined: int) -> None:
    click.echo(f"\r{examined} articles examined…", err=True, nl=False)


def _summary_record(summary: RefilterSummary) -> dict[str, Any]:
    def change_record(change: RefilterChange) -> dict[str, Any]:
        return {
            "id": change.article_id,
            "url": change.url,
            "title": change.title,
            "old_score": change.old_score,
            "score": change.new_score,
            "tier": change.tier,
            "sent": change.sent,
        }

    return {
        "dry_run": summary.dry_run,
        "rules": summary.rules,
        "rules_digest": summary.rules_digest,
        "examined": summary.examined,
        "newly_matched": len(summary.newly_matched),
        "no_longer_matched": len(summary.no_longer_matched),
        "score_changed": summary.score_changed,
        "unchanged": summary.unchanged,
        "seconds": round(summary.seconds, 3),
        "newly_matched_articles": [change_record(c) for c in summary.newly_matched],
        "no_longer_matched_articles": [change_record(c) for c in summary.no_longer_matched],
    }
