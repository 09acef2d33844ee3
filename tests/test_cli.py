"""The command line in-process (Click's CliRunner): contracts, exit codes, error messages."""

from __future__ import annotations

import codecs
import json

import pytest
from click.testing import CliRunner

from crawler.cli import main


@pytest.mark.parametrize("command", sorted(main.commands))
def test_every_command_has_help_with_an_example(run, command):
    for flag in ("--help", "-h"):
        result = run(command, flag)
        assert result.exit_code == 0
        assert "Example" in result.output
        assert "--config" in result.output


def test_bad_config_exits_2_and_writes_nothing(run, tmp_path):
    (tmp_path / "newswatch.toml").write_text("[crawl]\nmax_age_day = 3\n", encoding="utf-8")
    for command in (["crawl"], ["matches"], ["sources"], ["classify"]):
        result = run(*command, stdin="")
        assert result.exit_code == 2, (command, result.output)
        assert "newswatch.toml: [crawl] max_age_day: unknown key" in result.output
        assert "did you mean 'max_age_days'" in result.output
    assert not list(tmp_path.glob("*.db"))


def test_unknown_source_suggests_a_name(run, tmp_path):
    result = run("crawl", "--source", "lemtin")
    assert result.exit_code == 2
    assert "unknown source 'lemtin'" in result.output
    assert "Did you mean 'lematin'" in result.output
    assert not list(tmp_path.glob("*.db"))


def test_sources_lists_the_defaults(run):
    result = run("sources", "--format", "json")
    assert result.exit_code == 0
    sources = json.loads(result.stdout)
    assert len(sources) >= 12
    assert {"fr", "en", "ar"} <= {s["language"] for s in sources}
    table = run("sources")
    assert "lematin" in table.output


def test_matches_on_an_empty_database(run):
    assert json.loads(run("matches", "--format", "json").stdout) == []
    assert "(nothing)" in run("matches").output
    assert run("matches", "--format", "csv").output == ""


def test_matches_rejects_a_bad_date(run):
    result = run("matches", "--since", "23/11/2026")
    assert result.exit_code == 2
    assert "--since" in result.output


def test_classify_contract(run):
    lines = [
        {
            "id": "twin",
            "title": "Jumelage entre la ville de Chefchaouen et la commune espagnole de Vejer",
            "text": (
                "Le conseil communal de Chefchaouen et la municipalité de Vejer de la Frontera, "
                "en Andalousie, ont signé samedi un accord de jumelage. La convention prévoit des "
                "échanges entre les deux villes dans le tourisme, le patrimoine et la formation."
            ),
        },
        {"title": "Le Raja s'impose face au Wydad", "text": "Le derby s'est joué à Casablanca."},
    ]
    stdin = "\n".join(json.dumps(line, ensure_ascii=False) for line in lines) + "\n"
    result = run("classify", stdin=stdin)
    assert result.exit_code == 0, result.output
    first, second = (json.loads(line) for line in result.stdout.splitlines())
    assert set(first) == {"id", "match", "score", "matched"}
    assert first["id"] == "twin"
    assert first["match"] is True
    assert first["matched"]
    assert second["id"] == 2  # no id: the line number
    assert second["match"] is False


def test_classify_reports_bad_lines_and_goes_on(run):
    stdin = (
        '{"title": "a", "text": "b"}\n[1, 2]\nnot json\n{"title": 3}\n{"title": "c", "text": "d"}\n'
    )
    result = CliRunner().invoke(main, ["classify"], input=stdin)
    assert result.exit_code == 1
    assert len(result.stdout.splitlines()) == 2
    assert "line 2: not a JSON object" in result.stderr
    assert "line 3: not JSON" in result.stderr
    assert 'line 4: "title" and "text" must be strings' in result.stderr


def test_classify_skips_lines_not_in_utf8_and_accepts_a_byte_order_mark():
    line = json.dumps({"title": "Jumelage", "text": "Tanger et Séville"}, ensure_ascii=False)
    latin = line.encode("cp1252")
    stdin = codecs.BOM_UTF8 + line.encode() + b"\n" + latin + b"\n" + line.encode() + b"\n"
    result = CliRunner().invoke(main, ["classify"], input=stdin)
    assert result.exit_code == 1
    assert [json.loads(out)["id"] for out in result.stdout.splitlines()] == [1, 3]
    byte = latin.index(b"\xe9") + 1
    assert f"line 2: not UTF-8 text (byte {byte} is 0xe9); line skipped" in result.stderr


def test_sources_check_against_the_local_site(run, news_site, tmp_path):
    config = tmp_path / "site.toml"
    config.write_text(news_site.sources_toml(), encoding="utf-8")
    result = run("sources", "--config", str(config), "--check", "--format", "json")
    assert result.exit_code == 0, result.output
    reports = {r["source"]: r for r in json.loads(result.stdout)}
    assert set(reports) == set(news_site.outlets)
    for name in ("lematin", "wpeco", "arcnews", "arabic", "odj", "mwn"):
        assert reports[name]["ok"], reports[name]
    # wpeco lists no sitemap: it is found through robots.txt.
    kinds = {p["kind"] for p in reports["wpeco"]["probes"]}
    assert "sitemap index" in kinds
    # odj gives only a homepage: its feed is found through <link rel="alternate">.
    assert any(p["kind"] == "feed" and p["ok"] for p in reports["odj"]["probes"])
    failures = [p for p in reports["hostile"]["probes"] if not p["ok"]]
    assert any("entities" in p["error"] for p in failures)
    assert any("not a feed" in p["error"] for p in failures)
    assert any("larger than" in p["error"] for p in failures)
