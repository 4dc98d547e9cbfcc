"""The console's home per role: what needs doing, most urgent first, each line a link
to where it is done; each role sees its own work and nothing beyond its scope (a
leader their unit, staff themself, nobody a rater)."""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

import bigorg
from helpers import login, make_user, open_public_campaign

pytestmark = pytest.mark.anyio
PASSWORD = "correct horse battery"
TASK = re.compile(
    r'<li class="task u(\d)"><span class="tag">[^<]*</span> <a href="([^"]+)">([^<]*)</a></li>'
)


def tasks(html: str) -> list[tuple[int, str, str]]:
    """(urgency, link, text) of the home's lines, in the order shown."""
    return [(int(u), href.replace("&amp;", "&"), text) for u, href, text in TASK.findall(html)]


async def _as(client: Any, username: str, role: str, **kw: Any) -> str:
    await make_user(username, role, PASSWORD, **kw)
    client.cookies.clear()
    assert (await login(client, username, PASSWORD)).status_code in (302, 303)
    page = await client.get("/admin")
    assert page.status_code == 200
    return str(page.text)


async def _public(campaign_id: int, window: int, day: datetime, overall: int) -> uuid.UUID:
    from pingyi.db.tables import Answer, Response

    rid = uuid.uuid4()
    await Response.insert(
        Response(
            id=rid,
            campaign=campaign_id,
            role="public",
            channel="qr",
            window=window,
            submitted_at=day,
        )
    )
    await Answer.insert(Answer(id=uuid.uuid4(), response=rid, item="overall", score=overall))
    return rid


async def _scene() -> dict[str, Any]:
    """Open campaign C1 over units u1 (不动产登记, nobody has rated a colleague) and u2
    (社会保障, everyone has); an overdue case in u1, one due today in u2, one running in
    u1; a cleaned campaign C0 with flags to review; a published campaign P1 with
    appeals; a dead-lettered delivery."""
    from pingyi.db.tables import (
        Appeal,
        Assignment,
        BadReviewCase,
        Campaign,
        CleaningRun,
        Flag,
        GradeDecision,
        OutboxEvent,
        Publication,
        Response,
        Staff,
        Unit,
    )
    from pingyi.hours import end_of_local_day

    data = await open_public_campaign("C1")
    cid = data["campaign_id"]
    units = {u["code"]: u["id"] for u in await Unit.select(Unit.id, Unit.code)}
    staff = {s["code"]: s["id"] for s in await Staff.select(Staff.id, Staff.code)}
    for a in await Assignment.select(Assignment.role, Assignment.ratee).where(
        (Assignment.campaign == cid) & (Assignment.ratee.unit == units["u2"])
    ):
        await Response.insert(
            Response(
                id=uuid.uuid4(), campaign=cid, role=a["role"], channel="link", ratee=a["ratee"]
            )
        )
    now = datetime.now(UTC)
    w1, w2 = data["windows"]["u1-W1"], data["windows"]["u2-W1"]
    r1 = await _public(cid, w1, now - timedelta(days=2), 5)
    r2 = await _public(cid, w2, now - timedelta(days=1), 2)
    r3 = await _public(cid, w1, now - timedelta(days=1), 1)

    def case(
        response: uuid.UUID, unit: str, window: int, contact: datetime, rectify: datetime
    ) -> Any:
        return BadReviewCase(
            response=response,
            campaign=cid,
            unit=units[unit],
            window=window,
            reason_category="attitude",
            state="open",
            opened_at=now - timedelta(days=9),
            contact_due=contact,
            rectify_due=rectify,
            contacted_at=now - timedelta(days=8),
        )

    today = now + (end_of_local_day(now) - now) / 2
    ids = []
    for c in (
        case(r1, "u1", w1, now - timedelta(days=7), now - timedelta(days=1)),  # overdue
        case(r2, "u2", w2, now - timedelta(days=7), today),  # due today
        case(r3, "u1", w1, now - timedelta(days=7), now + timedelta(days=6)),  # running
    ):
        ids.append((await BadReviewCase.insert(c))[0]["id"])

    c0 = (
        await Campaign.insert(
            Campaign(
                code="C0",
                name="上期评议",
                period_start=date(2026, 4, 1),
                period_end=date(2026, 6, 30),
                state="cleaned",
            )
        )
    )[0]["id"]
    await CleaningRun.insert(CleaningRun(campaign=c0, revision=1, summary={}, scores=[]))
    for n in range(3):
        await Flag.insert(
            Flag(
                campaign=c0,
                revision=1,
                reason="SPEEDER",
                action="exclude",
                weight=0.0,
                overridden=n == 0,
            )
        )

    p1 = (
        await Campaign.insert(
            Campaign(
                code="P1",
                name="已发布评议",
                period_start=date(2026, 7, 1),
                period_end=date(2026, 9, 30),
                state="published",
            )
        )
    )[0]["id"]
    rows = [
        {"staff_code": "u1-S1", "total": 81.5, "recommended_grade": "良好"},
        {"staff_code": "u1-S2", "total": 66.25, "recommended_grade": "合格"},
        {"staff_code": "u2-S1", "total": 92.0, "recommended_grade": "优秀"},
    ]
    await Publication.insert(
        Publication(
            campaign=p1,
            revision=1,
            published_by="test",
            snapshot=json.dumps({"inputs": {}, "rows": rows}),
            snapshot_hash="h",
            published_at=now - timedelta(days=3),
        )
    )
    await GradeDecision.insert(
        GradeDecision(
            campaign=p1,
            staff=staff["u2-S1"],
            revision=1,
            recommended="优秀",
            final="优秀",
            approved_by="hr",
        )
    )
    appeal = (
        await Appeal.insert(
            Appeal(
                campaign=p1,
                staff=staff["u1-S1"],
                revision=1,
                snapshot_hash="h",
                reason="请复核我的得分",
            )
        )
    )[0]["id"]
    await Appeal.insert(
        Appeal(
            campaign=p1,
            staff=staff["u1-S2"],
            revision=1,
            snapshot_hash="h",
            reason="群众评价样本有误",
            state="upheld",
            decided_by="agency",
            decided_at=now - timedelta(days=1),
        )
    )
    await OutboxEvent.insert(OutboxEvent(kind="rating", subject="r", state="dead"))
    return {"cases": ids, "appeal": appeal}


