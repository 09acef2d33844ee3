"""Near-duplicate grouping: its cost per new article as the database grows, and its threshold.

Speed (default): for each size, a fresh database is filled with that many stored articles
(synthetic news-like texts, with their signatures, stories and band keys), published at a fixed
rate per day up to today, as a crawl would accumulate them. Then new articles are saved through
`Repository.save_prepared`, half of them edited copies of recent stored articles and half new
stories, and the cost of each save and of its story lookup is timed. With the same rate per
day, the window holds as many articles at every size: a flat cost means the lookup never scans.

    python benchmarks/stories_speed.py [--sizes 10000,200000] [--new 200] [--per-day 300]
    python benchmarks/stories_speed.py --postgres postgresql+psycopg://postgres@127.0.0.1/test

Threshold (--pairs): the similarity of the labelled pairs of tests/data/stories_pairs.jsonl
for word n-grams of 1 to 5 words, per kind of pair, and the precision and recall of grouping
at several thresholds, as `storage.stories` decides it (with `storage.minhash`).

    python benchmarks/stories_speed.py --pairs
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import random
import secrets
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # a script, not an installed module

from sqlalchemy import text

from storage import minhash, stories
from storage.db import create_engine_for, parse_database_url
from storage.prepare import prepare_article
from storage.records import ArticleRecord
from storage.repository import Repository
from storage.text import hash_normalized, normalize_text

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from sqlalchemy.engine import Connection

PAIRS = ROOT / "tests" / "data" / "stories_pairs.jsonl"
SOURCES = [f"outlet{n}" for n in range(20)]
FUNCTION_WORDS = [
    *("de", "la", "le", "les", "des", "du", "et", "à", "en", "un", "une", "dans", "pour"),
    *("sur", "par", "avec", "au", "aux", "a", "été", "qui", "que", "est", "ont", "son"),
    *("sa", "ses", "leur", "leurs", "ce", "cette", "plus", "ainsi", "entre", "deux"),
    *("région", "conseil", "coopération"),
]
BATCH = 5_000


# Synthetic corpus


def vocabulary(size: int = 30_000) -> tuple[list[str], list[float]]:
    """Pseudo-words and their cumulated Zipf weights; the commonest are real function words."""
    rng = random.Random(7)
    syllables = [c + v for c in "bcdfghjklmnprstvz" for v in "aeiou"] + ["ou", "an", "in", "on"]
    words = list(FUNCTION_WORDS)
    seen = set(words)
    while len(words) < size:
        word = "".join(rng.choice(syllables) for _ in range(rng.randint(2, 4)))
        if word not in seen:
            seen.add(word)
            words.append(word)
    return words, list(itertools.accumulate(1 / rank for rank in range(1, size + 1)))


WORDS, CUMULATED = vocabulary()


def synthetic_text(seed: int) -> str:
    rng = random.Random(seed)
    words = rng.choices(WORDS, cum_weights=CUMULATED, k=rng.randint(250, 600))
    sentences = [" ".join(words[i : i + 20]).capitalize() + "." for i in range(0, len(words), 20)]
    return "\n".join(" ".join(sentences[i : i + 4]) for i in range(0, len(sentences), 4))


def edited_copy(body: str, seed: int) -> str:
    """A republication: the first sentence rewritten, a paragraph dropped from a long text,
    and "(avec MAP)"."""
    rng = random.Random(seed)
    paragraphs = body.split("\n")
    lead, _, rest = paragraphs[0].partition(". ")
    paragraphs[0] = (
        " ".join(rng.choices(WORDS, cum_weights=CUMULATED, k=len(lead.split()))) + ". " + rest
    )
    if len(paragraphs) > 4:
        del paragraphs[rng.randrange(1, len(paragraphs))]
    return "\n".join([*paragraphs, "(avec MAP)"])


def prepared_rows(first: int, count: int, per_day: int, today: int) -> list[dict[str, Any]]:
    """Row values of stored articles `first` .. `first + count - 1` (run in worker processes)."""
    rows = []
    for number in range(first, first + count):
        body = synthetic_text(number)
        normalized = normalize_text(body)
        packed = minhash.signature(normalized)
        day = today - number // per_day
        rows.append(
            {
                "id": number + 1,
                "text": body,
                "hash": hash_normalized(normalized),
                "minhash": packed,
                "day": day,
                "keys": list(dict.fromkeys(minhash.band_keys(packed))),
            }
        )
    return rows


# Filling a database without the repository (one row at a time would take hours)


def fill(url: str, size: int, per_day: int, workers: int) -> None:
    with Repository(url) as repository:
        repository.ensure_sources(SOURCES)
    engine = create_engine_for(url)
    today = int(time.time()) // 86_400
    started = time.perf_counter()
    try:
        with engine.begin() as connection:
            source_ids = [row.id for row in connection.execute(text("SELECT id FROM sources"))]
        chunks = [(first, min(BATCH, size - first)) for first in range(0, size, BATCH)]
        with ProcessPoolExecutor(workers) as pool:
            futures = [pool.submit(prepared_rows, f, n, per_day, today) for f, n in chunks]
            for future in futures:
                with engine.begin() as connection:
                    insert_batch(connection, future.result(), source_ids)
        if engine.dialect.name == "postgresql":
            with engine.begin() as connection:
                for table in ("stories", "articles"):
                    connection.execute(
                        text(
                            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                            f"(SELECT MAX(id) FROM {table}))"
                        )
                    )
                connection.execute(text("ANALYZE"))
        else:
            with engine.begin() as connection:
                connection.execute(text("ANALYZE"))
    finally:
        engine.dispose()
    print(f"  filled {size} articles in {time.perf_counter() - started:.0f} s", flush=True)


def insert_batch(connection: Connection, rows: list[dict[str, Any]], source_ids: list[int]) -> None:
    stories_rows, articles, bands = [], [], []
    for row in rows:
        when = datetime.fromtimestamp(row["day"] * 86_400 + 36_000, UTC)
        stories_rows.append((row["id"], when))
        articles.append(
            (
                row["id"],
                source_ids[row["id"] % len(source_ids)],
                f"https://outlet.example/{row['id']}",
                f"Article {row['id']}",
                row["text"],
                row["hash"],
                when,
                when,
                "fr",
                0.0,
                False,
                "{}",
                row["id"],
                row["minhash"],
            )
        )
        bands += [(key, row["day"], row["id"]) for key in row["keys"]]
    article_columns = (
        "id, source_id, url, title, text, content_hash, published_at, first_seen_at, language, "
        "score, matched, explanation, story_id, minhash"
    )
    if connection.dialect.name == "postgresql":
        cursor = connection.connection.cursor()
        for statement, values in (
            ("COPY stories (id, created_at) FROM STDIN", stories_rows),
            (f"COPY articles ({article_columns}) FROM STDIN", articles),
            ("COPY story_bands (band_key, day, article_id) FROM STDIN", bands),
        ):
            with cursor.copy(statement) as copy:  # type: ignore[attr-defined]
                for value in values:
                    copy.write_row(value)
        return
    # SQLite keeps timestamps as naive UTC text, in SQLAlchemy's format.
    stamp = "%Y-%m-%d %H:%M:%S.%f"
    naive = [(story, when.strftime(stamp)) for story, when in stories_rows]
    connection.exec_driver_sql("INSERT INTO stories (id, created_at) VALUES (?, ?)", naive)
    articles = [(*a[:6], a[6].strftime(stamp), a[7].strftime(stamp), *a[8:]) for a in articles]
    connection.exec_driver_sql(
        f"INSERT INTO articles ({article_columns}) VALUES ({', '.join('?' * 14)})", articles
    )
    connection.exec_driver_sql("INSERT INTO story_bands VALUES (?, ?, ?)", bands)


# Measuring


class Timer:
    """Wraps a function of `storage.stories` and records how long each call took."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.original: Callable[..., Any] = getattr(stories, name)
        self.seconds: list[float] = []
        setattr(stories, name, self)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return self.original(*args, **kwargs)
        finally:
            self.seconds.append(time.perf_counter() - started)

    def restore(self) -> None:
        setattr(stories, self.name, self.original)


