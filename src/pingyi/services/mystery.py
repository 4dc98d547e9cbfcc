"""Mystery shopping (暗访): checklists, visit plans, visits and their scores.

The agency writes a checklist: weighted items of three kinds,

- ``yesno``: done or not (首问负责, 一次性告知, 服务用语, 着装规范 ...): full marks or none;
- ``points``: marked 0..``max`` by the evaluator (e.g. 0-5 for the service language);
- ``minutes``: a number of minutes (the wait), full marks up to ``target`` minutes, none
  from ``limit`` minutes on, in proportion between;

and plans visits: which windows, how many visits in which ISO week, by which evaluator
(an ``interviewer`` login). The evaluator sees the planned visits as a list and enters
each on a phone; the page keeps the answers while offline (static/mystery.js) and sends
them when it can. A visit's score is the weighted share of marks, 0..100.

A visit is its own record (``MysteryVisit``), not a ``Response``: a checklist is not a
1-5 rating, and counting it as one would change the public scores, the cleaning and the
HR feed. Its rater is the evaluator's per-campaign pseudonym, as for phone calls and
field interviews (``phone.interviewer_rater``). A submission carries the id of the form
it came from: the first submission stores the visit; the same form sent again (after a
reconnect, a double tap, the back button) changes nothing and is answered as stored.

Scores per window and unit are the mean of their visits' scores, with the number of
visits (a unit's mean weighs each visit equally, so windows visited more weigh more).
The indicators show them raw; the campaign report hides groups under ``k`` visits with
their complement, as it does for the public ratings (``report_stats.suppress_tree``).
"""

from __future__ import annotations

import json
import math
import re
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from pingyi.db.tables import (
    MYSTERY_KINDS,
    AdminUser,
    Campaign,
    CampaignUnit,
    MysteryChecklist,
    MysteryVisit,
    ServiceWindow,
)
from pingyi.hours import LOCAL_TZ
from pingyi.services import audit
from pingyi.services.phone import interviewer_rater

MAX_ITEMS = 40
MAX_VISITS_PER_PLAN = 500  # windows x visits in one plan
MAX_MINUTES = 24 * 60
MAX_NOTE = 2000
PLANNABLE = ("draft", "open", "closed")
ENTERABLE = ("open", "closed")  # a visit is entered while the campaign is open or closing
CLIENT_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
CODE = re.compile(r"^[A-Za-z0-9_]{1,64}$")  # an item's (it names a form field)
CHECKLIST_CODE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")

# The agency's starting point (one item per line: code | kind | weight | 中文 | English |
# marks: max points, or target-limit minutes).
DEFAULT_CHECKLIST = "\n".join(
    [
        "first_contact | yesno | 2 | 首问负责：首位接待人员主动接待并负责到底"
        " | First-contact responsibility: the first person asked takes the matter on |",
        "tell_once | yesno | 2 | 一次性告知：一次讲清所需材料和流程"
        " | Told everything needed at once (documents, steps) |",
        "language | points | 1 | 服务用语文明规范（0-5 分） | Polite, standard service language"
        " (0-5) | 5",
        "dress | yesno | 1 | 着装规范、佩戴工牌 | Dress code kept, name badge worn |",
        "wait | minutes | 2 | 等候时间（分钟） | Waiting time (minutes) | 10-30",
    ]
)


class MysteryError(ValueError):
    """Its message is an i18n key (mystery.error.*); ``line`` the checklist line at fault."""

    def __init__(self, key: str, line: int = 0) -> None:
        super().__init__(key)
        self.key = key
        self.line = line


@dataclass(frozen=True)
class CheckItem:
    code: str
    text_zh: str
    text_en: str
    kind: str
    weight: float
    max: int = 0  # points: the highest mark
    target: float = 0.0  # minutes: full marks up to this
    limit: float = 0.0  # minutes: no marks from this on

    def as_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "text_zh": self.text_zh,
            "text_en": self.text_en,
            "kind": self.kind,
            "weight": self.weight,
            "max": self.max,
            "target": self.target,
            "limit": self.limit,
        }

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> CheckItem:
        return cls(
            str(raw["code"]),
            str(raw.get("text_zh", "")),
            str(raw.get("text_en", "")),
            str(raw["kind"]),
            float(raw.get("weight", 1.0)),
            int(raw.get("max", 0)),
            float(raw.get("target", 0.0)),
            float(raw.get("limit", 0.0)),
        )


