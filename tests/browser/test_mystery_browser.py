"""A mystery-shopping evaluator on a phone with no signal: the visit form keeps the
answers, sends them when the phone is back online, and a response lost on the way (the
server stored the visit, the phone never heard) is sent again without storing a second
visit. Real Chromium, real `pingyi serve`, demo data (its open campaign has planned
visits for the demo's interviewer)."""

from __future__ import annotations

import re
from typing import Any

from browser.conftest import PHONE


def _done(served: Any, visit_id: int) -> list[tuple[Any, ...]]:
    return served.db.rows(
        "SELECT state, client_id, score FROM mystery_visit WHERE id = $1", visit_id
    )


def _entries(served: Any, visit_id: int) -> int:
    ((n,),) = served.db.rows(
        "SELECT count(*) FROM audit_event WHERE action = 'mystery.visit' AND target = $1",
        f"mystery_visit:{visit_id}",
    )
    return int(n)


def test_visit_entered_offline_is_stored_once(browser: Any, demo_server: Any) -> None:
    served = demo_server
    context = browser.new_context(**PHONE)
    page = context.new_page()
    problems: list[str] = []
    page.on(
        "console",
        lambda message: problems.append(message.text) if message.type == "error" else None,
    )
    try:
        page.goto(served.base + "/login")
        page.fill("#username", "interviewer")
        page.fill("#password", served.logins["interviewer"])
        with page.expect_navigation():
            page.locator("button[type=submit]").last.click()
        page.goto(served.base + "/admin/mystery")
        planned = page.locator("#mystery-visits tr", has_text="待暗访").first
        href = planned.locator("a").get_attribute("href")
        assert href is not None
        visit_id = int(re.findall(r"\d+", href)[-1])
        page.goto(served.base + href)
        page.wait_for_selector("#mystery-form")

        # no signal: answer everything and submit; the answers stay on the phone
        context.set_offline(True)
        for name in ("first_contact", "tell_once", "dress"):
            page.locator(f"label[for='item_{name}-1']").tap()
        page.fill("#item_language", "4")
        page.fill("#item_wait", "12")
        page.get_by_role("button", name="提交暗访记录").tap()
        page.wait_for_selector("#mystery-status[data-state='waiting']")
        assert "联网后自动提交" in page.inner_text("#mystery-status")
        kept = page.evaluate(f"window.localStorage.getItem('pingyi.mystery.{visit_id}')")
        assert kept and '"pending":true' in kept and '"item_wait":"12"' in kept
        assert _done(served, visit_id)[0][0] == "planned"

        # back online, but the answer is lost on the way: stored, the phone never heard
        lost: list[int] = []

        def drop_answer(route: Any) -> None:
            if route.request.method == "POST" and not lost:
                response = route.fetch()
                lost.append(response.status)
                route.abort("connectionreset")
            else:
                route.continue_()

        page.route("**/admin/mystery/visits/*", drop_answer)
        with page.expect_event("requestfailed"):
            context.set_offline(False)  # the script sends on "online"
        page.wait_for_selector("#mystery-status[data-state='waiting']")
        assert lost == [200], lost
        state, client_id, score = _done(served, visit_id)[0]
        assert state == "done" and client_id and score is not None
        still = page.evaluate(f"window.localStorage.getItem('pingyi.mystery.{visit_id}')")
        assert still and '"pending":true' in still  # the phone still thinks it must send

        # the next try (the script retries on "online" and every 30 s) stores nothing new
        page.unroute("**/admin/mystery/visits/*")
        page.evaluate("window.dispatchEvent(new Event('online'))")
        page.wait_for_selector("#mystery-status[data-state='sent']")
        assert page.evaluate(f"window.localStorage.getItem('pingyi.mystery.{visit_id}')") is None
        assert _done(served, visit_id) == [(state, client_id, score)]
        assert _entries(served, visit_id) == 1
        ((done,),) = served.db.rows(
            "SELECT count(*) FROM mystery_visit WHERE client_id = $1", client_id
        )
        assert done == 1
        assert not [p for p in problems if "Content Security Policy" in p], problems
    finally:
        context.close()
