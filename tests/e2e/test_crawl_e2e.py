"""End to end: the real `newswatch` CLI in a subprocess crawls the local news site into a real
database (SQLite, and PostgreSQL when NEWSWATCH_TEST_POSTGRES_URL is set), and we check what was
stored and what the site was asked for.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from storage.repository import Repository

NEWSWATCH = shutil.which("newswatch") or str(Path(sys.executable).parent / "newswatch")


@dataclass
class CrawlSetup:
    workdir: Path
    config: Path
    db_url: str

    def run(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSWATCH_")}
        return subprocess.run(
            [NEWSWATCH, *args],
            cwd=self.workdir,
            input=stdin,
            capture_output=True,
            text=True,
            env=env,
            timeout=300,
            check=False,
        )

    def crawl(self) -> subprocess.CompletedProcess[str]:
        result = self.run("crawl", "--config", str(self.config))
        assert result.returncode == 0, result.stderr[-4000:]
        return result


def write_config(workdir: Path, db_url: str, sources_toml: str) -> Path:
    config = workdir / "newswatch-test.toml"
    config.write_text(
        f"""
[database]
url = "{db_url}"

[crawl]
autothrottle = false
download_delay = 0
concurrency_per_domain = 4
max_age_days = 14
section_pages = 2
download_timeout = 10
max_page_bytes = 5000000
workers = 2

{sources_toml}
""",
        encoding="utf-8",
    )
    return config


@pytest.fixture
def crawled(fresh_news_site, db_url, tmp_path):
    """One crawl of a fresh site into a fresh database; the second crawl is left to the test."""
    setup = CrawlSetup(
        tmp_path, write_config(tmp_path, db_url, fresh_news_site.sources_toml()), db_url
    )
    result = setup.crawl()
    return setup, fresh_news_site, result


def stored_articles(db_url: str) -> dict[str, dict]:
    """URL (article URL or alias) -> article facts, straight from the database."""
    with Repository(db_url) as repository:
        return repository.debug_url_index()


def test_crawl_stores_and_marks_the_right_articles(crawled):
    setup, site, result = crawled
    assert "Crawl #1 ok" in result.stdout
    index = stored_articles(setup.db_url)
    article_ids = {}
    for article in site.manifest.articles:
        if article.expect == "skip" or article.reachable_via == []:
            continue
        assert article.url in index, f"{article.id} ({article.url}) was not stored"
        stored = index[article.url]
        article_ids[article.id] = stored["id"]
        if article.expect == "match":
            assert stored["matched"], f"positive {article.id} not matched: {stored['explanation']}"
        else:
            assert not stored["matched"], f"negative {article.id} matched: {stored['explanation']}"
    # Each positive is stored once: republished copies point to the same article.
    for article in site.manifest.articles:
        for copy_url in article.republished_urls:
            assert index[copy_url]["id"] == index[article.url]["id"], copy_url


def test_crawl_is_polite_and_bounded(crawled):
    _setup, site, _ = crawled
    requests = site.requests()
    paths = [(r.outlet, r.path) for r in requests]
    assert not [p for p in paths if "/private/" in p[1]], "a robots.txt-disallowed path was fetched"
    for article in site.manifest.articles:
        if article.days_ago > 14:
            assert (article.outlet, article.path) not in paths, f"old article {article.id} fetched"
    # The endless pagination stops at section_pages.
    section_pages = [p for p in paths if p[0] == "lematin" and p[1].startswith("/regions/")]
    assert len(section_pages) <= 2


def test_second_crawl_fetches_no_article_page(crawled):
    setup, site, _ = crawled
    before = len(site.requests())
    second = setup.crawl()
    assert "Crawl #2 ok" in second.stdout
    again = site.requests()[before:]
    article_paths = {(a.outlet, a.path) for a in site.manifest.articles}
    refetched = [r for r in again if (r.outlet, r.path.split("?")[0]) in article_paths]
    assert refetched == [], f"second crawl fetched article pages again: {refetched}"
    assert "0 articles extracted" in second.stdout


def test_matches_json_contract(crawled):
    setup, site, _ = crawled
    result = setup.run("matches", "--config", str(setup.config), "--format", "json")
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    positives = [a for a in site.manifest.articles if a.expect == "match"]
    assert len(rows) == len({a.url for a in positives})
    for row in rows:
        assert set(row) >= {"url", "title", "source", "published", "score", "matched", "first_seen"}
        assert isinstance(row["matched"], dict)
        assert row["matched"]
        assert row["published"] is None or row["published"][:4].isdigit()
    published = [row["published"] or row["first_seen"] for row in rows]
    assert published == sorted(published, reverse=True)


def test_classify_uses_the_crawl_filter(crawled):
    setup, site, _ = crawled
    articles = [a for a in site.manifest.articles if a.expect in ("match", "no_match")]
    lines = "\n".join(
        json.dumps({"id": a.id, "title": a.title, "text": "\n\n".join(a.paragraphs)})
        for a in articles
    )
    result = setup.run("classify", "--config", str(setup.config), stdin=lines + "\nnot json\n")
    assert result.returncode == 1  # one bad line, reported, the rest classified
    assert "line" in result.stderr
    outputs = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(outputs) == len(articles)
    for article, output in zip(articles, outputs, strict=True):
        assert output["id"] == article.id
        assert output["match"] is (article.expect == "match"), (article.id, output)
        assert set(output) == {"id", "match", "score", "matched"}
