"""Errors where they are on the console's main forms: a new campaign, the
questionnaire items editor, the unit, window and staff forms and closing a bad-review
case each come back with exactly the faulty fields marked, in the page's language,
the first one focused, and nothing typed lost."""

from __future__ import annotations

from typing import Any

import pytest

from helpers import csrf_from, login, make_user, open_public_campaign
from test_inline_errors import assert_marked, marks_of

pytestmark = pytest.mark.anyio
PASSWORD = "correct horse battery"


async def _agency(client: Any) -> str:
    await make_user("agency", "agency_admin", PASSWORD)
    await login(client, "agency", PASSWORD)
    return csrf_from((await client.get("/admin/org")).text)


async def test_new_campaign_marks_each_faulty_field(client: Any) -> None:
    from pingyi.db.tables import Campaign

    await open_public_campaign()  # units u1 and u2, campaign C1, questionnaires
    token = await _agency(client)
    page = await client.get("/admin/campaigns/new")
    assert marks_of(page.text).invalid == {}
    assert marks_of(page.text).ticked == {("units", "u1"), ("units", "u2")}
    version = (await Campaign.select(Campaign.peer_version).first())["peer_version"]
    form = {
        "_csrf_token": token,
        "code": "C9",
        "name": "",
        "series": "年度评议",
        "period_start": "2026-13-01",
        "period_end": "2026-12-31",
        "k": "0",
        "peer_sample": "2",
        "peer_version": str(version),
        "weight_public": "abc",
        "weight_peer": "20",
        "weight_superior": "30",
        "weight_self": "20",
    }  # no unit ticked
    response = await client.post("/admin/campaigns/new", data=form)
    assert response.status_code == 400
    marks = marks_of(response.text)
    assert_marked(
        marks,
        {
            "name": "此项为必填",
            "period_start": "请按“年-月-日”填写有效日期",
            "k": "不小于 1 的整数",
            "units": "请至少选择一个单位",
            "weight_public": "不小于 0 的数",
        },
        first="name",
    )
    assert marks.summary == ["#name", "#period_start", "#k", "#unit-u1", "#w-public"]
    # what was typed or chosen is still there
    assert 'id="code" name="code" required maxlength="64" value="C9"' in response.text
    assert 'value="年度评议"' in response.text and 'value="abc"' in response.text
    assert marks.selected["peer_version"] == str(version)
    assert marks.ticked == set()  # the units stay as they were sent: none
    assert await Campaign.count() == 1

    # The end before the start, and a code already in use: each on its own field.
    fixed = {**form, "name": "第二次", "period_start": "2026-12-31", "k": "3"}
    fixed.update(weight_public="30", units="u2", period_end="2026-01-01")
    response = await client.post("/admin/campaigns/new", data=fixed)
    assert_marked(
        marks_of(response.text), {"period_end": "结束日期不能早于开始日期"}, first="period_end"
    )
    response = await client.post(
        "/admin/campaigns/new", data={**fixed, "code": "C1", "period_end": "2026-12-31"}
    )
    marks = marks_of(response.text)
    assert_marked(marks, {"code": "编码 C1 已被使用"}, first="code")
    assert marks.ticked == {("units", "u2")}
    assert await Campaign.count() == 1


