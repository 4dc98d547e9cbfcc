"""Piccolo tables: the data model of DESIGN.md section 4, and nothing else.

Conventions that protect the data:
- Foreign keys RESTRICT deletion (piccolo's default CASCADE would let deleting a
  window delete its ratings); organisation rows are retired with `active = False`.
- Responses and answers have random UUID keys, so row order says nothing about
  who submitted when (DESIGN.md section 3).
- Raw ratings are append-only: a correction is a new response whose `corrects`
  points at the old one.
"""

from __future__ import annotations

from typing import Any

from piccolo.columns import (
    JSON,
    UUID,
    Boolean,
    Date,
    DoublePrecision,
    ForeignKey,
    Integer,
    OnDelete,
    OnUpdate,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

ROLES = ("public", "peer", "superior", "self")
RATER_ROLES = ("peer", "superior", "self")
CHANNELS = ("qr", "ticket", "link", "device", "interview", "phone", "api", "paper", "default")
CAMPAIGN_STATES = ("draft", "open", "closed", "cleaned", "published")
ADMIN_ROLES = ("agency_admin", "hr", "unit_leader", "interviewer", "staff")
POST_CATEGORIES = ("law_enforcement", "window_service", "management")
ITEM_KINDS = ("scale5", "choice", "yesno", "text")
MYSTERY_KINDS = ("yesno", "points", "minutes")  # checklist items of a mystery visit


def restrict(references: Any, null: bool = True, index: bool = False) -> ForeignKey:
    return ForeignKey(
        references=references,
        null=null,
        index=index,
        on_delete=OnDelete.restrict,
        on_update=OnUpdate.cascade,
    )


class Organization(Table):
    code = Varchar(length=64, unique=True)
    name = Varchar(length=200)
    name_en = Varchar(length=200, default="")


class Unit(Table):
    organization = restrict(Organization, null=False)
    code = Varchar(length=64, unique=True)
    name = Varchar(length=200)
    name_en = Varchar(length=200, default="")
    # "08:30-12:00,13:30-17:30": ratings outside these hours are accepted but marked.
    opening_hours = Varchar(length=100, default="08:30-17:30")
    active = Boolean(default=True)


class ServiceWindow(Table, tablename="service_window"):
    unit = restrict(Unit, null=False)
    code = Varchar(length=64, unique=True)
    number = Varchar(length=32)
    name = Varchar(length=200)
    name_en = Varchar(length=200, default="")
    active = Boolean(default=True)


class Staff(Table):
    unit = restrict(Unit, null=False)
    code = Varchar(length=64, unique=True)
    name = Varchar(length=100)
    post_category = Varchar(length=32, default="window_service")
    is_leader = Boolean(default=False)
    window = restrict(ServiceWindow)  # usual window; the one on duty when known
    active = Boolean(default=True)


class Questionnaire(Table):
    code = Varchar(length=64, unique=True)
    name = Varchar(length=200)
    role = Varchar(length=16)


class QuestionnaireVersion(Table, tablename="questionnaire_version"):
    questionnaire = restrict(Questionnaire, null=False)
    version = Integer(default=1)
    created_at = Timestamptz(default=TimestamptzNow())


class Item(Table):
    version = restrict(QuestionnaireVersion, null=False)
    position = Integer(default=0)
    code = Varchar(length=64)
    text_zh = Text()
    text_en = Text(default="")
    kind = Varchar(length=16, default="scale5")
    required = Boolean(default=True)
    dimension = Varchar(length=64, default="")
    choices = JSON(default=[])
    # weight in the response composite (scale5 items only; 0 leaves the item out)
    weight = DoublePrecision(default=1.0)
    # asked on window devices too; other channels ask every item, devices `overall`
    # and the items marked here
    on_device = Boolean(default=False)


class Campaign(Table):
    code = Varchar(length=64, unique=True)
    name = Varchar(length=200)
    series = Varchar(length=64, default="")
    period_start = Date()
    period_end = Date()
    state = Varchar(length=16, default="draft")
    opens_at = Timestamptz(null=True, default=None)
    closes_at = Timestamptz(null=True, default=None)
    public_version = restrict(QuestionnaireVersion)
    peer_version = restrict(QuestionnaireVersion)
    superior_version = restrict(QuestionnaireVersion)
    self_version = restrict(QuestionnaireVersion)
    weights = JSON(default={"public": 30, "peer": 20, "superior": 30, "self": 20})
    k = Integer(default=3)
    peer_sample = Integer(default=0)  # 0: every colleague; m: m raters per ratee
    policy = JSON(default={})
    created_at = Timestamptz(default=TimestamptzNow())


class CampaignUnit(Table, tablename="campaign_unit"):
    campaign = restrict(Campaign, null=False)
    unit = restrict(Unit, null=False)


class CampaignKey(Table, tablename="campaign_key"):
    """Keys are held apart from the data they protect (DESIGN.md section 9)."""

    campaign = restrict(Campaign, null=False)
    purpose = Varchar(length=16)  # "rater": pseudonyms of peer/superior/self raters
    key_hex = Varchar(length=128)


class DailyKey(Table, tablename="daily_key"):
    """Key of the day for device fingerprints; deleted once cleaning is final."""

    day = Date(unique=True)
    key_hex = Varchar(length=128)


class Assignment(Table):
    campaign = restrict(Campaign, null=False)
    rater = restrict(Staff, null=False)
    ratee = restrict(Staff, null=False)
    role = Varchar(length=16)


class Invitation(Table):
    campaign = restrict(Campaign, null=False)
    staff = restrict(Staff, null=False)
    token_hash = Varchar(length=64, unique=True)
    revoked = Boolean(default=False)
    used = Boolean(default=False)  # only that it was used, for response-rate counts
    issued_at = Timestamptz(default=TimestamptzNow())


class InvitationDraft(Table, tablename="invitation_draft"):
    """Answers saved before submission; deleted the moment they are submitted."""

    invitation = restrict(Invitation, null=False)
    answers = JSON(default={})


class Device(Table):
    window = restrict(ServiceWindow, null=False)
    name = Varchar(length=100, default="")
    key_hash = Varchar(length=64, unique=True)
    revoked = Boolean(default=False)
    created_at = Timestamptz(default=TimestamptzNow())


class ApiKey(Table, tablename="api_key"):
    name = Varchar(length=100)
    key_hash = Varchar(length=64, unique=True)
    scopes = Varchar(length=200, default="hr")
    revoked = Boolean(default=False)
    created_at = Timestamptz(default=TimestamptzNow())


class Ticket(Table):
    """一事一评: one code per service, rated at most once."""

    campaign = restrict(Campaign, null=False)
    window = restrict(ServiceWindow, null=False)
    staff = restrict(Staff)
    code = Varchar(length=64, unique=True)
    issued_at = Timestamptz(default=TimestamptzNow())
    expires_at = Timestamptz()
    used = Boolean(default=False)
    # the queue system's own ticket number (POST /api/v1/tickets from a queue key);
    # unique where set (index in the migration), None for a device's ticket
    number = Varchar(length=64, null=True, default=None)


class ServedCount(Table, tablename="served_count"):
    """Citizens the queue system served at a window in one hour (UTC start of the
    hour): evidence for the cleaning's BURST check. One row per (window, hour), unique
    in the migration; a later count replaces the earlier one."""

    window = restrict(ServiceWindow, null=False)
    hour_start = Timestamptz()
    served = Integer(default=0)
    updated_at = Timestamptz(default=TimestamptzNow())


class AdminUser(Table, tablename="admin_user"):
    username = Varchar(length=64, unique=True)
    password_hash = Varchar(length=255)
    role = Varchar(length=16)
    display_name = Varchar(length=100, default="")
    staff = restrict(Staff)  # the staff member behind a `staff` login
    unit = restrict(Unit)  # the unit a `unit_leader` looks after
    active = Boolean(default=True)
    created_at = Timestamptz(default=TimestamptzNow())


class Response(Table):
    id = UUID(primary_key=True)
    campaign = restrict(Campaign, null=False, index=True)
    questionnaire_version = restrict(QuestionnaireVersion)
    role = Varchar(length=16)
    channel = Varchar(length=16)
    window = restrict(ServiceWindow)
    ratee = restrict(Staff)
    rater = Varchar(length=64, default="")  # HMAC(campaign key, staff id); peers only
    device = Varchar(length=64, default="")  # HMAC(daily key, ip/24 + UA); public only
    ticket = Varchar(length=64, default="")
    client_id = Varchar(length=64, null=True, default=None, unique=True)
    submitted_at = Timestamptz(null=True, default=None)  # never set for peer roles
    duration_s = DoublePrecision(null=True, default=None)
    off_hours = Boolean(default=False)
    honeypot = Boolean(default=False)
    interviewer = restrict(AdminUser)
    comment = Text(default="")
    corrects = ForeignKey(references="self", null=True, on_delete=OnDelete.restrict)


class Answer(Table):
    id = UUID(primary_key=True)
    response = restrict(Response, null=False, index=True)
    item = Varchar(length=64)
    score = Integer(null=True, default=None)
    value = Text(default="")


class BadReviewCase(Table, tablename="bad_review_case"):
    response = restrict(Response, null=False)
    campaign = restrict(Campaign, null=False)
    unit = restrict(Unit, null=False)
    window = restrict(ServiceWindow)
    reason_category = Varchar(length=32, default="")
    reason_text = Text(default="")
    state = Varchar(length=16, default="open")
    opened_at = Timestamptz(default=TimestamptzNow())
    contact_due = Timestamptz()
    rectify_due = Timestamptz()
    contacted_at = Timestamptz(null=True, default=None)
    verification = Varchar(length=32, default="")  # justified / unjustified / no_legal_basis
    explanation = Text(default="")
    rectification = Text(default="")
    feedback = Text(default="")
    callback_result = Text(default="")
    closed_at = Timestamptz(null=True, default=None)
    handling_rating = Integer(null=True, default=None)
    escalated = Boolean(default=False)


class OutboxEvent(Table, tablename="outbox_event"):
    """What leaves for the provincial platform, written in the rating's (or the case
    update's) own transaction: a public rating or a bad-review case update, as the
    neutral record of services/outbox.py (ids, no contacts, no fingerprints)."""

    kind = Varchar(length=16)  # "rating" or "case"
    subject = Varchar(length=64)  # the response id or the case id
    payload = JSON(default={})
    created_at = Timestamptz(default=TimestamptzNow())
    batch_id = Varchar(length=36, null=True, default=None, index=True)  # once batched
    state = Varchar(length=8, default="pending", index=True)  # pending -> sent | dead


class OutboxBatch(Table, tablename="outbox_batch"):
    """A batch keeps its id across retries: the receiver deduplicates on it."""

    batch_id = Varchar(length=36, unique=True)
    created_at = Timestamptz(default=TimestamptzNow())
    size = Integer(default=0)
    state = Varchar(length=8, default="pending", index=True)  # pending -> sent | dead
    attempts = Integer(default=0)
    next_attempt_at = Timestamptz(default=TimestamptzNow())
    last_error = Text(default="")
    last_attempt_at = Timestamptz(null=True, default=None)
    sent_at = Timestamptz(null=True, default=None)


class CitizenContact(Table, tablename="citizen_contact"):
    """Optional call-back contact, encrypted, apart from the rating; deleted on close."""

    case = restrict(BadReviewCase, null=False)
    ciphertext = Text()


class TicketContact(Table, tablename="ticket_contact"):
    """A call-back number the queue system recorded with a ticket, for the agency's
    sampled phone follow-up: encrypted like a citizen's contact (services/contacts.py),
    shown only to the interviewer while calling (each reveal audited), never exported."""

    ticket = restrict(Ticket, null=False, index=True)
    ciphertext = Text()


class PhoneRound(Table, tablename="phone_round"):
    """A sampled phone follow-up (电话回访): the frame (callable served tickets by
    stratum), the seed and the per-stratum size from which anyone can re-draw the
    sample (pingyi.sampling.draw); the hashes make a changed frame or draw visible."""

    campaign = restrict(Campaign, null=False, index=True)
    seed = Varchar(length=64)
    per_stratum = Integer()
    frame = JSON(default={})  # {stratum: [ticket ids]}: callable served tickets
    served = JSON(default={})  # {stratum: served tickets}, callable or not (coverage)
    frame_hash = Varchar(length=64)
    draw_hash = Varchar(length=64)
    created_by = Varchar(length=64, default="")
    created_at = Timestamptz(default=TimestamptzNow())


class PhoneCall(Table, tablename="phone_call"):
    """One sampled ticket to call, its selection probability and its outcome."""

    phone_round = restrict(PhoneRound, null=False, index=True)
    ticket = restrict(Ticket, null=False)
    stratum = Varchar(length=100)
    unit = restrict(Unit, null=False)
    window = restrict(ServiceWindow, null=False)
    probability = DoublePrecision()
    outcome = Varchar(length=16, default="pending")
    attempts = Integer(default=0)
    calling_by = restrict(AdminUser)  # the interviewer on the line now: one at a time
    interviewer = restrict(AdminUser)  # who recorded the last outcome
    response = restrict(Response)  # the completed interview's response
    updated_at = Timestamptz(null=True, default=None)


class MysteryChecklist(Table, tablename="mystery_checklist"):
    """A mystery-shopping (暗访) checklist: ``items`` is a list of
    ``{code, text_zh, text_en, kind, weight, max, target, limit}`` (services/mystery.py).
    Frozen once a visit is planned with it: a changed checklist is a new one."""

    code = Varchar(length=64, unique=True)
    name = Varchar(length=200)
    name_en = Varchar(length=200, default="")
    items = JSON(default=[])
    created_by = Varchar(length=64, default="")
    created_at = Timestamptz(default=TimestamptzNow())


class MysteryVisit(Table, tablename="mystery_visit"):
    """One planned mystery visit to a window in a week, assigned to an evaluator (an
    `interviewer` login), and once done its answers and weighted score (0-100). Not a
    Response: a checklist is not a 1-5 rating and must not enter the public scores."""

    campaign = restrict(Campaign, null=False, index=True)
    checklist = restrict(MysteryChecklist, null=False)
    unit = restrict(Unit, null=False)
    window = restrict(ServiceWindow, null=False)
    week = Date()  # the Monday of the planned ISO week
    evaluator = restrict(AdminUser, null=False, index=True)
    planned_by = Varchar(length=64, default="")
    state = Varchar(length=16, default="planned")  # planned -> done
    # the id the visit's form carried: a resubmission with it stores nothing new
    client_id = Varchar(length=64, null=True, default=None)
    rater = Varchar(length=64, default="")  # the evaluator's per-campaign pseudonym
    visited_on = Date(null=True, default=None)
    submitted_at = Timestamptz(null=True, default=None)
    answers = JSON(default={})  # {item code: the value entered}
    points = JSON(default={})  # {item code: share of the item's marks, 0..1}
    score = DoublePrecision(null=True, default=None)  # weighted, 0..100
    note = Text(default="")


class PressureReport(Table, tablename="pressure_report"):
    """'Was anyone pressing you for a particular rating?' Goes to the agency only."""

    campaign = restrict(Campaign, null=False)
    window = restrict(ServiceWindow)
    text = Text(default="")
    reported_on = Date()
    # One report per rating form: a keyed hash of the form's submission id (unique
    # index in the migration); not the response's id, so the report stays apart.
    once = Varchar(length=64, null=True, default=None)


class VolumeAlert(Table, tablename="volume_alert"):
    """A window received more citizen ratings than its alert threshold within the
    rate-limit period. Nobody was refused: the ratings are stored, the cleaning judges
    them (BURST) and the agency sees this alert on the campaign's alerts page."""

    campaign = restrict(Campaign, null=False, index=True)
    window = restrict(ServiceWindow, null=False)
    started_at = Timestamptz()
    threshold = Integer()
    period_s = Integer()


class CleaningRun(Table, tablename="cleaning_run"):
    campaign = restrict(Campaign, null=False)
    revision = Integer()
    ran_at = Timestamptz(default=TimestamptzNow())
    ran_by = Varchar(length=64, default="")
    summary = JSON(default={})
    scores = JSON(default=[])  # the scores.csv rows of this run
    report_html = Text(default="")


class Flag(Table):
    campaign = restrict(Campaign, null=False)
    revision = Integer()
    response_id = Varchar(length=64, default="")
    rater = Varchar(length=64, default="")
    ratee = Varchar(length=64, default="")
    reason = Varchar(length=16)
    action = Varchar(length=16)
    weight = DoublePrecision(default=1.0)
    detail = Text(default="")
    overridden = Boolean(default=False)


class Override(Table):
    """A person's decision that a flag is void; survives re-runs of the cleaning."""

    campaign = restrict(Campaign, null=False)
    reason = Varchar(length=16)
    response_id = Varchar(length=64, default="")
    rater = Varchar(length=64, default="")
    note = Text()
    by_user = Varchar(length=64)
    at = Timestamptz(default=TimestamptzNow())


class Publication(Table):
    """Published numbers are frozen: a later re-run publishes a new revision."""

    campaign = restrict(Campaign, null=False)
    revision = Integer()
    published_at = Timestamptz(default=TimestamptzNow())
    published_by = Varchar(length=64)
    snapshot = Text()  # canonical JSON of every input behind the feed, and its rows
    snapshot_hash = Varchar(length=64)
    note = Text(default="")
    # the campaign report as it read at publication, in both languages
    report_zh = Text(default="")
    report_en = Text(default="")


class Appeal(Table):
    campaign = restrict(Campaign, null=False)
    staff = restrict(Staff, null=False)
    revision = Integer()
    snapshot_hash = Varchar(length=64)
    reason = Text()
    state = Varchar(length=16, default="submitted")  # submitted -> upheld | rejected
    created_at = Timestamptz(default=TimestamptzNow())
    decided_by = Varchar(length=64, default="")
    decision = Text(default="")
    decided_at = Timestamptz(null=True, default=None)


class GradeDecision(Table, tablename="grade_decision"):
    """The final grade: recorded only with the deciding person's approval."""

    campaign = restrict(Campaign, null=False)
    staff = restrict(Staff, null=False)
    revision = Integer()
    recommended = Varchar(length=16)
    final = Varchar(length=16)
    approved_by = Varchar(length=100)
    note = Text(default="")
    at = Timestamptz(default=TimestamptzNow())


class AuditEvent(Table, tablename="audit_event"):
    """Every admin write. Hash-chained so edits behind the application's back show."""

    seq = Integer(unique=True)
    at = Timestamptz(default=TimestamptzNow())
    actor = Varchar(length=64)
    action = Varchar(length=64)
    target = Varchar(length=200, default="")
    before = JSON(default={})
    after = JSON(default={})
    prev_hash = Varchar(length=64)
    hash = Varchar(length=64, unique=True)


ALL_TABLES: list[type[Table]] = [
    Organization,
    Unit,
    ServiceWindow,
    Staff,
    Questionnaire,
    QuestionnaireVersion,
    Item,
    Campaign,
    CampaignUnit,
    CampaignKey,
    DailyKey,
    Assignment,
    Invitation,
    InvitationDraft,
    Device,
    ApiKey,
    Ticket,
    ServedCount,
    AdminUser,
    Response,
    Answer,
    BadReviewCase,
    CitizenContact,
    TicketContact,
    PhoneRound,
    PhoneCall,
    MysteryChecklist,
    MysteryVisit,
    OutboxEvent,
    OutboxBatch,
    PressureReport,
    VolumeAlert,
    CleaningRun,
    Flag,
    Override,
    Publication,
    Appeal,
    GradeDecision,
    AuditEvent,
]
