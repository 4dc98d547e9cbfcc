"""The counts behind the console's homes (services/home.py), each aggregated by the
database in a fixed number of queries, whatever the size of the organisation: open
campaigns' progress per unit, public ratings per local day, a unit's public
satisfaction per campaign, overdue and due-today cases as SQL conditions. Published
feeds are read once per publication and kept, since a publication never changes.
"""

from __future__ import annotations

import json
from collections import OrderedDict, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from piccolo.query.functions.aggregate import Count

from pingyi.db.tables import (
    Assignment,
    Campaign,
    CampaignUnit,
    Publication,
    Response,
    Unit,
)
from pingyi.hours import LOCAL_TZ, local_today
from pingyi.scoring import Policy

LOW_PARTICIPATION = 0.6  # colleague ratings in / planned, below which a unit is listed
RATER_ROLES = ["peer", "superior", "self"]
# (publication id, snapshot hash) -> rows by staff code; the hash makes a reused id
# (a database restored or rebuilt) a different key
_FEEDS: OrderedDict[tuple[int, str], dict[str, dict[str, Any]]] = OrderedDict()
_FEEDS_KEPT = 8


def aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def days_left(campaign: dict[str, Any], now: datetime) -> int:
    if campaign.get("closes_at"):
        closing = aware(campaign["closes_at"]).astimezone(LOCAL_TZ).date()
    else:
        closing = campaign["period_end"]
    return (closing - local_today(now)).days


async def grouped_counts(query: Any, *keys: str) -> dict[tuple[Any, ...], int]:
    return {tuple(r[k] for k in keys): int(r["count"]) for r in await query}


