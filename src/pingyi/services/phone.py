"""Sampled phone follow-up (电话回访): draw, call list, calls, rates and estimates.

The agency, not the hall, picks whom to call: a stratified random sample (unit, window,
ISO week) of the campaign's served tickets, drawn from the queue system's records
(`Ticket`). Only tickets that carry a call-back number (`TicketContact`, recorded by the
queue system) are callable, so the frame is the callable served tickets; the served
counts per stratum are kept beside it to show coverage. A bad-review contact is not
used: it was given for the case (and is deleted when the case closes), and only
unhappy citizens leave one, so sampling it would select on the answer.

The frame, the seed, the per-stratum size, each ticket's selection probability and
hashes of the frame and the draw are stored and written to the audit log, so anyone
can re-draw the sample (`verify_round`). The number is decrypted only for the
interviewer making the call, one call at a time, each reveal audited; it is never
exported. A completed call is stored through the rating writer as a public response
with channel ``phone`` whose rater is the interviewer's pseudonym. The statistics
(AAPOR RR1 and CON1, the Hajek estimate and its interval) are in `pingyi.sampling`.
"""

from __future__ import annotations

import json
import math
import secrets
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from pingyi import report_stats as rs
from pingyi import sampling
from pingyi.db.tables import (
    Answer,
    Campaign,
    CampaignUnit,
    CleaningRun,
    Flag,
    PhoneCall,
    PhoneRound,
    Response,
    Ticket,
    TicketContact,
    Unit,
)
from pingyi.hours import LOCAL_TZ
from pingyi.security import hmac_hex
from pingyi.services import audit
from pingyi.services.campaigns import rater_key
from pingyi.services.contacts import decrypt_contact, encrypt_contact
from pingyi.services.corrections import superseded_ids
from pingyi.services.public_rating import (
    build_response,
    rating_input_from_form,
    validate,
    window_context,
)
from pingyi.services.writer import ResponseWriter

CALLABLE = ("pending", "no_answer", "call_back")  # may be (re)called
SELF_SELECTED = frozenset({"qr", "ticket"})  # the citizen chose to scan and rate
MAX_PER_STRATUM = 1000


class PhoneError(ValueError):
    """Its message is an i18n key (phone.error.*)."""


def interviewer_pseudonym(key: bytes, user_id: int) -> str:
    """HMAC(campaign key, interviewer login): the rater of a phone response."""
    return hmac_hex(key, f"interviewer:{user_id}", length=24)


async def interviewer_rater(campaign_id: int, user_id: int) -> str:
    """The rater of a phone call or a field interview: the cleaning's INTERVIEWER check
    compares interviewers by this pseudonym, never by login."""
    return interviewer_pseudonym(await rater_key(campaign_id), user_id)


async def set_ticket_contact(ticket_id: int, number: str) -> None:
    """Record (or replace) the call-back number the queue system took with a ticket."""
    number = number.strip()
    if not number or len(number) > 60:
        raise PhoneError("phone.error.number")
    await TicketContact.delete().where(TicketContact.ticket == ticket_id)
    await TicketContact.insert(TicketContact(ticket=ticket_id, ciphertext=encrypt_contact(number)))


def _bounds(day_from: date, day_to: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day_from, time.min, LOCAL_TZ)
    end = datetime.combine(day_to + timedelta(days=1), time.min, LOCAL_TZ)
    return start, end


async def build_frame(
    campaign_id: int, day_from: date, day_to: date
) -> tuple[dict[str, list[int]], dict[str, int]]:
    """(callable tickets by stratum, served tickets by stratum) of the campaign's units,
    issued between the two days (local time, inclusive)."""
    start, end = _bounds(day_from, day_to)
    units = {
        r["unit"]
        for r in await CampaignUnit.select(CampaignUnit.unit).where(
            CampaignUnit.campaign == campaign_id
        )
    }
    tickets = await Ticket.select(
        Ticket.id, Ticket.window, Ticket.window.unit.as_alias("unit"), Ticket.issued_at
    ).where(
        (Ticket.campaign == campaign_id) & (Ticket.issued_at >= start) & (Ticket.issued_at < end)
    )
    with_number = {
        r["ticket"]
        for r in await TicketContact.select(TicketContact.ticket).where(
            (TicketContact.ticket.campaign == campaign_id)
            & (TicketContact.ticket.issued_at >= start)
            & (TicketContact.ticket.issued_at < end)
        )
    }
    frame: dict[str, list[int]] = defaultdict(list)
    served: dict[str, int] = defaultdict(int)
    for t in tickets:
        if t["unit"] not in units:
            continue
        key = sampling.stratum_key(t["unit"], t["window"], t["issued_at"].astimezone(LOCAL_TZ))
        served[key] += 1
        if t["id"] in with_number:
            frame[key].append(int(t["id"]))
    return {k: sorted(v) for k, v in sorted(frame.items())}, dict(sorted(served.items()))


