"""A large table in a real browser at 1,280 px: 5,000 staff in 200 units (generated
into the live server's database), filtered through the form, paged through the page
links, sorted by a column header, downloaded as filtered; no name or number breaks
over two lines, the header stays in view while the rows scroll, and the page does
not scroll sideways. axe-core audits every page on the way (conftest)."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
from pathlib import Path
from typing import Any

from browser.conftest import ADMIN_PASSWORD, DESKTOP
from live_server import cli

TESTS = Path(__file__).resolve().parents[1]
HR_PASSWORD = "human resources 2026"
GENERATE = (
    "import asyncio, bigorg\nasyncio.run(bigorg.build())\nasyncio.run(bigorg.publish_feed())\n"
)

# cells whose text runs over more than one line: their boxes, top to bottom, form
# more than one band (a smaller font on the same line overlaps its line's band)
WRAPPED = """selector => Array.from(document.querySelectorAll(selector)).filter(cell => {
  const range = document.createRange();
  range.selectNodeContents(cell);
  const boxes = Array.from(range.getClientRects()).filter(r => r.width > 0)
    .sort((a, b) => a.top - b.top);
  let lines = 0, bottom = -Infinity;
  for (const box of boxes) {
    if (box.top >= bottom - 1) { lines += 1; bottom = box.bottom; }
    else { bottom = Math.max(bottom, box.bottom); }
  }
  return lines > 1;
}).map(cell => cell.innerText)"""

# the header's distance from the top of the scrolled table box
HEADER_OFFSET = """() => {
  const wrap = document.querySelector('.table-wrap');
  wrap.scrollTop = 2000;
  const th = wrap.querySelector('thead th');
  return [wrap.scrollTop, th.getBoundingClientRect().top - wrap.getBoundingClientRect().top];
}"""


def generate(served: Any) -> None:
    done = subprocess.run(
        [sys.executable, "-c", GENERATE],
        env=served.env,
        cwd=TESTS,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]


def sign_in(page: Any, served: Any, username: str, password: str) -> None:
    page.goto(served.base + "/login")
    page.fill("#username", username)
    page.fill("#password", password)
    with page.expect_navigation():
        page.locator("form button[type=submit]").click()


def reads_at_1280(page: Any, table: str) -> None:
    """No name, code or number wraps; neither the page nor the table scrolls sideways."""
    assert page.evaluate(WRAPPED, f"{table} td:not(.wrap), {table} th") == []
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 1280
    wide, shown, columns = page.evaluate(
        "t => { const w = document.querySelector(t).closest('.table-wrap');"
        " return [w.scrollWidth, w.clientWidth, Array.from(w.querySelectorAll('thead th'))"
        ".map(th => Math.round(th.getBoundingClientRect().width))]; }",
        table,
    )
    assert wide <= shown, f"{table} is {wide} px wide in a {shown} px box: {columns}"


def codes(page: Any, table: str) -> list[str]:
    return page.locator(f"{table} tbody tr td:first-child").all_inner_texts()


def test_a_5000_row_table_filters_pages_sorts_and_reads_at_1280(
    browser: Any, empty_server: Any
) -> None:
    served = empty_server
    generate(served)
    cli(served.env, served.folder, "createuser", "hr", "--role", "hr", "--password", HR_PASSWORD)
    context = browser.new_context(**DESKTOP, accept_downloads=True)
    page = context.new_page()
    try:
        sign_in(page, served, "agency", ADMIN_PASSWORD)
        page.goto(served.base + "/admin/org/staff")
        assert page.locator("#row-count").inner_text() == "第 1–50 条，共 5000 条"
        reads_at_1280(page, "#staff")
        scrolled, offset = page.evaluate(HEADER_OFFSET)
        assert scrolled > 0 and abs(offset) <= 1  # the header stayed at the top
        served.shot(page, "staff-table-1280")

        # a unit from the filter form
        page.select_option("select[name=unit]", label="第8区社会保障服务大厅")
        with page.expect_navigation():
            page.get_by_role("button", name="筛选").click()
        assert "unit=U007" in page.url
        assert codes(page, "#staff") == [f"U007-{k:02d}" for k in range(25)]

        # paging through the page links, 100 a page
        page.goto(served.base + "/admin/org/staff?size=100")
        with page.expect_navigation():
            page.get_by_role("link", name="第 3 页").click()
        assert "page=3" in page.url
        assert codes(page, "#staff")[0] == "U008-00" and len(codes(page, "#staff")) == 100
        assert page.locator(".pager [aria-current=page]").inner_text() == "3"
        with page.expect_navigation():
            page.get_by_role("link", name="下一页").click()
        assert codes(page, "#staff")[0] == "U012-00"

        # a search, and its download holds exactly what it found
        page.goto(served.base + "/admin/org/staff")
        page.fill("input[name=q]", "欧阳")
        page.select_option("select[name=active]", "yes")
        with page.expect_navigation():
            page.get_by_role("button", name="筛选").click()
        found = int(page.locator("#row-count").inner_text().rsplit("共 ", 1)[1].split()[0])
        assert 0 < found < 5000
        with page.expect_download() as download:
            page.locator("#download-csv").click()
        body = Path(download.value.path()).read_bytes().decode("utf-8-sig")
        rows = list(csv.reader(io.StringIO(body)))[1:]
        assert len(rows) == found and all("欧阳" in r[1] and r[5] == "是" for r in rows)
        context.clear_cookies()

        # HR: the published scores of 5,000, sorted by the total's header
        sign_in(page, served, "hr", HR_PASSWORD)
        page.goto(served.base + "/admin/campaigns/BIG/scores")
        assert page.locator("#row-count").inner_text() == "第 1–50 条，共 5000 条"
        reads_at_1280(page, "#scores")
        for _ in range(2):  # ascending, then descending
            with page.expect_navigation():
                page.locator("#scores thead").get_by_role("link", name="综合得分").click()
        header = page.locator("#scores thead th[aria-sort=descending]")
        assert header.inner_text().startswith("综合得分")
        totals = [
            float(t) for t in page.locator("#scores tbody tr td:nth-child(8)").all_inner_texts()
        ]
        assert len(totals) == 50 and totals == sorted(totals, reverse=True)
        reads_at_1280(page, "#scores")
        served.shot(page, "scores-table-1280")
    finally:
        context.close()
