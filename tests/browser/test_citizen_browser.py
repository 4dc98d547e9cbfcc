"""A citizen with a phone: scan the window's code, rate, see the thank-you page;
with JavaScript on and with it off. Real Chromium, real `pingyi serve`, demo data."""

from __future__ import annotations

from typing import Any

import pytest

from browser.conftest import PHONE
from live_server import SECRET


def window_link(served: Any) -> str:
    """The link printed in the QR code of the demo's first window (open campaign)."""
    from pingyi.security import derive_key, sign

    ((campaign_id,),) = served.db.rows("SELECT id FROM campaign WHERE code = '2026Q4'")
    ((window_id,),) = served.db.rows(
        "SELECT id FROM service_window WHERE code = 'A01'"  # the demo's first window
    )
    ref = sign(derive_key(SECRET, "window-ref"), f"c{campaign_id}w{window_id}")
    return f"{served.base}/r/{ref}"


def rate_every_question(page: Any, level: str) -> None:
    """Choose `level` in every five-level question, "yes"/the first option in the
    others, by tapping the labels as a person would."""
    names: list[str] = []
    for radio in page.locator("input[type=radio]").all():
        name = radio.get_attribute("name")
        if name and name not in names:
            names.append(name)
    assert "overall" in names
    for name in names:
        choice = page.locator(f"input[name='{name}'][value='{level}']")
        if choice.count() == 0:
            choice = page.locator(f"input[name='{name}']").first
        page.locator(f"label[for='{choice.get_attribute('id')}']").tap()
        assert choice.is_checked(), name


def submit(page: Any) -> None:
    with page.expect_navigation() as navigation:
        page.get_by_role("button", name="提交评价").tap()
    assert navigation.value.status == 200, page.content()[-2000:]


def _public_count(served: Any) -> int:
    ((n,),) = served.db.rows("SELECT count(*) FROM response WHERE role = 'public'")
    return int(n)


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_phone_scans_rates_and_is_thanked(browser: Any, demo_server: Any, javascript: bool) -> None:
    before = _public_count(demo_server)
    context = browser.new_context(**PHONE, java_script_enabled=javascript)
    try:
        page = context.new_page()
        response = page.goto(window_link(demo_server))
        assert response is not None and response.status == 200
        assert page.locator("h1").inner_text() == "不动产登记"
        # The form: five levels in order, nothing chosen for the citizen.
        labels = page.locator("fieldset.levels").first.locator("label").all_inner_texts()
        assert labels == ["非常满意", "满意", "基本满意", "不满意", "非常不满意"]
        assert page.locator("input[type=radio]:checked").count() == 0
        # It fits the phone: nothing wider than the screen.
        width = page.viewport_size["width"]
        assert page.locator("form").bounding_box()["width"] <= width
        rating_shot = demo_server.shot(page, f"rating-page-{'js' if javascript else 'nojs'}")
        rate_every_question(page, "5")
        submit(page)
        assert "感谢您的评价" in page.content()
        thanks_shot = demo_server.shot(page, f"thank-you-{'js' if javascript else 'nojs'}")
    finally:
        context.close()
    assert _public_count(demo_server) == before + 1
    assert rating_shot.stat().st_size > 10_000 and thanks_shot.stat().st_size > 5_000


def test_a_low_rating_asks_why_without_javascript(browser: Any, demo_server: Any) -> None:
    """The "why" questions appear by CSS alone when a low level is chosen."""
    context = browser.new_context(**PHONE, java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(window_link(demo_server))
        assert not page.locator("#reason").is_visible()
        page.locator("label[for='overall-1']").tap()
        assert page.locator("#reason").is_visible()
        rate_every_question(page, "1")
        page.select_option("#reason", "slow")
        page.fill("#reason_text", "排队一个小时")
        demo_server.shot(page, "bad-rating")
        submit(page)
        assert "感谢您的评价" in page.content()
    finally:
        context.close()
    cases = demo_server.db.rows(
        "SELECT reason_category, reason_text FROM bad_review_case WHERE reason_text = $1",
        "排队一个小时",
    )
    assert cases == [("slow", "排队一个小时")]
