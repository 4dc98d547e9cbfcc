"""Campaigns: creation, the state machine, their keys and who rates whom.

States (DESIGN.md section 4): draft -> open -> closed -> cleaned -> published.
Cleaning may run again on a cleaned or published campaign; that makes a new
revision, which is published in turn (published numbers are never rewritten).
"""

from __future__ import annotations

import random
import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from pingyi.db.tables import (
    Assignment,
    Campaign,
    CampaignKey,
    CampaignUnit,
    Staff,
    Unit,
)
from pingyi.security import hmac_hex
from pingyi.services import audit
from pingyi.services.reference_cache import forget_all

DEFAULT_WEIGHTS = {"public": 30, "peer": 20, "superior": 30, "self": 20}

# target state -> states it may be reached from
MOVES: dict[str, tuple[str, ...]] = {
    "open": ("draft",),
    "closed": ("open",),
    "cleaned": ("closed", "cleaned", "published"),
    "published": ("cleaned",),
}


class CampaignError(ValueError):
    pass


@dataclass(frozen=True)
class CampaignSpec:
    code: str
    name: str
    period_start: date
    period_end: date
    unit_codes: list[str]
    series: str = ""
    public_version: int | None = None
    peer_version: int | None = None
    superior_version: int | None = None
    self_version: int | None = None
    weights: dict[str, float] | None = None
    k: int = 3
    peer_sample: int = 0
    policy: dict[str, Any] | None = None


async def create_campaign(spec: CampaignSpec, actor: str = "system") -> int:
    if spec.period_end < spec.period_start:
        raise CampaignError("the period must end after it starts")
    if spec.k < 1:
        raise CampaignError("k must be at least 1")
    weights = spec.weights or DEFAULT_WEIGHTS
    if any(w < 0 for w in weights.values()) or not any(weights.values()):
        raise CampaignError("role weights must be non-negative and not all zero")
    if await Campaign.exists().where(Campaign.code == spec.code):
        raise CampaignError(f"campaign {spec.code!r} already exists")
    units = await Unit.select(Unit.id, Unit.code).where(Unit.code.is_in(spec.unit_codes or [""]))
    missing = set(spec.unit_codes) - {u["code"] for u in units}
    if missing or not units:
        raise CampaignError(f"unknown units: {', '.join(sorted(missing)) or '(none chosen)'}")
    inserted = await Campaign.insert(
        Campaign(
            code=spec.code,
            name=spec.name,
            series=spec.series,
            period_start=spec.period_start,
            period_end=spec.period_end,
            public_version=spec.public_version,
            peer_version=spec.peer_version,
            superior_version=spec.superior_version,
            self_version=spec.self_version,
            weights=weights,
            k=spec.k,
            peer_sample=spec.peer_sample,
            policy=spec.policy or {},
        )
    )
    campaign_id = int(inserted[0]["id"])
    await CampaignUnit.insert(*[CampaignUnit(campaign=campaign_id, unit=u["id"]) for u in units])
    # A fresh key per campaign: rater pseudonyms must not be stable across campaigns.
    await CampaignKey.insert(
        CampaignKey(campaign=campaign_id, purpose="rater", key_hex=secrets.token_hex(32))
    )
    await audit.record(
        actor,
        "campaign.create",
        f"campaign:{spec.code}",
        after={"name": spec.name, "units": sorted(spec.unit_codes)},
    )
    return campaign_id


async def get_campaign(code: str) -> dict[str, Any]:
    row = await Campaign.select().where(Campaign.code == code).output(load_json=True).first()
    if row is None:
        raise CampaignError(f"no campaign with code {code!r}")
    return dict(row)


async def campaign_by_id(campaign_id: int) -> dict[str, Any] | None:
    row = await Campaign.select().where(Campaign.id == campaign_id).output(load_json=True).first()
    return dict(row) if row else None


def check_move(campaign: dict[str, Any], target: str) -> None:
    """Raise CampaignError saying why the campaign cannot become `target` now."""
    if target not in MOVES:
        raise CampaignError(f"unknown state {target!r}")
    if campaign["state"] not in MOVES[target]:
        allowed_from = " or ".join(MOVES[target])
        raise CampaignError(
            f"campaign {campaign['code']} is {campaign['state']}; it can become {target} "
            f"only from {allowed_from}"
        )


async def move(code: str, target: str, actor: str) -> dict[str, Any]:
    """Change state, or raise CampaignError saying why the move is not allowed."""
    campaign = await get_campaign(code)
    check_move(campaign, target)
    changes: dict[str, Any] = {"state": target}
    if target == "open":
        changes["opens_at"] = datetime.now(UTC)
    elif target == "closed":
        changes["closes_at"] = datetime.now(UTC)
    # Compare and set: of two moves at once (a double click, the scheduler and a
    # person) exactly one wins; the other is told, and nothing is built twice.
    async with Campaign._meta.db.transaction():
        won = (
            await Campaign.update(changes)
            .where((Campaign.id == campaign["id"]) & (Campaign.state == campaign["state"]))
            .returning(Campaign.id)
        )
        if not won:
            raise CampaignError(f"campaign {code} changed state just now; reload the page")
        if target == "open" and not await Assignment.exists().where(
            Assignment.campaign == campaign["id"]
        ):
            await build_assignments(campaign["id"])
    forget_all()  # this process's copies of the submission path's reference data
    await audit.record(
        actor,
        f"campaign.{target}",
        f"campaign:{code}",
        before={"state": campaign["state"]},
        after={"state": target},
    )
    return {**campaign, **changes}


