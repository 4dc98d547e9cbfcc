"""Test set-up shared by the whole suite.

The database is chosen by PINGYI_TEST_DATABASE (sqlite, the default, or postgres);
the README's test command runs the suite once for each. Every xdist worker gets a
database of its own, migrated once; each test starts from empty tables.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

ENGINE = os.environ.get("PINGYI_TEST_DATABASE", "sqlite")
# PINGYI_TEST_RUN keeps concurrent runs on one PostgreSQL server apart.
WORKER = os.environ.get("PINGYI_TEST_RUN", "") + os.environ.get("PYTEST_XDIST_WORKER", "main")
PG_SERVER = os.environ.get("PINGYI_TEST_PG", "postgresql://postgres@127.0.0.1:5432")
_TMP = Path(tempfile.mkdtemp(prefix=f"pingyi-test-{WORKER}-"))

if ENGINE == "postgres":
    DATABASE_URL = f"{PG_SERVER}/pingyi_test_{WORKER}"
elif ENGINE == "sqlite":
    DATABASE_URL = f"sqlite:///{_TMP / 'test.db'}"
else:
    raise RuntimeError("PINGYI_TEST_DATABASE must be sqlite or postgres")

# Before anything imports pingyi: settings are read once.
os.environ["PINGYI_DATABASE_URL"] = DATABASE_URL
os.environ["PINGYI_DATA_DIR"] = str(_TMP / "data")
os.environ["PINGYI_SECRET_KEY"] = "test-secret-key-" + "x" * 40
os.environ["PICCOLO_CONF"] = "pingyi.piccolo_conf"
os.environ.pop("PINGYI_REDIS_URL", None)
os.environ.pop("PINGYI_PRODUCTION", None)


async def _recreate_pg_database() -> None:
    import asyncpg

    connection = await asyncpg.connect(f"{PG_SERVER}/postgres")
    try:
        name = f"pingyi_test_{WORKER}"
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def migrated_database() -> str:
    from pingyi.db.migrate import migrate
    from pingyi.settings import get_settings

    if ENGINE == "postgres":
        asyncio.run(_recreate_pg_database())
    asyncio.run(migrate(get_settings()))
    return DATABASE_URL


def _table_names() -> list[str]:
    from pingyi.db.tables import ALL_TABLES

    return [table._meta.tablename for table in ALL_TABLES]


def _empty_sqlite(path: str) -> None:
    with sqlite3.connect(path) as connection:
        connection.execute("PRAGMA foreign_keys=OFF")
        for name in _table_names():
            connection.execute(f'DELETE FROM "{name}"')


async def _empty_postgres() -> None:
    from pingyi.db.tables import Organization

    names = ", ".join(f'"{name}"' for name in _table_names())
    await Organization._meta.db.run_ddl(f"TRUNCATE {names} RESTART IDENTITY CASCADE")


@pytest.fixture
async def db(migrated_database: str) -> AsyncIterator[str]:
    """An empty, migrated database (use in async tests)."""
    if ENGINE == "postgres":
        await _empty_postgres()
    else:
        _empty_sqlite(migrated_database.removeprefix("sqlite:///"))
    yield migrated_database


@pytest.fixture
async def app(db: str) -> AsyncIterator[Any]:
    from pingyi.settings import get_settings
    from pingyi.web.app import create_app

    application = create_app(get_settings())
    async with application.lifespan():
        yield application


@pytest.fixture
async def client(app: Any) -> AsyncIterator[Any]:
    import httpx

    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 50000))
    async with httpx.AsyncClient(
        transport=transport, base_url="http://testserver", follow_redirects=False
    ) as http:
        yield http


@pytest.fixture
def tmp_out(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path
