"""Signed links and tokens of the citizen path.

- A window reference `c<campaign>w<window>.<mac>` goes into the static QR code; a
  changed character breaks the MAC and the page answers 404, never another window.
- A form token carries what the server needs back from the rating form (where,
  who, which ticket, when it was rendered, the submission id), signed, so the form
  needs no cookie and no session and the time spent is measured server-side.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

from pingyi.ids import time_ordered_uuid
from pingyi.security import derive_key, hmac_hex, sign, unsign
from pingyi.settings import get_settings

_REF = re.compile(r"^c(\d{1,9})w(\d{1,9})$")


def _key(purpose: str) -> bytes:
    return derive_key(get_settings().secret_key, purpose)


def window_ref(campaign_id: int, window_id: int) -> str:
    return sign(_key("window-ref"), f"c{campaign_id}w{window_id}")


def resolve_window_ref(ref: str) -> tuple[int, int] | None:
    payload = unsign(_key("window-ref"), ref[:100])
    match = _REF.match(payload or "")
    return (int(match.group(1)), int(match.group(2))) if match else None


def window_url(campaign_id: int, window_id: int) -> str:
    return f"{get_settings().base_url}/r/{window_ref(campaign_id, window_id)}"


def ticket_url(token: str) -> str:
    return f"{get_settings().base_url}/t/{token}"


@dataclass(frozen=True)
class FormToken:
    campaign_id: int
    window_id: int
    staff_id: int  # 0 when unknown
    ticket_hash: str  # "" for the static code
    rendered_at: float
    submission_id: str

    def encode(self) -> str:
        payload = (
            f"{self.campaign_id}~{self.window_id}~{self.staff_id}~{self.ticket_hash}"
            f"~{self.rendered_at:.3f}~{self.submission_id}"
        )
        return sign(_key("rating-form"), payload)

    @classmethod
    def new(cls, campaign_id: int, window_id: int, staff_id: int, ticket_hash: str) -> FormToken:
        # Time-ordered: the rating stores it as its client id (a unique index), and
        # its time adds nothing to the rating's own submission time and duration.
        submission_id = time_ordered_uuid().hex
        return cls(campaign_id, window_id, staff_id, ticket_hash, time.time(), submission_id)

    @classmethod
    def decode(cls, token: str) -> FormToken | None:
        payload = unsign(_key("rating-form"), token[:400])
        if payload is None:
            return None
        parts = payload.split("~")
        if len(parts) != 6:
            return None
        try:
            return cls(
                int(parts[0]), int(parts[1]), int(parts[2]), parts[3], float(parts[4]), parts[5]
            )
        except ValueError:
            return None


_PRESSURE = re.compile(r"^c(\d{1,9})w(\d{1,9})s([0-9a-f]{32})$")


def sign_pressure(campaign_id: int, window_id: int, submission_id: str) -> str:
    """The thank-you page's pressure form: one per rating form (its submission id)."""
    return sign(_key("pressure-form"), f"c{campaign_id}w{window_id}s{submission_id}")


def resolve_pressure(token: str) -> tuple[int, int, str] | None:
    match = _PRESSURE.match(unsign(_key("pressure-form"), token[:120]) or "")
    return (int(match.group(1)), int(match.group(2)), match.group(3)) if match else None


def pressure_once(submission_id: str) -> str:
    """What a pressure report keeps of its form: a keyed hash, so at most one report
    per rating form, and nothing that equals the rating's own client id."""
    return hmac_hex(_key("pressure-once"), submission_id)
