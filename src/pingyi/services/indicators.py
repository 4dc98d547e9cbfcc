"""Service indicators per unit, window and staff member (政务服务"好差评"指标).

For a campaign, optionally narrowed to a date range (local dates, inclusive):

- 好评率 good_rate: public ratings at a satisfied level / public ratings;
- 主动评价好评率 active_good_rate: the same, counting only ratings the citizen gave
  (every channel but `default`, the rating a platform assigns to a service the
  citizen left unrated);
- 未评率 unrated_rate: tickets issued that got no rating from the citizen / tickets
  issued (only where tickets are issued, 一事一评);
- 差评回复率 reply_rate: bad-review cases with a first contact / bad-review cases;
- 回访整改率 rectify_rate: cases closed with a rectification (and, where the citizen
  left a contact, the call-back that closing requires) / bad-review cases;
- 回访整改满意率 handling_satisfaction: handling rated 满意 or 基本满意 / handling
  ratings;
- 暗访得分 mystery_score: the mean score (0-100) of the agency's mystery-shopping visits
  entered (services/mystery.py), with the number of visits; a window's visits count for
  its unit, no staff member is scored by them. The date range narrows them by the day
  of the visit.

Satisfied levels come from the campaign policy (`satisfied_min`, default 4: 满意 and
非常满意), the same setting the cleaned satisfaction rate uses. The numbers are raw counts, before
statistical cleaning: bot-trap (honeypot) submissions and responses replaced by a
correction are left out; everything else counts. A ratio whose denominator is zero
is None ("insufficient data"), never 0 %.

The arithmetic is pure (`Counts`, `tally`, `rates`); `compute` gathers the rows.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, fields
from datetime import date, datetime, time, timedelta
from typing import Any

from pingyi.db.tables import Answer, BadReviewCase, ServiceWindow, Staff, Ticket, Unit
from pingyi.exports import write_csv
from pingyi.hours import LOCAL_TZ
from pingyi.scoring import Policy
from pingyi.services.campaigns import units_in_scope
from pingyi.services.corrections import superseded_ids
from pingyi.services.mystery import done_visits

DEFAULT_SATISFIED_LEVELS = frozenset({5, 4})  # 非常满意, 满意
PASSIVE_CHANNELS = frozenset({"default"})  # assigned by a platform, not given by a citizen
HANDLING_SATISFIED = frozenset({3, 2})  # 满意, 基本满意 (services/cases.HANDLING_LEVELS)

INDICATORS = (
    "good_rate",
    "active_good_rate",
    "unrated_rate",
    "reply_rate",
    "rectify_rate",
    "handling_satisfaction",
    "mystery_score",
)


def ratio(numerator: int, denominator: int) -> float | None:
    """None when there is nothing to divide by: insufficient data, not 0 %."""
    return None if denominator <= 0 else numerator / denominator


def satisfied_levels(policy: dict[str, Any] | None) -> frozenset[int]:
    lowest = Policy.from_json(policy or {}).satisfied_min
    return frozenset(range(lowest, 6))


def is_active(channel: str) -> bool:
    return channel not in PASSIVE_CHANNELS


@dataclass
class Counts:
    ratings: int = 0
    satisfied: int = 0
    active: int = 0
    active_satisfied: int = 0
    tickets: int = 0
    tickets_unrated: int = 0
    cases: int = 0
    cases_contacted: int = 0
    cases_rectified: int = 0
    handling_rated: int = 0
    handling_satisfied: int = 0
    mystery_visits: int = 0
    mystery_points: float = 0.0  # the visits' scores summed

    def add(self, other: Counts) -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))


@dataclass(frozen=True)
class Rates:
    good_rate: float | None
    active_good_rate: float | None
    unrated_rate: float | None
    reply_rate: float | None
    rectify_rate: float | None
    handling_satisfaction: float | None
    mystery_score: float | None = None  # 0..100, not a ratio


def rates(c: Counts) -> Rates:
    return Rates(
        good_rate=ratio(c.satisfied, c.ratings),
        active_good_rate=ratio(c.active_satisfied, c.active),
        unrated_rate=ratio(c.tickets_unrated, c.tickets),
        reply_rate=ratio(c.cases_contacted, c.cases),
        rectify_rate=ratio(c.cases_rectified, c.cases),
        handling_satisfaction=ratio(c.handling_satisfied, c.handling_rated),
        mystery_score=(c.mystery_points / c.mystery_visits) if c.mystery_visits else None,
    )


# the rows the arithmetic works on (one per rating, ticket and case)


@dataclass(frozen=True)
class RatingRow:
    unit: int | None
    window: int | None
    staff: int | None
    channel: str
    score: int


@dataclass(frozen=True)
class TicketRow:
    unit: int | None
    window: int | None
    staff: int | None
    rated: bool  # a citizen rated it (a `default` rating does not count)


@dataclass(frozen=True)
class CaseRow:
    unit: int | None
    window: int | None
    staff: int | None
    contacted: bool
    closed: bool
    rectification: str
    callback_result: str
    handling_rating: int | None


def rating_counts(row: RatingRow, levels: frozenset[int]) -> Counts:
    good = row.score in levels
    active = is_active(row.channel)
    return Counts(
        ratings=1, satisfied=int(good), active=int(active), active_satisfied=int(active and good)
    )


def ticket_counts(row: TicketRow) -> Counts:
    return Counts(tickets=1, tickets_unrated=int(not row.rated))


def case_counts(row: CaseRow) -> Counts:
    # closing needs the call-back wherever the citizen left a contact (cases.close_case);
    # an anonymous review has nobody to call, and must not count against the unit
    rectified = row.closed and bool(row.rectification.strip())
    rated = row.handling_rating is not None
    return Counts(
        cases=1,
        cases_contacted=int(row.contacted),
        cases_rectified=int(rectified),
        handling_rated=int(rated),
        handling_satisfied=int(rated and row.handling_rating in HANDLING_SATISFIED),
    )


@dataclass(frozen=True)
class MysteryRow:
    unit: int | None
    window: int | None
    score: float
    staff: None = None  # a visit scores a window, never a person


def mystery_counts(row: MysteryRow) -> Counts:
    return Counts(mystery_visits=1, mystery_points=row.score)


@dataclass
class Tally:
    units: dict[int, Counts]
    windows: dict[int, Counts]
    staff: dict[int, Counts]


def tally(
    ratings: Iterable[RatingRow],
    tickets: Iterable[TicketRow],
    cases: Iterable[CaseRow],
    levels: frozenset[int] = DEFAULT_SATISFIED_LEVELS,
    visits: Iterable[MysteryRow] = (),
) -> Tally:
    """Counts per unit, window and staff member; a row counts for each it names."""
    out = Tally({}, {}, {})
    items: list[tuple[Any, Counts]] = [(r, rating_counts(r, levels)) for r in ratings]
    items += [(t, ticket_counts(t)) for t in tickets]
    items += [(c, case_counts(c)) for c in cases]
    items += [(v, mystery_counts(v)) for v in visits]
    for row, counts in items:
        for key, table in (
            (row.unit, out.units),
            (row.window, out.windows),
            (row.staff, out.staff),
        ):
            if key is not None:
                table.setdefault(key, Counts()).add(counts)
    return out


# gathering the rows


def local_day_bounds(
    start: date | None, end: date | None
) -> tuple[datetime | None, datetime | None]:
    """[start 00:00, end + 1 day 00:00) in the hall's local time."""
    low = datetime.combine(start, time(), LOCAL_TZ) if start else None
    high = datetime.combine(end + timedelta(days=1), time(), LOCAL_TZ) if end else None
    return low, high


