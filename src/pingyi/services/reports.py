"""Reports from citizens that go to the agency, never to the unit."""

from __future__ import annotations

from datetime import UTC, datetime

from pingyi.db.tables import PressureReport


async def record_pressure(campaign_id: int, window_id: int, text: str) -> None:
    # Only the day is kept: a time would let the unit match the report to a visit.
    await PressureReport.insert(
        PressureReport(
            campaign=campaign_id,
            window=window_id,
            text=text.strip(),
            reported_on=datetime.now(UTC).date(),
        )
    )
