"""Errors where they are, in a real browser with JavaScript off: an incomplete
citizen form and an incomplete peer sheet come back with the faulty questions
marked, the first one focused, and every answer given still chosen. axe-core
audits the marked pages (conftest)."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from browser.conftest import DESKTOP, PHONE
from browser.test_citizen_browser import window_link
from live_server import cli


def _focused(page: Any) -> str:
    return str(page.evaluate("document.activeElement && document.activeElement.id"))


def test_citizen_sees_the_missing_answers_marked(browser: Any, demo_server: Any, axe: Any) -> None:
    context = browser.new_context(**PHONE, java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(window_link(demo_server))
        page.locator("label[for='overall-1']").tap()  # unhappy: a reason is required
        page.locator("label[for='item_attitude-2']").tap()
        page.fill("#comment", "窗口太少")
        # efficiency (required) and the reason left out
        with page.expect_navigation() as navigation:
            page.get_by_role("button", name="提交评价").tap()
        assert navigation.value.status == 400
        summary = page.locator(".err-summary")
        assert summary.is_visible()
        assert summary.locator("a").all_inner_texts() == [
            "办事效率: 此项为必答。",
            "原因: 请选择不满意的原因。",
        ]
        # Each message beside its own question, the question's controls pointing to it.
        efficiency = page.locator("fieldset", has=page.locator("#item_efficiency-5"))
        assert efficiency.locator(".err").inner_text() == "错误：此项为必答。"
        assert page.locator("#item_efficiency-3").get_attribute("aria-invalid") == "true"
        assert page.locator("#item_efficiency-3").get_attribute("aria-describedby") == (
            "err-item_efficiency"
        )
        assert page.locator("#reason").get_attribute("aria-describedby") == "err-reason"
        assert page.locator("#err-reason").is_visible()  # the why-questions stay open
        assert page.locator("[aria-invalid=true]").count() == 5 + 1
        assert page.locator("#overall-1").get_attribute("aria-invalid") is None
        # The first faulty question has the focus, without JavaScript.
        assert _focused(page) == "item_efficiency-5"
        # Nothing given is lost.
        assert page.locator("#overall-1").is_checked()
        assert page.locator("#item_attitude-2").is_checked()
        assert page.input_value("#comment") == "窗口太少"
        demo_server.shot(page, "citizen-errors-marked")
        # The summary's link leads to the question.
        page.locator(".err-summary a").last.tap()
        assert page.url.endswith("#reason")
        # Put right, it is accepted.
        page.select_option("#reason", "slow")
        page.locator("label[for='item_efficiency-2']").tap()
        with page.expect_navigation() as navigation:
            page.get_by_role("button", name="提交评价").tap()
        assert navigation.value.status == 200
        assert "感谢您的评价" in page.content()
    finally:
        context.close()
    assert any("/r/" in url for url in axe.audited)


def _peer_links(served: Any) -> list[str]:
    """The open demo campaign's links of people who have not responded yet."""
    out = served.folder / "links.csv"
    cli(served.env, served.folder, "invitations", "--campaign", "2026Q4", "--out", str(out))
    rows = list(csv.DictReader(io.StringIO(Path(out).read_text(encoding="utf-8-sig"))))
    assert rows
    return [str(row["评议链接"]) for row in rows]


