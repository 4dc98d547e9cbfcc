"""Service indicators (好评率 and the rest) against a small hand-counted fixture.

The fixture (all in campaign C1, units u1 and u2; times are Asia/Shanghai):

    u1 window W1, staff A            u1 window W2, staff B           u2 window X1, staff C
    r1  qr      5  Oct 1 23:30       r6  device    1  case k2        (no ratings)
    r2  qr      4  Oct 2 00:30       r7  default   5  ticket t3      tickets t4, t5 unrated
    r3  default 4                    r8  qr 5 honeypot (left out)
    r4  ticket  2  ticket t1, k1     r9  qr 2, replaced by r10 (qr 4)
    r5  qr      3                    r12 interview 2  case k4
    r11 qr      1  case k3
    tickets t1 (rated by r4), t2     ticket t3 (only a default rating)

    k1 contacted, closed, rectified, called back, handling 3 (满意)
    k3 open, not contacted
    k2 contacted, closed, rectified, no contact left (no call-back), no handling rating
    k4 contacted, closed, rectified, handling 1 (不满意) and no call-back text
"""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from helpers import login, make_user
from pingyi.hours import LOCAL_TZ
from pingyi.services import indicators as ind

pytestmark = pytest.mark.anyio
PASSWORD = "correct horse battery"


def local(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 10, day, hour, minute, tzinfo=LOCAL_TZ)


async def build_fixture() -> dict[str, Any]:
    from pingyi.db.tables import BadReviewCase, Ticket
    from pingyi.services import campaigns
    from pingyi.services.org import upsert_organization, upsert_staff, upsert_unit, upsert_window
    from pingyi.services.writer import NewResponse, write_batch

    org = await upsert_organization("org", "测试中心")
    u1 = await upsert_unit(org, "u1", "不动产登记", opening_hours="")
    u2 = await upsert_unit(org, "u2", "@risk", opening_hours="")
    w1 = await upsert_window(u1, "W1", "01", "综合受理")
    w2 = await upsert_window(u1, "W2", "02", "档案查询")
    x1 = await upsert_window(u2, "X1", "11", "社保")
    a = await upsert_staff(u1, "A", "甲", window_id=w1)
    b = await upsert_staff(u1, "B", "乙", window_id=w2)
    c = await upsert_staff(u2, "C", "=SUM(A1)", window_id=x1)
    campaign_id = await campaigns.create_campaign(
        campaigns.CampaignSpec(
            code="C1",
            name="测试评议",
            period_start=date(2026, 10, 1),
            period_end=date(2026, 12, 31),
            unit_codes=["u1", "u2"],
        )
    )
    await campaigns.move("C1", "open", "test")
    far = datetime(2030, 1, 1, tzinfo=UTC)
    oct2 = local(2, 12)
    for code, window, staff in (
        ("t1", w1, a),
        ("t2", w1, a),
        ("t3", w2, b),
        ("t4", x1, c),
        ("t5", x1, c),
    ):
        await Ticket.insert(
            Ticket(
                campaign=campaign_id,
                window=window,
                staff=staff,
                code=code,
                issued_at=oct2,
                expires_at=far,
            )
        )

    def rating(
        window: int,
        staff: int,
        channel: str,
        score: int,
        at: datetime = oct2,
        ticket: str = "",
        honeypot: bool = False,
        corrects: uuid.UUID | None = None,
    ) -> NewResponse:
        return NewResponse(
            campaign_id=campaign_id,
            role="public",
            channel=channel,
            answers=[("overall", score, ""), ("attitude", score, "")],
            window_id=window,
            ratee_id=staff,
            ticket_hash=ticket,
            submitted_at=at,
            honeypot=honeypot,
            corrects=corrects,  # type: ignore[arg-type]
        )

    r = {
        "r1": rating(w1, a, "qr", 5, at=local(1, 23, 30)),
        "r2": rating(w1, a, "qr", 4, at=local(2, 0, 30)),
        "r3": rating(w1, a, "default", 4),
        "r4": rating(w1, a, "ticket", 2, ticket="t1"),
        "r5": rating(w1, a, "qr", 3),
        "r11": rating(w1, a, "qr", 1),
        "r6": rating(w2, b, "device", 1),
        "r7": rating(w2, b, "default", 5, ticket="t3"),
        "r8": rating(w2, b, "qr", 5, honeypot=True),
        "r9": rating(w2, b, "qr", 2),
        "r12": rating(w2, b, "interview", 2),
    }
    stored = await write_batch(list(r.values()))
    assert all(s.created for s in stored)
    r["r10"] = rating(w2, b, "qr", 4, corrects=r["r9"].id)
    await write_batch([r["r10"]])

    def case(resp: str, unit: int, window: int, **fields: Any) -> BadReviewCase:
        return BadReviewCase(
            response=r[resp].id,
            campaign=campaign_id,
            unit=unit,
            window=window,
            opened_at=oct2,
            contact_due=oct2 + timedelta(days=1),
            rectify_due=oct2 + timedelta(days=5),
            **fields,
        )

    done = {"state": "closed", "contacted_at": oct2, "closed_at": oct2, "rectification": "已整改"}
    await BadReviewCase.insert(
        case("r4", u1, w1, **done, callback_result="已回访，群众认可", handling_rating=3),
        case("r11", u1, w1),
        case("r6", u1, w2, **done),
        case("r12", u1, w2, **done, handling_rating=1),
    )
    return {"campaign_id": campaign_id, "units": (u1, u2), "windows": (w1, w2, x1)}


