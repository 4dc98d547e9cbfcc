"""Queue systems (叫号/办件系统): tickets in bulk, QR images for the queue slip, citizens
served per window and hour, and those counts as BURST evidence in a campaign's
cleaning (issue 14). Each key type gets only its own routes."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from helpers import open_public_campaign
from test_citizen import decode_qr

pytestmark = pytest.mark.anyio


def _local(day: int, hour: int, minute: int = 0) -> datetime:
    from pingyi.hours import LOCAL_TZ

    return datetime(2026, 11, day, hour, minute, tzinfo=LOCAL_TZ)


async def _queue_key() -> dict[str, str]:
    from pingyi.services.devices import add_api_key

    return {"authorization": f"Bearer {await add_api_key('大厅叫号系统', ['queue'])}"}


async def _hr_key() -> dict[str, str]:
    from pingyi.services.devices import add_api_key

    return {"authorization": f"Bearer {await add_api_key('hr', ['hr'])}"}


async def _device_key(window: str = "u1-W1") -> dict[str, str]:
    from pingyi.services.devices import add_device

    return {"authorization": f"Bearer {await add_device(window, 'counter')}"}


def _batch(*tickets: tuple[str, str, str | None]) -> dict[str, Any]:
    return {"tickets": [{"number": n, "window": w, "staff": s} for n, w, s in tickets]}


async def test_a_batch_of_tickets_is_idempotent_per_number(client: Any) -> None:
    from pingyi.db.tables import Response, Ticket

    await open_public_campaign()
    key = await _queue_key()
    batch = _batch(
        ("20261201-A001", "u1-W1", "u1-S1"),
        ("20261201-A002", "u1-W2", None),
        ("20261201-B001", "u2-W1", None),
    )
    first = await client.post("/api/v1/tickets", json=batch, headers=key)
    assert first.status_code == 201, first.text
    issued = first.json()["tickets"]
    assert [t["number"] for t in issued] == ["20261201-A001", "20261201-A002", "20261201-B001"]
    assert all(t["created"] and t["url"].startswith("http") for t in issued)
    # the queue system retries (a lost answer): the same tickets, nothing new
    again = await client.post("/api/v1/tickets", json=batch, headers=key)
    assert again.status_code == 200, again.text
    assert [t["url"] for t in again.json()["tickets"]] == [t["url"] for t in issued]
    assert not any(t["created"] for t in again.json()["tickets"])
    # a batch with one known and one new number stores only the new one
    mixed = _batch(("20261201-A001", "u1-W1", "u1-S1"), ("20261201-A003", "u1-W1", None))
    third = await client.post("/api/v1/tickets", json=mixed, headers=key)
    assert third.status_code == 201
    assert [t["created"] for t in third.json()["tickets"]] == [False, True]
    assert await Ticket.count() == 4
    row = await Ticket.select().where(Ticket.number == "20261201-A001").first()
    assert row["staff"] is not None and row["used"] is False

    # the citizen scans the printed code and rates once, bound to the ticket's staff
    path = issued[0]["url"].split("://", 1)[1].split("/", 1)[1]
    page = await client.get(f"/{path}")
    assert page.status_code == 200
    token = re.search(r'name="token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    rated = await client.post(
        f"/{path}", data={"token": token, "overall": "5", "item_attitude": "5"}
    )
    assert rated.status_code == 200
    stored = await Response.select().first()
    assert stored["channel"] == "ticket" and stored["ratee"] == row["staff"]
    # the queue system resends the number later: the same (now used) ticket
    resent = _batch(("20261201-A001", "u1-W1", "u1-S1"))
    later = await client.post("/api/v1/tickets", json=resent, headers=key)
    assert later.status_code == 200 and later.json()["tickets"][0]["used"] is True


async def test_a_call_back_number_from_the_queue_is_stored_encrypted_for_phone_follow_up(
    client: Any,
) -> None:
    from pingyi.db.tables import Ticket, TicketContact
    from pingyi.services.contacts import decrypt_contact

    await open_public_campaign()
    key = await _queue_key()
    batch = {
        "tickets": [
            {"number": "CB-1", "window": "u1-W1", "callback": "13800001111"},
            {"number": "CB-2", "window": "u1-W1"},
        ]
    }
    issued = await client.post("/api/v1/tickets", json=batch, headers=key)
    assert issued.status_code == 201, issued.text
    assert "13800001111" not in issued.text  # never echoed back
    rows = await TicketContact.select()
    assert len(rows) == 1 and "13800001111" not in rows[0]["ciphertext"]
    assert decrypt_contact(rows[0]["ciphertext"]) == "13800001111"
    ticket = await Ticket.select(Ticket.number).where(Ticket.id == rows[0]["ticket"]).first()
    assert ticket["number"] == "CB-1"
    too_long = {"tickets": [{"number": "CB-3", "window": "u1-W1", "callback": "1" * 61}]}
    refused = await client.post("/api/v1/tickets", json=too_long, headers=key)
    assert refused.status_code in (400, 422) and await TicketContact.count() == 1


async def test_a_conflicting_or_bad_batch_stores_nothing(client: Any) -> None:
    from pingyi.db.tables import Ticket

    await open_public_campaign()
    key = await _queue_key()
    ok = await client.post("/api/v1/tickets", json=_batch(("A001", "u1-W1", None)), headers=key)
    assert ok.status_code == 201
    cases = [
        # the same number for another window: a conflict, the new ticket B001 is not kept
        (_batch(("B001", "u1-W1", None), ("A001", "u1-W2", None)), 409, "tickets[1].number"),
        # the same number for another staff member
        (_batch(("A001", "u1-W1", "u1-S1")), 409, "tickets[0].number"),
        # one number twice in a batch, differently
        (_batch(("C1", "u1-W1", None), ("C1", "u1-W2", None)), 422, "tickets[1].number"),
        (_batch(("C2", "nowhere", None)), 422, "tickets[0].window"),
        # a staff member of another unit is not on duty at u1-W1
        (_batch(("C3", "u1-W1", "u2-S1")), 422, "tickets[0].staff"),
    ]
    for body, status, field in cases:
        answer = await client.post("/api/v1/tickets", json=body, headers=key)
        assert answer.status_code == status, (body, answer.text)
        assert answer.json()["field"] == field, answer.text
    bad_number = await client.post(
        "/api/v1/tickets", json=_batch(("A 001/x", "u1-W1", None)), headers=key
    )
    assert bad_number.status_code in (400, 422)
    too_many = _batch(*[(f"N{i}", "u1-W1", None) for i in range(501)])
    answer = await client.post("/api/v1/tickets", json=too_many, headers=key)
    assert answer.status_code == 413 and "at most 500" in answer.json()["detail"]
    empty = await client.post("/api/v1/tickets", json={"tickets": []}, headers=key)
    assert empty.status_code == 422
    assert await Ticket.count() == 1


async def test_a_queue_ticket_prints_its_qr_code(client: Any) -> None:
    await open_public_campaign()
    key = await _queue_key()
    issued = await client.post("/api/v1/tickets", json=_batch(("A9", "u1-W1", None)), headers=key)
    ticket = issued.json()["tickets"][0]
    png = await client.get(ticket["qr_png"], headers=key)
    assert png.status_code == 200 and png.headers["content-type"] == "image/png"
    assert decode_qr(png.content) == ticket["url"]
    svg = await client.get(ticket["qr_svg"], headers=key)
    assert svg.status_code == 200 and svg.headers["content-type"].startswith("image/svg+xml")
    assert svg.text.startswith("<svg")
    assert (await client.get("/api/v1/tickets/NOPE/qr.png", headers=key)).status_code == 404
    # the image is the queue system's: not for a device, an HR key or nobody
    assert (await client.get(ticket["qr_png"])).status_code == 401
    assert (await client.get(ticket["qr_png"], headers=await _device_key())).status_code == 403
    assert (await client.get(ticket["qr_png"], headers=await _hr_key())).status_code == 403


async def test_each_key_gets_only_its_own_routes(client: Any) -> None:
    from pingyi.db.tables import Response, ServedCount, Ticket

    await open_public_campaign()
    queue_key, device_key, hr_key = await _queue_key(), await _device_key(), await _hr_key()
    rating = {"client_id": str(uuid.uuid4()), "window": "u1-W1", "answers": {"overall": 5}}
    # a queue key posts no ratings and reads no scores
    assert (await client.post("/api/v1/ratings", json=rating, headers=queue_key)).status_code == 401
    scores = await client.get("/api/v1/campaigns/C1/scores", headers=queue_key)
    assert scores.status_code == 403
    # a device posts no served counts and no batches (its one ticket still works)
    hour = _local(2, 9).isoformat()
    counts = {"counts": [{"window": "u1-W1", "hour": hour, "served": 3}]}
    assert (await client.post("/api/v1/served", json=counts, headers=device_key)).status_code == 403
    batch = _batch(("D1", "u1-W1", None))
    assert (await client.post("/api/v1/tickets", json=batch, headers=device_key)).status_code == 403
    one = await client.post("/api/v1/tickets", json={}, headers=device_key)
    assert one.status_code == 201 and one.json()["qr_png_base64"]
    # an HR key does neither
    assert (await client.post("/api/v1/served", json=counts, headers=hr_key)).status_code == 403
    assert (await client.post("/api/v1/tickets", json=batch, headers=hr_key)).status_code == 403
    assert (await client.post("/api/v1/served", json=counts)).status_code == 401
    assert await ServedCount.count() == 0 and await Response.count() == 0
    assert await Ticket.count() == 1  # the device's own
    # a queue key that is revoked is refused
    from pingyi.services.devices import revoke_api_key

    await revoke_api_key("大厅叫号系统")
    assert (await client.post("/api/v1/served", json=counts, headers=queue_key)).status_code == 401


async def test_served_counts_replace_per_window_and_hour(client: Any) -> None:
    from pingyi.db.tables import ServedCount

    await open_public_campaign()
    key = await _queue_key()
    nine = _local(2, 9)
    body = {
        "counts": [
            {"window": "u1-W1", "hour": nine.isoformat(), "served": 4},
            # naive: the hall's local time, the same hour as above
            {"window": "u1-W2", "hour": "2026-11-02T09:00:00", "served": 7},
        ]
    }
    first = await client.post("/api/v1/served", json=body, headers=key)
    assert first.status_code == 200 and first.json() == {"stored": 2}, first.text
    # a later, corrected count for the same hour (in UTC this time) replaces it
    utc = nine.astimezone(UTC).isoformat()
    again = {"counts": [{"window": "u1-W1", "hour": utc, "served": 11}]}
    assert (await client.post("/api/v1/served", json=again, headers=key)).status_code == 200
    rows = await ServedCount.select(ServedCount.served, ServedCount.hour_start).order_by(
        ServedCount.served
    )
    assert [r["served"] for r in rows] == [7, 11]
    assert {r["hour_start"].astimezone(UTC) for r in rows} == {nine.astimezone(UTC)}
    future = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(hours=2)
    bad = [
        ({"window": "u1-W1", "hour": _local(2, 9, 30).isoformat(), "served": 1}, "hour"),
        ({"window": "u1-W1", "hour": future.isoformat(), "served": 1}, "hour"),
        ({"window": "nowhere", "hour": nine.isoformat(), "served": 1}, "window"),
        ({"window": "u1-W1", "hour": nine.isoformat(), "served": -1}, "served"),
    ]
    for entry, field in bad:
        answer = await client.post("/api/v1/served", json={"counts": [entry]}, headers=key)
        assert answer.status_code == 422, answer.text
        assert answer.json()["field"] == f"counts[0].{field}"
    many = {"counts": [{"window": "u1-W1", "hour": nine.isoformat(), "served": 1}] * 1001}
    answer = await client.post("/api/v1/served", json=many, headers=key)
    assert answer.status_code == 413 and "at most 1000" in answer.json()["detail"]
    assert [r["served"] for r in await ServedCount.select(ServedCount.served)] in ([7, 11], [11, 7])


async def _seed_spread_out_top_ratings(campaign: dict[str, Any]) -> None:
    """Top ratings without tickets, 7 minutes apart: never five within ten minutes, so
    by rate alone nothing looks like a burst.

    - window u1-W2 (no staff named): 8 in the 10:00 hour (local);
    - staff u1-S1 at window u1-W1: 6 in the 11:00 hour;
    - window u2-W1: 6 in the 10:00 hour, for which no count is posted."""
    from pingyi.db.tables import Campaign
    from pingyi.services.writer import NewResponse, write_batch

    version = (
        await Campaign.select(Campaign.public_version)
        .where(Campaign.id == campaign["campaign_id"])
        .first()
    )["public_version"]
    windows, staff = campaign["windows"], campaign["staff"]

    def top(window: str, at: datetime, ratee: str | None = None) -> NewResponse:
        return NewResponse(
            campaign_id=campaign["campaign_id"],
            role="public",
            channel="qr",
            answers=[("overall", 5, ""), ("attitude", 5, "")],
            version_id=version,
            window_id=windows[window],
            ratee_id=staff[ratee] if ratee else None,
            submitted_at=at,
            duration_s=20.0,
        )

    batch = [top("u1-W2", _local(2, 10, 1 + 7 * i)) for i in range(8)]
    batch += [top("u1-W1", _local(2, 11, 2 + 7 * i), "u1-S1") for i in range(6)]
    batch += [top("u2-W1", _local(2, 10, 3 + 7 * i)) for i in range(6)]
    # an ordinary morning elsewhere: the rate baseline
    batch += [top("u2-W2", _local(d, 9 + i % 8, 15)) for d in (3, 4) for i in range(8)]
    assert all(s.created for s in await write_batch(batch))


async def test_served_counts_reach_the_cleaning_as_burst_evidence(client: Any) -> None:
    from pingyi.db.tables import Flag
    from pingyi.services.campaigns import move
    from pingyi.services.cleaning_run import run_cleaning

    campaign = await open_public_campaign()
    await _seed_spread_out_top_ratings(campaign)
    await move("C1", "closed", "test")

    # without the queue's counts the ratings are judged by rate only: no burst
    first = await run_cleaning("C1", "test")
    assert first["flags"].get("BURST", 0) == 0

    key = await _queue_key()
    counts = [
        {"window": "u1-W2", "hour": _local(2, 10).isoformat(), "served": 2},
        {"window": "u1-W1", "hour": _local(2, 11).isoformat(), "served": 1},
        # u1-W1 served plenty at 10:00; nobody rated S1 there then: no effect
        {"window": "u1-W1", "hour": _local(2, 10).isoformat(), "served": 40},
    ]
    posted = await client.post("/api/v1/served", json={"counts": counts}, headers=key)
    assert posted.status_code == 200, posted.text

    second = await run_cleaning("C1", "test")
    flags = await Flag.select().where(
        (Flag.reason == "BURST") & (Flag.revision == second["revision"])
    )
    by_ratee: dict[str, list[dict[str, Any]]] = {}
    for f in flags:
        by_ratee.setdefault(f["ratee"], []).append(f)
    window_u1w2 = f"window:{campaign['windows']['u1-W2']}"
    assert set(by_ratee) == {window_u1w2, "staff:u1-S1"}, by_ratee.keys()
    # 8 ratings, 2 citizens served: 6 excess shared by the 8 top ratings
    assert len(by_ratee[window_u1w2]) == 8
    assert {round(f["weight"], 3) for f in by_ratee[window_u1w2]} == {0.25}
    assert all("叫号系统仅服务 2 人" in f["detail"] for f in by_ratee[window_u1w2])
    # the staff member's ratings are bounded by their window's count
    assert len(by_ratee["staff:u1-S1"]) == 6
    assert {round(f["weight"], 3) for f in by_ratee["staff:u1-S1"]} == {round(1 - 5 / 6, 3)}
    assert {f["action"] for f in flags} == {"downweight"}


async def test_the_openapi_text_says_what_a_queue_system_sends(client: Any) -> None:
    schema = (await client.get("/api/docs/openapi.json")).json()
    tickets = schema["paths"]["/api/v1/tickets"]["post"]
    assert (
        "queue system" in tickets["description"] and "idempotent" in tickets["description"].lower()
    )
    served = schema["paths"]["/api/v1/served"]["post"]
    assert "latest count replaces" in served["description"]
    assert "/api/v1/tickets/{number}/qr.png" in schema["paths"]
