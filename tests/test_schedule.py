"""Schedules: parsing `every N{s,m,h}` and cron lines, fire times across Morocco's Ramadan clock
changes, catching up after downtime, the `[schedule]` config errors, and the daemon's jobs."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from crawler.config import load_config
from crawler.daemon import CRAWL_MISFIRE_GRACE, DIGEST_MISFIRE_GRACE, Daemon
from crawler.errors import ConfigError
from crawler.schedule import crontab_weekdays, parse_schedule
from storage.locks import digest_lock
from storage.records import RunStats
from storage.repository import Repository

PROJECT_ROOT = Path(__file__).resolve().parents[1]
CASABLANCA = ZoneInfo("Africa/Casablanca")
# Morocco's clocks: UTC+1, moved back to UTC+0 for Ramadan 2026 (15 February 03:00 local)
# and forward again on 22 March 2026.
BEFORE_RAMADAN = datetime(2026, 2, 13, 12, 0, tzinfo=UTC)
DURING_RAMADAN = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("every 30s", 30), ("every 15m", 900), ("every 2h", 7200), ("Every  1 H", 3600)],
)
def test_every_n_units(text, seconds):
    schedule = parse_schedule(text)
    assert schedule.interval == timedelta(seconds=seconds)
    assert schedule.cron is None


@pytest.mark.parametrize(
    "text",
    [
        "every 2x",
        "every 0s",
        "every",
        "every 5 days",
        "0 8 * *",
        "61 * * * *",
        "0 8 * * 8",
        "hourly",
    ],
)
def test_bad_schedules_say_what_is_accepted(text):
    with pytest.raises(ValueError, match=r'is not a cron expression or "every N\{s,m,h\}"'):
        parse_schedule(text)


@pytest.mark.parametrize(
    ("field", "expected"),
    [
        ("*", "*"),
        ("1-5", "mon,tue,wed,thu,fri"),
        ("0", "sun"),
        ("7", "sun"),
        ("0,6", "sun,sat"),
        ("*/2", "sun,tue,thu,sat"),
        ("mon-fri", "mon-fri"),
    ],
)
def test_cron_weekdays_mean_what_crontab_means(field, expected):
    assert crontab_weekdays(field) == expected


def test_weekday_cron_fires_on_crontab_weekdays():
    trigger = parse_schedule("0 8 * * 1-5").trigger(CASABLANCA)
    saturday = datetime(2026, 11, 21, 9, 0, tzinfo=CASABLANCA)
    fire = trigger.get_next_fire_time(None, saturday)
    assert fire.strftime("%A %H:%M") == "Monday 08:00"


def test_daily_digest_stays_at_eight_local_across_ramadan_clock_changes():
    trigger = parse_schedule("0 8 * * *").trigger(CASABLANCA)
    before = trigger.get_next_fire_time(None, BEFORE_RAMADAN)
    after = trigger.get_next_fire_time(None, before + timedelta(minutes=1))
    assert (before.hour, after.hour) == (8, 8)
    assert before.utcoffset() == timedelta(hours=1)
    assert after.utcoffset() == timedelta(0)
    # The wall clock says 08:00 both days; 25 real hours passed.
    assert after.astimezone(UTC) - before.astimezone(UTC) == timedelta(hours=25)
    end = trigger.get_next_fire_time(None, datetime(2026, 3, 20, 12, tzinfo=UTC))
    following = trigger.get_next_fire_time(None, end + timedelta(minutes=1))
    assert following.astimezone(UTC) - end.astimezone(UTC) == timedelta(hours=23)


def test_interval_counts_real_time_across_a_clock_change():
    start = datetime(2026, 2, 15, 1, 30, tzinfo=CASABLANCA)  # 90 minutes before the change
    trigger = parse_schedule("every 2h").trigger(CASABLANCA, start=start)
    first = trigger.get_next_fire_time(None, start)
    second = trigger.get_next_fire_time(first, first + timedelta(seconds=1))
    assert second.astimezone(UTC) - first.astimezone(UTC) == timedelta(hours=2)


@pytest.mark.parametrize(
    ("text", "last", "now", "missed"),
    [
        ("every 2h", None, DURING_RAMADAN, True),
        ("every 2h", DURING_RAMADAN - timedelta(hours=1), DURING_RAMADAN, False),
        ("every 2h", DURING_RAMADAN - timedelta(hours=2), DURING_RAMADAN, True),
        # Digest at 08:00 local (= 08:00 UTC during Ramadan); last one yesterday 08:00.
        ("0 8 * * *", datetime(2026, 2, 28, 8, 0, tzinfo=UTC), DURING_RAMADAN, True),
        ("0 8 * * *", datetime(2026, 3, 1, 8, 0, 5, tzinfo=UTC), DURING_RAMADAN, False),
        ("0 8 * * *", datetime(2026, 3, 1, 7, 59, tzinfo=UTC), DURING_RAMADAN, True),
    ],
)
def test_missed_runs_after_downtime(text, last, now, missed):
    assert parse_schedule(text).missed(CASABLANCA, last, now) is missed


def _config(tmp_path, body: str):
    path = tmp_path / "config.toml"
    path.write_text(body, encoding="utf-8")
    return path


def test_schedule_config_error_names_file_key_and_value(tmp_path):
    path = _config(tmp_path, '[schedule]\ncrawl = "every 2x"\n')
    with pytest.raises(ConfigError) as error:
        load_config(path)
    assert str(error.value) == (
        f'{path}: [schedule] crawl: "every 2x" is not a cron expression or "every N{{s,m,h}}"'
    )


def test_schedule_config_errors(tmp_path):
    path = _config(
        tmp_path, '[schedule]\ndigest = "0 25 * * *"\ntimezone = "Africa/Rabat"\ncrawl_every = 3\n'
    )
    with pytest.raises(ConfigError) as error:
        load_config(path)
    message = str(error.value)
    assert '[schedule] digest: "0 25 * * *" is not a cron expression' in message
    assert '[schedule] timezone: "Africa/Rabat" is not a time zone name' in message
    assert "[schedule] crawl_every: unknown key; did you mean 'crawl'?" in message


def test_schedule_defaults(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("NEWSWATCH_CONFIG", raising=False)
    schedule = load_config(None).schedule
    assert (schedule.crawl, schedule.digest, schedule.timezone) == (
        "every 2h",
        "0 8 * * *",
        "Africa/Casablanca",
    )


def _daemon(tmp_path, db_url: str, extra: str = "") -> Daemon:
    path = _config(
        tmp_path,
        f'[database]\nurl = "{db_url}"\n[schedule]\ncrawl = "every 2h"\ndigest = "0 8 * * *"\n'
        f'[digest]\nto = ["veille@example.org"]\n{extra}',
    )
    return Daemon(load_config(path))


def test_jobs_never_overlap_coalesce_and_tolerate_lateness(tmp_path, sqlite_url):
    now = datetime(2026, 3, 1, 12, 0, tzinfo=CASABLANCA)
    scheduler = _daemon(tmp_path, sqlite_url).build_scheduler(now)
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert set(jobs) == {"crawl", "digest"}
    for job in jobs.values():
        assert job.max_instances == 1
        assert job.coalesce is True
    assert jobs["crawl"].misfire_grace_time == CRAWL_MISFIRE_GRACE
    assert jobs["digest"].misfire_grace_time == DIGEST_MISFIRE_GRACE
    assert str(scheduler.timezone) == "Africa/Casablanca"


def test_first_start_crawls_at_once_and_sends_no_digest_yet(tmp_path, sqlite_url):
    now = datetime.now(CASABLANCA)
    daemon = _daemon(tmp_path, sqlite_url)
    scheduler = daemon.build_scheduler(now)
    jobs = {job.id: job for job in scheduler.get_jobs()}
    # Pending jobs keep their explicit next_run_time until the scheduler starts.
    assert getattr(jobs["crawl"], "next_run_time", None) is not None
    assert getattr(jobs["digest"], "next_run_time", None) is None


def test_a_digest_missed_while_down_is_sent_at_start(tmp_path, sqlite_url):
    with Repository(sqlite_url) as repository:
        run = repository.start_run(["lematin"])
        repository.finish_run(run, RunStats(), "ok")
    # The only crawl is a moment old; pretend the daemon restarts two days later.
    later = datetime.now(CASABLANCA) + timedelta(days=2)
    scheduler = _daemon(tmp_path, sqlite_url).build_scheduler(later)
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert getattr(jobs["digest"], "next_run_time", None) is not None
    assert getattr(jobs["crawl"], "next_run_time", None) is not None


def test_no_recipients_no_digest_job(tmp_path, sqlite_url):
    path = _config(tmp_path, f'[database]\nurl = "{sqlite_url}"\n')
    scheduler = Daemon(load_config(path)).build_scheduler(datetime.now(CASABLANCA))
    assert [job.id for job in scheduler.get_jobs()] == ["crawl"]


def test_a_failing_job_is_logged_and_the_daemon_goes_on(tmp_path, sqlite_url, caplog):
    daemon = _daemon(tmp_path, sqlite_url)
    with digest_lock(sqlite_url), caplog.at_level(logging.INFO):
        daemon.digest_job()  # a manual digest holds the lock: this one waits for next time
    assert "Digest not sent: another digest" in caplog.text
    assert "the stories stay pending" in caplog.text


def test_a_config_without_a_cron_line_does_not_load_apscheduler(tmp_path: Path) -> None:
    """`newswatch crawl` validates its config at every start; APScheduler is the daemon's."""
    script = (
        "import sys\n"
        "from crawler.config import load_config\n"
        "load_config(None)\n"
        "assert not any(name.startswith('apscheduler') for name in sys.modules)\n"
        "from crawler.schedule import parse_schedule\n"
        "parse_schedule('every 2h')\n"
        "assert 'apscheduler' not in sys.modules\n"
        "parse_schedule('0 7 * * 1-5')\n"
        "assert 'apscheduler.triggers.cron' in sys.modules\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=tmp_path,  # no ./newswatch.toml: the built-in defaults
        env={**os.environ, "NEWSWATCH_CONFIG": "", "PYTHONPATH": str(PROJECT_ROOT)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
