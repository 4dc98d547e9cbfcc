from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-30T23:55:18:000000"
VERSION = "1.38.0"
DESCRIPTION = "one ticket per queue number, one served count per window and hour"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="pingyi", description=DESCRIPTION)

    async def unique_indexes():
        # a queue ticket number names one ticket (NULL: device tickets, any number)
        await engine_finder().run_ddl(
            "CREATE UNIQUE INDEX IF NOT EXISTS ticket_number ON ticket (number)"
        )
        # a window's hour has one served count; a later count replaces it (upsert)
        await engine_finder().run_ddl(
            "CREATE UNIQUE INDEX IF NOT EXISTS served_count_window_hour "
            'ON served_count ("window", hour_start)'
        )

    async def drop_them():
        await engine_finder().run_ddl("DROP INDEX IF EXISTS ticket_number")
        await engine_finder().run_ddl("DROP INDEX IF EXISTS served_count_window_hour")

    manager.add_raw(unique_indexes)
    manager.add_raw_backwards(drop_them)
    return manager
