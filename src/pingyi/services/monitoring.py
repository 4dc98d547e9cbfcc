"""Numbers for the campaign dashboard: counts only, never who said what."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any

from pingyi.db.tables import BadReviewCase, CleaningRun, Response, ServiceWindow
from pingyi.hours import LOCAL_TZ


async def dashboard(campaign_id: int) -> dict[str, Any]:
    public = await Response.select(
        Response.submitted_at,
        Response.window,
        Response.window.unit.name.as_alias("unit"),
    ).where((Response.campaign == campaign_id) & (Response.role == "public"))
    per_day = Counter(
        r["submitted_at"].astimezone(LOCAL_TZ).date().isoformat()
        for r in public
        if r["submitted_at"]
    )
    per_unit = Counter(r["unit"] or "—" for r in public)
    windows = {
        w["id"]: f"{w['number']} {w['name']}"
        for w in await ServiceWindow.select(
            ServiceWindow.id, ServiceWindow.number, ServiceWindow.name
        )
    }
    per_window = Counter(windows.get(r["window"], "—") for r in public)
    cases = await BadReviewCase.select(
        BadReviewCase.state,
        BadReviewCase.rectify_due,
        BadReviewCase.contact_due,
        BadReviewCase.contacted_at,
    ).where(BadReviewCase.campaign == campaign_id)
    now = datetime.now(UTC)
    open_cases = [c for c in cases if c["state"] != "closed"]
    overdue = [
        c
        for c in open_cases
        if c["rectify_due"] < now or (c["contacted_at"] is None and c["contact_due"] < now)
    ]
    run = (
        await CleaningRun.select(CleaningRun.revision, CleaningRun.summary)
        .where(CleaningRun.campaign == campaign_id)
        .order_by(CleaningRun.revision, ascending=False)
        .output(load_json=True)
        .first()
    )
    flagged_share = None
    if run and run["summary"].get("responses"):
        flagged_share = run["summary"]["flagged_responses"] / run["summary"]["responses"]
    return {
        "public_total": len(public),
        "per_day": sorted(per_day.items()),
        "per_unit": per_unit.most_common(),
        "per_window": per_window.most_common(),
        "cases_total": len(cases),
        "cases_open": len(open_cases),
        "cases_overdue": len(overdue),
        "run": run,
        "flagged_share": flagged_share,
    }
