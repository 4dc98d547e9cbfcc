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
