"""`newswatch rules test`, `rules explain`, `refilter` and the match fields of `matches`, in
process (Click's CliRunner): contracts, exit codes, error messages."""

from __future__ import annotations

import codecs
import csv
import io
import json

import pytest
from click.testing import CliRunner

from crawler.cli import main
from storage.locks import crawl_lock
from tests.refilter_setup import store_articles_and_send_one, url, write_config, write_rules

LABELED = [
    {
        "id": "twin",
        "lang": "fr",
        "label": True,
        "tier": "core",
        "title": "Souss-Massa et les Canaries: un jumelage",
        "text": "La région Souss-Massa et les Canaries ont signé un jumelage.",
    },
    {
        "id": "dates",
        "lang": "fr",
        "label": True,
        "tier": "related",
        "title": "Drâa-Tafilalet à la foire de Berlin",
        "text": "Les dattes de Drâa-Tafilalet sont à la foire de Berlin.",
        "note": "needs the 'after' rules",
    },
    {
        "id": "derby",
        "lang": "fr",
        "label": False,
        "kind": "sport",
        "title": "Football: Souss-Massa contre l'Occitanie",
        "text": "Un match amical sans convention ni jumelage... si: une convention!",
    },
]


@pytest.fixture
def labeled(tmp_path):
    path = tmp_path / "labeled.jsonl"
    path.write_text("".join(json.dumps(item) + "\n" for item in LABELED), encoding="utf-8")
    return path


@pytest.fixture
def configs(tmp_path):
    db_url = f"sqlite:///{tmp_path / 'news.db'}"
    return db_url, write_config(tmp_path, db_url, "before"), write_config(tmp_path, db_url, "after")


@pytest.mark.parametrize("command", ["test", "explain"])
def test_rules_subcommands_have_help_with_an_example(run, command):
    result = run("rules", command, "-h")
    assert result.exit_code == 0
    assert "Example" in result.output
    assert "--config" in result.output


# rules test


def test_rules_test_table(run, labeled, configs):
    _, before, after = configs
    result = run("rules", "test", "--labeled", str(labeled), "--config", str(before))
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("Rules: ")
    assert "rules-before.toml" in lines[0]
    assert f"{labeled}: 3 articles, 2 positive, 1 negative" in result.output
    # before: twin found (TP), dates missed (FN: no "foire"), derby matched (FP).
    assert any(line.split()[:9] == ["all", "3", "1", "1", "1", "0", "0.50", "0.50", "0.50"]
               for line in lines)  # fmt: skip
    assert "core recall" in result.output
    assert "related recall" in result.output
    assert "1/1 1.00" in result.output
    assert "0/1 0.00" in result.output
    assert "sport: 1 of 1" in result.output
    assert "Missed positives (1):" in result.output
    assert "dates (line 2; fr, labeled related): no match" in result.output
    assert "False positives (1):" in result.output
    assert "why: core: no term of partner; related: no term of deal" in result.output
    fixed = run("rules", "test", "--labeled", str(labeled), "--config", str(after))
    assert fixed.exit_code == 0
    assert "Every article is classified as labeled." in fixed.output


