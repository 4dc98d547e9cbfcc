"""Short-lived, per-process copies of the reference data the submission path reads.

A rating needs its window, unit, staff member on duty, questionnaire items, the
campaign's state and, for a device, the device, the staff member it names and the
campaign covering its window: data that changes rarely (five reads, one query each,
the items shared by every window that asks them), against one insert. They are
kept for up to `ttl_s` seconds (each a random 75-100 % of it, so that entries read
together are not refreshed together; one cache per app instance) and read afresh in
the background shortly before they expire, so the submission path reads nothing from
the database on most requests and waits for a read on almost none.

Staleness is bounded and never unsafe:
- the writer checks inside its transaction that the campaign is still open
  (`NewResponse.require_open`), so no rating lands after a campaign closes, even
  in a worker whose copy still says "open";
- a change of state in this process (`campaigns.move`) calls `forget_all()`, so the
  process that closed a campaign shows "closed" at once; other workers follow
  within `ttl_s`;
- a revoked device key or an edited name takes effect within `ttl_s` everywhere.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from pingyi.services import tickets
from pingyi.services.devices import NotAtThisWindow, device_for_key, staff_at_window
from pingyi.services.public_rating import WindowContext, window_context
from pingyi.services.questionnaires import items_of

T = TypeVar("T")

_generation = 0
REFRESH_AHEAD = 0.2  # share of an entry's life left when a request starts its refresh
# Entries live between (1 - LIFE_SPREAD) and 1 times ttl_s, at random: entries read
# together (a worker's first requests) would otherwise be refreshed together forever,
# dozens of reads at once every ttl_s, and those bursts were the device posts' p99 at
# 1,000/s (benchmarks/RESULTS-load.md). Never longer than ttl_s: the bound holds.
LIFE_SPREAD = 0.25


def _retrieve(done: asyncio.Future[Any]) -> None:
    """A load's failure reaches the requests that waited for it; when none is left
    (all went away), it is dropped here rather than logged as never retrieved."""
    if not done.cancelled():
        done.exception()


def forget_all() -> None:
    """Every cache in this process drops what it holds (a campaign changed state)."""
    global _generation
    _generation += 1


class ReferenceCache:
    def __init__(
        self,
        ttl_s: float = 3.0,
        max_entries: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
        life_spread: float = LIFE_SPREAD,
    ) -> None:
        self.ttl_s = ttl_s
        self.life_spread = life_spread
        self.max_entries = max_entries
        self.clock = clock
        self._entries: dict[tuple[Any, ...], tuple[float, Any]] = {}
        self._loading: dict[tuple[Any, ...], asyncio.Future[Any]] = {}
        self._generation = _generation

    async def _get(self, key: tuple[Any, ...], load: Callable[[], Awaitable[T]]) -> T:
        now = self.clock()
        if self._generation != _generation:
            self._entries.clear()
            self._loading.clear()
            self._generation = _generation
        hit = self._entries.get(key)
        if hit is not None and hit[0] > now:
            # Refresh ahead: in the last fifth of its life, the first request to see
            # an entry starts reading it afresh and, like every request until it
            # expires, is answered from the copy. Under steady traffic no request
            # waits for a load (when an entry expired, every request for it waited),
            # with about as many loads as before (earlier, e.g. at half its life,
            # the extra loads cost more CPU than the waits they saved).
            if hit[0] - now < self.ttl_s * REFRESH_AHEAD and key not in self._loading:
                self._start_load(key, load)
            return hit[1]  # type: ignore[no-any-return]
        # One load per key at a time: when an entry expires under load, the dozens of
        # requests that miss it at once wait for the same queries (on PostgreSQL they
        # were a third of the device path's CPU) instead of each running them.
        loading = self._loading.get(key) or self._start_load(key, load)
        # shielded: a request that goes away does not cancel the others' load
        return await asyncio.shield(loading)  # type: ignore[no-any-return]

    def _start_load(
        self, key: tuple[Any, ...], load: Callable[[], Awaitable[Any]]
    ) -> asyncio.Future[Any]:
        loading = asyncio.ensure_future(self._load(key, load, self._generation))
        loading.add_done_callback(_retrieve)
        self._loading[key] = loading
        return loading

    async def _load(
        self, key: tuple[Any, ...], load: Callable[[], Awaitable[T]], generation: int
    ) -> T:
        try:
            value = await load()
        finally:
            if self._loading.get(key) is asyncio.current_task():
                del self._loading[key]
        if generation != self._generation:
            return value  # loaded before a change: good for its callers, not kept
        now = self.clock()
        if len(self._entries) >= self.max_entries:
            self._entries = {k: v for k, v in self._entries.items() if v[0] > now}
            if len(self._entries) >= self.max_entries:
                self._entries.clear()
        life = self.ttl_s * (1 - self.life_spread * random.random())
        self._entries[key] = (now + life, value)
        return value

    def forget(self, *key: Any) -> None:
        self._entries.pop(key, None)

    async def device(self, key: str) -> dict[str, Any] | None:
        """A known device; unknown keys are not remembered (each guess is counted)."""
        if not key or len(key) > 100:
            return None
        found = await self._get(("device", key), lambda: device_for_key(key))
        if found is None:
            self.forget("device", key)
        return found

    async def staff_at_window(self, code: str | None, window_id: int) -> int | None:
        """The staff member a device names, checked to be on duty at its window
        (`devices.staff_at_window`); a refusal is remembered too and raised afresh."""
        if not code:
            return None

        async def load() -> tuple[int | None, tuple[str, str] | None]:
            try:
                return await staff_at_window(code, window_id), None
            except NotAtThisWindow as exc:
                return None, (exc.field, str(exc))

        found, refused = await self._get(("staff-at-window", code, window_id), load)
        if refused is not None:
            raise NotAtThisWindow(*refused)
        return found

    async def open_campaign_for_window(self, window_id: int) -> int | None:
        return await self._get(
            ("campaign-for-window", window_id),
            lambda: tickets.open_campaign_for_window(window_id),
        )

    async def window_context(
        self, campaign_id: int, window_id: int, staff_id: int | None = None
    ) -> WindowContext | None:
        return await self._get(
            ("context", campaign_id, window_id, staff_id),
            lambda: window_context(campaign_id, window_id, staff_id, self.items),
        )

    async def items(self, version_id: int) -> list[dict[str, Any]]:
        """A questionnaire version's items: one copy for every window asking them."""
        return await self._get(("items", version_id), lambda: items_of(version_id))
