"""Retention (issue 13 item 12): `pingyi purge` removes personal data whose period has
ended, each purge audited; published results, their hashes and the appeals'
recomputation still verify afterwards, and no fingerprint can be recomputed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from helpers import open_public_campaign
from test_citizen import _page_for_window, form_fields
from test_peer import _fill, _form_token, _links, _ratee_fields
from test_scores import _scores

pytestmark = pytest.mark.anyio

UA = "Mozilla/5.0 (retention test)"
LATER = timedelta(days=45)  # past the default 30-day appeal period


def _cli(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pingyi.cli", *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={**os.environ, **env},
    )


async def _rate_as_citizens(client: Any, campaign: dict[str, Any]) -> None:
    """Two ratings through the QR form: one with a comment and a free-text answer, one
    bad review with a call-back contact."""
    for data in (
        {"overall": "5", "item_attitude": "5", "item_remarks": "窗口服务很好", "comment": "谢谢"},
        {
            "overall": "1",
            "item_attitude": "1",
            "reason": "attitude",
            "reason_text": "态度差",
            "contact": "13800000000",
        },
    ):
        path, page = await _page_for_window(client, campaign)
        done = await client.post(
            path, data={**form_fields(page.text), **data}, headers={"user-agent": UA}
        )
        assert done.status_code == 200 and "感谢" in done.text, done.text[:500]


async def _rate_as_peers(client: Any) -> None:
    path = (await _links())["u1-S2"]
    page = await client.get(path)
    fields = _ratee_fields(page.text)
    form = {**_fill(fields, list(fields)), "form": _form_token(page.text), "submit": "all"}
    assert (await client.post(path, data=form)).status_code == 200


async def _back_in_time(campaign_id: int, by: timedelta) -> None:
    """Everything that happened so far happened `by` earlier (a test's way to let the
    retention periods pass): rating times, their fingerprint keys' days, publication."""
    from pingyi.db.tables import DailyKey, Publication, Response

    for row in await Response.select(Response.id, Response.submitted_at).where(
        Response.submitted_at.is_not_null()
    ):
        await Response.update({Response.submitted_at: row["submitted_at"] - by}).where(
            Response.id == row["id"]
        )
    for key in await DailyKey.select():
        await DailyKey.update({DailyKey.day: key["day"] - by}).where(DailyKey.id == key["id"])
    for publication in await Publication.select(Publication.id, Publication.published_at).where(
        Publication.campaign == campaign_id
    ):
        await Publication.update(
            {Publication.published_at: publication["published_at"] - by}
        ).where(Publication.id == publication["id"])


