"""The agency's whole path through the browser, from an empty database: sign in,
import the organisation from the downloadable template, build a questionnaire,
create and open a campaign, download its QR sheets, see a citizen's rating arrive
on the dashboard, close the campaign and find its bad-review case."""

from __future__ import annotations

import csv
import io
import os
import shutil
from datetime import date
from pathlib import Path
from typing import Any

from browser.conftest import ADMIN_PASSWORD, DESKTOP, PHONE
from browser.test_citizen_browser import rate_every_question, submit
from test_citizen import decode_qr

ROOT = Path(__file__).resolve().parents[2]


def filled_template(template: bytes, folder: Path) -> Path:
    """The downloaded template with the agency's own hall filled in."""
    rows = list(csv.reader(io.StringIO(template.decode("utf-8-sig"))))
    header = rows[0]
    assert header[:3] == ["类型", "编码", "名称"]
    ours = [
        ["单位", "tax", "税务服务厅", "Tax Hall", "", "", "", "", "", ""],
        ["窗口", "T01", "综合办税", "Tax filing", "tax", "T01", "", "", "", ""],
        ["窗口", "T02", "发票领用", "Invoices", "tax", "T02", "", "", "", ""],
        ["人员", "T001", "赵敏", "", "tax", "", "窗口服务类", "否", "T01", ""],
        ["人员", "T002", "钱进", "", "tax", "", "窗口服务类", "否", "T02", ""],
        ["人员", "T003", "孙立", "", "tax", "", "综合管理类", "是", "", ""],
    ]
    out = io.StringIO()
    csv.writer(out).writerows([header, *ours])
    path = folder / "org.csv"
    path.write_bytes(("\ufeff" + out.getvalue()).encode("utf-8"))
    return path


def test_agency_runs_a_campaign_through_the_console(browser: Any, empty_server: Any) -> None:
    served = empty_server
    context = browser.new_context(**DESKTOP, accept_downloads=True)
    page = context.new_page()
    try:
        # 1. Sign in.
        page.goto(served.base + "/login")
        page.fill("#username", "agency")
        page.fill("#password", ADMIN_PASSWORD)
        with page.expect_navigation():
            page.locator("form button[type=submit]").click()
        assert "/admin" in page.url
        served.shot(page, "01-console-home")

        # 2. Organisation: download the template, fill it in, import it.
        page.goto(served.base + "/admin/org")
        with page.expect_download() as download:
            page.get_by_role("link", name="下载模板").click()
        template = Path(download.value.path()).read_bytes()
        page.set_input_files("#file", str(filled_template(template, served.folder)))
        with page.expect_navigation() as navigation:
            page.locator("form[action='/admin/org/import'] button[type=submit]").click()
        assert navigation.value.status == 200, page.content()[-1500:]
        served.shot(page, "02-org-imported")
        page.goto(served.base + "/admin/org")
        assert page.get_by_text("税务服务厅").count() >= 1
        assert page.get_by_text("赵敏").count() == 1

        # 3. A questionnaire for citizens.
        page.goto(served.base + "/admin/questionnaires")
        page.fill("#qcode", "tax-public")
        page.fill("#qname", "办税满意度")
        page.select_option("#qrole", "public")
        page.fill("input[name='item-1-code']", "attitude")
        page.fill("input[name='item-1-text_zh']", "工作人员的服务态度")
        page.fill("input[name='item-1-text_en']", "Staff attitude")
        with page.expect_navigation():
            page.locator("form[action='/admin/questionnaires'] button[type=submit]").click()
        assert page.get_by_text("办税满意度").count() >= 1, page.content()[-1500:]
        served.shot(page, "03-questionnaire")

        # 4. A campaign, then open it.
        page.goto(served.base + "/admin/campaigns/new")
        page.fill("#code", "TAX26")
        page.fill("#name", "2026年办税服务评议")
        year = date.today().year
        page.fill("#period_start", f"{year}-01-01")
        page.fill("#period_end", f"{year}-12-31")
        page.select_option("#v-public", label="办税满意度 v1")
        with page.expect_navigation():
            page.locator("form[action='/admin/campaigns/new'] button[type=submit]").click()
        assert page.url.endswith("/admin/campaigns/TAX26"), page.content()[-1500:]
        with page.expect_navigation():
            page.get_by_role("button", name="开始评议").click()
        assert (
            "进行中" in page.locator("h1").inner_text()
            or page.get_by_role("button", name="结束评议").is_visible()
        )
        served.shot(page, "04-campaign-open")

        # 5. The QR sheets to print, and one window's code.
        with page.expect_download() as download:
            page.locator("a[href$='/sheets.pdf']").click()
        assert Path(download.value.path()).read_bytes().startswith(b"%PDF")
        qr = page.request.get(served.base + "/admin/campaigns/TAX26/qr/T01.png")
        assert qr.status == 200
        link = decode_qr(qr.body())
        assert link.startswith(served.base + "/r/")

        # 6. A citizen scans it on a phone and is unhappy.
        phone = browser.new_context(**PHONE)
        try:
            citizen = phone.new_page()
            citizen.goto(link)
            assert "税务服务厅" in citizen.locator("h1").inner_text()
            assert "赵敏" in citizen.content()  # the one person on duty at T01
            rate_every_question(citizen, "1")
            citizen.select_option("#reason", "attitude")
            citizen.fill("#reason_text", "态度生硬")
            submit(citizen)
            assert "感谢您的评价" in citizen.content()
            served.shot(citizen, "05-citizen-thanked")
        finally:
            phone.close()

        # 7. It arrives on the monitoring dashboard.
        page.goto(served.base + "/admin/campaigns/TAX26")
        monitor = page.locator("section", has_text="群众评价数")
        assert "群众评价数: 1" in " ".join(monitor.inner_text().split())
        assert "1 / 1" in monitor.inner_text()  # one case, still open
        dashboard = served.shot(page, "06-dashboard")
        if os.environ.get("PINGYI_UPDATE_DOCS"):
            shutil.copy(dashboard, ROOT / "docs" / "browser-agency-dashboard.png")

        # 8. Close the campaign; its bad-review case is waiting.
        with page.expect_navigation():
            page.get_by_role("button", name="结束评议").click()
        assert page.get_by_role("button", name="结束评议").count() == 0
        page.goto(served.base + "/admin/cases")
        row = page.locator("tr", has_text="税务服务厅").last
        assert "服务态度" in row.inner_text() or "态度" in row.inner_text()
        served.shot(page, "07-cases")
        with page.expect_navigation():
            row.locator("a").first.click()
        assert "态度生硬" in page.content()
        served.shot(page, "08-case")
    finally:
        context.close()
    ((state,),) = served.db.rows("SELECT state FROM campaign WHERE code = 'TAX26'")
    assert state == "closed"
    assert served.db.rows("SELECT count(*) FROM bad_review_case") == [(1,)]
