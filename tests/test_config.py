"""Config loading: layering, defaults, and one clear error naming the file and key."""

from __future__ import annotations

import codecs
from typing import TYPE_CHECKING

import pytest

from crawler.config import DEFAULT_DATABASE_URL, load_config
from crawler.errors import ConfigError
from crawler.filter.rules import load_rules_file

if TYPE_CHECKING:
    from pathlib import Path


@pytest.fixture(autouse=True)
def _isolated(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("NEWSWATCH_CONFIG", raising=False)
    monkeypatch.delenv("NEWSWATCH_DATABASE_URL", raising=False)


def write(tmp_path: Path, text: str, name: str = "custom.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_builtin_defaults_without_a_file():
    config = load_config()
    assert config.path is None
    assert config.database.url == DEFAULT_DATABASE_URL
    assert config.crawl.max_age_days == 14
    assert config.crawl.concurrency_per_domain == 2
    assert config.crawl.obey_robots is True
    assert len(config.sources) >= 12
    assert config.rules_path().name == "rules.toml"
    assert config.rules_path().is_file()


def test_local_newswatch_toml_is_found(tmp_path):
    write(tmp_path, "[crawl]\nmax_age_days = 3\n", "newswatch.toml")
    assert load_config().crawl.max_age_days == 3


def test_env_variable_names_the_file(tmp_path, monkeypatch):
    path = write(tmp_path, "[crawl]\nsection_pages = 1\n")
    monkeypatch.setenv("NEWSWATCH_CONFIG", str(path))
    assert load_config().crawl.section_pages == 1


def test_database_url_env_overrides_file(tmp_path, monkeypatch):
    path = write(tmp_path, '[database]\nurl = "sqlite:///a.db"\n')
    monkeypatch.setenv("NEWSWATCH_DATABASE_URL", "sqlite:///b.db")
    assert load_config(path).database.url == "sqlite:///b.db"


def test_user_sources_replace_defaults_unless_included(tmp_path):
    block = '[[sources]]\nname = "mine"\nfeeds = ["https://example.ma/feed/"]\n'
    assert [s.name for s in load_config(write(tmp_path, block)).sources] == ["mine"]
    both = load_config(write(tmp_path, "include_default_sources = true\n" + block))
    assert both.sources[0].name == "mine"
    assert len(both.sources) > 12


def test_unknown_key_names_file_section_and_suggests(tmp_path):
    path = write(tmp_path, "[crawl]\nmax_age_day = 3\n")
    with pytest.raises(ConfigError) as error:
        load_config(path)
    message = str(error.value)
    assert str(path) in message
    assert "[crawl] max_age_day: unknown key" in message
    assert "max_age_days" in message


def test_bad_value_is_explained(tmp_path):
    path = write(tmp_path, '[crawl]\nmax_age_days = "two weeks"\n')
    with pytest.raises(ConfigError, match=r"\[crawl\] max_age_days: .*integer.*two weeks"):
        load_config(path)


def test_bad_source_is_named(tmp_path):
    path = write(tmp_path, '[[sources]]\nname = "Bad Name"\nfeeds = ["https://x.ma/feed"]\n')
    with pytest.raises(ConfigError, match=r"\[\[sources\]\] #1 'Bad Name' name"):
        load_config(path)


def test_source_without_any_url(tmp_path):
    path = write(tmp_path, '[[sources]]\nname = "empty"\n')
    with pytest.raises(ConfigError, match="needs at least one of homepage"):
        load_config(path)


def test_duplicate_source_names(tmp_path):
    block = '[[sources]]\nname = "twice"\nfeeds = ["https://x.ma/feed"]\n'
    with pytest.raises(ConfigError, match="used twice"):
        load_config(write(tmp_path, block * 2))


def test_invalid_toml_names_the_file(tmp_path):
    path = write(tmp_path, "[crawl\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(path)


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "nope.toml")


def test_rules_path_relative_to_config_file(tmp_path):
    (tmp_path / "conf").mkdir()
    rules = tmp_path / "conf" / "my-rules.toml"
    rules.write_text("", encoding="utf-8")
    path = write(tmp_path / "conf", '[filter]\nrules = "my-rules.toml"\n')
    assert load_config(path).rules_path() == rules.resolve()


def test_a_file_not_in_utf8_is_a_config_error(tmp_path):
    path = tmp_path / "latin1.toml"
    path.write_bytes('[crawl]\nuser_agent = "veille régionale"\n'.encode("cp1252"))
    with pytest.raises(ConfigError, match=r"latin1\.toml: not UTF-8 text \(byte 31 is 0xe9\)"):
        load_config(path)


def test_a_byte_order_mark_is_allowed_in_config_and_rules_files(tmp_path):
    rules = tmp_path / "rules.toml"
    rules.write_bytes(codecs.BOM_UTF8 + (load_config().rules_path()).read_bytes())
    path = tmp_path / "bom.toml"
    path.write_bytes(
        codecs.BOM_UTF8 + b'[crawl]\nmax_age_days = 3\n[filter]\nrules = "rules.toml"\n'
    )
    config = load_config(path)
    assert config.crawl.max_age_days == 3
    assert load_rules_file(config.rules_path()).groups


def test_missing_rules_file(tmp_path):
    path = write(tmp_path, '[filter]\nrules = "nowhere.toml"\n')
    with pytest.raises(ConfigError, match=r"\[filter\] rules: no such file"):
        load_config(path)


def test_bad_database_url(tmp_path):
    path = write(tmp_path, '[database]\nurl = "not a url"\n')
    with pytest.raises(ConfigError, match=r"\[database\] url"):
        load_config(path)


def test_database_password_is_masked_in_repr(tmp_path):
    path = write(tmp_path, '[database]\nurl = "postgresql+psycopg://nw:s3cret@db/nw"\n')
    config = load_config(path)
    assert "s3cret" not in repr(config.database)
    assert "s3cret" not in repr(config)


def test_select_unknown_source_suggests(tmp_path):
    config = load_config()
    name = config.sources[0].name
    with pytest.raises(ConfigError, match=f"Did you mean '{name}'"):
        config.select_sources([name + "x"])
