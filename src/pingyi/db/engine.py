"""The piccolo engine for the configured database, and its lifecycle."""

from __future__ import annotations

from urllib.parse import urlparse

from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine

from pingyi.settings import Settings


def make_engine(settings: Settings) -> Engine:
    if settings.is_postgres:
        url = urlparse(settings.database_url)
        return PostgresEngine(
            config={
                "host": url.hostname or "127.0.0.1",
                "port": url.port or 5432,
                "user": url.username or "postgres",
                "password": url.password or "",
                "database": (url.path or "/pingyi").lstrip("/") or "pingyi",
            },
            log_queries=False,
        )
    # WAL lets readers proceed while the writer commits; the busy timeout makes a
    # second writer wait instead of failing with "database is locked".
    return SQLiteEngine(
        path=str(settings.sqlite_path),
        timeout=30,
    )
