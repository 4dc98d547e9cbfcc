"""A real browser against a real server.

- `browser`: the distribution's Chromium (/usr/bin/chromium, or PINGYI_CHROMIUM),
  headless, driven by Playwright; never a downloaded browser. `scripts/test`
  installs Chromium when it is missing; without it these tests fail, they are not
  skipped. Every page a test reaches through it is audited by axe-core (WCAG 2.1
  A and AA, see axe.py); any violation fails the test.
- `live_database`: a database of the test's own (SQLite file, or a PostgreSQL
  database named after the run and the xdist worker).
- `demo_server` / `empty_server`: `pingyi serve` in a subprocess on a free port,
  with the demo loaded, or with nothing but one agency_admin user.
"""

from __future__ import annotations

import os
import re
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from browser.axe import Audit, instrument
from conftest import ENGINE, WORKER
from live_server import (
    LiveServer,
    cli,
    create_pg_database,
    drop_pg_database,
    free_port,
    run_async,
    server_env,
)

CHROMIUM = os.environ.get("PINGYI_CHROMIUM", "/usr/bin/chromium")
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
    "locale": "zh-CN",
    "user_agent": (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.50"
    ),
}
DESKTOP = {"viewport": {"width": 1280, "height": 900}, "locale": "zh-CN"}
ADMIN_PASSWORD = "agency password 2026"


@pytest.fixture
def axe(monkeypatch: pytest.MonkeyPatch) -> Audit:
    """The axe-core audit of this test's pages (what was audited, late findings)."""
    return instrument(monkeypatch)


@pytest.fixture
def browser(axe: Audit) -> Iterator[Any]:
    # Per test: Playwright's sync API keeps an event loop running in this thread
    # while it lives, which the suite's other (async) tests must not meet.
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"no Chromium at {CHROMIUM}: install the distribution's package "
            "(apt-get install chromium fonts-wqy-microhei; scripts/test does) "
            "or set PINGYI_CHROMIUM"
        )
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"],
        )
        try:
            yield chromium
        finally:
            chromium.close()
    if axe.failures:
        pytest.fail("\n\n".join(axe.failures), pytrace=False)


@dataclass
class Database:
    url: str

    def rows(self, query: str, *args: Any) -> list[tuple[Any, ...]]:
        """A read for the test's checks, straight from the database."""
        if self.url.startswith("sqlite:///"):
            with sqlite3.connect(self.url.removeprefix("sqlite:///")) as connection:
                return list(connection.execute(query.replace("$1", "?"), args))
        import asyncpg

        async def fetch() -> list[tuple[Any, ...]]:
            connection = await asyncpg.connect(self.url)
            try:
                return [tuple(r) for r in await connection.fetch(query, *args)]
            finally:
                await connection.close()

        return run_async(fetch())


@pytest.fixture
def live_database(tmp_path: Path) -> Iterator[Database]:
    if ENGINE == "postgres":
        name = f"pingyi_browser_{WORKER}".lower()
        url = create_pg_database(name)
        try:
            yield Database(url)
        finally:
            drop_pg_database(name)
    else:
        yield Database(f"sqlite:///{tmp_path / 'browser.db'}")


@dataclass
class Served:
    base: str
    db: Database
    env: dict[str, str]
    folder: Path
    logins: dict[str, str] = field(default_factory=dict)
    shots: Path = Path()

    def shot(self, page: Any, name: str) -> Path:
        path = self.shots / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path


def _start(tmp_path: Path, db: Database, demo: bool) -> tuple[LiveServer, Served]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = server_env(db.url, tmp_path, PINGYI_BASE_URL=base)
    logins: dict[str, str] = {}
    if demo:
        out = cli(env, tmp_path, "demo")
        for username, role, secret in re.findall(r"^\s+(\S+)\s+(\S+)\s+(\S+)$", out, re.M):
            logins[username] = secret
            logins[role] = secret
    else:
        cli(env, tmp_path, "migrate")
        cli(
            env,
            tmp_path,
            "createuser",
            "agency",
            "--role",
            "agency_admin",
            "--password",
            ADMIN_PASSWORD,
            "--name",
            "评价机构",
        )
        logins["agency"] = ADMIN_PASSWORD
    server = LiveServer(env, tmp_path, port=port)
    server.wait_healthy()
    shots = tmp_path / "screenshots"
    shots.mkdir()
    return server, Served(base, db, env, tmp_path, logins, shots)


@pytest.fixture
def demo_server(tmp_path: Path, live_database: Database) -> Iterator[Served]:
    server, served = _start(tmp_path, live_database, demo=True)
    try:
        yield served
    finally:
        server.stop()


@pytest.fixture
def empty_server(tmp_path: Path, live_database: Database) -> Iterator[Served]:
    server, served = _start(tmp_path, live_database, demo=False)
    try:
        yield served
    finally:
        server.stop()
