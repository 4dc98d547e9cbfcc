"""Mystery shopping (暗访) end to end through the console: the agency writes a checklist
and plans visits; the evaluator sees the visit list and enters visits (the same form sent
twice stores one visit); the scores show in the console, the indicators and the campaign
report, where groups under k visits are hidden."""

from __future__ import annotations

import re
from typing import Any

import pytest

from helpers import csrf_from, login, make_user, open_public_campaign
from test_inline_errors import marks_of

pytestmark = pytest.mark.anyio
PASSWORD = "correct horse battery"


def test_scoring_is_weighted_and_minutes_scale_between_target_and_limit() -> None:
    from pingyi.services import mystery

    items = mystery.parse_checklist(mystery.DEFAULT_CHECKLIST)
    assert [i.kind for i in items] == ["yesno", "yesno", "points", "yesno", "minutes"]
    wait = items[-1]
    assert (wait.target, wait.limit) == (10, 30)
    assert mystery.item_share(wait, 5) == 1.0
    assert mystery.item_share(wait, 20) == pytest.approx(0.5)
    assert mystery.item_share(wait, 45) == 0.0
    assert mystery.parse_checklist(mystery.checklist_text(items)) == items
    form = {
        "item_first_contact": "1",
        "item_tell_once": "0",
        "item_language": "4",
        "item_dress": "1",
        "item_wait": "20",
    }
    errors, _, shares = mystery.read_answers(items, form)
    assert not errors
    # weights 2, 2, 1, 1, 2: (2*1 + 2*0 + 1*0.8 + 1*1 + 2*0.5) / 8
    assert mystery.visit_score(items, shares) == pytest.approx(100 * 4.8 / 8)
    errors, _, _ = mystery.read_answers(items, {**form, "item_language": "6"})
    assert errors == {"language": "mystery.error.points"}
    with pytest.raises(mystery.MysteryError) as bad:
        mystery.parse_checklist("wait | minutes | 1 | 等候 | Wait | 30-10")
    assert bad.value.key == "mystery.error.item_marks" and bad.value.line == 1


FULL = {
    "item_first_contact": "1",
    "item_tell_once": "1",
    "item_language": "5",
    "item_dress": "1",
    "item_wait": "5",
}


async def _qr_ratings(campaign: dict[str, Any]) -> None:
    from datetime import UTC, datetime

    from pingyi.services.writer import NewResponse, write_batch

    await write_batch(
        [
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
            for code, window_id in campaign["windows"].items()
            for i in range(5)
        ]
    )


def _visit_ids(html: str) -> list[int]:
    return [int(x) for x in re.findall(r'href="/admin/mystery/visits/(\d+)"', html)]


