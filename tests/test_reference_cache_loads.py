"""The reference cache loads a key once however many requests miss it at the same
moment (an entry expiring under load), and a failed or outdated load is not kept."""

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
