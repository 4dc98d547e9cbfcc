"""The console's home page: what needs doing for the signed-in role, most urgent
first (services/home.py); the console's sections live in their own modules."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from litestar import Request, get
from litestar.response import Template

from pingyi import charts
from pingyi.i18n import translate
from pingyi.services import home, home_people
from pingyi.web.guards import current_user
from pingyi.web.rendering import render, request_language
from pingyi.web.state import settings_of

DAYS_CHARTED = 14


async def _home_of(request: Request[Any, Any, Any], user: dict[str, Any]) -> home.Home:
    now = datetime.now(UTC)
    role = user["role"]
    staff_id = int(user["staff_id"]) if user.get("staff_id") is not None else None
    if role == "agency_admin":
        return await home.agency_home(now, bool(settings_of(request).outbox_url))
    if role == "hr":
        return await home_people.hr_home(now)
    if role == "unit_leader":
        unit = int(user["unit_id"]) if user.get("unit_id") is not None else None
        return await home_people.leader_home(now, unit, staff_id)
    if role == "staff" and staff_id is not None:
        return await home_people.staff_home(now, staff_id)
    if role == "interviewer":
        return await home_people.interviewer_home(int(user["id"]))
    return home.Home(role)


def _charts(result: home.Home, lang: str) -> list[str]:
    """Small charts where a trend says more than a number."""
    out = []
    for p in result.campaigns:
        if len(p.per_day) >= 2:
            days = p.per_day[-DAYS_CHARTED:]
            out.append(
                charts.bar_chart(
                    [d[5:] for d, _ in days],
                    [float(n) for _, n in days],
                    title=translate("home.chart_per_day", lang, name=p.name),
                    width=420,
                    bar_height=12,
                )
            )
    if result.satisfaction:
        out.append(
            charts.bar_chart(
                [name for name, _, _ in result.satisfaction],
                [share * 100 for _, share, _ in result.satisfaction],
                title=translate("home.chart_satisfaction", lang),
                width=420,
                value_format=lambda v: f"{v:.0f}%",
            )
        )
    if len(result.my_totals) >= 2:
        out.append(
            charts.bar_chart(
                [name for name, _ in result.my_totals],
                [total for _, total in result.my_totals],
                title=translate("home.chart_my_totals", lang),
                width=420,
            )
        )
    return out


@get("/admin", opt={"permission": "home"})
async def admin_home(request: Request[Any, Any, Any]) -> Template:
    user = current_user(request)
    assert user is not None  # the guard ran first
    result = await _home_of(request, user)
    return render(
        request,
        "admin/home.html",
        home=result,
        tasks=result.sorted_tasks(),
        home_charts=_charts(result, request_language(request)),
    )
