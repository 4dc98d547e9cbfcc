"""The console's homes and large tables at the size of a real organisation: 200 units,
5,000 staff, a published feed of 5,000 rows, 1,200 bad-review cases, 3,000 flags.

    python benchmarks/console_pages.py [--database sqlite|postgres] [--repeat 20]

Builds the organisation with the test suite's generator (tests/bigorg.py) in a fresh
database, then times each page in-process (httpx over ASGI, one worker, no network)
and prints the median and the slowest of `--repeat` requests, with the bytes sent.
The first request of a published feed reads and caches it: its time is shown apart.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "benchmark password 2026"

PAGES = {
    "agency": [
        "/admin",
        "/admin/org/staff",
        "/admin/org/staff?q=欧阳&sort=name&dir=desc",
        "/admin/org/staff?unit=U150&category=management",
        "/admin/org/staff/export?category=law_enforcement&format=csv",
        "/admin/org/staff/export?format=xlsx",
        "/admin/cases?state=overdue&sort=due",
        "/admin/cases?q=等候&size=200&page=2",
        "/admin/cases/export?state=open&format=xlsx",
        "/admin/campaigns/BIG/flags?reason=BURST&state=open&sort=weight&dir=desc",
        "/admin/campaigns/BIG/flags/export?format=csv",
    ],
    "hr": [
        "/admin",
        "/admin/campaigns/BIG/scores",
        "/admin/campaigns/BIG/scores?unit=U010&sort=total&dir=desc",
        "/admin/campaigns/BIG/scores?q=王&final=pending&size=200&page=3",
        "/admin/campaigns/BIG/scores/export?grade=合格&format=csv",
    ],
    "leader": ["/admin", "/admin/cases"],
    "staff": ["/admin"],
}


def environment(engine: str) -> None:
    folder = Path(tempfile.mkdtemp(prefix="pingyi-console-bench-"))
    if engine == "postgres":
        import asyncpg

        async def fresh() -> None:
            connection = await asyncpg.connect("postgresql://postgres@127.0.0.1:5432/postgres")
            await connection.execute('DROP DATABASE IF EXISTS "pingyi_console_bench" WITH (FORCE)')
            await connection.execute('CREATE DATABASE "pingyi_console_bench"')
            await connection.close()

        asyncio.run(fresh())
        url = "postgresql://postgres@127.0.0.1:5432/pingyi_console_bench"
    else:
        url = f"sqlite:///{folder / 'bench.db'}"
    os.environ.update(
        {
            "PINGYI_DATABASE_URL": url,
            "PINGYI_DATA_DIR": str(folder / "data"),
            "PINGYI_SECRET_KEY": "benchmark-secret-" + "x" * 40,
            "PICCOLO_CONF": "pingyi.piccolo_conf",
        }
    )


async def build() -> None:
    sys.path.insert(0, str(ROOT / "tests"))
    import bigorg
    from pingyi.db.migrate import migrate
    from pingyi.services.users import create_user
    from pingyi.settings import get_settings

    await migrate(get_settings())
    started = time.perf_counter()
    org = await bigorg.build()
    feed = await bigorg.publish_feed()
    await bigorg.add_cases(feed["campaign_id"], org["windows"], org["units"])
    await bigorg.add_flags(feed["campaign_id"])
    took = time.perf_counter() - started
    print(f"generated 200 units, 5,000 staff, a feed, cases, flags in {took:.1f} s")
    await create_user("agency", PASSWORD, "agency_admin")
    await create_user("hr", PASSWORD, "hr")
    await create_user("leader", PASSWORD, "unit_leader", unit_code="U003", staff_code="U003-00")
    await create_user("staff", PASSWORD, "staff", staff_code="U003-07")


async def measure(repeat: int) -> None:
    import httpx

    from pingyi.settings import get_settings
    from pingyi.web.app import create_app

    sys.path.insert(0, str(ROOT / "tests"))
    from helpers import login

    app = create_app(get_settings())
    async with app.lifespan():
        for user, pages in PAGES.items():
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
                assert (await login(client, user, PASSWORD)).status_code in (302, 303)
                for path in pages:
                    times, size = [], 0
                    for _ in range(repeat):
                        started = time.perf_counter()
                        response = await client.get(path)
                        times.append((time.perf_counter() - started) * 1000)
                        assert response.status_code == 200, (path, response.status_code)
                        size = len(response.content)
                    print(
                        f"{user:7} {path:72} first {times[0]:7.1f} ms  median "
                        f"{statistics.median(times[1:] or times):7.1f} ms  max "
                        f"{max(times[1:] or times):7.1f} ms  {size / 1024:7.1f} KB"
                    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    environment(args.database)
    asyncio.run(build())
    asyncio.run(measure(args.repeat))


if __name__ == "__main__":
    main()