def _parse_stratum(key: str) -> tuple[int, int]:
    unit, window, _ = key.split(":", 2)
    return int(unit), int(window)


async def draw_round(
    campaign_code: str,
    per_stratum: int,
    actor: str,
    day_from: date | None = None,
    day_to: date | None = None,
    seed: str | None = None,
) -> int:
    """Draw a round and store it with its calls; returns the round's id."""
    campaign = await Campaign.select().where(Campaign.code == campaign_code).first()
    if campaign is None:
        raise PhoneError("phone.error.campaign")
    if not 1 <= per_stratum <= MAX_PER_STRATUM:
        raise PhoneError("phone.error.per_stratum")
    day_from = day_from or campaign["period_start"]
    day_to = day_to or campaign["period_end"]
    if day_to < day_from:
        raise PhoneError("phone.error.period")
    seed = seed or secrets.token_hex(16)
    frame, served = await build_frame(campaign["id"], day_from, day_to)
    if not frame:
        raise PhoneError("phone.error.empty_frame")
    selected = sampling.draw(frame, per_stratum, seed)
    frame_hash, draw_hash = sampling.digest(frame), sampling.digest(selected)
    row = await PhoneRound.insert(
        PhoneRound(
            campaign=campaign["id"],
            seed=seed,
            per_stratum=per_stratum,
            frame=frame,
            served=served,
            frame_hash=frame_hash,
            draw_hash=draw_hash,
            created_by=actor,
        )
    )
    round_id = int(row[0]["id"])
    calls = []
    for s in selected:
        unit, window = _parse_stratum(s.stratum)
        calls.append(
            PhoneCall(
                phone_round=round_id,
                ticket=s.ticket_id,
                stratum=s.stratum,
                unit=unit,
                window=window,
                probability=s.probability,
            )
        )
    for i in range(0, len(calls), 200):
        await PhoneCall.insert(*calls[i : i + 200])
    await audit.record(
        actor,
        "phone.draw",
        f"phone_round:{round_id}",
        after={
            "campaign": campaign_code,
            "seed": seed,
            "per_stratum": per_stratum,
            "from": day_from.isoformat(),
            "to": day_to.isoformat(),
            "strata": len(frame),
            "frame_size": sum(len(v) for v in frame.values()),
            "sampled": len(selected),
            "frame_hash": frame_hash,
            "draw_hash": draw_hash,
        },
    )
    return round_id


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


async def get_round(round_id: int) -> dict[str, Any]:
    row = (
        await PhoneRound.select(
            *PhoneRound.all_columns(), PhoneRound.campaign.code.as_alias("campaign_code")
        )
        .where(PhoneRound.id == round_id)
        .first()
    )
    if row is None:
        raise PhoneError("phone.error.no_round")
    row = dict(row)
    row["frame"] = _json(row["frame"])
    row["served"] = _json(row["served"])
    return row


@dataclass(frozen=True)
class Verification:
    ok: bool
    frame_ok: bool
    draw_ok: bool
    stored_ok: bool
    sampled: int


async def verify_round(round_id: int, actor: str) -> Verification:
    """Re-draw from the stored frame and seed; compare with the stored hashes and calls."""
    rnd = await get_round(round_id)
    frame = {k: [int(i) for i in v] for k, v in rnd["frame"].items()}
    again = sampling.draw(frame, int(rnd["per_stratum"]), str(rnd["seed"]))
    stored = {
        (int(c["ticket"]), c["stratum"], round(float(c["probability"]), 12))
        for c in await PhoneCall.select(
            PhoneCall.ticket, PhoneCall.stratum, PhoneCall.probability
        ).where(PhoneCall.phone_round == round_id)
    }
    redrawn = {(s.ticket_id, s.stratum, round(s.probability, 12)) for s in again}
    result = Verification(
        ok=False,
        frame_ok=sampling.digest(frame) == rnd["frame_hash"],
        draw_ok=sampling.digest(again) == rnd["draw_hash"],
        stored_ok=stored == redrawn,
        sampled=len(again),
    )
    result = Verification(
        result.frame_ok and result.draw_ok and result.stored_ok,
        result.frame_ok,
        result.draw_ok,
        result.stored_ok,
        result.sampled,
    )
    await audit.record(
        actor,
        "phone.verify",
        f"phone_round:{round_id}",
        after={"ok": result.ok, "frame": result.frame_ok, "draw": result.draw_ok},
    )
    return result


