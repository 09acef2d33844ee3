"""Tests of storage.minhash and storage.stories: signatures, the labelled pairs, grouping through
the repository (SQLite and PostgreSQL), listing, the 0002 migration, and concurrent saves.

The pairs of tests/data/stories_pairs.jsonl were written for newswatch: republished copies
with typical edits (label "same") and distinct stories that look alike ("different").
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from alembic import command
from click.testing import CliRunner
from sqlalchemy import event, func, select, text
from sqlalchemy.orm import Session

from crawler.cli import main
from storage import minhash, stories
from storage.db import alembic_config, create_engine_for, writer
from storage.models import Article, ArticleUrl, Match, Story
from storage.prepare import prepare_article
from storage.records import ArticleRecord, SaveOutcome, SaveStatus
from storage.repository import Repository
from storage.text import content_hash, normalize_text
from tests.dbfixtures import article_record

if TYPE_CHECKING:
    from collections.abc import Iterator

PAIRS_FILE = Path(__file__).parent / "data" / "stories_pairs.jsonl"
PAIRS = [json.loads(line) for line in PAIRS_FILE.read_text(encoding="utf-8").splitlines()]
PAIRS_BY_ID = {pair["id"]: pair for pair in PAIRS}
# The edits of the issue, each of which must group on its own.
SINGLE_EDITS = {"avec_map", "lead_reworded", "paragraph_dropped", "boilerplate", "minor_rewrite"}

DAY = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def grouped(one: str, other: str) -> bool:
    """The decision a lookup makes for two texts: a shared band, then the two checks."""
    first, second = normalize_text(one), normalize_text(other)
    sig_one, sig_two = minhash.signature(first), minhash.signature(second)
    return (
        bool(set(minhash.band_keys(sig_one)) & set(minhash.band_keys(sig_two)))
        and minhash.estimate(sig_one, sig_two) >= minhash.PREFILTER
        and minhash.similarity(minhash.shingles(first), minhash.shingles(second))
        >= minhash.THRESHOLD
    )


# record(url, body): a matched lematin article of DAY; keywords replace any field.
record = partial(
    article_record,
    published_at=DAY,
    score=6.0,
    explanation={"score": 6.0, "groups": {"agreement": ["jumelage"]}},
)


def pair_texts(pair_id: str) -> tuple[str, str]:
    pair = PAIRS_BY_ID[pair_id]
    return pair["a"]["text"], pair["b"]["text"]


ORIGINAL, COPY = pair_texts("fr-essaouira-saint-malo/lead_reworded")
OTHER_STORY = PAIRS_BY_ID["fr-rabat-bruxelles/avec_map"]["a"]["text"]


@pytest.fixture
def repo(db_url: str) -> Iterator[Repository]:
    with Repository(db_url) as repository:
        yield repository


# Signatures


def test_signature_is_deterministic_and_of_fixed_size():
    normalized = normalize_text(ORIGINAL)
    assert minhash.signature(normalized) == minhash.signature(normalized)
    assert len(minhash.signature(normalized)) == minhash.SLOTS * 4
    assert minhash.signature(normalized) != minhash.signature(normalize_text(OTHER_STORY))


# The digest of the signatures and band keys of every text of the labelled pairs and of three
# short texts, as newswatch has stored them since signatures were introduced (0002_stories).
STORED_SIGNATURES = "f59e9a4df069a6d5b3648277c38283becc3356fd96d7b0e133acdb2f185953bd"


def test_signatures_and_band_keys_are_those_already_stored():
    """Signatures and band keys are stored: a change in how they are computed, even a faster
    one, must give the same bytes, or new articles no longer find their stored copies."""
    digest = hashlib.sha256()
    for pair in PAIRS:
        for side in ("a", "b"):
            packed = minhash.signature(normalize_text(pair[side]["text"]))
            digest.update(packed)
            keys = minhash.band_keys(packed)
            digest.update(b"".join(key.to_bytes(8, "little", signed=True) for key in keys))
    for body in ["Rabat", "Rabat Maryland", "un deux trois quatre cinq"]:
        digest.update(minhash.signature(normalize_text(body)))
    assert digest.hexdigest() == STORED_SIGNATURES


# The digest of the content hashes of every text of the labelled pairs, as stored since 0001.
STORED_CONTENT_HASHES = "d23e58b998e1d3feb6eb005d0738576d81a0770f6809eaf0ff4174fd65f61e7a"


def test_content_hashes_are_those_already_stored():
    """Exact duplicates are found by the stored hash of the normalised text: the same rule."""
    digest = hashlib.sha256()
    for pair in PAIRS:
        for side in ("a", "b"):
            digest.update(content_hash(pair[side]["text"]).encode())
    assert digest.hexdigest() == STORED_CONTENT_HASHES


@pytest.mark.parametrize("body", ["Rabat", "Rabat Maryland", "un deux trois quatre cinq"])
def test_short_texts_have_a_signature_equal_to_itself(body):
    packed = minhash.signature(normalize_text(body))
    assert minhash.estimate(packed, packed) == 1.0
    assert len(minhash.band_keys(packed)) == minhash.BANDS


def test_text_without_words_has_no_signature():
    with pytest.raises(ValueError, match="without words"):
        minhash.signature("")


def test_band_keys_fit_a_signed_bigint_and_differ_between_bands():
    keys = minhash.band_keys(minhash.signature(normalize_text(ORIGINAL)))
    assert len(set(keys)) == minhash.BANDS
    assert all(-(2**63) <= key < 2**63 for key in keys)


def test_shingles_are_word_bigrams_of_the_normalised_text():
    assert minhash.shingles("la region de fes") == {"la region", "region de", "de fes"}
    assert minhash.shingles("rabat") == {"rabat"}
    assert minhash.shingles("") == set()


def test_estimate_follows_the_exact_similarity():
    for pair_id in ("fr-essaouira-saint-malo/lead_reworded", "fr-fes-florence/combined"):
        one, other = (normalize_text(body) for body in pair_texts(pair_id))
        exact = minhash.similarity(minhash.shingles(one), minhash.shingles(other))
        estimated = minhash.estimate(minhash.signature(one), minhash.signature(other))
        assert abs(exact - estimated) < 0.15, pair_id


def test_article_day_uses_publication_then_first_seen_time():
    first_seen = datetime(2026, 3, 5, 23, 30, tzinfo=UTC)
    assert stories.article_day(None, first_seen) == stories.article_day(first_seen, DAY)
    late_evening = datetime(2026, 3, 1, 23, 30, tzinfo=UTC)
    assert stories.article_day(late_evening, first_seen) + 1 == stories.article_day(DAY, DAY)


# The labelled pairs


def test_pairs_file_covers_the_issue():
    kinds = Counter((pair["label"], pair["kind"]) for pair in PAIRS)
    for edit in SINGLE_EDITS | {"combined"}:
        assert kinds["same", edit] >= 4, edit
    for kind in ("same_event", "same_topic", "shared_explainer", "shared_closing", "follow_up"):
        assert kinds["different", kind] >= 2, kind
    assert {pair["lang"] for pair in PAIRS} == {"fr", "ar", "en"}


@pytest.mark.parametrize("pair", PAIRS, ids=[pair["id"] for pair in PAIRS])
def test_pair_is_grouped_as_labelled(pair):
    assert grouped(pair["a"]["text"], pair["b"]["text"]) is (pair["label"] == "same")


def test_precision_and_recall_on_the_pairs():
    decisions = [
        (pair["label"] == "same", grouped(pair["a"]["text"], pair["b"]["text"])) for pair in PAIRS
    ]
    false_groupings = sum(1 for same, together in decisions if together and not same)
    copies = [together for same, together in decisions if same]
    assert false_groupings == 0
    assert sum(copies) / len(copies) >= 0.95


def test_is_near_duplicate_applies_the_threshold():
    assert minhash.is_near_duplicate(ORIGINAL, COPY)
    assert not minhash.is_near_duplicate(ORIGINAL, OTHER_STORY)


# Grouping through the repository


def test_near_duplicate_on_another_outlet_joins_the_story(repo):
    first = repo.save_article(record("https://lematin.ma/essaouira-saint-malo", ORIGINAL))
    copy = repo.save_article(
        record("https://leseco.ma/jumelage-essaouira", COPY, source="leseco", matched=False)
    )
    other = repo.save_article(record("https://lematin.ma/rabat-bruxelles", OTHER_STORY))
    assert first.status is copy.status is other.status is SaveStatus.NEW
    assert first.story_id is not None
    assert copy.story_id == first.story_id
    assert other.story_id not in (None, first.story_id)
    assert copy.article_id != first.article_id  # a near-duplicate is an article of its own


def test_exact_duplicate_keeps_the_story_of_its_article(repo):
    first = repo.save_article(record("https://lematin.ma/essaouira-saint-malo", ORIGINAL))
    same = repo.save_article(record("https://le360.ma/essaouira", ORIGINAL, source="le360"))
    again = repo.save_article(record("https://lematin.ma/essaouira-saint-malo", ORIGINAL))
    assert same.status is SaveStatus.DUPLICATE_CONTENT
    assert again.status is SaveStatus.DUPLICATE_URL
    assert first.story_id == same.story_id == again.story_id


def test_copies_saved_in_one_batch_share_their_story(repo):
    """A crawl saves several articles per transaction: a copy finds the original before it."""
    first, copy, same, other = repo.save_batch(
        [
            prepare_article(record("https://lematin.ma/essaouira-saint-malo", ORIGINAL)),
            prepare_article(record("https://leseco.ma/jumelage-essaouira", COPY, source="leseco")),
            prepare_article(record("https://le360.ma/essaouira", ORIGINAL, source="le360")),
            prepare_article(record("https://lematin.ma/rabat-bruxelles", OTHER_STORY)),
        ]
    )
    assert isinstance(first, SaveOutcome)
    assert isinstance(copy, SaveOutcome)
    assert isinstance(same, SaveOutcome)
    assert isinstance(other, SaveOutcome)
    assert first.status is copy.status is other.status is SaveStatus.NEW
    assert same.status is SaveStatus.DUPLICATE_CONTENT
    assert first.story_id == copy.story_id == same.story_id
    assert other.story_id not in (None, first.story_id)


@pytest.mark.parametrize(("days", "together"), [(7, True), (-7, True), (8, False), (-8, False)])
def test_copies_group_within_the_time_window_only(repo, days, together):
    first = repo.save_article(record("https://lematin.ma/a", ORIGINAL))
    later = DAY + timedelta(days=days)
    copy = repo.save_article(record("https://leseco.ma/b", COPY, published_at=later))
    assert (copy.story_id == first.story_id) is together


def test_the_window_is_a_repository_setting(db_url):
    with Repository(db_url, story_window_days=0) as repo:
        first = repo.save_article(record("https://lematin.ma/a", ORIGINAL))
        next_day = repo.save_article(
            record("https://leseco.ma/b", COPY, published_at=DAY + timedelta(days=1))
        )
        same_day = repo.save_article(
            record("https://le360.ma/c", COPY + "\n(avec MAP)", published_at=DAY)
        )
    assert next_day.story_id != first.story_id
    assert same_day.story_id == first.story_id
    with pytest.raises(ValueError, match="story_window_days"):
        Repository(db_url, story_window_days=-1)


def test_undated_articles_use_their_first_seen_day(repo):
    first = repo.save_article(record("https://lematin.ma/a", ORIGINAL, published_at=None))
    copy = repo.save_article(record("https://leseco.ma/b", COPY, published_at=None))
    assert copy.story_id == first.story_id


# Pairs chosen so that no text appears twice: each is saved in a slot of its own, 30 days
# from the others, so that the window keeps them apart in one database.
REPOSITORY_PAIRS = [
    "fr-rsk-maryland/avec_map",
    "fr-marrakech-safi-occitanie/lead_reworded",
    "fr-essaouira-saint-malo/paragraph_dropped",
    "fr-virginie-casablanca/boilerplate",
    "fr-fes-florence/combined",
    "ar-tanger-andalousie/lead_reworded",
    "en-oregon-agadir/paragraph_dropped",
    "fr-casablanca-ile-de-france/other_outlet_rewrite",
    "fr-oriental-commerce-exterieur/template/fr-souss-massa-commerce-exterieur",
    "fr-guelmim-murcie/shared_explainer/fr-beni-mellal-toscane",
    "fr-souss-massa-budget/shared_closing/fr-souss-massa-quebec",
    "fr-draa-tafilalet-region-sud/follow_up",
    "en-casablanca-chicago/other_outlet_rewrite",
]


def test_labelled_pairs_group_through_the_repository(repo):
    texts = [body for pair_id in REPOSITORY_PAIRS for body in pair_texts(pair_id)]
    assert len(set(texts)) == len(texts)
    for slot, pair_id in enumerate(REPOSITORY_PAIRS):
        pair = PAIRS_BY_ID[pair_id]
        when = DAY + timedelta(days=30 * slot)
        one = repo.save_article(
            record(f"https://a.example/{slot}", pair["a"]["text"], published_at=when)
        )
        other = repo.save_article(
            record(
                f"https://b.example/{slot}",
                pair["b"]["text"],
                source="other",
                published_at=when + timedelta(hours=5),
            )
        )
        assert other.status is SaveStatus.NEW, pair_id
        assert (one.story_id == other.story_id) is (pair["label"] == "same"), pair_id


def test_lookup_searches_the_band_index_not_the_table(sqlite_url):
    """The candidate query, as a lookup runs it, uses the (band_key, day) index: never a scan."""
    with Repository(sqlite_url) as repo:
        repo.save_article(record("https://lematin.ma/a", ORIGINAL))
    engine = create_engine_for(sqlite_url)
    seen: list[tuple[str, object]] = []

    def capture(_conn, _cursor, statement, parameters, _context, _many):
        if "story_bands" in statement:
            seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", capture)
    try:
        packed = minhash.signature(normalize_text(COPY))
        with Session(engine) as session:
            day = stories.article_day(DAY, DAY)
            keys = minhash.band_keys(packed)
            assert stories.find_story(session, keys, packed, COPY, day, 7) is not None
        [(statement, parameters)] = seen
        with engine.connect() as connection:
            plan = " | ".join(
                str(row[-1])
                for row in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
            )
    finally:
        engine.dispose()
    assert "SEARCH story_bands USING" in plan, plan
    assert "SCAN story_bands" not in plan, plan
    assert "SCAN articles" not in plan, plan


# Listing


def save_three_outlets(repo: Repository) -> tuple[int, list[str]]:
    """The Essaouira story on three outlets (one unmatched), plus an identical copy as alias."""
    urls = [
        "https://lematin.ma/essaouira-saint-malo",
        "https://leseco.ma/jumelage-essaouira",
        "https://le360.ma/essaouira-jumelle",
        "https://www.mapexpress.ma/essaouira",
    ]
    first = repo.save_article(record(urls[0], ORIGINAL, published_at=DAY))
    repo.save_article(record(urls[1], COPY, source="leseco", published_at=DAY + timedelta(hours=2)))
    repo.save_article(
        record(
            urls[2],
            COPY + "\n(avec MAP)",
            source="le360",
            matched=False,
            published_at=DAY + timedelta(hours=4),
        )
    )
    repo.save_article(record(urls[3], ORIGINAL, source="mapexpress"))  # same text: an alias
    repo.save_article(record("https://lematin.ma/rabat", OTHER_STORY, published_at=DAY))
    assert first.story_id is not None
    return first.story_id, urls


def test_list_stories_gives_one_row_per_story_with_its_outlets(repo):
    story_id, urls = save_three_outlets(repo)
    listed = repo.list_stories()
    assert len(listed) == 2
    [story] = [s for s in listed if s.story_id == story_id]
    assert story.url == urls[0]  # the first article
    assert story.source == "lematin"
    assert story.matched == {"agreement": ["jumelage"]}
    assert story.published == DAY
    # Newest first: the unmatched le360 copy is still a copy; the alias was found last.
    assert story.copies == [
        (urls[3], "mapexpress"),
        (urls[2], "le360"),
        (urls[1], "leseco"),
    ]
    assert story.also_in == [urls[3], urls[2], urls[1]]
    assert story.outlets == ["lematin", "mapexpress", "le360", "leseco"]


def test_list_stories_filters_and_orders(repo):
    story_id, _ = save_three_outlets(repo)
    later = repo.save_article(
        record(
            "https://lematin.ma/later",
            PAIRS_BY_ID["fr-fes-florence/avec_map"]["a"]["text"],
            published_at=DAY + timedelta(days=3),
        )
    )
    unmatched = repo.save_article(
        record(
            "https://lematin.ma/unmatched",
            PAIRS_BY_ID["en-oregon-agadir/avec_map"]["a"]["text"],
            matched=False,
        )
    )
    listed = repo.list_stories()
    assert listed[0].story_id == later.story_id
    assert unmatched.story_id not in {s.story_id for s in listed}
    everything = repo.list_stories(matched_only=False)
    assert unmatched.story_id in {s.story_id for s in everything}
    assert [s.story_id for s in repo.list_stories(since=DAY + timedelta(days=1))] == [
        later.story_id
    ]
    assert len(repo.list_stories(limit=1)) == 1
    # A story counts when any of its articles is recent enough, not only its first one.
    since_copy = repo.list_stories(since=DAY + timedelta(hours=1))
    assert story_id in {s.story_id for s in since_copy}


def test_list_stories_on_an_empty_database(repo):
    assert repo.list_stories() == []


def test_list_matches_carries_story_and_other_copies(repo):
    story_id, urls = save_three_outlets(repo)
    rows = {row.url: row for row in repo.list_matches()}
    assert rows[urls[0]].story == rows[urls[1]].story == story_id
    assert rows[urls[0]].also_in == [urls[3], urls[2], urls[1]]
    assert rows[urls[1]].also_in == [urls[3], urls[2], urls[0]]
    assert rows["https://lematin.ma/rabat"].also_in == []


def test_same_outlet_alias_is_not_another_copy(repo):
    canonical = "https://lematin.ma/regions/essaouira/214531"
    first = repo.save_article(
        record(canonical, ORIGINAL, fetched_url="https://lematin.ma/economie/essaouira/214531")
    )
    [story] = repo.list_stories()
    assert story.story_id == first.story_id
    assert story.copies == []


# The command line


def test_matches_by_story_on_the_command_line(db_url, tmp_path, monkeypatch):
    with Repository(db_url) as repo:
        story_id, urls = save_three_outlets(repo)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("NEWSWATCH_CONFIG", raising=False)
    monkeypatch.setenv("NEWSWATCH_DATABASE_URL", db_url)
    runner = CliRunner()
    result = runner.invoke(main, ["matches", "--by", "story", "--format", "json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    [row] = [r for r in rows if r["story"] == story_id]
    assert row["url"] == urls[0]
    assert row["also_in"] == [urls[3], urls[2], urls[1]]
    assert row["outlets"] == ["lematin", "mapexpress", "le360", "leseco"]
    table = runner.invoke(main, ["matches", "--by", "story"])
    assert "lematin, mapexpress, le360, leseco" in table.stdout
    csv_out = runner.invoke(main, ["matches", "--by", "story", "--format", "csv"]).stdout
    assert csv_out.splitlines()[0].startswith("story,url,title,source,outlets")
    by_article = json.loads(runner.invoke(main, ["matches", "--format", "json"]).stdout)
    assert {r["url"]: r["story"] for r in by_article}[urls[1]] == story_id
    assert all(set(r) >= {"story", "also_in"} for r in by_article)


# The migration


def test_migration_gives_existing_articles_a_story_each(db_url):
    engine = create_engine_for(db_url)
    try:
        with writer(engine).begin() as connection:
            command.upgrade(alembic_config(connection), "0001")
            connection.execute(
                text("INSERT INTO sources (name, created_at) VALUES ('lematin', :now)"),
                {"now": DAY},
            )
            for number, body in enumerate([ORIGINAL, OTHER_STORY], start=1):
                connection.execute(
                    text(
                        "INSERT INTO articles (source_id, url, title, text, content_hash, "
                        "first_seen_at, score, matched, explanation) SELECT id, :url, 't', "
                        ":text, :hash, :now, 1.0, :matched, '{}' FROM sources"
                    ),
                    {
                        "url": f"https://lematin.ma/{number}",
                        "text": body,
                        "hash": str(number),
                        "now": DAY,
                        "matched": True,
                    },
                )
            ids = dict(connection.execute(text("SELECT url, id FROM articles")).all())
            command.upgrade(alembic_config(connection), "head")
    finally:
        engine.dispose()
    with Repository(db_url) as repo:
        # Each old article is a story of its own, numbered like the article.
        assert {s.url: s.story_id for s in repo.list_stories(matched_only=False)} == ids
        # Old articles have no signature: a later copy starts a story of its own, and new
        # story ids follow the old ones.
        copy = repo.save_article(record("https://leseco.ma/copy", COPY, source="leseco"))
        assert copy.story_id is not None
        assert copy.story_id > max(ids.values())


def test_downgrade_keeps_articles_matches_and_aliases(db_url):
    with Repository(db_url) as repo:
        save_three_outlets(repo)
    engine = create_engine_for(db_url)
    try:
        with writer(engine).begin() as connection:
            counts = [
                connection.scalar(select(func.count()).select_from(model))
                for model in (Article, Match, ArticleUrl)
            ]
            command.downgrade(alembic_config(connection), "0001")
            after = [
                connection.scalar(text(f"SELECT count(*) FROM {table}"))
                for table in ("articles", "matches", "article_urls")
            ]
            assert after == counts
            command.upgrade(alembic_config(connection), "head")
            assert connection.scalar(select(func.count()).select_from(Story)) == counts[0]
    finally:
        engine.dispose()


# Concurrent saves


def _save_concurrently(db_url: str, records: list[ArticleRecord]) -> list[int | None]:
    repos = [Repository(db_url) for _ in records]
    for repo in repos:
        repo.ensure_sources(r.source for r in records)
    start = threading.Barrier(len(records))

    def save(index: int) -> int | None:
        start.wait(timeout=60)
        return repos[index].save_article(records[index]).story_id

    try:
        with ThreadPoolExecutor(max_workers=len(records)) as pool:
            return list(pool.map(save, range(len(records))))
    finally:
        for repo in repos:
            repo.close()


@pytest.mark.parametrize("round_number", range(5))
def test_concurrent_near_duplicates_make_one_story(db_url, round_number):
    bodies = [
        ORIGINAL,
        COPY,
        COPY + "\n(avec MAP)",
        ORIGINAL.replace("samedi", "ce samedi", 1),
    ]
    records = [
        record(f"https://outlet{n}.example/{round_number}", body, source=f"outlet{n}")
        for n, body in enumerate(bodies)
    ]
    story_ids = _save_concurrently(db_url, records)
    assert len(set(story_ids)) == 1, story_ids
    assert None not in story_ids