async def rater_key(campaign_id: int) -> bytes:
    row = (
        await CampaignKey.select(CampaignKey.key_hex)
        .where((CampaignKey.campaign == campaign_id) & (CampaignKey.purpose == "rater"))
        .first()
    )
    if row is None:
        raise CampaignError("this campaign has no rater key (it was purged)")
    return bytes.fromhex(row["key_hex"])


def pseudonym(key: bytes, staff_id: int) -> str:
    """HMAC(campaign key, staff id): stable within a campaign, unlinkable across."""
    return hmac_hex(key, f"staff:{staff_id}", length=24)


async def units_in_scope(campaign_id: int) -> list[int]:
    rows = await CampaignUnit.select(CampaignUnit.unit).where(CampaignUnit.campaign == campaign_id)
    return [r["unit"] for r in rows]


async def build_assignments(campaign_id: int, seed: int | None = None) -> int:
    """Who rates whom: every staff member rates themself; the unit's leaders rate its
    other staff as superiors; colleagues of the same unit rate each other as peers,
    all of them or, with `peer_sample = m`, a balanced sample of m per ratee."""
    campaign = await campaign_by_id(campaign_id)
    assert campaign is not None
    await Assignment.delete().where(Assignment.campaign == campaign_id)
    rng = random.Random(seed if seed is not None else secrets.randbits(64))
    rows: list[Assignment] = []
    for unit_id in await units_in_scope(campaign_id):
        staff = (
            await Staff.select(Staff.id, Staff.is_leader)
            .where((Staff.unit == unit_id) & Staff.active.eq(True))
            .order_by(Staff.id)
        )
        leaders = [s["id"] for s in staff if s["is_leader"]]
        members = [s["id"] for s in staff if not s["is_leader"]]
        for s in staff:
            rows.append(Assignment(campaign=campaign_id, rater=s["id"], ratee=s["id"], role="self"))
        for leader in leaders:
            rows.extend(
                Assignment(campaign=campaign_id, rater=leader, ratee=m, role="superior")
                for m in members
            )
        for group in (members, leaders):
            for rater, ratee in peer_pairs(group, campaign["peer_sample"], rng):
                rows.append(Assignment(campaign=campaign_id, rater=rater, ratee=ratee, role="peer"))
    if rows:
        await Assignment.insert(*rows)
    return len(rows)


def peer_pairs(group: list[int], m: int, rng: random.Random) -> list[tuple[int, int]]:
    """All ordered pairs of distinct colleagues, or a circulant design on a shuffled
    order so that every ratee gets exactly m raters and every rater rates m people."""
    n = len(group)
    if n < 2:
        return []
    if m <= 0 or m >= n - 1:
        return [(a, b) for a in group for b in group if a != b]
    order = group[:]
    rng.shuffle(order)
    return [(order[i], order[(i + j) % n]) for i in range(n) for j in range(1, m + 1)]


async def _staff_ids(*codes: str) -> list[dict[str, Any]]:
    rows = await Staff.select(Staff.id, Staff.code, Staff.unit, Staff.is_leader).where(
        Staff.code.is_in(list(codes))
    )
    found = {r["code"]: r for r in rows}
    missing = [c for c in codes if c not in found]
    if missing:
        raise CampaignError(f"no staff member with code {missing[0]!r}")
    return [found[c] for c in codes]


async def change_assignment(
    code: str, rater_code: str, ratee_code: str, role: str, add: bool, actor: str
) -> None:
    """Adjust who rates whom; only while the campaign is a draft."""
    campaign = await get_campaign(code)
    if campaign["state"] != "draft":
        raise CampaignError("assignments can be changed only before the campaign opens")
    if role not in ("peer", "superior", "self"):
        raise CampaignError("role must be peer, superior or self")
    rater, ratee = await _staff_ids(rater_code, ratee_code)
    if add:
        if (role == "self") != (rater["id"] == ratee["id"]):
            raise CampaignError("a self-assessment is the only rating of oneself")
        if rater["unit"] != ratee["unit"]:
            raise CampaignError("raters and ratees must belong to the same unit")
        if await Assignment.exists().where(
            (Assignment.campaign == campaign["id"])
            & (Assignment.rater == rater["id"])
            & (Assignment.ratee == ratee["id"])
            & (Assignment.role == role)
        ):
            raise CampaignError("this assignment exists already")
        await Assignment.insert(
            Assignment(campaign=campaign["id"], rater=rater["id"], ratee=ratee["id"], role=role)
        )
    else:
        await Assignment.delete().where(
            (Assignment.campaign == campaign["id"])
            & (Assignment.rater == rater["id"])
            & (Assignment.ratee == ratee["id"])
            & (Assignment.role == role)
        )
    await audit.record(
        actor,
        "assignment.add" if add else "assignment.remove",
        f"campaign:{code}",
        after={"rater": rater_code, "ratee": ratee_code, "role": role},
    )


async def assignment_table(campaign_id: int) -> list[dict[str, Any]]:
    return list(
        await Assignment.select(
            Assignment.role,
            Assignment.rater.code.as_alias("rater_code"),
            Assignment.rater.name.as_alias("rater_name"),
            Assignment.ratee.code.as_alias("ratee_code"),
            Assignment.ratee.name.as_alias("ratee_name"),
            Assignment.ratee.unit.name.as_alias("unit"),
        )
        .where(Assignment.campaign == campaign_id)
        .order_by(Assignment.ratee)
        .order_by(Assignment.role)
    )
