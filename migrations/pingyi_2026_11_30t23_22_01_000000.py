from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-30T23:22:01:000000"
VERSION = "1.38.0"
DESCRIPTION = "one pressure report per rating form"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="pingyi", description=DESCRIPTION)

    async def one_report_per_form():
        # a replayed pressure form must not store a second report (NULL: older rows)
        await engine_finder().run_ddl(
            "CREATE UNIQUE INDEX IF NOT EXISTS pressure_report_once ON pressure_report (once)"
        )

    async def drop_it():
        await engine_finder().run_ddl("DROP INDEX IF EXISTS pressure_report_once")

    manager.add_raw(one_report_per_form)
    manager.add_raw_backwards(drop_it)
    return manager
