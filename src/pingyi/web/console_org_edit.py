"""Console: create and edit units, windows and staff one at a time (org.manage)."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect, Template

from pingyi.db.tables import POST_CATEGORIES
from pingyi.i18n import translate
from pingyi.numbers import plain_int
from pingyi.services import listings, org_edit
from pingyi.web.console_campaigns import Form, _actor
from pingyi.web.form_errors import NO_FAULTS, Field, Marked, mark_messages
from pingyi.web.rendering import render, request_language

PERM = {"permission": "org.manage"}


# The form field a problem is about, when its parameters do not name it.
_PROBLEM_FIELD = {
    "orgedit.error.code": "code",
    "orgedit.error.code_taken": "code",
    "orgedit.error.hours": "opening_hours",
    "orgedit.error.unit": "unit",
    "orgedit.error.window": "window",
    "orgedit.error.category": "post_category",
}
# Each form's fields in page order, with the label key the page shows.
_FIELDS = {
    "unit": (
        ("code", "campaign.code"),
        ("name", "campaign.name"),
        ("name_en", "orgedit.name_en"),
        ("opening_hours", "org.hours"),
    ),
    "window": (
        ("unit", "campaign.unit"),
        ("code", "campaign.code"),
        ("number", "orgedit.number"),
        ("name", "campaign.name"),
        ("name_en", "orgedit.name_en"),
    ),
    "staff": (
        ("code", "orgedit.staff_code"),
        ("name", "campaign.name"),
        ("unit", "campaign.unit"),
        ("post_category", "org.category"),
        ("window", "orgedit.usual_window"),
    ),
}


def error_messages(
    request: Request[Any, Any, Any], exc: org_edit.OrgEditError, form: str
) -> Marked:
    """The problems marked on their fields of `form` (unit, window or staff)."""
    lang = request_language(request)
    messages: dict[str, str] = {}
    for key, params in exc.problems:
        shown = dict(params)
        name = str(shown.get("field") or _PROBLEM_FIELD.get(key, ""))
        if "field" in shown:
            shown["field"] = translate(f"orgedit.field.{shown['field']}", lang)
        text = translate(key, lang, **shown)
        messages[name] = f"{messages[name]} {text}" if name in messages else text
    fields = [Field(name, translate(label, lang), name) for name, label in _FIELDS[form]]
    return mark_messages(messages, fields)


def _form(data: dict[str, Any]) -> dict[str, str]:
    return {k: v for k, v in data.items() if isinstance(v, str)}


def _query_int(request: Request[Any, Any, Any], name: str) -> int | None:
    return plain_int(request.query_params.get(name))


# units


async def _unit_page(
    request: Request[Any, Any, Any],
    unit: dict[str, Any] | None,
    values: dict[str, Any],
    errors: Marked = NO_FAULTS,
    status: int = 200,
) -> Template:
    windows = await org_edit.window_choices(unit["id"]) if unit else []
    staff = await org_edit.staff_of_unit(unit["id"]) if unit else []
    return render(
        request,
        "admin/org_unit.html",
        status_code=status,
        saved=request.query_params.get("saved") == "1" and not errors,
        unit=unit,
        values=values,
        marked=errors,
        windows=windows,
        staff=staff,
    )


@get("/admin/org/units/new", opt=PERM)
async def unit_new(request: Request[Any, Any, Any]) -> Template:
    return await _unit_page(request, None, {"opening_hours": "08:30-17:30"})


@post("/admin/org/units/new", opt=PERM)
async def unit_create(request: Request[Any, Any, Any], data: Form) -> Template | Redirect:
    form = _form(data)
    try:
        unit_id = await org_edit.create_unit(form, _actor(request))
    except org_edit.OrgEditError as exc:
        return await _unit_page(request, None, form, error_messages(request, exc, "unit"), 400)
    return Redirect(f"/admin/org/units/{unit_id}/edit")


async def _unit(unit_id: int) -> dict[str, Any]:
    try:
        return await org_edit.get_unit(unit_id)
    except org_edit.OrgNotFound as exc:
        raise NotFoundException(str(exc)) from exc


@get("/admin/org/units/{unit_id:int}/edit", opt=PERM)
async def unit_edit_page(request: Request[Any, Any, Any], unit_id: FromPath[int]) -> Template:
    unit = await _unit(unit_id)
    return await _unit_page(request, unit, unit)


@post("/admin/org/units/{unit_id:int}/edit", opt=PERM)
async def unit_edit(
    request: Request[Any, Any, Any], unit_id: FromPath[int], data: Form
) -> Template | Redirect:
    unit = await _unit(unit_id)
    form = _form(data)
    try:
        await org_edit.edit_unit(unit_id, form, _actor(request))
    except org_edit.OrgEditError as exc:
        values = {**form, "code": unit["code"], "active": form.get("active") == "on"}
        return await _unit_page(request, unit, values, error_messages(request, exc, "unit"), 400)
    return Redirect(f"/admin/org/units/{unit_id}/edit?saved=1")


# windows


async def _window_page(
    request: Request[Any, Any, Any],
    window: dict[str, Any] | None,
    values: dict[str, Any],
    errors: Marked = NO_FAULTS,
    status: int = 200,
) -> Template:
    return render(
        request,
        "admin/org_window.html",
        status_code=status,
        saved=request.query_params.get("saved") == "1" and not errors,
        window=window,
        values=values,
        marked=errors,
        units=await listings.unit_choices(),
    )


@get("/admin/org/windows/new", opt=PERM)
async def window_new(request: Request[Any, Any, Any]) -> Template:
    return await _window_page(request, None, {"unit": _query_int(request, "unit")})


@post("/admin/org/windows/new", opt=PERM)
async def window_create(request: Request[Any, Any, Any], data: Form) -> Template | Redirect:
    form = _form(data)
    try:
        window_id = await org_edit.create_window(form, _actor(request))
    except org_edit.OrgEditError as exc:
        values = {**form, "unit": _int(form.get("unit"))}
        return await _window_page(
            request, None, values, error_messages(request, exc, "window"), 400
        )
    return Redirect(f"/admin/org/windows/{window_id}/edit")


def _int(value: Any) -> int | None:
    return plain_int(value)


async def _window(window_id: int) -> dict[str, Any]:
    try:
        return await org_edit.get_window(window_id)
    except org_edit.OrgNotFound as exc:
        raise NotFoundException(str(exc)) from exc


@get("/admin/org/windows/{window_id:int}/edit", opt=PERM)
async def window_edit_page(request: Request[Any, Any, Any], window_id: FromPath[int]) -> Template:
    window = await _window(window_id)
    return await _window_page(request, window, window)


@post("/admin/org/windows/{window_id:int}/edit", opt=PERM)
async def window_edit(
    request: Request[Any, Any, Any], window_id: FromPath[int], data: Form
) -> Template | Redirect:
    window = await _window(window_id)
    form = _form(data)
    try:
        await org_edit.edit_window(window_id, form, _actor(request))
    except org_edit.OrgEditError as exc:
        values = {**form, "active": form.get("active") == "on"}
        return await _window_page(
            request, window, values, error_messages(request, exc, "window"), 400
        )
    return Redirect(f"/admin/org/windows/{window_id}/edit?saved=1")


# staff


async def _staff_page(
    request: Request[Any, Any, Any],
    staff: dict[str, Any] | None,
    values: dict[str, Any],
    errors: Marked = NO_FAULTS,
    status: int = 200,
) -> Template:
    return render(
        request,
        "admin/org_staff.html",
        status_code=status,
        saved=request.query_params.get("saved") == "1" and not errors,
        staff=staff,
        values=values,
        marked=errors,
        units=await listings.unit_choices(),
        windows=await org_edit.window_choices(),
        categories=POST_CATEGORIES,
    )


def _staff_values(form: dict[str, str]) -> dict[str, Any]:
    return {
        **form,
        "unit": _int(form.get("unit")),
        "window": _int(form.get("window")),
        "is_leader": form.get("is_leader") == "on",
        "active": form.get("active") == "on",
    }


@get("/admin/org/staff/new", opt=PERM)
async def staff_new(request: Request[Any, Any, Any]) -> Template:
    values = {"unit": _query_int(request, "unit"), "post_category": "window_service"}
    return await _staff_page(request, None, values)


@post("/admin/org/staff/new", opt=PERM)
async def staff_create(request: Request[Any, Any, Any], data: Form) -> Template | Redirect:
    form = _form(data)
    try:
        staff_id = await org_edit.create_staff(form, _actor(request))
    except org_edit.OrgEditError as exc:
        return await _staff_page(
            request, None, _staff_values(form), error_messages(request, exc, "staff"), 400
        )
    return Redirect(f"/admin/org/staff/{staff_id}/edit")


async def _staff(staff_id: int) -> dict[str, Any]:
    try:
        return await org_edit.get_staff(staff_id)
    except org_edit.OrgNotFound as exc:
        raise NotFoundException(str(exc)) from exc


@get("/admin/org/staff/{staff_id:int}/edit", opt=PERM)
async def staff_edit_page(request: Request[Any, Any, Any], staff_id: FromPath[int]) -> Template:
    staff = await _staff(staff_id)
    return await _staff_page(request, staff, staff)


@post("/admin/org/staff/{staff_id:int}/edit", opt=PERM)
async def staff_edit_full(
    request: Request[Any, Any, Any], staff_id: FromPath[int], data: Form
) -> Template | Redirect:
    staff = await _staff(staff_id)
    form = _form(data)
    try:
        await org_edit.edit_staff(staff_id, form, _actor(request))
    except org_edit.OrgEditError as exc:
        return await _staff_page(
            request, staff, _staff_values(form), error_messages(request, exc, "staff"), 400
        )
    return Redirect(f"/admin/org/staff/{staff_id}/edit?saved=1")


ORG_EDIT_HANDLERS = [
    unit_new,
    unit_create,
    unit_edit_page,
    unit_edit,
    window_new,
    window_create,
    window_edit_page,
    window_edit,
    staff_new,
    staff_create,
    staff_edit_page,
    staff_edit_full,
]