async def test_the_agency_home_lists_its_work_most_urgent_first(client: Any) -> None:
    scene = await _scene()
    html = await _as(client, "agency", "agency_admin")
    lines = tasks(html)
    links = [href for _, href, _ in lines]
    texts = [text for _, _, text in lines]
    overdue, today, running = scene["cases"]

    assert (0, "/admin/cases?state=overdue", "1 件差评工单已逾期") in lines
    assert f"/admin/cases/{overdue}" in links and f"/admin/cases/{today}" in links
    assert f"/admin/cases/{running}" not in links  # not due yet: not on the home
    assert (1, "/admin/cases?state=due_today", "1 件差评工单今日到期") in lines
    assert (2, "/admin/appeals", "1 件申诉待复核") in lines
    assert f"/admin/appeals/{scene['appeal']}" in links
    assert (2, "/admin/campaigns/C0/flags", "“上期评议”已清洗、未发布：2 条清洗判定待审核") in lines
    assert (0, "/admin/outbox", "1 条数据未能报送省级平台（已转入死信）") in lines
    low = [t for t in texts if "参评率" in t]
    assert len(low) == 1 and low[0].startswith("不动产登记：“测试评议”参评率仅 0%")
    progress = next(t for t in texts if t.startswith("测试评议："))
    assert "群众评价 3 条" in progress and "剩余" in progress
    # most urgent first, and every line is a link
    urgencies = [u for u, _, _ in lines]
    assert urgencies == sorted(urgencies)
    assert html.count('<li class="task') == len(lines)
    # a trend: public ratings per day on two days
    assert "每日群众评价数" in html and "<svg" in html

    english = (await client.get("/admin?lang=en")).text
    assert "1 bad-review cases are overdue" in english
    assert "Only" not in english and "only 0% participation in 测试评议" in english


