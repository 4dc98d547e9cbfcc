"""Window devices (评价器) and API keys: random keys shown once, stored hashed."""

from __future__ import annotations

from typing import Any

from pingyi.db.tables import ApiKey, Device, ServiceWindow, Staff
from pingyi.security import new_token, token_hash
from pingyi.services import audit

# hr: reads the scoring feed. queue: a queue system posts tickets in bulk and served
# counts and prints ticket QR codes; it can neither post ratings nor read scores.
API_SCOPES = ("hr", "queue")


class CredentialError(ValueError):
    pass


class NotAtThisWindow(ValueError):
    """A device named a staff member or a ticket that does not belong to its window."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


async def staff_at_window(code: str | None, window_id: int) -> int | None:
    """The id of the staff member a device's rating or ticket names, or None when it
    names nobody.

    A device speaks for its own window only: the staff member must be active and on
    duty at that window (their usual window is this one), or have no usual window and
    belong to the window's unit (they stand in at any window of their unit). Anyone
    else, in particular a staff member of another unit, is refused."""
    if not code:
        return None
    rows = await Staff.raw(
        'SELECT s.id, s.unit, s."window", s.active, w.unit AS window_unit FROM staff s'
        " LEFT JOIN service_window w ON w.id = {} WHERE s.code = {}",
        window_id,
        code,
    )
    if not rows:
        raise NotAtThisWindow("staff", "unknown staff code")
    row = rows[0]
    on_duty = row["window"] == window_id or (
        row["window"] is None and row["unit"] == row["window_unit"]
    )
    if not row["active"] or not on_duty:
        raise NotAtThisWindow(
            "staff", f"staff member {code!r} is not on duty at this device's window"
        )
    return int(row["id"])


async def add_device(window_code: str, name: str = "", actor: str = "cli") -> str:
    window = (
        await ServiceWindow.select(ServiceWindow.id)
        .where(ServiceWindow.code == window_code)
        .first()
    )
    if window is None:
        raise CredentialError(f"no window with code {window_code!r}")
    key = "pyd_" + new_token(24)
    await Device.insert(Device(window=window["id"], name=name, key_hash=token_hash(key)))
    await audit.record(actor, "device.add", f"window:{window_code}", after={"name": name})
    return key


async def device_for_key(key: str) -> dict[str, Any] | None:
    if not key or len(key) > 100:
        return None
    rows = await Device.raw(  # raw: piccolo's join costs the reference cache 3x the read
        'SELECT d.id, d."window", w.code AS window_code FROM device d'
        ' JOIN service_window w ON w.id = d."window" WHERE d.key_hash = {} AND NOT d.revoked',
        token_hash(key),
    )
    return rows[0] if rows else None


async def add_api_key(name: str, scopes: list[str], actor: str = "cli") -> str:
    unknown = set(scopes) - set(API_SCOPES)
    if unknown or not scopes:
        raise CredentialError(f"scopes must be among: {', '.join(API_SCOPES)}")
    key = "pyk_" + new_token(24)
    await ApiKey.insert(ApiKey(name=name, key_hash=token_hash(key), scopes=",".join(scopes)))
    await audit.record(actor, "apikey.add", f"apikey:{name}", after={"scopes": scopes})
    return key


async def api_key_scopes(key: str) -> set[str] | None:
    if not key or len(key) > 100:
        return None
    row = (
        await ApiKey.select(ApiKey.scopes)
        .where((ApiKey.key_hash == token_hash(key)) & ApiKey.revoked.eq(False))
        .first()
    )
    return set(row["scopes"].split(",")) if row else None


async def revoke_devices(window_code: str, actor: str = "cli") -> int:
    """Revoke every key of a window's devices (a lost or replaced device); returns how
    many. A new one is added with `add_device`."""
    window = (
        await ServiceWindow.select(ServiceWindow.id)
        .where(ServiceWindow.code == window_code)
        .first()
    )
    if window is None:
        raise CredentialError(f"no window with code {window_code!r}")
    revoked = (
        await Device.update({Device.revoked: True})
        .where((Device.window == window["id"]) & Device.revoked.eq(False))
        .returning(Device.id)
    )
    from pingyi.services.reference_cache import forget_all  # it imports this module

    forget_all()  # this process stops accepting the key at once; others within seconds
    await audit.record(actor, "device.revoke", f"window:{window_code}", after={"n": len(revoked)})
    return len(revoked)


async def revoke_api_key(name: str, actor: str = "cli") -> int:
    revoked = (
        await ApiKey.update({ApiKey.revoked: True})
        .where((ApiKey.name == name) & ApiKey.revoked.eq(False))
        .returning(ApiKey.id)
    )
    if not revoked:
        raise CredentialError(f"no active API key named {name!r}")
    await audit.record(actor, "apikey.revoke", f"apikey:{name}", after={"n": len(revoked)})
    return len(revoked)
