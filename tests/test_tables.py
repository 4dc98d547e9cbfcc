"""The console's large tables at the size of a real organisation (5,000 staff in 200
units): the server filters, sorts and pages them, refuses a parameter it does not
know with a readable 400, and a download holds exactly what the filtered table shows
across all its pages, in the same order."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime
from typing import Any

import pytest
from openpyxl import load_workbook

import bigorg
from helpers import csrf_from, login, make_user

pytestmark = pytest.mark.anyio
PASSWORD = "correct horse battery"


def total_of(html: str) -> int:
    """The "of N" figure of the table's row count line."""
    match = re.search(r'id="row-count">([^<]*)</span>', html)
    assert match, "no row count on the page"
    return int(re.findall(r"\d+", match.group(1))[-1])


async def _signed_in(client: Any, username: str, role: str, **kw: Any) -> None:
    await make_user(username, role, PASSWORD, **kw)
    client.cookies.clear()
    assert (await login(client, username, PASSWORD)).status_code in (302, 303)


def csv_rows(body: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))[1:]


async def every_page(client: Any, path: str, params: str, cell: re.Pattern[str]) -> list[str]:
    """The first cells of every row of every page, following the page numbers."""
    first = await client.get(f"{path}?{params}&size=200")
    assert first.status_code == 200, first.text[:500]
    total = total_of(first.text)
    found = cell.findall(first.text)
    page = 2
    while len(found) < total:
        response = await client.get(f"{path}?{params}&size=200&page={page}")
        assert response.status_code == 200
        more = cell.findall(response.text)
        assert more, f"page {page} is empty before {total} rows"
        found += more
        page += 1
    assert len(found) == total
    return found


STAFF_CELL = re.compile(r"<tr><td>(U\d{3}-\d{2})</td>")


async def test_the_staff_table_filters_sorts_pages_and_downloads_what_it_shows(
    client: Any,
) -> None:
    from pingyi.db.tables import Staff

    await bigorg.build()
    await _signed_in(client, "agency", "agency_admin")
    everyone = await Staff.select(Staff.code, Staff.name, Staff.post_category, Staff.active)

    page = await client.get("/admin/org/staff")
    assert page.status_code == 200
    assert total_of(page.text) == 5000 and len(STAFF_CELL.findall(page.text)) == 50
    # the organisation page no longer lists 5,000 people; it links to the table
    org = (await client.get("/admin/org")).text
    assert "/admin/org/staff" in org and "U000-03" not in org

    one_unit = await client.get("/admin/org/staff?unit=U007")
    codes = STAFF_CELL.findall(one_unit.text)
    assert total_of(one_unit.text) == 25 and all(c.startswith("U007-") for c in codes)

    retired_managers = await client.get("/admin/org/staff?category=management&active=no&size=200")
    expected = {
        s["code"] for s in everyone if s["post_category"] == "management" and not s["active"]
    }
    assert set(STAFF_CELL.findall(retired_managers.text)) == expected
    assert total_of(retired_managers.text) == len(expected) > 100

    ouyang = await client.get("/admin/org/staff?q=欧阳&size=200")
    assert total_of(ouyang.text) == sum("欧阳" in s["name"] for s in everyone) > 0
    by_code = await client.get("/admin/org/staff?q=u012-1")  # case-insensitive
    assert set(STAFF_CELL.findall(by_code.text)) == {f"U012-1{k}" for k in range(10)}

    # every page of a filtered, sorted view, against its download, row for row
    params = "category=law_enforcement&sort=name&dir=desc"
    shown = await every_page(client, "/admin/org/staff", params, STAFF_CELL)
    assert len(shown) == sum(s["post_category"] == "law_enforcement" for s in everyone)
    download = await client.get(f"/admin/org/staff/export?{params}&format=csv")
    assert download.status_code == 200 and "attachment" in download.headers["content-disposition"]
    assert [r[0] for r in csv_rows(download.content)] == shown
    names = {s["code"]: s["name"] for s in everyone}
    assert [r[1] for r in csv_rows(download.content)] == [names[c] for c in shown]
    book = load_workbook(
        io.BytesIO((await client.get(f"/admin/org/staff/export?{params}&format=xlsx")).content)
    )
    sheet = book.active
    assert sheet is not None
    assert [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)] == shown

    # the header links sort, and flip the direction of the column sorted by
    assert 'href="?sort=name&amp;dir=asc"' in page.text
    sorted_by_name = (await client.get("/admin/org/staff?sort=name")).text
    assert 'aria-sort="ascending"' in sorted_by_name
    assert 'href="?sort=name&amp;dir=desc"' in sorted_by_name


