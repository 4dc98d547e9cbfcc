"""The console's home per role: what needs doing, most urgent first, each task a link
to the page where it is done.

- agency: open campaigns (colleague ratings in against the plan, public ratings, days
  left), units with low participation, overdue and due-today bad-review cases,
  appeals waiting, cleaned campaigns whose flags wait for review before publishing,
  failed or lagging deliveries to the provincial platform;
- HR, a unit leader, a staff member, an interviewer: services/home_people.py.

Least privilege: a leader's queries are all narrowed to their unit, a staff member's
to themself, and nothing here names a rater. Every count is aggregated in SQL with a
fixed number of queries per home (no query per row), so a home stays cheap at 5,000
staff in 200 units; a published feed is read once per publication and cached, since
a publication never changes (the queries live in services/home_data.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from piccolo.query.functions.aggregate import Count

from pingyi.db.tables import (
    Appeal,
    BadReviewCase,
    Campaign,
    CleaningRun,
    Flag,
)
from pingyi.hours import LOCAL_TZ, end_of_local_day
from pingyi.services import outbox
from pingyi.services.cases import due_today_where, overdue_where
from pingyi.services.home_data import (
    Progress,
    aware,
    campaign_progress,
    grouped_counts,
)

# urgency, most urgent first
OVERDUE, TODAY, WAITING, INFO = 0, 1, 2, 3
CLOSING_SOON_DAYS = 3
LAG_ALERT_S = 3600.0  # the oldest undelivered rating is older than this
LIST_LIMIT = 5  # individual cases / appeals / units listed per kind before "more"
FIRST = datetime.min.replace(tzinfo=UTC)  # a count line sorts before the lines it counts


@dataclass(frozen=True)
class Task:
    urgency: int
    key: str  # message key of the line; params fill it
    href: str
    params: dict[str, Any] = field(default_factory=dict)
    due: datetime | None = None  # tie-break inside an urgency: earliest first


@dataclass
class Home:
    role: str
    tasks: list[Task] = field(default_factory=list)
    campaigns: list[Progress] = field(default_factory=list)
    # (campaign name, satisfied share, n): a unit's raw public satisfaction per campaign
    satisfaction: list[tuple[str, float, int]] = field(default_factory=list)
    # (campaign name, total): a staff member's published totals, oldest first
    my_totals: list[tuple[str, float]] = field(default_factory=list)

    def sorted_tasks(self) -> list[Task]:
        far = datetime.max.replace(tzinfo=UTC)
        return sorted(self.tasks, key=lambda t: (t.urgency, t.due or far))


# cases


async def _case_tasks(now: datetime, unit: int | None) -> list[Task]:
    tasks: list[Task] = []
    scope = BadReviewCase.unit == unit if unit is not None else BadReviewCase.id > 0
    for state, where, urgency, key in (
        ("overdue", overdue_where(now), OVERDUE, "home.cases_overdue"),
        ("due_today", due_today_where(now), TODAY, "home.cases_due_today"),
    ):
        count = await BadReviewCase.count().where(scope & where)
        if not count:
            continue
        tasks.append(Task(urgency, key, f"/admin/cases?state={state}", {"n": count}, FIRST))
        rows = (
            await BadReviewCase.select(*_case_line_columns())
            .where(scope & where)
            .order_by(BadReviewCase.rectify_due)
            .limit(LIST_LIMIT)
        )
        for row in rows:
            tasks.append(_case_line(row, urgency))
    return tasks


def _case_line_columns() -> tuple[Any, ...]:
    """The columns a case line shows."""
    return (
        BadReviewCase.id,
        BadReviewCase.rectify_due,
        BadReviewCase.contact_due,
        BadReviewCase.contacted_at,
        BadReviewCase.unit.name.as_alias("unit_name"),
        BadReviewCase.window.number.as_alias("window_number"),
    )


def _case_line(row: dict[str, Any], urgency: int) -> Task:
    due = aware(row["rectify_due"])
    if row["contacted_at"] is None:
        due = min(due, aware(row["contact_due"]))
    return Task(
        urgency,
        "home.case_line",
        f"/admin/cases/{row['id']}",
        {
            "id": row["id"],
            "unit": row["unit_name"],
            "window": row["window_number"] or "",
            "due": due.astimezone(LOCAL_TZ).strftime("%m-%d %H:%M"),
            "contact": row["contacted_at"] is None,
        },
        due,
    )


async def open_case_list(now: datetime, unit: int) -> list[Task]:
    """A leader's open cases, every one, by deadline (a unit has few at a time)."""
    rows = (
        await BadReviewCase.select(*_case_line_columns())
        .where((BadReviewCase.unit == unit) & (BadReviewCase.state != "closed"))
        .order_by(BadReviewCase.rectify_due)
        .limit(50)
    )
    end = end_of_local_day(now)
    tasks = []
    for row in rows:
        line = _case_line(row, WAITING)
        assert line.due is not None
        urgency = OVERDUE if line.due < now else TODAY if line.due < end else WAITING
        tasks.append(Task(urgency, line.key, line.href, line.params, line.due))
    return tasks


