"""The HR feed end to end: publication freezes the numbers, the API and the pages
serve only what was published and follow the k rule, final grades need a person,
and appeals run their state machine with a bit-for-bit recomputation."""

from __future__ import annotations

import io
import json
import math
import subprocess
import sys
from datetime import timedelta
from typing import Any

import pytest
from openpyxl import load_workbook

from helpers import csrf_from, login, make_user, open_public_campaign

pytestmark = pytest.mark.anyio
PASSWORD = "correct horse battery"
SECRET_PEER = 12.34  # the mean of a peer group under k: must never be shown


def _scores(shift: float = 0.0) -> list[dict[str, Any]]:
    rows = []
    for unit in ("u1", "u2"):
        for s in range(4):
            code = f"{unit}-S{s}"
            base = 70.0 + 5 * s + shift
            for role, n in (("public", 12), ("peer", 3), ("superior", 1), ("self", 1)):
                rows.append(
                    {
                        "ratee": f"staff:{code}",
                        "role": role,
                        "n_responses": n,
                        "n_used": n,
                        "score_100": SECRET_PEER if code == "u1-S2" and role == "peer" else base,
                        "satisfaction_rate": 0.9 if role == "public" else math.nan,
                        "reportable": not (code == "u1-S2" and role == "peer"),
                    }
                )
    return rows


async def _cleaned(revision: int = 1, shift: float = 0.0) -> dict[str, Any]:
    """Campaign C1, closed and cleaned with known scores (the engine has its own tests)."""
    from pingyi.db.tables import CleaningRun
    from pingyi.services import campaigns

    if revision == 1:
        data = await open_public_campaign()
        await campaigns.move("C1", "closed", "test")
    else:
        data = {"campaign_id": (await campaigns.get_campaign("C1"))["id"]}
    await CleaningRun.insert(
        CleaningRun(
            campaign=data["campaign_id"], revision=revision, scores=_scores(shift), summary={}
        )
    )
    await campaigns.move("C1", "cleaned", "test")
    return data


async def _hr_key() -> str:
    from pingyi.services.devices import add_api_key

    return await add_api_key("hr-system", ["hr"])


async def _as(client: Any, username: str, role: str, **kw: Any) -> str:
    await make_user(username, role, PASSWORD, **kw)
    client.cookies.clear()
    assert (await login(client, username, PASSWORD)).status_code in (302, 303)
    return csrf_from((await client.get("/admin")).text)


async def test_the_api_serves_only_published_frozen_numbers(client: Any) -> None:
    from pingyi.services import scores

    await _cleaned()
    key = await _hr_key()
    auth = {"authorization": f"Bearer {key}"}
    url = "/api/v1/campaigns/C1/scores"
    assert (await client.get(url, headers=auth)).status_code == 409  # not published yet
    assert (await client.get("/api/v1/campaigns/NOPE/scores", headers=auth)).status_code == 404

    token = await _as(client, "agency", "agency_admin")
    published = await client.post("/admin/campaigns/C1/publish", data={"_csrf_token": token})
    assert published.status_code in (302, 303)

    body = (await client.get(url, headers=auth)).json()
    assert body["revision"] == 1 and body["total_items"] == 8 and len(body["items"]) == 8
    item = {i["staff_code"]: i for i in body["items"]}
    # 0.3*75 + 0.2*75 + 0.3*75 + 0.2*75 for u1-S1
    assert item["u1-S1"]["total"] == 75.0 and item["u1-S1"]["recommended_grade"] == "合格"
    hidden = item["u1-S2"]
    assert hidden["peer_score"] is None and hidden["peer_n"] is None
    assert hidden["missing_roles"] == {"peer": "under_k"}
    assert str(SECRET_PEER) not in json.dumps(body)

    page = (await client.get(url + "?per_page=3&page=3", headers=auth)).json()
    assert len(page["items"]) == 2 and page["next_page"] is None
    assert (await client.get(url + "?per_page=3", headers=auth)).json()["next_page"] == 2
    assert (await client.get(url + "?per_page=0", headers=auth)).status_code == 422

    # a re-run changes nothing HR sees until it is published as a new revision
    await _cleaned(revision=2, shift=10)
    again = (await client.get(url, headers=auth)).json()
    assert again["revision"] == 1 and again["items"] == body["items"]
    await scores.publish("C1", "test")
    newest = (await client.get(url, headers=auth)).json()
    assert newest["revision"] == 2 and newest["snapshot_hash"] != body["snapshot_hash"]
    assert {i["staff_code"]: i for i in newest["items"]}["u1-S1"]["total"] == 85.0
    with pytest.raises(scores.ScoresError, match="already published"):
        await scores.publish("C1", "test")


