"""Crawl speed against a local site, as a ratio to plain trafilatura extraction.

Serves the test news site with N synthetic article pages (`--pages`, default 500) on 127.0.0.1,
runs the real `newswatch crawl` on it with politeness relaxed for localhost (no AutoThrottle, no
delay), and in the same run times plain `trafilatura.extract` over the same pages in one process.
The site renders its pages once, before the crawl starts, and serves them as cached bytes: like a
remote site, it then takes next to no CPU from the crawl's cores.
Prints pages per second and the ratio crawl time / extraction time (lower is better; below 1.0
means the crawl, with fetching, filtering and storage, beats one process doing extraction alone).

On Linux it also prints the CPU time of all the crawl's processes (the crawl, its forkserver and
extraction workers, adopted by this script as their "subreaper" so that their times are counted)
against the extraction's: a steadier figure than wall time on a shared machine, and the one that
says how much work the crawl adds to extraction. The wall ratio is about the CPU ratio divided by
the cores the crawl keeps busy (at most 2 on a 2-core machine, less when they share).

The pages (`--layout news`, the default) have the weight of a real news site's article page:
about 130 KB and 1,200 elements of menus, scripts, widgets, related posts and comments around
5 KB of text (tests/site/news_layout.py; the news pages of trafilatura's own test cache weigh
36-380 KB). `--layout lean` puts the same article in an 11 KB page with almost nothing around
it: extraction is then about 4 times cheaper while what the crawl adds per page (a request, a
hand-off to a worker, a row) is not, so that ratio shows the crawl's own overhead at its most
visible, not what a crawl of real sites spends.

`--mix paragraphs` builds the pages from whole shared paragraphs instead of sentences: the
adversarial case for near-duplicate grouping (see tests/site/bulk.py).

    python benchmarks/crawl_local.py [--pages 500] [--workers 0] [--layout news] [--mix distinct]
                                     [--repeat 1] [--keep]

It also splits the crawl's time in two, from the articles' `first_seen_at` (the moment a worker
finished each one): the start-up, until the first article is extracted (the interpreter, imports,
configuration, database, Scrapy, robots.txt and sitemap), and the steady crawl from the first
article to the last, whose per-page time against the extraction's is the "steady ratio". The
start-up is a fixed cost: it weighs less the more pages a crawl has.

On a shared or virtual machine single measures vary by ±30%: use `--repeat 5` and the median.
"""

from __future__ import annotations

import argparse
import compileall
import contextlib
import ctypes
import json
import os
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import trafilatura

from tests.site.bulk import LAYOUTS, MIXES
from tests.site.server import render_bulk_page


def start_site(
    pages: int, mix: str, layout: str, log_path: Path
) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "tests.site.server", "--log", str(log_path)),
            *("--bulk", str(pages), "--bulk-mix", mix, "--bulk-layout", layout),
        ],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    outlets = json.loads(line)["outlets"]
    return process, outlets["bulk"]


def stop_site(site: subprocess.Popen[str]) -> None:
    """Close its stdin, its signal to stop (SIGTERM would leave its stdin reader to die noisily)."""
    assert site.stdin is not None
    site.stdin.close()
    try:
        site.wait(timeout=10)
    except subprocess.TimeoutExpired:
        site.kill()
        site.wait()


def become_subreaper() -> bool:
    """Adopt the crawl's orphaned processes (Linux): its forkserver outlives it by a moment and is
    never waited for by it, so its CPU time, and its workers', would not be counted."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return int(libc.prctl(36, 1, 0, 0, 0)) == 0  # PR_SET_CHILD_SUBREAPER
    except (OSError, AttributeError):
        return False


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def reap_adopted(keep: int, timeout: float = 10.0) -> None:
    """Wait for the crawl's processes that outlived it (all but `keep`, the site's server)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            if not [child for child in own_children() if child != keep]:
                return
            time.sleep(0.01)


def own_children() -> list[int]:
    children = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == os.getpid():
                children.append(int(entry.name))
    return children


@dataclass(frozen=True)
class Crawl:
    seconds: float  # wall time of the whole `newswatch crawl` process
    summary: str  # its first output line
    first_article: float  # seconds from its start until the first article was extracted
    steady_seconds: float  # from the first article extracted to the last
    articles: int


def time_crawl(base_url: str, workdir: Path, workers: int) -> Crawl:
    config = workdir / "bench.toml"
    config.write_text(
        f"""
[database]
url = "sqlite:///{workdir / "bench.db"}"

[crawl]
autothrottle = false
download_delay = 0
concurrency_per_domain = 16
max_pages_per_source = 100000
max_age_days = 30
workers = {workers}

[[sources]]
name = "bulk"
homepage = "{base_url}/"
sitemaps = ["{base_url}/sitemap.xml"]
discover = ["sitemaps"]
""",
        encoding="utf-8",
    )
    newswatch = shutil.which("newswatch") or str(Path(sys.executable).parent / "newswatch")
    started_at = time.time()
    started = time.perf_counter()
    result = subprocess.run(
        [newswatch, "crawl", "--config", str(config)],
        cwd=workdir,
        capture_output=True,
        text=True,
        env={**os.environ, "NEWSWATCH_CONFIG": ""},
        check=False,
    )
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        sys.exit(f"newswatch crawl failed ({result.returncode}):\n{result.stderr[-3000:]}")
    first, last, articles = extraction_times(workdir / "bench.db")
    return Crawl(
        seconds=elapsed,
        summary=result.stdout.strip().splitlines()[0],
        first_article=first - started_at,
        steady_seconds=last - first,
        articles=articles,
    )


