"""Filtered, sorted, paged listings of the console's large tables (bad-review cases,
cleaning flags, staff), done by the database: one COUNT and one page of rows per
request, or every filtered row for a download (the same conditions, so a download
holds exactly what the table shows across its pages).

Callers pass checked values (web/tables.py): a sort key from the listing's own map,
filter values from fixed choices. Text search matches a substring, case-insensitive,
with the user's `%` and `_` taken literally.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from piccolo.columns.combination import WhereRaw
from piccolo.table import Table

from pingyi.db.tables import BadReviewCase, Flag, Staff, Unit
from pingyi.services.cases import due_today_where, overdue_where

ESCAPE = "\\"


def like_pattern(text: str) -> str:
    """`%text%` with LIKE's wildcards in the text escaped, lower-cased."""
    escaped = text.replace(ESCAPE, ESCAPE * 2).replace("%", ESCAPE + "%").replace("_", ESCAPE + "_")
    return f"%{escaped.lower()}%"


def text_search(text: str, *columns: str) -> WhereRaw:
    """Any of the (quoted, qualified) columns contains the text."""
    pattern = like_pattern(text)
    sql = " OR ".join(f"LOWER({c}) LIKE {{}} ESCAPE {{}}" for c in columns)
    args: list[Any] = []
    for _ in columns:
        args += [pattern, ESCAPE]
    return WhereRaw(f"({sql})", *args)


@dataclass(frozen=True)
class Listing:
    """What a table asks for: conditions, a sort key with its direction, a window."""

    filters: Mapping[str, str]
    q: str
    sort: str
    desc: bool
    offset: int = 0
    limit: int | None = None  # None: every row (a download)


async def _run(
    table: type[Table], columns: list[Any], where: Any, order: list[Any], listing: Listing
) -> tuple[list[dict[str, Any]], int]:
    total = int(await table.count().where(where))
    query = table.select(*columns).where(where)
    for column in order:
        query = query.order_by(column, ascending=not listing.desc)
    query = query.order_by(table._meta.primary_key, ascending=not listing.desc)
    if listing.limit is not None:
        query = query.offset(listing.offset).limit(listing.limit)
    return list(await query), total


# bad-review cases

CASE_SORTS: dict[str, list[Any]] = {
    "due": [BadReviewCase.rectify_due],
    "opened": [BadReviewCase.opened_at],
    "unit": [BadReviewCase.unit.name],
    "state": [BadReviewCase.state],
    "reason": [BadReviewCase.reason_category],
}
CASE_STATES = ("open", "closed", "overdue", "due_today")


async def cases(
    listing: Listing, now: datetime, unit_scope: int | None
) -> tuple[list[dict[str, Any]], int]:
    """Cases, within a leader's unit when `unit_scope` is set."""
    where: Any = BadReviewCase.id > 0
    if unit_scope is not None:
        where &= BadReviewCase.unit == unit_scope
    state = listing.filters.get("state")
    if state in ("open", "closed"):
        where &= BadReviewCase.state == state
    elif state == "overdue":
        where &= overdue_where(now)
    elif state == "due_today":
        where &= due_today_where(now)
    if listing.filters.get("unit"):
        where &= BadReviewCase.unit.code == listing.filters["unit"]
    if listing.filters.get("reason"):
        where &= BadReviewCase.reason_category == listing.filters["reason"]
    if listing.filters.get("campaign"):
        where &= BadReviewCase.campaign.code == listing.filters["campaign"]
    if listing.q:
        pattern = like_pattern(listing.q)
        # a subquery rather than the joined window, so the COUNT needs no join
        search: Any = WhereRaw(
            '(LOWER("bad_review_case"."reason_text") LIKE {} ESCAPE {} '
            'OR "bad_review_case"."window" IN (SELECT "id" FROM "service_window" '
            'WHERE LOWER("number") LIKE {} ESCAPE {} '
            'OR LOWER("name") LIKE {} ESCAPE {}))',
            *([pattern, ESCAPE] * 3),
        )
        number = listing.q.lstrip("#")
        if number.isdigit() and len(number) <= 9:
            search = (BadReviewCase.id == int(number)) | search
        where &= search
    columns = [
        BadReviewCase.id,
        BadReviewCase.state,
        BadReviewCase.reason_category,
        BadReviewCase.reason_text,
        BadReviewCase.opened_at,
        BadReviewCase.contact_due,
        BadReviewCase.rectify_due,
        BadReviewCase.contacted_at,
        BadReviewCase.closed_at,
        BadReviewCase.unit.code.as_alias("unit_code"),
        BadReviewCase.unit.name.as_alias("unit_name"),
        BadReviewCase.window.number.as_alias("window_number"),
        BadReviewCase.window.name.as_alias("window_name"),
        BadReviewCase.campaign.code.as_alias("campaign_code"),
    ]
    return await _run(BadReviewCase, columns, where, CASE_SORTS[listing.sort], listing)


# cleaning flags

FLAG_SORTS: dict[str, list[Any]] = {
    "reason": [Flag.reason],
    "action": [Flag.action],
    "weight": [Flag.weight],
    "ratee": [Flag.ratee],
    "rater": [Flag.rater],
}
FLAG_ACTIONS = ("exclude", "downweight", "adjust")
FLAG_STATES = ("open", "overridden")


async def flags(
    listing: Listing, campaign_id: int, revision: int
) -> tuple[list[dict[str, Any]], int]:
    where: Any = (Flag.campaign == campaign_id) & (Flag.revision == revision)
    if listing.filters.get("reason"):
        where &= Flag.reason == listing.filters["reason"]
    if listing.filters.get("action"):
        where &= Flag.action == listing.filters["action"]
    if listing.filters.get("state"):
        where &= Flag.overridden.eq(listing.filters["state"] == "overridden")
    if listing.q:
        where &= text_search(listing.q, '"flag"."ratee"', '"flag"."rater"', '"flag"."response_id"')
    return await _run(Flag, [Flag.all_columns()], where, FLAG_SORTS[listing.sort], listing)


# staff

STAFF_SORTS: dict[str, list[Any]] = {
    "code": [Staff.code],
    "name": [Staff.name],
    "unit": [Staff.unit.name],
    "category": [Staff.post_category],
}
YES_NO = ("yes", "no")


async def staff(listing: Listing) -> tuple[list[dict[str, Any]], int]:
    where: Any = Staff.id > 0
    if listing.filters.get("unit"):
        where &= Staff.unit.code == listing.filters["unit"]
    if listing.filters.get("category"):
        where &= Staff.post_category == listing.filters["category"]
    for name, column in (("leader", Staff.is_leader), ("active", Staff.active)):
        if listing.filters.get(name):
            where &= column.eq(listing.filters[name] == "yes")
    if listing.q:
        where &= text_search(listing.q, '"staff"."code"', '"staff"."name"')
    columns = [
        Staff.id,
        Staff.code,
        Staff.name,
        Staff.post_category,
        Staff.is_leader,
        Staff.active,
        Staff.unit.code.as_alias("unit_code"),
        Staff.unit.name.as_alias("unit_name"),
        Staff.window.code.as_alias("window_code"),
    ]
    return await _run(Staff, columns, where, STAFF_SORTS[listing.sort], listing)


async def unit_choices(only: int | None = None) -> list[dict[str, Any]]:
    """The units a filter or a form offers (id, code, name, active), by code."""
    query = Unit.select(Unit.id, Unit.code, Unit.name, Unit.active).order_by(Unit.code)
    if only is not None:
        query = query.where(Unit.id == only)
    return list(await query)
