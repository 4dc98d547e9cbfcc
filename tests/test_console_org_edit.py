"""Editing units, windows and staff in the console: forms, validation, audit."""

from __future__ import annotations

from typing import Any

import pytest

from helpers import csrf_from, login, make_user

pytestmark = pytest.mark.anyio
PASSWORD = "correct horse battery"


async def _agency(client: Any) -> str:
    await make_user("agency", "agency_admin", PASSWORD)
    await login(client, "agency", PASSWORD)
    return csrf_from((await client.get("/admin/org")).text)


async def _events(action: str) -> list[dict[str, Any]]:
    from pingyi.db.tables import AuditEvent

    return list(
        await AuditEvent.select()
        .where(AuditEvent.action == action)
        .order_by(AuditEvent.seq)
        .output(load_json=True)
    )


async def test_create_and_edit_a_unit(client: Any) -> None:
    from pingyi.db.tables import Unit

    token = await _agency(client)
    org = await client.get("/admin/org")
    assert "/admin/org/units/new" in org.text
    form = await client.get("/admin/org/units/new")
    assert form.status_code == 200 and 'name="_csrf_token"' in form.text
    created = await client.post(
        "/admin/org/units/new",
        data={
            "_csrf_token": token,
            "code": "hall-1",
            "name": "不动产登记",
            "opening_hours": "09:00-17:00",
        },
    )
    assert created.status_code in (302, 303)
    unit = await Unit.select().where(Unit.code == "hall-1").first()
    assert unit is not None and unit["active"] is True and unit["opening_hours"] == "09:00-17:00"
    assert created.headers["location"] == f"/admin/org/units/{unit['id']}/edit"
    [create_event] = await _events("unit.create")
    assert create_event["after"]["name"] == "不动产登记" and create_event["actor"] == "agency"
    edited = await client.post(
        f"/admin/org/units/{unit['id']}/edit",
        data={
            "_csrf_token": token,
            "name": "不动产登记中心",
            "name_en": "Real estate",
            "opening_hours": "09:00-12:00,13:00-17:00",
            # "active" unchecked: the unit is retired
        },
    )
    assert edited.status_code in (302, 303)
    after = await Unit.select().where(Unit.id == unit["id"]).first()
    assert after["name"] == "不动产登记中心" and after["active"] is False
    assert after["code"] == "hall-1"
    [edit_event] = await _events("unit.edit")
    assert edit_event["before"] == {
        "name": "不动产登记",
        "name_en": "",
        "opening_hours": "09:00-17:00",
        "active": True,
    }
    assert edit_event["after"]["active"] is False
    page = await client.get(f"/admin/org/units/{unit['id']}/edit")
    assert page.status_code == 200 and "不动产登记中心" in page.text
    assert "/admin/org/windows/new?unit=" in page.text
    assert (await client.get("/admin/org")).text.count(f"/admin/org/units/{unit['id']}/edit") == 1


async def test_unit_validation_is_a_clear_400_and_writes_nothing(client: Any) -> None:
    from pingyi.db.tables import AuditEvent, Unit

    token = await _agency(client)
    before = await AuditEvent.count()
    bad = await client.post(
        "/admin/org/units/new",
        data={"_csrf_token": token, "code": "bad code!", "name": "", "opening_hours": "9-5pm"},
    )
    assert bad.status_code == 400
    assert "请填写名称" in bad.text and "编码必填" in bad.text and "9-5pm" in bad.text
    assert 'value="bad code!"' in bad.text  # the form keeps what was typed
    english = await client.post(
        "/admin/org/units/new?lang=en",
        data={"_csrf_token": token, "code": "ok", "name": "", "opening_hours": ""},
    )
    assert english.status_code == 400 and "The name is required." in english.text
    assert await Unit.count() == 0 and await AuditEvent.count() == before
    await client.post(
        "/admin/org/units/new", data={"_csrf_token": token, "code": "dup", "name": "一"}
    )
    dup = await client.post(
        "/admin/org/units/new?lang=zh-CN", data={"_csrf_token": token, "code": "dup", "name": "二"}
    )
    assert dup.status_code == 400 and "dup" in dup.text and "已被使用" in dup.text
    assert await Unit.count() == 1
    no_csrf = await client.post("/admin/org/units/new", data={"code": "x", "name": "x"})
    assert no_csrf.status_code == 403
    assert (await client.get("/admin/org/units/999/edit")).status_code == 404
    missing = await client.post(
        "/admin/org/units/999/edit", data={"_csrf_token": token, "name": "x"}
    )
    assert missing.status_code == 404


