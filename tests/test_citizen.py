"""The citizen's path end to end: QR code -> page -> POST -> thank-you, and every
way it can go wrong."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from helpers import open_public_campaign

pytestmark = pytest.mark.anyio

UA = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) MicroMessenger/8.0"


def decode_qr(png: bytes) -> str:
    """The text of a QR image. OpenCV's default detector misses about one code in
    four hundred (it depends on the content, so random tokens made tests flaky); the
    ArUco-based detector and a wider quiet zone read those. A wrong code still
    decodes to the wrong text, or to nothing, with every detector."""
    import cv2
    import numpy as np

    image = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_GRAYSCALE)
    framed = cv2.copyMakeBorder(image, 40, 40, 40, 40, cv2.BORDER_CONSTANT, value=255)
    for detector, picture in (
        (cv2.QRCodeDetector(), image),
        (cv2.QRCodeDetectorAruco(), image),
        (cv2.QRCodeDetector(), framed),
    ):
        text, _, _ = detector.detectAndDecode(picture)
        if text:
            return str(text)
    return ""


def form_fields(html: str) -> dict[str, str]:
    return {"token": re.search(r'name="token" value="([^"]+)"', html).group(1)}  # type: ignore[union-attr]


async def _count(table: Any) -> int:
    return int(await table.count())


async def _page_for_window(
    client: Any, campaign: dict[str, Any], window: str = "u1-W1"
) -> tuple[str, Any]:
    from pingyi.qr import qr_png
    from pingyi.services.links import window_url

    url = decode_qr(qr_png(window_url(campaign["campaign_id"], campaign["windows"][window])))
    path = url.removeprefix("http://127.0.0.1:8000")
    assert path.startswith("/r/")
    return path, await client.get(path, headers={"user-agent": UA})


async def test_scan_open_rate_thank(client: Any) -> None:
    from pingyi.db.tables import Answer, Response

    campaign = await open_public_campaign()
    path, page = await _page_for_window(client, campaign)
    assert page.status_code == 200
    html = page.text
    assert "不动产登记" in html and "员工u11" in html  # the hall and the staff member on duty
    # The five levels, in the fixed order, none pre-selected.
    labels = re.findall(r'<label for="overall-\d">([^<]+)</label>', html)
    assert labels == ["非常满意", "满意", "基本满意", "不满意", "非常不满意"]
    assert " checked" not in html
    # Opening the link (a prefetch) stored nothing.
    assert await _count(Response) == 0
    data = {**form_fields(html), "overall": "5", "item_attitude": "4", "comment": "很好"}
    done = await client.post(path, data=data, headers={"user-agent": UA})
    assert done.status_code == 200 and "感谢您的评价" in done.text
    rows = await Response.select().where(Response.campaign == campaign["campaign_id"])
    assert len(rows) == 1
    row = rows[0]
    assert row["channel"] == "qr" and row["role"] == "public"
    assert row["ratee"] == campaign["staff"]["u1-S1"]
    assert row["duration_s"] is not None and row["duration_s"] >= 0
    assert len(row["device"]) == 24 and "203.0.113" not in row["device"]
    answers = {
        a["item"]: a["score"] for a in await Answer.select().where(Answer.response == row["id"])
    }
    assert answers == {"overall": 5, "attitude": 4}
    # A public rating stores its time, so its ids may follow it (ids.py): version 7.
    stored_answers = await Answer.select(Answer.id).where(Answer.response == row["id"])
    assert row["id"].version == 7 and {a["id"].version for a in stored_answers} == {7}
    # No raw IP address or user agent anywhere in the stored row.
    flat = " ".join(str(v) for v in row.values())
    assert "203.0.113" not in flat and "iPhone" not in flat


async def test_retry_of_the_same_form_stores_one_response(client: Any) -> None:
    from pingyi.db.tables import Response

    campaign = await open_public_campaign()
    path, page = await _page_for_window(client, campaign)
    data = {**form_fields(page.text), "overall": "4", "item_attitude": "4"}
    first = await client.post(path, data=data, headers={"user-agent": UA})
    second = await client.post(path, data=data, headers={"user-agent": UA})
    assert first.status_code == second.status_code == 200
    assert "感谢您的评价" in second.text
    assert await _count(Response) == 1


async def test_invalid_input_is_explained_and_kept(client: Any) -> None:
    from pingyi.db.tables import Response

    campaign = await open_public_campaign()
    path, page = await _page_for_window(client, campaign)
    data = {**form_fields(page.text), "item_attitude": "3", "comment": "排队太久<b>"}
    response = await client.post(path, data=data)
    assert response.status_code == 400
    assert "请选择一个满意程度" in response.text
    assert "排队太久&lt;b&gt;" in response.text  # kept, and escaped
    assert 'id="item_attitude-3" name="item_attitude" value="3" checked' in response.text
    english = await client.post(path + "?lang=en", data=data)
    assert "Please choose a level of satisfaction" in english.text
    assert await _count(Response) == 0


async def test_bad_review_asks_why_and_opens_a_case(client: Any) -> None:
    from pingyi.db.tables import BadReviewCase, CitizenContact, Response

    campaign = await open_public_campaign()
    path, page = await _page_for_window(client, campaign)
    token = form_fields(page.text)
    missing = await client.post(path, data={**token, "overall": "2", "item_attitude": "2"})
    assert missing.status_code == 400 and "请选择不满意的原因" in missing.text
    done = await client.post(
        path,
        data={
            **token,
            "overall": "2",
            "item_attitude": "2",
            "reason": "slow",
            "reason_text": "等了两个小时",
            "contact": "13800138000",
        },
    )
    assert done.status_code == 200 and "核实处理" in done.text
    case = await BadReviewCase.select().first()
    assert case is not None
    assert case["reason_category"] == "slow"
    assert case["unit"] is not None and case["state"] == "open"
    assert case["contact_due"] > case["opened_at"] and case["rectify_due"] > case["contact_due"]
    contact = await CitizenContact.select().first()
    assert contact is not None and "13800138000" not in contact["ciphertext"]
    response = await Response.select().first()
    assert "13800138000" not in str(response)


async def test_a_changed_character_is_a_clear_404(client: Any) -> None:
    campaign = await open_public_campaign()
    path, _ = await _page_for_window(client, campaign)
    last = path[-1]
    forged = path[:-1] + ("A" if last != "A" else "B")
    response = await client.get(forged)
    assert response.status_code == 404
    assert "无法识别此二维码" in response.text
    other = path.replace(f"w{campaign['windows']['u1-W1']}", f"w{campaign['windows']['u1-W2']}")
    assert (await client.get(other)).status_code == 404


async def test_closed_campaign_says_so(client: Any) -> None:
    from pingyi.services import campaigns

    campaign = await open_public_campaign()
    path, page = await _page_for_window(client, campaign)
    await campaigns.move(campaign["code"], "closed", "test")
    assert (await client.get(path)).status_code == 410
    late = await client.post(
        path, data={**form_fields(page.text), "overall": "5", "item_attitude": "5"}
    )
    assert late.status_code == 410 and "已结束" in late.text


async def test_forged_form_token_stores_nothing(client: Any) -> None:
    from pingyi.db.tables import Response

    campaign = await open_public_campaign()
    path, _ = await _page_for_window(client, campaign)
    response = await client.post(
        path,
        data={
            "token": "c1~1~0~~0~x.forged",
            "overall": "5",
            "item_attitude": "5",
            "comment": "留着",
        },
    )
    assert response.status_code == 400
    assert "页面已过期" in response.text and "留着" in response.text
    assert await _count(Response) == 0


async def test_rate_limit_refuses_with_a_message_and_keeps_the_input(client: Any) -> None:
    from pingyi.db.tables import Response
    from pingyi.settings import get_settings

    campaign = await open_public_campaign()
    limit = get_settings().rate_limit_per_device
    statuses = []
    for i in range(limit + 1):
        path, page = await _page_for_window(client, campaign)
        response = await client.post(
            path,
            data={
                **form_fields(page.text),
                "overall": "5",
                "item_attitude": "5",
                "comment": f"第{i}次",
            },
            headers={"user-agent": UA},
        )
        statuses.append(response.status_code)
    assert statuses == [200] * limit + [429]
    assert "提交过于频繁" in response.text and f"第{limit}次" in response.text
    assert response.headers["retry-after"].isdigit()
    assert await _count(Response) == limit


async def test_honeypot_is_accepted_but_marked(client: Any) -> None:
    from pingyi.db.tables import Response

    campaign = await open_public_campaign()
    path, page = await _page_for_window(client, campaign)
    done = await client.post(
        path,
        data={
            **form_fields(page.text),
            "overall": "5",
            "item_attitude": "5",
            "website": "http://spam",
        },
    )
    assert done.status_code == 200
    row = await Response.select(Response.honeypot).first()
    assert row["honeypot"] is True


async def test_outside_opening_hours_is_accepted_but_marked(client: Any) -> None:
    from pingyi.db.tables import Response
    from pingyi.hours import LOCAL_TZ

    later = (datetime.now(LOCAL_TZ) + timedelta(hours=6)).strftime("%H:%M")
    end = (datetime.now(LOCAL_TZ) + timedelta(hours=6, minutes=1)).strftime("%H:%M")
    hours = f"{later}-{end}" if later < end else "00:00-00:01"
    campaign = await open_public_campaign(opening_hours=hours)
    path, page = await _page_for_window(client, campaign)
    done = await client.post(
        path, data={**form_fields(page.text), "overall": "4", "item_attitude": "4"}
    )
    assert done.status_code == 200
    assert (await Response.select(Response.off_hours).first())["off_hours"] is True


async def test_page_is_light_has_no_script_and_no_third_party(client: Any) -> None:
    campaign = await open_public_campaign()
    _, page = await _page_for_window(client, campaign)
    css = await client.get("/static/rate.css")
    assert css.status_code == 200
    total = len(page.content) + len(css.content)
    assert total < 20 * 1024, total
    html = page.text
    assert "<script" not in html.lower()
    assert not re.search(r'(src|href|action)="(https?:)?//', html)
    assert 'method="post"' in html  # a plain form: works with JavaScript off
    assert "style=" not in html  # the CSP forbids inline styles


async def test_pressure_report_goes_to_the_agency_with_a_date_only(client: Any) -> None:
    from pingyi.db.tables import PressureReport

    campaign = await open_public_campaign()
    path, page = await _page_for_window(client, campaign)
    done = await client.post(
        path, data={**form_fields(page.text), "overall": "5", "item_attitude": "5"}
    )
    token = re.search(r'name="token" value="([^"]+)"', done.text).group(1)  # type: ignore[union-attr]
    report = await client.post("/p", data={"token": token, "text": "工作人员让我点非常满意"})
    assert report.status_code == 200
    row = await PressureReport.select().first()
    assert row["text"] == "工作人员让我点非常满意"
    assert row["reported_on"] == datetime.now(UTC).date()
    assert (await client.post("/p", data={"token": "forged"})).status_code == 400
