"""Retention: personal data is kept only as long as its purpose needs it (DESIGN.md 9).

Each class of data has its own period (settings, `PINGYI_RETAIN_*`), counted from the
event that ends its purpose:

- fingerprint keys (`daily_key`): a day's key, once every campaign with fingerprinted
  ratings around that day is published (PINGYI_RETAIN_FINGERPRINT_KEY_DAYS after its
  first publication);
- call-back contacts: PINGYI_RETAIN_CONTACT_DAYS after the case closes (0: at the
  closing itself); call-back numbers the queue system gave with tickets (for the
  phone follow-up), the same period after the campaign's first publication;
- free-text comments (rating comments, text answers, bad-review reasons, pressure
  reports): PINGYI_RETAIN_COMMENT_DAYS after the campaign's first publication;
- raw ballots (peer, superior, self responses and answers, unsent drafts, the
  campaign's rater key): PINGYI_RETAIN_BALLOT_DAYS after the appeal period ends, and
  only while no appeal is pending;
- audit events: PINGYI_RETAIN_AUDIT_DAYS after the event (at least 183, six months);
- volume alerts (a window's unusual rating volume and when it began):
  PINGYI_RETAIN_ALERT_DAYS after the campaign's first publication;
- pressure reports' one-report-per-form hash (`once`: with the secret key it links a
  report to its rating's form): PINGYI_RETAIN_PRESSURE_LINK_DAYS after the campaign's
  first publication; a closed campaign takes no more reports, so nothing is replayed;
- the outbox's delivered records (`outbox_event` and `outbox_batch`, sent):
  PINGYI_RETAIN_OUTBOX_DAYS after delivery; pending and dead-lettered ones stay until
  they are delivered (or retried and delivered).

What stays: public ratings without their free text, cleaning runs, flags and every
publication (its frozen snapshot, rows, report and hash), so published results and
appeals' recomputation verify as before. A campaign's cleaning cannot run again once
its ballots and rater key are gone (`rater_key` refuses).

`purge(now, retention, actor, dry_run)` is the one entry point: `pingyi purge` and the
server's background pass both call it. Each class purged is one audit event with the
counts; removing old audit events leaves an anchor event (`audit.purge`) so that the
hash chain still verifies from the first remaining event.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from pingyi.db.tables import (
    RATER_ROLES,
    Answer,
    Appeal,
    AuditEvent,
    BadReviewCase,
    Campaign,
    CampaignKey,
    CitizenContact,
    DailyKey,
    Invitation,
    InvitationDraft,
    Item,
    OutboxBatch,
    OutboxEvent,
    PressureReport,
    Publication,
    Response,
    Ticket,
    TicketContact,
    VolumeAlert,
)
from pingyi.scoring import Policy
from pingyi.services import audit
from pingyi.services.background import PeriodicTask, SchedulerLock
from pingyi.services.scores import frozen

log = logging.getLogger("pingyi.retention")

ACTOR = "retention"
AUDIT_MIN_DAYS = 183  # the audit log is kept at least six months
PURGE_LOCK_KEY = 0x70696E677970  # the purge's advisory lock id on PostgreSQL


@dataclass(frozen=True)
class Retention:
    """Days each class is kept after the event that ends its purpose."""

    fingerprint_key_days: int = 0
    contact_days: int = 0
    comment_days: int = 365
    ballot_days: int = 0
    audit_days: int = 365
    alert_days: int = 365
    pressure_link_days: int = 0
    outbox_days: int = 30

    @classmethod
    def from_settings(cls, settings: Any) -> Retention:
        return cls(
            fingerprint_key_days=settings.retain_fingerprint_key_days,
            contact_days=settings.retain_contact_days,
            comment_days=settings.retain_comment_days,
            ballot_days=settings.retain_ballot_days,
            audit_days=settings.retain_audit_days,
            alert_days=settings.retain_alert_days,
            pressure_link_days=settings.retain_pressure_link_days,
            outbox_days=settings.retain_outbox_days,
        )


@dataclass(frozen=True)
class Purged:
    """One class of data purged (or due, in a dry run) for one target."""

    # fingerprint_keys | contacts | comments | ballots | audit | volume_alerts |
    # pressure_links | outbox
    data_class: str
    target: str  # e.g. campaign:C1, daily_key, audit_event
    counts: dict[str, int]

    def line(self) -> str:
        counts = ", ".join(f"{k} {v}" for k, v in self.counts.items())
        return f"{self.data_class:<16} {self.target:<24} {counts}"


@dataclass
class PurgeResult:
    at: datetime
    dry_run: bool
    purged: list[Purged] = field(default_factory=list)


# --------------------------------------------------------------------------- campaigns


@dataclass(frozen=True)
class CampaignFacts:
    id: int
    code: str
    state: str
    first_published_at: datetime | None
    appeal_deadline: datetime | None
    appeal_pending: bool

    @property
    def final(self) -> bool:
        """Its cleaning is final: published (a re-run moves it back to cleaned)."""
        return self.state == "published" and self.first_published_at is not None


async def campaign_facts() -> list[CampaignFacts]:
    facts = []
    for c in await Campaign.select(Campaign.id, Campaign.code, Campaign.state):
        first = (
            await Publication.select(Publication.published_at)
            .where(Publication.campaign == c["id"])
            .order_by(Publication.revision)
            .first()
        )
        latest = (
            await Publication.select(Publication.snapshot)
            .where(Publication.campaign == c["id"])
            .order_by(Publication.revision, ascending=False)
            .first()
        )
        deadline = None
        if first is not None and latest is not None:
            # the appeal period as appeals.file_appeal reads it: the latest publication's policy
            policy = Policy.from_json(frozen(latest)["inputs"]["policy"], strict=False)
            deadline = first["published_at"] + timedelta(days=policy.appeal_days)
        pending = await Appeal.exists().where(
            (Appeal.campaign == c["id"]) & (Appeal.state == "submitted")
        )
        facts.append(
            CampaignFacts(
                id=c["id"],
                code=c["code"],
                state=c["state"],
                first_published_at=first["published_at"] if first else None,
                appeal_deadline=deadline,
                appeal_pending=bool(pending),
            )
        )
    return facts


def _due(since: datetime | None, days: int, now: datetime) -> bool:
    return since is not None and since + timedelta(days=days) <= now


# --------------------------------------------------------------------------- classes


async def _fingerprint_keys(
    now: datetime, r: Retention, campaigns: list[CampaignFacts], dry_run: bool
) -> list[Purged]:
    """A day's key goes once every campaign with fingerprinted ratings around that day
    is final (plus the period); today's and yesterday's keys are always kept."""
    protected: set[date] = set()
    for c in campaigns:
        if c.final and _due(c.first_published_at, r.fingerprint_key_days, now):
            continue
        if c.state == "draft":
            continue
        fingerprinted = (Response.campaign == c.id) & (Response.device != "")
        first = await (
            Response.select(Response.submitted_at)
            .where(fingerprinted & Response.submitted_at.is_not_null())
            .order_by(Response.submitted_at)
            .first()
        )
        last = await (
            Response.select(Response.submitted_at)
            .where(fingerprinted & Response.submitted_at.is_not_null())
            .order_by(Response.submitted_at, ascending=False)
            .first()
        )
        if first is None or last is None:
            continue
        # a day either side: the key's day is the UTC date of the rating
        day = first["submitted_at"].astimezone(UTC).date() - timedelta(days=1)
        end = last["submitted_at"].astimezone(UTC).date() + timedelta(days=1)
        while day <= end:
            protected.add(day)
            day += timedelta(days=1)
    keep_from = now.astimezone(UTC).date() - timedelta(days=1)
    days = [
        row["day"]
        for row in await DailyKey.select(DailyKey.day).where(DailyKey.day < keep_from)
        if row["day"] not in protected
    ]
    if not days:
        return []
    if not dry_run:
        await DailyKey.delete().where(DailyKey.day.is_in(days))
        await audit.record(
            ACTOR,
            "purge.fingerprint_keys",
            "daily_key",
            after={"days": sorted(d.isoformat() for d in days)},
        )
    return [Purged("fingerprint_keys", "daily_key", {"keys": len(days)})]


async def _contacts(now: datetime, r: Retention, dry_run: bool) -> list[Purged]:
    """Call-back contacts of cases closed at least the period ago."""
    cutoff = now - timedelta(days=r.contact_days)
    closed = BadReviewCase.select(BadReviewCase.id).where(
        (BadReviewCase.state == "closed")
        & BadReviewCase.closed_at.is_not_null()
        & (BadReviewCase.closed_at <= cutoff)
    )
    rows = await CitizenContact.select(CitizenContact.id).where(CitizenContact.case.is_in(closed))
    if not rows:
        return []
    if not dry_run:
        ids = [row["id"] for row in rows]
        await CitizenContact.delete().where(CitizenContact.id.is_in(ids))
        await audit.record(ACTOR, "purge.contacts", "citizen_contact", after={"n": len(ids)})
    return [Purged("contacts", "citizen_contact", {"contacts": len(rows)})]


async def _ticket_contacts(
    now: datetime, r: Retention, campaigns: list[CampaignFacts], dry_run: bool
) -> list[Purged]:
    """Call-back numbers the queue system recorded with tickets, for the phone
    follow-up: their purpose ends when the campaign's results are published."""
    out = []
    for c in campaigns:
        if not (c.final and _due(c.first_published_at, r.contact_days, now)):
            continue
        tickets = Ticket.select(Ticket.id).where(Ticket.campaign == c.id)
        held = TicketContact.ticket.is_in(tickets)
        n = await TicketContact.count().where(held)
        if not n:
            continue
        if not dry_run:
            await TicketContact.delete().where(held)
            await audit.record(ACTOR, "purge.ticket_contacts", f"campaign:{c.code}", after={"n": n})
        out.append(Purged("ticket_contacts", f"campaign:{c.code}", {"numbers": n}))
    return out


