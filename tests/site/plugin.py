"""pytest plugin: the local news site as fixtures.

- `news_site` (session): one server for the whole run; use it to read pages.
- `fresh_news_site` (function): its own server and request log, for tests that count requests.

Both yield a `NewsSite`. `run_news_site()` is the same without pytest (benchmarks).
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.site.manifest import LoggedRequest, Manifest, load_manifest, read_request_log

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

REPO_ROOT = Path(__file__).resolve().parents[2]
STARTUP_TIMEOUT = 60.0  # seconds; only a broken server gets near it


@dataclass
class NewsSite:
    outlets: dict[str, str]  # outlet name -> base URL, e.g. "http://127.0.0.1:41234"
    log_path: Path
    manifest: Manifest  # the fixture articles, with absolute URLs on this server
    now: datetime  # the server's start time: publication dates are relative to it
    process: subprocess.Popen[bytes]

    def requests(self) -> list[LoggedRequest]:
        """Every request the server answered so far, in order."""
        return read_request_log(self.log_path)

    def sources_toml(self, names: Iterable[str] | None = None) -> str:
        """`[[sources]]` blocks for these outlets (all by default), ready for a config file."""
        return self.manifest.sources_toml(names)

    def url(self, outlet: str, path: str) -> str:
        return self.manifest.url(outlet, path)


@contextmanager
def run_news_site(
    directory: Path, *, bulk: int = 0, bulk_layout: str = "lean", slow_seconds: float = 3.0
) -> Iterator[NewsSite]:
    """Start the server subprocess, wait for its JSON line, and stop it on exit."""
    directory.mkdir(parents=True, exist_ok=True)
    log_path = directory / "requests.log"
    stderr_path = directory / "server.stderr"
    now = datetime.now(UTC).replace(microsecond=0)
    command = [
        sys.executable, "-m", "tests.site.server",
        "--log", str(log_path),
        "--now", now.isoformat(),
        "--slow-seconds", str(slow_seconds),
        "--bulk", str(bulk),
        "--bulk-layout", bulk_layout,
    ]  # fmt: skip
    with stderr_path.open("wb") as stderr:
        process = subprocess.Popen(
            command, cwd=REPO_ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr
        )
    try:
        outlets = _wait_ready(process, stderr_path)
        manifest = load_manifest(outlets=outlets, now=now)
        yield NewsSite(outlets, log_path, manifest, now, process)
    finally:
        _stop(process)


def _wait_ready(process: subprocess.Popen[bytes], stderr_path: Path) -> dict[str, str]:
    """Block on the readiness line; a watchdog kills a server that never prints it."""
    assert process.stdout is not None
    watchdog = threading.Timer(STARTUP_TIMEOUT, process.kill)
    watchdog.start()
    try:
        line = process.stdout.readline()
    finally:
        watchdog.cancel()
    if not line:
        process.wait()
        raise RuntimeError(
            f"the local news site exited before printing its URLs (code {process.returncode}):\n"
            + stderr_path.read_text(encoding="utf-8", errors="replace")
        )
    outlets: dict[str, str] = json.loads(line)["outlets"]
    return outlets


def _stop(process: subprocess.Popen[bytes]) -> None:
    for stream in (process.stdin, process.stdout):
        if stream is not None:
            stream.close()  # closing stdin alone asks the server to stop
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture(scope="session")
def news_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NewsSite]:
    with run_news_site(tmp_path_factory.mktemp("news_site")) as site:
        yield site


@pytest.fixture
def fresh_news_site(tmp_path: Path) -> Iterator[NewsSite]:
    with run_news_site(tmp_path / "news_site") as site:
        yield site
