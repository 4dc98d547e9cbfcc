"""Sampled phone follow-up end to end through the console: the agency draws a round,
interviewers call (one at a time, each reveal audited), the weighted estimate and the
rates show in the console and in the campaign report; the draw re-draws from its seed."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from helpers import csrf_from, login, make_user, open_public_campaign

pytestmark = pytest.mark.anyio
PASSWORD = "correct horse battery"


async def _tickets(campaign: dict[str, Any]) -> dict[int, str]:
    """Served tickets in two weeks of November: 8 per window and week, 6 of them with a
    call-back number. Returns the numbers by ticket id."""
    from pingyi.db.tables import Ticket
    from pingyi.services.phone import set_ticket_contact

    numbers: dict[int, str] = {}
    n = 0
    for _code, window_id in sorted(campaign["windows"].items()):
        for week in (0, 1):
            for i in range(8):
                n += 1
                issued = datetime(2026, 11, 2, 2, tzinfo=UTC) + timedelta(days=7 * week + i % 5)
                row = await Ticket.insert(
                    Ticket(
                        campaign=campaign["campaign_id"],
                        window=window_id,
                        code=f"t{n:04d}" + "0" * 58,
                        issued_at=issued,
                        expires_at=issued + timedelta(days=1),
                    )
                )
                if i < 6:
                    number = f"1390000{n:04d}"
                    await set_ticket_contact(row[0]["id"], number)
                    numbers[row[0]["id"]] = number
    return numbers


async def _qr_ratings(campaign: dict[str, Any]) -> None:
    """Self-selected QR ratings: glowing in both units."""
    from pingyi.services.writer import NewResponse, write_batch

    batch = []
    for code, window_id in campaign["windows"].items():
        for i in range(5):
            batch.append(
                NewResponse(
                    campaign_id=campaign["campaign_id"],
                    role="public",
                    channel="qr",
                    answers=[("overall", 5 if i else 4, ""), ("attitude", 5, "")],
                    window_id=window_id,
                    device=f"d{code}{i}",
                    submitted_at=datetime(2026, 11, 5, 3, i, tzinfo=UTC),
                    duration_s=20.0,
                )
            )
    await write_batch(batch)


def _call_ids(html: str) -> list[int]:
    return [int(x) for x in re.findall(r'action="/admin/phone/calls/(\d+)/start"', html)]


async def test_draw_call_estimate_report(client: Any) -> None:
    from pingyi import sampling
    from pingyi.db.tables import AuditEvent, PhoneCall, PhoneRound, Response, Unit
    from pingyi.services import campaigns
    from pingyi.services.cleaning_run import run_cleaning

    campaign = await open_public_campaign()
    numbers = await _tickets(campaign)
    await _qr_ratings(campaign)
    interviewer_id = await make_user("iv", "interviewer", PASSWORD)
    await make_user("iv2", "interviewer", PASSWORD)

    # the agency draws: 3 of the 6 callable tickets per unit, window and week
    await make_user("agency", "agency_admin", PASSWORD)
    await login(client, "agency", PASSWORD)
    token = csrf_from((await client.get("/admin/phone")).text)
    drawn = await client.post(
        "/admin/phone",
        data={
            "_csrf_token": token,
            "campaign": "C1",
            "per_stratum": "3",
            "from": "2026-11-01",
            "to": "2026-11-30",
            "seed": "audit-seed-1",
        },
    )
    assert drawn.status_code in (302, 303), drawn.text[:300]
    round_id = int(drawn.headers["location"].rsplit("/", 1)[1])
    rnd = await PhoneRound.select().where(PhoneRound.id == round_id).output(load_json=True).first()
    frame = rnd["frame"]
    assert len(frame) == 8  # 4 windows x 2 weeks
    assert all(len(ids) == 6 for ids in frame.values())
    assert rnd["served"] and all(v == 8 for v in rnd["served"].values())
    calls = await PhoneCall.select().where(PhoneCall.phone_round == round_id)
    assert len(calls) == 24 and all(c["probability"] == pytest.approx(0.5) for c in calls)
    # anyone re-draws the same sample from the stored seed and frame
    again = sampling.draw(frame, rnd["per_stratum"], rnd["seed"])
    assert {(s.ticket_id, s.probability) for s in again} == {
        (c["ticket"], c["probability"]) for c in calls
    }
    assert sampling.digest(again) == rnd["draw_hash"]
    draw_event = await AuditEvent.select().where(AuditEvent.action == "phone.draw").first()
    assert draw_event is not None and "audit-seed-1" in str(draw_event["after"])
    verified = await client.post(f"/admin/phone/{round_id}/verify", data={"_csrf_token": token})
    assert verified.status_code == 200 and 'id="verification"' in verified.text
    assert "核对一致" in verified.text
    # in English a unit without an English name keeps its Chinese one, never a blank
    await Unit.update({Unit.name_en: ""}).where(Unit.code == "u1")
    english = (await client.get(f"/admin/phone/{round_id}?lang=en")).text
    comparison = english.split('id="phone-comparison"')[1].split("</table>")[0]
    assert "<td>不动产登记</td>" in comparison and "<td>社会保障 EN</td>" in comparison

    # the interviewer's call list shows no numbers
    client.cookies.clear()
    await login(client, "iv", PASSWORD)
    listing = await client.get(f"/admin/phone/{round_id}")
    assert listing.status_code == 200
    assert not any(n in listing.text for n in numbers.values())
    assert "phone-rates" not in listing.text  # rates and estimates are the agency's
    token = csrf_from(listing.text)
    u1 = (await Unit.select(Unit.id).where(Unit.code == "u1").first())["id"]
    by_id = {c["id"]: c for c in calls}
    u1_calls = [c for c in _call_ids(listing.text) if by_id[c]["unit"] == u1]
    u2_calls = [c for c in _call_ids(listing.text) if by_id[c]["unit"] != u1]
    assert len(u1_calls) == 12 and len(u2_calls) == 12

    first = u1_calls[0]
    sheet = await client.post(f"/admin/phone/calls/{first}/start", data={"_csrf_token": token})
    assert sheet.status_code == 200
    assert numbers[by_id[first]["ticket"]] in sheet.text
    # one call at a time
    other = await client.post(
        f"/admin/phone/calls/{u1_calls[1]}/start", data={"_csrf_token": token}
    )
    assert other.status_code == 409 and "请先完成当前的回访" in other.text
    assert numbers[by_id[u1_calls[1]]["ticket"]] not in other.text
    # a completed call without an answer is refused, the number stays on screen
    missing = await client.post(
        f"/admin/phone/calls/{first}", data={"_csrf_token": token, "outcome": "completed"}
    )
    assert missing.status_code == 400 and numbers[by_id[first]["ticket"]] in missing.text

    async def finish(call_id: int, outcome: str, level: int | None = None) -> None:
        started = await client.post(
            f"/admin/phone/calls/{call_id}/start", data={"_csrf_token": token}
        )
        assert started.status_code == 200, started.text[:300]
        form = {"_csrf_token": token, "outcome": outcome, "submission": f"s{call_id}"}
        if level is not None:
            form.update({"overall": str(level), "item_attitude": str(level)})
            if level <= 2:
                form["reason"] = "slow"
        done = await client.post(f"/admin/phone/calls/{call_id}", data=form)
        assert done.status_code in (302, 303), done.text[:500]

    # unit 1: ten completed (6 satisfied), one refusal, one wrong number
    for i, call_id in enumerate(u1_calls[:10]):
        await finish(call_id, "completed", 5 if i < 6 else 2)
    await finish(u1_calls[10], "refused")
    await finish(u1_calls[11], "wrong_number")
    # unit 2: only two completed (fewer than k = 3), the rest not reached
    await finish(u2_calls[0], "completed", 4)
    await finish(u2_calls[1], "completed", 4)
    await finish(u2_calls[2], "no_answer")
    await finish(u2_calls[3], "call_back")

    stored = await Response.select().where(Response.channel == "phone")
    assert len(stored) == 12
    assert all(r["interviewer"] == interviewer_id and len(r["rater"]) == 24 for r in stored)
    assert len({r["rater"] for r in stored}) == 1
    reveals = await AuditEvent.count().where(AuditEvent.action == "phone.reveal")
    assert reveals >= 17  # every start, and the re-shown form
    # another interviewer cannot take a call that is finished
    client.cookies.clear()
    await login(client, "iv2", PASSWORD)
    token = csrf_from((await client.get("/admin/phone")).text)
    finished = await client.post(f"/admin/phone/calls/{first}/start", data={"_csrf_token": token})
    assert finished.status_code == 409 and "该回访已结束" in finished.text

    # the agency sees rates and the weighted estimate beside QR satisfaction
    client.cookies.clear()
    await login(client, "agency", PASSWORD)
    page = await client.get(f"/admin/phone/{round_id}")
    assert page.status_code == 200
    assert "phone-comparison" in page.text and "RR1" in page.text
    assert "60.0%" in page.text  # unit 1: 6 of 10, equal weights inside the unit
    assert "样本不足" in page.text  # unit 2's phone side is hidden (2 < k)
    rates = sampling.rates(c["outcome"] for c in await PhoneCall.select(PhoneCall.outcome))
    assert rates.completed == 12 and rates.sampled == 24
    assert rates.con1 == pytest.approx(14 / 24)
    assert f"{rates.rr1 * 100:.1f}%" in page.text

    # the campaign report (after closing and cleaning) has the comparison too
    await campaigns.move("C1", "closed", "test")
    await run_cleaning("C1", "test")
    report = await client.get("/admin/campaigns/C1/report")
    assert report.status_code == 200
    assert 'id="phone"' in report.text and "回访满意度" in report.text
    assert 'data-cell="phone:不动产登记"' in report.text
    assert "60.0%" in report.text
    assert not any(n in report.text for n in numbers.values())
    english = await client.get("/admin/campaigns/C1/report?lang=en")
    assert english.status_code == 200 and "Phone satisfaction" in english.text


async def test_demo_has_a_sampled_phone_round_with_results(client: Any) -> None:
    from pingyi.db.tables import PhoneCall, PhoneRound, Response
    from pingyi.services import phone
    from pingyi.services.demo import load_demo

    await load_demo(admin_password=PASSWORD)
    rounds = await PhoneRound.select(PhoneRound.id, PhoneRound.campaign.code.as_alias("code"))
    assert {r["code"] for r in rounds} == {"2026Q3", "2026Q4"}
    for r in rounds:
        assert (await phone.verify_round(r["id"], "test")).ok
    completed = await PhoneCall.count().where(PhoneCall.outcome == "completed")
    assert completed == await Response.count().where(Response.channel == "phone") > 50
    await login(client, "admin", PASSWORD)
    q3 = next(r["id"] for r in rounds if r["code"] == "2026Q3")
    page = await client.get(f"/admin/phone/{q3}")
    assert page.status_code == 200 and "phone-comparison" in page.text
    report = await client.get("/admin/campaigns/2026Q3/report")
    assert report.status_code == 200 and 'id="phone"' in report.text