async def _comments(
    now: datetime, r: Retention, campaigns: list[CampaignFacts], dry_run: bool
) -> list[Purged]:
    """Free text of campaigns published at least the period ago."""
    out = []
    for c in campaigns:
        if not (c.final and _due(c.first_published_at, r.comment_days, now)):
            continue
        responses = Response.select(Response.id).where(Response.campaign == c.id)
        with_comment = (Response.campaign == c.id) & (Response.comment != "")
        # only answers to text items: a choice or yes/no answer keeps its `value`
        text_answers = (
            Answer.response.is_in(responses)
            & (Answer.value != "")
            & Answer.item.is_in(await _text_item_codes(c.id))
        )
        cases = (BadReviewCase.campaign == c.id) & (BadReviewCase.reason_text != "")
        reports = (PressureReport.campaign == c.id) & (PressureReport.text != "")
        counts = {
            "comments": await Response.count().where(with_comment),
            "text_answers": await Answer.count().where(text_answers),
            "case_reasons": await BadReviewCase.count().where(cases),
            "pressure_reports": await PressureReport.count().where(reports),
        }
        if not any(counts.values()):
            continue
        if not dry_run:
            await Response.update({Response.comment: ""}).where(with_comment)
            await Answer.update({Answer.value: ""}).where(text_answers)
            await BadReviewCase.update({BadReviewCase.reason_text: ""}).where(cases)
            await PressureReport.update({PressureReport.text: ""}).where(reports)
            await audit.record(ACTOR, "purge.comments", f"campaign:{c.code}", after=counts)
        out.append(Purged("comments", f"campaign:{c.code}", counts))
    return out