def test_rules_test_json_several_files(run, labeled, configs, tmp_path):
    _, _, after = configs
    second = tmp_path / "heldout.jsonl"
    second.write_text(json.dumps(LABELED[0]) + "\n", encoding="utf-8")
    result = run(
        "rules", "test", "--labeled", str(labeled), "--labeled", str(second),
        "--config", str(after), "--format", "json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["rules"].endswith("rules-after.toml")
    first, other = document["files"]
    assert first["file"] == str(labeled)
    assert first["overall"] == {
        "articles": 3, "tp": 2, "fp": 0, "fn": 0, "tn": 1,
        "precision": 1.0, "recall": 1.0, "f1": 1.0,
        "tiers": {
            "core": {"found": 1, "labeled": 1, "recall": 1.0},
            "related": {"found": 1, "labeled": 1, "recall": 1.0},
        },
    }  # fmt: skip
    assert first["languages"]["fr"]["tp"] == 2
    assert first["kinds"] == {"sport": {"false_positives": 0, "negatives": 1}}
    assert (first["misclassified"], first["wrong_tier"]) == ([], [])
    assert other["overall"]["articles"] == 1


def test_rules_test_reports_bad_lines_and_exits_1(run, labeled, configs):
    _, _, after = configs
    with labeled.open("a", encoding="utf-8") as handle:
        handle.write('not json\n{"title": "x", "label": "yes"}\n')
    result = CliRunner().invoke(
        main, ["rules", "test", "--labeled", str(labeled), "--config", str(after)]
    )
    assert result.exit_code == 1
    assert f"Error: {labeled}: line 4: not JSON" in result.stderr
    assert f'Error: {labeled}: line 5: "label" must be true or false; line skipped' in result.stderr
    assert "3 articles" in result.stdout  # the good lines are still counted


def test_rules_test_missing_file_exits_2(run):
    result = run("rules", "test", "--labeled", "nowhere.jsonl")
    assert result.exit_code == 2
    assert "nowhere.jsonl" in result.output
    assert "does not exist" in result.output
    assert run("rules", "test").exit_code == 2  # --labeled is required


# rules explain


def test_rules_explain_plain_text(run, configs):
    _, _, after = configs
    result = run(
        "rules", "explain", "--config", str(after), "--title", "Souss-Massa et les Canaries",
        stdin="Les deux régions ont signé une convention. Après le match de football.",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    output = result.output
    assert "Decision: no match (score -34, threshold 5)" in output
    assert "region: 8 points (weight 4, at most 3 terms, looks at anywhere)" in output
    assert '8  <regions> = Souss-Massa: "souss massa" in title (×2)' in output
    assert '2  convention: "convention" in body (×1)' in output
    assert "sport: -50 points (looks at anywhere)" in output
    assert 'football: "football" in body' in output
    assert "core (block #1): fails" in output
    assert "NO  score -34 < 5" in output
    assert "Regions: Souss-Massa" in output
    assert "Partners: Canary Islands" in output
    assert "Score: 16 from groups - 50 penalties = -34 < threshold 5" in output


def test_rules_explain_json_object_input(run, configs, tmp_path):
    _, _, after = configs
    article = tmp_path / "article.json"
    article.write_text(json.dumps(LABELED[1]), encoding="utf-8")
    result = run("rules", "explain", "--config", str(after), "--format", "json", str(article))
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert (document["matched"], document["tier"]) == (True, "related")
    assert document["regions"] == ["Drâa-Tafilalet"]
    deal = next(group for group in document["groups"] if group["name"] == "deal")
    assert [(t["term"], t["zones"], t["points"]) for t in deal["terms"]] == [
        ("foire", ["title", "body"], 4.0)
    ]
    decided = [tier["name"] for tier in document["tiers"] if tier["decided"]]
    assert decided == ["related"]


def test_rules_explain_bad_json_exits_2(run, configs):
    _, _, after = configs
    result = run("rules", "explain", "--config", str(after), stdin='{"title": "unfinished\n')
    assert result.exit_code == 2
    assert "is not one JSON object" in result.output
    result = run("rules", "explain", "--config", str(after), stdin='{"title": ["a"]}')
    assert result.exit_code == 2
    assert '"title", "text" and "lang" must be strings' in result.output


def test_rules_explain_input_not_in_utf8_exits_2(configs, tmp_path):
    _, _, after = configs
    text = "La région de Fès-Meknès et le Land de Hesse signent une convention."
    article = tmp_path / "article.txt"
    article.write_bytes(text.encode("cp1252"))
    result = CliRunner().invoke(main, ["rules", "explain", "--config", str(after), str(article)])
    assert result.exit_code == 2
    byte = text.encode("cp1252").index(b"\xe9") + 1
    assert f"not UTF-8 text (byte {byte} is 0xe9); save it as UTF-8" in result.output


def test_rules_test_labeled_file_not_in_utf8_exits_2(labeled, configs):
    _, before, _ = configs
    labeled.write_bytes(json.dumps(LABELED[0], ensure_ascii=False).encode("cp1252"))
    result = CliRunner().invoke(
        main, ["rules", "test", "--labeled", str(labeled), "--config", str(before)]
    )
    assert result.exit_code == 2
    assert "not UTF-8 text (byte" in result.output


def test_rules_test_and_explain_accept_a_byte_order_mark(run, labeled, configs, tmp_path):
    _, before, after = configs
    labeled.write_bytes(codecs.BOM_UTF8 + labeled.read_bytes())
    result = run("rules", "test", "--labeled", str(labeled), "--config", str(before))
    assert result.exit_code == 0, result.output
    article = tmp_path / "article.json"
    article.write_bytes(codecs.BOM_UTF8 + json.dumps(LABELED[1]).encode())
    result = run("rules", "explain", "--config", str(after), "--format", "json", str(article))
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["matched"] is True


# refilter and matches


def test_refilter_then_matches_and_pending(run, configs, tmp_path):
    db_url, _, after = configs
    store_articles_and_send_one(tmp_path, db_url)
    dry = run("refilter", "--config", str(after), "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert dry.output.startswith("Dry run, nothing written: 5 articles refiltered")
    assert "1 would be newly matched" in dry.output
    assert "2 would be no longer matched (1 already sent, kept as history)" in dry.output
    assert "1 score changed, 1 unchanged" in dry.output
    assert url("new") in dry.output
    assert "16 → 18" not in dry.output  # score changes are counted, not listed
    assert len(json.loads(run("matches", "--config", str(after), "--format", "json").stdout)) == 3

    result = run("refilter", "--config", str(after), "--format", "json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["dry_run"] is False
    assert (summary["examined"], summary["newly_matched"], summary["no_longer_matched"]) == (
        5,
        1,
        2,
    )
    assert summary["newly_matched_articles"][0]["url"] == url("new")
    assert summary["newly_matched_articles"][0]["tier"] == "related"

    listed = json.loads(run("matches", "--config", str(after), "--format", "json").stdout)
    assert {m["url"]: m["tier"] for m in listed} == {url("new"): "related", url("kept"): "core"}
    kept = next(m for m in listed if m["url"] == url("kept"))
    assert (kept["regions"], kept["partners"]) == (["Souss-Massa"], ["Occitanie"])
    table = run("matches", "--config", str(after)).output
    assert "tier" in table.splitlines()[0]
    assert "Souss-Massa ↔ Occitanie" in table
    assert "Drâa-Tafilalet" in table
    rows = list(csv.DictReader(io.StringIO(run("matches", "--config", str(after),
                                               "--format", "csv").output)))  # fmt: skip
    assert json.loads(next(r for r in rows if r["url"] == url("kept"))["partners"]) == ["Occitanie"]
    by_region = run("matches", "--config", str(after), "--region", "drâa-TAFILALET", "--format",
                    "json")  # fmt: skip
    assert [m["url"] for m in json.loads(by_region.stdout)] == [url("new")]
    stories = json.loads(
        run("matches", "--config", str(after), "--by", "story", "--format", "json").stdout
    )
    assert {s["url"]: s["tier"] for s in stories} == {url("new"): "related", url("kept"): "core"}
    status = json.loads(run("status", "--config", str(after), "--format", "json").stdout)
    assert status["pending"] == {"stories": 2, "articles": 2}


def test_matches_region_needs_by_article(run):
    result = run("matches", "--by", "story", "--region", "Oriental")
    assert result.exit_code == 2
    assert "--region lists articles" in result.output


def test_refilter_refuses_while_a_crawl_runs(run, configs):
    db_url, _, after = configs
    with crawl_lock(db_url):
        result = CliRunner().invoke(main, ["refilter", "--config", str(after)])
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: another newswatch crawl, refilter or daemon (process ")
    assert "before starting this refilter" in result.stderr


def test_refilter_with_a_bad_rules_file_exits_2(run, tmp_path):
    write_rules(tmp_path, "after")
    rules = tmp_path / "rules-after.toml"
    rules.write_text(rules.read_text(encoding="utf-8") + "\n[[groups]]\nnom = 1\n", "utf-8")
    config = tmp_path / "bad.toml"
    config.write_text(f'[filter]\nrules = "{rules.name}"\n', encoding="utf-8")
    result = run("refilter", "--config", str(config))
    assert result.exit_code == 2
    assert 'unknown key "nom"' in result.output
