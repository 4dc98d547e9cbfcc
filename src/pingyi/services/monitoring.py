"""Numbers for the campaign dashboard: counts only, never who said what."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any

from pingyi.db.tables import BadReviewCase, CleaningRun, Response, ServiceWindow
from pingyi.hours import LOCAL_TZ


async def dashboard(campaign_id: int, only_unit: int | None = None) -> dict[str, Any]:
    """The campaign's counts; with `only_unit`, those of that unit alone (a unit
    leader's view: their unit's windows and cases, no campaign-wide figure)."""
    public_query = Response.select(
        Response.submitted_at,
        Response.window,
        Response.window.unit.name.as_alias("unit"),
    ).where((Response.campaign == campaign_id) & (Response.role == "public"))
    if only_unit is not None:
        public_query = public_query.where(Response.window.unit == only_unit)
    public = await public_query
    per_day = Counter(
        r["submitted_at"].astimezone(LOCAL_TZ).date().isoformat()
        for r in public
        if r["submitted_at"]
    )
    per_unit = Counter(r["unit"] or "—" for r in public)
    window_query = ServiceWindow.select(ServiceWindow.id, ServiceWindow.number, ServiceWindow.name)
    if only_unit is not None:
        window_query = window_query.where(ServiceWindow.unit == only_unit)
    windows = {w["id"]: f"{w['number']} {w['name']}" for w in await window_query}
    per_window = Counter(windows.get(r["window"], "—") for r in public)
    case_query = BadReviewCase.select(
        BadReviewCase.state,
        BadReviewCase.rectify_due,
        BadReviewCase.contact_due,
        BadReviewCase.contacted_at,
    ).where(BadReviewCase.campaign == campaign_id)
    if only_unit is not None:
        case_query = case_query.where(BadReviewCase.unit == only_unit)
    cases = await case_query
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
    if only_unit is not None:
        run = None  # the cleaning's summary is campaign-wide: the agency's to read
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
