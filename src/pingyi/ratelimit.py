"""Rate limits shared by all workers (Redis) or per process (memory).

A sliding-window counter per key: the current window's count plus the previous one's,
weighted by how much of it still overlaps the last `window_s` seconds. O(1) memory per
key whatever the limit, and no burst of twice the limit across a window boundary as
with fixed windows. Refused hits count too, so a client that keeps guessing stays out.
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, TypeVar

V = TypeVar("V")


@dataclass(frozen=True)
class Decision:
    allowed: bool
    remaining: int
    retry_after_s: int


def decide(now: float, window_s: float, previous: int, current: int, limit: int) -> Decision:
    """The verdict on a hit already added to `current` (the count of this window)."""
    start = (now // window_s) * window_s
    overlap = 1.0 - (now - start) / window_s  # share of the previous window still inside
    estimate = previous * overlap + current
    if estimate <= limit:
        return Decision(True, max(0, math.floor(limit - estimate)), 0)
    room = limit - 1  # the next hit must fit
    if current <= room and previous > 0:  # wait until enough of the previous window slid out
        wait_until = start + window_s * (1.0 - (room - current) / previous)
    else:  # wait into the next window, where this window's count is the previous one
        wait_until = start + window_s * (2.0 - room / current if current else 1.0)
    return Decision(False, 0, max(1, math.ceil(wait_until - now)))


class RateLimiter(Protocol):
    async def hit(self, key: str, limit: int, window_s: float) -> Decision: ...

    async def claim(self, key: str, ttl_s: float) -> bool:
        """True for the first claim of `key` within `ttl_s`, False for any repeat."""
        ...

    async def release(self, key: str) -> None: ...

    async def close(self) -> None: ...


class MemoryRateLimiter:
    """Per process. Each table keeps at most `max_keys` entries, the most recently used
    last: when a new key finds it full, the dead entries go and, if fewer than a
    quarter did, the least recently used live ones (see `_trimmed`)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic, max_keys: int = 100_000):
        self._clock = clock
        self._max_keys = max_keys
        self._counts: dict[str, tuple[int, int, int]] = {}  # key -> (window, previous, current)
        self._claims: dict[str, float] = {}  # key -> expiry

    async def hit(self, key: str, limit: int, window_s: float) -> Decision:
        now = self._clock()
        window = int(now // window_s)
        entry = self._counts.pop(key, None)  # put back last: the most recently used
        if entry is None and len(self._counts) >= self._max_keys:
            self._counts = _trimmed(self._counts, lambda v: v[0] >= window - 1, self._max_keys)
        number, previous, current = entry or (window, 0, 0)
        if number == window - 1:
            previous, current = current, 0
        elif number != window:
            previous, current = 0, 0
        current += 1
        self._counts[key] = (window, previous, current)
        return decide(now, window_s, previous, current, limit)

    async def claim(self, key: str, ttl_s: float) -> bool:
        now = self._clock()
        expiry = self._claims.pop(key, None)
        if expiry is not None and expiry > now:
            self._claims[key] = expiry
            return False
        if len(self._claims) >= self._max_keys:
            # An evicted live claim only means that a replay of that old form counts
            # toward the limits again: the writer still stores it once.
            self._claims = _trimmed(self._claims, lambda e: e > now, self._max_keys)
        self._claims[key] = now + ttl_s
        return True

    async def release(self, key: str) -> None:
        self._claims.pop(key, None)

    async def close(self) -> None:
        self._counts.clear()
        self._claims.clear()


def _trimmed(table: dict[str, V], live: Callable[[V], bool], max_keys: int) -> dict[str, V]:
    """`table` without its dead entries and, beyond three quarters of `max_keys`, without
    its oldest live ones. Leaving a quarter free makes this one pass per max_keys/4 new
    keys: a full table of live keys (a day's form claims, a flood of new sources) must
    not cost every request a pass over it."""
    kept = {key: value for key, value in table.items() if live(value)}
    for key in list(itertools.islice(kept, max(0, len(kept) - max_keys * 3 // 4))):
        del kept[key]
    return kept


class RedisRateLimiter:
    def __init__(self, url: str, prefix: str = "pingyi:rl:"):
        import redis.asyncio as redis

        self._redis = redis.from_url(url)
        self._prefix = prefix

    async def hit(self, key: str, limit: int, window_s: float) -> Decision:
        now = time.time()
        window = int(now // window_s)
        name = f"{self._prefix}{key}:{window}"
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.incr(name)
            pipe.expire(name, max(1, math.ceil(2 * window_s)) + 1)
            pipe.get(f"{self._prefix}{key}:{window - 1}")
            current, _, previous = await pipe.execute()
        return decide(now, window_s, int(previous or 0), int(current), limit)

    async def claim(self, key: str, ttl_s: float) -> bool:
        name = f"{self._prefix}claim:{key}"
        return bool(await self._redis.set(name, b"1", nx=True, ex=max(1, math.ceil(ttl_s))))

    async def release(self, key: str) -> None:
        await self._redis.delete(f"{self._prefix}claim:{key}")

    async def close(self) -> None:
        await self._redis.aclose()


def make_rate_limiter(redis_url: str | None) -> RateLimiter:
    return RedisRateLimiter(redis_url) if redis_url else MemoryRateLimiter()