async def test_windows_and_staff(client: Any) -> None:
    from pingyi.db.tables import ServiceWindow, Staff, Unit

    token = await _agency(client)
    for code in ("u1", "u2"):
        await client.post(
            "/admin/org/units/new", data={"_csrf_token": token, "code": code, "name": code}
        )
    units = {u["code"]: u["id"] for u in await Unit.select(Unit.id, Unit.code)}
    for unit, code in (("u1", "W1"), ("u2", "W2")):
        made = await client.post(
            "/admin/org/windows/new",
            data={
                "_csrf_token": token,
                "unit": str(units[unit]),
                "code": code,
                "number": code[-1],
                "name": f"窗口{code}",
            },
        )
        assert made.status_code in (302, 303), made.text[:300]
    windows = {w["code"]: w["id"] for w in await ServiceWindow.select()}
    no_number = await client.post(
        f"/admin/org/windows/{windows['W1']}/edit",
        data={"_csrf_token": token, "number": "", "name": "x", "active": "on"},
    )
    assert no_number.status_code == 400 and "请填写窗口号" in no_number.text
    renamed = await client.post(
        f"/admin/org/windows/{windows['W1']}/edit",
        data={"_csrf_token": token, "number": "A01", "name": "综合受理", "active": "on"},
    )
    assert renamed.status_code in (302, 303)
    [window_event] = await _events("window.edit")
    assert window_event["before"] == {"number": "1", "name": "窗口W1"}
    assert window_event["after"] == {"number": "A01", "name": "综合受理"}

    staff_form = {
        "_csrf_token": token,
        "code": "S001",
        "name": "王芳",
        "unit": str(units["u1"]),
        "post_category": "law_enforcement",
        "window": str(windows["W2"]),  # a window of another unit
        "is_leader": "on",
    }
    wrong_window = await client.post("/admin/org/staff/new", data=staff_form)
    assert wrong_window.status_code == 400 and "常驻窗口必须属于所选单位" in wrong_window.text
    bad_category = await client.post(
        "/admin/org/staff/new", data={**staff_form, "post_category": "boss"}
    )
    assert bad_category.status_code == 400 and "请选择岗位类别" in bad_category.text
    assert await Staff.count() == 0
    made = await client.post(
        "/admin/org/staff/new", data={**staff_form, "window": str(windows["W1"])}
    )
    assert made.status_code in (302, 303)
    staff = await Staff.select().where(Staff.code == "S001").first()
    assert staff["window"] == windows["W1"] and staff["is_leader"] is True
    assert staff["post_category"] == "law_enforcement" and staff["active"] is True
    page = await client.get(f"/admin/org/staff/{staff['id']}/edit")
    assert page.status_code == 200 and "王芳" in page.text and "selected" in page.text
    # A transfer to u2 must bring the window along.
    transfer = {
        "_csrf_token": token,
        "name": "王芳",
        "unit": str(units["u2"]),
        "post_category": "law_enforcement",
        "window": str(windows["W1"]),
        "active": "on",
    }
    stale = await client.post(f"/admin/org/staff/{staff['id']}/edit", data=transfer)
    assert stale.status_code == 400
    moved = await client.post(
        f"/admin/org/staff/{staff['id']}/edit", data={**transfer, "window": str(windows["W2"])}
    )
    assert moved.status_code in (302, 303)
    after = await Staff.select().where(Staff.id == staff["id"]).first()
    assert after["unit"] == units["u2"] and after["window"] == windows["W2"]
    assert after["is_leader"] is False  # unchecked
    [staff_event] = await _events("staff.edit")
    assert staff_event["before"] == {
        "unit": units["u1"],
        "window": windows["W1"],
        "is_leader": True,
    }
    assert staff_event["after"] == {
        "unit": units["u2"],
        "window": windows["W2"],
        "is_leader": False,
    }
    # Saving the same values again changes and audits nothing.
    again = await client.post(
        f"/admin/org/staff/{staff['id']}/edit", data={**transfer, "window": str(windows["W2"])}
    )
    assert again.status_code in (302, 303)
    assert len(await _events("staff.edit")) == 1
    unit_page = await client.get(f"/admin/org/units/{units['u2']}/edit")
    assert "王芳" in unit_page.text and f"/admin/org/staff/{staff['id']}/edit" in unit_page.text


async def test_only_the_agency_edits_the_organisation(client: Any) -> None:
    from pingyi.db.tables import Unit

    await make_user("hr", "hr", PASSWORD)
    await login(client, "hr", PASSWORD)
    token = csrf_from((await client.get("/admin")).text)
    assert (await client.get("/admin/org/units/new")).status_code == 403
    refused = await client.post(
        "/admin/org/units/new", data={"_csrf_token": token, "code": "x", "name": "x"}
    )
    assert refused.status_code == 403 and await Unit.count() == 0
