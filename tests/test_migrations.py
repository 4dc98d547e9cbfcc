"""Migrations on the engine under test: fresh, upgrade, and no model drift."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
from pathlib import Path

from conftest import ENGINE, PG_SERVER, WORKER

ROOT = Path(__file__).resolve().parents[1]
MIGRATIONS = sorted(p for p in (ROOT / "migrations").glob("pingyi_*.py"))


def _migration_id(path: Path) -> str:
    for line in path.read_text().splitlines():
        if line.startswith("ID = "):
            return line.split('"')[1]
    raise AssertionError(f"{path} has no ID")


def _pingyi(url: str, *args: str, env_extra: dict[str, str] | None = None) -> str:
    env = {**os.environ, "PINGYI_DATABASE_URL": url, **(env_extra or {})}
    result = subprocess.run(
        [sys.executable, "-m", "pingyi.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


async def _fresh_database(name: str, tmp_path: Path) -> str:
    if ENGINE == "sqlite":
        return f"sqlite:///{tmp_path / name}.db"
    import asyncpg

    connection = await asyncpg.connect(f"{PG_SERVER}/postgres")
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    return f"{PG_SERVER}/{name}"


def _query(url: str, sql: str) -> list[tuple[object, ...]]:
    if ENGINE == "sqlite":
        import sqlite3

        with sqlite3.connect(url.removeprefix("sqlite:///")) as connection:
            return list(connection.execute(sql))

    async def go() -> list[tuple[object, ...]]:
        import asyncpg

        connection = await asyncpg.connect(url)
        try:
            return [tuple(row) for row in await connection.fetch(sql)]
        finally:
            await connection.close()

    return asyncio.run(go())


def test_there_are_at_least_two_migrations() -> None:
    assert len(MIGRATIONS) >= 2


def test_fresh_database_gets_every_table(tmp_path: Path) -> None:
    from pingyi.db.tables import ALL_TABLES

    url = asyncio.run(_fresh_database(f"pingyi_fresh_{WORKER}", tmp_path))
    _pingyi(url, "migrate")
    for table in ALL_TABLES:
        assert _query(url, f'SELECT COUNT(*) FROM "{table._meta.tablename}"') == [(0,)]
    # A second run is a no-op, not an error.
    _pingyi(url, "migrate")


def test_upgrade_from_the_previous_migration_keeps_data(tmp_path: Path) -> None:
    url = asyncio.run(_fresh_database(f"pingyi_upgrade_{WORKER}", tmp_path))
    previous = _migration_id(MIGRATIONS[-2])
    _pingyi(url, "migrate", "--to", previous)
    _query(
        url, "INSERT INTO organization (code, name, name_en) VALUES ('o1', '市政务服务中心', '')"
    )
    applied = _query(url, "SELECT name FROM migration")
    assert len(applied) == len(MIGRATIONS) - 1
    _pingyi(url, "migrate")
    assert _query(url, "SELECT code, name FROM organization") == [("o1", "市政务服务中心")]
    assert len(_query(url, "SELECT name FROM migration")) == len(MIGRATIONS)


def test_models_have_no_changes_that_no_migration_covers(tmp_path: Path) -> None:
    folder = tmp_path / "migrations"
    shutil.copytree(ROOT / "migrations", folder)
    before = sorted(p.name for p in folder.glob("*.py"))
    env = {
        **os.environ,
        "PINGYI_MIGRATIONS_DIR": str(folder),
        "PINGYI_DATABASE_URL": f"sqlite:///{tmp_path / 'drift.db'}",
        "PICCOLO_CONF": "pingyi.piccolo_conf",
    }
    result = subprocess.run(
        [sys.executable, "-m", "piccolo.main", "migrations", "new", "pingyi", "--auto"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=tmp_path,
    )
    after = sorted(p.name for p in folder.glob("*.py"))
    assert after == before, "models changed without a migration:\n" + result.stdout
