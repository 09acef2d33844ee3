"""Tests of the extraction workers' preload: rules compiled once in the forkserver, reused by
every worker forked from it, and rebuilt when they cannot be reused.

A process has one forkserver, started once; each test therefore runs its pool in a fresh
Python process (the scenario below) and reads back what the workers reported.
"""

from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
import sys
from importlib.resources import files
from pathlib import Path

import pytest

from crawler.workers import PRELOAD_MAIN_VARIABLE, PRELOAD_RULES_VARIABLE

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_RULES_PATH = Path(str(files("seeds") / "rules.toml"))

SCENARIO = """
import json, sys
from pathlib import Path
from crawler.workers import WorkerPool, start_forkserver
from tests.test_workers import probe

preload, used, edit, restart = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
start_forkserver(Path(preload) if preload else None)
if edit and not restart:  # once the forkserver has preloaded (it forks a worker only after)
    first = WorkerPool(1, Path(used))
    first.executor.submit(probe).result(timeout=60)
    first.shutdown()
    Path(edit).write_text(Path(edit).read_text() + "\\n# edited\\n", encoding="utf-8")
pool = WorkerPool(2, Path(used))
if restart:  # the file is edited while the crawl runs; then a worker dies: the pool restarts
    pool.executor.submit(probe).result(timeout=60)
    Path(edit).write_text(Path(edit).read_text() + "\\n# edited\\n", encoding="utf-8")
    pool.restart()
try:
    reports = [pool.executor.submit(probe).result(timeout=60) for _ in range(4)]
finally:
    pool.shutdown()
print(json.dumps(reports))
"""


def probe() -> dict[str, object]:
    """Run in a worker: where its engine came from, and that it decides as the crawl does."""
    from crawler import processing

    worker = processing._Worker
    job = processing._warm_up_job()
    result = processing.process_page(job)
    return {
        "pid": os.getpid(),
        "preloaded": worker.preloaded is not None,
        "reused": worker.preloaded is not None and worker.engine is worker.preloaded[1],
        "matched": getattr(result, "record", None) is not None and result.record.matched,
    }


