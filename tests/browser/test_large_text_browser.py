"""适老化 mode in a real browser with JavaScript off: one tap to large text and high
contrast on the citizen page and the peer sheet, remembered across a reload and a
new page, and a layout that holds on a 320 px screen with the text doubled."""

from __future__ import annotations

from typing import Any

from browser.conftest import PHONE
from browser.test_citizen_browser import rate_every_question, submit, window_link
from browser.test_errors_browser import _peer_links

# Elements placed off the page on purpose (the honeypot) or drawn by their label
# (the radio buttons) are not content that could be cut off.
_OUTSIDE = """() => {
  const width = document.documentElement.clientWidth;
  const out = [];
  for (const el of document.querySelectorAll('main *')) {
    if (el.closest('.hp') || (el.tagName === 'INPUT' && el.type === 'radio')) continue;
    const box = el.getBoundingClientRect();
    if (box.width === 0 && box.height === 0) continue;
    if (box.left < -0.5 || box.right > width + 0.5) out.push(el.tagName + '.' + el.className);
    if (el.scrollWidth > el.clientWidth + 1 && getComputedStyle(el).overflowX !== 'visible')
      out.push('clipped ' + el.tagName + '.' + el.className);
  }
  return out;
}"""

_DOUBLE_TEXT = """() => {
  const root = document.documentElement;
  root.style.fontSize = 2 * parseFloat(getComputedStyle(root).fontSize) + 'px';
}"""


def _px(page: Any, selector: str, prop: str) -> float:
    value = page.eval_on_selector(selector, f"e => getComputedStyle(e).{prop}")
    return float(str(value).removesuffix("px"))


def _large(page: Any) -> bool:
    return "large" in (page.get_attribute("html", "class") or "")


def assert_holds_at_double_text(page: Any, served: Any, name: str) -> None:
    """320 CSS px wide, text at 200 %: no sideways scrolling, nothing outside or cut."""
    page.set_viewport_size({"width": 320, "height": 640})
    page.evaluate(_DOUBLE_TEXT)
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    assert page.evaluate(_OUTSIDE) == []
    served.shot(page, name)


def test_citizen_turns_on_large_text_and_it_stays(browser: Any, demo_server: Any, axe: Any) -> None:
    context = browser.new_context(**PHONE, java_script_enabled=False)
    try:
        page = context.new_page()
        link = window_link(demo_server)
        page.goto(link)
        assert not _large(page)
        standard_text = _px(page, "body", "fontSize")
        standard_target = page.locator("label[for='overall-5']").bounding_box()["height"]
        with page.expect_navigation():
            page.get_by_role("link", name="大字模式").tap()
        assert page.url.startswith(link)  # the same form, its link kept
        assert _large(page)
        assert _px(page, "body", "fontSize") >= 20 > standard_text
        target = page.locator("label[for='overall-5']").bounding_box()
        assert target["height"] >= 48 and target["height"] > standard_target
        assert page.locator("#comment").bounding_box()["height"] >= 48
        assert _px(page, "body", "lineHeight") >= 1.5 * _px(page, "body", "fontSize")
        # High contrast: every text at 7:1 or more (WCAG's enhanced level).
        assert axe.violations(page, {"type": "rule", "values": ["color-contrast-enhanced"]}) == []
        demo_server.shot(page, "large-text")
        # Remembered on this phone: a reload, and the link opened again.
        page.reload()
        assert _large(page)
        page.goto(link)
        assert _large(page)
        assert page.get_by_role("link", name="标准字号").count() == 1
        # The rating still goes through, and the thank-you page is large too.
        rate_every_question(page, "4")
        submit(page)
        assert "感谢您的评价" in page.content() and _large(page)
        # Back to standard with one tap.
        page.goto(link)
        with page.expect_navigation():
            page.get_by_role("link", name="标准字号").tap()
        assert not _large(page)
        page.reload()
        assert not _large(page)
    finally:
        context.close()


def test_large_text_holds_on_a_small_screen(browser: Any, demo_server: Any, axe: Any) -> None:
    context = browser.new_context(**PHONE, java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(window_link(demo_server) + "?text=large")
        assert _large(page)
        assert_holds_at_double_text(page, demo_server, "large-text-320px-200pc")
        # The marked errors too (overall left out).
        page.set_viewport_size(PHONE["viewport"])
        page.locator("label[for='item_attitude-3']").tap()
        with page.expect_navigation():
            page.get_by_role("button", name="提交评价").tap()
        assert page.locator(".err-summary").is_visible() and _large(page)
        assert_holds_at_double_text(page, demo_server, "large-text-errors-320px-200pc")
        # Standard text at 200 % holds as well.
        page.goto(window_link(demo_server) + "?text=standard")
        assert not _large(page)
        assert_holds_at_double_text(page, demo_server, "standard-text-320px-200pc")
        assert axe.audited
    finally:
        context.close()


def test_peer_sheet_in_large_text(browser: Any, demo_server: Any, axe: Any) -> None:
    context = browser.new_context(**PHONE, java_script_enabled=False)
    try:
        page = context.new_page()
        pending = page.locator("section.ratee", has=page.locator("input[type=radio]"))
        for link in _peer_links(demo_server):
            page.goto(link)
            if pending.count():
                break
        sheet = page.url
        with page.expect_navigation():
            page.get_by_role("link", name="大字模式").tap()
        assert page.url.split("?")[0] == sheet  # the invitation's link kept
        assert _large(page) and pending.count() >= 1
        assert _px(page, "body", "fontSize") >= 20
        label = pending.first.locator("fieldset label").first.bounding_box()
        assert label["height"] >= 48
        assert axe.violations(page, {"type": "rule", "values": ["color-contrast-enhanced"]}) == []
        demo_server.shot(page, "peer-large-text")
        assert_holds_at_double_text(page, demo_server, "peer-large-text-320px-200pc")
    finally:
        context.close()
