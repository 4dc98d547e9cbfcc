"""Several tables' rows from one query, as the dicts piccolo's `select()` gives.

For the submission path's reference reads (a window's context: its campaign,
window, unit and staff member): there each query costs a hop to a database thread
(about 150 µs on SQLite) and piccolo's nested join output over a millisecond, and
the reference cache reads them afresh every few seconds for every window.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from piccolo.columns import JSON, JSONB
from piccolo.table import Table


def aliased(table: type[Table], alias: str, names: Iterable[str] | None = None) -> str:
    """`alias."col" AS "alias.col", …` for the named columns (default: all)."""
    columns = [c._meta.db_column_name for c in table._meta.columns]
    wanted = columns if names is None else list(names)
    return ", ".join(f'{alias}."{name}" AS "{alias}.{name}"' for name in wanted)


def part(row: dict[str, Any], table: type[Table], alias: str) -> dict[str, Any] | None:
    """The columns `aliased` selected for `alias`, by their own names; JSON decoded as
    piccolo's `load_json` would. None when the row's `id` is NULL (an outer join
    found nothing)."""
    prefix = f"{alias}."
    found = {k[len(prefix) :]: v for k, v in row.items() if k.startswith(prefix)}
    if found.get("id") is None:
        return None
    for column in table._meta.columns:
        name = column._meta.db_column_name
        if isinstance(column, JSON | JSONB) and isinstance(found.get(name), str):
            found[name] = json.loads(found[name])
    return found
