from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import ForeignKey

ID = "2026-11-24T22:16:13:710811"
VERSION = "1.38.0"
DESCRIPTION = "index the hot foreign keys"


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="pingyi", description=DESCRIPTION
    )

    manager.alter_column(
        table_class_name="Response",
        tablename="response",
        column_name="campaign",
        db_column_name="campaign",
        params={"index": True},
        old_params={"index": False},
        column_class=ForeignKey,
        old_column_class=ForeignKey,
        schema=None,
    )

    manager.alter_column(
        table_class_name="Answer",
        tablename="answer",
        column_name="response",
        db_column_name="response",
        params={"index": True},
        old_params={"index": False},
        column_class=ForeignKey,
        old_column_class=ForeignKey,
        schema=None,
    )

    return manager