def parse_checklist(text: str) -> list[CheckItem]:
    """Items from the agency's text, one per line (see DEFAULT_CHECKLIST). Raises
    MysteryError with an i18n key and the line at fault."""
    items: list[CheckItem] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        parts = [p.strip() for p in line.split("|")]
        parts += [""] * (6 - len(parts))
        code, kind, weight_text, text_zh, text_en, marks = parts[:6]
        if len(parts) > 6 or not CODE.match(code):
            raise MysteryError("mystery.error.item_line", number)
        if kind not in MYSTERY_KINDS:
            raise MysteryError("mystery.error.item_kind", number)
        try:
            weight = float(weight_text or "1")
        except ValueError:
            raise MysteryError("mystery.error.item_weight", number) from None
        if not 0 <= weight <= 100 or math.isnan(weight):
            raise MysteryError("mystery.error.item_weight", number)
        if not text_zh or len(text_zh) > 300 or len(text_en) > 300:
            raise MysteryError("mystery.error.item_text", number)
        top, target, limit = 0, 0.0, 0.0
        try:
            if kind == "points":
                top = int(marks)
                if not 1 <= top <= 100:
                    raise ValueError(marks)
            elif kind == "minutes":
                low, high = marks.split("-", 1)
                target, limit = float(low), float(high)
                if not 0 <= target < limit <= MAX_MINUTES:
                    raise ValueError(marks)
            elif marks:
                raise ValueError(marks)
        except ValueError:
            raise MysteryError("mystery.error.item_marks", number) from None
        items.append(CheckItem(code, text_zh, text_en, kind, weight, top, target, limit))
    if not items:
        raise MysteryError("mystery.error.no_items", 0)
    if len(items) > MAX_ITEMS:
        raise MysteryError("mystery.error.too_many_items", 0)
    if len({i.code for i in items}) != len(items):
        raise MysteryError("mystery.error.item_codes", 0)
    if not any(i.weight > 0 for i in items):
        raise MysteryError("mystery.error.no_weight", 0)
    return items


def checklist_text(items: list[CheckItem]) -> str:
    """The text form of a checklist (the inverse of parse_checklist)."""
    lines = []
    for i in items:
        marks = (
            str(i.max)
            if i.kind == "points"
            else f"{i.target:g}-{i.limit:g}"
            if i.kind == "minutes"
            else ""
        )
        lines.append(f"{i.code} | {i.kind} | {i.weight:g} | {i.text_zh} | {i.text_en} | {marks}")
    return "\n".join(lines)


# ---------------------------------------------------------------------- scoring (pure)


def item_share(item: CheckItem, value: float) -> float:
    """The share of an item's marks (0..1) a value earns."""
    if item.kind == "yesno":
        return 1.0 if value >= 1 else 0.0
    if item.kind == "points":
        return max(0.0, min(1.0, value / item.max))
    # minutes: full marks up to the target, none from the limit on, linear between
    if value <= item.target:
        return 1.0
    if value >= item.limit:
        return 0.0
    return (item.limit - value) / (item.limit - item.target)


def visit_score(items: list[CheckItem], shares: Mapping[str, float]) -> float:
    """The weighted share of marks, 0..100."""
    total = sum(i.weight for i in items)
    if total <= 0:
        return 0.0
    return 100.0 * sum(i.weight * shares[i.code] for i in items) / total


def read_answers(
    items: list[CheckItem], form: Mapping[str, Any]
) -> tuple[dict[str, str], dict[str, float], dict[str, float]]:
    """(errors by field, values, shares) from the form's ``item_<code>`` fields. Every
    item must be answered; an error is an i18n key."""
    errors: dict[str, str] = {}
    values: dict[str, float] = {}
    for item in items:
        raw = str(form.get(f"item_{item.code}", "")).strip()
        if not raw:
            errors[item.code] = "mystery.error.required"
            continue
        try:
            value = float(raw.replace(",", "."))
        except ValueError:
            errors[item.code] = "mystery.error.number"
            continue
        if item.kind == "yesno" and raw not in ("0", "1"):
            errors[item.code] = "mystery.error.yesno"
        elif item.kind == "points" and (value != int(value) or not 0 <= value <= item.max):
            errors[item.code] = "mystery.error.points"
        elif item.kind == "minutes" and not (0 <= value <= MAX_MINUTES):
            errors[item.code] = "mystery.error.minutes"
        else:
            values[item.code] = value
    shares = {} if errors else {i.code: item_share(i, values[i.code]) for i in items}
    return errors, values, shares