async def _text_item_codes(campaign_id: int) -> list[str]:
    versions = (
        await Response.select(Response.questionnaire_version)
        .where(Response.campaign == campaign_id)
        .distinct()
    )
    ids = [v["questionnaire_version"] for v in versions if v["questionnaire_version"]]
    if not ids:
        return ["-"]
    rows = await Item.select(Item.code).where(Item.version.is_in(ids) & (Item.kind == "text"))
    return sorted({row["code"] for row in rows}) or ["-"]


async def _ballots(
    now: datetime, r: Retention, campaigns: list[CampaignFacts], dry_run: bool
) -> list[Purged]:
    """Raw peer, superior and self ballots once the appeal period has ended (and no
    appeal is pending): the published aggregates stay; so do the cleaning's flags."""
    out = []
    for c in campaigns:
        if not (c.final and not c.appeal_pending and _due(c.appeal_deadline, r.ballot_days, now)):
            continue
        ballots = (Response.campaign == c.id) & Response.role.is_in(list(RATER_ROLES))
        ballot_ids = Response.select(Response.id).where(ballots)
        invitations = Invitation.select(Invitation.id).where(Invitation.campaign == c.id)
        drafts = InvitationDraft.invitation.is_in(invitations)
        keys = CampaignKey.campaign == c.id
        counts = {
            "ballots": await Response.count().where(ballots),
            "answers": await Answer.count().where(Answer.response.is_in(ballot_ids)),
            "drafts": await InvitationDraft.count().where(drafts),
            "rater_keys": await CampaignKey.count().where(keys),
        }
        if not any(counts.values()):
            continue
        if not dry_run:
            async with Response._meta.db.transaction():
                await Answer.delete().where(Answer.response.is_in(ballot_ids))
                # corrections point at the responses they correct (RESTRICT)
                await Response.update({Response.corrects: None}).where(ballots)
                await Response.delete().where(ballots)
                await InvitationDraft.delete().where(drafts)
                await CampaignKey.delete().where(keys)
            await audit.record(ACTOR, "purge.ballots", f"campaign:{c.code}", after=counts)
        out.append(Purged("ballots", f"campaign:{c.code}", counts))
    return out