async def test_only_hr_api_keys_read_the_feed(client: Any) -> None:
    from pingyi.db.tables import ApiKey
    from pingyi.services import scores
    from pingyi.services.devices import add_device

    await _cleaned()
    await scores.publish("C1", "test")
    url = "/api/v1/campaigns/C1/scores"
    assert (await client.get(url)).status_code == 401
    assert (await client.get(url, headers={"authorization": "Bearer nope"})).status_code == 401
    device_key = await add_device("u1-W1", "评价器")
    response = await client.get(url, headers={"authorization": f"Bearer {device_key}"})
    assert response.status_code == 401
    key = await _hr_key()
    await ApiKey.update({ApiKey.revoked: True}).where(ApiKey.name == "hr-system")
    assert (await client.get(url, headers={"authorization": f"Bearer {key}"})).status_code == 401


async def test_hr_pages_exports_and_final_grades(client: Any) -> None:
    from pingyi.db.tables import AuditEvent, GradeDecision

    await _cleaned()
    token = await _as(client, "hr", "hr")
    assert (await client.get("/admin/campaigns/C1/scores")).status_code == 409
    assert "C1" not in (await client.get("/admin/scores")).text  # unpublished: not listed

    agency = await _as(client, "agency", "agency_admin")
    preview = await client.get("/admin/campaigns/C1/scores?preview=1")
    assert preview.status_code == 200 and "预览" in preview.text
    await client.post("/admin/campaigns/C1/publish", data={"_csrf_token": agency})

    token = await _as(client, "hr2", "hr")
    page = await client.get("/admin/campaigns/C1/scores?preview=1")  # HR: no preview
    assert page.status_code == 200 and "预览" not in page.text and "<svg" in page.text
    assert str(SECRET_PEER) not in page.text

    xlsx = await client.get("/admin/campaigns/C1/scores/export?format=xlsx")
    assert xlsx.status_code == 200 and "C1-r1.xlsx" in xlsx.headers["content-disposition"]
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    values = [v for row in sheet.iter_rows(values_only=True) for v in row]
    assert "u1-S3" in values and SECRET_PEER not in values
    csv_body = (await client.get("/admin/campaigns/C1/scores/export?format=csv")).content
    assert csv_body.startswith("\ufeff".encode()) and str(SECRET_PEER).encode() not in csv_body
    feed = json.loads((await client.get("/admin/campaigns/C1/scores/export?format=json")).content)
    assert feed["revision"] == 1 and len(feed["items"]) == 8
    bad = await client.get("/admin/campaigns/C1/scores/export?format=exe")
    assert bad.status_code == 400

    # u1-S3: 85 → 良好 recommended; a different final grade needs a reason
    form = {"_csrf_token": token, "staff": "u1-S3", "final": "优秀", "note": ""}
    assert (await client.post("/admin/campaigns/C1/grades", data=form)).status_code == 400
    form["note"] = "年度重大专项表现突出，经考核委员会研究"
    assert (await client.post("/admin/campaigns/C1/grades", data=form)).status_code in (302, 303)
    form = {"_csrf_token": token, "staff": "u1-S3", "final": "卓越", "note": "x" * 10}
    assert (await client.post("/admin/campaigns/C1/grades", data=form)).status_code == 400
    decision = await GradeDecision.select().first()
    assert decision["recommended"] == "良好" and decision["final"] == "优秀"
    assert decision["approved_by"] == "hr2"
    assert await AuditEvent.exists().where(AuditEvent.action == "grade.decide")

    await _as(client, "somebody", "staff", staff_code="u1-S1")
    assert (await client.get("/admin/campaigns/C1/scores")).status_code == 403