async def test_questionnaire_editor_marks_the_faulty_cells(client: Any) -> None:
    from pingyi.db.tables import Questionnaire

    token = await _agency(client)
    rows = {
        1: {"code": "attitude", "text_zh": "服务态度", "kind": "scale5"},
        2: {"code": "bad code!", "text_zh": "", "kind": "scale5"},
        3: {"code": "", "text_zh": "漏了编码的题", "kind": "scale5"},
        4: {"code": "attitude", "text_zh": "重复的编码", "kind": "scale5"},
        5: {"code": "where", "text_zh": "从哪里得知", "kind": "choice", "choices": "网站"},
        6: {"code": "speed", "text_zh": "办理速度", "kind": "scale5", "weight": "abc"},
    }
    form = {"_csrf_token": token, "code": "Q9", "name": "", "role": "public"}
    for n, row in rows.items():
        form.update({f"item-{n}-{k}": v for k, v in row.items()})
        form.setdefault(f"item-{n}-weight", "1")
    response = await client.post("/admin/questionnaires", data=form)
    assert response.status_code == 400
    marks = marks_of(response.text)
    assert_marked(
        marks,
        {
            "name": "此项为必填",
            "item-2-code": "编码只能使用字母、数字和 _",
            "item-2-text_zh": "此项为必填",
            "item-3-code": "此项为必填",
            "item-4-code": "编码与上面的题目重复",
            "item-5-choices": "单选题至少需要 2 个选项",
            "item-6-weight": "权重须为 0 到 100 之间的数",
        },
        first="qname",
    )
    # every row where it was typed, the blank one included
    assert marks.text["code"] == "Q9"
    assert marks.text["item-3-text_zh"] == "漏了编码的题"
    assert marks.text["item-2-code"] == "bad code!"
    assert marks.text["item-5-choices"] == "网站"
    assert marks.selected["item-5-kind"] == "choice"
    assert 'id="item-6-weight" name="item-6-weight" type="number"' in response.text
    assert 'value="abc"' in response.text
    assert await Questionnaire.count() == 0


async def test_unit_and_window_forms_mark_their_fields(client: Any) -> None:
    from pingyi.db.tables import ServiceWindow, Unit

    token = await _agency(client)
    response = await client.post(
        "/admin/org/units/new",
        data={
            "_csrf_token": token,
            "code": "税务 厅",
            "name": "税务服务厅",
            "opening_hours": "全天",
        },
    )
    assert response.status_code == 400
    marks = marks_of(response.text)
    assert_marked(marks, {"code": "编码必填", "opening_hours": "全天"}, first="code")
    assert marks.text["name"] == "税务服务厅" and marks.text["opening_hours"] == "全天"
    assert await Unit.count() == 0

    english = await client.post(
        "/admin/org/windows/new?lang=en",
        data={"_csrf_token": token, "code": "W1", "number": "", "name": "Invoices"},
    )
    marks = marks_of(english.text)
    assert english.status_code == 400
    assert set(marks.invalid) == {"unit", "number"}
    assert marks.autofocus == ["unit"]
    assert all(m.startswith("Error: ") for m in marks.messages.values())
    assert marks.text["name"] == "Invoices"
    assert await ServiceWindow.count() == 0


async def test_the_staff_form_marks_its_fields(client: Any) -> None:
    from pingyi.db.tables import Staff

    token = await _agency(client)
    response = await client.post(
        "/admin/org/staff/new",
        data={"_csrf_token": token, "code": "A 01", "name": "", "unit": ""},
    )
    assert response.status_code == 400
    marks = marks_of(response.text)
    assert {"code", "name"} <= set(marks.invalid)
    assert marks.autofocus == ["code"]
    assert marks.text["code"] == "A 01"
    assert await Staff.count() == 0


async def test_closing_a_case_marks_what_is_missing(client: Any) -> None:
    from pingyi.db.tables import BadReviewCase
    from test_citizen import _page_for_window, form_fields

    campaign = await open_public_campaign()
    path, page = await _page_for_window(client, campaign)
    await client.post(
        path,
        data={
            **form_fields(page.text),
            "overall": "1",
            "item_attitude": "1",
            "reason": "attitude",
            "contact": "13900000000",
        },
    )
    case = await BadReviewCase.select().first()
    token = await _agency(client)
    response = await client.post(
        f"/admin/cases/{case['id']}/close",
        data={
            "_csrf_token": token,
            "verification": "",
            "explanation": "属实",
            "rectification": "已批评教育并培训",
            "handling_rating": "2",
        },
    )
    assert response.status_code == 400
    marks = marks_of(response.text)
    assert_marked(
        marks,
        {
            "verification": "请选择核实结果",
            "explanation": "请至少写 4 个字",
            "feedback": "市民留有联系方式",
            "callback_result": "市民留有联系方式",
        },
        first="verification",
    )
    assert marks.text["explanation"] == "属实"
    assert marks.text["rectification"] == "已批评教育并培训"
    assert marks.selected["handling_rating"] == "2"
    assert (await BadReviewCase.select().first())["state"] != "closed"