async def list_rounds() -> list[dict[str, Any]]:
    rounds = await PhoneRound.select(
        PhoneRound.id,
        PhoneRound.created_at,
        PhoneRound.per_stratum,
        PhoneRound.campaign.code.as_alias("campaign_code"),
        PhoneRound.campaign.name.as_alias("campaign_name"),
    ).order_by(PhoneRound.id, ascending=False)
    out = []
    for r in rounds:
        outcomes = [
            c["outcome"]
            for c in await PhoneCall.select(PhoneCall.outcome).where(
                PhoneCall.phone_round == r["id"]
            )
        ]
        rates = sampling.rates(outcomes)
        out.append({**r, "sampled": rates.sampled, "completed": rates.completed})
    return out


async def calls_of(round_id: int) -> list[dict[str, Any]]:
    """The call list: no number in it (that is shown only while calling)."""
    rows = await PhoneCall.select(
        PhoneCall.id,
        PhoneCall.stratum,
        PhoneCall.outcome,
        PhoneCall.attempts,
        PhoneCall.calling_by,
        PhoneCall.updated_at,
        PhoneCall.window.number.as_alias("window_number"),
        PhoneCall.window.name.as_alias("window_name"),
        PhoneCall.unit.name.as_alias("unit_name"),
        PhoneCall.ticket.issued_at.as_alias("served_at"),
    ).where(PhoneCall.phone_round == round_id)
    order = {o: i for i, o in enumerate(("call_back", "pending", "no_answer"))}
    return sorted(rows, key=lambda r: (order.get(r["outcome"], 9), r["stratum"], r["id"]))


async def _call(call_id: int) -> dict[str, Any]:
    row = (
        await PhoneCall.select(
            *PhoneCall.all_columns(),
            PhoneCall.phone_round.campaign.as_alias("campaign"),
        )
        .where(PhoneCall.id == call_id)
        .first()
    )
    if row is None:
        raise PhoneError("phone.error.no_call")
    return dict(row)


@dataclass
class CallSheet:
    call: dict[str, Any]
    number: str
    ctx: Any  # public_rating.WindowContext


async def start_call(call_id: int, user: dict[str, Any]) -> CallSheet:
    """Take the call and reveal its number to this interviewer (audited). One call at
    a time: another call taken and not finished is refused; so is a call another
    interviewer has taken, or one with a final outcome."""
    call = await _call(call_id)
    if call["outcome"] not in CALLABLE:
        raise PhoneError("phone.error.finished")
    busy = await PhoneCall.select(PhoneCall.id).where(
        (PhoneCall.calling_by == user["id"]) & (PhoneCall.id != call_id)
    )
    if busy:
        raise PhoneError("phone.error.busy")
    taken = (
        await PhoneCall.update(
            {PhoneCall.calling_by: user["id"], PhoneCall.updated_at: datetime.now(UTC)}
        )
        .where(
            (PhoneCall.id == call_id)
            & (PhoneCall.calling_by.is_null() | (PhoneCall.calling_by == user["id"]))
        )
        .returning(PhoneCall.id)
    )
    if not taken:
        raise PhoneError("phone.error.taken")
    contact = (
        await TicketContact.select(TicketContact.ciphertext)
        .where(TicketContact.ticket == call["ticket"])
        .first()
    )
    number = decrypt_contact(contact["ciphertext"]) if contact else None
    await audit.record(
        user["username"],
        "phone.reveal",
        f"phone_call:{call_id}",
        after={"ticket": call["ticket"], "found": number is not None},
    )
    ctx = await window_context(int(call["campaign"]), int(call["window"]))
    if ctx is None:
        raise PhoneError("phone.error.no_window")
    return CallSheet({**call, "calling_by": user["id"]}, number or "", ctx)