async def test_staff_see_their_own_results_and_appeal(client: Any) -> None:
    from pingyi.db.tables import Appeal, CleaningRun, Publication
    from pingyi.services import appeals, scores

    data = await _cleaned()
    await scores.publish("C1", "test")
    token = await _as(client, "s1", "staff", staff_code="u1-S1")
    mine = await client.get("/me")
    assert mine.status_code == 200 and "75.00" in mine.text
    assert "u1-S2" not in mine.text and "员工u1" not in mine.text  # nobody else

    form = {"_csrf_token": token, "campaign": "C1", "reason": "短"}
    assert (await client.post("/me/appeals", data=form)).status_code == 400
    form["reason"] = "我认为三月份的差评系误评，已有核实记录。"
    assert (await client.post("/me/appeals", data=form)).status_code in (302, 303)
    assert (await client.post("/me/appeals", data=form)).status_code == 400  # one at a time
    appeal = await Appeal.select().first()
    assert appeal["state"] == "submitted" and appeal["revision"] == 1

    intact, same, row = await appeals.recompute(appeal["id"])
    _, published = await scores.published_feed("C1")
    assert intact and same and row == next(r for r in published if r.staff_code == "u1-S1")

    agency = await _as(client, "agency", "agency_admin")
    page = await client.get(f"/admin/appeals/{appeal['id']}")
    assert page.status_code == 200 and "快照未被改动" in page.text
    decide = f"/admin/appeals/{appeal['id']}/decide"
    uphold = {"_csrf_token": agency, "decision": "upheld", "explanation": "核实属实，撤销该差评"}
    assert (await client.post(decide, data=uphold)).status_code == 409  # no correction yet
    assert (
        await client.post(decide, data={**uphold, "decision": "rejected", "explanation": ""})
    ).status_code == 409
    await CleaningRun.insert(
        CleaningRun(campaign=data["campaign_id"], revision=2, scores=_scores(1.0), summary={})
    )
    from pingyi.services import campaigns

    await campaigns.move("C1", "cleaned", "test")
    assert (await client.post(decide, data=uphold)).status_code in (302, 303)
    assert (await Appeal.select().first())["state"] == "upheld"
    assert await Publication.count().where(Publication.campaign == data["campaign_id"]) == 2
    assert (await client.post(decide, data=uphold)).status_code == 409  # decided once

    await _as(client, "s1b", "staff", staff_code="u1-S1")
    mine = await client.get("/me")
    assert "已支持" in mine.text and "核实属实" in mine.text and "76.00" in mine.text


async def test_appeals_close_after_the_period_and_tampering_shows(db: str) -> None:
    from pingyi.db.tables import Appeal, Publication, Staff
    from pingyi.services import appeals, scores

    data = await _cleaned()
    await scores.publish("C1", "test")
    staff = await Staff.select(Staff.id).where(Staff.code == "u1-S1").first()
    publication = await Publication.select().first()
    late = publication["published_at"] + timedelta(days=31)
    with pytest.raises(appeals.AppealError, match="ended"):
        await appeals.file_appeal(
            staff["id"], "C1", "评价结果与实际不符，申请复核。", "s1", now=late
        )
    appeal_id = await appeals.file_appeal(staff["id"], "C1", "评价结果与实际不符，申请复核。", "s1")
    assert await Appeal.count() == 1
    document = json.loads(publication["snapshot"])
    for entry in document["inputs"]["scores"]:  # changed behind the application's back
        if entry["ratee"] == "staff:u1-S1":
            entry["score_100"] = 99.0
    await Publication.update({Publication.snapshot: json.dumps(document)}).where(
        Publication.campaign == data["campaign_id"]
    )
    intact, same, _ = await appeals.recompute(appeal_id)
    assert not intact and not same