def new_records(size: int, count: int, per_day: int) -> Iterator[tuple[bool, int, ArticleRecord]]:
    """(is a copy, stored id or 0, record): copies of articles of the last three days, and news."""
    rng = random.Random(size)
    now = datetime.now(UTC)
    for n in range(count):
        copy = n % 2 == 0
        original = rng.randrange(0, min(size, 3 * per_day)) if copy else 0
        body = (
            edited_copy(synthetic_text(original), n)
            if copy
            else synthetic_text(10_000_000 + size + n)
        )
        yield (
            copy,
            original + 1,
            ArticleRecord(
                source=SOURCES[n % len(SOURCES)],
                url=f"https://new.example/{size}/{n}",
                fetched_url=f"https://new.example/{size}/{n}",
                title=f"New {n}",
                text=body,
                published_at=now,
                author=None,
                language="fr",
                score=0.0,
                matched=False,
                explanation={},
            ),
        )


def measure(url: str, size: int, count: int, per_day: int) -> dict[str, float]:
    prepared = [
        (copy, original, prepare_article(r))
        for copy, original, r in new_records(size, count, per_day)
    ]
    save_times: list[float] = []
    lookup = Timer("find_story")
    joined = 0
    try:
        with Repository(url) as repository:
            for copy, original, article in prepared:
                started = time.perf_counter()
                outcome = repository.save_prepared(article)
                save_times.append(time.perf_counter() - started)
                joined += copy and outcome.story_id == original  # stored article n has story n
    finally:
        lookup.restore()
    warm = slice(10, None)  # the first saves compile statements and fill caches
    return {
        "save_median": statistics.median(save_times[warm]) * 1000,
        "save_p95": statistics.quantiles(save_times[warm], n=20)[-1] * 1000,
        "lookup_median": statistics.median(lookup.seconds[warm]) * 1000,
        "lookup_p95": statistics.quantiles(lookup.seconds[warm], n=20)[-1] * 1000,
        "copies_joined": joined / (count // 2 + count % 2),
    }


def run_speed(args: argparse.Namespace) -> None:
    sizes = [int(size) for size in args.sizes.split(",")]
    backend = "PostgreSQL" if args.postgres else "SQLite"
    print(
        f"{backend}: {args.per_day} stored articles per day, window ±{stories.DEFAULT_WINDOW_DAYS} "
        f"days; {args.new} new articles per size (half edited copies of recent ones)"
    )
    results = {}
    for size in sizes:
        with database(args.postgres) as url:
            print(f"{size} stored articles:", flush=True)
            fill(url, size, args.per_day, args.workers)
            results[size] = measure(url, size, args.new, args.per_day)
    print()
    print("stored     save median  save p95  lookup median  lookup p95  copies joined")
    for size, r in results.items():
        print(
            f"{size:>7}  {r['save_median']:9.2f} ms {r['save_p95']:6.2f} ms "
            f"{r['lookup_median']:10.2f} ms {r['lookup_p95']:8.2f} ms {r['copies_joined']:10.0%}"
        )


@contextlib.contextmanager
def database(postgres: str | None) -> Iterator[str]:
    """A fresh SQLite file, or a fresh schema in the PostgreSQL database at `postgres`."""
    if not postgres:
        with tempfile.TemporaryDirectory() as directory:
            yield f"sqlite:///{directory}/bench.db"
        return
    schema = f"nw_bench_{secrets.token_hex(4)}"
    admin = create_engine_for(postgres)
    try:
        with admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        parsed = parse_database_url(postgres)
        url = parsed.update_query_dict({"options": f"-csearch_path={schema}"})
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


# Threshold


def ngrams(body: str, size: int) -> set[str]:
    words = normalize_text(body).split()
    return {" ".join(words[i : i + size]) for i in range(max(1, len(words) - size + 1))}


def run_pairs() -> None:
    pairs = [json.loads(line) for line in PAIRS.read_text(encoding="utf-8").splitlines()]
    print(f"{len(pairs)} pairs of {PAIRS.relative_to(ROOT)}")
    for size in range(1, 6):
        kinds: dict[tuple[str, str], list[float]] = defaultdict(list)
        for pair in pairs:
            one, other = ngrams(pair["a"]["text"], size), ngrams(pair["b"]["text"], size)
            kinds[pair["label"], pair["kind"]].append(minhash.similarity(one, other))
        copies = min(min(v) for (label, _), v in kinds.items() if label == "same")
        distinct = max(max(v) for (label, _), v in kinds.items() if label == "different")
        print(f"\nword {size}-grams: lowest copy {copies:.3f}, highest distinct {distinct:.3f}")
        for (label, kind), values in sorted(kinds.items()):
            print(
                f"  {label:9} {kind:18} n={len(values):3}  {min(values):.3f} .. {max(values):.3f}"
            )
    print(
        f"\ngrouping as storage.stories decides it (bigrams, {minhash.BANDS}x{minhash.ROWS} bands):"
    )
    print("threshold  precision  recall  false groupings  copies missed")
    decisions = []
    for pair in pairs:
        first, second = normalize_text(pair["a"]["text"]), normalize_text(pair["b"]["text"])
        sig_one, sig_two = minhash.signature(first), minhash.signature(second)
        candidate = bool(set(minhash.band_keys(sig_one)) & set(minhash.band_keys(sig_two)))
        candidate = candidate and minhash.estimate(sig_one, sig_two) >= minhash.PREFILTER
        score = minhash.similarity(minhash.shingles(first), minhash.shingles(second))
        decisions.append((pair["label"] == "same", candidate, score))
    for threshold in (0.30, 0.35, 0.40, 0.45, 0.50, 0.55, 0.60):
        together = [(same, cand and score >= threshold) for same, cand, score in decisions]
        true = sum(1 for same, t in together if same and t)
        false = sum(1 for same, t in together if t and not same)
        missed = sum(1 for same, t in together if same and not t)
        precision = true / (true + false) if true + false else 1.0
        recall = true / (true + missed)
        mark = "  <- storage.minhash.THRESHOLD" if threshold == minhash.THRESHOLD else ""
        print(
            f"  {threshold:.2f}     {precision:7.3f}  {recall:6.3f}  {false:15}  {missed:13}{mark}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pairs", action="store_true", help="measure the threshold instead")
    parser.add_argument("--sizes", default="10000,200000", help="stored articles, comma-separated")
    parser.add_argument("--new", type=int, default=200, help="new articles saved per size")
    parser.add_argument("--per-day", type=int, default=300, help="stored articles per day")
    parser.add_argument("--workers", type=int, default=4, help="processes preparing the fill")
    parser.add_argument("--postgres", help="a PostgreSQL URL (a schema is created and dropped)")
    args = parser.parse_args()
    if args.pairs:
        run_pairs()
    else:
        run_speed(args)


if __name__ == "__main__":
    main()