# ---------------------------------------------------------------------- checklists


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def items_of(row: Mapping[str, Any]) -> list[CheckItem]:
    return [CheckItem.from_json(i) for i in _json(row["items"]) or []]


async def create_checklist(code: str, name: str, name_en: str, text: str, actor: str) -> int:
    code, name, name_en = code.strip(), name.strip(), name_en.strip()
    if not CHECKLIST_CODE.match(code):
        raise MysteryError("mystery.error.code", 0)
    if not name or len(name) > 200 or len(name_en) > 200:
        raise MysteryError("mystery.error.name", 0)
    items = parse_checklist(text)
    if await MysteryChecklist.exists().where(MysteryChecklist.code == code):
        raise MysteryError("mystery.error.code_taken", 0)
    row = await MysteryChecklist.insert(
        MysteryChecklist(
            code=code,
            name=name,
            name_en=name_en,
            items=[i.as_json() for i in items],
            created_by=actor,
        )
    )
    checklist_id = int(row[0]["id"])
    await audit.record(
        actor,
        "mystery.checklist",
        f"mystery_checklist:{checklist_id}",
        after={"code": code, "items": [i.as_json() for i in items]},
    )
    return checklist_id


async def checklists() -> list[dict[str, Any]]:
    rows = await MysteryChecklist.select().order_by(MysteryChecklist.id, ascending=False)
    return [{**r, "items": items_of(r)} for r in rows]


# ---------------------------------------------------------------------- plans


def week_start(value: str) -> date:
    """The Monday of a week given as ISO week (2026-W48, what a week input sends) or
    as any day in it (2026-11-25). Raises ValueError."""
    value = value.strip()
    if re.match(r"^\d{4}-W\d{2}$", value):
        return date.fromisoformat(value + "-1")
    day = date.fromisoformat(value)
    return day - timedelta(days=day.weekday())


async def evaluators() -> list[dict[str, Any]]:
    return list(
        await AdminUser.select(AdminUser.id, AdminUser.username, AdminUser.display_name)
        .where((AdminUser.role == "interviewer") & (AdminUser.active == True))  # noqa: E712
        .order_by(AdminUser.username)
    )


async def plannable_windows(campaign_id: int) -> list[dict[str, Any]]:
    units = [
        r["unit"]
        for r in await CampaignUnit.select(CampaignUnit.unit).where(
            CampaignUnit.campaign == campaign_id
        )
    ]
    return list(
        await ServiceWindow.select(
            ServiceWindow.id,
            ServiceWindow.unit,
            ServiceWindow.code,
            ServiceWindow.number,
            ServiceWindow.name,
            ServiceWindow.unit.name.as_alias("unit_name"),
        )
        .where(ServiceWindow.unit.is_in(units or [-1]) & (ServiceWindow.active == True))  # noqa: E712
        .order_by(ServiceWindow.code)
    )


@dataclass(frozen=True)
class PlanSpec:
    campaign_code: str
    checklist_id: int
    window_codes: list[str]
    week: date
    visits: int  # per window
    evaluator_id: int