async def _volume_alerts(
    now: datetime, r: Retention, campaigns: list[CampaignFacts], dry_run: bool
) -> list[Purged]:
    """Volume alerts of campaigns published at least the period ago: the cleaning has
    judged the ratings (BURST) and its flags stay."""
    out = []
    for c in campaigns:
        if not (c.final and _due(c.first_published_at, r.alert_days, now)):
            continue
        alerts = VolumeAlert.campaign == c.id
        n = await VolumeAlert.count().where(alerts)
        if not n:
            continue
        if not dry_run:
            await VolumeAlert.delete().where(alerts)
            await audit.record(ACTOR, "purge.volume_alerts", f"campaign:{c.code}", after={"n": n})
        out.append(Purged("volume_alerts", f"campaign:{c.code}", {"alerts": n}))
    return out


async def _pressure_links(
    now: datetime, r: Retention, campaigns: list[CampaignFacts], dry_run: bool
) -> list[Purged]:
    """The form hash of pressure reports of campaigns published at least the period
    ago; the report (window, day, text until the comment period ends) stays."""
    out = []
    for c in campaigns:
        if not (c.final and _due(c.first_published_at, r.pressure_link_days, now)):
            continue
        linked = (PressureReport.campaign == c.id) & PressureReport.once.is_not_null()
        n = await PressureReport.count().where(linked)
        if not n:
            continue
        if not dry_run:
            await PressureReport.update({PressureReport.once: None}).where(linked)
            await audit.record(ACTOR, "purge.pressure_links", f"campaign:{c.code}", after={"n": n})
        out.append(Purged("pressure_links", f"campaign:{c.code}", {"links": n}))
    return out


