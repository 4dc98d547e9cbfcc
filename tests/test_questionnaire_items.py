"""Questionnaire items: weights in the response composite (DESIGN.md 5) and the
channels that ask them (window devices ask `overall` only by default), through the
console editor, the device API, the QR page and a campaign's cleaning run."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest

from helpers import csrf_from, login, make_user, open_public_campaign
from test_citizen import _page_for_window, form_fields

pytestmark = pytest.mark.anyio
PASSWORD = "correct horse battery"


async def _admin(client: Any) -> None:
    await make_user("agency", "agency_admin", PASSWORD)
    assert (await login(client, "agency", PASSWORD)).status_code in (302, 303)


async def _questionnaire_id(code: str) -> int:
    from pingyi.db.tables import Questionnaire

    row = await Questionnaire.select(Questionnaire.id).where(Questionnaire.code == code).first()
    return int(row["id"])


async def _edit(client: Any, qid: int, rows: list[dict[str, str]], **extra: str) -> Any:
    page = await client.get(f"/admin/questionnaires/{qid}")
    assert page.status_code == 200
    data = {"_csrf_token": csrf_from(page.text), **extra}
    for n, row in enumerate(rows, start=1):
        data.update({f"item-{n}-{k}": v for k, v in row.items()})
    return await client.post(f"/admin/questionnaires/{qid}", data=data)


def _pub_rows(weight: str = "1", on_device: bool = False) -> list[dict[str, str]]:
    attitude = {"code": "attitude", "text_zh": "服务态度", "kind": "scale5", "required": "on"}
    attitude["weight"] = weight
    if on_device:
        attitude["on_device"] = "on"
    remarks = {"code": "remarks", "text_zh": "其他想说的", "kind": "text", "weight": "1"}
    return [attitude, remarks]


async def _items(qid: int) -> dict[int, dict[str, dict[str, Any]]]:
    """{version number: {item code: item row}}"""
    from pingyi.db.tables import Item

    rows = await Item.select(
        Item.code, Item.weight, Item.on_device, Item.version.version.as_alias("v")
    ).where(Item.version.questionnaire == qid)
    out: dict[int, dict[str, dict[str, Any]]] = {}
    for row in rows:
        out.setdefault(row["v"], {})[row["code"]] = row
    return out


async def _device(window_code: str = "u1-W1") -> dict[str, str]:
    from pingyi.services.devices import add_device

    key = await add_device(window_code, "柜台评价器")
    return {"authorization": f"Bearer {key}"}


async def _post(client: Any, headers: dict[str, str], answers: dict[str, int], **kw: Any) -> Any:
    body = {"client_id": str(uuid.uuid4()), "window": "u1-W1", "answers": answers, **kw}
    return await client.post("/api/v1/ratings", json=body, headers=headers)


async def test_weights_and_device_items_are_edited_previewed_and_validated(client: Any) -> None:
    await open_public_campaign()
    await _admin(client)
    pub, peer = await _questionnaire_id("pub"), await _questionnaire_id("peer")
    # defaults: weight 1, not asked on devices
    assert {c: (i["weight"], i["on_device"]) for c, i in (await _items(pub))[1].items()} == {
        "attitude": (1.0, False),
        "remarks": (1.0, False),
    }
    page = await client.get(f"/admin/questionnaires/{pub}")
    assert 'name="item-1-weight"' in page.text and 'name="item-1-on_device"' in page.text

    for weight in ("abc", "101", "-1"):
        refused = await _edit(client, pub, _pub_rows(weight))
        assert refused.status_code == 400, weight
        # marked on the weight cell itself, in the page's language
        assert "权重须为 0 到 100 之间的数。" in refused.text, weight
        assert re.search(r'id="item-1-weight"[^>]*aria-invalid="true"', refused.text), weight
    # A peer questionnaire has no implicit overall: some rating item must count.
    zero = [
        {"code": "attitude", "text_zh": "工作态度", "kind": "scale5", "weight": "0"},
        {"code": "teamwork", "text_zh": "协作配合", "kind": "scale5", "weight": "0"},
    ]
    refused = await _edit(client, peer, zero)
    assert refused.status_code == 400
    assert "至少一个“1-5 级评分”题的权重须大于 0" in refused.text
    # A public one always asks overall (weight 1): "overall only" is allowed.
    saved = await _edit(client, pub, _pub_rows("2.5", on_device=True))
    assert saved.status_code in (302, 303), saved.text
    items = (await _items(pub))[1]  # nothing answered yet: version 1 edited in place
    assert items["attitude"]["weight"] == 2.5 and items["attitude"]["on_device"] is True
    page = await client.get(f"/admin/questionnaires/{pub}")
    assert re.search(r'name="item-1-weight"[^>]*value="2.5"', page.text)
    assert re.search(r'name="item-1-on_device" checked', page.text)
    preview = await client.get(f"/admin/questionnaires/{pub}/preview")
    assert preview.status_code == 200
    row = re.search(
        r"<tr><td>attitude</td><td>服务态度</td><td>([^<]*)</td><td>([^<]*)</td>", preview.text
    )
    assert row and row.groups() == ("2.5", "✓")
    assert "<tr><td>remarks</td><td>其他想说的</td><td>不计分</td>" in preview.text
    assert "<tr><td>overall</td><td>总体满意度（固定题）</td><td>1</td>" in preview.text

    # Once answered, an edit makes version 2, which carries what the form says.
    headers = await _device()
    assert (await _post(client, headers, {"overall": 5, "attitude": 4})).status_code == 201
    overall_only = await _edit(client, pub, _pub_rows("2.5", on_device=True), preset="overall_only")
    assert overall_only.status_code in (302, 303)
    versions = await _items(pub)
    assert versions[1]["attitude"]["weight"] == 2.5  # the answered version is frozen
    assert versions[2]["attitude"]["weight"] == 0.0 and versions[2]["attitude"]["on_device"]
    assert versions[2]["remarks"]["weight"] == 0.0
    again = await _edit(client, pub, _pub_rows("3"))
    assert again.status_code in (302, 303)
    assert (await _items(pub))[2]["attitude"]["weight"] == 3.0  # unanswered: edited in place


async def test_a_device_rates_overall_alone_and_may_send_more(client: Any) -> None:
    from pingyi.db.tables import Answer, Response

    campaign = await open_public_campaign()
    headers = await _device()
    alone = await _post(client, headers, {"overall": 4})
    assert alone.status_code == 201, alone.text
    answers = await Answer.select(Answer.item, Answer.score).where(
        Answer.response == alone.json()["id"]
    )
    assert answers == [{"item": "overall", "score": 4}]
    # The platform's default rating is a device-side rating too.
    default = await _post(client, headers, {"overall": 5}, channel="default")
    assert default.status_code == 201, default.text
    # An item the device does not ask is optional there: checked and stored.
    more = await _post(client, headers, {"overall": 5, "attitude": 3})
    assert more.status_code == 201
    stored = await Answer.select(Answer.item, Answer.score).where(
        Answer.response == more.json()["id"]
    )
    assert sorted((a["item"], a["score"]) for a in stored) == [("attitude", 3), ("overall", 5)]
    bad = await _post(client, headers, {"overall": 5, "attitude": 9})
    assert bad.status_code == 422 and bad.json()["field"] == "answers.attitude"
    unknown = await _post(client, headers, {"overall": 5, "wait": 3})
    assert unknown.status_code == 422 and bad.json()["field"] == "answers.attitude"
    assert unknown.json()["field"] == "answers.wait"

    # The QR page asks every item: attitude is still required there.
    path, page = await _page_for_window(client, campaign)
    missing = await client.post(path, data={**form_fields(page.text), "overall": "5"})
    assert missing.status_code == 400
    assert await Response.count() == 3

    # The OpenAPI text says what a device must send.
    schema = (await client.get("/api/docs/openapi.json")).json()
    description = " ".join(schema["paths"]["/api/v1/ratings"]["post"]["description"].split())
    assert "What a device must send." in description
    assert (
        '"device asks" (none by default, so `{"overall": 4}` is a complete rating)' in description
    )


async def test_an_item_marked_for_devices_is_required_on_devices(client: Any) -> None:
    await open_public_campaign()
    await _admin(client)
    headers = await _device()
    # the window's questionnaire is read (and cached) before the edit; nothing stored
    assert (await _post(client, headers, {"overall": 9})).status_code == 422
    saved = await _edit(client, await _questionnaire_id("pub"), _pub_rows(on_device=True))
    assert saved.status_code in (302, 303)
    missing = await _post(client, headers, {"overall": 4})
    assert missing.status_code == 422
    assert missing.json()["field"] == "answers.attitude"
    assert "required" in missing.json()["detail"]
    assert (await _post(client, headers, {"overall": 4, "attitude": 4})).status_code == 201


# Two windows; per rating (overall, attitude): composite means differ from overall means.
RATINGS = {
    "u1-W1": [(5, 1), (4, 2), (5, 3), (4, 1), (5, 2), (4, 3)],
    "u2-W1": [(2, 5), (3, 4), (2, 5), (3, 5), (2, 4), (3, 4)],
}


@pytest.mark.parametrize("overall_only", [True, False])
async def test_cleaning_scores_the_versions_composite(client: Any, overall_only: bool) -> None:
    from pingyi.db.tables import CleaningRun

    campaign = await open_public_campaign()
    await _admin(client)
    extra = {"preset": "overall_only"} if overall_only else {}
    assert (
        await _edit(client, await _questionnaire_id("pub"), _pub_rows(), **extra)
    ).status_code in (302, 303)
    for window, ratings in RATINGS.items():
        headers = await _device(window)
        for overall, attitude in ratings:
            stored = await _post(
                client, headers, {"overall": overall, "attitude": attitude}, window=window
            )
            assert stored.status_code == 201, stored.text
    page = await client.get(f"/admin/campaigns/{campaign['code']}")
    token = csrf_from(page.text)
    moved = await client.post(
        f"/admin/campaigns/{campaign['code']}/move", data={"_csrf_token": token, "target": "closed"}
    )
    assert moved.status_code in (302, 303)
    cleaned = await client.post(
        f"/admin/campaigns/{campaign['code']}/clean", data={"_csrf_token": token}
    )
    assert cleaned.status_code in (302, 303), cleaned.text
    run = await CleaningRun.select(CleaningRun.scores).output(load_json=True).first()
    public = {s["ratee"]: s for s in run["scores"] if s["role"] == "public"}
    for window, ratings in RATINGS.items():
        # the one staff member on duty at the window is the rating's ratee
        score = public[f"staff:{window.split('-')[0]}-S1"]
        if overall_only:
            expected = sum(o for o, _ in ratings) / len(ratings)
        else:
            expected = sum((o + a) / 2 for o, a in ratings) / len(ratings)
        assert score["raw_mean"] == pytest.approx(expected)
        assert score["clean_mean"] == pytest.approx(expected), score
