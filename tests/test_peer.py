"""Peer, superior and self ratings through one-time links, and the anonymity promise."""

from __future__ import annotations

import csv
import logging
import os
import re
import sys
from collections import Counter
from typing import Any

import anyio
import pytest

from helpers import open_public_campaign

pytestmark = pytest.mark.anyio


async def _links(code: str = "C1", only_unused: bool = True) -> dict[str, str]:
    from pingyi.services.peer import issue_invitations

    return {
        link.staff_code: link.url.removeprefix("http://127.0.0.1:8000")
        for link in await issue_invitations(code, only_unused=only_unused)
    }


def _form_token(html: str) -> str:
    return re.search(r'name="form" value="([^"]+)"', html).group(1)  # type: ignore[union-attr]


def _ratee_fields(html: str) -> dict[str, list[str]]:
    """role.ratee -> item codes, as the page offers them."""
    found: dict[str, list[str]] = {}
    for role, ratee, item in re.findall(r'name="(\w+)\.(\d+)\.(\w+)" value="5"', html):
        found.setdefault(f"{role}.{ratee}", []).append(item)
    return found


def _fill(fields: dict[str, list[str]], which: list[str], level: str = "4") -> dict[str, str]:
    return {f"{target}.{item}": level for target in which for item in fields[target]}


async def test_assignments_follow_the_rules(db: str) -> None:
    from pingyi.db.tables import Assignment

    campaign = await open_public_campaign(staff_per_unit=5)
    rows = await Assignment.select().where(Assignment.campaign == campaign["campaign_id"])
    staff = campaign["staff"]
    roles = Counter(r["role"] for r in rows)
    assert roles["self"] == len(staff)
    assert all(r["rater"] == r["ratee"] for r in rows if r["role"] == "self")
    assert all(r["rater"] != r["ratee"] for r in rows if r["role"] != "self")
    # One leader per unit rates the 4 others as superior; the 4 rate each other as peers.
    assert roles["superior"] == 2 * 4 and roles["peer"] == 2 * 4 * 3
    units = {code: code.split("-")[0] for code in staff}
    by_id = {v: units[k] for k, v in staff.items()}
    assert all(by_id[r["rater"]] == by_id[r["ratee"]] for r in rows)


async def test_balanced_sample_gives_every_ratee_m_raters(db: str) -> None:
    import random

    from pingyi.services.campaigns import peer_pairs

    group = list(range(100, 112))
    pairs = peer_pairs(group, 4, random.Random(7))
    assert Counter(b for _, b in pairs) == {g: 4 for g in group}
    assert Counter(a for a, _ in pairs) == {g: 4 for g in group}
    assert all(a != b for a, b in pairs) and len(set(pairs)) == len(pairs)


async def test_full_flow_save_resume_submit_retry(client: Any) -> None:
    from pingyi.db.tables import Invitation, InvitationDraft, Response

    campaign = await open_public_campaign()
    links = await _links()
    path = links["u1-S2"]
    page = await client.get(path)
    assert page.status_code == 200
    assert "员工u12" in page.text and "员工u11" in page.text and "员工u13" in page.text
    assert "员工u21" not in page.text  # other unit: not assigned
    fields = _ratee_fields(page.text)
    peers = [k for k in fields if k.startswith("peer.")]
    assert len(peers) == 2 and any(k.startswith("self.") for k in fields)
    # Save half-way and come back.
    partial = {**_fill(fields, peers[:1]), "form": _form_token(page.text), "submit": "save"}
    saved = await client.post(path, data=partial)
    assert saved.status_code == 200 and "已暂存" in saved.text
    assert await Response.count() == 0
    again = await client.get(path)
    first_field = next(iter(_fill(fields, peers[:1])))
    assert f'id="{first_field}-4" name="{first_field}" value="4" checked' in again.text
    # Submit one person.
    one = {**_fill(fields, peers[:1]), "form": _form_token(again.text), "submit": peers[0]}
    done = await client.post(path, data=one)
    assert done.status_code == 200 and "已提交 1 份" in done.text
    used = await Invitation.select(Invitation.used).where(
        Invitation.staff == campaign["staff"]["u1-S2"]
    )
    assert [row["used"] for row in used] == [True]
    # The same POST again stores nothing new.
    await client.post(path, data=one)
    assert await Response.count() == 1
    # Submit everyone else at once.
    rest = [k for k in fields if k != peers[0]]
    page = await client.get(path)
    everything = {**_fill(fields, rest, "3"), "form": _form_token(page.text), "submit": "all"}
    final = await client.post(path, data=everything)
    assert final.status_code == 200 and "全部评价" in final.text
    assert await Response.count() == len(fields)
    draft = await InvitationDraft.select(InvitationDraft.answers).output(load_json=True).first()
    assert draft["answers"] == {}
    roles = Counter(r["role"] for r in await Response.select(Response.role))
    assert roles == {"peer": 2, "self": 1}
    assert campaign["campaign_id"]


