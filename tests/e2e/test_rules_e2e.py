"""End to end: the real `newswatch` console script measures rules (`rules test`), explains a
decision (`rules explain`) and applies new rules to a stored database (`refilter`), after
which the digest carries the newly matched story. SQLite, and PostgreSQL when configured.
"""

from __future__ import annotations

import json

from tests.cli_fixtures import run_newswatch
from tests.refilter_setup import ARTICLES, store_articles_and_send_one, url, write_config


def test_rules_test_and_explain(tmp_path):
    config = write_config(tmp_path, f"sqlite:///{tmp_path / 'news.db'}", "after")
    labeled = tmp_path / "labeled.jsonl"
    lines = [
        {"id": key, "title": title, "text": text, "label": key in ("new", "kept"), "lang": "fr"}
        for key, (title, text) in ARTICLES.items()
    ]
    lines[0]["kind"] = "sport"
    labeled.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    result = run_newswatch(
        tmp_path, "rules", "test", "--labeled", str(labeled), "--config", str(config)
    )
    assert result.returncode == 0, result.stderr
    assert "labeled.jsonl: 5 articles, 2 positive, 3 negative" in result.stdout
    assert "Every article is classified as labeled." in result.stdout
    as_json = run_newswatch(
        tmp_path, "rules", "test", "--labeled", str(labeled), "--config", str(config),
        "--format", "json",
    )  # fmt: skip
    assert json.loads(as_json.stdout)["files"][0]["overall"]["f1"] == 1.0
    missing = run_newswatch(tmp_path, "rules", "test", "--labeled", "missing.jsonl")
    assert missing.returncode == 2
    assert "missing.jsonl" in missing.stderr

    title, text = ARTICLES["new"]
    article = tmp_path / "article.txt"
    article.write_text(text, encoding="utf-8")
    explained = run_newswatch(
        tmp_path, "rules", "explain", "--config", str(config), "--title", title, str(article)
    )
    assert explained.returncode == 0, explained.stderr
    assert "Decision: match, tier related" in explained.stdout
    assert 'foire: "foire" 2 times in title, body (×2)' in explained.stdout
    assert "Regions: Drâa-Tafilalet" in explained.stdout


def test_refilter_then_digest(db_url, tmp_path):
    before = write_config(tmp_path, db_url, "before")
    after = write_config(tmp_path, db_url, "after")
    store_articles_and_send_one(tmp_path, db_url)
    pending = run_newswatch(tmp_path, "digest", "--config", str(before), "--dry-run")
    assert "Stories: 2 (2 articles)" in pending.stdout, pending.stderr
    assert ARTICLES["new"][0] not in pending.stdout

    result = run_newswatch(tmp_path, "refilter", "--config", str(after))
    assert result.returncode == 0, result.stderr
    assert "5 articles refiltered" in result.stdout
    assert "1 newly matched (pending for the next digest)" in result.stdout
    assert "2 no longer matched (1 already sent, kept as history)" in result.stdout
    assert url("new") in result.stdout

    digest = run_newswatch(tmp_path, "digest", "--config", str(after), "--dry-run")
    assert digest.returncode == 0, digest.stderr
    assert "Stories: 2 (2 articles)" in digest.stdout  # new and kept; pending was unmatched
    assert ARTICLES["new"][0] in digest.stdout
    assert ARTICLES["pending"][0] not in digest.stdout
    listed = json.loads(run_newswatch(tmp_path, "matches", "--config", str(after), "--format",
                                      "json").stdout)  # fmt: skip
    assert {m["url"]: m["tier"] for m in listed} == {url("new"): "related", url("kept"): "core"}