async def plan_visits(spec: PlanSpec, actor: str) -> int:
    """Plan ``visits`` visits to each window in the week; returns how many."""
    campaign = (
        await Campaign.select(
            Campaign.id, Campaign.state, Campaign.period_start, Campaign.period_end
        )
        .where(Campaign.code == spec.campaign_code)
        .first()
    )
    if campaign is None:
        raise MysteryError("mystery.error.campaign", 0)
    if campaign["state"] not in PLANNABLE:
        raise MysteryError("mystery.error.campaign_state", 0)
    if not (campaign["period_start"] - timedelta(days=6) <= spec.week <= campaign["period_end"]):
        raise MysteryError("mystery.error.week", 0)
    if not await MysteryChecklist.exists().where(MysteryChecklist.id == spec.checklist_id):
        raise MysteryError("mystery.error.checklist", 0)
    evaluator = (
        await AdminUser.select(AdminUser.id, AdminUser.role, AdminUser.active)
        .where(AdminUser.id == spec.evaluator_id)
        .first()
    )
    if evaluator is None or evaluator["role"] != "interviewer" or not evaluator["active"]:
        raise MysteryError("mystery.error.evaluator", 0)
    windows = {w["code"]: w for w in await plannable_windows(int(campaign["id"]))}
    chosen = [windows[c] for c in dict.fromkeys(spec.window_codes) if c in windows]
    if not chosen or len(chosen) != len(set(spec.window_codes)):
        raise MysteryError("mystery.error.windows", 0)
    if spec.visits < 1 or spec.visits * len(chosen) > MAX_VISITS_PER_PLAN:
        raise MysteryError("mystery.error.visits", 0)
    rows = [
        MysteryVisit(
            campaign=campaign["id"],
            checklist=spec.checklist_id,
            unit=w["unit"],
            window=w["id"],
            week=spec.week,
            evaluator=spec.evaluator_id,
            planned_by=actor,
        )
        for w in chosen
        for _ in range(spec.visits)
    ]
    await MysteryVisit.insert(*rows)
    await audit.record(
        actor,
        "mystery.plan",
        f"campaign:{spec.campaign_code}",
        after={
            "checklist": spec.checklist_id,
            "windows": [w["code"] for w in chosen],
            "week": spec.week.isoformat(),
            "visits_per_window": spec.visits,
            "evaluator": spec.evaluator_id,
        },
    )
    return len(rows)


# ---------------------------------------------------------------------- visits


def _visit_columns() -> list[Any]:
    return [
        *MysteryVisit.all_columns(),
        MysteryVisit.campaign.code.as_alias("campaign_code"),
        MysteryVisit.campaign.name.as_alias("campaign_name"),
        MysteryVisit.campaign.state.as_alias("campaign_state"),
        MysteryVisit.unit.name.as_alias("unit_name"),
        MysteryVisit.window.number.as_alias("window_number"),
        MysteryVisit.window.name.as_alias("window_name"),
        MysteryVisit.checklist.name.as_alias("checklist_name"),
        MysteryVisit.evaluator.username.as_alias("evaluator_name"),
    ]


async def visits_of(evaluator_id: int | None) -> list[dict[str, Any]]:
    """An evaluator's visit list (or every visit, for None): planned first, by week."""
    query = MysteryVisit.select(*_visit_columns())
    if evaluator_id is not None:
        query = query.where(MysteryVisit.evaluator == evaluator_id)
    rows = list(await query)
    return sorted(
        rows, key=lambda r: (r["state"] != "planned", r["week"], r["window_number"], r["id"])
    )


async def get_visit(visit_id: int) -> dict[str, Any]:
    row = await MysteryVisit.select(*_visit_columns()).where(MysteryVisit.id == visit_id).first()
    if row is None:
        raise MysteryError("mystery.error.no_visit", 0)
    checklist = (
        await MysteryChecklist.select().where(MysteryChecklist.id == row["checklist"]).first()
    )
    assert checklist is not None
    return {
        **row,
        "answers": _json(row["answers"]) or {},
        "points": _json(row["points"]) or {},
        "items": items_of(checklist),
    }


@dataclass
class Submitted:
    stored: bool  # False: the visit was already stored from this same form
    errors: dict[str, str] = field(default_factory=dict)


