"""Each role's home in a real browser at 1,280 px, on the demo: signing in lands on a
list of work, most urgent first, whose lines lead to where the work is done; charts
where a trend says more. axe-core audits every page on the way (conftest)."""

from __future__ import annotations

from typing import Any

from browser.conftest import DESKTOP


def sign_in(page: Any, served: Any, username: str) -> None:
    page.goto(served.base + "/login")
    page.fill("#username", username)
    page.fill("#password", served.logins[username])
    with page.expect_navigation():
        page.locator("form button[type=submit]").click()
    assert page.url.endswith("/admin"), page.url


def task_lines(page: Any) -> list[str]:
    return [t.strip() for t in page.locator("li.task").all_inner_texts()]


def test_each_role_lands_on_its_own_work(browser: Any, demo_server: Any) -> None:
    served = demo_server
    context = browser.new_context(**DESKTOP)
    try:
        page = context.new_page()

        # the agency: overdue cases first, the open campaign's progress, a trend
        sign_in(page, served, "admin")
        lines = task_lines(page)
        assert lines[0].startswith("逾期") and "件差评工单已逾期" in lines[0], lines
        assert any("2026年第四季度评议：同事评价已收" in line for line in lines)
        assert page.locator("section.home-charts svg").count() >= 1
        table = page.get_by_role("table").first
        assert "2026年第四季度评议" in table.inner_text()
        served.shot(page, "home-agency")
        with page.expect_navigation():
            page.locator("li.task a").first.click()
        assert page.url.endswith("/admin/cases?state=overdue")
        rows = page.locator("#cases tbody tr").all_inner_texts()
        assert rows and all("超期" in row for row in rows)
        context.clear_cookies()

        # HR: the published campaign whose final grades wait
        sign_in(page, served, "hr")
        lines = task_lines(page)
        assert any("最终等次尚未确定" in line for line in lines), lines
        served.shot(page, "home-hr")
        with page.expect_navigation():
            page.get_by_role("link", name="最终等次尚未确定").first.click()
        assert "final=pending" in page.url
        assert page.locator("#scores tbody tr").count() == 50  # the first page of 50
        context.clear_cookies()

        # a unit leader: their unit's cases and satisfaction, nothing of other units
        sign_in(page, served, "leader")
        text = page.locator("main").inner_text()
        assert "本单位群众满意率" in page.locator("section.home-charts").inner_html()
        for other in ("社会保障", "户政", "市场监管"):
            assert other not in text
        served.shot(page, "home-leader")
        context.clear_cookies()

        # staff: their own latest result
        sign_in(page, served, "staff")
        lines = task_lines(page)
        assert any(
            line.endswith("”结果：综合得分 " + line.split("综合得分 ")[-1]) for line in lines
        )
        assert all("差评" not in line for line in lines)
        served.shot(page, "home-staff")
        with page.expect_navigation():
            page.locator("li.task a").first.click()
        assert page.url.endswith("/me")
        context.clear_cookies()

        # the interviewer: the mystery visits planned for them
        sign_in(page, served, "interviewer")
        assert any("次暗访待完成" in line for line in task_lines(page))
        served.shot(page, "home-interviewer")
    finally:
        context.close()
