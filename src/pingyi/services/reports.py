"""Reports from citizens that go to the agency, never to the unit."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pingyi.db.tables import Campaign, PressureReport


async def record_pressure(campaign_id: int, window_id: int, text: str, once: str) -> bool:
    """Store the report; False when this rating form has reported already (a replay
    or a second click), in which case nothing is stored."""
    # Reports belong to an open campaign: a form of a closed one stores nothing, so
    # the one-report-per-form hash can be purged once the campaign is final
    # (services/retention.py) without letting a replayed form report again.
    if not await Campaign.exists().where((Campaign.id == campaign_id) & (Campaign.state == "open")):
        return False
    # Only the day is kept: a time would let the unit match the report to a visit.
    try:
        await PressureReport.insert(
            PressureReport(
                campaign=campaign_id,
                window=window_id,
                text=text.strip(),
                reported_on=datetime.now(UTC).date(),
                once=once,
            )
        )
    except Exception as exc:  # the unique index on `once`: this form reported already
        if "unique" not in str(exc).lower():
            raise
        return False
    return True


async def pressure_reports(campaign_id: int, limit: int = 500) -> list[dict[str, Any]]:
    """The campaign's reports for the agency, newest day first: window and day only."""
    rows = (
        await PressureReport.select(
            PressureReport.reported_on,
            PressureReport.text,
            PressureReport.window.number.as_alias("window_number"),
            PressureReport.window.name.as_alias("window_name"),
            PressureReport.window.unit.name.as_alias("unit_name"),
        )
        .where(PressureReport.campaign == campaign_id)
        .order_by(PressureReport.reported_on, ascending=False)
        .order_by(PressureReport.id)
        .limit(limit)
    )
    return list(rows)
