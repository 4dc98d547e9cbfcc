"""The HR scores table: the published (frozen) feed rows filtered, sorted and paged
on the server. The rows come from one publication document, not from a table, so
they are narrowed here in memory; the export applies the same query to the same rows.

Filtering selects whole rows and never changes a number in them: a row's peer score
is already suppressed under k at publication, and no filter re-aggregates a group.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from pingyi.db.tables import ROLES
from pingyi.scoring import FeedRow
from pingyi.web.tables import TableError, TableQuery, TableSpec, sort_rows

SORT_KEYS: dict[str, Callable[[FeedRow], Any]] = {
    "code": lambda r: r.staff_code,
    "name": lambda r: r.staff_name,
    "unit": lambda r: (r.unit_name, r.staff_code),
    **{role: (lambda r, role=role: r.scores[role]) for role in ROLES},  # type: ignore[misc]
    "total": lambda r: r.total,
    "satisfaction": lambda r: r.satisfaction_rate,
    "grade": lambda r: r.grade_level,
    "final": lambda r: r.final_grade or None,
}

SCORES_TABLE = TableSpec(
    sorts=tuple(SORT_KEYS),
    default_sort="code",
    filters={
        "unit": None,
        "grade": None,  # one of the policy's labels, checked in `select`
        "final": ("pending", "decided"),
        "warning": ("1",),
    },
)


def units_of(rows: Sequence[FeedRow]) -> list[tuple[str, str]]:
    """(code, name) of the units in the rows, by name."""
    return sorted({(r.unit_code, r.unit_name) for r in rows}, key=lambda u: (u[1], u[0]))


def select(rows: Sequence[FeedRow], query: TableQuery, grades: Sequence[str]) -> list[FeedRow]:
    """The rows the query asks for, in its order (every page)."""
    grade = query.filters.get("grade")
    if grade and grade not in grades:
        raise TableError("table.bad_filter", name="grade", value=grade[:40])
    out = list(rows)
    if query.filters.get("unit"):
        out = [r for r in out if r.unit_code == query.filters["unit"]]
    if grade:
        out = [r for r in out if r.recommended_grade == grade]
    final = query.filters.get("final")
    if final:
        out = [r for r in out if bool(r.final_grade) == (final == "decided")]
    if query.filters.get("warning"):
        out = [r for r in out if r.warning_consecutive]
    if query.q:
        needle = query.q.casefold()
        out = [
            r for r in out if needle in r.staff_code.casefold() or needle in r.staff_name.casefold()
        ]
    return sort_rows(out, SORT_KEYS[query.sort], query.desc)