def run_scenario(
    preload: str, used: str, edit: str = "", restart: bool = False
) -> list[dict[str, object]]:
    result = subprocess.run(
        [sys.executable, "-c", SCENARIO, preload, used, edit, "yes" if restart else ""],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_workers_reuse_the_rules_compiled_in_the_forkserver():
    reports = run_scenario(str(DEFAULT_RULES_PATH), str(DEFAULT_RULES_PATH))
    assert all(report["preloaded"] and report["reused"] for report in reports)
    assert all(report["matched"] for report in reports)


def test_workers_build_their_own_engine_without_a_preload():
    reports = run_scenario("", str(DEFAULT_RULES_PATH))
    assert not any(report["preloaded"] for report in reports)
    assert all(report["matched"] for report in reports)


def test_rules_edited_after_the_preload_are_compiled_again(tmp_path: Path):
    rules = tmp_path / "rules.toml"
    rules.write_text(DEFAULT_RULES_PATH.read_text(encoding="utf-8"), encoding="utf-8")
    reports = run_scenario(str(rules), str(rules), edit=str(rules))
    assert all(report["preloaded"] and not report["reused"] for report in reports)
    assert all(report["matched"] for report in reports)


def test_workers_of_another_rules_file_do_not_take_the_preloaded_one(tmp_path: Path):
    other = tmp_path / "rules.toml"
    other.write_text(DEFAULT_RULES_PATH.read_text(encoding="utf-8"), encoding="utf-8")
    reports = run_scenario(str(DEFAULT_RULES_PATH), str(other))
    assert all(report["preloaded"] and not report["reused"] for report in reports)


@pytest.mark.parametrize("preload", ["missing.toml", "broken"])
def test_a_preload_that_fails_leaves_the_forkserver_working(tmp_path: Path, preload: str):
    path = tmp_path / preload
    if preload == "broken":
        path.write_text("this is = not [valid toml", encoding="utf-8")
    reports = run_scenario(str(path), str(DEFAULT_RULES_PATH))
    assert not any(report["preloaded"] for report in reports)
    assert all(report["matched"] for report in reports)


def test_workers_forked_after_a_restart_keep_the_rules_the_crawl_started_with(tmp_path: Path):
    rules = tmp_path / "rules.toml"
    rules.write_text(DEFAULT_RULES_PATH.read_text(encoding="utf-8"), encoding="utf-8")
    reports = run_scenario(str(rules), str(rules), edit=str(rules), restart=True)
    assert all(report["preloaded"] and report["reused"] for report in reports)


MAIN_SCRIPT = """
import os, sys
from pathlib import Path

# Each run of this script, as the crawl's main or as a child's re-run of it, leaves a line.
with open(os.environ["RUNS_LOG"], "a", encoding="utf-8") as log:
    log.write(f"{os.getpid()} {__name__}\\n")

if __name__ == "__main__":
    from crawler.workers import WorkerPool, start_forkserver

    start_forkserver(Path(sys.argv[1]))
    pool = WorkerPool(2, Path(sys.argv[1]))
    try:
        pids = {pool.executor.submit(os.getpid).result(timeout=60) for _ in range(6)}
    finally:
        pool.shutdown()
    print(len(pids))
"""


def run_main_script(
    folder: Path, source: str
) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    """Run `source` as a main script (with the default rules as argument), and the `__name__`
    of each run of it, in order, as its lines in $RUNS_LOG tell."""
    script, log = folder / "main_script.py", folder / "runs.log"
    script.write_text(source, encoding="utf-8")
    result = subprocess.run(
        [sys.executable, str(script), str(DEFAULT_RULES_PATH)],
        cwd=ROOT,
        env={**os.environ, "RUNS_LOG": str(log), "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    runs = [line.split()[1] for line in log.read_text(encoding="utf-8").splitlines()]
    return result, runs


def test_the_main_script_runs_neither_in_the_forkserver_nor_in_the_workers(tmp_path: Path):
    result, runs = run_main_script(tmp_path, MAIN_SCRIPT)
    assert result.returncode == 0, result.stderr[-3000:]
    assert runs == ["__main__"]  # the crawl itself, and nothing else


def loaded_after(code: str, env: dict[str, str] | None = None) -> list[str]:
    """Which of SQLAlchemy, Alembic, Scrapy, Twisted, click and the CLI a fresh Python has
    loaded after running `code`."""
    probe = (
        f"import sys; {code}; "
        "print(sorted({m if m == 'crawler.cli' else m.split('.')[0] for m in sys.modules} & "
        "{'sqlalchemy', 'alembic', 'scrapy', 'twisted', 'click', 'crawler.cli'}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return list(ast.literal_eval(result.stdout.strip()))


def test_the_forkserver_imports_neither_sqlalchemy_nor_scrapy_nor_the_cli():
    """The forkserver imports these modules before the first article can be extracted: what
    they pull in delays every crawl's start (SQLAlchemy alone was 0.3 s, the CLI 0.15 s). The
    crawl process imports Scrapy and SQLAlchemy meanwhile."""
    script = shutil.which("newswatch") or str(Path(sys.executable).with_name("newswatch"))
    preload = {PRELOAD_MAIN_VARIABLE: script, PRELOAD_RULES_VARIABLE: str(DEFAULT_RULES_PATH)}
    assert loaded_after("import crawler.worker_preload", preload) == []


def test_the_cli_imports_neither_sqlalchemy_nor_scrapy():
    """`newswatch crawl` starts the forkserver before it imports the crawl (Scrapy, storage)."""
    assert loaded_after("import crawler.cli") == ["click", "crawler.cli"]


UNGUARDED_SCRIPT = """
import os, sys
from pathlib import Path

with open(os.environ["RUNS_LOG"], "a", encoding="utf-8") as log:
    log.write(f"{os.getpid()} {__name__}\\n")

# No `if __name__ == "__main__":` guard: were it run again in the forkserver or a worker, it
# would start another forkserver there (which would run it again, and so on).
from crawler.workers import WorkerPool, start_forkserver

start_forkserver(Path(sys.argv[1]))
pool = WorkerPool(1, Path(sys.argv[1]))
try:
    print(pool.executor.submit(os.getpid).result(timeout=60))
finally:
    pool.shutdown()
"""


def test_a_main_script_without_a_guard_is_not_run_again(tmp_path: Path):
    # With Python's own start methods but fork, its workers would fail running it again.
    result, runs = run_main_script(tmp_path, UNGUARDED_SCRIPT)
    assert result.returncode == 0, result.stderr[-3000:]
    assert runs == ["__main__"]
