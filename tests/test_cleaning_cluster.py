"""The service's cleaning run on a Dask cluster (PINGYI_CLEANING_SCHEDULER)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from test_console import _demo_closed

pytestmark = pytest.mark.anyio


@pytest.fixture
def scheduler_setting(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    from pingyi.settings import get_settings

    get_settings.cache_clear()
    yield monkeypatch
    monkeypatch.delenv("PINGYI_CLEANING_SCHEDULER", raising=False)
    get_settings.cache_clear()


async def _flags(revision: int) -> list[tuple[str, str, str, float, str]]:
    from pingyi.db.tables import Campaign, Flag

    campaign = await Campaign.select(Campaign.id).where(Campaign.code == "2026Q4").first()
    rows = await Flag.select().where(
        (Flag.campaign == campaign["id"]) & (Flag.revision == revision)
    )
    return sorted(
        (r["reason"], r["response_id"], r["rater"], round(r["weight"], 9), r["detail"])
        for r in rows
    )


async def test_a_cluster_run_stores_what_an_in_process_run_stores(
    db: str, scheduler_setting: pytest.MonkeyPatch
) -> None:
    from distributed import LocalCluster

    from pingyi.services.cleaning_run import run_cleaning
    from pingyi.settings import get_settings

    await _demo_closed()
    first = await run_cleaning("2026Q4", "test")
    with LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=":0") as cluster:
        scheduler_setting.setenv("PINGYI_CLEANING_SCHEDULER", cluster.scheduler_address)
        get_settings.cache_clear()
        assert get_settings().cleaning_scheduler == cluster.scheduler_address
        second = await run_cleaning("2026Q4", "test")
    assert second["flags"] == first["flags"] and second["flags"]["BURST"] >= 20
    stored = await _flags(1)
    assert len(stored) >= 20 and await _flags(2) == stored


async def test_an_unreachable_scheduler_still_cleans_in_process(
    db: str, scheduler_setting: pytest.MonkeyPatch
) -> None:
    from pingyi.services.cleaning_run import run_cleaning
    from pingyi.settings import get_settings

    await _demo_closed()
    scheduler_setting.setenv("PINGYI_CLEANING_SCHEDULER", "tcp://127.0.0.1:9")
    get_settings.cache_clear()
    summary = await run_cleaning("2026Q4", "test")
    assert summary["revision"] == 1 and summary["flags"]["BURST"] >= 20