def _in_range(moment: datetime | None, low: datetime | None, high: datetime | None) -> bool:
    if low is None and high is None:
        return True
    if moment is None:
        return False
    return (low is None or moment >= low) and (high is None or moment < high)


async def gather(
    campaign_id: int, start: date | None = None, end: date | None = None
) -> tuple[list[RatingRow], list[TicketRow], list[CaseRow]]:
    low, high = local_day_bounds(start, end)
    window_unit = {
        w["id"]: w["unit"] for w in await ServiceWindow.select(ServiceWindow.id, ServiceWindow.unit)
    }
    staff_unit = {s["id"]: s["unit"] for s in await Staff.select(Staff.id, Staff.unit)}

    def unit_of(window: int | None, staff: int | None) -> int | None:
        if window is not None and window in window_unit:
            return window_unit[window]
        return staff_unit.get(staff) if staff is not None else None

    replaced = {str(r) for r in await superseded_ids(campaign_id)}
    answers = await Answer.select(
        Answer.score,
        Answer.response.id.as_alias("response_id"),
        Answer.response.channel.as_alias("channel"),
        Answer.response.window.as_alias("window"),
        Answer.response.ratee.as_alias("staff"),
        Answer.response.ticket.as_alias("ticket"),
        Answer.response.honeypot.as_alias("honeypot"),
        Answer.response.submitted_at.as_alias("submitted_at"),
    ).where(
        (Answer.item == "overall")
        & (Answer.response.campaign == campaign_id)
        & (Answer.response.role == "public")
    )
    ratings: list[RatingRow] = []
    rated_tickets: set[str] = set()
    for a in answers:
        if a["honeypot"] or a["score"] is None:
            continue
        if a["ticket"] and is_active(a["channel"]):
            # A corrected rating was still given by the citizen: the ticket was rated.
            rated_tickets.add(a["ticket"])
        if str(a["response_id"]) in replaced or not _in_range(a["submitted_at"], low, high):
            continue
        ratings.append(
            RatingRow(
                unit_of(a["window"], a["staff"]),
                a["window"],
                a["staff"],
                a["channel"],
                int(a["score"]),
            )
        )
    tickets = [
        TicketRow(
            unit_of(t["window"], t["staff"]), t["window"], t["staff"], t["code"] in rated_tickets
        )
        for t in await Ticket.select(
            Ticket.code, Ticket.window, Ticket.staff, Ticket.issued_at
        ).where(Ticket.campaign == campaign_id)
        if _in_range(t["issued_at"], low, high)
    ]
    cases = [
        CaseRow(
            c["unit"],
            c["window"],
            c["staff"],
            c["contacted_at"] is not None,
            c["state"] == "closed",
            c["rectification"] or "",
            c["callback_result"] or "",
            c["handling_rating"],
        )
        for c in await BadReviewCase.select(
            BadReviewCase.unit,
            BadReviewCase.window,
            BadReviewCase.response.ratee.as_alias("staff"),
            BadReviewCase.contacted_at,
            BadReviewCase.state,
            BadReviewCase.rectification,
            BadReviewCase.callback_result,
            BadReviewCase.handling_rating,
            BadReviewCase.opened_at,
        ).where(BadReviewCase.campaign == campaign_id)
        if _in_range(c["opened_at"], low, high)
    ]
    return ratings, tickets, cases


