"""Scheduled opening and closing of campaigns.

A campaign may carry `opens_at` and `closes_at`. When the time comes, the campaign
is moved through `campaigns.move` — the same function the console's buttons and
`pingyi campaign open|close` use, so a scheduled opening builds who-rates-whom and
is audited exactly like one by hand (actor "scheduler").

- `due_moves(campaigns, at)` is the pure rule: which campaigns are due at time `at`.
- `apply_due(at)` does one pass against the database (`pingyi campaign tick`).
- `Scheduler` runs a pass every few seconds inside the web app (lifespan).

Several workers or hosts may run the app: only the holder of the scheduler lock
(a PostgreSQL advisory lock, or a file lock next to a SQLite database) moves
campaigns, so a campaign is never opened twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pingyi.db.tables import Campaign
from pingyi.hours import LOCAL_TZ
from pingyi.services import audit
from pingyi.services import campaigns as campaign_service
from pingyi.services.background import PeriodicTask, SchedulerLock

log = logging.getLogger("pingyi.schedule")

ACTOR = "scheduler"
SCHEDULABLE = ("draft", "open")


class ScheduleError(ValueError):
    """A schedule that cannot be set; `key` is an i18n message key."""

    def __init__(self, key: str, **params: Any) -> None:
        super().__init__(key)
        self.key = key
        self.params = params


@dataclass(frozen=True)
class CampaignTimes:
    code: str
    state: str
    opens_at: datetime | None
    closes_at: datetime | None


@dataclass(frozen=True)
class DueMove:
    code: str
    target: str  # "open" or "closed"
    scheduled_for: datetime


@dataclass(frozen=True)
class Plan:
    moves: list[DueMove]
    missed: list[str]  # drafts whose whole window passed before they could open


@dataclass
class TickResult:
    at: datetime
    moved: list[DueMove] = field(default_factory=list)
    failed: list[tuple[DueMove, str]] = field(default_factory=list)
    missed: list[str] = field(default_factory=list)


def _aware(moment: datetime | None) -> datetime | None:
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


def due_moves(campaigns: Iterable[CampaignTimes], at: datetime) -> Plan:
    """The moves due at `at`.

    - a draft opens once `opens_at <= at`, unless its `closes_at` has passed too: it
      is then reported as missed and left alone (a person decides what to do);
    - an open campaign closes once `closes_at <= at`;
    - nothing else moves (closed, cleaned and published campaigns never reopen).
    """
    at = _aware(at) or at
    moves: list[DueMove] = []
    missed: list[str] = []
    for c in campaigns:
        opens, closes = _aware(c.opens_at), _aware(c.closes_at)
        if c.state == "draft" and opens is not None and opens <= at:
            if closes is not None and closes <= at:
                missed.append(c.code)
            else:
                moves.append(DueMove(c.code, "open", opens))
        elif c.state == "open" and closes is not None and closes <= at:
            moves.append(DueMove(c.code, "closed", closes))
    moves.sort(key=lambda m: (m.scheduled_for, m.code))
    return Plan(moves, sorted(missed))


async def candidates() -> list[CampaignTimes]:
    rows = await Campaign.select(
        Campaign.code, Campaign.state, Campaign.opens_at, Campaign.closes_at
    ).where(
        Campaign.state.is_in(list(SCHEDULABLE))
        & (Campaign.opens_at.is_not_null() | Campaign.closes_at.is_not_null())
    )
    return [CampaignTimes(r["code"], r["state"], r["opens_at"], r["closes_at"]) for r in rows]


async def apply_due(at: datetime | None = None, actor: str = ACTOR) -> TickResult:
    """One pass: move every due campaign through campaigns.move (which re-checks the
    state machine and audits). A failure of one campaign does not stop the others."""
    at = _aware(at) or datetime.now(UTC)
    plan = due_moves(await candidates(), at)
    result = TickResult(at=at, missed=plan.missed)
    for due in plan.moves:
        try:
            await campaign_service.move(due.code, due.target, actor)
        except campaign_service.CampaignError as exc:
            result.failed.append((due, str(exc)))
            log.warning("scheduled %s of %s failed: %s", due.target, due.code, exc)
        else:
            result.moved.append(due)
            log.info("campaign %s is now %s (scheduled)", due.code, due.target)
    return result


# setting the schedule


def parse_local(text: str) -> datetime | None:
    """A `datetime-local` form value (the hall's local time) as an aware datetime;
    empty means no time set."""
    text = text.strip()
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text.replace(" ", "T"))
    except ValueError as exc:
        raise ScheduleError("schedule.error.format", value=text[:40]) from exc
    if not 2000 <= moment.year <= 2999:  # also keeps the conversion to UTC in range
        raise ScheduleError("schedule.error.format", value=text[:40])
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=LOCAL_TZ)
    return moment


def local_input(moment: datetime | None) -> str:
    """The value for a `datetime-local` input, in the hall's local time."""
    if moment is None:
        return ""
    return (_aware(moment) or moment).astimezone(LOCAL_TZ).strftime("%Y-%m-%dT%H:%M")


def check_schedule(
    opens_at: datetime | None, closes_at: datetime | None, now: datetime | None = None
) -> None:
    if opens_at is not None and closes_at is not None and closes_at <= opens_at:
        raise ScheduleError("schedule.error.order")
    # a closing time already past would leave the campaign to be missed, silently
    if closes_at is not None and closes_at <= (now or datetime.now(UTC)):
        raise ScheduleError("schedule.error.past")


async def set_schedule(
    code: str, opens_at: datetime | None, closes_at: datetime | None, actor: str
) -> dict[str, Any]:
    """Set or clear the times. A draft may get both; an open campaign only its closing
    time (its `opens_at` is when it actually opened); later states none."""
    campaign = await campaign_service.get_campaign(code)
    state = campaign["state"]
    if state not in SCHEDULABLE:
        raise ScheduleError("schedule.error.state", state=state)
    if state == "open":
        opens_at = _aware(campaign["opens_at"])
    check_schedule(opens_at, closes_at)
    before = {"opens_at": campaign["opens_at"], "closes_at": campaign["closes_at"]}
    after = {"opens_at": opens_at, "closes_at": closes_at}
    if {k: _aware(v) for k, v in before.items()} == after:
        return after
    # only if the campaign is still as read: opened a moment ago, its real opening
    # time must not be overwritten by this form
    saved = (
        await Campaign.update(after)
        .where((Campaign.id == campaign["id"]) & (Campaign.state == state))
        .returning(Campaign.id)
    )
    if not saved:
        raise ScheduleError("schedule.error.changed")
    await audit.record(
        actor,
        "campaign.schedule",
        f"campaign:{code}",
        before={k: v.isoformat() if v else None for k, v in before.items()},
        after={k: v.isoformat() if v else None for k, v in after.items()},
    )
    return after


# one scheduler among many workers


class Scheduler(PeriodicTask[TickResult]):
    """Runs `apply_due` every `interval_s` seconds until stopped."""

    name = "pingyi-scheduler"

    def __init__(
        self,
        interval_s: float,
        lock: SchedulerLock | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        super().__init__(interval_s, lock or SchedulerLock())
        self.clock = clock or (lambda: datetime.now(UTC))
        self._reported_missed: set[str] = set()

    async def run_pass(self) -> TickResult:
        result = await apply_due(self.clock())
        for code in set(result.missed) - self._reported_missed:
            log.warning("campaign %s was never opened: its closing time has passed", code)
        self._reported_missed |= set(result.missed)
        return result


async def start_scheduler(interval_s: float, data_dir: Path) -> Scheduler | None:
    """The app's scheduler (lifespan); None when PINGYI_SCHEDULE_INTERVAL_S is 0."""
    if interval_s <= 0:
        return None
    scheduler = Scheduler(interval_s, SchedulerLock(data_dir / "scheduler.lock"))
    await scheduler.start()
    return scheduler
