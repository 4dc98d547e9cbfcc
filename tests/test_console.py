"""The agency's side: cleaning runs with overrides, organisation import, bad-review
work orders, interviews and the audit chain."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from helpers import csrf_from, login, make_user, open_public_campaign

pytestmark = pytest.mark.anyio
PASSWORD = "correct horse battery"


async def _demo_closed() -> None:
    from pingyi.services import campaigns
    from pingyi.services.demo import load_demo

    await load_demo(admin_password=PASSWORD)
    await campaigns.move("2026Q4", "closed", "test")


async def test_cleaning_run_flags_the_demo_contamination_and_keeps_overrides(db: str) -> None:
    from pingyi.db.tables import Campaign, CleaningRun, Flag
    from pingyi.services.cleaning_run import override, run_cleaning

    await _demo_closed()
    first = await run_cleaning("2026Q4", "test")
    assert first["revision"] == 1
    assert first["flags"]["BURST"] >= 20 and first["flags"]["RECIPROCAL"] >= 2
    burst = await Flag.select().where(Flag.reason == "BURST").first()
    assert burst["ratee"].startswith("staff:") and burst["detail"]
    await override("2026Q4", burst["id"], "核实为团体预约，评价真实", "test")
    second = await run_cleaning("2026Q4", "test")
    assert second["revision"] == 2
    again = (
        await Flag.select()
        .where(
            (Flag.revision == 2)
            & (Flag.response_id == burst["response_id"])
            & (Flag.reason == "BURST")
        )
        .first()
    )
    assert again["overridden"] is True
    assert second["flags"]["BURST"] == first["flags"]["BURST"] - 1
    assert (await Campaign.select(Campaign.state).where(Campaign.code == "2026Q4").first())[
        "state"
    ] == "cleaned"
    run = await CleaningRun.select(CleaningRun.scores).output(load_json=True).first()
    assert all(not row["ratee"].startswith(("0", "1", "2")) for row in run["scores"])


async def test_cleaning_an_open_campaign_is_refused(db: str) -> None:
    from pingyi.services.campaigns import CampaignError
    from pingyi.services.cleaning_run import run_cleaning

    await open_public_campaign()
    with pytest.raises(CampaignError, match="only from closed"):
        await run_cleaning("C1", "test")


async def test_agency_reviews_flags_in_the_console(client: Any) -> None:
    from pingyi.services.cleaning_run import run_cleaning

    await _demo_closed()
    await run_cleaning("2026Q4", "test")
    await login(client, "admin", PASSWORD)
    page = await client.get("/admin/campaigns/2026Q4/flags?reason=BURST")
    assert page.status_code == 200 and "BURST" in page.text and "刷票" in page.text
    report = await client.get("/admin/campaigns/2026Q4/cleaning-report")
    assert report.status_code == 200 and "<script" not in report.text


async def test_the_agency_sees_what_cleaning_did_before_hr_does(client: Any) -> None:
    from pingyi.services.cleaning_run import run_cleaning

    await _demo_closed()
    summary = await run_cleaning("2026Q4", "test")
    public = next(e for e in summary["effect"] if e["role"] == "public")
    # the demo's ballot-stuffing burst is excluded: some public responses go unused
    assert public["responses_unused"] >= 20 and public["ratees"] > 0
    await login(client, "admin", PASSWORD)
    for page in (
        "/admin/campaigns/2026Q4/flags",
        "/admin/campaigns/2026Q4/scores?preview=1",
        "/admin/campaigns/2026Q4/cleaning-report",
    ):
        text = (await client.get(page)).text
        assert "清洗的影响" in text, page
        assert f"{public['responses_unused']} / {public['responses']}" in text, page


def test_clean_command_writes_three_files_and_refuses_bad_input(tmp_path: Path) -> None:
    good = tmp_path / "ratings.csv"
    columns = [
        "response_id",
        "role",
        "rater",
        "ratee",
        "item",
        "score",
        "submitted_at",
        "duration_s",
        "device",
        "ticket",
        "channel",
    ]
    with good.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(columns)
        for i in range(30):
            writer.writerow(
                [
                    f"r{i}",
                    "public",
                    "",
                    f"w{i % 3}",
                    "overall",
                    4 + i % 2,
                    f"2026-11-0{1 + i % 5}T10:{i:02d}:00",
                    30,
                    f"d{i}",
                    "",
                    "qr",
                ]
            )
    out = tmp_path / "out"
    # file mode needs no secret and writes nothing outside --out (no .pingyi/secret_key)
    workdir = tmp_path / "cwd"
    workdir.mkdir()
    bare_env = {k: v for k, v in os.environ.items() if not k.startswith("PINGYI_")}
    run = subprocess.run(
        [sys.executable, "-m", "pingyi.cli", "clean", str(good), "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=workdir,
        env=bare_env,
    )
    assert run.returncode == 0, run.stderr
    assert {p.name for p in out.iterdir()} == {"scores.csv", "flags.csv", "report.html"}
    assert list(workdir.iterdir()) == []
    assert {p.name for p in tmp_path.iterdir()} == {"ratings.csv", "out", "cwd"}
    bad = tmp_path / "bad.csv"
    bad.write_text(good.read_text().replace(",4,2026", ",9,2026", 1), encoding="utf-8")
    refused = subprocess.run(
        [sys.executable, "-m", "pingyi.cli", "clean", str(bad), "--out", str(tmp_path / "out2")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert refused.returncode == 1
    assert "score" in refused.stderr and "row" in refused.stderr
    assert not (tmp_path / "out2").exists()


async def test_org_import_reports_every_bad_row_and_imports_nothing(client: Any) -> None:
    from pingyi.db.tables import Staff, Unit
    from pingyi.services.org_import import template_csv

    await make_user("agency", "agency_admin", PASSWORD)
    await login(client, "agency", PASSWORD)
    token = csrf_from((await client.get("/admin/org")).text)
    bad = template_csv().decode("utf-8-sig") + "人员,,无名,,nowhere,,,,,\n"
    response = await client.post(
        "/admin/org/import",
        data={"_csrf_token": token},
        files={"file": ("org.csv", bad.encode(), "text/csv")},
    )
    assert response.status_code == 400
    assert "code is required" in response.text and "unknown unit code" in response.text
    assert await Unit.count() == 0 and await Staff.count() == 0
    good = template_csv()
    for _ in range(2):  # re-import updates, never duplicates
        ok = await client.post(
            "/admin/org/import",
            data={"_csrf_token": token},
            files={"file": ("org.csv", good, "text/csv")},
        )
        assert ok.status_code == 200, ok.text
    assert await Unit.count() == 1 and await Staff.count() == 2
    leader = await Staff.select().where(Staff.code == "A002").first()
    assert leader["is_leader"] is True and leader["post_category"] == "management"


async def test_bad_review_case_is_handled_by_the_unit(client: Any) -> None:
    from pingyi.db.tables import AuditEvent, BadReviewCase, CitizenContact
    from test_citizen import _page_for_window, form_fields

    campaign = await open_public_campaign()
    path, page = await _page_for_window(client, campaign)
    await client.post(
        path,
        data={
            **form_fields(page.text),
            "overall": "1",
            "item_attitude": "1",
            "reason": "attitude",
            "contact": "13900000000",
        },
    )
    case = await BadReviewCase.select().first()
    await make_user("lead1", "unit_leader", PASSWORD, unit_code="u1")
    await make_user("lead2", "unit_leader", PASSWORD, unit_code="u2")
    await login(client, "lead2", PASSWORD)
    assert (await client.get(f"/admin/cases/{case['id']}")).status_code == 404
    client.cookies.clear()
    await login(client, "lead1", PASSWORD)
    detail = await client.get(f"/admin/cases/{case['id']}")
    assert detail.status_code == 200 and "13900000000" not in detail.text
    token = csrf_from(detail.text)
    shown = await client.post(f"/admin/cases/{case['id']}/contact", data={"_csrf_token": token})
    assert "13900000000" in shown.text
    assert await AuditEvent.exists().where(AuditEvent.action == "case.contact_read")
    refused = await client.post(
        f"/admin/cases/{case['id']}/close", data={"_csrf_token": token, "verification": "justified"}
    )
    assert refused.status_code == 400 and "请至少写 4 个字。" in refused.text
    assert 'id="explanation" name="explanation" required aria-invalid="true"' in refused.text
    closed = await client.post(
        f"/admin/cases/{case['id']}/close",
        data={
            "_csrf_token": token,
            "verification": "justified",
            "explanation": "经核实态度生硬",
            "rectification": "已批评教育并培训",
            "feedback": "已当面致歉",
            "callback_result": "群众表示认可",
            "handling_rating": "3",
        },
    )
    assert closed.status_code in (302, 303)
    row = await BadReviewCase.select().first()
    assert row["state"] == "closed" and row["handling_rating"] == 3
    assert await CitizenContact.count() == 0  # deleted when the case closes


async def test_interview_is_tagged_with_the_interviewer(client: Any) -> None:
    from pingyi.db.tables import Response

    campaign = await open_public_campaign()
    user_id = await make_user("iv", "interviewer", PASSWORD)
    await login(client, "iv", PASSWORD)
    window = campaign["windows"]["u1-W1"]
    form = await client.get(f"/admin/interview/{campaign['campaign_id']}/{window}")
    assert form.status_code == 200
    saved = await client.post(
        f"/admin/interview/{campaign['campaign_id']}/{window}",
        data={
            "_csrf_token": csrf_from(form.text),
            "overall": "4",
            "item_attitude": "4",
            "channel": "interview",
            "submission": "abc123",
        },
    )
    assert saved.status_code == 200 and "已保存" in saved.text
    row = await Response.select().first()
    assert row["channel"] == "interview" and row["interviewer"] == user_id
    # the cleaning compares interviewers by a per-campaign pseudonym, never the login
    from pingyi.services.phone import interviewer_rater

    assert row["rater"] == await interviewer_rater(campaign["campaign_id"], user_id)
    assert row["rater"] and row["rater"] != str(user_id)


async def test_audit_chain_detects_an_edit_behind_the_application(db: str) -> None:
    from pingyi.db.tables import AuditEvent
    from pingyi.services import audit

    for i in range(3):
        await audit.record("tester", "thing.do", f"t:{i}", after={"n": i})
    assert (await audit.verify_chain()).ok
    await AuditEvent.update({AuditEvent.actor: "someone-else"}).where(AuditEvent.seq == 2)
    check = await audit.verify_chain()
    assert not check.ok and check.broken_at == 2


async def test_a_correction_is_a_new_record_and_cleaning_uses_it(db: str) -> None:
    from pingyi.db.tables import Answer, Response
    from pingyi.services import campaigns
    from pingyi.services.cleaning_run import run_cleaning
    from pingyi.services.corrections import CorrectionError, correct_response
    from pingyi.services.writer import NewResponse, write_batch

    campaign = await open_public_campaign()
    ratee = campaign["staff"]["u1-S1"]
    stored = await write_batch(
        [
            NewResponse(
                campaign_id=campaign["campaign_id"],
                role="public",
                channel="paper",
                answers=[("overall", 1, "")],
                ratee_id=ratee,
            )
            for _ in range(3)
        ]
    )
    first = stored[0].response_id
    new_id = await correct_response(first, {"overall": 5}, "录入错误，原卷为非常满意", "agency")
    assert new_id != first
    old = await Answer.select(Answer.score).where(Answer.response == stored[0].response_id)
    assert [a["score"] for a in old] == [1]  # the raw record is untouched
    new = await Response.select(Response.corrects).where(Response.id == new_id).first()
    assert str(new["corrects"]) == first
    with pytest.raises(CorrectionError):
        await correct_response(first, {"overall": 4}, "再改一次", "agency")
    await campaigns.move("C1", "closed", "test")
    summary = await run_cleaning("C1", "test")
    assert summary["responses"] == 3  # the replaced one no longer counts
