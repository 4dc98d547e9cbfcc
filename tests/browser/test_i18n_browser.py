"""The third language in a real browser: a Hong Kong phone reads the rating page in
繁體中文, rates, switches to another language and keeps it; the console in 繁體中文.
axe-core audits every page on the way (lang attributes included)."""

from __future__ import annotations

from typing import Any

from browser.conftest import DESKTOP, PHONE
from browser.test_citizen_browser import rate_every_question, window_link


def test_a_hong_kong_phone_reads_traditional_chinese_and_can_switch(
    browser: Any, demo_server: Any
) -> None:
    context = browser.new_context(**{**PHONE, "locale": "zh-HK"})
    try:
        page = context.new_page()
        link = window_link(demo_server)
        assert page.goto(link).status == 200
        assert page.locator("html").get_attribute("lang") == "zh-Hant"
        labels = page.locator("fieldset.levels").first.locator("label").all_inner_texts()
        assert labels == ["非常滿意", "滿意", "基本滿意", "不滿意", "非常不滿意"]
        switch = page.get_by_role("navigation", name="語言")
        assert switch.get_by_role("link").all_inner_texts() == ["简体中文", "English"]
        assert switch.locator("[aria-current=true]").inner_text() == "繁體中文"
        rate_every_question(page, "5")
        with page.expect_navigation() as navigation:
            page.get_by_role("button", name="提交評價").tap()
        assert navigation.value.status == 200
        assert "感謝您的評價" in page.content()
        # choosing 简体中文 is remembered on the phone, over its Traditional setting
        page.goto(link)
        with page.expect_navigation():
            page.get_by_role("link", name="简体中文").tap()
        assert page.locator("html").get_attribute("lang") == "zh-CN"
        assert page.get_by_role("button", name="提交评价").count() == 1
        page.goto(link)
        assert page.locator("html").get_attribute("lang") == "zh-CN"
    finally:
        context.close()


def test_the_console_in_traditional_chinese(browser: Any, demo_server: Any) -> None:
    context = browser.new_context(**DESKTOP)
    try:
        page = context.new_page()
        page.goto(demo_server.base + "/login")
        with page.expect_navigation():
            page.get_by_role("link", name="繁體中文").click()
        assert page.locator("html").get_attribute("lang") == "zh-Hant"
        page.fill("#username", "admin")
        page.fill("#password", demo_server.logins["admin"])
        with page.expect_navigation():
            page.get_by_role("button", name="登入").click()
        page.goto(demo_server.base + "/admin/campaigns")
        assert page.locator("html").get_attribute("lang") == "zh-Hant"
        assert page.get_by_role("button", name="登出").count() == 1
        assert "評議活動" in page.locator("main").inner_text()
        demo_server.shot(page, "console-zh-Hant")
    finally:
        context.close()