async def test_policy_edits_are_versioned_and_validated(client: Any) -> None:
    from pingyi.db.tables import AuditEvent, Campaign

    await _cleaned()
    token = await _as(client, "agency", "agency_admin")
    form = {
        "_csrf_token": token,
        "version": "2027-1",
        "preset": "civil_servant",
        "threshold_0": "85",
        "threshold_1": "75",
        "threshold_2": "60",
        "excellent_quota": "50",
    }
    assert (await client.post("/admin/campaigns/C1/policy", data=form)).status_code in (302, 303)
    policy = (await Campaign.select(Campaign.policy).output(load_json=True).first())["policy"]
    assert policy["version"] == "2027-1" and policy["excellent_quota"] == 0.5
    assert await AuditEvent.exists().where(AuditEvent.action == "campaign.policy")
    page = await client.get("/admin/campaigns/C1/scores?preview=1")
    assert "称职" in page.text
    form["threshold_1"] = "95"
    assert (await client.post("/admin/campaigns/C1/policy", data=form)).status_code == 400


async def test_cli_publish_and_export(db: str, tmp_path: Any) -> None:
    await _cleaned()
    cli = [sys.executable, "-m", "pingyi.cli"]
    published = subprocess.run([*cli, "campaign", "publish", "C1"], capture_output=True, text=True)
    assert published.returncode == 0, published.stderr
    out = tmp_path / "c1.xlsx"
    export = subprocess.run(
        [*cli, "export", "--campaign", "C1", "--format", "xlsx", "--out", str(out)],
        capture_output=True,
        text=True,
    )
    assert export.returncode == 0, export.stderr
    sheet = load_workbook(out).active
    assert sheet.max_row == 9 and sheet.freeze_panes == "A2"
    again = subprocess.run([*cli, "campaign", "publish", "C1"], capture_output=True, text=True)
    assert again.returncode != 0 and "already published" in again.stderr


async def test_the_feed_is_documented_in_openapi(client: Any) -> None:
    schema = (await client.get("/api/docs/openapi.json")).json()
    operation = schema["paths"]["/api/v1/campaigns/{code}/scores"]["get"]
    assert "hr" in operation["tags"] and "200" in operation["responses"]
    assert {p["name"] for p in operation["parameters"]} >= {"code", "page", "per_page"}


async def test_a_staff_member_under_k_does_not_see_their_peer_mean(client: Any) -> None:
    from pingyi.services import scores

    await _cleaned()
    await scores.publish("C1", "test")
    await _as(client, "s2", "staff", staff_code="u1-S2")
    mine = await client.get("/me")
    assert mine.status_code == 200 and "评价人数不足" in mine.text
    assert str(SECRET_PEER) not in mine.text


async def test_below_standard_twice_in_a_series_warns(db: str) -> None:
    from datetime import date

    from pingyi.db.tables import Campaign, CleaningRun
    from pingyi.services import campaigns, scores

    await _cleaned(shift=-20)  # everyone 50-65: the lowest three below 60
    third_quarter = {
        Campaign.series: "q",
        Campaign.period_start: date(2026, 7, 1),
        Campaign.period_end: date(2026, 9, 30),
    }
    await Campaign.update(third_quarter).where(Campaign.code == "C1")
    await scores.publish("C1", "test")
    first = await campaigns.get_campaign("C1")
    second_id = await campaigns.create_campaign(
        campaigns.CampaignSpec(
            code="C2",
            name="第四季度",
            series="q",
            period_start=date(2026, 10, 1),
            period_end=date(2026, 12, 31),
            unit_codes=["u1", "u2"],
            public_version=first["public_version"],
            peer_version=first["peer_version"],
            superior_version=first["superior_version"],
            self_version=first["self_version"],
        )
    )
    for target in ("open", "closed", "cleaned"):
        await campaigns.move("C2", target, "test")
    recovered = [
        {**r, "score_100": r["score_100"] + 30} if r["ratee"] == "staff:u1-S1" else r
        for r in _scores(-20)
    ]
    await CleaningRun.insert(
        CleaningRun(campaign=second_id, revision=1, scores=recovered, summary={})
    )
    facts, rows = await scores.preview_feed("C2")
    assert facts["previous"]["campaign"] == "C1"
    row = {r.staff_code: r for r in rows}
    # u2-S1 stays at 55, below 60 twice running; u1-S1 recovered to 85
    assert row["u2-S1"].below_standard and row["u2-S1"].warning_consecutive
    assert not row["u1-S1"].below_standard and not row["u1-S1"].warning_consecutive
    assert set(facts["previous"]["below_standard"]) >= {"u1-S1", "u2-S1"}


