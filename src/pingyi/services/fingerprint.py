"""Device fingerprints for duplicate and burst detection (DESIGN.md section 3).

`device = HMAC(daily key, ip/24 + user agent)`. No raw IP address or user agent is
stored; the daily keys are deleted once a campaign's cleaning is final, after which
a fingerprint can no longer be re-linked to an address.
"""

from __future__ import annotations

import functools
import ipaddress
import secrets
from datetime import date

from pingyi.db.tables import DailyKey
from pingyi.security import hmac_hex

_cache: dict[date, bytes] = {}


@functools.lru_cache(maxsize=4096)  # a hall's phones come from few networks
def network_of(ip: str) -> str:
    """The /24 of an IPv4 address, the /48 of an IPv6 one: a household or office
    network, not a person."""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return "unknown"
    prefix = 24 if address.version == 4 else 48
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))


async def daily_key(day: date) -> bytes:
    if day in _cache:
        return _cache[day]
    row = await DailyKey.select(DailyKey.key_hex).where(DailyKey.day == day).first()
    if row is None:
        try:
            await DailyKey.insert(DailyKey(day=day, key_hex=secrets.token_hex(32)))
        except Exception as exc:  # another worker created it first
            if "unique" not in str(exc).lower():
                raise
        row = await DailyKey.select(DailyKey.key_hex).where(DailyKey.day == day).first()
    assert row is not None
    key = bytes.fromhex(row["key_hex"])
    _cache.clear()  # keep only today's key in memory
    _cache[day] = key
    return key


def forget_keys() -> None:
    """Drop the key held in memory (a purge removed keys from the database)."""
    _cache.clear()


async def fingerprint(ip: str, user_agent: str, day: date) -> str:
    return hmac_hex(await daily_key(day), f"{network_of(ip)}|{user_agent[:300]}", length=24)