async def _outbox(now: datetime, r: Retention, dry_run: bool) -> list[Purged]:
    """Outbox records delivered at least the period ago, with their batches; what is
    pending or dead-lettered stays."""
    cutoff = now - timedelta(days=r.outbox_days)
    delivered = (
        (OutboxBatch.state == "sent")
        & OutboxBatch.sent_at.is_not_null()
        & (OutboxBatch.sent_at <= cutoff)
    )
    batch_ids = OutboxBatch.select(OutboxBatch.batch_id).where(delivered)
    events = (OutboxEvent.state == "sent") & OutboxEvent.batch_id.is_in(batch_ids)
    counts = {
        "events": await OutboxEvent.count().where(events),
        "batches": await OutboxBatch.count().where(delivered),
    }
    if not any(counts.values()):
        return []
    if not dry_run:
        async with OutboxEvent._meta.db.transaction():
            await OutboxEvent.delete().where(events)
            await OutboxBatch.delete().where(delivered)
        await audit.record(ACTOR, "purge.outbox", "outbox", after=counts)
    return [Purged("outbox", "outbox", counts)]


async def _audit_events(now: datetime, r: Retention, dry_run: bool) -> list[Purged]:
    """Events older than the period (never less than six months). The anchor event
    written first names the last removed event and its hash: the chain verifies from
    the first event that remains."""
    cutoff = now - timedelta(days=max(r.audit_days, AUDIT_MIN_DAYS))
    last = (
        await AuditEvent.select(AuditEvent.seq, AuditEvent.hash)
        .where(AuditEvent.at < cutoff)
        .order_by(AuditEvent.seq, ascending=False)
        .first()
    )
    if last is None:
        return []
    n = await AuditEvent.count().where(AuditEvent.seq <= last["seq"])
    if not dry_run:
        await audit.record(
            ACTOR,
            audit.PURGE_ACTION,
            "audit_event",
            after={"through_seq": last["seq"], "last_hash": last["hash"], "n": n},
        )
        await AuditEvent.delete().where(AuditEvent.seq <= last["seq"])
    return [Purged("audit", "audit_event", {"events": n})]


async def purge(
    now: datetime | None = None,
    retention: Retention | None = None,
    actor: str = ACTOR,
    dry_run: bool = False,
) -> PurgeResult:
    """Purge (or, with `dry_run`, list) every class of data whose period has ended."""
    now = now or datetime.now(UTC)
    r = retention or Retention()
    result = PurgeResult(at=now, dry_run=dry_run)
    campaigns = await campaign_facts()
    result.purged += await _fingerprint_keys(now, r, campaigns, dry_run)
    result.purged += await _contacts(now, r, dry_run)
    result.purged += await _ticket_contacts(now, r, campaigns, dry_run)
    result.purged += await _comments(now, r, campaigns, dry_run)
    result.purged += await _ballots(now, r, campaigns, dry_run)
    result.purged += await _volume_alerts(now, r, campaigns, dry_run)
    result.purged += await _pressure_links(now, r, campaigns, dry_run)
    result.purged += await _outbox(now, r, dry_run)
    result.purged += await _audit_events(now, r, dry_run)
    if not dry_run and result.purged:
        await audit.record(
            actor,
            "purge.run",
            "retention",
            after={p.data_class + ":" + p.target: p.counts for p in result.purged},
        )
        from pingyi.services.fingerprint import forget_keys

        forget_keys()
    return result


# --------------------------------------------------------------------------- background


class PurgeScheduler(PeriodicTask[PurgeResult]):
    """Runs `purge` every `interval_s` seconds in the server, in the one process that
    holds the purge lock (like the campaign scheduler)."""

    name = "pingyi-purge"

    def __init__(self, interval_s: float, retention: Retention, lock: Any) -> None:
        super().__init__(interval_s, lock)
        self.retention = retention

    async def run_pass(self) -> PurgeResult:
        result = await purge(retention=self.retention, actor="scheduler")
        for item in result.purged:
            log.info("purged %s", item.line())
        return result


def purge_lock(data_dir: Path) -> Any:

    return SchedulerLock(data_dir / "purge.lock", key=PURGE_LOCK_KEY)


async def start_purger(
    interval_s: float, retention: Retention, data_dir: Path
) -> PurgeScheduler | None:
    """The app's purge pass (lifespan); None when PINGYI_PURGE_INTERVAL_S is 0."""
    if interval_s <= 0:
        return None
    purger = PurgeScheduler(interval_s, retention, purge_lock(data_dir))
    await purger.start()
    return purger
