"""Scheduled opening and closing of campaigns: the rule, one pass against real rows,
the background task, the lock among workers, the console form and the CLI."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import anyio
import pytest

from helpers import csrf_from, login, make_user
from pingyi.services import schedule
from pingyi.services.schedule import CampaignTimes, due_moves

pytestmark = pytest.mark.anyio
PASSWORD = "correct horse battery"
T = datetime(2026, 10, 1, 8, 30, tzinfo=UTC)
MIN = timedelta(minutes=1)


def test_due_moves_rule() -> None:
    campaigns = [
        CampaignTimes("due", "draft", T - MIN, T + MIN),
        CampaignTimes("exactly", "draft", T, None),
        CampaignTimes("later", "draft", T + MIN, None),
        CampaignTimes("missed", "draft", T - 2 * MIN, T - MIN),
        CampaignTimes("closing", "open", None, T - MIN),
        CampaignTimes("running", "open", T - 2 * MIN, T + MIN),
        CampaignTimes("done", "closed", T - 2 * MIN, T - MIN),
        CampaignTimes("never", "draft", None, T - MIN),
        CampaignTimes("naive", "draft", (T - MIN).replace(tzinfo=None), None),
    ]
    plan = due_moves(campaigns, T)
    assert [(m.code, m.target) for m in plan.moves] == [
        ("closing", "closed"),  # ordered by the scheduled time, then code
        ("due", "open"),
        ("naive", "open"),
        ("exactly", "open"),
    ]
    assert plan.missed == ["missed"]
    assert due_moves(campaigns, T - 10 * MIN).moves == []


def test_parse_local_and_order() -> None:
    parsed = schedule.parse_local("2026-10-01T08:30")
    assert parsed is not None and parsed.astimezone(UTC) == datetime(2026, 10, 1, 0, 30, tzinfo=UTC)
    assert schedule.local_input(parsed) == "2026-10-01T08:30"
    assert schedule.parse_local("  ") is None
    with pytest.raises(schedule.ScheduleError) as bad:
        schedule.parse_local("tomorrow")
    assert bad.value.key == "schedule.error.format"
    with pytest.raises(schedule.ScheduleError):
        schedule.check_schedule(T, T)


async def draft(code: str, opens_at: datetime | None, closes_at: datetime | None) -> int:
    """A draft campaign over one unit with a leader and two members."""
    from pingyi.db.tables import Campaign, Unit
    from pingyi.services import campaigns
    from pingyi.services.org import upsert_organization, upsert_staff, upsert_unit

    if not await Unit.exists().where(Unit.code == "u1"):
        org = await upsert_organization("org", "测试中心")
        unit = await upsert_unit(org, "u1", "不动产登记", opening_hours="")
        await upsert_staff(unit, "L", "负责人", is_leader=True)
        await upsert_staff(unit, "M1", "成员一")
        await upsert_staff(unit, "M2", "成员二")
    campaign_id = await campaigns.create_campaign(
        campaigns.CampaignSpec(
            code=code,
            name=code,
            period_start=date(2026, 10, 1),
            period_end=date(2026, 12, 31),
            unit_codes=["u1"],
        )
    )
    await Campaign.update({Campaign.opens_at: opens_at, Campaign.closes_at: closes_at}).where(
        Campaign.id == campaign_id
    )
    return campaign_id


async def state_of(code: str) -> str:
    from pingyi.db.tables import Campaign

    row = await Campaign.select(Campaign.state).where(Campaign.code == code).first()
    assert row is not None
    return str(row["state"])


async def test_a_pass_opens_and_closes_due_campaigns_like_a_person_would(db: str) -> None:
    from pingyi.db.tables import Assignment, AuditEvent

    first = await draft("A", T - MIN, T + 60 * MIN)
    await draft("B", T + MIN, None)
    await draft("GONE", T - 2 * MIN, T - MIN)
    result = await schedule.apply_due(T)
    assert [(m.code, m.target) for m in result.moved] == [("A", "open")]
    assert result.missed == ["GONE"] and result.failed == []
    assert (await state_of("A"), await state_of("B"), await state_of("GONE")) == (
        "open",
        "draft",
        "draft",
    )
    # Opening built who-rates-whom as by hand: 3 self, leader rates 2 members,
    # the 2 members rate each other.
    roles = [r["role"] for r in await Assignment.select().where(Assignment.campaign == first)]
    assert sorted(roles) == ["peer", "peer", "self", "self", "self", "superior", "superior"]
    event = await AuditEvent.select().where(AuditEvent.action == "campaign.open").first()
    assert event is not None and event["actor"] == "scheduler" and event["target"] == "campaign:A"
    again = await schedule.apply_due(T)
    assert again.moved == [] and await state_of("A") == "open"
    closing = await schedule.apply_due(T + 61 * MIN)
    assert [(m.code, m.target) for m in closing.moved] == [("B", "open"), ("A", "closed")]
    assert await state_of("A") == "closed"
    closed = await AuditEvent.select().where(AuditEvent.action == "campaign.closed").first()
    assert closed is not None and closed["actor"] == "scheduler"


async def test_set_schedule_rules_and_audit(db: str) -> None:
    from pingyi.db.tables import AuditEvent
    from pingyi.services import campaigns

    await draft("S", None, None)
    # a closing time already past is refused: the campaign would be missed silently
    with pytest.raises(schedule.ScheduleError) as past:
        await schedule.set_schedule("S", None, T, "agency")
    assert past.value.key == "schedule.error.past"
    later = datetime.now(UTC).replace(microsecond=0) + timedelta(days=30)
    await schedule.set_schedule("S", later, later + MIN, "agency")
    row = await campaigns.get_campaign("S")
    assert row["opens_at"] == later and row["closes_at"] == later + MIN
    event = (
        await AuditEvent.select()
        .where(AuditEvent.action == "campaign.schedule")
        .output(load_json=True)
        .first()
    )
    assert event is not None and event["actor"] == "agency"
    assert event["before"] == {"opens_at": None, "closes_at": None}
    assert event["after"] == {"opens_at": later.isoformat(), "closes_at": (later + MIN).isoformat()}
    count = await AuditEvent.count()
    # nothing changes: nothing written
    await schedule.set_schedule("S", later, later + MIN, "agency")
    assert await AuditEvent.count() == count
    with pytest.raises(schedule.ScheduleError) as order:
        await schedule.set_schedule("S", later, later - MIN, "agency")
    assert order.value.key == "schedule.error.order"
    await campaigns.move("S", "open", "agency")
    opened = (await campaigns.get_campaign("S"))["opens_at"]
    # Open: only the closing time may change; the opening time is when it opened.
    await schedule.set_schedule("S", later - 60 * MIN, opened + 60 * MIN, "agency")
    row = await campaigns.get_campaign("S")
    assert row["opens_at"] == opened and row["closes_at"] == opened + 60 * MIN
    await campaigns.move("S", "closed", "agency")
    with pytest.raises(schedule.ScheduleError) as late:
        await schedule.set_schedule("S", None, None, "agency")
    assert late.value.key == "schedule.error.state"


async def test_the_background_task_moves_due_campaigns(db: str, tmp_path: Path) -> None:
    await draft("BG", T - MIN, None)
    lock = schedule.SchedulerLock(tmp_path / "scheduler.lock")
    task = schedule.Scheduler(interval_s=0.01, lock=lock, clock=lambda: T)
    await task.start()
    try:
        with anyio.fail_after(20):
            await task.wait_passes(1)
    finally:
        await task.stop()
    assert await state_of("BG") == "open"
    assert task.last is not None and [m.code for m in task.last.moved] in (["BG"], [])


async def test_only_one_holder_of_the_lock(db: str, tmp_path: Path) -> None:
    first = schedule.SchedulerLock(tmp_path / "scheduler.lock")
    second = schedule.SchedulerLock(tmp_path / "scheduler.lock")
    assert await first.acquire()
    try:
        assert not await second.acquire()
        waiting = schedule.Scheduler(interval_s=30, lock=second, clock=lambda: T)
        await draft("LOCKED", T - MIN, None)
        assert await waiting.tick() is None  # another process is in charge
        assert await state_of("LOCKED") == "draft"
    finally:
        await first.release()
    assert await second.acquire()
    await second.release()


async def test_the_app_runs_a_scheduler(app: Any) -> None:
    assert isinstance(app.state.scheduler, schedule.Scheduler)
    assert app.state.scheduler.interval_s == 30


async def test_the_console_sets_the_schedule_in_local_time(client: Any) -> None:
    from pingyi.db.tables import Campaign
    from pingyi.services import campaigns

    await draft("WEB", None, None)
    await make_user("agency", "agency_admin", PASSWORD)
    await login(client, "agency", PASSWORD)
    detail = await client.get("/admin/campaigns/WEB")
    assert "/admin/campaigns/WEB/schedule" in detail.text
    page = await client.get("/admin/campaigns/WEB/schedule")
    assert page.status_code == 200 and 'type="datetime-local"' in page.text
    token = csrf_from(page.text)
    refused = await client.post(
        "/admin/campaigns/WEB/schedule",
        data={"opens_at": "2030-01-01T08:30", "closes_at": "2030-01-01T08:00"},
    )
    assert refused.status_code == 403  # no CSRF token
    wrong = await client.post(
        "/admin/campaigns/WEB/schedule",
        data={
            "_csrf_token": token,
            "opens_at": "2030-01-01T08:30",
            "closes_at": "2030-01-01T08:00",
        },
    )
    assert wrong.status_code == 400 and "结束时间必须晚于开始时间" in wrong.text
    assert (await campaigns.get_campaign("WEB"))["opens_at"] is None
    ok = await client.post(
        "/admin/campaigns/WEB/schedule",
        data={"_csrf_token": token, "opens_at": "2030-01-01T08:30", "closes_at": ""},
    )
    assert ok.status_code in (302, 303)
    row = (
        await Campaign.select(Campaign.opens_at, Campaign.closes_at)
        .where(Campaign.code == "WEB")
        .first()
    )
    assert row is not None and row["closes_at"] is None
    assert row["opens_at"] == datetime(2030, 1, 1, 0, 30, tzinfo=UTC)  # 08:30 in Beijing
    shown = await client.get("/admin/campaigns/WEB/schedule?saved=1")
    assert 'value="2030-01-01T08:30"' in shown.text


async def test_a_campaign_can_be_scheduled_when_created(client: Any) -> None:
    from pingyi.services import campaigns

    await draft("FIRST", None, None)  # makes unit u1
    await make_user("agency", "agency_admin", PASSWORD)
    await login(client, "agency", PASSWORD)
    token = csrf_from((await client.get("/admin/campaigns/new")).text)
    form = {
        "_csrf_token": token,
        "code": "NEW",
        "name": "新评议",
        "period_start": "2026-10-01",
        "period_end": "2026-12-31",
        "units": "u1",
        "k": "3",
        "peer_sample": "0",
        "weight_public": "100",
        "opens_at": "2030-01-02T09:00",
        "closes_at": "2030-01-01T09:00",
    }
    wrong = await client.post("/admin/campaigns/new", data=form)
    assert wrong.status_code == 400 and "结束时间必须晚于开始时间" in wrong.text
    with pytest.raises(campaigns.CampaignError):
        await campaigns.get_campaign("NEW")  # nothing was created
    created = await client.post(
        "/admin/campaigns/new", data={**form, "closes_at": "2030-01-31T18:00"}
    )
    assert created.status_code in (302, 303), created.text[:300]
    row = await campaigns.get_campaign("NEW")
    assert row["opens_at"] == datetime(2030, 1, 2, 1, 0, tzinfo=UTC)
    assert row["closes_at"] == datetime(2030, 1, 31, 10, 0, tzinfo=UTC)


async def test_the_tick_command_does_one_pass(db: str) -> None:
    now = datetime.now(UTC)
    await draft("CRON", now - timedelta(hours=1), now + timedelta(days=1))
    run = subprocess.run(
        [sys.executable, "-m", "pingyi.cli", "campaign", "tick"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert "Campaign CRON is now open." in run.stdout
    assert await state_of("CRON") == "open"
    quiet = subprocess.run(
        [sys.executable, "-m", "pingyi.cli", "campaign", "tick"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert quiet.returncode == 0 and "No campaign is due." in quiet.stdout
