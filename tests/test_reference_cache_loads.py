"""The reference cache loads a key once however many requests miss it at the same
moment (an entry expiring under load), a failed or outdated load is not kept, and an
entry near the end of its life is read afresh in the background, never served
expired."""

from __future__ import annotations

import asyncio

import pytest

from pingyi.services.reference_cache import ReferenceCache, forget_all

pytestmark = pytest.mark.anyio


class Loader:
    def __init__(self, fail: bool = False) -> None:
        self.calls = 0
        self.fail = fail
        self.release = asyncio.Event()

    async def __call__(self) -> dict[str, int]:
        self.calls += 1
        await self.release.wait()
        if self.fail:
            raise ConnectionError("database away")
        return {"call": self.calls}


async def test_concurrent_misses_share_one_load() -> None:
    cache = ReferenceCache(ttl_s=60)
    loader = Loader()
    waiting = [asyncio.create_task(cache._get(("window", 1), loader)) for _ in range(30)]
    await asyncio.sleep(0.01)
    loader.release.set()
    results = await asyncio.gather(*waiting)
    assert loader.calls == 1
    assert all(r == {"call": 1} for r in results)
    assert await cache._get(("window", 1), loader) == {"call": 1}  # kept
    assert loader.calls == 1


async def test_a_request_that_goes_away_does_not_cancel_the_load_of_the_others() -> None:
    cache = ReferenceCache(ttl_s=60)
    loader = Loader()
    first = asyncio.create_task(cache._get(("device", "k"), loader))
    second = asyncio.create_task(cache._get(("device", "k"), loader))
    await asyncio.sleep(0.01)
    first.cancel()
    loader.release.set()
    assert await second == {"call": 1}
    assert first.cancelled()


async def test_a_failed_load_reaches_every_waiter_and_is_tried_again_next_time() -> None:
    cache = ReferenceCache(ttl_s=60)
    loader = Loader(fail=True)
    waiting = [asyncio.create_task(cache._get(("campaign", 3), loader)) for _ in range(5)]
    await asyncio.sleep(0.01)
    loader.release.set()
    results = await asyncio.gather(*waiting, return_exceptions=True)
    assert all(isinstance(r, ConnectionError) for r in results)
    loader.fail = False
    assert await cache._get(("campaign", 3), loader) == {"call": 2}


async def test_a_load_overtaken_by_a_change_is_not_kept() -> None:
    cache = ReferenceCache(ttl_s=60)
    loader = Loader()
    waiting = asyncio.create_task(cache._get(("context", 1, 2, None), loader))
    await asyncio.sleep(0.01)
    forget_all()  # a campaign changed state while the old copy was being read

    async def other() -> str:
        return "other"

    assert await cache._get(("other",), other) == "other"  # the change is seen here
    loader.release.set()
    assert await waiting == {"call": 1}  # its callers get what they asked for
    assert await cache._get(("context", 1, 2, None), loader) == {"call": 2}  # read afresh


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


async def _settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_near_its_end_an_entry_is_read_afresh_while_requests_get_the_copy() -> None:
    clock = Clock()
    cache = ReferenceCache(ttl_s=3, clock=clock, life_spread=0)
    loader = Loader()
    loader.release.set()
    assert await cache._get(("device", "k"), loader) == {"call": 1}

    clock.now += 2.0  # two thirds of its life: served, nothing read
    assert await cache._get(("device", "k"), loader) == {"call": 1}
    await _settle()
    assert loader.calls == 1

    loader.release.clear()
    clock.now += 0.6  # its last fifth: the copy now, a read in the background
    answers = [await cache._get(("device", "k"), loader) for _ in range(20)]
    assert answers == [{"call": 1}] * 20  # no request waited for the read
    await _settle()
    assert loader.calls == 2  # one read for all of them
    loader.release.set()
    await _settle()
    assert await cache._get(("device", "k"), loader) == {"call": 2}  # the fresh copy
    clock.now += 2.0  # within the fresh copy's life: still no read
    assert await cache._get(("device", "k"), loader) == {"call": 2}
    await _settle()
    assert loader.calls == 2


async def test_an_expired_entry_is_never_served() -> None:
    clock = Clock()
    cache = ReferenceCache(ttl_s=3, clock=clock, life_spread=0)
    loader = Loader()
    loader.release.set()
    assert await cache._get(("device", "k"), loader) == {"call": 1}
    loader.release.clear()
    clock.now += 3.5  # nobody asked during its second half: it has expired
    waiting = asyncio.create_task(cache._get(("device", "k"), loader))
    await _settle()
    assert not waiting.done()  # the request waits for the read: no copy older than ttl_s
    loader.release.set()
    assert await waiting == {"call": 2}


async def test_a_failed_refresh_keeps_the_copy_until_it_expires() -> None:
    clock = Clock()
    cache = ReferenceCache(ttl_s=3, clock=clock, life_spread=0)
    loader = Loader()
    loader.release.set()
    assert await cache._get(("campaign", 3), loader) == {"call": 1}
    loader.fail = True
    clock.now += 2.5
    assert await cache._get(("campaign", 3), loader) == {"call": 1}
    await _settle()
    assert loader.calls == 2  # the refresh ran and failed, quietly
    assert await cache._get(("campaign", 3), loader) == {"call": 1}  # the copy, still valid
    clock.now += 1.0  # expired: the failure now reaches the request
    with pytest.raises(ConnectionError):
        await cache._get(("campaign", 3), loader)


async def test_entries_read_together_expire_apart_never_beyond_ttl() -> None:
    """Entries read at the same moment get lives spread over the last quarter of
    ttl_s, so their refreshes do not all come at once; none outlives ttl_s."""
    clock = Clock()
    cache = ReferenceCache(ttl_s=3, clock=clock)
    loader = Loader()
    loader.release.set()
    for window in range(200):
        await cache._get(("context", window), loader)
    expiries = [expiry - clock.now for expiry, _ in cache._entries.values()]
    assert all(2.25 <= expiry <= 3.0 for expiry in expiries)
    assert max(expiries) - min(expiries) > 0.5  # spread, not one moment