async def test_plan_enter_once_and_scores_in_indicators_and_report(client: Any) -> None:
    from pingyi.db.tables import AuditEvent, MysteryVisit
    from pingyi.services import campaigns
    from pingyi.services.cleaning_run import run_cleaning
    from pingyi.services.phone import interviewer_rater

    campaign = await open_public_campaign()
    evaluator_id = await make_user("ev", "interviewer", PASSWORD)
    await make_user("ev2", "interviewer", PASSWORD)
    await make_user("agency", "agency_admin", PASSWORD)

    # the agency writes the checklist and plans: u1's two windows 2 visits each in one
    # week, u2's first window 2 visits (fewer than k = 3 in the report)
    await login(client, "agency", PASSWORD)
    page = await client.get("/admin/mystery?campaign=C1")
    assert page.status_code == 200 and "首问负责" in page.text  # the default checklist
    token = csrf_from(page.text)
    from pingyi.services.mystery import DEFAULT_CHECKLIST

    made = await client.post(
        "/admin/mystery/checklists",
        data={
            "_csrf_token": token,
            "code": "std",
            "name": "窗口暗访标准表",
            "name_en": "Window checklist",
            "items": DEFAULT_CHECKLIST,
        },
    )
    assert made.status_code in (302, 303), made.text[:500]
    bad = await client.post(
        "/admin/mystery/checklists",
        data={"_csrf_token": token, "code": "x", "name": "x", "items": "a | sometimes | 1 | 甲"},
    )
    assert bad.status_code == 400 and "第 1 行" in bad.text
    from pingyi.db.tables import MysteryChecklist

    checklist = (await MysteryChecklist.select().where(MysteryChecklist.code == "std").first())[
        "id"
    ]

    async def plan(windows: list[str], visits: int, evaluator: int) -> Any:
        return await client.post(
            "/admin/mystery/plan",
            data={
                "_csrf_token": token,
                "campaign": "C1",
                "checklist": str(checklist),
                "window": windows,
                "week": "2026-W46",
                "visits": str(visits),
                "evaluator": str(evaluator),
            },
        )

    planned = await plan(["u1-W1", "u1-W2"], 2, evaluator_id)
    assert planned.status_code in (302, 303), planned.text[:500]
    assert (await plan(["u2-W1"], 2, evaluator_id)).status_code in (302, 303)
    agency_id = (await client.get("/admin")).status_code  # signed in; not an evaluator
    assert agency_id == 200
    refused = await plan(["u1-W1"], 1, 999999)
    assert refused.status_code == 400 and "请选择一名访员" in refused.text
    assert await MysteryVisit.count() == 6
    visits = await MysteryVisit.select().order_by(MysteryVisit.id)
    assert {str(v["week"]) for v in visits} == {"2026-11-09"}
    assert await AuditEvent.count().where(AuditEvent.action == "mystery.plan") == 2

    # the evaluator sees the list; another evaluator sees none of it
    client.cookies.clear()
    await login(client, "ev2", PASSWORD)
    assert _visit_ids((await client.get("/admin/mystery")).text) == []
    forbidden = await client.get(f"/admin/mystery/visits/{visits[0]['id']}")
    assert forbidden.status_code == 403
    client.cookies.clear()
    await login(client, "ev", PASSWORD)
    listing = await client.get("/admin/mystery")
    assert listing.status_code == 200
    ids = _visit_ids(listing.text)
    assert sorted(ids) == sorted(v["id"] for v in visits)
    assert "待暗访" in listing.text

    async def enter(
        visit_id: int, answers: dict[str, str], client_id: str, again: bool = False
    ) -> Any:
        form_page = await client.get(f"/admin/mystery/visits/{visit_id}")
        assert form_page.status_code == 200
        if not again:  # a stored visit shows its result, not the form
            assert 'src="/static/mystery.js"' in form_page.text
            assert 'name="client_id"' in form_page.text
        return await client.post(
            f"/admin/mystery/visits/{visit_id}",
            data={
                "_csrf_token": csrf_from(form_page.text),
                "client_id": client_id,
                "visited_on": "2026-11-10",
                **answers,
            },
        )

    by_window: dict[int, list[int]] = {}
    for v in visits:
        by_window.setdefault(v["window"], []).append(v["id"])
    w1, w2 = campaign["windows"]["u1-W1"], campaign["windows"]["u1-W2"]
    u2w1 = campaign["windows"]["u2-W1"]
    # a missing item is refused, nothing stored
    missing = await enter(by_window[w1][0], {"item_first_contact": "1"}, "form-aaaa-0001")
    assert missing.status_code == 400 and "请填写此项" in missing.text
    # each missing answer is marked on its own question, the first one focused
    marks = marks_of(missing.text)
    unanswered = {name for name in FULL if name != "item_first_contact"}
    assert set(marks.invalid) == unanswered
    for name in unanswered:
        code = name.removeprefix("item_")
        assert marks.invalid[name] == {f"err-{code}"}
        assert marks.messages[f"err-{code}"].startswith("错误：")
    assert marks.autofocus == ["item_tell_once-1"]  # the first unanswered, in page order
    assert marks.summary[0] == "#item_tell_once-1" and len(marks.summary) == len(unanswered)
    assert marks.checked["item_first_contact"] == "1"  # what was answered is kept
    # u1-W1: full marks twice; the first form sent twice (a resubmission) stores once
    first = await enter(by_window[w1][0], FULL, "form-aaaa-0001")
    assert first.status_code in (302, 303), first.text[:500]
    again = await enter(by_window[w1][0], FULL, "form-aaaa-0001", again=True)
    assert again.status_code in (302, 303)
    replay_json = await client.post(
        f"/admin/mystery/visits/{by_window[w1][0]}",
        data={
            "_csrf_token": csrf_from((await client.get("/admin/mystery")).text),
            "client_id": "form-aaaa-0001",
            "visited_on": "2026-11-10",
            **FULL,
        },
        headers={"accept": "application/json"},
    )
    assert replay_json.status_code == 200 and replay_json.json() == {
        "stored": False,
        "visit": by_window[w1][0],
    }
    # another form for the same visit is refused
    other = await enter(by_window[w1][0], FULL, "form-bbbb-0002", again=True)
    assert other.status_code == 409 and "已由另一份记录提交" in other.text
    assert (await enter(by_window[w1][1], FULL, "form-aaaa-0003")).status_code in (302, 303)
    # u1-W2: 20 minutes' wait and no one-stop telling: 100 * (8 - 2 - 1) / 8 = 62.5
    slow = {**FULL, "item_tell_once": "0", "item_wait": "20"}
    for n, visit_id in enumerate(by_window[w2]):
        assert (await enter(visit_id, slow, f"form-cccc-000{n}")).status_code in (302, 303)
    # u2-W1: one visit of its two entered
    assert (await enter(by_window[u2w1][0], slow, "form-dddd-0001")).status_code in (302, 303)

    done = await MysteryVisit.select().where(MysteryVisit.state == "done")
    assert len(done) == 5
    rater = await interviewer_rater(campaign["campaign_id"], evaluator_id)
    assert {v["rater"] for v in done} == {rater}
    by_id = {v["id"]: v for v in done}
    assert by_id[by_window[w1][0]]["score"] == pytest.approx(100.0)
    assert by_id[by_window[w2][0]]["score"] == pytest.approx(62.5)
    assert by_id[by_window[w1][0]]["client_id"] == "form-aaaa-0001"
    assert await AuditEvent.count().where(AuditEvent.action == "mystery.visit") == 5
    shown = await client.get(f"/admin/mystery/visits/{by_window[w2][0]}")
    assert 'id="visit-result"' in shown.text and "62.5" in shown.text

    # the agency's scores: u1 = (100 + 100 + 62.5 + 62.5) / 4
    client.cookies.clear()
    await login(client, "agency", PASSWORD)
    scores = await client.get("/admin/mystery?campaign=C1")
    assert 'id="mystery-scores"' in scores.text
    assert "81.2" in scores.text and "62.5" in scores.text

    # the indicators show the raw scores with the number of visits
    ind = await client.get("/admin/campaigns/C1/indicators")
    assert ind.status_code == 200 and "暗访得分" in ind.text
    assert 'data-mystery="81.2/4"' in ind.text and 'data-mystery="62.5/1"' in ind.text
    csv = await client.get("/admin/campaigns/C1/indicators.csv")
    assert "暗访得分" in csv.text and "81.2" in csv.text

    # the report: u1 and its windows are shown; u2 (1 visit) is hidden, and so is the
    # total (else total minus u1 would give u2 away)
    await _qr_ratings(campaign)  # the report needs a cleaning run, of some ratings
    await campaigns.move("C1", "closed", "test")
    await run_cleaning("C1", "test")
    report = await client.get("/admin/campaigns/C1/report")
    assert report.status_code == 200, report.text[:500]
    assert report.headers.get_list("cache-control") == ["no-store"]  # staff results
    assert 'id="mystery"' in report.text
    section = report.text.split('id="mystery"', 1)[1].split("</section>", 1)[0]
    assert 'data-cell="mystery:不动产登记"' in section and "81.2" in section
    assert 'data-cell="mystery:社会保障"' in section
    u2_row = section.split('data-cell="mystery:社会保障"', 1)[1].split("</tr>", 1)[0]
    assert "62.5" not in u2_row and "样本不足" in u2_row
    english = await client.get("/admin/campaigns/C1/report?lang=en")
    assert "Mystery shopping" in english.text


async def test_demo_has_mystery_visits_with_results(client: Any) -> None:
    from pingyi.db.tables import MysteryVisit
    from pingyi.services.demo import load_demo

    await load_demo(admin_password=PASSWORD)
    visits = await MysteryVisit.select(
        MysteryVisit.state, MysteryVisit.campaign.code.as_alias("code")
    )
    assert {v["code"] for v in visits} == {"2026Q3", "2026Q4"}
    assert sum(v["state"] == "done" for v in visits) > 20
    assert any(v["state"] == "planned" and v["code"] == "2026Q4" for v in visits)
    await login(client, "admin", PASSWORD)
    report = await client.get("/admin/campaigns/2026Q3/report")
    assert report.status_code == 200 and 'id="mystery"' in report.text
    page = await client.get("/admin/mystery?campaign=2026Q3")
    assert page.status_code == 200 and 'id="mystery-scores"' in page.text