async def submit_visit(
    visit_id: int, user: Mapping[str, Any], form: Mapping[str, Any]
) -> Submitted:
    """Store a visit entered by its evaluator. Idempotent by the form's ``client_id``:
    the same form sent again after the visit is stored changes nothing. Raises
    MysteryError when the visit is not this user's, or already stored from another
    form, or its campaign takes no entries."""
    visit = await get_visit(visit_id)
    if visit["evaluator"] != user["id"]:
        raise MysteryError("mystery.error.not_yours", 0)
    client_id = str(form.get("client_id", "")).strip()
    if not CLIENT_ID.match(client_id):
        return Submitted(False, {"client_id": "mystery.error.form"})
    if visit["state"] == "done":
        if visit["client_id"] == client_id:
            return Submitted(False)
        raise MysteryError("mystery.error.done", 0)
    if visit["campaign_state"] not in ENTERABLE:
        raise MysteryError("mystery.error.campaign_state", 0)
    items: list[CheckItem] = visit["items"]
    errors, values, shares = read_answers(items, form)
    visited_raw = str(form.get("visited_on", "")).strip()
    visited_on: date | None = None
    try:
        visited_on = date.fromisoformat(visited_raw)
    except ValueError:
        errors["visited_on"] = "mystery.error.visited_on"
    today = datetime.now(LOCAL_TZ).date()
    if visited_on is not None and not (visit["week"] - timedelta(days=31) <= visited_on <= today):
        errors["visited_on"] = "mystery.error.visited_on"
    note = str(form.get("note", "")).strip()
    if len(note) > MAX_NOTE:
        errors["note"] = "mystery.error.note"
    if errors:
        return Submitted(False, errors)
    score = visit_score(items, shares)
    rater = await interviewer_rater(int(visit["campaign"]), int(user["id"]))
    stored = (
        await MysteryVisit.update(
            {
                MysteryVisit.state: "done",
                MysteryVisit.client_id: client_id,
                MysteryVisit.rater: rater,
                MysteryVisit.visited_on: visited_on,
                MysteryVisit.submitted_at: datetime.now(UTC),
                MysteryVisit.answers: {k: v for k, v in values.items()},
                MysteryVisit.points: shares,
                MysteryVisit.score: score,
                MysteryVisit.note: note,
            }
        )
        .where((MysteryVisit.id == visit_id) & (MysteryVisit.state == "planned"))
        .returning(MysteryVisit.id)
    )
    if not stored:  # a concurrent submission won: the same form, or another one
        again = await get_visit(visit_id)
        if again["client_id"] == client_id:
            return Submitted(False)
        raise MysteryError("mystery.error.done", 0)
    await audit.record(
        str(user["username"]),
        "mystery.visit",
        f"mystery_visit:{visit_id}",
        after={"score": round(score, 2), "visited_on": visited_raw},
    )
    return Submitted(True)


# ---------------------------------------------------------------------- scores


@dataclass
class Group:
    n: int = 0
    total: float = 0.0

    @property
    def mean(self) -> float | None:
        return self.total / self.n if self.n else None

    def add(self, score: float) -> None:
        self.n += 1
        self.total += score


@dataclass
class Scores:
    units: dict[int, Group]
    windows: dict[int, Group]
    window_unit: dict[int, int]
    total: Group
    # per item code: (text_zh, text_en, visits, summed share of marks)
    items: dict[str, list[Any]]

    def item_rates(self) -> list[tuple[str, str, str, int, float]]:
        return [(c, zh, en, n, s / n) for c, (zh, en, n, s) in self.items.items() if n]


async def done_visits(
    campaign_id: int, start: date | None = None, end: date | None = None
) -> list[dict[str, Any]]:
    """The campaign's stored visits, optionally those visited between two days."""
    query = MysteryVisit.select(
        MysteryVisit.unit,
        MysteryVisit.window,
        MysteryVisit.score,
        MysteryVisit.points,
        MysteryVisit.visited_on,
        MysteryVisit.checklist,
    ).where((MysteryVisit.campaign == campaign_id) & (MysteryVisit.state == "done"))
    rows = []
    for r in await query:
        if start is not None and (r["visited_on"] is None or r["visited_on"] < start):
            continue
        if end is not None and (r["visited_on"] is None or r["visited_on"] > end):
            continue
        rows.append({**r, "points": _json(r["points"]) or {}})
    return rows


async def scores(campaign_id: int) -> Scores:
    """Mean visit score and number of visits per unit, window and the campaign, and
    each checklist item's mean share of marks."""
    out = Scores({}, {}, {}, Group(), {})
    visits = await done_visits(campaign_id)
    texts: dict[str, tuple[str, str]] = {}
    for c in await MysteryChecklist.select().where(
        MysteryChecklist.id.is_in(sorted({v["checklist"] for v in visits}) or [-1])
    ):
        for i in items_of(c):
            texts.setdefault(i.code, (i.text_zh, i.text_en))
    per_item: dict[str, list[Any]] = defaultdict(lambda: [0, 0.0])
    for v in visits:
        score = float(v["score"])
        out.units.setdefault(int(v["unit"]), Group()).add(score)
        out.windows.setdefault(int(v["window"]), Group()).add(score)
        out.window_unit[int(v["window"])] = int(v["unit"])
        out.total.add(score)
        for code, share in v["points"].items():
            per_item[code][0] += 1
            per_item[code][1] += float(share)
    out.items = {
        code: [*texts.get(code, (code, code)), n, s] for code, (n, s) in sorted(per_item.items())
    }
    return out