def test_ratio_is_none_without_a_denominator() -> None:
    assert ind.ratio(0, 0) is None
    assert ind.ratio(0, 3) == 0.0
    assert ind.ratio(2, 8) == 0.25


def test_satisfied_levels_come_from_the_policy() -> None:
    assert ind.satisfied_levels({}) == {5, 4}
    assert ind.satisfied_levels({"satisfied_min": 3}) == {5, 4, 3}


def test_case_rules() -> None:
    closed = dict(contacted=True, closed=True, rectification="改了", unit=1, window=1, staff=1)
    no_callback = ind.case_counts(
        ind.CaseRow(**closed, callback_result="", handling_rating=None)  # type: ignore[arg-type]
    )
    # no contact left, so nobody to call back: rectified all the same
    assert (no_callback.cases_rectified, no_callback.handling_rated) == (1, 0)
    rated_bad = ind.case_counts(
        ind.CaseRow(**closed, callback_result="", handling_rating=1)  # type: ignore[arg-type]
    )
    assert (rated_bad.cases_rectified, rated_bad.handling_satisfied) == (1, 0)
    fairly = ind.case_counts(
        ind.CaseRow(**closed, callback_result="回访", handling_rating=2)  # type: ignore[arg-type]
    )
    assert (fairly.cases_rectified, fairly.handling_satisfied) == (1, 1)


def _lines(report: ind.Report) -> dict[str, ind.Line]:
    out = {}
    for block in report.units:
        out[block.unit.code] = block.unit
        out.update({f"w:{w.code}": w for w in block.windows})
        out.update({f"s:{s.code}": s for s in block.staff})
    out["total"] = report.total
    return out


async def test_indicators_match_the_hand_count(db: str) -> None:
    from pingyi.services.campaigns import get_campaign

    await build_fixture()
    report = await ind.compute(await get_campaign("C1"))
    lines = _lines(report)
    w1, w2, u1, u2 = lines["w:W1"], lines["w:W2"], lines["u1"], lines["u2"]
    # W1: r1 r2 r3 r4 r5 r11 -> good r1 r2 r3; active r1 r2 r4 r5 r11, good r1 r2
    assert (w1.counts.ratings, w1.counts.satisfied) == (6, 3)
    assert w1.rates.good_rate == pytest.approx(0.5)
    assert w1.rates.active_good_rate == pytest.approx(2 / 5)
    # W2: r6 r7 r10 r12 (r8 honeypot, r9 replaced) -> good r7 r10; active r6 r10 r12
    assert (w2.counts.ratings, w2.counts.satisfied, w2.counts.active) == (4, 2, 3)
    assert w2.rates.active_good_rate == pytest.approx(1 / 3)
    assert u1.rates.good_rate == pytest.approx(5 / 10)
    assert u1.rates.active_good_rate == pytest.approx(3 / 8)
    # tickets: t1 rated by r4; t2 never; t3 got only a default rating
    assert w1.rates.unrated_rate == pytest.approx(1 / 2)
    assert w2.rates.unrated_rate == pytest.approx(1.0)
    assert u1.rates.unrated_rate == pytest.approx(2 / 3)
    # cases: W1 k1 k3, W2 k2 k4
    assert (w1.rates.reply_rate, w1.rates.rectify_rate) == (0.5, 0.5)
    assert w1.rates.handling_satisfaction == 1.0
    assert (w2.rates.reply_rate, w2.rates.rectify_rate) == (1.0, 1.0)
    assert w2.rates.handling_satisfaction == 0.0
    assert u1.rates.reply_rate == pytest.approx(3 / 4)
    assert u1.rates.rectify_rate == pytest.approx(3 / 4)
    assert u1.rates.handling_satisfaction == pytest.approx(1 / 2)
    # u2 has tickets but nothing else: insufficient data, not 0 %
    assert u2.rates.unrated_rate == 1.0
    assert u2.rates.good_rate is None and u2.rates.active_good_rate is None
    assert u2.rates.reply_rate is None and u2.rates.handling_satisfaction is None
    # staff follow their ratings: A rated at W1, B at W2
    assert lines["s:A"].counts == w1.counts and lines["s:B"].counts == w2.counts
    assert lines["s:C"].counts.tickets == 2
    total = lines["total"]
    assert (total.counts.tickets, total.counts.tickets_unrated) == (5, 4)
    assert total.rates.good_rate == pytest.approx(0.5)