@pytest.mark.parametrize(
    ("query", "words"),
    [
        ("sort=salary", ["salary", "code, name, unit, category"]),
        ("dir=up", ["up"]),
        ("size=7", ["7", "25, 50, 100, 200"]),
        ("page=0", ["page"]),
        ("page=abc", ["page", "abc"]),
        ("page=99999999999", ["page"]),
        ("category=pilot", ["category", "pilot"]),
        ("active=maybe", ["active", "maybe"]),
    ],
)
async def test_a_parameter_the_table_does_not_take_is_a_readable_400(
    client: Any, query: str, words: list[str]
) -> None:
    await _signed_in(client, "agency", "agency_admin")
    for path in ("/admin/org/staff", "/admin/org/staff/export"):
        response = await client.get(f"{path}?{query}")
        assert response.status_code == 400, (path, query)
        for word in words:
            assert word in response.text, (path, query, word)


async def test_a_page_past_the_end_shows_the_last_page_and_wildcards_are_literal(
    client: Any,
) -> None:
    await bigorg.build()
    await _signed_in(client, "agency", "agency_admin")
    last = await client.get("/admin/org/staff?page=400&size=200")
    assert last.status_code == 200
    assert STAFF_CELL.findall(last.text)[-1] == "U199-24"
    assert 'aria-current="page">25<' in last.text
    for wildcard in ("%", "_", "\\"):
        none = await client.get("/admin/org/staff", params={"q": wildcard})
        assert total_of(none.text) == 0, wildcard
    bad = await client.get("/admin/org/staff/export?format=pdf")
    assert bad.status_code == 400 and "pdf" in bad.text


CASE_CELL = re.compile(r'<a href="/admin/cases/(\d+)">')


async def test_the_cases_table_filters_on_the_server_and_a_leader_sees_only_their_unit(
    client: Any,
) -> None:
    from pingyi.services.cases import is_overdue

    org = await bigorg.build()
    feed = await bigorg.publish_feed()
    cases = await bigorg.add_cases(feed["campaign_id"], org["windows"], org["units"])
    await _signed_in(client, "agency", "agency_admin")
    now = datetime.now(UTC)

    overdue = await client.get("/admin/cases?state=overdue&size=200")
    expected = {c["id"] for c in cases if is_overdue(c, now)}
    assert total_of(overdue.text) == len(expected) == 480
    assert set(CASE_CELL.findall(overdue.text)) <= {str(i) for i in expected}

    narrow = await client.get("/admin/cases?unit=U005&reason=attitude&state=open")
    expected_narrow = {
        str(c["id"])
        for c in cases
        if c["unit_code"] == "U005" and c["reason_category"] == "attitude" and c["state"] == "open"
    }
    assert set(CASE_CELL.findall(narrow.text)) == expected_narrow

    literal = await client.get("/admin/cases", params={"q": "100%_"})
    assert total_of(literal.text) == sum("100%_" in c["reason_text"] for c in cases) == 13
    by_number = await client.get(f"/admin/cases?q=%23{cases[42]['id']}")
    assert str(cases[42]["id"]) in CASE_CELL.findall(by_number.text)

    params = "state=open&sort=due"
    shown = await every_page(client, "/admin/cases", params, CASE_CELL)
    assert len(shown) == sum(c["state"] == "open" for c in cases)
    book = load_workbook(
        io.BytesIO((await client.get(f"/admin/cases/export?{params}&format=xlsx")).content)
    )
    sheet = book.active
    assert sheet is not None
    assert [str(r[0]) for r in sheet.iter_rows(min_row=2, values_only=True)] == shown

    # a unit leader: their unit only, whatever the filter asks for
    await _signed_in(client, "leader3", "unit_leader", unit_code="U003")
    mine = await client.get("/admin/cases?size=200")
    assert set(CASE_CELL.findall(mine.text)) == {
        str(c["id"]) for c in cases if c["unit_code"] == "U003"
    }
    assert total_of((await client.get("/admin/cases?unit=U004")).text) == 0
    exported = csv_rows((await client.get("/admin/cases/export")).content)
    assert exported and {r[1] for r in exported} == {"第4区市场监督管理局登记注册科"}


FLAG_ROW = re.compile(
    r"<tr><td>(\w+)</td><td>(\w+)</td><td class=\"num\">([\d.]+)</td><td>([^<]+)</td>"
)