async def test_incomplete_person_is_explained_and_kept(client: Any) -> None:
    from pingyi.db.tables import Response

    await open_public_campaign()
    path = (await _links())["u1-S2"]
    page = await client.get(path)
    fields = _ratee_fields(page.text)
    target = next(k for k in fields if k.startswith("peer."))
    half = {
        f"{target}.{fields[target][0]}": "5",
        f"{target}.comment": "合作愉快",
        "form": _form_token(page.text),
        "submit": target,
    }
    response = await client.post(path, data=half)
    assert response.status_code == 400 and "此项为必答" in response.text
    assert "合作愉快" in response.text
    assert await Response.count() == 0


async def test_nobody_rates_outside_the_assignment(client: Any) -> None:
    from pingyi.db.tables import Response

    campaign = await open_public_campaign()
    path = (await _links())["u1-S2"]
    page = await client.get(path)
    outsider = campaign["staff"]["u2-S2"]
    forged = {
        f"peer.{outsider}.attitude": "5",
        f"peer.{outsider}.teamwork": "5",
        "form": _form_token(page.text),
        "submit": f"peer.{outsider}",
    }
    response = await client.post(path, data=forged)
    assert response.status_code == 400
    assert await Response.count() == 0


async def test_bad_revoked_and_closed_links(client: Any) -> None:
    from pingyi.services import campaigns, peer

    await open_public_campaign()
    old = (await _links())["u1-S2"]
    assert (await client.get(old)).status_code == 200
    assert (await client.get("/i/not-a-real-token")).status_code == 404
    new = (await _links())["u1-S2"]  # re-export replaces the unused link
    revoked = await client.get(old)
    assert revoked.status_code == 410 and "已停用" in revoked.text
    assert (await client.get(new)).status_code == 200
    await peer.revoke("C1", "u1-S2", "test")
    assert (await client.get(new)).status_code == 410
    newest = (await _links())["u1-S2"]
    await campaigns.move("C1", "closed", "test")
    closed = await client.get(newest)
    assert closed.status_code == 410 and "已结束" in closed.text


async def test_reminders_list_only_people_who_have_not_responded(client: Any) -> None:
    await open_public_campaign()
    path = (await _links())["u1-S2"]
    page = await client.get(path)
    fields = _ratee_fields(page.text)
    await client.post(
        path, data={**_fill(fields, list(fields)), "form": _form_token(page.text), "submit": "all"}
    )
    reminders = await _links(only_unused=True)
    assert "u1-S2" not in reminders and "u1-S3" in reminders


async def _table_dump() -> dict[str, list[dict[str, Any]]]:
    from pingyi.db.tables import ALL_TABLES

    return {t._meta.tablename: [dict(r) for r in await t.select()] for t in ALL_TABLES}


async def test_stored_peer_response_cannot_be_joined_to_the_rater(client: Any, caplog: Any) -> None:
    from pingyi.services.campaigns import pseudonym, rater_key

    caplog.set_level(logging.DEBUG)
    campaign = await open_public_campaign()
    rater_id = campaign["staff"]["u1-S2"]
    path = (await _links())["u1-S2"]
    token = path.removeprefix("/i/")
    page = await client.get(path)
    fields = _ratee_fields(page.text)
    peers = [k for k in fields if k.startswith("peer.")]
    await client.post(
        path, data={**_fill(fields, peers), "form": _form_token(page.text), "submit": "all"}
    )
    dump = await _table_dump()
    new = [r for r in dump["response"] if r["role"] == "peer"]
    assert len(new) == 2
    invitation = next(i for i in dump["invitation"] if i["staff"] == rater_id and not i["revoked"])
    forbidden = {
        rater_id,
        invitation["id"],
        invitation["token_hash"],
        token,
        str(rater_id),
        str(invitation["id"]),
    }
    for row in new:
        for column, value in row.items():
            if column in ("campaign", "questionnaire_version"):
                continue
            assert value not in forbidden or (column == "ratee" and value != rater_id), column
            if isinstance(value, str):
                assert token not in value and invitation["token_hash"] not in value, column
        assert row["submitted_at"] is None
        assert row["ratee"] != rater_id
        assert row["id"].version == 4
    # The pseudonym is reproducible only with this campaign's key.
    key = await rater_key(campaign["campaign_id"])
    assert {r["rater"] for r in new} == {pseudonym(key, rater_id)}
    assert pseudonym(os.urandom(32), rater_id) != new[0]["rater"]
    # Answers point only at their response; drafts hold nothing after submission.
    for answer in dump["answer"]:
        assert set(answer) == {"id", "response", "item", "score", "value"}
    # Random ids, not time-ordered ones (ids.py): their order says nothing of when.
    peer_answers = [a for a in dump["answer"] if a["response"] in {r["id"] for r in new}]
    assert peer_answers and all(a["id"].version == 4 for a in peer_answers)
    # No audit event or log line mentions the token or the link.
    assert all(token not in str(event) for event in dump["audit_event"])
    # (httpx, the test's own client, logs the URLs it requests; the service must not.)
    service_lines = [r.getMessage() for r in caplog.records if not r.name.startswith("httpx")]
    assert service_lines is not None and all(token not in line for line in service_lines)


