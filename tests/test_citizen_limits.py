"""Nobody can close a window to honest citizens (issue 13 items 1 and 7): replays
count toward no limit, limits apply to the source (its address, whatever user agent
it claims), a window's unusual volume is stored and shown to the agency as an alert,
never refused; pressure reports are one per rating form, limited per address and
read by the agency."""

from __future__ import annotations

import dataclasses
import re
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from helpers import login, make_user, open_public_campaign

pytestmark = pytest.mark.anyio

LIMITS = {"rate_limit_per_device": 5, "rate_limit_per_address": 8, "rate_limit_per_window": 10}


@pytest.fixture
async def small_app(db: str) -> AsyncIterator[Any]:
    from pingyi.settings import get_settings
    from pingyi.web.app import create_app

    application = create_app(dataclasses.replace(get_settings(), **LIMITS))
    async with application.lifespan():
        yield application


def _client(app: Any, address: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


async def _form(http: httpx.AsyncClient, path: str, ua: str = "phone") -> str:
    page = await http.get(path, headers={"user-agent": ua})
    assert page.status_code == 200
    return re.search(r'name="token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]


def _rating(token: str) -> dict[str, str]:
    return {"token": token, "overall": "5", "item_attitude": "5"}


async def _window_path(campaign: dict[str, Any], window: str = "u1-W1") -> str:
    from pingyi.services.links import window_url

    return window_url(campaign["campaign_id"], campaign["windows"][window]).removeprefix(
        "http://127.0.0.1:8000"
    )


async def test_replays_never_lock_out_honest_citizens(small_app: Any) -> None:
    from pingyi.db.tables import Response, VolumeAlert

    campaign = await open_public_campaign()
    path = await _window_path(campaign)
    async with _client(small_app, "198.51.100.66") as attacker:
        token = await _form(attacker, path)
        # One form replayed far beyond every limit: thanked each time, stored once.
        statuses = {(await attacker.post(path, data=_rating(token))).status_code for _ in range(60)}
        assert statuses == {200}
    assert await Response.count() == 1
    # Honest citizens, each from their own phone, well beyond the window's threshold.
    for n in range(2 * LIMITS["rate_limit_per_window"]):
        async with _client(small_app, f"203.0.{n}.10") as citizen:
            done = await citizen.post(path, data=_rating(await _form(citizen, path)))
            assert done.status_code == 200 and "感谢" in done.text, (n, done.status_code)
    assert await Response.count() == 1 + 2 * LIMITS["rate_limit_per_window"]
    # The volume became one alert for the agency, not a refusal.
    alerts = await VolumeAlert.select()
    assert len(alerts) == 1 and alerts[0]["window"] == campaign["windows"]["u1-W1"]
    assert alerts[0]["threshold"] == LIMITS["rate_limit_per_window"]


async def test_limits_follow_the_address_whatever_the_user_agent(small_app: Any) -> None:
    from pingyi.db.tables import Response

    campaign = await open_public_campaign()
    path = await _window_path(campaign)
    statuses = []
    async with _client(small_app, "198.51.100.7") as source:
        for n in range(LIMITS["rate_limit_per_address"] + 2):
            ua = f"agent-{n}"  # a fresh user agent for every submission
            response = await source.post(
                path, data=_rating(await _form(source, path, ua)), headers={"user-agent": ua}
            )
            statuses.append(response.status_code)
        assert response.headers["retry-after"].isdigit()
        assert "提交过于频繁" in response.text
    assert statuses == [200] * LIMITS["rate_limit_per_address"] + [429, 429]
    assert await Response.count() == LIMITS["rate_limit_per_address"]
    # Another address is not affected.
    async with _client(small_app, "198.51.100.8") as other:
        assert (await other.post(path, data=_rating(await _form(other, path)))).status_code == 200


async def test_a_refused_form_counts_when_it_is_sent_again_later(small_app: Any) -> None:
    """Releasing a refused form's claim: its retry is limited like any new form."""
    from pingyi.db.tables import Response

    campaign = await open_public_campaign()
    path = await _window_path(campaign)
    async with _client(small_app, "198.51.100.9") as source:
        for _ in range(LIMITS["rate_limit_per_device"]):
            assert (await source.post(path, data=_rating(await _form(source, path)))).is_success
        token = await _form(source, path)
        for _ in range(5):
            assert (await source.post(path, data=_rating(token))).status_code == 429
    assert await Response.count() == LIMITS["rate_limit_per_device"]


async def test_agency_sees_alerts_and_pressure_reports(small_app: Any) -> None:
    from pingyi.db.tables import PressureReport
    from pingyi.services.links import sign_pressure
    from pingyi.web.citizen import PRESSURE_PER_ADDRESS

    campaign = await open_public_campaign()
    path = await _window_path(campaign)
    for n in range(LIMITS["rate_limit_per_window"] + 1):
        async with _client(small_app, f"198.18.{n}.10") as citizen:
            done = await citizen.post(path, data=_rating(await _form(citizen, path)))
            assert done.status_code == 200
    token = re.search(r'name="token" value="([^"]+)"', done.text).group(1)  # type: ignore[union-attr]
    async with _client(small_app, "203.0.113.200") as citizen:
        replies = [
            await citizen.post("/p", data={"token": token, "text": "工作人员让我点满意"})
            for _ in range(30)
        ]
        assert {r.status_code for r in replies} == {200}
        assert await PressureReport.count() == 1
        # Each rating form may report once; an address only so many times.
        cid, wid = campaign["campaign_id"], campaign["windows"]["u1-W2"]
        statuses = [
            (
                await citizen.post(
                    "/p", data={"token": sign_pressure(cid, wid, uuid.uuid4().hex), "text": "又"}
                )
            ).status_code
            for _ in range(PRESSURE_PER_ADDRESS + 1)
        ]
    assert statuses[: PRESSURE_PER_ADDRESS - 1] == [200] * (PRESSURE_PER_ADDRESS - 1)
    assert statuses[-1] == 429
    assert await PressureReport.count() == PRESSURE_PER_ADDRESS
    # The agency reads both on the campaign's alerts page, linked from the dashboard.
    await make_user("agency", "agency_admin")
    await make_user("leader", "unit_leader", unit_code="u1")
    async with _client(small_app, "192.0.2.1") as console:
        await login(console, "agency", "correct horse battery")
        dashboard = await console.get("/admin/campaigns/C1")
        assert "/admin/campaigns/C1/alerts" in dashboard.text
        page = await console.get("/admin/campaigns/C1/alerts")
        assert page.status_code == 200
        assert "工作人员让我点满意" in page.text and "评价量异常" in page.text
        assert "10 条" in page.text  # the threshold, per period
        assert "暂无评价量异常" not in page.text
    async with _client(small_app, "192.0.2.2") as console:
        await login(console, "leader", "correct horse battery")
        assert (await console.get("/admin/campaigns/C1/alerts")).status_code == 403


async def test_a_form_is_claimed_once_across_workers() -> None:
    """Two workers sharing Redis see one claim of a form; a released claim (a refused
    submission) can be claimed again; the in-memory limiter behaves the same."""
    from pingyi.ratelimit import MemoryRateLimiter, RedisRateLimiter

    prefix = f"pingyi:test:{uuid.uuid4().hex}:"
    one = RedisRateLimiter("redis://127.0.0.1:6379/0", prefix=prefix)
    two = RedisRateLimiter("redis://127.0.0.1:6379/0", prefix=prefix)
    now = [1000.0]
    memory = MemoryRateLimiter(clock=lambda: now[0])
    try:
        assert await one.claim("form:a", 60) and not await two.claim("form:a", 60)
        await two.release("form:a")
        assert await one.claim("form:a", 60) and await two.claim("form:b", 60)
        assert await memory.claim("form:a", 60) and not await memory.claim("form:a", 60)
        now[0] += 61  # the claim expires
        assert await memory.claim("form:a", 60)
        await memory.release("form:a")
        assert await memory.claim("form:a", 60)
    finally:
        await one.close()
        await two.close()
