"""Window devices (评价器) and API keys: random keys shown once, stored hashed."""

from __future__ import annotations

from typing import Any

from pingyi.db.tables import ApiKey, Device, ServiceWindow
from pingyi.security import new_token, token_hash
from pingyi.services import audit

API_SCOPES = ("hr",)


class CredentialError(ValueError):
    pass


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
    return (
        await Device.select(Device.id, Device.window, Device.window.code.as_alias("window_code"))
        .where((Device.key_hash == token_hash(key)) & Device.revoked.eq(False))
        .first()
    )


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