async def test_pseudonyms_differ_between_campaigns(db: str) -> None:
    from datetime import date

    from pingyi.services import campaigns

    first = await open_public_campaign()
    second = await campaigns.create_campaign(
        campaigns.CampaignSpec(
            code="C2",
            name="下一期",
            period_start=date(2027, 1, 1),
            period_end=date(2027, 3, 31),
            unit_codes=["u1"],
        )
    )
    staff_id = first["staff"]["u1-S2"]
    one = campaigns.pseudonym(await campaigns.rater_key(first["campaign_id"]), staff_id)
    two = campaigns.pseudonym(await campaigns.rater_key(second), staff_id)
    assert one != two


async def test_cli_exports_invitation_links(db: str, tmp_path: Any) -> None:
    await open_public_campaign()
    out = tmp_path / "links.csv"
    result = await anyio.run_process(
        [sys.executable, "-m", "pingyi.cli", "invitations", "--campaign", "C1", "--out", str(out)],
        check=False,
    )
    assert result.returncode == 0, result.stderr.decode()
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # Excel opens the Chinese correctly
    rows = list(csv.reader(raw.decode("utf-8-sig").splitlines()))
    assert rows[0] == ["工号", "姓名", "单位", "评议链接"]
    assert len(rows) == 1 + 8
    assert all(re.fullmatch(r"http://127\.0\.0\.1:8000/i/[\w-]{32}", r[3]) for r in rows[1:])


async def test_agency_previews_and_adjusts_assignments_before_opening(client: Any) -> None:
    from datetime import date

    from helpers import csrf_from, login, make_user
    from pingyi.db.tables import Assignment
    from pingyi.services import campaigns

    await open_public_campaign()  # organisation, and a first campaign already open
    draft = await campaigns.create_campaign(
        campaigns.CampaignSpec(
            code="D1",
            name="草稿",
            period_start=date(2027, 1, 1),
            period_end=date(2027, 3, 31),
            unit_codes=["u1"],
        )
    )
    await make_user("agency", "agency_admin", "correct horse battery")
    await login(client, "agency", "correct horse battery")
    page = await client.get("/admin/campaigns/D1/assignments")
    token = csrf_from(page.text)
    built = await client.post(
        "/admin/campaigns/D1/assignments", data={"_csrf_token": token, "action": "build"}
    )
    assert built.status_code in (302, 303)
    preview = await client.get("/admin/campaigns/D1/assignments")
    assert "员工u12" in preview.text and "u2-S1" not in preview.text
    count = await Assignment.count().where(Assignment.campaign == draft)
    removed = await client.post(
        "/admin/campaigns/D1/assignments",
        data={
            "_csrf_token": token,
            "action": "remove",
            "rater": "u1-S2",
            "ratee": "u1-S3",
            "role": "peer",
        },
    )
    assert removed.status_code in (302, 303)
    assert await Assignment.count().where(Assignment.campaign == draft) == count - 1
    outside = await client.post(
        "/admin/campaigns/D1/assignments",
        data={
            "_csrf_token": token,
            "action": "add",
            "rater": "u1-S2",
            "ratee": "u2-S1",
            "role": "peer",
        },
    )
    assert outside.status_code == 400 and "same unit" in outside.text
    himself = await client.post(
        "/admin/campaigns/D1/assignments",
        data={
            "_csrf_token": token,
            "action": "add",
            "rater": "u1-S2",
            "ratee": "u1-S2",
            "role": "peer",
        },
    )
    assert himself.status_code == 400
    await campaigns.move("D1", "open", "test")
    assert await Assignment.count().where(Assignment.campaign == draft) == count - 1
    frozen = await client.post(
        "/admin/campaigns/D1/assignments",
        data={
            "_csrf_token": token,
            "action": "add",
            "rater": "u1-S2",
            "ratee": "u1-S3",
            "role": "peer",
        },
    )
    assert frozen.status_code == 400 and "before the campaign opens" in frozen.text