def extraction_times(database: Path) -> tuple[float, float, int]:
    """When the first and the last article were extracted (POSIX seconds), and how many there are.

    Read with the standard library: `first_seen_at` is stored as naive UTC text by SQLAlchemy.
    """
    with contextlib.closing(sqlite3.connect(database)) as connection:
        first, last, count = connection.execute(
            "SELECT min(first_seen_at), max(first_seen_at), count(*) FROM articles"
        ).fetchone()
    if not count:
        sys.exit(f"the crawl stored no article in {database}")

    def posix(stored: str) -> float:
        return datetime.fromisoformat(stored).replace(tzinfo=UTC).timestamp()

    return posix(first), posix(last), int(count)


def time_plain_extraction(pages: int, mix: str, layout: str) -> tuple[float, float]:
    """The baseline: trafilatura.extract over the same pages, one process, HTML already in memory.
    Wall and CPU seconds."""
    documents = [
        render_bulk_page(i, pages, mix=mix, layout=layout).decode("utf-8") for i in range(pages)
    ]
    started, cpu_started = time.perf_counter(), time.process_time()
    for html in documents:
        trafilatura.extract(html, with_metadata=True)
    return time.perf_counter() - started, time.process_time() - cpu_started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=500)
    parser.add_argument("--workers", type=int, default=0, help="extraction processes (0 = cores)")
    parser.add_argument("--mix", choices=MIXES, default="distinct", help="see tests/site/bulk.py")
    parser.add_argument(
        "--layout", choices=LAYOUTS, default="news", help="see tests/site/news_layout.py"
    )
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="measure N times (crawl, then extraction, each time) and report the median ratio",
    )
    args = parser.parse_args()

    # Byte-compiled first, as an installed package is (pip compiles at install time): where
    # PYTHONDONTWRITEBYTECODE is set, an editable checkout would otherwise compile newswatch's
    # modules again in every process of every crawl (0.1 s each on the machine it was tuned on).
    for package in ("crawler", "storage"):
        compileall.compile_dir(ROOT / package, quiet=1)
    print(
        f"pages: {args.pages} ({args.mix}, {args.layout} layout)  cores: {os.cpu_count()}  "
        f"workers: {args.workers or 'auto'}  site: pages pre-rendered, served from memory"
    )
    counts_cpu = become_subreaper()
    ratios, cpu_ratios, steady_ratios, startups = [], [], [], []
    for attempt in range(1, max(args.repeat, 1) + 1):
        workdir = Path(tempfile.mkdtemp(prefix="newswatch-bench-"))
        site, base_url = start_site(args.pages, args.mix, args.layout, workdir / "requests.log")
        try:
            cpu_before = children_cpu()
            crawl = time_crawl(base_url, workdir, args.workers)
            if counts_cpu:
                reap_adopted(keep=site.pid)
            crawl_cpu = children_cpu() - cpu_before
        finally:
            stop_site(site)
        extraction_seconds, extraction_cpu = time_plain_extraction(
            args.pages, args.mix, args.layout
        )
        ratios.append(crawl.seconds / extraction_seconds)
        cpu_ratios.append(crawl_cpu / extraction_cpu)
        # Per page between the first and the last article, against extraction's per page.
        steady_per_page = crawl.steady_seconds / max(crawl.articles - 1, 1)
        steady_ratios.append(steady_per_page / (extraction_seconds / args.pages))
        startups.append(crawl.first_article)
        if args.repeat > 1:
            print(f"-- measure {attempt} of {args.repeat}")
        print(f"crawl summary: {crawl.summary}")
        print(
            f"newswatch crawl:        {crawl.seconds:7.2f} s  "
            f"{args.pages / crawl.seconds:7.1f} pages/s"
        )
        print(
            f"trafilatura.extract x1: {extraction_seconds:7.2f} s  "
            f"{args.pages / extraction_seconds:7.1f} pages/s"
        )
        print(f"ratio crawl / extraction: {ratios[-1]:.2f}  (target <= 1.0)")
        print(
            f"  start-up {crawl.first_article:.2f} s to the first article extracted; then "
            f"{(crawl.articles - 1) / max(crawl.steady_seconds, 1e-9):.1f} pages/s, "
            f"steady ratio {steady_ratios[-1]:.2f}"
        )
        if counts_cpu:
            print(
                f"CPU: crawl {crawl_cpu:.2f} s in all its processes, extraction "
                f"{extraction_cpu:.2f} s; ratio {cpu_ratios[-1]:.2f}"
            )
        if args.keep:
            print(f"work directory: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    if len(ratios) > 1:
        print(
            f"median ratio of {len(ratios)}: {statistics.median(ratios):.2f}  "
            f"(lowest {min(ratios):.2f}, highest {max(ratios):.2f})"
        )
        print(
            f"median steady ratio of {len(steady_ratios)}: {statistics.median(steady_ratios):.2f}"
            f"  (lowest {min(steady_ratios):.2f}, highest {max(steady_ratios):.2f}); "
            f"median start-up {statistics.median(startups):.2f} s"
        )
        if counts_cpu:
            print(
                f"median CPU ratio of {len(cpu_ratios)}: {statistics.median(cpu_ratios):.2f}  "
                f"(lowest {min(cpu_ratios):.2f}, highest {max(cpu_ratios):.2f})"
            )


if __name__ == "__main__":
    main()
