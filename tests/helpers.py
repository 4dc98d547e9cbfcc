"""Small helpers the web tests share."""

from __future__ import annotations

import re
from typing import Any

CSRF_FIELD = re.compile(r'name="_csrf_token" value="([^"]+)"')


def csrf_from(html: str) -> str:
    match = CSRF_FIELD.search(html)
    assert match, "page has no CSRF field"
    return match.group(1)


async def login(client: Any, username: str, password: str) -> Any:
    page = await client.get("/login")
    token = csrf_from(page.text)
    return await client.post(
        "/login",
        data={"username": username, "password": password, "_csrf_token": token, "next": "/admin"},
    )


async def make_user(
    username: str, role: str, password: str = "correct horse battery", **kw: Any
) -> int:
    from pingyi.services.users import create_user

    return await create_user(username, password, role, **kw)


async def make_minimal_org() -> tuple[str, str]:
    """One unit with a window and a staff member; returns (unit code, staff code)."""
    from pingyi.services.org import upsert_organization, upsert_staff, upsert_unit, upsert_window

    org = await upsert_organization("org", "测试政务中心")
    unit = await upsert_unit(org, "u1", "不动产登记", "Real estate", opening_hours="")
    window = await upsert_window(unit, "A01", "A01", "综合受理")
    await upsert_staff(unit, "S001", "张三", window_id=window)
    return "u1", "S001"


async def open_public_campaign(
    code: str = "C1", staff_per_unit: int = 4, opening_hours: str = ""
) -> dict[str, Any]:
    """An organisation with two units and an open campaign with a public questionnaire
    (overall, attitude, optional free text) and a peer questionnaire."""
    from datetime import date

    from pingyi.services import campaigns
    from pingyi.services.org import upsert_organization, upsert_staff, upsert_unit, upsert_window
    from pingyi.services.questionnaires import ItemSpec, create_questionnaire

    org = await upsert_organization("org", "测试政务中心")
    windows: dict[str, int] = {}
    staff: dict[str, int] = {}
    for u, name in (("u1", "不动产登记"), ("u2", "社会保障")):
        unit = await upsert_unit(org, u, name, name + " EN", opening_hours=opening_hours)
        for w in (1, 2):
            wcode = f"{u}-W{w}"
            windows[wcode] = await upsert_window(unit, wcode, f"{w:02d}", f"{name}{w}号窗口")
        for s in range(staff_per_unit):
            scode = f"{u}-S{s}"
            staff[scode] = await upsert_staff(
                unit,
                scode,
                f"员工{u}{s}",
                is_leader=(s == 0),
                window_id=None if s == 0 else windows[f"{u}-W1"] if s == 1 else None,
            )
    public = await create_questionnaire(
        "pub",
        "群众评价",
        "public",
        [
            ItemSpec("attitude", "服务态度", "Attitude"),
            ItemSpec("remarks", "其他想说的", "Anything else", kind="text", required=False),
        ],
    )
    peer = await create_questionnaire(
        "peer",
        "同事互评",
        "peer",
        [
            ItemSpec("attitude", "工作态度", "Attitude"),
            ItemSpec("teamwork", "协作配合", "Teamwork"),
        ],
    )
    campaign_id = await campaigns.create_campaign(
        campaigns.CampaignSpec(
            code=code,
            name="测试评议",
            period_start=date(2026, 10, 1),
            period_end=date(2026, 12, 31),
            unit_codes=["u1", "u2"],
            public_version=public,
            peer_version=peer,
            superior_version=peer,
            self_version=peer,
        )
    )
    await campaigns.move(code, "open", "test")
    return {"campaign_id": campaign_id, "windows": windows, "staff": staff, "code": code}
