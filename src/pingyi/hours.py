"""Opening hours such as "08:30-12:00,13:30-17:30", in the hall's local time."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

LOCAL_TZ = ZoneInfo("Asia/Shanghai")


def parse_hours(spec: str) -> list[tuple[time, time]]:
    """Raise ValueError with the offending part when the text is not valid."""
    spans = []
    for part in (p.strip() for p in spec.split(",") if p.strip()):
        try:
            start, end = (time.fromisoformat(x.strip()) for x in part.split("-"))
        except ValueError as exc:
            raise ValueError(f"opening hours {part!r} should look like 08:30-17:30") from exc
        if end <= start:
            raise ValueError(f"opening hours {part!r} end before they start")
        spans.append((start, end))
    return spans


def within_hours(spec: str, moment: datetime) -> bool:
    """True when `moment` falls in the opening hours; an empty spec means always open.
    Weekends are not special-cased: many halls open on Saturdays and make-up days."""
    spans = parse_hours(spec) if spec else []
    if not spans:
        return True
    local = moment.astimezone(LOCAL_TZ).time()
    return any(start <= local < end for start, end in spans)


def local_today(now: datetime) -> date:
    return now.astimezone(LOCAL_TZ).date()


def end_of_local_day(now: datetime) -> datetime:
    return datetime.combine(local_today(now) + timedelta(days=1), time(), LOCAL_TZ).astimezone(UTC)
