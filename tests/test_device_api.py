"""Window devices post ratings and ask for tickets (一事一评)."""

from __future__ import annotations

import base64
import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from helpers import open_public_campaign
from test_citizen import decode_qr

pytestmark = pytest.mark.anyio


async def _device(window_code: str = "u1-W1") -> dict[str, str]:
    from pingyi.services.devices import add_device

    key = await add_device(window_code, "柜台评价器")
    return {"authorization": f"Bearer {key}"}


def _rating(**overrides: Any) -> dict[str, Any]:
    body = {
        "client_id": str(uuid.uuid4()),
        "window": "u1-W1",
        "answers": {"overall": 5, "attitude": 4},
    }
    body.update(overrides)
    return body


async def test_device_posts_a_rating_once(client: Any) -> None:
    from pingyi.db.tables import Response

    await open_public_campaign()
    headers = await _device()
    body = _rating(staff="u1-S1")
    first = await client.post("/api/v1/ratings", json=body, headers=headers)
    assert first.status_code == 201, first.text
    again = await client.post("/api/v1/ratings", json=body, headers=headers)
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"] and again.json()["created"] is False
    rows = await Response.select()
    assert len(rows) == 1 and rows[0]["channel"] == "device"


async def test_device_key_is_required_and_checked(client: Any) -> None:
    await open_public_campaign()
    await _device()
    assert (await client.post("/api/v1/ratings", json=_rating())).status_code == 401
    wrong = await client.post(
        "/api/v1/ratings", json=_rating(), headers={"authorization": "Bearer pyd_wrong"}
    )
    assert wrong.status_code == 401 and "device key" in wrong.json()["detail"]


async def test_brute_forcing_device_keys_is_rate_limited(client: Any) -> None:
    await open_public_campaign()
    statuses = [
        (
            await client.post(
                "/api/v1/ratings", json=_rating(), headers={"authorization": f"Bearer pyd_guess{i}"}
            )
        ).status_code
        for i in range(21)
    ]
    assert statuses[:20] == [401] * 20 and statuses[20] == 429


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (_rating(answers={"overall": 7}), "answers.overall"),
        (_rating(answers={"attitude": 4}), "answers.overall"),
        (_rating(answers={"overall": 5, "attitude": 4, "bogus": 3}), "answers.bogus"),
        (_rating(window="u2-W1"), "window"),
        (_rating(staff="nobody"), "staff"),
        ({"window": "u1-W1", "answers": {"overall": 5}}, "client_id"),
        (_rating(client_id="not-a-uuid"), "client_id"),
    ],
)
async def test_schema_errors_are_422_with_the_field(
    client: Any, body: dict[str, Any], field: str
) -> None:
    await open_public_campaign()
    response = await client.post("/api/v1/ratings", json=body, headers=await _device())
    assert response.status_code == 422, response.text
    assert field in response.text


