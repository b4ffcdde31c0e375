"""The calendar of a cadence: which period a day falls in, and whether a topic is in season.

Periods are in the shop's own calendar (its time zone): weeks start on Monday, two-week periods
are the even-numbered fortnights counted from Monday 2024-01-01, months and quarters are the
calendar's. A period is named by its cadence and first day: "monthly:2026-05-01".
"""

from __future__ import annotations

from datetime import date, timedelta

from newsletters.models import Cadence, Topic

FORTNIGHTS_FROM = date(2024, 1, 1)  # a Monday


def period_start(cadence: str, day: date) -> date:
    if cadence == Cadence.WEEKLY:
        return day - timedelta(days=day.weekday())
    if cadence == Cadence.BIWEEKLY:
        monday = day - timedelta(days=day.weekday())
        weeks = (monday - FORTNIGHTS_FROM).days // 7
        return monday - timedelta(weeks=weeks % 2)
    if cadence == Cadence.MONTHLY:
        return day.replace(day=1)
    if cadence == Cadence.QUARTERLY:
        return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    raise ValueError(f"unknown cadence {cadence!r}")


def period_key(cadence: str, start: date) -> str:
    return f"{cadence}:{start.isoformat()}"


def next_period_start(cadence: str, day: date) -> date:
    """The first day of the period after the one `day` is in."""
    start = period_start(cadence, day)
    if cadence == Cadence.WEEKLY:
        return start + timedelta(weeks=1)
    if cadence == Cadence.BIWEEKLY:
        return start + timedelta(weeks=2)
    months = 1 if cadence == Cadence.MONTHLY else 3
    month = start.month - 1 + months
    return date(start.year + month // 12, month % 12 + 1, 1)


def in_season(topic: Topic, day: date) -> bool:
    """Whether the topic's season (months, coming round each year, perhaps across the new year)
    includes `day`. A topic without a season is always in season."""
    first, last = topic.season_start_month, topic.season_end_month
    if first is None or last is None:
        return True
    if first <= last:
        return first <= day.month <= last
    return day.month >= first or day.month <= last