async def test_the_flags_table_filters_sorts_and_downloads_what_it_shows(client: Any) -> None:
    from pingyi.db.tables import Flag

    org = await bigorg.build()
    feed = await bigorg.publish_feed()
    del org
    await bigorg.add_flags(feed["campaign_id"])
    await _signed_in(client, "agency", "agency_admin")
    path = "/admin/campaigns/BIG/flags"
    expected = await Flag.count().where(
        (Flag.reason == "BURST") & Flag.overridden.eq(False) & (Flag.revision == 2)
    )
    params = "reason=BURST&state=open&sort=weight&dir=desc"
    first = await client.get(f"{path}?{params}&size=200")
    assert total_of(first.text) == expected > 200
    rows = FLAG_ROW.findall(first.text)
    assert {r[0] for r in rows} == {"BURST"}
    weights = [float(r[2]) for r in rows]
    assert weights == sorted(weights, reverse=True)
    shown = await every_page(client, path, params, re.compile(r"<td>(staff:U\d{3}-\d{2})</td>"))
    download = csv_rows((await client.get(f"{path}/export?{params}")).content)
    assert [r[3] for r in download] == shown
    assert {r[0] for r in download} == {"BURST"} and all(r[6] == "否" for r in download)

    # overriding a flag returns to the same filtered, sorted page
    flag_id = re.findall(r'/flags/(\d+)/override"', first.text)[0]
    overridden = await client.post(
        f"{path}/{flag_id}/override",
        data={"_csrf_token": csrf_from(first.text), "note": "复核属实", "back": f"?{params}"},
    )
    assert overridden.headers["location"] == f"{path}?{params}"
    assert total_of((await client.get(f"{path}?{params}")).text) == expected - 1

    pseudonym = await client.get(f"{path}?q=R00FF")  # a rater, case-insensitive
    assert total_of(pseudonym.text) == await Flag.count().where(Flag.rater == "r00ff") > 0
    assert (await client.get(f"{path}?reason=NOPE")).status_code == 400


SCORE_ROW = re.compile(r'<td>(U\d{3}-\d{2})</td><td class="name">')


async def test_hr_filters_5000_published_scores_and_downloads_exactly_them(client: Any) -> None:
    org = await bigorg.build()
    del org
    feed = await bigorg.publish_feed()
    rows = {r["staff_code"]: r for r in feed["rows"]}
    await _signed_in(client, "hr", "hr")
    path = "/admin/campaigns/BIG/scores"

    page = await client.get(path)
    assert page.status_code == 200 and total_of(page.text) == 5000
    assert len(SCORE_ROW.findall(page.text)) == 50

    params = "unit=U010&sort=total&dir=desc"
    unit = await client.get(f"{path}?{params}")
    codes = SCORE_ROW.findall(unit.text)
    assert len(codes) == 25 and all(c.startswith("U010-") for c in codes)
    totals = [rows[c]["total"] for c in codes]
    assert totals == sorted(totals, reverse=True)
    download = csv_rows((await client.get(f"{path}/export?{params}&format=csv")).content)
    assert [r[0] for r in download] == codes

    grade = rows[codes[0]]["recommended_grade"]
    graded = await client.get(f"{path}?grade={grade}&size=200")
    assert total_of(graded.text) == sum(r["recommended_grade"] == grade for r in rows.values())
    assert (await client.get(f"{path}?grade=特等")).status_code == 400

    # deciding a grade moves the person from "not yet decided" to "decided"
    token = csrf_from(page.text)
    decided = await client.post(
        "/admin/campaigns/BIG/grades",
        data={
            "_csrf_token": token,
            "staff": codes[0],
            "final": grade,
            "note": "",
            "back": f"?{params}",
        },
    )
    # back to the view the grade was decided in; never anywhere else
    assert decided.headers["location"] == f"{path}?{params}"
    again = await client.post(
        "/admin/campaigns/BIG/grades",
        data={"_csrf_token": token, "staff": codes[0], "final": grade, "back": "//evil.example"},
    )
    assert again.headers["location"] == path
    assert total_of((await client.get(f"{path}?final=pending")).text) == 4999
    done = await client.get(f"{path}?final=decided")
    assert SCORE_ROW.findall(done.text) == [codes[0]]
    by_name = await client.get(path, params={"q": rows[codes[1]]["staff_name"], "size": "200"})
    assert codes[1] in SCORE_ROW.findall(by_name.text)