def test_peer_sees_the_half_rated_colleague_marked(browser: Any, demo_server: Any) -> None:
    context = browser.new_context(**PHONE, java_script_enabled=False)
    try:
        page = context.new_page()
        pending = page.locator("section.ratee", has=page.locator("input[type=radio]"))
        for link in _peer_links(demo_server):
            page.goto(link)
            if pending.count():
                break
        first = pending.first
        name = first.locator("h3").inner_text()
        radios = first.locator("input[type=radio][value='4']")
        assert radios.count() >= 2
        # Only the first question of the first colleague answered, and a comment.
        first_radio = radios.first
        page.locator(f"label[for='{first_radio.get_attribute('id')}']").tap()
        comment = first.locator("textarea")
        comment.fill("沟通顺畅")
        with page.expect_navigation() as navigation:
            first.get_by_role("button").tap()  # submit this one person
        assert navigation.value.status == 400
        first = page.locator("section.ratee", has=page.locator(f"h3:text-is('{name}')")).first
        missing = first.locator("[aria-invalid=true]")
        assert missing.count() == 5 * (radios.count() - 1)  # every other question of his
        assert page.locator("[aria-invalid=true]").count() == missing.count()  # no one else
        links = page.locator(".err-summary a").all_inner_texts()
        assert len(links) == radios.count() - 1 and all(t.startswith(name) for t in links)
        assert _focused(page) == missing.first.get_attribute("id")
        assert first.locator(".err").first.inner_text().startswith("错误：")
        assert page.locator(f"[id='{first_radio.get_attribute('id')}']").is_checked()
        assert first.locator("textarea").input_value() == "沟通顺畅"
        demo_server.shot(page, "peer-errors-marked")
    finally:
        context.close()


def test_citizen_reads_traditional_chinese_and_its_errors(browser: Any, demo_server: Any) -> None:
    """The third language through the page's own language switch, errors included."""
    context = browser.new_context(**PHONE)
    try:
        page = context.new_page()
        page.goto(window_link(demo_server))
        with page.expect_navigation():
            page.get_by_role("link", name="繁體中文").tap()
        assert page.get_attribute("html", "lang") == "zh-Hant"
        assert page.locator("legend").first.inner_text() == "您對本次服務是否滿意？"
        labels = page.locator("fieldset.levels").first.locator("label").all_inner_texts()
        assert labels == ["非常滿意", "滿意", "基本滿意", "不滿意", "非常不滿意"]
        assert page.get_by_role("link", name="大字模式").count() == 1
        page.locator("label[for='item_attitude-4']").tap()
        with page.expect_navigation() as navigation:
            page.get_by_role("button", name="提交評價").tap()
        assert navigation.value.status == 400
        assert page.locator(".err-summary h2").inner_text() == "請檢查標出的項目。"
        assert page.locator("#err-overall").inner_text().startswith("錯誤：")
        assert page.locator("#item_attitude-4").is_checked()
        demo_server.shot(page, "citizen-zh-Hant-errors")
        # remembered: the next page opened is in Traditional Chinese too
        page.goto(window_link(demo_server))
        assert page.get_attribute("html", "lang") == "zh-Hant"
    finally:
        context.close()


def test_console_form_errors_in_a_browser(browser: Any, demo_server: Any, axe: Any) -> None:
    """The new-campaign form's marks as the agency sees them (the browser's own
    checks switched off, so the server's are what shows)."""
    context = browser.new_context(**DESKTOP)
    try:
        page = context.new_page()
        page.goto(demo_server.base + "/login")
        page.fill("#username", "admin")
        page.fill("#password", demo_server.logins["admin"])
        with page.expect_navigation():
            page.locator("form button[type=submit]").last.click()
        page.goto(demo_server.base + "/admin/campaigns/new")
        page.eval_on_selector("form[action='/admin/campaigns/new']", "f => f.noValidate = true")
        page.fill("#code", "2027Q1")
        page.fill("#period_start", "2027-03-31")
        page.fill("#period_end", "2027-01-01")
        with page.expect_navigation() as navigation:
            page.locator("form[action='/admin/campaigns/new'] button[type=submit]").click()
        assert navigation.value.status == 400
        assert page.locator(".err-summary a").all_inner_texts() == [
            "名称: 此项为必填。",
            "结束日期: 结束日期不能早于开始日期。",
        ]
        assert _focused(page) == "name"
        assert page.input_value("#code") == "2027Q1"
        assert page.locator("#period_end").get_attribute("aria-describedby") == "err-period_end"
        demo_server.shot(page, "console-campaign-errors")
    finally:
        context.close()
    assert any(url.endswith("/admin/campaigns/new") for url in axe.audited)
