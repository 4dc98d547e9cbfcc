"""Console: mystery shopping (暗访). The agency writes checklists, plans visits and reads
the scores; an evaluator (``interviewer``) sees their visit list and enters each visit on
a phone. The visit form works without JavaScript; with it, static/mystery.js keeps the
answers in the browser while offline and sends them when the connection is back (it
asks for JSON: ``{"stored": bool}``, 409 when the visit was stored from another form)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from litestar import Request, get, post
from litestar.exceptions import NotFoundException, PermissionDeniedException
from litestar.params import FromPath
from litestar.response import Redirect, Response, Template

from pingyi.db.tables import Campaign
from pingyi.hours import LOCAL_TZ
from pingyi.i18n import in_language, translate
from pingyi.services import mystery
from pingyi.web.console_campaigns import Form
from pingyi.web.form_errors import Field, mark_messages
from pingyi.web.guards import current_user
from pingyi.web.rendering import render, request_language

AGENCY = "agency_admin"


def _user(request: Request[Any, Any, Any]) -> dict[str, Any]:
    user = current_user(request)
    assert user is not None  # the guard ran first
    return user


def _form(data: Any) -> dict[str, Any]:
    return {k: v for k, v in (data or {}).items() if isinstance(v, str) or k == "window"}


def _id(value: Any) -> int:
    """A whole number a database column holds (0 when empty)."""
    number = int(str(value or "0").strip() or "0")
    if not 0 <= number < 2**31:
        raise ValueError(value)
    return number


def _wants_json(request: Request[Any, Any, Any]) -> bool:
    return "application/json" in (request.headers.get("accept") or "")


async def _campaigns() -> list[dict[str, Any]]:
    return list(
        await Campaign.select(Campaign.id, Campaign.code, Campaign.name, Campaign.state)
        .where(Campaign.state.is_in([*mystery.PLANNABLE, "cleaned", "published"]))
        .order_by(Campaign.id, ascending=False)
    )


async def _index(
    request: Request[Any, Any, Any],
    error: str = "",
    error_line: int = 0,
    values: dict[str, Any] | None = None,
    status: int = 200,
) -> Template:
    user = _user(request)
    agency = user["role"] == AGENCY
    context: dict[str, Any] = {}
    if agency:
        campaigns = await _campaigns()
        chosen_code = request.query_params.get("campaign") or (values or {}).get("campaign")
        chosen = next((c for c in campaigns if c["code"] == chosen_code), None) or next(
            iter(campaigns), None
        )
        windows = await mystery.plannable_windows(int(chosen["id"])) if chosen else []
        context = {
            "campaigns": campaigns,
            "chosen": chosen,
            "windows": windows,
            "checklists": await mystery.checklists(),
            "evaluators": await mystery.evaluators(),
            "scores": await mystery.scores(int(chosen["id"])) if chosen else None,
            "window_names": {w["id"]: w for w in windows},
            "default_checklist": mystery.DEFAULT_CHECKLIST,
        }
    visits = await mystery.visits_of(None if agency else int(user["id"]))
    if agency and context.get("chosen"):
        visits = [v for v in visits if v["campaign"] == context["chosen"]["id"]]
    return render(
        request,
        "admin/mystery.html",
        status_code=status,
        agency=agency,
        visits=visits,
        error=error,
        error_line=error_line,
        values=values or {},
        **context,
    )


@get("/admin/mystery", opt={"permission": "mystery.visit"})
async def mystery_index(request: Request[Any, Any, Any]) -> Template:
    return await _index(request)


@post("/admin/mystery/checklists", opt={"permission": "mystery.manage"})
async def mystery_checklist(request: Request[Any, Any, Any], data: Form) -> Template | Redirect:
    form = _form(data)
    try:
        await mystery.create_checklist(
            str(form.get("code", "")),
            str(form.get("name", "")),
            str(form.get("name_en", "")),
            str(form.get("items", "")),
            _user(request)["username"],
        )
    except mystery.MysteryError as exc:
        return await _index(request, exc.key, exc.line, form, 400)
    return Redirect("/admin/mystery")


@post("/admin/mystery/plan", opt={"permission": "mystery.manage"})
async def mystery_plan(request: Request[Any, Any, Any], data: Form) -> Template | Redirect:
    form = _form(data)
    windows = form.get("window") or []
    if isinstance(windows, str):
        windows = [windows]
    try:
        spec = mystery.PlanSpec(
            campaign_code=str(form.get("campaign", "")),
            checklist_id=_id(form.get("checklist")),
            window_codes=[str(w) for w in windows][:500],
            week=mystery.week_start(str(form.get("week", ""))),
            visits=_id(form.get("visits")),
            evaluator_id=_id(form.get("evaluator")),
        )
    except (ValueError, OverflowError):
        return await _index(request, "mystery.error.form", 0, form, 400)
    try:
        await mystery.plan_visits(spec, _user(request)["username"])
    except mystery.MysteryError as exc:
        return await _index(request, exc.key, 0, form, 400)
    return Redirect(f"/admin/mystery?campaign={spec.campaign_code}")


async def _visit(request: Request[Any, Any, Any], visit_id: int) -> dict[str, Any]:
    try:
        visit = await mystery.get_visit(visit_id)
    except mystery.MysteryError as exc:
        raise NotFoundException(exc.key) from exc
    user = _user(request)
    if user["role"] != AGENCY and visit["evaluator"] != user["id"]:
        raise PermissionDeniedException("not your visit")
    return visit


def _visit_page(
    request: Request[Any, Any, Any],
    visit: dict[str, Any],
    values: dict[str, Any],
    errors: dict[str, str],
    status: int = 200,
    error: str = "",
) -> Template:
    mine = visit["evaluator"] == _user(request)["id"]
    lang = request_language(request)
    fields = [Field("visited_on", translate("mystery.visited_on", lang), "visited_on")]
    messages = (
        {"visited_on": translate(errors["visited_on"], lang)} if "visited_on" in errors else {}
    )
    for item in visit["items"]:
        text = in_language(item.text_zh, item.text_en, lang)
        first = f"item_{item.code}" + ("-1" if item.kind == "yesno" else "")
        fields.append(Field(item.code, text, first))
        if errors.get(item.code):
            messages[item.code] = translate(errors[item.code], lang, max=item.max)
    fields.append(Field("note", translate("mystery.note", lang), "note"))
    if errors.get("note"):
        messages["note"] = translate(errors["note"], lang)
    return render(
        request,
        "admin/mystery_visit.html",
        status_code=status,
        visit=visit,
        items=visit["items"],
        editable=mine and visit["state"] == "planned",
        values=values,
        errors=errors,
        marked=mark_messages(messages, fields),
        error=error,
        client_id=values.get("client_id") or uuid.uuid4().hex,
        today=datetime.now(LOCAL_TZ).date().isoformat(),
    )


@get("/admin/mystery/visits/{visit_id:int}", opt={"permission": "mystery.visit"})
async def mystery_visit(request: Request[Any, Any, Any], visit_id: FromPath[int]) -> Template:
    return _visit_page(request, await _visit(request, visit_id), {}, {})


@post("/admin/mystery/visits/{visit_id:int}", opt={"permission": "mystery.visit"})
async def mystery_submit(
    request: Request[Any, Any, Any], visit_id: FromPath[int], data: Form
) -> Template | Redirect | Response[dict[str, Any]]:
    form = {k: v for k, v in _form(data).items() if isinstance(v, str)}
    visit = await _visit(request, visit_id)
    try:
        result = await mystery.submit_visit(visit_id, _user(request), form)
    except mystery.MysteryError as exc:
        if _wants_json(request):
            return Response({"stored": False, "error": exc.key}, status_code=409)
        return _visit_page(request, await _visit(request, visit_id), {}, {}, 409, exc.key)
    if result.errors:
        if _wants_json(request):
            return Response({"stored": False, "errors": result.errors}, status_code=400)
        return _visit_page(request, visit, form, result.errors, 400)
    if _wants_json(request):
        return Response({"stored": result.stored, "visit": visit_id}, status_code=200)
    return Redirect(f"/admin/mystery?stored={visit_id}")


MYSTERY_HANDLERS = [mystery_index, mystery_checklist, mystery_plan, mystery_visit, mystery_submit]