async def public_per_day(campaign_ids: list[int]) -> dict[int, list[tuple[str, int]]]:
    """Public ratings per local day, per campaign, counted by the database."""
    if not campaign_ids:
        return {}
    db = Response._meta.db
    placeholders = ", ".join("{}" for _ in campaign_ids)
    if db.engine_type == "sqlite":
        offset = int((datetime.now(LOCAL_TZ).utcoffset() or timedelta()).total_seconds() // 3600)
        day = f"date(submitted_at, '{offset:+d} hours')"
    else:
        day = f"CAST((submitted_at AT TIME ZONE '{LOCAL_TZ.key}') AS DATE)"
    # only constants and placeholders are put into the text; the ids are parameters
    rows = await Response.raw(
        f"SELECT campaign, {day} AS day, COUNT(*) AS n FROM response "  # noqa: S608
        f"WHERE role = 'public' AND submitted_at IS NOT NULL AND campaign IN ({placeholders}) "
        "GROUP BY campaign, day",
        *campaign_ids,
    )
    out: dict[int, list[tuple[str, int]]] = defaultdict(list)
    for r in rows:
        out[int(r["campaign"])].append((str(r["day"]), int(r["n"])))
    return {k: sorted(v) for k, v in out.items()}


@dataclass
class Progress:
    """An open campaign's progress (counts only)."""

    code: str
    name: str
    days_left: int
    planned: int  # colleague (peer, superior, self) ratings assigned
    received: int
    public: int
    per_day: list[tuple[str, int]] = field(default_factory=list)  # public ratings, local day
    low_units: list[dict[str, Any]] = field(default_factory=list)

    @property
    def rate(self) -> float | None:
        return self.received / self.planned if self.planned else None


async def campaign_progress(
    now: datetime, unit: int | None = None, with_days: bool = True
) -> list[Progress]:
    """Open campaigns (those covering `unit` when given), soonest closing first."""
    campaigns = await Campaign.select(
        Campaign.id, Campaign.code, Campaign.name, Campaign.closes_at, Campaign.period_end
    ).where(Campaign.state == "open")
    if unit is not None:  # a leader: only the campaigns that cover their unit
        covering = {
            r["campaign"]
            for r in await CampaignUnit.select(CampaignUnit.campaign).where(
                CampaignUnit.unit == unit
            )
        }
        campaigns = [c for c in campaigns if c["id"] in covering]
    if not campaigns:
        return []
    ids = [c["id"] for c in campaigns]
    assigned_q = (
        Assignment.select(Assignment.campaign, Assignment.ratee.unit.as_alias("unit"), Count())
        .where(Assignment.campaign.is_in(ids))
        .group_by(Assignment.campaign, Assignment.ratee.unit)
    )
    received_q = (
        Response.select(Response.campaign, Response.ratee.unit.as_alias("unit"), Count())
        .where(Response.campaign.is_in(ids) & Response.role.is_in(RATER_ROLES))
        .group_by(Response.campaign, Response.ratee.unit)
    )
    public_q = (
        Response.select(Response.campaign, Count())
        .where(Response.campaign.is_in(ids) & (Response.role == "public"))
        .group_by(Response.campaign)
    )
    if unit is not None:
        assigned_q = assigned_q.where(Assignment.ratee.unit == unit)
        received_q = received_q.where(Response.ratee.unit == unit)
        public_q = (
            Response.select(Response.campaign, Count())
            .where(
                Response.campaign.is_in(ids)
                & (Response.role == "public")
                & (Response.window.unit == unit)
            )
            .group_by(Response.campaign)
        )
    assigned = await grouped_counts(assigned_q, "campaign", "unit")
    received = await grouped_counts(received_q, "campaign", "unit")
    public = await grouped_counts(public_q, "campaign")
    unit_ids = {u for _, u in assigned}
    names = (
        {
            u["id"]: u["name"]
            for u in await Unit.select(Unit.id, Unit.name).where(Unit.id.is_in(list(unit_ids)))
        }
        if unit_ids
        else {}
    )
    per_day = await public_per_day(ids) if with_days and unit is None else {}
    out = []
    for c in campaigns:
        units = {u: n for (cid, u), n in assigned.items() if cid == c["id"]}
        low = []
        for u, planned in units.items():
            got = received.get((c["id"], u), 0)
            if planned and got / planned < LOW_PARTICIPATION:
                low.append(
                    {"unit": u, "name": names.get(u, "?"), "planned": planned, "received": got}
                )
        low.sort(key=lambda x: (x["received"] / x["planned"], x["name"]))
        out.append(
            Progress(
                code=c["code"],
                name=c["name"],
                days_left=days_left(c, now),
                planned=sum(units.values()),
                received=sum(n for (cid, _), n in received.items() if cid == c["id"]),
                public=public.get((c["id"],), 0),
                per_day=per_day.get(c["id"], []),
                low_units=low,
            )
        )
    return sorted(out, key=lambda p: (p.days_left, p.code))


async def feed_rows(publication: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """A publication's frozen rows by staff code (`publication` as from
    `latest_publications`)."""
    key = (int(publication["id"]), str(publication["snapshot_hash"]))
    if key in _FEEDS:
        _FEEDS.move_to_end(key)
        return _FEEDS[key]
    publication_id = key[0]
    row = (
        await Publication.select(Publication.snapshot)
        .where(Publication.id == publication_id)
        .first()
    )
    rows = {r["staff_code"]: r for r in json.loads(row["snapshot"])["rows"]} if row else {}
    _FEEDS[key] = rows
    while len(_FEEDS) > _FEEDS_KEPT:
        _FEEDS.popitem(last=False)
    return rows


async def latest_publications(campaign_ids: list[int] | None = None) -> dict[int, dict[str, Any]]:
    """The newest publication of each published campaign (id, revision, when)."""
    query = Publication.select(
        Publication.id,
        Publication.campaign,
        Publication.revision,
        Publication.published_at,
        Publication.snapshot_hash,
    ).order_by(Publication.revision)
    if campaign_ids is not None:
        query = query.where(Publication.campaign.is_in(campaign_ids or [0]))
    latest: dict[int, dict[str, Any]] = {}
    for p in await query:
        latest[p["campaign"]] = p  # ordered by revision: the last one wins
    return latest


async def unit_satisfaction(unit: int) -> list[tuple[str, float, int]]:
    """(campaign name, satisfied share, n) of the unit's public `overall` answers per
    campaign, oldest first; raw counts before cleaning, bot traps left out."""
    rows = await Response.raw(
        "SELECT r.campaign AS campaign, a.score AS score, COUNT(*) AS n "
        "FROM answer a JOIN response r ON r.id = a.response "
        'JOIN service_window w ON w.id = r."window" '
        "WHERE w.unit = {} AND r.role = 'public' AND a.item = 'overall' AND r.honeypot = {} "
        "AND a.score IS NOT NULL GROUP BY r.campaign, a.score",
        unit,
        False,
    )
    counts: dict[int, dict[int, int]] = defaultdict(dict)
    for r in rows:
        counts[int(r["campaign"])][int(r["score"])] = int(r["n"])
    if not counts:
        return []
    campaigns = (
        await Campaign.select(Campaign.id, Campaign.name, Campaign.policy, Campaign.period_start)
        .where(Campaign.id.is_in(list(counts)))
        .output(load_json=True)
    )
    out = []
    for c in sorted(campaigns, key=lambda c: c["period_start"]):
        lowest = Policy.from_json(c["policy"] or {}, strict=False).satisfied_min
        by_level = counts[c["id"]]
        n = sum(by_level.values())
        satisfied = sum(v for level, v in by_level.items() if level >= lowest)
        out.append((c["name"], satisfied / n, n))
    return out
