"""Schedules as users write them, `every 30s|15m|2h` or a 5-field cron line, as APScheduler triggers.

Parsing is pure and also used by `crawler.config` to validate `[schedule]` at load time; the
scheduler itself lives in `crawler.daemon`. Cron lines follow crontab's meaning (day of week 0 or 7
is Sunday), although APScheduler 3.x counts weekdays from Monday: numeric days are translated.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from apscheduler.triggers.base import BaseTrigger
    from apscheduler.triggers.cron import CronTrigger

_EVERY = re.compile(r"^every\s+(\d{1,6})\s*([smh])$", re.IGNORECASE)
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours"}
_DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")  # APScheduler's order
_NUMERIC_DOW = re.compile(r"^(\*|\d+(?:-\d+)?)(?:/(\d+))?$")
SYNTAX = 'is not a cron expression or "every N{s,m,h}"'


@dataclass(frozen=True, slots=True)
class Schedule:
    """A parsed schedule: either a fixed interval or a cron line (never both)."""

    text: str
    interval: timedelta | None = None
    cron: str | None = None  # with the day-of-week field in APScheduler's numbering

    def trigger(self, timezone: ZoneInfo, start: datetime | None = None) -> BaseTrigger:
        """The APScheduler trigger; an interval counts from `start` (default: now)."""
        if self.interval is not None:
            from apscheduler.triggers.interval import IntervalTrigger

            return IntervalTrigger(
                seconds=int(self.interval.total_seconds()), start_date=start, timezone=timezone
            )
        assert self.cron is not None
        return _cron_trigger(self.cron, timezone)

    def missed(self, timezone: ZoneInfo, last: datetime | None, now: datetime) -> bool:
        """Whether a run fell due after `last` (the last run, None: never) and by `now`.

        Used at start-up: the scheduler knows nothing of the time it was down, the database does.
        """
        if last is None:
            return True
        if self.interval is not None:
            return now - last >= self.interval
        due = self.trigger(timezone).get_next_fire_time(None, last + timedelta(seconds=1))
        return due is not None and due <= now

    def __str__(self) -> str:
        return self.text


def parse_schedule(text: str) -> Schedule:
    """Parse `every N{s,m,h}` or a 5-field cron line; ValueError says what is wrong."""
    stripped = " ".join(text.split())
    every = _EVERY.match(stripped)
    if every:
        count, unit = int(every.group(1)), every.group(2).lower()
        if count == 0:
            raise ValueError(f'"{text}" {SYNTAX}: the interval must be at least 1{unit}')
        return Schedule(stripped, interval=timedelta(**{_UNITS[unit]: count}))
    fields = stripped.split(" ")
    if len(fields) != 5 or stripped.lower().startswith("every"):
        raise ValueError(f'"{text}" {SYNTAX}')
    try:
        fields[4] = crontab_weekdays(fields[4])
        cron = " ".join(fields)
        _cron_trigger(cron, None)
    except ValueError as exc:
        raise ValueError(f'"{text}" {SYNTAX} ({exc})') from None
    return Schedule(stripped, cron=cron)


def crontab_weekdays(field: str) -> str:
    """Translate crontab's numeric weekdays (0 or 7 = Sunday) into APScheduler 3.x day names."""
    parts = []
    for part in field.split(","):
        match = _NUMERIC_DOW.match(part)
        if match is None:
            parts.append(part)  # names ("mon-fri") mean the same in both
            continue
        span, step = match.group(1), int(match.group(2) or 1)
        if step == 0:
            raise ValueError(f"day of week {part!r}: a step must be at least 1")
        if span == "*":
            if step == 1:
                parts.append("*")
                continue
            first, last = 0, 6
        elif "-" in span:
            first, last = (int(value) for value in span.split("-"))
        else:
            first = last = int(span)
        if not (0 <= first <= 7 and 0 <= last <= 7 and first <= last):
            raise ValueError(f"day of week {part!r}: days are 0-7 (0 and 7 are Sunday)")
        days = dict.fromkeys((day - 1) % 7 for day in range(first, last + 1, step))
        parts.extend(_DAY_NAMES[day] for day in days)
    return ",".join(dict.fromkeys(parts))


def _cron_trigger(cron: str, timezone: ZoneInfo | None) -> CronTrigger:
    # Imported here: a config without a cron line (the default schedules, or `every N`
    # ones) then does not load APScheduler when it is validated (35 ms of a crawl's start).
    from apscheduler.triggers.cron import CronTrigger

    minute, hour, day, month, day_of_week = cron.split(" ")
    return CronTrigger(
        minute=minute,
        hour=hour,
        day=day,
        month=month,
        day_of_week=day_of_week,
        timezone=timezone,
    )
