"""Apply the migrations in the top-level `migrations/` folder."""

from __future__ import annotations

import sqlite3

from piccolo.apps.migrations.commands.forwards import run_forwards

from pingyi.settings import Settings, check_folders


class MigrationError(RuntimeError):
    pass


def prepare_sqlite(settings: Settings) -> None:
    """WAL lets readers run while one writer commits; it is a property of the file,
    so setting it once here holds for every later connection."""
    if settings.is_postgres:
        return
    settings.sqlite_path.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(settings.sqlite_path) as connection:
        connection.execute("PRAGMA journal_mode=WAL")


async def migrate(settings: Settings, migration_id: str = "all") -> str:
    check_folders(settings)
    prepare_sqlite(settings)
    result = await run_forwards(app_name="pingyi", migration_id=migration_id)
    if not result.success:
        raise MigrationError(result.message or "migration failed")
    return result.message or "ok"
