"""The `run` fixture: the newswatch CLI invoked in-process, in an empty working directory."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from crawler.cli import main


@pytest.fixture
def run(tmp_path, monkeypatch):
    """Call `run("matches", "--format", "json", stdin=...)`; no user config or database leaks in."""
    monkeypatch.chdir(tmp_path)
    for name in ("NEWSWATCH_CONFIG", "NEWSWATCH_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)

    def invoke(*args: str, stdin: str | None = None):
        return CliRunner().invoke(main, list(args), input=stdin, catch_exceptions=False)

    return invoke
