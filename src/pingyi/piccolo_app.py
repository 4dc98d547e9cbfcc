"""Piccolo's app config: the tables and where the migrations live."""

from piccolo.conf.apps import AppConfig

from pingyi.db.tables import ALL_TABLES
from pingyi.settings import get_settings

APP_CONFIG = AppConfig(
    app_name="pingyi",
    # Must be absolute: piccolo imports the migrations from this folder by path.
    migrations_folder_path=str(get_settings().migrations_dir),
    table_classes=ALL_TABLES,
    migration_dependencies=[],
    commands=[],
)
