"""一事一评: single-use rating tickets issued per service by a queue system or device."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from pingyi.db.tables import Campaign, Ticket
from pingyi.security import new_token, token_hash
from pingyi.services.links import ticket_url

NOTICE = {
    "unknown": "notice.bad_link",
    "expired": "notice.ticket_expired",
    "used": "notice.ticket_used",
    "valid": "",
}
STATUS = {"unknown": 404, "expired": 410, "used": 410, "valid": 200}


class TicketError(ValueError):
    pass


async def open_campaign_for_window(window_id: int) -> int | None:
    """The latest open campaign whose units include the window's (one query: the
    reference cache reads it for every window every few seconds)."""
    rows = await Campaign.raw(
        "SELECT c.id FROM service_window w"
        " JOIN campaign_unit cu ON cu.unit = w.unit JOIN campaign c ON c.id = cu.campaign"
        " WHERE w.id = {} AND c.state = 'open' ORDER BY c.id DESC LIMIT 1",
        window_id,
    )
    return int(rows[0]["id"]) if rows else None


async def issue(window_id: int, staff_id: int | None, ttl_hours: int) -> dict[str, Any]:
    campaign_id = await open_campaign_for_window(window_id)
    if campaign_id is None:
        raise TicketError("no open campaign covers this window")
    token = new_token(16)  # 128 bits: unguessable, short enough for a dense QR code
    expires = datetime.now(UTC) + timedelta(hours=ttl_hours)
    await Ticket.insert(
        Ticket(
            campaign=campaign_id,
            window=window_id,
            staff=staff_id,
            code=token_hash(token),
            expires_at=expires,
        )
    )
    return {"token": token, "url": ticket_url(token), "expires_at": expires}


async def lookup(token: str) -> tuple[str, dict[str, Any] | None]:
    """(state, ticket row): state is valid, used, expired or unknown."""
    if not token or len(token) > 64:
        return "unknown", None
    row = await Ticket.select().where(Ticket.code == token_hash(token)).first()
    if row is None:
        return "unknown", None
    if row["used"]:
        return "used", row
    if row["expires_at"] <= datetime.now(UTC):
        return "expired", row
    return "valid", row