# campaigns


def progress_tasks(progress: list[Progress]) -> list[Task]:
    tasks = []
    for p in progress:
        soon = p.days_left <= CLOSING_SOON_DAYS
        tasks.append(
            Task(
                TODAY if soon else INFO,
                "home.campaign_open",
                f"/admin/campaigns/{p.code}",
                {
                    "name": p.name,
                    "pct": "—" if p.rate is None else f"{p.rate * 100:.0f}",
                    "received": p.received,
                    "planned": p.planned,
                    "public": p.public,
                    "days": p.days_left,
                },
            )
        )
        for u in p.low_units[:LIST_LIMIT]:
            tasks.append(
                Task(
                    TODAY if soon else WAITING,
                    "home.low_participation",
                    f"/admin/campaigns/{p.code}",
                    {
                        "unit": u["name"],
                        "name": p.name,
                        "pct": f"{u['received'] / u['planned'] * 100:.0f}",
                        "days": p.days_left,
                    },
                )
            )
        if len(p.low_units) > LIST_LIMIT:
            tasks.append(
                Task(
                    WAITING,
                    "home.low_participation_more",
                    f"/admin/campaigns/{p.code}",
                    {"n": len(p.low_units) - LIST_LIMIT, "name": p.name},
                )
            )
    return tasks


# appeals, flags, deliveries


async def _appeal_tasks() -> list[Task]:
    waiting = Appeal.state == "submitted"
    count = await Appeal.count().where(waiting)
    if not count:
        return []
    tasks = [Task(WAITING, "home.appeals_waiting", "/admin/appeals", {"n": count}, FIRST)]
    rows = (
        await Appeal.select(
            Appeal.id, Appeal.created_at, Appeal.campaign.name.as_alias("campaign_name")
        )
        .where(waiting)
        .order_by(Appeal.created_at)
        .limit(LIST_LIMIT)
    )
    for r in rows:
        created = aware(r["created_at"])
        tasks.append(
            Task(
                WAITING,
                "home.appeal_line",
                f"/admin/appeals/{r['id']}",
                {
                    "id": r["id"],
                    "name": r["campaign_name"],
                    "since": created.astimezone(LOCAL_TZ).strftime("%Y-%m-%d"),
                },
                created,
            )
        )
    return tasks


async def _flag_tasks() -> list[Task]:
    """Cleaned campaigns not yet published: the agency reviews their flags first."""
    cleaned = await Campaign.select(Campaign.id, Campaign.code, Campaign.name).where(
        Campaign.state == "cleaned"
    )
    if not cleaned:
        return []
    ids = [c["id"] for c in cleaned]
    latest = await grouped_counts(
        CleaningRun.select(CleaningRun.campaign, CleaningRun.revision, Count())
        .where(CleaningRun.campaign.is_in(ids))
        .group_by(CleaningRun.campaign, CleaningRun.revision),
        "campaign",
        "revision",
    )
    newest: dict[int, int] = {}
    for cid, revision in latest:
        newest[cid] = max(newest.get(cid, 0), revision)
    counts = await grouped_counts(
        Flag.select(Flag.campaign, Flag.revision, Count())
        .where(Flag.campaign.is_in(ids) & Flag.overridden.eq(False))
        .group_by(Flag.campaign, Flag.revision),
        "campaign",
        "revision",
    )
    tasks = []
    for c in cleaned:
        n = counts.get((c["id"], newest.get(c["id"], -1)), 0)
        tasks.append(
            Task(
                WAITING,
                "home.flags_review",
                f"/admin/campaigns/{c['code']}/flags",
                {"name": c["name"], "n": n},
            )
        )
    return tasks


async def delivery_tasks(now: datetime, enabled: bool) -> list[Task]:
    state = await outbox.status(now)
    tasks = []
    if state["dead"]:
        tasks.append(Task(OVERDUE, "home.outbox_dead", "/admin/outbox", {"n": state["dead"]}))
    lag = state["lag_s"]
    if enabled and state["pending"] and lag is not None and lag > LAG_ALERT_S:
        tasks.append(
            Task(
                OVERDUE if lag > 24 * LAG_ALERT_S else TODAY,
                "home.outbox_lag",
                "/admin/outbox",
                {"n": state["pending"], "hours": f"{lag / 3600:.1f}"},
            )
        )
    return tasks


async def agency_home(now: datetime, outbox_enabled: bool) -> Home:
    home = Home("agency_admin")
    home.campaigns = await campaign_progress(now)
    home.tasks += progress_tasks(home.campaigns)
    home.tasks += await _case_tasks(now, None)
    home.tasks += await _appeal_tasks()
    home.tasks += await _flag_tasks()
    home.tasks += await delivery_tasks(now, outbox_enabled)
    return home
