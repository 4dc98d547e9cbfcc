"""Unusual volume at a window: recorded for the agency, never a refusal.

A window that receives more citizen ratings than its threshold within the
rate-limit period gets one alert per period. Every rating is still stored (the
cleaning judges them: BURST), so honest citizens at a window under attack are never
turned away.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pingyi.db.tables import Response, VolumeAlert


async def record_volume_alert(
    campaign_id: int, window_id: int, at: datetime, threshold: int, period_s: int
) -> None:
    await VolumeAlert.insert(
        VolumeAlert(
            campaign=campaign_id,
            window=window_id,
            started_at=at,
            threshold=threshold,
            period_s=period_s,
        )
    )


async def volume_alerts(campaign_id: int, limit: int = 200) -> list[dict[str, Any]]:
    """The campaign's alerts, newest first, each with the number of public ratings
    its window stored in the period before and after the alert."""
    rows = (
        await VolumeAlert.select(
            VolumeAlert.window,
            VolumeAlert.started_at,
            VolumeAlert.threshold,
            VolumeAlert.period_s,
            VolumeAlert.window.number.as_alias("window_number"),
            VolumeAlert.window.name.as_alias("window_name"),
            VolumeAlert.window.unit.name.as_alias("unit_name"),
        )
        .where(VolumeAlert.campaign == campaign_id)
        .order_by(VolumeAlert.started_at, ascending=False)
        .limit(limit)
    )
    for row in rows:
        period = timedelta(seconds=row["period_s"])
        row["stored"] = await Response.count().where(
            (Response.campaign == campaign_id)
            & (Response.window == row["window"])
            & (Response.submitted_at >= row["started_at"] - period)
            & (Response.submitted_at <= row["started_at"] + period)
        )
        row["minutes"] = max(1, row["period_s"] // 60)
    return list(rows)


async def alert_count(campaign_id: int) -> int:
    return int(await VolumeAlert.count().where(VolumeAlert.campaign == campaign_id))