async def test_hr_sees_grades_to_decide_and_appeal_outcomes(client: Any) -> None:
    await _scene()
    html = await _as(client, "hr1", "hr")
    lines = tasks(html)
    assert (
        2,
        "/admin/campaigns/P1/scores?final=pending",
        "“已发布评议”已发布：2/3 人的最终等次尚未确定",
    ) in lines
    upheld = [t for u, _, t in lines if "复核成立" in t]
    assert upheld and upheld[0].startswith("员工u12 对“已发布评议”的申诉")
    assert any("1 件申诉正在复核" in t for _, _, t in lines)
    # HR's home holds no case work, no flags, no deliveries
    assert not any(
        h.startswith(("/admin/cases", "/admin/outbox")) or "flags" in h for _, h, _ in lines
    )


async def test_a_unit_leader_sees_their_unit_only(client: Any) -> None:
    scene = await _scene()
    html = await _as(client, "leader1", "unit_leader", unit_code="u1", staff_code="u1-S1")
    lines = tasks(html)
    links = [href for _, href, _ in lines]
    overdue, today, running = scene["cases"]
    assert f"/admin/cases/{overdue}" in links and f"/admin/cases/{running}" in links
    assert f"/admin/cases/{today}" not in links  # u2's case
    assert lines[0][0] == 0 and lines[0][1] == f"/admin/cases/{overdue}"
    assert any(t.startswith("本单位“测试评议”参评率 0%，剩余 ") for _, _, t in lines)
    assert "社会保障" not in html  # nothing of the other unit
    # the unit's public satisfaction: 1 of its 2 overall answers satisfied
    assert "本单位群众满意率" in html and ">50%<" in html
    # a leader is a staff member too: their own result
    assert any(t.startswith("“已发布评议”结果：综合得分 81.50") for _, _, t in lines)


async def test_staff_see_their_own_results_and_appeal_only(client: Any) -> None:
    await _scene()
    html = await _as(client, "staff1", "staff", staff_code="u1-S1")
    lines = tasks(html)
    assert (3, "/me", "“已发布评议”结果：综合得分 81.50，等次 良好") in lines
    assert (2, "/me", "您对“已发布评议”的申诉正在复核") in lines
    assert len(lines) == 2
    assert "66.25" not in html and "92.00" not in html  # colleagues' totals
    other = await _as(client, "staff2", "staff", staff_code="u2-S1")
    assert "“已发布评议”结果：综合得分 92.00，等次 优秀" in other  # the decided grade


async def test_a_home_with_nothing_to_do_says_so(client: Any) -> None:
    html = await _as(client, "iv", "interviewer")
    assert "目前没有需要处理的事项。" in html and not tasks(html)


async def test_the_homes_stay_short_at_5000_staff_and_1200_cases(client: Any) -> None:
    from pingyi.db.tables import Campaign

    org = await bigorg.build()
    feed = await bigorg.publish_feed()
    await bigorg.add_cases(feed["campaign_id"], org["windows"], org["units"])
    await Campaign.update({Campaign.state: "published"}).where(Campaign.id == feed["campaign_id"])
    lines = tasks(await _as(client, "agency", "agency_admin"))
    assert lines[0] == (0, "/admin/cases?state=overdue", "480 件差评工单已逾期")
    case_lines = [h for _, h, _ in lines if re.fullmatch(r"/admin/cases/\d+", h)]
    assert len(case_lines) == 5  # the five most overdue; the rest behind the link
    hr = tasks(await _as(client, "hr", "hr"))
    assert hr == [
        (
            2,
            "/admin/campaigns/BIG/scores?final=pending",
            "“2026年度大型评议”已发布：5000/5000 人的最终等次尚未确定",
        )
    ]
    leader = tasks(await _as(client, "leader", "unit_leader", unit_code="U003"))
    # U003's six open cases, none due yet, by deadline
    assert len(leader) == 6 and all(u == 2 and h.startswith("/admin/cases/") for u, h, _ in leader)
    dues = [t.rsplit("时限 ", 1)[1] for _, _, t in leader]
    assert dues == sorted(dues)
