"""Peer, superior and self ratings through one-time links (DESIGN.md section 3).

What is stored, and what is not:
- an invitation holds the hash of its token, the rater's staff id and `used`;
- a response holds `rater = HMAC(campaign key, staff id)`, the ratee, the role,
  the answers and the time spent as a duration; no submission time, no token, no
  invitation id; its id is random;
- its idempotency key is HMAC(campaign key, rater:ratee:role), so a retry stores
  nothing new, and without the campaign key it cannot be joined to anyone.
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from pingyi.db.tables import (
    Assignment,
    Campaign,
    Invitation,
    InvitationDraft,
    Response,
    Staff,
    Unit,
)
from pingyi.exports import write_csv
from pingyi.security import derive_key, hmac_hex, new_token, sign, token_hash, unsign
from pingyi.services import audit
from pingyi.services.campaigns import CampaignError, get_campaign, pseudonym, rater_key
from pingyi.services.public_rating import COMMENT_MAX, LEVELS
from pingyi.services.questionnaires import items_of
from pingyi.services.writer import NewResponse, write_batch
from pingyi.settings import get_settings

ROLE_ORDER = ("self", "superior", "peer")


def invitation_url(token: str) -> str:
    return f"{get_settings().base_url}/i/{token}"


@dataclass(frozen=True)
class IssuedLink:
    staff_code: str
    name: str
    unit: str
    url: str


async def issue_invitations(
    campaign_code: str, only_unused: bool = True, actor: str = "cli"
) -> list[IssuedLink]:
    """One invitation per rater. Tokens exist only as hashes, so exporting links means
    issuing fresh ones: an earlier, unused link of the same person stops working.
    With `only_unused`, people who have already responded are left out (reminders)."""
    campaign = await get_campaign(campaign_code)
    if campaign["state"] not in ("draft", "open"):
        raise CampaignError(f"campaign {campaign_code} is {campaign['state']}; links are closed")
    raters = (
        await Assignment.select(Assignment.rater)
        .where(Assignment.campaign == campaign["id"])
        .distinct()
    )
    rater_ids = sorted({r["rater"] for r in raters})
    if not rater_ids:
        raise CampaignError("no assignments yet: open the campaign or build assignments first")
    people = (
        await Staff.select(Staff.id, Staff.code, Staff.name, Staff.unit.name.as_alias("unit_name"))
        .where(Staff.id.is_in(rater_ids))
        .order_by(Staff.unit)
        .order_by(Staff.code)
    )
    existing = await Invitation.select().where(
        (Invitation.campaign == campaign["id"]) & Invitation.revoked.eq(False)
    )
    used = {i["staff"] for i in existing if i["used"]}
    links = []
    for person in people:
        if only_unused and person["id"] in used:
            continue
        links.append(
            IssuedLink(
                person["code"],
                person["name"],
                person["unit_name"],
                invitation_url(await _reissue(campaign["id"], person["id"])),
            )
        )
    await audit.record(
        actor,
        "invitations.issue",
        f"campaign:{campaign_code}",
        after={"count": len(links), "only_unused": only_unused},
    )
    return links


async def _reissue(campaign_id: int, staff_id: int) -> str:
    previous = (
        await Invitation.update({Invitation.revoked: True})
        .where(
            (Invitation.campaign == campaign_id)
            & (Invitation.staff == staff_id)
            & Invitation.revoked.eq(False)
        )
        .returning(Invitation.used)
    )
    token = new_token(24)
    await Invitation.insert(
        Invitation(
            campaign=campaign_id,
            staff=staff_id,
            token_hash=token_hash(token),
            used=any(p["used"] for p in previous),  # response-rate counts survive a reissue
        )
    )
    return token


async def revoke(campaign_code: str, staff_code: str, actor: str) -> int:
    campaign = await get_campaign(campaign_code)
    staff = await Staff.select(Staff.id).where(Staff.code == staff_code).first()
    if staff is None:
        raise CampaignError(f"no staff member with code {staff_code!r}")
    changed = (
        await Invitation.update({Invitation.revoked: True})
        .where(
            (Invitation.campaign == campaign["id"])
            & (Invitation.staff == staff["id"])
            & Invitation.revoked.eq(False)
        )
        .returning(Invitation.id)
    )
    await audit.record(
        actor,
        "invitation.revoke",
        f"campaign:{campaign_code}",
        after={"staff": staff_code, "revoked": len(changed)},
    )
    return len(changed)


@dataclass
class Sheet:
    """What one rater sees: the colleagues assigned, by role, with items and drafts."""

    invitation_id: int
    staff_id: int
    campaign: dict[str, Any]
    rater_name: str
    groups: list[dict[str, Any]] = field(default_factory=list)
    draft: dict[str, str] = field(default_factory=dict)
    submitted: set[tuple[int, str]] = field(default_factory=set)

    @property
    def pending(self) -> int:
        return sum(
            1
            for g in self.groups
            for r in g["ratees"]
            if (r["id"], g["role"]) not in self.submitted
        )


async def open_invitation(token: str) -> tuple[str, Sheet | None]:
    """(state, sheet): state is valid, unknown, revoked or closed."""
    if not token or len(token) > 64:
        return "unknown", None
    invitation = await Invitation.select().where(Invitation.token_hash == token_hash(token)).first()
    if invitation is None:
        return "unknown", None
    if invitation["revoked"]:
        return "revoked", None
    campaign = (
        await Campaign.select(
            Campaign.id,
            Campaign.code,
            Campaign.name,
            Campaign.state,
            Campaign.peer_version,
            Campaign.superior_version,
            Campaign.self_version,
            Campaign.k,
        )
        .where(Campaign.id == invitation["campaign"])
        .first()
    )
    assert campaign is not None
    if campaign["state"] != "open":
        return "closed", None
    return "valid", await _sheet(invitation, dict(campaign))


async def _sheet(invitation: dict[str, Any], campaign: dict[str, Any]) -> Sheet:
    rater = await Staff.select(Staff.name).where(Staff.id == invitation["staff"]).first()
    assert rater is not None
    rows = await Assignment.select(
        Assignment.role,
        Assignment.ratee,
        Assignment.ratee.name.as_alias("name"),
        Assignment.ratee.code.as_alias("code"),
    ).where((Assignment.campaign == campaign["id"]) & (Assignment.rater == invitation["staff"]))
    by_role: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in sorted(rows, key=lambda r: r["code"]):
        by_role[row["role"]].append({"id": row["ratee"], "name": row["name"]})
    sheet = Sheet(invitation["id"], invitation["staff"], campaign, rater["name"])
    for role in ROLE_ORDER:
        version = campaign.get(f"{role}_version")
        if by_role.get(role) and version:
            items = [i for i in await items_of(version) if i["kind"] == "scale5"]
            sheet.groups.append({"role": role, "items": items, "ratees": by_role[role]})
    draft = (
        await InvitationDraft.select(InvitationDraft.answers)
        .where(InvitationDraft.invitation == invitation["id"])
        .output(load_json=True)
        .first()
    )
    sheet.draft = dict(draft["answers"]) if draft else {}
    key = await rater_key(campaign["id"])
    done = await Response.select(Response.ratee, Response.role).where(
        (Response.campaign == campaign["id"])
        & (Response.rater == pseudonym(key, invitation["staff"]))
    )
    sheet.submitted = {(r["ratee"], r["role"]) for r in done}
    return sheet


def field_name(role: str, ratee_id: int, item: str) -> str:
    return f"{role}.{ratee_id}.{item}"


def _form_key() -> bytes:
    return derive_key(get_settings().secret_key, "peer-form")


def form_token(invitation_id: int) -> str:
    return sign(_form_key(), f"{invitation_id}~{time.time():.3f}")


def rendered_at(token: str, invitation_id: int) -> float | None:
    payload = unsign(_form_key(), token[:200])
    if not payload:
        return None
    ident, _, stamp = payload.partition("~")
    if ident != str(invitation_id):
        return None
    try:
        return float(stamp)
    except ValueError:
        return None


@dataclass
class PeerOutcome:
    errors: dict[str, str] = field(default_factory=dict)  # field -> message key
    stored: int = 0
    saved: bool = False


async def save_or_submit(
    sheet: Sheet, form: dict[str, str], submit: str, started: float
) -> PeerOutcome:
    """`submit` is "save" (keep a draft), "all", or "<role>.<ratee id>" for one person."""
    outcome = PeerOutcome()
    values = {k: v for k, v in form.items() if k.count(".") == 2 and isinstance(v, str)}
    if submit == "save":
        await _save_draft(sheet.invitation_id, values)
        outcome.saved = True
        return outcome
    targets = [
        (g, r)
        for g in sheet.groups
        for r in g["ratees"]
        if (r["id"], g["role"]) not in sheet.submitted
        and (submit == "all" or submit == f"{g['role']}.{r['id']}")
    ]
    complete: list[tuple[dict[str, Any], dict[str, Any], list[Any], str]] = []
    for group, ratee in targets:
        answers, comment, missing = _answers_for(group, ratee["id"], values)
        if missing:
            # Submitting everything skips people not rated at all (they stay pending);
            # a half-rated person, or a single submission, must be complete.
            if submit == "all" and len(missing) == len(group["items"]) and not comment:
                continue
            outcome.errors.update({m: "rate.error.required" for m in missing})
            continue
        if len(comment) > COMMENT_MAX:
            outcome.errors[field_name(group["role"], ratee["id"], "comment")] = (
                "rate.error.too_long"
            )
            continue
        complete.append((group, ratee, answers, comment))
    if outcome.errors or not complete:
        await _save_draft(sheet.invitation_id, values)
        if not outcome.errors:
            outcome.errors["_"] = "peer.error.nothing"
        return outcome
    key = await rater_key(sheet.campaign["id"])
    rater = pseudonym(key, sheet.staff_id)
    # Time spent is shared out over the people submitted together; it is the only
    # timing kept (a duration, never a clock time).
    duration = max(0.0, time.time() - started) / len(complete)
    batch = [
        NewResponse(
            campaign_id=sheet.campaign["id"],
            role=group["role"],
            channel="link",
            answers=answers,
            version_id=sheet.campaign.get(f"{group['role']}_version"),
            ratee_id=ratee["id"],
            rater=rater,
            comment=comment,
            duration_s=round(duration, 1),
            client_id="p:" + hmac_hex(key, f"{rater}:{ratee['id']}:{group['role']}"),
        )
        for group, ratee, answers, comment in complete
    ]
    results = await write_batch(batch)
    outcome.stored = sum(1 for r in results if r.created)
    await Invitation.update({Invitation.used: True}).where(Invitation.id == sheet.invitation_id)
    submitted_prefixes = {f"{g['role']}.{r['id']}." for g, r, _, _ in complete}
    await _save_draft(
        sheet.invitation_id,
        {k: v for k, v in values.items() if not any(k.startswith(p) for p in submitted_prefixes)},
    )
    return outcome


_LEVEL_TEXT = frozenset(str(level) for level in LEVELS)


def _answers_for(
    group: dict[str, Any], ratee_id: int, values: dict[str, str]
) -> tuple[list[Any], str, list[str]]:
    answers, missing = [], []
    for item in group["items"]:
        name = field_name(group["role"], ratee_id, item["code"])
        raw = values.get(name, "")
        # Only the plain digits 1-5: str.isdigit() also accepts "²", which int() refuses.
        level = int(raw) if raw in _LEVEL_TEXT else None
        if level is None:
            if item["required"]:
                missing.append(name)
            continue
        answers.append((item["code"], level, ""))
    comment = values.get(field_name(group["role"], ratee_id, "comment"), "").strip()
    return answers, comment, missing


async def _save_draft(invitation_id: int, values: dict[str, str]) -> None:
    clean = {k: v[:COMMENT_MAX] for k, v in values.items() if v}
    existing = (
        await InvitationDraft.select(InvitationDraft.id)
        .where(InvitationDraft.invitation == invitation_id)
        .first()
    )
    if existing:
        await InvitationDraft.update({InvitationDraft.answers: clean}).where(
            InvitationDraft.id == existing["id"]
        )
    else:
        await InvitationDraft.insert(InvitationDraft(invitation=invitation_id, answers=clean))


async def response_rates(campaign_code: str, only_unit: int | None = None) -> list[dict[str, Any]]:
    """Counts only, per unit and role: assigned pairs and submitted responses; with
    `only_unit`, that unit's rows alone."""
    campaign = await get_campaign(campaign_code)
    assigned = await Assignment.select(
        Assignment.role, Assignment.ratee.unit.as_alias("unit")
    ).where(Assignment.campaign == campaign["id"])
    answered = await Response.select(Response.role, Response.ratee.unit.as_alias("unit")).where(
        (Response.campaign == campaign["id"]) & Response.role.is_in(list(ROLE_ORDER))
    )
    if only_unit is not None:
        assigned = [r for r in assigned if r["unit"] == only_unit]
        answered = [r for r in answered if r["unit"] == only_unit]
    units = {u["id"]: u["name"] for u in await Unit.select(Unit.id, Unit.name)}
    counts: dict[tuple[int, str], list[int]] = defaultdict(lambda: [0, 0])
    for row in assigned:
        counts[(row["unit"], row["role"])][0] += 1
    for row in answered:
        counts[(row["unit"], row["role"])][1] += 1
    invitations = await Invitation.select(
        Invitation.used, Invitation.staff.unit.as_alias("unit")
    ).where((Invitation.campaign == campaign["id"]) & Invitation.revoked.eq(False))
    people: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for row in invitations:
        people[row["unit"]][0] += 1
        people[row["unit"]][1] += int(row["used"])
    return [
        {
            "unit": units.get(unit, "?"),
            "role": role,
            "assigned": a,
            "submitted": s,
            "rate": (s / a) if a else None,
            "invited": people[unit][0],
            "responded": people[unit][1],
        }
        for (unit, role), (a, s) in sorted(
            counts.items(), key=lambda kv: (units.get(kv[0][0], ""), ROLE_ORDER.index(kv[0][1]))
        )
    ]


def links_csv(links: list[IssuedLink]) -> bytes:
    """Formula-safe, with a BOM so Excel opens the Chinese. Treat it like passwords."""
    return write_csv(
        ["工号", "姓名", "单位", "评议链接"],
        ([link.staff_code, link.name, link.unit, link.url] for link in links),
    )
