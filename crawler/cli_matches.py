"""`newswatch matches`: the stored matches, one row per article or per story. It parses and
prints; the queries are in `storage.matches` and `storage.stories`.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import click

from crawler.cli_options import (
    CONTEXT,
    config_option,
    csv_text,
    echo_table,
    format_option,
    handle_errors,
    shorten,
    since_option,
)
from crawler.config import load_config

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    from storage.records import MatchView, StoryView


@click.command(context_settings=CONTEXT)
@config_option
@since_option("Only matches first seen or published on or after this date (YYYY-MM-DD).")
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
    config = load_config(config_path)
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
