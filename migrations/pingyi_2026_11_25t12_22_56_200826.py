from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Text
from piccolo.columns.indexes import IndexMethod

ID = "2026-11-25T12:22:56:200826"
VERSION = "1.38.0"
DESCRIPTION = "the campaign report frozen with each publication"


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="pingyi", description=DESCRIPTION
    )

    manager.add_column(
        table_class_name="Publication",
        tablename="publication",
        column_name="report_en",
        db_column_name="report_en",
        column_class_name="Text",
        column_class=Text,
        params={
            "default": "",
            "null": False,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    manager.add_column(
        table_class_name="Publication",
        tablename="publication",
        column_name="report_zh",
        db_column_name="report_zh",
        column_class_name="Text",
        column_class=Text,
        params={
            "default": "",
            "null": False,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    return manager