async def test_published_rows_are_served_as_frozen(db: str) -> None:
    from pingyi.db.tables import Publication
    from pingyi.services import scores

    await _cleaned()
    await scores.publish("C1", "test")
    _, before = await scores.published_feed("C1")
    # a new policy, and inputs changed behind the application's back: the rows stay
    await scores.update_policy("C1", {"version": "v2", "thresholds": [70, 60, 50]}, "test")
    publication = await Publication.select().first()
    document = json.loads(publication["snapshot"])
    document["inputs"]["scores"] = []
    await Publication.update({Publication.snapshot: json.dumps(document)}).where(
        Publication.id == publication["id"]
    )
    _, after = await scores.published_feed("C1")
    assert after == before and after[0].total is not None
    with pytest.raises(scores.ScoresError, match="new version"):
        await scores.update_policy("C1", {"thresholds": [75, 60, 50]}, "test")


async def test_a_publication_is_parsed_once_and_decisions_still_show(db: str) -> None:
    from pingyi.services import scores

    await _cleaned()
    await scores.publish("C1", "test")
    facts, first = await scores.published_feed("C1")
    facts["policy"]["version"] = "changed by a caller"
    await scores.decide_grade("C1", "u1-S1", "合格", "", "hr")
    facts, second = await scores.published_feed("C1")
    assert facts["policy"]["version"] != "changed by a caller"
    decided = {r.staff_code: r for r in second}["u1-S1"]
    assert (decided.final_grade, decided.final_approved_by) == ("合格", "hr")
    others = [(a, b) for a, b in zip(first, second, strict=True) if a.staff_code != "u1-S1"]
    assert others and all(a is b for a, b in others)  # parsed once, served again
    await _cleaned(revision=2, shift=1)
    await scores.publish("C1", "test")
    facts, third = await scores.published_feed("C1")
    assert facts["revision"] == 2
    assert {r.staff_code: r for r in third}["u1-S1"].final_grade == ""


async def test_publishing_checks_what_was_previewed_and_the_cleaning_policy(db: str) -> None:
    from pingyi.db.tables import CleaningRun
    from pingyi.services import scores

    await _cleaned()
    with pytest.raises(scores.ScoresError, match="cleaning ran again"):
        await scores.publish("C1", "test", expected_revision=0)
    await CleaningRun.update(
        {CleaningRun.summary: {"policy_used": {"satisfied_min": 4, "superior_k": 1}}}
    ).where(CleaningRun.revision == 1)
    await scores.update_policy("C1", {"version": "v2", "satisfied_min": 3}, "test")
    with pytest.raises(scores.ScoresError, match="run the cleaning again"):
        await scores.publish("C1", "test", expected_revision=1)


async def test_final_grades_belong_to_their_revision(client: Any) -> None:
    from pingyi.services import scores

    await _cleaned()
    await scores.publish("C1", "test")
    await scores.decide_grade("C1", "u1-S1", "合格", "", "hr")
    key = await _hr_key()
    auth = {"authorization": f"Bearer {key}"}
    body = (await client.get("/api/v1/campaigns/C1/scores", headers=auth)).json()
    item = {i["staff_code"]: i for i in body["items"]}["u1-S1"]
    assert item["final_grade"] == "合格" and item["final_approved_by"] == "hr"
    await _cleaned(revision=2, shift=1)
    await scores.publish("C1", "test")
    body = (await client.get("/api/v1/campaigns/C1/scores", headers=auth)).json()
    assert {i["staff_code"]: i for i in body["items"]}["u1-S1"]["final_grade"] == ""


async def test_upholding_uses_a_correction_already_published(db: str) -> None:
    from pingyi.db.tables import Appeal, Staff
    from pingyi.services import appeals, scores

    await _cleaned()
    await scores.publish("C1", "test")
    staff = await Staff.select(Staff.id).where(Staff.code == "u1-S1").first()
    reason = "评价结果与实际不符，申请复核。"
    appeal_id = await appeals.file_appeal(staff["id"], "C1", reason, "s1")
    await _cleaned(revision=2, shift=1)
    await scores.publish("C1", "agency")  # the correction, published by hand
    result = await appeals.decide(appeal_id, "upheld", "已更正并发布", "agency")
    assert result == {"state": "upheld", "new_revision": 2}
    # the corrected numbers may be questioned in turn, but each revision only once
    second = await appeals.file_appeal(staff["id"], "C1", reason, "s1")
    await appeals.decide(second, "rejected", "核实无误", "agency")
    with pytest.raises(appeals.AppealError, match="reviewed once"):
        await appeals.file_appeal(staff["id"], "C1", reason, "s1")
    assert await Appeal.count() == 2


