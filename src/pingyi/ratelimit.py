"""Rate limits shared by all workers (Redis) or per process (memory).

A fixed window per key: O(1) memory per key whatever the limit, unlike a list of
timestamps that grows with it.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Decision:
    allowed: bool
    remaining: int
    retry_after_s: int


class RateLimiter(Protocol):
    async def hit(self, key: str, limit: int, window_s: float) -> Decision: ...

    async def close(self) -> None: ...


class MemoryRateLimiter:
    def __init__(self, clock: Callable[[], float] = time.monotonic, max_keys: int = 100_000):
        self._clock = clock
        self._max_keys = max_keys
        self._counts: dict[str, tuple[int, int]] = {}  # key -> (window number, count)

    async def hit(self, key: str, limit: int, window_s: float) -> Decision:
        now = self._clock()
        window = int(now // window_s)
        if len(self._counts) >= self._max_keys:
            self._counts = {k: v for k, v in self._counts.items() if v[0] >= window}
        number, count = self._counts.get(key, (window, 0))
        if number != window:
            count = 0
        count += 1
        self._counts[key] = (window, count)
        retry = max(1, math.ceil((window + 1) * window_s - now))
        return Decision(count <= limit, max(0, limit - count), 0 if count <= limit else retry)

    async def close(self) -> None:
        self._counts.clear()


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
            pipe.expire(name, max(1, math.ceil(window_s)) + 1)
            count, _ = await pipe.execute()
        retry = max(1, math.ceil((window + 1) * window_s - now))
        allowed = int(count) <= limit
        return Decision(allowed, max(0, limit - int(count)), 0 if allowed else retry)

    async def close(self) -> None:
        await self._redis.aclose()


def make_rate_limiter(redis_url: str | None) -> RateLimiter:
    return RedisRateLimiter(redis_url) if redis_url else MemoryRateLimiter()