async def test_ticket_is_issued_scanned_rated_once(client: Any) -> None:
    from pingyi.db.tables import Response

    await open_public_campaign()
    headers = await _device()
    issued = await client.post("/api/v1/tickets", json={"staff": "u1-S2"}, headers=headers)
    assert issued.status_code == 201, issued.text
    body = issued.json()
    url = decode_qr(base64.b64decode(body["qr_png_base64"]))
    assert url == body["url"] and "/t/" in url
    assert body["qr_svg"].startswith("<svg") or "<svg" in body["qr_svg"][:200]
    path = url.removeprefix("http://127.0.0.1:8000")
    page = await client.get(path)
    assert page.status_code == 200 and "员工u12" in page.text
    token = re.search(r'name="token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    data = {"token": token, "overall": "5", "item_attitude": "5"}
    assert (await client.post(path, data=data)).status_code == 200
    # The same submission again: its thank-you page, nothing new stored.
    retry = await client.post(path, data=data)
    assert retry.status_code == 200 and "感谢" in retry.text
    assert await Response.count() == 1
    row = await Response.select().first()
    assert row["channel"] == "ticket" and row["ticket"]
    used = await client.get(path)
    assert used.status_code == 410 and "已经评价过" in used.text
    # A second, different form on the used ticket is refused politely.
    other = {"token": token.replace(token.split("~")[-1][:4], "zzzz"), "overall": "1"}
    refused = await client.post(path, data=other)
    assert refused.status_code in (400, 410) and refused.status_code < 500
    assert await Response.count() == 1


async def test_expired_and_unknown_tickets_get_a_polite_page(client: Any) -> None:
    from pingyi.db.tables import Ticket

    await open_public_campaign()
    issued = (await client.post("/api/v1/tickets", headers=await _device())).json()
    path = issued["url"].removeprefix("http://127.0.0.1:8000")
    await Ticket.update({Ticket.expires_at: datetime.now(UTC) - timedelta(minutes=1)}).where(
        Ticket.id > 0
    )
    expired = await client.get(path)
    assert expired.status_code == 410 and "已过期" in expired.text
    unknown = await client.get("/t/this-ticket-does-not-exist")
    assert unknown.status_code == 404 and "无法识别" in unknown.text


async def test_openapi_documents_the_device_api(client: Any) -> None:
    schema = (await client.get("/api/docs/openapi.json")).json()
    assert "/api/v1/ratings" in schema["paths"] and "/api/v1/tickets" in schema["paths"]
    components = schema["components"]["schemas"]
    assert any("DeviceRating" in name for name in components)


async def test_default_ratings_are_stored_apart_and_open_no_case(client: Any) -> None:
    from pingyi.db.tables import BadReviewCase, Response

    await open_public_campaign()
    body = _rating(channel="default", answers={"overall": 1, "attitude": 1})
    response = await client.post("/api/v1/ratings", json=body, headers=await _device())
    assert response.status_code == 201, response.text
    row = await Response.select(Response.channel).first()
    assert row["channel"] == "default"
    assert await BadReviewCase.count() == 0
    other = await client.post(
        "/api/v1/ratings", json=_rating(channel="sms"), headers=await _device()
    )
    assert other.status_code == 422 and "channel" in other.text


async def test_revoked_device_and_api_keys_are_refused(client: Any) -> None:
    from pingyi.services.devices import add_api_key, revoke_api_key, revoke_devices

    await open_public_campaign()
    headers = await _device()
    assert (
        await client.post("/api/v1/ratings", json=_rating(), headers=headers)
    ).status_code == 201
    assert await revoke_devices("u1-W1", "test") == 1
    refused = await client.post("/api/v1/ratings", json=_rating(), headers=headers)
    assert refused.status_code == 401
    key = await add_api_key("hr-feed", ["hr"])
    feed = "/api/v1/campaigns/C1/scores"
    assert (await client.get(feed, headers={"authorization": f"Bearer {key}"})).status_code == 409
    await revoke_api_key("hr-feed", "test")
    assert (await client.get(feed, headers={"authorization": f"Bearer {key}"})).status_code == 401


async def test_a_device_rates_only_the_staff_of_its_own_window(client: Any) -> None:
    """Issue 13 item 3: the device of u1-W1 cannot rate a staff member of another unit,
    of another window of its unit, or who left; nothing is stored for a refusal."""
    from pingyi.db.tables import Response, Staff

    campaign = await open_public_campaign()
    headers = await _device("u1-W1")
    # u1-S1 is on duty at u1-W1; u1-S2 has no usual window (stands in within u1).
    await Staff.update({Staff.window: campaign["windows"]["u1-W2"]}).where(Staff.code == "u1-S3")
    await Staff.update({Staff.active: False}).where(Staff.code == "u1-S2")
    refusals = {
        "u2-S1": "not on duty at this device's window",  # another unit's window
        "u2-S2": "not on duty at this device's window",  # another unit, no usual window
        "u1-S3": "not on duty at this device's window",  # another window of the same unit
        "u1-S2": "not on duty at this device's window",  # no longer active
    }
    for code, message in refusals.items():
        refused = await client.post("/api/v1/ratings", json=_rating(staff=code), headers=headers)
        assert refused.status_code == 422, (code, refused.text)
        assert message in refused.json()["detail"] and refused.json()["field"] == "staff"
        ticket = await client.post("/api/v1/tickets", json={"staff": code}, headers=headers)
        assert ticket.status_code == 422, (code, ticket.text)
    assert await Response.count() == 0

    # The staff member on duty, and a colleague of the unit without a usual window.
    await _make_floater("u1-S9")
    for code in ("u1-S1", "u1-S9"):
        stored = await client.post("/api/v1/ratings", json=_rating(staff=code), headers=headers)
        assert stored.status_code == 201, (code, stored.text)
    ratees = await Response.select(Response.ratee.code.as_alias("code")).order_by(Response.ratee)
    assert sorted(r["code"] for r in ratees) == ["u1-S1", "u1-S9"]


async def test_a_ticket_is_bound_to_the_window_and_staff_it_was_issued_for(client: Any) -> None:
    from pingyi.db.tables import Response

    await open_public_campaign()
    ours, theirs = await _device("u1-W1"), await _device("u2-W1")
    issued = await client.post("/api/v1/tickets", json={"staff": "u2-S1"}, headers=theirs)
    assert issued.status_code == 201, issued.text
    token = issued.json()["url"].rsplit("/", 1)[-1]
    # The other window's ticket, posted by our device: refused, and nothing stored.
    foreign = await client.post("/api/v1/ratings", json=_rating(ticket=token), headers=ours)
    assert foreign.status_code == 422, foreign.text
    assert "issued at another window" in foreign.json()["detail"]
    assert await Response.count() == 0

    mine = await client.post("/api/v1/tickets", json={"staff": "u1-S1"}, headers=ours)
    my_token = mine.json()["url"].rsplit("/", 1)[-1]
    # Our ticket, but naming a staff member it was not issued for.
    await _make_floater("u1-S9")
    wrong = await client.post(
        "/api/v1/ratings", json=_rating(ticket=my_token, staff="u1-S9"), headers=ours
    )
    assert wrong.status_code == 422 and "another staff member" in wrong.json()["detail"]
    # Our ticket without a staff code: the rating goes to the staff member it names.
    right = await client.post("/api/v1/ratings", json=_rating(ticket=my_token), headers=ours)
    assert right.status_code == 201, right.text
    row = await Response.select(Response.ratee.code.as_alias("code"), Response.ticket).first()
    assert row is not None and row["code"] == "u1-S1" and row["ticket"]
    # The ticket issued at u2-W1 still rates there, once.
    there = await client.post(
        "/api/v1/ratings", json=_rating(window="u2-W1", ticket=token), headers=theirs
    )
    assert there.status_code == 201, there.text
    assert await Response.count() == 2


async def _make_floater(code: str) -> None:
    from pingyi.db.tables import Staff
    from pingyi.services.org import upsert_staff

    row = await Staff.select(Staff.unit).where(Staff.code == "u1-S1").first()
    assert row is not None
    await upsert_staff(row["unit"], code, "替班员工", window_id=None)