@dataclass
class Line:
    level: str  # unit, window or staff
    id: int
    code: str
    name: str
    counts: Counts
    rates: Rates
    unit_code: str = ""
    active: bool = True


@dataclass
class UnitBlock:
    unit: Line
    windows: list[Line]
    staff: list[Line]


@dataclass
class Report:
    units: list[UnitBlock]
    total: Line
    levels: frozenset[int]


async def compute(
    campaign: dict[str, Any],
    start: date | None = None,
    end: date | None = None,
    only_unit: int | None = None,
) -> Report:
    """Indicators for the campaign's units (or just `only_unit`, for a unit leader).
    Windows and staff are listed when active or when they have data."""
    levels = satisfied_levels(campaign.get("policy"))
    ratings, tickets, cases = await gather(campaign["id"], start, end)
    visits = [
        MysteryRow(int(v["unit"]), int(v["window"]), float(v["score"]))
        for v in await done_visits(int(campaign["id"]), start, end)
    ]
    counted = tally(ratings, tickets, cases, levels, visits)
    unit_ids = await units_in_scope(campaign["id"])
    if only_unit is not None:
        unit_ids = [u for u in unit_ids if u == only_unit]
    units = (
        await Unit.select(Unit.id, Unit.code, Unit.name, Unit.active)
        .where(Unit.id.is_in(unit_ids or [0]))
        .order_by(Unit.code)
    )
    windows = (
        await ServiceWindow.select(
            ServiceWindow.id,
            ServiceWindow.unit,
            ServiceWindow.code,
            ServiceWindow.number,
            ServiceWindow.name,
            ServiceWindow.active,
        )
        .where(ServiceWindow.unit.is_in(unit_ids or [0]))
        .order_by(ServiceWindow.code)
    )
    staff = (
        await Staff.select(Staff.id, Staff.unit, Staff.code, Staff.name, Staff.active)
        .where(Staff.unit.is_in(unit_ids or [0]))
        .order_by(Staff.code)
    )

    def line(level: str, row: dict[str, Any], counts: Counts, name: str, unit_code: str) -> Line:
        return Line(
            level,
            row["id"],
            row["code"],
            name,
            counts,
            rates(counts),
            unit_code,
            bool(row["active"]),
        )

    blocks = []
    total = Counts()
    for u in units:
        unit_counts = counted.units.get(u["id"], Counts())
        total.add(unit_counts)
        block = UnitBlock(line("unit", u, unit_counts, u["name"], u["code"]), [], [])
        for w in windows:
            if w["unit"] == u["id"] and (w["active"] or w["id"] in counted.windows):
                block.windows.append(
                    line(
                        "window",
                        w,
                        counted.windows.get(w["id"], Counts()),
                        f"{w['number']} {w['name']}",
                        u["code"],
                    )
                )
        for s in staff:
            if s["unit"] == u["id"] and (s["active"] or s["id"] in counted.staff):
                block.staff.append(
                    line("staff", s, counted.staff.get(s["id"], Counts()), s["name"], u["code"])
                )
        blocks.append(block)
    total_line = Line("total", 0, "", "", total, rates(total))
    return Report(blocks, total_line, levels)