async def test_purge_removes_personal_data_and_published_results_still_verify(
    client: Any,
) -> None:
    from pingyi.db.tables import (
        Answer,
        AuditEvent,
        BadReviewCase,
        CampaignKey,
        CitizenContact,
        CleaningRun,
        DailyKey,
        Publication,
        Response,
    )
    from pingyi.scoring import compute_feed, snapshot_hash
    from pingyi.security import hmac_hex
    from pingyi.services import appeals, campaigns, scores
    from pingyi.services.devices import add_api_key
    from pingyi.services.fingerprint import fingerprint, forget_keys, network_of

    forget_keys()  # a key an earlier test on this worker left in memory
    campaign = await open_public_campaign()
    await _rate_as_citizens(client, campaign)
    await _rate_as_peers(client)
    public = await Response.select().where(Response.role == "public")
    assert len(public) == 2 and all(r["device"] for r in public)
    ballots = await Response.count().where(Response.role != "public")
    assert ballots > 0
    # Today the fingerprint can be recomputed from the day's key: linkable.
    key = await DailyKey.select().first()
    recomputed = hmac_hex(
        bytes.fromhex(key["key_hex"]), f"{network_of('203.0.113.7')}|{UA}", length=24
    )
    assert recomputed == public[0]["device"]

    # Closed, cleaned (known scores: the engine has its own tests), published, and an
    # appeal rejected within the appeal period.
    await campaigns.move("C1", "closed", "test")
    await CleaningRun.insert(
        CleaningRun(campaign=campaign["campaign_id"], revision=1, scores=_scores(), summary={})
    )
    await campaigns.move("C1", "cleaned", "test")
    published = await scores.publish("C1", "test")
    appeal = await appeals.file_appeal(
        campaign["staff"]["u1-S1"], "C1", "评价结果与实际不符，申请复核。", "s1"
    )
    await appeals.decide(appeal, "rejected", "复核后维持原结果。", "agency")
    hr = {"authorization": f"Bearer {await add_api_key('hr', ['hr'])}"}
    # A contact an earlier version left behind on a case closed long ago.
    await BadReviewCase.update(
        {BadReviewCase.state: "closed", BadReviewCase.closed_at: datetime.now(UTC) - LATER}
    ).where(BadReviewCase.campaign == campaign["campaign_id"])
    assert await CitizenContact.count() == 1

    # Within the appeal period and the comment period, ballots and comments stay.
    early = _cli("purge", "--dry-run")
    assert early.returncode == 0, early.stderr
    assert "ballots" not in early.stdout and "comments" not in early.stdout

    await _back_in_time(campaign["campaign_id"], LATER)
    feed_before = (await client.get("/api/v1/campaigns/C1/scores", headers=hr)).json()
    assert feed_before["total_items"] == 8 and feed_before["snapshot_hash"]
    dry = _cli("purge", "--dry-run", PINGYI_RETAIN_COMMENT_DAYS="30")
    assert dry.returncode == 0, dry.stderr
    for data_class in ("fingerprint_keys", "contacts", "comments", "ballots"):
        assert f"would purge {data_class}" in dry.stdout, dry.stdout
    # A dry run changes nothing.
    assert await DailyKey.count() == 1 and await CitizenContact.count() == 1
    assert await Response.count().where(Response.role != "public") == ballots

    done = _cli("purge", PINGYI_RETAIN_COMMENT_DAYS="30")
    assert done.returncode == 0, done.stderr
    assert "purged ballots" in done.stdout and "purged fingerprint_keys" in done.stdout

    # No fingerprint can be recomputed: the day's key is gone.
    assert await DailyKey.count() == 0
    # Contacts, free text, raw ballots and the rater key are gone; public ratings stay.
    assert await CitizenContact.count() == 0
    assert await Response.count().where(Response.role != "public") == 0
    assert await Response.count().where(Response.role == "public") == 2
    assert await Response.count().where(Response.comment != "") == 0
    assert await Answer.count().where(Answer.item == "remarks") == 1
    assert await Answer.count().where((Answer.item == "remarks") & (Answer.value != "")) == 0
    assert await Answer.count().where(Answer.item == "overall") == 2
    assert await BadReviewCase.count().where(BadReviewCase.reason_text != "") == 0
    assert await CampaignKey.count() == 0

    # Every published result and its hash still verify, and so does the appeal's
    # bit-for-bit recomputation; HR reads exactly the same feed.
    publication = await Publication.select().first()
    document = json.loads(publication["snapshot"])
    assert snapshot_hash(document) == publication["snapshot_hash"] == published["snapshot_hash"]
    assert [r.to_json() for r in compute_feed(document["inputs"])] == document["rows"]
    intact, same, row = await appeals.recompute(appeal)
    assert intact and same and row is not None
    feed_after = (await client.get("/api/v1/campaigns/C1/scores", headers=hr)).json()
    assert feed_after == feed_before

    # Each purge is audited, and the audit chain verifies.
    actions = {r["action"] for r in await AuditEvent.select(AuditEvent.action)}
    assert {
        "purge.fingerprint_keys",
        "purge.contacts",
        "purge.comments",
        "purge.ballots",
        "purge.run",
    } <= actions
    verify = _cli("audit", "verify")
    assert verify.returncode == 0 and "intact" in verify.stdout, verify.stderr
    # The cleaning cannot run again on what is left.
    again = _cli("campaign", "clean", "C1")
    assert again.returncode != 0 and "purged" in again.stderr
    # Nothing more is due.
    last = _cli("purge", PINGYI_RETAIN_COMMENT_DAYS="30")
    assert last.returncode == 0 and "Nothing is due" in last.stdout, last.stdout
    # Asking for that day's key now makes a new one: the old fingerprints stay unlinked.
    day = (await Response.select(Response.submitted_at).first())["submitted_at"].date()
    forget_keys()
    assert await fingerprint("203.0.113.7", UA, day) != public[0]["device"]


async def test_a_pending_appeal_keeps_the_ballots(client: Any) -> None:
    from pingyi.db.tables import CleaningRun, Response
    from pingyi.services import appeals, campaigns, retention, scores

    campaign = await open_public_campaign()
    await _rate_as_peers(client)
    ballots = await Response.count().where(Response.role != "public")
    await campaigns.move("C1", "closed", "test")
    await CleaningRun.insert(
        CleaningRun(campaign=campaign["campaign_id"], revision=1, scores=_scores(), summary={})
    )
    await campaigns.move("C1", "cleaned", "test")
    await scores.publish("C1", "test")
    appeal = await appeals.file_appeal(
        campaign["staff"]["u1-S1"], "C1", "评价结果与实际不符，申请复核。", "s1"
    )
    later = datetime.now(UTC) + LATER
    kept = await retention.purge(now=later)
    assert "ballots" not in {p.data_class for p in kept.purged}
    assert await Response.count().where(Response.role != "public") == ballots
    await appeals.decide(appeal, "rejected", "复核后维持原结果。", "agency")
    gone = await retention.purge(now=later)
    assert "ballots" in {p.data_class for p in gone.purged}
    assert await Response.count().where(Response.role != "public") == 0


