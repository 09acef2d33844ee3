"""End to end: the real `newswatch` CLI in a subprocess crawls the local news site into a real
database (SQLite, and PostgreSQL when NEWSWATCH_TEST_POSTGRES_URL is set), and we check what was
stored and what the site was asked for.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from crawler.urls import canonicalize_url
from storage.db import create_engine_for
from storage.models import Article, ArticleUrl, CrawlRun, SkippedPage
from tests.cli_fixtures import newswatch_env, run_newswatch


@dataclass
class CrawlSetup:
    workdir: Path
    config: Path
    db_url: str

    def run(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return run_newswatch(self.workdir, *args, stdin=stdin, timeout=300)

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
    """Every stored URL (an article's own or an alias) -> the article's facts, read straight from
    the database with the models, not through the code under test."""
    engine = create_engine_for(db_url)
    try:
        with Session(engine) as session:
            articles = {a.id: a for a in session.scalars(select(Article))}
            index = {
                a.url: {"id": a.id, "matched": a.matched, "explanation": a.explanation}
                for a in articles.values()
            }
            for alias in session.scalars(select(ArticleUrl)):
                article = articles[alias.article_id]
                index[alias.url] = {
                    "id": article.id,
                    "matched": article.matched,
                    "explanation": article.explanation,
                }
            skipped = {row.url: row.reason for row in session.scalars(select(SkippedPage))}
    finally:
        engine.dispose()
    return index | {url: {"skipped": reason} for url, reason in skipped.items() if url not in index}


def test_crawl_stores_and_marks_the_right_articles(crawled):
    setup, site, result = crawled
    assert "Crawl #1 ok" in result.stdout
    index = stored_articles(setup.db_url)
    manifest = site.manifest
    for article in (*manifest.expected_matches(), *manifest.expected_non_matches()):
        urls = [canonicalize_url(url) for url in article.urls]
        stored = [index.get(url) for url in urls]
        assert all(s and "id" in s for s in stored), f"{article.id}: not stored: {urls} {stored}"
        # Stored once: the republished copies are aliases of the same article.
        assert len({s["id"] for s in stored}) == 1, f"{article.id} stored more than once"
        if article.expect == "match":
            assert stored[0]["matched"], f"positive {article.id} not matched: {stored[0]}"
        else:
            assert not stored[0]["matched"], f"negative {article.id} matched: {stored[0]}"
    for article in manifest.never_stored():
        url = canonicalize_url(article.url)
        assert "id" not in index.get(url, {}), f"{article.id} should not be stored"


def test_crawl_is_polite_and_bounded(crawled):
    _, site, _ = crawled
    requests = site.requests()
    fetched = {(r.outlet, r.bare_path) for r in requests}
    for article in site.manifest.never_requested():
        assert (article.outlet, article.path) not in fetched, f"{article.id} was requested"
    for article in site.manifest.too_old():
        assert (article.outlet, article.path) not in fetched, f"old {article.id} was requested"
    # Endless pagination stops at section_pages (2 in this config) per section.
    pages = [r for r in requests if r.outlet == "lematin" and "page=" in r.path]
    assert pages, "pagination was not followed at all"
    assert all("page=2" in r.path for r in pages), [r.path for r in pages]
    # A calendar trap is never walked.
    assert not [
        r
        for r in requests
        if r.outlet == "wpeco"
        and r.bare_path.count("/") >= 3
        and r.bare_path.split("/")[1].isdigit()
        and len(r.bare_path) < 12
    ]


def test_second_crawl_fetches_no_article_page(crawled):
    setup, site, _ = crawled
    before = len(site.requests())
    second = setup.crawl()
    assert "Crawl #2 ok" in second.stdout
    again = site.requests()[before:]
    article_paths = {(a.outlet, a.path) for a in site.manifest.articles if a.storable}
    article_paths |= {
        (copy.outlet, copy.path) for a in site.manifest.articles for copy in a.republished_as
    }
    refetched = [r for r in again if (r.outlet, r.bare_path) in article_paths]
    assert refetched == [], f"second crawl fetched article pages again: {refetched}"
    assert " 0 articles extracted" in second.stdout
    conditional = [r for r in again if r.if_none_match or r.if_modified_since]
    assert conditional, "feeds and sitemaps were not requested conditionally"


def test_matches_json_contract(crawled):
    setup, site, _ = crawled
    result = setup.run("matches", "--config", str(setup.config), "--format", "json")
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert len(rows) == len(site.manifest.expected_matches())
    for row in rows:
        assert set(row) >= {"url", "title", "source", "published", "score", "matched", "first_seen"}
        assert isinstance(row["matched"], dict)
        assert row["matched"]
        assert row["published"] is None or row["published"][:4].isdigit()
    published = [row["published"] or row["first_seen"] for row in rows]
    assert published == sorted(published, reverse=True)


def test_classify_uses_the_crawl_filter(crawled):
    setup, site, _ = crawled
    articles = [*site.manifest.expected_matches(), *site.manifest.expected_non_matches()]
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


def test_a_story_carried_by_three_outlets_is_one_story(crawled):
    """The MAP dispatch on arcnews, rewritten on wpeco and odj: one story with three URLs."""
    setup, site, _ = crawled
    manifest = site.manifest
    original = manifest.article("arcnews-dakhla-canaries")
    versions = [original, *(a for a in manifest.articles if a.near_duplicate_of == original.id)]
    assert len({a.outlet for a in versions}) == 3
    expected = {canonicalize_url(url) for a in versions for url in a.urls}

    result = setup.run(
        "matches", "--config", str(setup.config), "--by", "story", "--format", "json"
    )
    assert result.returncode == 0, result.stderr
    stories = json.loads(result.stdout)
    [story] = [s for s in stories if s["url"] in expected]
    assert {story["url"], *story["also_in"]} == expected
    assert sorted(story["outlets"]) == sorted(a.outlet for a in versions)
    # Every other match is a story of its own: near-duplicates are the only grouping.
    grouped = [a for a in manifest.expected_matches() if a.near_duplicate_of]
    assert len(stories) == len(manifest.expected_matches()) - len(grouped)
    assert len({s["story"] for s in stories}) == len(stories)

    result = setup.run("matches", "--config", str(setup.config), "--format", "json")
    rows = {row["url"]: row for row in json.loads(result.stdout)}
    assert {rows[url]["story"] for url in expected} == {story["story"]}
    for url in expected:
        assert sorted(rows[url]["also_in"]) == sorted(expected - {url})


def test_an_identical_copy_on_another_outlet_is_listed_with_its_story(crawled):
    """The same text on arcnews and lematin is one article (whichever came first) and its alias."""
    setup, site, _ = crawled
    article = site.manifest.article("arcnews-fes-meknes-hesse")
    expected = {canonicalize_url(url) for url in article.urls}
    assert len(expected) == 2
    result = setup.run(
        "matches", "--config", str(setup.config), "--by", "story", "--format", "json"
    )
    [story] = [s for s in json.loads(result.stdout) if s["url"] in expected]
    assert {story["url"], *story["also_in"]} == expected
    assert sorted(story["outlets"]) == sorted([article.outlet, article.republished_as[0].outlet])


def test_scrapy_crawl_from_the_checkout_stores_and_marks_the_site_articles(
    fresh_news_site, db_url, tmp_path
):
    """`scrapy crawl news` (scrapy.cfg) runs with the same settings, spider and pipeline."""
    root = Path(__file__).resolve().parents[2]
    config = write_config(tmp_path, db_url, fresh_news_site.sources_toml())
    result = subprocess.run(
        [sys.executable, "-m", "scrapy", "crawl", "news"],
        cwd=root,
        capture_output=True,
        text=True,
        env={**newswatch_env(), "NEWSWATCH_CONFIG": str(config)},
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    assert "Spider closed (finished)" in result.stderr
    index = stored_articles(db_url)
    manifest = fresh_news_site.manifest
    for article in (*manifest.expected_matches(), *manifest.expected_non_matches()):
        stored = index.get(canonicalize_url(article.urls[0]), {})
        assert "id" in stored, f"{article.id} not stored"
        assert stored["matched"] == (article.expect == "match"), f"{article.id} wrongly marked"
    engine = create_engine_for(db_url)
    try:
        with Session(engine) as session:
            assert [run.status for run in session.scalars(select(CrawlRun))] == ["ok"]
    finally:
        engine.dispose()