async def test_hostile_policy_and_export_inputs_get_clear_errors(client: Any) -> None:
    from pingyi.db.tables import Campaign
    from pingyi.services import scores

    await _cleaned()
    token = await _as(client, "agency", "agency_admin")
    base = {"_csrf_token": token, "version": "v9", "threshold_0": "90", "threshold_1": "80"}
    for bad in (
        {"threshold_2": "nan"},
        {"threshold_2": "60", "appeal_days": "3000000"},
        {"threshold_2": "60", "min_public_ratings": "9" * 30},
        {"threshold_2": "60", "level_scores": "100,inf,50,25,0"},
        {"threshold_2": "1e999"},
    ):
        response = await client.post("/admin/campaigns/C1/policy", data={**base, **bad})
        assert response.status_code == 400, (bad, response.status_code)
    huge = await client.post(
        "/admin/appeals/99999999999999999999/decide", data={"_csrf_token": token}
    )
    assert huge.status_code == 400
    assert (await client.get("/admin/campaigns/C1/report?revision=²")).status_code < 500

    # a campaign code no header or sheet title can carry as it is
    await Campaign.update({Campaign.code: "评议[1]"}).where(Campaign.code == "C1")
    await scores.publish("评议[1]", "test")
    for kind in ("csv", "xlsx", "json"):
        response = await client.get(f"/admin/campaigns/评议[1]/scores/export?format={kind}")
        assert response.status_code == 200, kind
        assert "filename*=UTF-8''%E8%AF%84" in response.headers["content-disposition"]
    sheet = load_workbook(
        io.BytesIO((await client.get("/admin/campaigns/评议[1]/scores/export?format=xlsx")).content)
    ).active
    assert sheet.title == "评议_1_"
    for download in ("sheets.pdf", "report?download=1", "indicators.csv"):
        response = await client.get(f"/admin/campaigns/评议[1]/{download}")
        assert response.status_code == 200, download
        assert "filename*=UTF-8''" in response.headers["content-disposition"]


async def test_a_leader_sees_their_own_results_when_linked_to_their_record(client: Any) -> None:
    from pingyi.services import scores

    await _cleaned()
    await scores.publish("C1", "test")
    await _as(client, "lead0", "unit_leader", staff_code="u1-S0", unit_code="u1")
    mine = await client.get("/me")
    assert mine.status_code == 200 and "测试评议" in mine.text
    await _as(client, "lead_plain", "unit_leader", unit_code="u1")
    page = await client.get("/me")
    assert page.status_code == 200 and "未关联工作人员记录" in page.text


async def test_staff_who_left_the_units_keep_their_rated_results(db: str) -> None:
    from pingyi.db.tables import Staff
    from pingyi.services import scores
    from pingyi.services.org import upsert_organization, upsert_unit

    await _cleaned()
    org = await upsert_organization("org", "测试政务中心")
    elsewhere = await upsert_unit(org, "u9", "别处", "Elsewhere", opening_hours="")
    await Staff.update({Staff.unit: elsewhere}).where(Staff.code == "u1-S3")
    await Staff.update({Staff.active: False}).where(Staff.code == "u2-S3")
    _, rows = await scores.preview_feed("C1")
    assert {r.staff_code for r in rows} >= {"u1-S3", "u2-S3"} and len(rows) == 8


async def test_the_database_holds_one_publication_per_revision(db: str) -> None:
    from pingyi.db.tables import Publication
    from pingyi.services import scores

    data = await _cleaned()
    await scores.publish("C1", "test")
    twin = Publication(
        campaign=data["campaign_id"], revision=1, published_by="x", snapshot="{}", snapshot_hash="0"
    )
    with pytest.raises(Exception, match=r"(?i)unique"):
        await Publication.insert(twin)
