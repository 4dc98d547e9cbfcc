"""Deadlines in working days that follow China's public holidays and make-up working
days (调休), from the maintained `chinese_calendar` package. Outside the years it
knows, Monday to Friday count as working days."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import chinese_calendar

from pingyi.hours import LOCAL_TZ


def is_workday(day: date) -> bool:
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        return day.weekday() < 5


def add_working_days(start: datetime, n: int) -> datetime:
    """The end (23:59:59 local time) of the n-th working day after the start day."""
    day = start.astimezone(LOCAL_TZ).date()
    remaining = n
    while remaining > 0:
        day += timedelta(days=1)
        if is_workday(day):
            remaining -= 1
    return datetime.combine(day, time(23, 59, 59), LOCAL_TZ)


def working_days_between(a: date, b: date) -> int:
    return sum(1 for i in range(1, (b - a).days + 1) if is_workday(a + timedelta(days=i)))
