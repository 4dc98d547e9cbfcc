from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-25T12:20:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "one publication per campaign revision"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="pingyi", description=DESCRIPTION)

    async def unique_revision():
        # two agency users publishing at once must not freeze one revision twice
        engine = engine_finder()
        await engine.run_ddl(
            "CREATE UNIQUE INDEX IF NOT EXISTS publication_campaign_revision "
            "ON publication (campaign, revision)"
        )

    async def drop_it():
        await engine_finder().run_ddl("DROP INDEX IF EXISTS publication_campaign_revision")

    manager.add_raw(unique_revision)
    manager.add_raw_backwards(drop_it)
    return manager