async def record_outcome(
    call_id: int,
    user: dict[str, Any],
    outcome: str,
    form: Mapping[str, Any],
    writer: ResponseWriter,
) -> dict[str, str]:
    """Finish the call this interviewer holds. A completed call needs a valid rating
    (the questionnaire's fields in ``form``; errors by field returned, nothing stored);
    it is written as a ``phone`` response."""
    call = await _call(call_id)
    if call["calling_by"] != user["id"]:
        raise PhoneError("phone.error.not_held")
    if outcome not in sampling.OUTCOMES:
        return {"outcome": "phone.error.outcome"}
    response_id = None
    if outcome == "completed":
        ctx = await window_context(int(call["campaign"]), int(call["window"]))
        if ctx is None:
            raise PhoneError("phone.error.no_window")
        rating = rating_input_from_form(form, ctx.items)
        errors, answers = validate(rating, ctx.items)
        if errors:
            return errors
        new = build_response(
            ctx,
            rating,
            answers,
            channel="phone",
            interviewer_id=user["id"],
            # one response per call, whatever the retries
            client_id=f"phone:{call_id}",
        )
        new.rater = await interviewer_rater(int(call["campaign"]), user["id"])
        stored = await writer.submit(new)
        if stored.refused:
            raise PhoneError("phone.error.refused")
        response_id = stored.response_id
    await PhoneCall.update(
        {
            PhoneCall.outcome: outcome,
            PhoneCall.attempts: PhoneCall.attempts + 1,
            PhoneCall.calling_by: None,
            PhoneCall.interviewer: user["id"],
            PhoneCall.response: response_id,
            PhoneCall.updated_at: datetime.now(UTC),
        }
    ).where(PhoneCall.id == call_id)
    await audit.record(
        user["username"],
        "phone.outcome",
        f"phone_call:{call_id}",
        before={"outcome": call["outcome"]},
        after={"outcome": outcome, "response": response_id},
    )
    return {}


async def release_call(call_id: int, user: dict[str, Any]) -> None:
    """Hang up without an outcome (the number is hidden again)."""
    await PhoneCall.update({PhoneCall.calling_by: None}).where(
        (PhoneCall.id == call_id) & (PhoneCall.calling_by == user["id"])
    )


# ---------------------------------------------------------------------- rates, estimates


async def stratum_rates(round_id: int) -> list[dict[str, Any]]:
    """RR1 and CON1 per stratum, with the frame and served sizes (coverage)."""
    rnd = await get_round(round_id)
    calls = await PhoneCall.select(
        PhoneCall.stratum,
        PhoneCall.outcome,
        PhoneCall.unit.name.as_alias("unit_name"),
        PhoneCall.window.number.as_alias("window_number"),
    ).where(PhoneCall.phone_round == round_id)
    by: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for c in calls:
        by[c["stratum"]].append(c)
    out = []
    for stratum in sorted(by):
        rows = by[stratum]
        r = sampling.rates(c["outcome"] for c in rows)
        out.append(
            {
                "stratum": stratum,
                "unit_name": rows[0]["unit_name"],
                "window_number": rows[0]["window_number"],
                "week": stratum.rsplit(":", 1)[1],
                "served": int(rnd["served"].get(stratum, 0)),
                "frame": len(rnd["frame"].get(stratum, [])),
                "rates": r,
            }
        )
    total = sampling.rates(c["outcome"] for c in calls)
    out.append({"stratum": "*", "rates": total})
    return out


@dataclass(frozen=True)
class UnitComparison:
    unit_id: int
    unit_code: str
    name: str
    name_en: str
    phone: sampling.Estimate | None  # None: fewer than k respondents (hidden)
    phone_n: int
    qr: tuple[float, float, float] | None  # satisfaction, ci_low, ci_high; None: hidden
    qr_n: int

    @property
    def gap(self) -> float | None:
        if self.phone is None or self.qr is None:
            return None
        return self.qr[0] - self.phone.satisfaction


async def _qr_ratings(campaign_id: int) -> dict[int, list[tuple[str, int]]]:
    """Self-selected (QR and ticket) public ratings by unit: (response id, level)."""
    replaced = await superseded_ids(campaign_id)
    rows = await Response.select(Response.id, Response.window.unit.as_alias("unit")).where(
        (Response.campaign == campaign_id)
        & (Response.role == "public")
        & Response.channel.is_in(sorted(SELF_SELECTED))
    )
    unit_of = {r["id"]: r["unit"] for r in rows if r["id"] not in replaced}
    out: dict[int, list[tuple[str, int]]] = defaultdict(list)
    for a in await Answer.select(Answer.response, Answer.score).where(
        (Answer.response.campaign == campaign_id)
        & (Answer.response.role == "public")
        & Answer.response.channel.is_in(sorted(SELF_SELECTED))
        & (Answer.item == "overall")
    ):
        unit = unit_of.get(a["response"])
        if unit is not None and a["score"] is not None:
            out[int(unit)].append((str(a["response"]), int(a["score"])))
    return out