async def test_a_policy_changes_what_counts_as_good(db: str) -> None:
    from pingyi.db.tables import Campaign
    from pingyi.services.campaigns import get_campaign

    await build_fixture()
    await Campaign.update({Campaign.policy: {"satisfied_min": 3}}).where(Campaign.code == "C1")
    lines = _lines(await ind.compute(await get_campaign("C1")))
    assert lines["w:W1"].rates.good_rate == pytest.approx(4 / 6)  # r5 (3) now counts


async def test_a_date_range_uses_local_days(db: str) -> None:
    from pingyi.services.campaigns import get_campaign

    await build_fixture()
    campaign = await get_campaign("C1")
    oct2 = _lines(await ind.compute(campaign, date(2026, 10, 2), date(2026, 10, 2)))
    # r1 (Oct 1 23:30) drops out; r2 (Oct 2 00:30 local, Oct 1 in UTC) stays
    w1 = oct2["w:W1"]
    assert (w1.counts.ratings, w1.counts.satisfied, w1.counts.active) == (5, 2, 4)
    assert w1.rates.active_good_rate == pytest.approx(1 / 4)
    oct1 = _lines(await ind.compute(campaign, date(2026, 10, 1), date(2026, 10, 1)))
    assert oct1["w:W1"].counts.ratings == 1
    assert oct1["w:W1"].rates.unrated_rate is None  # no ticket issued that day
    assert oct1["w:W2"].rates.good_rate is None


async def test_indicator_page_and_csv(client: Any) -> None:
    await build_fixture()
    await make_user("agency", "agency_admin", PASSWORD)
    await login(client, "agency", PASSWORD)
    campaign_page = await client.get("/admin/campaigns/C1")
    assert "/admin/campaigns/C1/indicators" in campaign_page.text
    page = await client.get("/admin/campaigns/C1/indicators")
    assert page.status_code == 200
    assert "好评率" in page.text and "主动评价好评率" in page.text
    assert "50.0%" in page.text and "5/10" in page.text  # u1 good rate
    assert "37.5%" in page.text  # u1 active good rate, 3/8
    assert "—" in page.text  # u2 has no ratings
    response = await client.get("/admin/campaigns/C1/indicators.csv?lang=en")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    by_code = {(r["level"], r["code"]): r for r in rows}
    assert by_code[("unit", "u1")]["good_rate_pct"] == "50.0"
    assert by_code[("unit", "u1")]["unrated_rate_pct"] == "66.7"
    assert by_code[("unit", "u2")]["good_rate_pct"] == ""  # no data, not 0
    assert by_code[("unit", "u2")]["name"] == "'@risk"
    assert by_code[("staff", "C")]["name"] == "'=SUM(A1)"
    assert by_code[("total", "")]["tickets"] == "5"
    narrowed = await client.get("/admin/campaigns/C1/indicators?from=2026-10-01&to=2026-10-01")
    assert narrowed.status_code == 200 and "1/1" in narrowed.text
    bad = await client.get("/admin/campaigns/C1/indicators?from=yesterday")
    assert bad.status_code == 400 and "yesterday" in bad.text
    backwards = await client.get("/admin/campaigns/C1/indicators?from=2026-10-02&to=2026-10-01")
    assert backwards.status_code == 400
    assert (await client.get("/admin/campaigns/NOPE/indicators")).status_code == 404


async def test_a_unit_leader_sees_only_their_unit(client: Any) -> None:
    await build_fixture()
    await make_user("lead2", "unit_leader", PASSWORD, unit_code="u2")
    await login(client, "lead2", PASSWORD)
    page = await client.get("/admin/campaigns/C1/indicators")
    assert page.status_code == 200
    assert "@risk" in page.text and "不动产登记" not in page.text and "甲" not in page.text
    rows = list(
        csv.DictReader(
            io.StringIO(
                (await client.get("/admin/campaigns/C1/indicators.csv?lang=en")).content.decode(
                    "utf-8-sig"
                )
            )
        )
    )
    assert {r["unit_code"] for r in rows if r["level"] != "total"} == {"u2"}
    total = next(r for r in rows if r["level"] == "total")
    assert total["tickets"] == "2"  # u1's tickets are not in a u2 leader's total
