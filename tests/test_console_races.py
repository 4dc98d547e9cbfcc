"""What two people (or a person and the scheduler) doing the same thing at once, and
odd input on the organisation pages, must not break."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from helpers import csrf_from, login, make_user, open_public_campaign

pytestmark = pytest.mark.anyio
PASSWORD = "correct horse battery"


async def test_opening_twice_at_once_builds_who_rates_whom_once(db: str) -> None:
    from pingyi.db.tables import Assignment, AuditEvent
    from pingyi.services import campaigns

    data = await open_public_campaign()
    expected = await Assignment.count().where(Assignment.campaign == data["campaign_id"])
    # a fresh draft over the same units, raced by two openers
    spec = await campaigns.get_campaign(data["code"])
    second = await campaigns.create_campaign(
        campaigns.CampaignSpec(
            code="C2",
            name="并发",
            period_start=spec["period_start"],
            period_end=spec["period_end"],
            unit_codes=["u1", "u2"],
            public_version=spec["public_version"],
            peer_version=spec["peer_version"],
            superior_version=spec["superior_version"],
            self_version=spec["self_version"],
        )
    )
    results = await asyncio.gather(
        campaigns.move("C2", "open", "a"), campaigns.move("C2", "open", "b"), return_exceptions=True
    )
    assert sum(not isinstance(r, Exception) for r in results) == 1
    assert any(isinstance(r, campaigns.CampaignError) for r in results)
    assert await Assignment.count().where(Assignment.campaign == second) == expected
    opened = await AuditEvent.count().where(
        (AuditEvent.action == "campaign.open") & (AuditEvent.target == "campaign:C2")
    )
    assert opened == 1


async def test_odd_numbers_and_double_submits_on_the_organisation_pages(client: Any) -> None:
    from pingyi.db.tables import Unit

    await make_user("agency", "agency_admin", PASSWORD)
    await login(client, "agency", PASSWORD)
    token = csrf_from((await client.get("/admin/org")).text)
    assert (await client.get("/admin/org/windows/new?unit=²")).status_code == 200
    for field in ("unit", "window"):
        form = {"_csrf_token": token, "code": "S9", "name": "某", field: "²"}
        response = await client.post("/admin/org/staff/new", data=form)
        assert response.status_code == 400, field
    unit = {"_csrf_token": token, "code": "hall", "name": "大厅", "opening_hours": "09:00-17:00"}
    statuses = await asyncio.gather(
        *[client.post("/admin/org/units/new", data=unit) for _ in range(3)]
    )
    codes = sorted(r.status_code for r in statuses)
    assert codes[0] in (302, 303) and all(c in (302, 303, 400) for c in codes)
    assert await Unit.count().where(Unit.code == "hall") == 1


async def test_a_transferred_leader_looks_after_the_new_unit(db: str) -> None:
    from pingyi.db.tables import AdminUser, Staff, Unit
    from pingyi.services import org_edit

    await open_public_campaign()
    await make_user("lead", "unit_leader", PASSWORD, staff_code="u1-S0", unit_code="u1")
    leader = await Staff.select().where(Staff.code == "u1-S0").first()
    u2 = await Unit.select(Unit.id).where(Unit.code == "u2").first()
    form = {
        "name": leader["name"],
        "unit": str(u2["id"]),
        "post_category": leader["post_category"],
        "is_leader": "on",
        "active": "on",
    }
    await org_edit.edit_staff(leader["id"], form, "agency")
    login_row = await AdminUser.select().where(AdminUser.username == "lead").first()
    assert login_row["unit"] == u2["id"]


async def test_a_retired_window_takes_no_more_ratings(client: Any) -> None:
    from pingyi.db.tables import ServiceWindow
    from pingyi.services.links import window_url
    from pingyi.services.reference_cache import forget_all

    data = await open_public_campaign()
    url = window_url(data["campaign_id"], data["windows"]["u1-W1"])
    path = url.removeprefix("http://127.0.0.1:8000")
    assert (await client.get(path)).status_code == 200
    await ServiceWindow.update({ServiceWindow.active: False}).where(ServiceWindow.code == "u1-W1")
    forget_all()  # as the edit page does
    assert (await client.get(path)).status_code == 410


async def test_dates_beyond_any_campaign_are_a_clear_400(client: Any) -> None:
    await open_public_campaign()
    await make_user("agency", "agency_admin", PASSWORD)
    await login(client, "agency", PASSWORD)
    for query in ("to=9999-12-31", "from=0001-01-01"):
        response = await client.get(f"/admin/campaigns/C1/indicators?{query}")
        assert response.status_code == 400, query


async def test_a_campaign_without_ratings_is_not_cleaned(db: str) -> None:
    from pingyi.services import campaigns
    from pingyi.services.cleaning_run import run_cleaning

    await open_public_campaign()
    await campaigns.move("C1", "closed", "test")
    with pytest.raises(campaigns.CampaignError, match="no ratings"):
        await run_cleaning("C1", "test")
    assert (await campaigns.get_campaign("C1"))["state"] == "closed"
