"""A citizen's rating of a window: what the form must contain and how it is stored.

Shared by the QR/ticket form, the window devices' API and interview mode, so that
every channel obeys the same rules.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pingyi.db.rows import aliased, part
from pingyi.db.tables import Campaign, ServiceWindow, Staff, Unit
from pingyi.hours import within_hours
from pingyi.services.contacts import encrypt_contact
from pingyi.services.questionnaires import items_of
from pingyi.services.writer import BadReviewSpec, NewResponse
from pingyi.workdays import add_working_days

LEVELS = (5, 4, 3, 2, 1)  # shown in this fixed order, none pre-selected
BAD_LEVELS = frozenset({1, 2})
REASONS = ("attitude", "slow", "knowledge", "repeat_visits", "misconduct", "facilities", "other")
COMMENT_MAX = 500
REASON_TEXT_MAX = 300
CONTACT_MAX = 60


@dataclass
class WindowContext:
    campaign: dict[str, Any]
    window: dict[str, Any]
    unit: dict[str, Any]
    staff: dict[str, Any] | None
    items: list[dict[str, Any]]  # questionnaire items besides `overall`

    @property
    def is_open(self) -> bool:
        """Taking ratings: the campaign is open and the window and its unit are still
        in service (a retired window's codes stop working)."""
        in_service = self.window.get("active", True) and self.unit.get("active", True)
        return bool(self.campaign["state"] == "open" and in_service)


# One query for the campaign, the window, its unit and the staff member named (or
# the only one on duty there): the reference cache reads this for every window every
# few seconds, and five queries cost the single worker ~1.7 ms each time.
CAMPAIGN_COLUMNS = ("id", "code", "name", "state", "public_version", "policy")
_CONTEXT_COLUMNS = ", ".join(
    (
        aliased(Campaign, "c", CAMPAIGN_COLUMNS),
        aliased(ServiceWindow, "w"),
        aliased(Unit, "u"),
        aliased(Staff, "s", ("id", "name")),
    )
)
CONTEXT_SQL = (
    f"SELECT {_CONTEXT_COLUMNS} FROM campaign c"  # noqa: S608 (names from the tables; values bound)
    " JOIN service_window w ON w.id = {} JOIN unit u ON u.id = w.unit"
    # the staff member named, or else the only active one whose usual window this is
    " LEFT JOIN staff s ON s.id = COALESCE({}, (SELECT CASE WHEN count(*) = 1"
    ' THEN min(o.id) END FROM staff o WHERE o."window" = w.id AND o.active))'
    " WHERE c.id = {}"
)


async def window_context(
    campaign_id: int,
    window_id: int,
    staff_id: int | None = None,
    items: Callable[[int], Awaitable[list[dict[str, Any]]]] = items_of,
) -> WindowContext | None:
    """None for an unknown campaign or window; `items` reads a questionnaire
    version's items (the reference cache passes its own copy)."""
    rows = await Campaign.raw(CONTEXT_SQL, window_id, staff_id or None, campaign_id)
    if not rows:
        return None
    row = rows[0]
    campaign = part(row, Campaign, "c")
    window = part(row, ServiceWindow, "w")
    unit = part(row, Unit, "u")
    assert campaign is not None and window is not None and unit is not None
    questions = []
    if campaign["public_version"]:
        questions = [i for i in await items(campaign["public_version"]) if i["code"] != "overall"]
    return WindowContext(campaign, window, unit, part(row, Staff, "s"), questions)


@dataclass
class RatingInput:
    overall: Any = None
    items: dict[str, Any] = field(default_factory=dict)
    comment: str = ""
    reason: str = ""
    reason_text: str = ""
    contact: str = ""
    honeypot: str = ""


def _level(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    try:
        level = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return level if level in LEVELS else None


def validate(data: RatingInput, items: list[dict[str, Any]]) -> tuple[dict[str, str], list[Any]]:
    """Returns (errors by field, answers). Errors are message keys (see i18n)."""
    errors: dict[str, str] = {}
    answers: list[tuple[str, int | None, str]] = []
    overall = _level(data.overall)
    if overall is None:
        errors["overall"] = "rate.error.overall"
    else:
        answers.append(("overall", overall, ""))
    for item in items:
        raw = data.items.get(item["code"])
        empty = raw is None or str(raw).strip() == ""
        if empty:
            if item["required"]:
                errors[item["code"]] = "rate.error.required"
            continue
        if item["kind"] == "scale5":
            level = _level(raw)
            if level is None:
                errors[item["code"]] = "rate.error.level"
            else:
                answers.append((item["code"], level, ""))
        elif item["kind"] == "yesno":
            if str(raw) not in ("yes", "no"):
                errors[item["code"]] = "rate.error.choice"
            else:
                answers.append((item["code"], None, str(raw)))
        elif item["kind"] == "choice":
            if str(raw) not in (item.get("choices") or []):
                errors[item["code"]] = "rate.error.choice"
            else:
                answers.append((item["code"], None, str(raw)))
        else:
            text = str(raw).strip()
            if len(text) > COMMENT_MAX:
                errors[item["code"]] = "rate.error.too_long"
            else:
                answers.append((item["code"], None, text))
    if len(data.comment) > COMMENT_MAX:
        errors["comment"] = "rate.error.too_long"
    if overall in BAD_LEVELS and data.reason not in REASONS:
        errors["reason"] = "rate.error.reason"
    if len(data.reason_text) > REASON_TEXT_MAX:
        errors["reason_text"] = "rate.error.too_long"
    if len(data.contact) > CONTACT_MAX:
        errors["contact"] = "rate.error.too_long"
    return errors, answers


def build_response(
    ctx: WindowContext,
    data: RatingInput,
    answers: list[Any],
    *,
    channel: str,
    device: str = "",
    ticket_hash: str = "",
    client_id: str | None = None,
    duration_s: float | None = None,
    interviewer_id: int | None = None,
    now: datetime | None = None,
    require_open: bool = False,
) -> NewResponse:
    now = now or datetime.now(UTC)
    overall = next(score for code, score, _ in answers if code == "overall")
    bad_review = None
    if overall in BAD_LEVELS and channel != "default":
        policy = ctx.campaign.get("policy") or {}
        bad_review = BadReviewSpec(
            unit_id=ctx.unit["id"],
            reason_category=data.reason if data.reason in REASONS else "other",
            reason_text=data.reason_text.strip(),
            contact_due=add_working_days(now, int(policy.get("contact_days", 1))),
            rectify_due=add_working_days(now, int(policy.get("rectify_days", 5))),
            contact_ciphertext=encrypt_contact(data.contact.strip())
            if data.contact.strip()
            else "",
        )
    return NewResponse(
        campaign_id=ctx.campaign["id"],
        role="public",
        channel=channel,
        answers=answers,
        version_id=ctx.campaign["public_version"],
        window_id=ctx.window["id"],
        ratee_id=ctx.staff["id"] if ctx.staff else None,
        device=device,
        ticket_hash=ticket_hash,
        client_id=client_id,
        submitted_at=now,
        duration_s=duration_s,
        off_hours=not within_hours(ctx.unit["opening_hours"], now),
        honeypot=bool(data.honeypot.strip()),
        interviewer_id=interviewer_id,
        comment=data.comment.strip(),
        bad_review=bad_review,
        require_open=require_open,
    )


def rating_input_from_form(form: Mapping[str, Any], items: list[dict[str, Any]]) -> RatingInput:
    def text(name: str) -> str:
        value = form.get(name)
        return value if isinstance(value, str) else ""

    return RatingInput(
        overall=text("overall") or None,
        items={i["code"]: text(f"item_{i['code']}") for i in items},
        comment=text("comment"),
        reason=text("reason"),
        reason_text=text("reason_text"),
        contact=text("contact"),
        honeypot=text("website"),
    )
