"""Bad-review follow-up (差评核实整改): work orders for the unit, never for the rated
staff member's own queue, with deadlines in working days."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pingyi.db.tables import BadReviewCase, CitizenContact
from pingyi.hours import end_of_local_day
from pingyi.numbers import plain_int
from pingyi.services import audit, outbox
from pingyi.services.contacts import decrypt_contact
from pingyi.settings import get_settings

VERIFICATIONS = ("justified", "unjustified", "no_legal_basis")
HANDLING_LEVELS = (3, 2, 1)  # 满意, 基本满意, 不满意


class CaseError(ValueError):
    pass


def _scope(user: dict[str, Any]) -> Any:
    """A unit leader sees the cases of their own unit; the agency sees all."""
    if user["role"] == "unit_leader":
        return BadReviewCase.unit == (user.get("unit_id") or 0)
    return BadReviewCase.id > 0


def is_overdue(case: dict[str, Any], now: datetime) -> bool:
    if case["state"] == "closed":
        return False
    late_contact = case["contacted_at"] is None and case["contact_due"] < now
    return late_contact or case["rectify_due"] < now


def overdue_where(now: datetime) -> Any:
    """Open cases past a deadline: no first contact by the contact deadline, or not
    rectified by the rectification deadline (is_overdue, in SQL)."""
    return (BadReviewCase.state != "closed") & (
        (BadReviewCase.rectify_due < now)
        | (BadReviewCase.contacted_at.is_null() & (BadReviewCase.contact_due < now))
    )


def due_today_where(now: datetime) -> Any:
    """Open cases not yet overdue with a deadline before the end of the local day."""
    end = end_of_local_day(now)
    return (
        (BadReviewCase.state != "closed")
        & (BadReviewCase.rectify_due >= now)
        & ((BadReviewCase.contacted_at.is_not_null()) | (BadReviewCase.contact_due >= now))
        & (
            (BadReviewCase.rectify_due < end)
            | (BadReviewCase.contacted_at.is_null() & (BadReviewCase.contact_due < end))
        )
    )


async def escalate_overdue() -> int:
    """Mark overdue open cases as escalated; returns how many were newly escalated."""
    now = datetime.now(UTC)
    rows = await BadReviewCase.select().where(
        (BadReviewCase.state != "closed") & BadReviewCase.escalated.eq(False)
    )
    late = [r["id"] for r in rows if is_overdue(r, now)]
    if late:
        await BadReviewCase.update({BadReviewCase.escalated: True}).where(
            BadReviewCase.id.is_in(late)
        )
        await audit.record("system", "case.escalate", "cases", after={"ids": late})
    return len(late)


async def overdue_per_unit() -> list[dict[str, Any]]:
    now = datetime.now(UTC)
    rows = await BadReviewCase.select(
        BadReviewCase.all_columns(), BadReviewCase.unit.name.as_alias("unit_name")
    )
    counts: dict[str, list[int]] = {}
    for r in rows:
        entry = counts.setdefault(r["unit_name"], [0, 0, 0])
        entry[0] += 1
        entry[1] += int(r["state"] != "closed")
        entry[2] += int(is_overdue(r, now))
    return [
        {"unit": u, "total": t, "open": o, "overdue": d} for u, (t, o, d) in sorted(counts.items())
    ]


async def get_case(user: dict[str, Any], case_id: int) -> dict[str, Any]:
    row = (
        await BadReviewCase.select(
            BadReviewCase.all_columns(),
            BadReviewCase.unit.name.as_alias("unit_name"),
            BadReviewCase.window.number.as_alias("window_number"),
            BadReviewCase.window.name.as_alias("window_name"),
        )
        .where((BadReviewCase.id == case_id) & _scope(user))
        .first()
    )
    if row is None:
        raise CaseError("no such case in your scope")
    has_contact = await CitizenContact.exists().where(CitizenContact.case == case_id)
    return {**row, "overdue": is_overdue(row, datetime.now(UTC)), "has_contact": has_contact}


def may_read_contact(user: dict[str, Any], callback_role: str) -> bool:
    return bool(user["role"] == callback_role)


async def read_contact(user: dict[str, Any], case_id: int, callback_role: str) -> str | None:
    """Decrypt the call-back contact for the designated role; every read is audited."""
    case = await get_case(user, case_id)
    if not may_read_contact(user, callback_role):
        raise CaseError("only the designated call-back role may read the contact")
    row = await CitizenContact.select().where(CitizenContact.case == case["id"]).first()
    if row is None:
        return None
    await audit.record(user["username"], "case.contact_read", f"case:{case_id}")
    return decrypt_contact(row["ciphertext"])


async def record_contact(user: dict[str, Any], case_id: int) -> None:
    case = await get_case(user, case_id)
    if case["contacted_at"] is None:
        now = datetime.now(UTC)
        async with BadReviewCase._meta.db.transaction():
            await BadReviewCase.update({BadReviewCase.contacted_at: now}).where(
                BadReviewCase.id == case_id
            )
            # the platform follows the case in the same transaction (services/outbox.py)
            await outbox.record_case_update(case_id, "contacted", now)
        await audit.record(
            user["username"],
            "case.contacted",
            f"case:{case_id}",
            after={"contacted_at": now.isoformat()},
        )


async def close_case(user: dict[str, Any], case_id: int, form: dict[str, str]) -> None:
    """Closing needs a verification result with an explanation, the rectification
    taken, and, when the citizen left a contact, the feedback and call-back result.
    The contact is deleted with the closing, or, with PINGYI_RETAIN_CONTACT_DAYS set,
    by the retention purge that many days later."""
    case = await get_case(user, case_id)
    if case["state"] == "closed":
        raise CaseError("this case is already closed")
    verification = form.get("verification", "")
    problems = []
    if verification not in VERIFICATIONS:
        problems.append("choose a verification result")
    for name in ("explanation", "rectification"):
        if len(form.get(name, "").strip()) < 4:
            problems.append(f"{name} is required")
    rating = form.get("handling_rating", "")
    if case["has_contact"]:
        for name in ("feedback", "callback_result"):
            if len(form.get(name, "").strip()) < 2:
                problems.append(f"{name} is required when the citizen left a contact")
    if rating and plain_int(rating) not in HANDLING_LEVELS:
        problems.append("handling rating must be 满意, 基本满意 or 不满意")
    if problems:
        raise CaseError("; ".join(problems))
    changes = {
        "state": "closed",
        "verification": verification,
        "explanation": form["explanation"].strip()[:2000],
        "rectification": form["rectification"].strip()[:2000],
        "feedback": form.get("feedback", "").strip()[:2000],
        "callback_result": form.get("callback_result", "").strip()[:2000],
        "handling_rating": int(rating) if rating else None,
        "closed_at": datetime.now(UTC),
        "contacted_at": case["contacted_at"] or datetime.now(UTC),
    }
    async with BadReviewCase._meta.db.transaction():
        await BadReviewCase.update(changes).where(BadReviewCase.id == case_id)
        if get_settings().retain_contact_days == 0:
            await CitizenContact.delete().where(CitizenContact.case == case_id)
        await outbox.record_case_update(case_id, "closed", changes["closed_at"])
    await audit.record(
        user["username"],
        "case.close",
        f"case:{case_id}",
        before={"state": case["state"]},
        after={k: v for k, v in changes.items() if k not in ("closed_at", "contacted_at")},
    )
