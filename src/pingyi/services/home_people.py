"""The homes of HR, a unit leader, a staff member and an interviewer (the agency's
is in services/home.py, with the task and home types they share).

- HR: published campaigns whose final grades are not all decided, appeals under
  review (the numbers may change), appeal outcomes of the last 30 days;
- a unit leader: their unit's open cases by deadline, its participation in open
  campaigns, its raw public satisfaction per campaign, and (as a staff member) their
  own results;
- a staff member: their latest published results and their appeals' states;
- an interviewer: the mystery visits planned for them.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from piccolo.query.functions.aggregate import Count

from pingyi.db.tables import Appeal, Campaign, GradeDecision, MysteryVisit, Staff
from pingyi.hours import LOCAL_TZ
from pingyi.services.home import (
    CLOSING_SOON_DAYS,
    INFO,
    LIST_LIMIT,
    TODAY,
    WAITING,
    Home,
    Task,
    open_case_list,
)
from pingyi.services.home_data import (
    LOW_PARTICIPATION,
    aware,
    campaign_progress,
    feed_rows,
    grouped_counts,
    latest_publications,
    unit_satisfaction,
)


async def _published_campaigns() -> dict[int, dict[str, Any]]:
    return {
        c["id"]: c
        for c in await Campaign.select(
            Campaign.id, Campaign.code, Campaign.name, Campaign.period_end
        ).where(Campaign.state == "published")
    }


async def hr_home(now: datetime) -> Home:
    home = Home("hr")
    campaigns = await _published_campaigns()
    latest = await latest_publications(list(campaigns))
    decided = await grouped_counts(
        GradeDecision.select(
            GradeDecision.campaign,
            GradeDecision.revision,
            Count(distinct=[GradeDecision.staff]),
        )
        .where(GradeDecision.campaign.is_in(list(campaigns) or [0]))
        .group_by(GradeDecision.campaign, GradeDecision.revision),
        "campaign",
        "revision",
    )
    for cid, p in latest.items():
        c = campaigns[cid]
        total = len(await feed_rows(p))
        done = decided.get((cid, p["revision"]), 0)
        if total > done:
            home.tasks.append(
                Task(
                    WAITING,
                    "home.grades_waiting",
                    f"/admin/campaigns/{c['code']}/scores?final=pending",
                    {"name": c["name"], "n": total - done, "total": total},
                    aware(p["published_at"]),
                )
            )
    under_review = await grouped_counts(
        Appeal.select(Appeal.campaign, Count())
        .where(Appeal.state == "submitted")
        .group_by(Appeal.campaign),
        "campaign",
    )
    names = {
        c["id"]: c
        for c in await Campaign.select(Campaign.id, Campaign.code, Campaign.name).where(
            Campaign.id.is_in([k[0] for k in under_review] or [0])
        )
    }
    for (cid,), n in under_review.items():
        c = names[cid]
        home.tasks.append(
            Task(
                INFO,
                "home.appeals_pending_hr",
                f"/admin/campaigns/{c['code']}/scores",
                {"name": c["name"], "n": n},
            )
        )
    decided_appeals = (
        await Appeal.select(
            Appeal.state,
            Appeal.decided_at,
            Appeal.campaign.code.as_alias("campaign_code"),
            Appeal.campaign.name.as_alias("campaign_name"),
            Appeal.staff.name.as_alias("staff_name"),
        )
        .where(
            Appeal.state.is_in(["upheld", "rejected"])
            & (Appeal.decided_at >= now - timedelta(days=30))
        )
        .order_by(Appeal.decided_at, ascending=False)
        .limit(20)
    )
    for a in decided_appeals:
        home.tasks.append(
            Task(
                WAITING if a["state"] == "upheld" else INFO,
                f"home.appeal_{a['state']}",
                f"/admin/campaigns/{a['campaign_code']}/scores",
                {
                    "staff": a["staff_name"],
                    "name": a["campaign_name"],
                    "when": aware(a["decided_at"]).astimezone(LOCAL_TZ).strftime("%Y-%m-%d"),
                },
            )
        )
    return home


# a unit leader, a staff member


async def leader_home(now: datetime, unit: int | None, staff_id: int | None) -> Home:
    home = Home("unit_leader")
    if unit is None:
        return home
    home.tasks += await open_case_list(now, unit)
    home.campaigns = await campaign_progress(now, unit=unit)
    for p in home.campaigns:
        if p.rate is not None and p.rate < LOW_PARTICIPATION:
            home.tasks.append(
                Task(
                    TODAY if p.days_left <= CLOSING_SOON_DAYS else WAITING,
                    "home.my_unit_participation",
                    f"/admin/campaigns/{p.code}",
                    {"name": p.name, "pct": f"{p.rate * 100:.0f}", "days": p.days_left},
                )
            )
    home.satisfaction = await unit_satisfaction(unit)
    if staff_id is not None:
        mine = await staff_home(now, staff_id)
        home.tasks += mine.tasks
        home.my_totals = mine.my_totals
    return home


async def staff_home(now: datetime, staff_id: int) -> Home:
    home = Home("staff")
    staff = await Staff.select(Staff.code).where(Staff.id == staff_id).first()
    if staff is None:
        return home
    campaigns = await _published_campaigns()
    latest = await latest_publications(list(campaigns))
    finals = {
        (g["campaign"], g["revision"]): g["final"]
        for g in await GradeDecision.select(
            GradeDecision.campaign, GradeDecision.revision, GradeDecision.final
        )
        .where(GradeDecision.staff == staff_id)
        .order_by(GradeDecision.id)
    }
    results = []
    for cid, p in latest.items():
        row = (await feed_rows(p)).get(staff["code"])
        if row is not None:
            results.append((campaigns[cid], p, row))
    results.sort(key=lambda x: x[0]["period_end"])
    home.my_totals = [(c["name"], r["total"]) for c, _, r in results if r["total"] is not None]
    for c, p, row in results[-3:]:
        final = finals.get((c["id"], p["revision"]), "")
        home.tasks.append(
            Task(
                INFO,
                "home.my_result",
                "/me",
                {
                    "name": c["name"],
                    "total": "—" if row["total"] is None else f"{row['total']:.2f}",
                    "grade": final or row["recommended_grade"] or "—",
                    "final": bool(final),
                },
                aware(p["published_at"]),
            )
        )
    for a in (
        await Appeal.select(
            Appeal.id,
            Appeal.state,
            Appeal.created_at,
            Appeal.campaign.name.as_alias("campaign_name"),
        )
        .where(Appeal.staff == staff_id)
        .order_by(Appeal.id, ascending=False)
        .limit(LIST_LIMIT)
    ):
        home.tasks.append(
            Task(
                WAITING if a["state"] == "submitted" else INFO,
                f"home.my_appeal_{a['state']}",
                "/me",
                {"name": a["campaign_name"]},
                aware(a["created_at"]),
            )
        )
    return home


async def interviewer_home(user_id: int) -> Home:
    home = Home("interviewer")
    planned = await MysteryVisit.count().where(
        (MysteryVisit.evaluator == user_id) & (MysteryVisit.state == "planned")
    )
    if planned:
        home.tasks.append(Task(WAITING, "home.visits_planned", "/admin/mystery", {"n": planned}))
    return home