async def test_old_audit_events_go_and_the_chain_still_verifies(db: str) -> None:
    from pingyi.db.tables import AuditEvent
    from pingyi.services import audit

    old = datetime.now(UTC) - timedelta(days=400)
    prev = audit.GENESIS
    for seq in (1, 2, 3):
        at = old + timedelta(minutes=seq)
        digest = audit.event_hash(prev, seq, at, "agency", "org.import", "org", {}, {"n": seq})
        await AuditEvent.insert(
            AuditEvent(
                seq=seq,
                at=at,
                actor="agency",
                action="org.import",
                target="org",
                before={},
                after={"n": seq},
                prev_hash=prev,
                hash=digest,
            )
        )
        prev = digest
    await audit.record("agency", "campaign.open", "campaign:C1")
    assert (await audit.verify_chain()).ok

    short = _cli("purge", PINGYI_RETAIN_AUDIT_DAYS="30")  # below six months: refused
    assert short.returncode != 0 and "PINGYI_RETAIN_AUDIT_DAYS" in short.stderr
    done = _cli("purge")
    assert done.returncode == 0 and "purged audit" in done.stdout, done.stdout + done.stderr
    remaining = await AuditEvent.select(AuditEvent.seq, AuditEvent.action).order_by(AuditEvent.seq)
    assert remaining[0]["seq"] == 4
    assert "audit.purge" in {r["action"] for r in remaining}
    check = await audit.verify_chain()
    assert check.ok and check.checked == len(remaining), check
    verify = _cli("audit", "verify")
    assert verify.returncode == 0, verify.stderr
    # Removing events behind the application's back still shows.
    await AuditEvent.delete().where(AuditEvent.seq == 4)
    assert not (await audit.verify_chain()).ok


async def test_the_server_purges_in_the_background(db: str) -> None:
    import dataclasses

    from pingyi.db.tables import AuditEvent, BadReviewCase, CitizenContact, DailyKey
    from pingyi.settings import get_settings
    from pingyi.web.app import create_app

    await open_public_campaign()
    await DailyKey.insert(
        DailyKey(day=datetime.now(UTC).date() - timedelta(days=10), key_hex="ab" * 32)
    )
    settings = dataclasses.replace(get_settings(), purge_interval_s=0.05)
    app = create_app(settings)
    async with app.lifespan():
        purger = app.state.purger
        assert purger is not None and purger.interval_s == 0.05
        import anyio

        with anyio.fail_after(60):
            await purger.wait_passes(1)
    assert await DailyKey.count() == 0  # no campaign needed that day's key
    event = await AuditEvent.select().where(AuditEvent.action == "purge.run").first()
    assert event is not None and event["actor"] == "scheduler"
    assert await BadReviewCase.count() == 0 and await CitizenContact.count() == 0


