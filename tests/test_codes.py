"""QR files and sheets, working-day deadlines and the rate limiters."""

from __future__ import annotations

import re
import sys
import uuid
from datetime import date, datetime
from pathlib import Path
from typing import Any

import anyio
import pytest

from helpers import open_public_campaign
from test_citizen import decode_qr

pytestmark = pytest.mark.anyio


async def test_qr_command_writes_codes_that_scan_and_one_sheet_per_window(
    db: str, tmp_path: Path
) -> None:
    campaign = await open_public_campaign()
    result = await anyio.run_process(
        [sys.executable, "-m", "pingyi.cli", "qr", "--out", str(tmp_path)], check=False
    )
    assert result.returncode == 0, result.stderr.decode()
    pngs = sorted(tmp_path.glob("*.png"))
    assert [p.stem for p in pngs] == sorted(campaign["windows"])
    url = decode_qr(pngs[0].read_bytes())
    assert re.fullmatch(r"http://127\.0\.0\.1:8000/r/c\d+w\d+\.[\w-]+", url)
    assert (tmp_path / f"{pngs[0].stem}.svg").read_text().startswith("<svg")
    pdf = (tmp_path / "sheets.pdf").read_bytes()
    assert pdf.startswith(b"%PDF")
    assert len(re.findall(rb"/Type /Page\b(?!s)", pdf)) == len(pngs)
    missing = await anyio.run_process(
        [
            sys.executable,
            "-m",
            "pingyi.cli",
            "qr",
            "--campaign",
            "NOPE",
            "--out",
            str(tmp_path / "x"),
        ],
        check=False,
    )
    assert missing.returncode == 1 and b"no campaign" in missing.stderr


def test_deadlines_skip_chinese_holidays_and_count_make_up_days() -> None:
    from pingyi.hours import LOCAL_TZ
    from pingyi.workdays import add_working_days, is_workday

    # National Day 2025: Oct 1-8 off, Sat Sep 28 and Sat Oct 11 are working days.
    assert is_workday(date(2025, 9, 28)) and not is_workday(date(2025, 10, 3))
    assert is_workday(date(2025, 10, 11))
    opened = datetime(2025, 9, 30, 16, 0, tzinfo=LOCAL_TZ)
    assert add_working_days(opened, 1).date() == date(2025, 10, 9)
    friday = datetime(2025, 11, 14, 10, 0, tzinfo=LOCAL_TZ)
    assert add_working_days(friday, 5).date() == date(2025, 11, 21)
    # Beyond the calendar's years: Monday to Friday.
    assert add_working_days(datetime(2099, 1, 2, tzinfo=LOCAL_TZ), 1).date() == date(2099, 1, 5)


async def test_memory_limiter_counts_per_key_and_window() -> None:
    from pingyi.ratelimit import MemoryRateLimiter

    now = [1000.0]
    limiter = MemoryRateLimiter(clock=lambda: now[0])
    decisions = [await limiter.hit("a", 3, 60) for _ in range(4)]
    assert [d.allowed for d in decisions] == [True, True, True, False]
    assert decisions[-1].retry_after_s > 0
    assert (await limiter.hit("b", 3, 60)).allowed
    now[0] += 60
    assert (await limiter.hit("a", 3, 60)).allowed


async def test_memory_limiter_full_of_live_keys_trims_once_per_quarter(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A table full of live keys (a day's form claims) is trimmed to three quarters,
    oldest first, once per quarter of new keys: not a pass over it for every request,
    which held a worker to a few hundred posts a second after 100,000 forms."""
    from pingyi import ratelimit

    passes = [0]
    trimmed = ratelimit._trimmed

    def counted(*args: Any) -> Any:
        passes[0] += 1
        return trimmed(*args)

    monkeypatch.setattr(ratelimit, "_trimmed", counted)
    now = [1000.0]
    limiter = ratelimit.MemoryRateLimiter(clock=lambda: now[0], max_keys=100)
    assert all([await limiter.claim(f"form:{n}", 86_400) for n in range(1000)])
    assert 30 <= passes[0] <= 40  # (1000 - 100) / 25 new keys per pass
    assert len(limiter._claims) <= 100
    assert not await limiter.claim("form:999", 86_400)  # the newest are remembered
    assert await limiter.claim("form:0", 86_400)  # the oldest made room
    passes[0] = 0
    for n in range(1000):
        await limiter.hit(f"dev:{n}", 10, 3600)
    assert 30 <= passes[0] <= 40 and len(limiter._counts) <= 100


async def test_memory_limiter_keeps_a_busy_source_through_a_flood_of_new_keys() -> None:
    """New keys evict the least recently used: an address that keeps posting while
    other sources come and go stays counted and refused."""
    from pingyi.ratelimit import MemoryRateLimiter

    limiter = MemoryRateLimiter(clock=lambda: 1000.0, max_keys=8)
    allowed = []
    for n in range(40):
        allowed.append((await limiter.hit("addr:192.0.2.1", 20, 3600)).allowed)
        await limiter.hit(f"dev:{n}", 20, 3600)
    assert allowed == [True] * 20 + [False] * 20


async def test_redis_limiter_is_shared_between_workers() -> None:
    from pingyi.ratelimit import RedisRateLimiter

    prefix = f"pingyi:test:{uuid.uuid4().hex}:"
    one = RedisRateLimiter("redis://127.0.0.1:6379/0", prefix=prefix)
    two = RedisRateLimiter("redis://127.0.0.1:6379/0", prefix=prefix)
    try:
        results: list[Any] = [
            await one.hit("k", 2, 3600),
            await two.hit("k", 2, 3600),
            await one.hit("k", 2, 3600),
        ]
        assert [r.allowed for r in results] == [True, True, False]
        assert results[-1].retry_after_s > 0
        assert (await two.hit("other", 2, 3600)).allowed
    finally:
        await one.close()
        await two.close()


async def test_limiter_allows_no_double_burst_across_a_window_boundary() -> None:
    from pingyi.ratelimit import MemoryRateLimiter

    now = [1079.0]  # one second before a 60 s window ends (windows start at 1020, 1080)
    limiter = MemoryRateLimiter(clock=lambda: now[0])
    assert all([(await limiter.hit("a", 5, 60)).allowed for _ in range(5)])
    now[0] = 1081.0  # a fixed window would start again from zero here
    refused = await limiter.hit("a", 5, 60)
    assert not refused.allowed and 1 <= refused.retry_after_s <= 60
    now[0] += refused.retry_after_s
    assert (await limiter.hit("a", 5, 60)).allowed