def _pct(value: float | None) -> str:
    return "" if value is None else f"{value * 100:.1f}"


def _score(value: float | None) -> str:
    return "" if value is None else f"{value:.1f}"


COUNT_COLUMNS = [f.name for f in fields(Counts)]


def report_rows(report: Report) -> list[dict[str, Any]]:
    lines: list[Line] = []
    for block in report.units:
        lines += [block.unit, *block.windows, *block.staff]
    lines.append(report.total)
    return [
        {
            "level": ln.level,
            "unit_code": ln.unit_code,
            "code": ln.code,
            "name": ln.name,
            **asdict(ln.counts),
            "mystery_points": f"{ln.counts.mystery_points:.1f}",
            **{k: _pct(v) for k, v in asdict(ln.rates).items()},
            "mystery_score": _score(ln.rates.mystery_score),
        }
        for ln in lines
    ]


def report_csv(report: Report, headers: dict[str, str] | None = None) -> bytes:
    """UTF-8 with a BOM (Excel reads the Chinese); rates in percent with one decimal,
    an empty cell where there is no data; `headers` renames columns (translations)."""
    columns = ["level", "unit_code", "code", "name", *COUNT_COLUMNS, *INDICATORS]
    return write_csv(
        [(headers or {}).get(c, c) for c in columns],
        ([row[c] for c in columns] for row in report_rows(report)),
    )