async def test_alerts_pressure_links_and_delivered_outbox_records_are_purged(
    client: Any,
) -> None:
    """Volume alerts after PINGYI_RETAIN_ALERT_DAYS, the pressure reports' form hash
    (which links a report to its rating's form with the secret key) after
    PINGYI_RETAIN_PRESSURE_LINK_DAYS, delivered outbox records after
    PINGYI_RETAIN_OUTBOX_DAYS; pending and dead-lettered outbox records stay."""
    import re

    from pingyi.db.tables import (
        AuditEvent,
        CleaningRun,
        OutboxBatch,
        OutboxEvent,
        PressureReport,
        VolumeAlert,
    )
    from pingyi.services import campaigns, scores

    campaign = await open_public_campaign()
    tokens = []
    for _ in range(2):
        path, page = await _page_for_window(client, campaign)
        done = await client.post(
            path,
            data={**form_fields(page.text), "overall": "5", "item_attitude": "5"},
            headers={"user-agent": UA},
        )
        tokens.append(re.search(r'name="token" value="([^"]+)"', done.text).group(1))  # type: ignore[union-attr]
    report = await client.post("/p", data={"token": tokens[0], "text": "有人让我点满意"})
    assert report.status_code == 200
    assert await PressureReport.count().where(PressureReport.once.is_not_null()) == 1
    now = datetime.now(UTC)
    await VolumeAlert.insert(
        VolumeAlert(
            campaign=campaign["campaign_id"],
            window=campaign["windows"]["u1-W1"],
            started_at=now,
            threshold=60,
            period_s=600,
        )
    )
    # the outbox: delivered 40 and 5 days ago, one dead letter and one pending record
    for batch_id, state, sent_at in (
        ("b-old", "sent", now - timedelta(days=40)),
        ("b-new", "sent", now - timedelta(days=5)),
        ("b-dead", "dead", None),
    ):
        await OutboxBatch.insert(
            OutboxBatch(batch_id=batch_id, size=1, state=state, sent_at=sent_at)
        )
        await OutboxEvent.insert(
            OutboxEvent(kind="rating", subject=batch_id, batch_id=batch_id, state=state)
        )
    await OutboxEvent.insert(OutboxEvent(kind="rating", subject="pending"))

    await campaigns.move("C1", "closed", "test")
    # a closed campaign takes no more pressure reports (the second form's, unused)
    late = await client.post("/p", data={"token": tokens[1], "text": "迟到的报告"})
    assert late.status_code == 200 and await PressureReport.count() == 1
    await CleaningRun.insert(
        CleaningRun(campaign=campaign["campaign_id"], revision=1, scores=_scores(), summary={})
    )
    await campaigns.move("C1", "cleaned", "test")
    await scores.publish("C1", "test")

    # Defaults: the form hash goes at publication, delivered records after 30 days,
    # alerts after a year.
    dry = _cli("purge", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "would purge pressure_links" in dry.stdout and "would purge outbox" in dry.stdout
    assert "volume_alerts" not in dry.stdout
    done = _cli("purge")
    assert done.returncode == 0, done.stderr
    reports = await PressureReport.select()
    assert len(reports) == 1 and reports[0]["once"] is None
    assert reports[0]["text"] == "有人让我点满意"  # the comment period is its own
    assert {b["batch_id"] for b in await OutboxBatch.select()} == {"b-new", "b-dead"}
    assert sorted(e["subject"] for e in await OutboxEvent.select()) == [
        "b-dead",
        "b-new",
        "pending",
    ]
    assert await VolumeAlert.count() == 1

    await _back_in_time(campaign["campaign_id"], LATER)
    alerts = _cli("purge", PINGYI_RETAIN_ALERT_DAYS="30", PINGYI_RETAIN_OUTBOX_DAYS="10")
    assert alerts.returncode == 0, alerts.stderr
    assert "purged volume_alerts" in alerts.stdout and "pressure_links" not in alerts.stdout
    assert await VolumeAlert.count() == 0
    # b-new was delivered 5 days ago: still within 10 days
    assert {b["batch_id"] for b in await OutboxBatch.select()} == {"b-new", "b-dead"}
    # a replayed form of the closed campaign stores nothing, with or without its hash
    replay = await client.post("/p", data={"token": tokens[0], "text": "再来一次"})
    assert replay.status_code == 200 and await PressureReport.count() == 1
    actions = {r["action"] for r in await AuditEvent.select(AuditEvent.action)}
    assert {"purge.volume_alerts", "purge.pressure_links", "purge.outbox"} <= actions
    verify = _cli("audit", "verify")
    assert verify.returncode == 0 and "intact" in verify.stdout, verify.stderr


async def test_queue_call_back_numbers_go_once_the_campaign_is_published(client: Any) -> None:
    """A call-back number the queue system gave with a ticket (for the phone
    follow-up) is purged PINGYI_RETAIN_CONTACT_DAYS after the first publication."""
    from pingyi.db.tables import AuditEvent, CleaningRun, TicketContact
    from pingyi.services import campaigns, scores
    from pingyi.services.devices import add_api_key

    campaign = await open_public_campaign()
    key = {"authorization": f"Bearer {await add_api_key('叫号系统', ['queue'])}"}
    batch = {"tickets": [{"number": "Q-1", "window": "u1-W1", "callback": "13900002222"}]}
    assert (await client.post("/api/v1/tickets", json=batch, headers=key)).status_code == 201
    assert await TicketContact.count() == 1
    # still needed while the campaign runs
    assert "ticket_contacts" not in _cli("purge", "--dry-run").stdout
    await campaigns.move("C1", "closed", "test")
    await CleaningRun.insert(
        CleaningRun(campaign=campaign["campaign_id"], revision=1, scores=_scores(), summary={})
    )
    await campaigns.move("C1", "cleaned", "test")
    await scores.publish("C1", "test")
    kept = _cli("purge", PINGYI_RETAIN_CONTACT_DAYS="30")
    assert kept.returncode == 0, kept.stderr
    assert await TicketContact.count() == 1
    done = _cli("purge")  # the default period: 0 days after publication
    assert done.returncode == 0 and "purged ticket_contacts" in done.stdout, done.stdout
    assert await TicketContact.count() == 0
    actions = {r["action"] for r in await AuditEvent.select(AuditEvent.action)}
    assert "purge.ticket_contacts" in actions
