"""The newswatch CLI in tests: the `run` fixture calls it in process, in an empty working
directory; `run_newswatch` runs the installed console script in a subprocess, as a user would."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from crawler.cli import main

NEWSWATCH = shutil.which("newswatch") or str(Path(sys.executable).parent / "newswatch")


@pytest.fixture
def run(tmp_path, monkeypatch):
    """Call `run("matches", "--format", "json", stdin=...)`; no user config or database leaks in."""
    monkeypatch.chdir(tmp_path)
    for name in ("NEWSWATCH_CONFIG", "NEWSWATCH_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)

    def invoke(*args: str, stdin: str | None = None):
        return CliRunner().invoke(main, list(args), input=stdin, catch_exceptions=False)

    return invoke


def newswatch_env() -> dict[str, str]:
    """This process's environment less NEWSWATCH_* variables, so no user config or database
    leaks into a newswatch subprocess."""
    return {k: v for k, v in os.environ.items() if not k.startswith("NEWSWATCH_")}


def run_newswatch(
    workdir: Path, *args: str, stdin: str | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run `newswatch *args` in `workdir` and return its exit code and output, never raising on
    failure: the end-to-end tests check the real entry point, exit codes and streams."""
    return subprocess.run(
        [NEWSWATCH, *args],
        cwd=workdir,
        input=stdin,
        capture_output=True,
        text=True,
        env=newswatch_env(),
        timeout=timeout,
        check=False,
    )
