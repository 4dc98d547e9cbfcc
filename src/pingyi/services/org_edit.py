"""Editing the organisation by hand: units, windows and staff, one at a time.

The import (services/org_import.py) is for bulk changes; this is for the day-to-day
ones. Rows are never deleted (ratings reference them): they are retired with
`active = False`. Codes are set at creation and not edited afterwards, so a later
import of the same file still matches rows by code. Every change is audited with
the fields before and after; a change that alters nothing writes nothing.

Validation problems are raised as OrgEditError with message keys (see i18n), so the
console can say what is wrong in the user's language.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from piccolo.table import Table

from pingyi.db.tables import POST_CATEGORIES, AdminUser, Organization, ServiceWindow, Staff, Unit
from pingyi.hours import parse_hours
from pingyi.numbers import plain_int
from pingyi.services import audit
from pingyi.services.org import upsert_organization
from pingyi.services.reference_cache import forget_all

CODE_MAX = 64
NAME_MAX = 200
STAFF_NAME_MAX = 100
NUMBER_MAX = 32
HOURS_MAX = 100

Problem = tuple[str, dict[str, Any]]  # (message key, parameters)


class OrgEditError(ValueError):
    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(key for key, _ in problems))
        self.problems = problems


class OrgNotFound(LookupError):
    pass


def _text(form: Mapping[str, Any], name: str) -> str:
    value = form.get(name, "")
    return value.strip() if isinstance(value, str) else ""


def _checked(form: Mapping[str, Any], name: str) -> bool:
    return form.get(name) in ("on", "1", "true", "yes")


def _int_or_none(value: str) -> int | None:
    return plain_int(value)


def check_code(code: str, problems: list[Problem]) -> None:
    """The same rule as the import: letters, digits, - and _ only."""
    if not code or len(code) > CODE_MAX or not code.replace("-", "").replace("_", "").isalnum():
        problems.append(("orgedit.error.code", {"max": CODE_MAX}))


def _check_name(name: str, limit: int, problems: list[Problem], key: str = "name") -> None:
    if not name:
        problems.append(("orgedit.error.required", {"field": key}))
    elif len(name) > limit:
        problems.append(("orgedit.error.too_long", {"field": key, "max": limit}))


def clean_unit(form: Mapping[str, Any], new: bool) -> dict[str, Any]:
    """The unit fields of a form, checked; raises OrgEditError listing every problem."""
    problems: list[Problem] = []
    values: dict[str, Any] = {
        "name": _text(form, "name"),
        "name_en": _text(form, "name_en"),
        "opening_hours": _text(form, "opening_hours"),
        "active": True if new else _checked(form, "active"),
    }
    if new:
        values["code"] = _text(form, "code")
        check_code(values["code"], problems)
    _check_name(values["name"], NAME_MAX, problems)
    if len(values["name_en"]) > NAME_MAX:
        problems.append(("orgedit.error.too_long", {"field": "name_en", "max": NAME_MAX}))
    if len(values["opening_hours"]) > HOURS_MAX:
        problems.append(("orgedit.error.too_long", {"field": "opening_hours", "max": HOURS_MAX}))
    else:
        try:
            parse_hours(values["opening_hours"])
        except ValueError:
            problems.append(("orgedit.error.hours", {"value": values["opening_hours"]}))
    if problems:
        raise OrgEditError(problems)
    return values


def clean_window(form: Mapping[str, Any], new: bool) -> dict[str, Any]:
    problems: list[Problem] = []
    values: dict[str, Any] = {
        "number": _text(form, "number"),
        "name": _text(form, "name"),
        "name_en": _text(form, "name_en"),
        "active": True if new else _checked(form, "active"),
    }
    if new:
        values["code"] = _text(form, "code")
        check_code(values["code"], problems)
        values["unit"] = _int_or_none(_text(form, "unit"))
        if values["unit"] is None:
            problems.append(("orgedit.error.unit", {}))
    _check_name(values["number"], NUMBER_MAX, problems, key="number")
    _check_name(values["name"], NAME_MAX, problems)
    if len(values["name_en"]) > NAME_MAX:
        problems.append(("orgedit.error.too_long", {"field": "name_en", "max": NAME_MAX}))
    if problems:
        raise OrgEditError(problems)
    return values


def clean_staff(form: Mapping[str, Any], new: bool) -> dict[str, Any]:
    problems: list[Problem] = []
    values: dict[str, Any] = {
        "name": _text(form, "name"),
        "unit": _int_or_none(_text(form, "unit")),
        "post_category": _text(form, "post_category"),
        "is_leader": _checked(form, "is_leader"),
        "window": _int_or_none(_text(form, "window")),
        "active": True if new else _checked(form, "active"),
    }
    if new:
        values["code"] = _text(form, "code")
        check_code(values["code"], problems)
    if _text(form, "window") and values["window"] is None:
        problems.append(("orgedit.error.window", {}))
    _check_name(values["name"], STAFF_NAME_MAX, problems)
    if values["unit"] is None:
        problems.append(("orgedit.error.unit", {}))
    if values["post_category"] not in POST_CATEGORIES:
        problems.append(("orgedit.error.category", {}))
    if problems:
        raise OrgEditError(problems)
    return values


def _changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in after.items() if before.get(k) != v}


async def _organization_id() -> int:
    """Units belong to the organisation the others belong to (one per deployment),
    created the same way the import creates it when there is none yet."""
    for _ in range(2):  # a simultaneous first unit may create it first
        row = await Organization.select(Organization.id).order_by(Organization.id).first()
        if row:
            return int(row["id"])
        try:
            return await upsert_organization("default", "政务服务中心")
        except Exception as exc:
            if "unique" not in str(exc).lower():
                raise
    raise OrgEditError([("orgedit.error.unit", {})])


async def get_unit(unit_id: int) -> dict[str, Any]:
    row = await Unit.select().where(Unit.id == unit_id).first()
    if row is None:
        raise OrgNotFound("no such unit")
    return dict(row)


async def get_window(window_id: int) -> dict[str, Any]:
    row = (
        await ServiceWindow.select(
            ServiceWindow.all_columns(),
            ServiceWindow.unit.code.as_alias("unit_code"),
            ServiceWindow.unit.name.as_alias("unit_name"),
        )
        .where(ServiceWindow.id == window_id)
        .first()
    )
    if row is None:
        raise OrgNotFound("no such window")
    return dict(row)


async def get_staff(staff_id: int) -> dict[str, Any]:
    row = await Staff.select().where(Staff.id == staff_id).first()
    if row is None:
        raise OrgNotFound("no such staff member")
    return dict(row)


async def _unit_exists(unit_id: int) -> bool:
    return bool(await Unit.exists().where(Unit.id == unit_id))


async def _check_window_of_unit(window_id: int | None, unit_id: int) -> None:
    if window_id is None:
        return
    row = (
        await ServiceWindow.select(ServiceWindow.unit).where(ServiceWindow.id == window_id).first()
    )
    if row is None or row["unit"] != unit_id:
        raise OrgEditError([("orgedit.error.window_unit", {})])


async def _insert(table: type[Table], values: dict[str, Any], kind: str, actor: str) -> int:
    try:
        inserted = await table.insert(table(values))
    except Exception as exc:  # the code's unique key: a second submit of the same form
        if "unique" not in str(exc).lower():
            raise
        raise OrgEditError([("orgedit.error.code_taken", {"code": values["code"]})]) from exc
    forget_all()  # the rating pages of this process show names and who is on duty
    await audit.record(actor, f"{kind}.create", f"{kind}:{values['code']}", after=values)
    return int(inserted[0]["id"])


async def _save_changes(
    table: type[Table],
    row_id: int,
    before: dict[str, Any],
    changes: dict[str, Any],
    kind: str,
    actor: str,
) -> dict[str, Any]:
    """Write only what changed, audited with before and after; nothing if nothing did."""
    if changes:
        await table.update(changes).where(table._meta.primary_key == row_id)
        forget_all()
        await audit.record(
            actor,
            f"{kind}.edit",
            f"{kind}:{before['code']}",
            before={k: before[k] for k in changes},
            after=changes,
        )
    return changes


async def create_unit(form: Mapping[str, Any], actor: str) -> int:
    values = clean_unit(form, new=True)
    if await Unit.exists().where(Unit.code == values["code"]):
        raise OrgEditError([("orgedit.error.code_taken", {"code": values["code"]})])
    return await _insert(Unit, {**values, "organization": await _organization_id()}, "unit", actor)


async def edit_unit(unit_id: int, form: Mapping[str, Any], actor: str) -> dict[str, Any]:
    before = await get_unit(unit_id)
    changes = _changes(before, clean_unit(form, new=False))
    return await _save_changes(Unit, unit_id, before, changes, "unit", actor)


async def create_window(form: Mapping[str, Any], actor: str) -> int:
    values = clean_window(form, new=True)
    if not await _unit_exists(values["unit"]):
        raise OrgEditError([("orgedit.error.unit", {})])
    if await ServiceWindow.exists().where(ServiceWindow.code == values["code"]):
        raise OrgEditError([("orgedit.error.code_taken", {"code": values["code"]})])
    return await _insert(ServiceWindow, values, "window", actor)


async def edit_window(window_id: int, form: Mapping[str, Any], actor: str) -> dict[str, Any]:
    before = await get_window(window_id)
    changes = _changes(before, clean_window(form, new=False))
    return await _save_changes(ServiceWindow, window_id, before, changes, "window", actor)


async def create_staff(form: Mapping[str, Any], actor: str) -> int:
    values = clean_staff(form, new=True)
    if not await _unit_exists(values["unit"]):
        raise OrgEditError([("orgedit.error.unit", {})])
    await _check_window_of_unit(values["window"], values["unit"])
    if await Staff.exists().where(Staff.code == values["code"]):
        raise OrgEditError([("orgedit.error.code_taken", {"code": values["code"]})])
    return await _insert(Staff, values, "staff", actor)


async def edit_staff(staff_id: int, form: Mapping[str, Any], actor: str) -> dict[str, Any]:
    """A transfer to another unit is an edit too; the usual window must then belong
    to the new unit (or be cleared)."""
    before = await get_staff(staff_id)
    values = clean_staff(form, new=False)
    if not await _unit_exists(values["unit"]):
        raise OrgEditError([("orgedit.error.unit", {})])
    await _check_window_of_unit(values["window"], values["unit"])
    changes = _changes(before, values)
    if "unit" in changes:  # a leader's login follows them to the new unit
        await AdminUser.update({AdminUser.unit: values["unit"]}).where(
            (AdminUser.staff == staff_id) & (AdminUser.role == "unit_leader")
        )
    return await _save_changes(Staff, staff_id, before, changes, "staff", actor)


async def window_choices(unit_id: int | None = None) -> list[dict[str, Any]]:
    query = ServiceWindow.select(
        ServiceWindow.id,
        ServiceWindow.code,
        ServiceWindow.number,
        ServiceWindow.name,
        ServiceWindow.unit,
        ServiceWindow.active,
    ).order_by(ServiceWindow.code)
    if unit_id is not None:
        query = query.where(ServiceWindow.unit == unit_id)
    return list(await query)


async def staff_of_unit(unit_id: int) -> list[dict[str, Any]]:
    return list(
        await Staff.select(Staff.all_columns(), Staff.window.number.as_alias("window_number"))
        .where(Staff.unit == unit_id)
        .order_by(Staff.code)
    )