async def latest_flags(campaign_id: int) -> list[dict[str, Any]]:
    run = (
        await CleaningRun.select(CleaningRun.revision)
        .where(CleaningRun.campaign == campaign_id)
        .order_by(CleaningRun.revision, ascending=False)
        .first()
    )
    if run is None:
        return []
    return list(
        await Flag.select(
            Flag.response_id, Flag.rater, Flag.reason, Flag.action, Flag.weight, Flag.overridden
        ).where((Flag.campaign == campaign_id) & (Flag.revision == run["revision"]))
    )


async def latest_round(campaign_id: int) -> int | None:
    row = (
        await PhoneRound.select(PhoneRound.id)
        .where(PhoneRound.campaign == campaign_id)
        .order_by(PhoneRound.id, ascending=False)
        .first()
    )
    return int(row["id"]) if row else None


async def comparison(
    round_id: int, flags: list[dict[str, Any]] | None = None
) -> list[UnitComparison]:
    """Per unit: phone-sampled satisfaction (Hajek, Wilson interval) beside the
    self-selected QR satisfaction (cleaning weights of ``flags``, Wilson interval on
    the responses used). Either side is hidden (None) below the campaign's ``k``."""
    rnd = await get_round(round_id)
    campaign = (
        await Campaign.select(Campaign.id, Campaign.k, Campaign.policy)
        .where(Campaign.id == rnd["campaign"])
        .output(load_json=True)
        .first()
    )
    assert campaign is not None
    k = int(campaign["k"])
    satisfied_min = int((campaign["policy"] or {}).get("satisfied_min", rs.SATISFIED_MIN))
    frame_size = {s: len(ids) for s, ids in rnd["frame"].items()}  # N_h
    sampled: dict[str, int] = defaultdict(int)
    calls = await PhoneCall.select(
        PhoneCall.stratum, PhoneCall.unit, PhoneCall.probability, PhoneCall.response
    ).where(PhoneCall.phone_round == round_id)
    for c in calls:
        sampled[c["stratum"]] += 1
    f_h = {s: sampled[s] / n for s, n in frame_size.items() if n}  # n_h / N_h
    levels = {
        a["response"]: a["score"]
        for a in await Answer.select(Answer.response, Answer.score).where(
            (Answer.response.channel == "phone")
            & (Answer.response.campaign == rnd["campaign"])
            & (Answer.item == "overall")
        )
    }
    obs: dict[int, list[sampling.Observation]] = defaultdict(list)
    for c in calls:
        level = levels.get(c["response"]) if c["response"] else None
        if level is None:
            continue
        obs[int(c["unit"])].append(
            sampling.Observation(c["stratum"], float(c["probability"]), level >= satisfied_min)
        )
    weights = rs.response_weights(flags or [])
    qr = await _qr_ratings(int(rnd["campaign"]))
    unit_ids = sorted(
        {
            r["unit"]
            for r in await CampaignUnit.select(CampaignUnit.unit).where(
                CampaignUnit.campaign == rnd["campaign"]
            )
        }
    )
    units = {u["id"]: u for u in await Unit.select().where(Unit.id.is_in(unit_ids or [-1]))}
    out = []
    for uid in sorted(unit_ids, key=lambda u: units[u]["code"]):
        est = sampling.hajek(obs.get(uid, []), f_h)
        stats = rs.PublicStats()
        for rid, level in qr.get(uid, []):
            stats.add(level, weights.get(rid, 1.0), satisfied_min)
        qr_side = None
        if stats.n_used >= k and stats.weight > 0:
            low, high = sampling.wilson(stats.satisfaction, stats.n_used)
            qr_side = (stats.satisfaction, low, high)
        out.append(
            UnitComparison(
                unit_id=uid,
                unit_code=units[uid]["code"],
                name=units[uid]["name"],
                name_en=units[uid]["name_en"],
                phone=est if est.n >= k and not math.isnan(est.satisfaction) else None,
                phone_n=est.n,
                qr=qr_side,
                qr_n=stats.n_used,
            )
        )
    return out
