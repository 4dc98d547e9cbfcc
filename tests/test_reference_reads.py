"""The submission path's reference reads, each one query (raw SQL on both engines),
give what piccolo's own selects give: the same rows, types and JSON."""

from __future__ import annotations

from typing import Any

import pytest

from helpers import open_public_campaign

pytestmark = pytest.mark.anyio


async def test_a_window_context_is_the_rows_piccolo_reads(db: str) -> None:
    from pingyi.db.tables import Campaign, ServiceWindow, Staff, Unit
    from pingyi.services.public_rating import CAMPAIGN_COLUMNS, window_context
    from pingyi.services.questionnaires import items_of

    campaign = await open_public_campaign()
    await Campaign.update({Campaign.policy: {"ticket_ttl_hours": 4}}).where(
        Campaign.id == campaign["campaign_id"]
    )
    window_id = campaign["windows"]["u1-W1"]
    ctx = await window_context(campaign["campaign_id"], window_id)
    assert ctx is not None and ctx.is_open
    columns = [getattr(Campaign, name) for name in CAMPAIGN_COLUMNS]
    expected_campaign = (
        await Campaign.select(*columns)
        .where(Campaign.id == campaign["campaign_id"])
        .output(load_json=True)
        .first()
    )
    assert ctx.campaign == expected_campaign
    assert ctx.campaign["policy"] == {"ticket_ttl_hours": 4}  # JSON decoded
    window = await ServiceWindow.select().where(ServiceWindow.id == window_id).first()
    assert ctx.window == window and ctx.window["active"] is True
    assert ctx.unit == await Unit.select().where(Unit.id == window["unit"]).first()
    assert ctx.staff == {"id": campaign["staff"]["u1-S1"], "name": "员工u11"}  # the one on duty
    version = expected_campaign["public_version"]
    assert ctx.items == [i for i in await items_of(version) if i["code"] != "overall"]
    assert [i["code"] for i in ctx.items] == ["attitude", "remarks"]

    async def staff_shown(staff_id: int | None = None) -> dict[str, Any] | None:
        ctx = await window_context(campaign["campaign_id"], window_id, staff_id)
        assert ctx is not None
        return ctx.staff

    # Two on duty: nobody is shown; one of them inactive again: the other is.
    await Staff.update({Staff.window: window_id}).where(Staff.code == "u1-S2")
    assert await staff_shown() is None
    await Staff.update({Staff.active: False}).where(Staff.code == "u1-S1")
    assert await staff_shown() == {"id": campaign["staff"]["u1-S2"], "name": "员工u12"}
    # The staff member named wins; one who does not exist is nobody.
    named = campaign["staff"]["u2-S3"]
    assert await staff_shown(named) == {"id": named, "name": "员工u23"}
    assert await staff_shown(999_999) is None
    # Unknown campaign or window: no context at all.
    assert await window_context(999_999, window_id) is None
    assert await window_context(campaign["campaign_id"], 999_999) is None


async def test_the_campaign_for_a_window_is_the_latest_open_one_of_its_unit(db: str) -> None:
    from pingyi.db.tables import Campaign
    from pingyi.services import campaigns
    from pingyi.services.tickets import open_campaign_for_window

    first = await open_public_campaign()
    versions: dict[str, Any] = await Campaign.select(
        Campaign.period_start,
        Campaign.period_end,
        Campaign.public_version,
        Campaign.peer_version,
        Campaign.superior_version,
        Campaign.self_version,
    ).first()
    second = await campaigns.create_campaign(
        campaigns.CampaignSpec(code="C2", name="第二次", unit_codes=["u2"], **versions)
    )
    u1, u2 = first["windows"]["u1-W1"], first["windows"]["u2-W1"]
    assert await open_campaign_for_window(u2) == first["campaign_id"]  # C2 is a draft
    await campaigns.move("C2", "open", "test")
    assert await open_campaign_for_window(u2) == second  # the later one
    assert await open_campaign_for_window(u1) == first["campaign_id"]  # C2 leaves u1 out
    await campaigns.move("C1", "closed", "test")
    assert await open_campaign_for_window(u1) is None
    assert await open_campaign_for_window(u2) == second
    assert await open_campaign_for_window(999_999) is None
