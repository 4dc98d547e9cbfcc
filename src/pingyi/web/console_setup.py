"""Console: questionnaires (versions, items, preview) and new campaigns."""

from __future__ import annotations

import dataclasses
import math
from datetime import date
from typing import Any

from litestar import Request, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect, Template

from pingyi.db.tables import ITEM_KINDS, ROLES, Questionnaire, QuestionnaireVersion, Unit
from pingyi.i18n import translate
from pingyi.services import audit, schedule
from pingyi.services import campaigns as campaign_service
from pingyi.services.public_rating import REASONS
from pingyi.services.questionnaires import (
    ItemSpec,
    QuestionnaireError,
    create_questionnaire,
    edit_questionnaire,
    items_of,
    latest_version,
)
from pingyi.web import campaign_form, questionnaire_form
from pingyi.web.console_campaigns import Form, _actor
from pingyi.web.console_schedule import schedule_message
from pingyi.web.form_errors import Field, Marked
from pingyi.web.rendering import render, request_language

BLANK_ROWS = 3


def _weight(text: str) -> float:
    """A blank weight is the default 1; anything that is not a number is NaN, which
    validation refuses with a message."""
    if not text:
        return 1.0
    try:
        return float(text)
    except ValueError:
        return math.nan


def items_from_form(form: dict[str, Any]) -> list[ItemSpec]:
    """Rows item-<n>-<field>; a row without a code is ignored (the blank spares).
    The "overall only" button (preset=overall_only) sets every item but `overall` to
    weight 0."""
    numbers = sorted(
        {int(k.split("-")[1]) for k in form if k.startswith("item-") and k.split("-")[1].isdigit()}
    )
    items = []
    for n in numbers:

        def field(name: str, n: int = n) -> str:
            value = form.get(f"item-{n}-{name}", "")
            return value.strip() if isinstance(value, str) else ""

        if not field("code"):
            continue
        items.append(
            ItemSpec(
                code=field("code"),
                text_zh=field("text_zh"),
                text_en=field("text_en"),
                kind=field("kind") or "scale5",
                required=field("required") == "on",
                dimension=field("dimension"),
                choices=[c.strip() for c in field("choices").split("|") if c.strip()],
                weight=_weight(field("weight")),
                on_device=field("on_device") == "on",
            )
        )
    if form.get("preset") == "overall_only":
        items = [i if i.code == "overall" else dataclasses.replace(i, weight=0.0) for i in items]
    return items


@get("/admin/questionnaires", opt={"permission": "questionnaire.manage"})
async def questionnaire_list(request: Request[Any, Any, Any]) -> Template:
    rows = await Questionnaire.select().order_by(Questionnaire.code)
    versions = {}
    for q in rows:
        latest = await latest_version(q["id"])
        versions[q["id"]] = latest["version"] if latest else 0
    return render(
        request,
        "admin/questionnaires.html",
        questionnaires=rows,
        versions=versions,
        roles=ROLES,
        kinds=ITEM_KINDS,
        blank=range(BLANK_ROWS + 2),
        items=[],
        error="",
        values={},
    )


def _marked_rows(
    request: Request[Any, Any, Any],
    errors: dict[str, str],
    rows: list[dict[str, Any]],
    head: list[Field] | None = None,
) -> Marked:
    lang = request_language(request)
    return questionnaire_form.marked(errors, max(len(rows), 1), lang, head or [])


@post("/admin/questionnaires", opt={"permission": "questionnaire.manage"})
async def questionnaire_create(request: Request[Any, Any, Any], data: Form) -> Template | Redirect:
    code, name = str(data.get("code", "")).strip(), str(data.get("name", "")).strip()
    rows = questionnaire_form.rows_from_form(data)
    errors = {k: "form.required" for k, v in (("code", code), ("name", name)) if not v}
    errors.update(questionnaire_form.item_errors(rows, str(data.get("role", ""))))
    message = ""
    if not errors:
        items = items_from_form(data)
        try:
            version = await create_questionnaire(code, name, str(data.get("role", "")), items)
        except QuestionnaireError as exc:
            if await Questionnaire.exists().where(Questionnaire.code == code):
                errors["code"] = "q.error.code_taken"
            else:
                message = str(exc)
    if errors or message:
        lang = request_language(request)
        head = [
            Field("code", translate("campaign.code", lang), "qcode"),
            Field("name", translate("campaign.name", lang), "qname"),
        ]
        return render(
            request,
            "admin/questionnaires.html",
            status_code=400,
            questionnaires=await Questionnaire.select().order_by(Questionnaire.code),
            versions={},
            roles=ROLES,
            kinds=ITEM_KINDS,
            blank=range(BLANK_ROWS),
            items=rows,
            error=message,
            marked=_marked_rows(request, errors, rows, head),
            values=data,
        )
    await audit.record(
        _actor(request),
        "questionnaire.create",
        f"questionnaire:{data['code']}",
        after={"items": [i.code for i in items], "version_id": version},
    )
    return Redirect("/admin/questionnaires")


async def _questionnaire(questionnaire_id: int) -> tuple[dict[str, Any], dict[str, Any]]:
    row = await Questionnaire.select().where(Questionnaire.id == questionnaire_id).first()
    latest = await latest_version(questionnaire_id)
    if row is None or latest is None:
        raise NotFoundException("no such questionnaire")
    return row, latest


@get("/admin/questionnaires/{questionnaire_id:int}", opt={"permission": "questionnaire.manage"})
async def questionnaire_edit_page(
    request: Request[Any, Any, Any], questionnaire_id: FromPath[int]
) -> Template:
    row, latest = await _questionnaire(questionnaire_id)
    return render(
        request,
        "admin/questionnaire.html",
        questionnaire=row,
        version=latest,
        items=await items_of(latest["id"]),
        kinds=ITEM_KINDS,
        blank=range(BLANK_ROWS),
        error="",
    )


@post("/admin/questionnaires/{questionnaire_id:int}", opt={"permission": "questionnaire.manage"})
async def questionnaire_edit(
    request: Request[Any, Any, Any], questionnaire_id: FromPath[int], data: Form
) -> Template | Redirect:
    row, latest = await _questionnaire(questionnaire_id)
    items = items_from_form(data)
    rows = questionnaire_form.rows_from_form(data)
    errors = questionnaire_form.item_errors(rows, row["role"])
    message = ""
    if not errors:
        try:
            version_id = await edit_questionnaire(questionnaire_id, items)
        except QuestionnaireError as exc:
            message = str(exc)
    if errors or message:
        return render(
            request,
            "admin/questionnaire.html",
            status_code=400,
            questionnaire=row,
            version=latest,
            items=rows,
            kinds=ITEM_KINDS,
            blank=range(BLANK_ROWS),
            error=message,
            marked=_marked_rows(request, errors, rows),
        )
    await audit.record(
        _actor(request),
        "questionnaire.edit",
        f"questionnaire:{row['code']}",
        before={"version_id": latest["id"]},
        after={
            "version_id": version_id,
            "items": [i.code for i in items],
            "weights": {i.code: i.weight for i in items},
            "on_device": [i.code for i in items if i.on_device],
        },
    )
    return Redirect(f"/admin/questionnaires/{questionnaire_id}")


@get(
    "/admin/questionnaires/{questionnaire_id:int}/preview",
    opt={"permission": "questionnaire.manage"},
)
async def questionnaire_preview(
    request: Request[Any, Any, Any], questionnaire_id: FromPath[int]
) -> Template:
    row, latest = await _questionnaire(questionnaire_id)
    all_items = await items_of(latest["id"])
    items = [i for i in all_items if i["code"] != "overall"]
    return render(
        request,
        "admin/preview.html",
        questionnaire=row,
        version=latest,
        all_items=all_items,
        implicit_overall=row["role"] == "public"
        and not any(i["code"] == "overall" for i in all_items),
        items=items,
        reasons=REASONS,
        values={},
        errors={},
    )


@get("/admin/campaigns/new", opt={"permission": "campaign.manage"})
async def campaign_new(request: Request[Any, Any, Any]) -> Template:
    return await _campaign_form(request, {}, "")


async def _campaign_form(
    request: Request[Any, Any, Any],
    values: dict[str, Any],
    error: str,
    status: int = 200,
    faults: dict[str, str] | None = None,
    chosen_units: list[str] | None = None,
) -> Template:
    """`faults`: translated messages by field, marked in place; `chosen_units` the
    units ticked when the form comes back (all of them on a new form)."""
    versions = await QuestionnaireVersion.select(
        QuestionnaireVersion.id,
        QuestionnaireVersion.version,
        QuestionnaireVersion.questionnaire.name.as_alias("name"),
        QuestionnaireVersion.questionnaire.role.as_alias("role"),
    ).order_by(QuestionnaireVersion.id, ascending=False)
    units = await Unit.select(Unit.code, Unit.name).where(Unit.active.eq(True)).order_by(Unit.code)
    return render(
        request,
        "admin/campaign_new.html",
        status_code=status,
        versions=versions,
        units=units,
        values=values,
        error=error,
        marked=campaign_form.marked(
            faults or {}, request_language(request), [u["code"] for u in units]
        ),
        chosen_units=chosen_units,
        roles=ROLES,
        weights=campaign_service.DEFAULT_WEIGHTS,
    )


async def _code_taken(code: str) -> bool:
    try:
        await campaign_service.get_campaign(code)
    except campaign_service.CampaignError:
        return False
    return True


@post("/admin/campaigns/new", opt={"permission": "campaign.manage"})
async def campaign_create(request: Request[Any, Any, Any], data: Form) -> Template | Redirect:
    form = {k: v for k, v in data.items() if isinstance(v, str)}
    units = data.get("units", [])
    units = [units] if isinstance(units, str) else list(units)
    lang = request_language(request)
    faults = {
        name: translate(key, lang) for name, key in campaign_form.field_errors(form, units).items()
    }
    if faults:
        return await _campaign_form(request, form, "", 400, faults, units)
    try:
        spec = campaign_service.CampaignSpec(
            code=form.get("code", "").strip(),
            name=form.get("name", "").strip(),
            series=form.get("series", "").strip(),
            period_start=date.fromisoformat(form.get("period_start", "")),
            period_end=date.fromisoformat(form.get("period_end", "")),
            unit_codes=units,
            k=int(form.get("k") or 3),
            peer_sample=int(form.get("peer_sample") or 0),
            weights={r: float(form.get(f"weight_{r}") or 0) for r in ROLES},
            **{
                f"{r}_version": int(form[f"{r}_version"]) if form.get(f"{r}_version") else None
                for r in ROLES
            },
        )
        if not spec.code or not spec.name:
            raise campaign_service.CampaignError("code and name are required")
        opens_at = schedule.parse_local(form.get("opens_at", ""))
        closes_at = schedule.parse_local(form.get("closes_at", ""))
        schedule.check_schedule(opens_at, closes_at)
        await campaign_service.create_campaign(spec, actor=_actor(request))
        if opens_at or closes_at:
            await schedule.set_schedule(spec.code, opens_at, closes_at, _actor(request))
    except schedule.ScheduleError as exc:
        faults = {"closes_at": schedule_message(request, exc)}
        return await _campaign_form(request, form, "", 400, faults, units)
    except (ValueError, campaign_service.CampaignError) as exc:
        code = form.get("code", "").strip()
        if await _code_taken(code):
            faults = {"code": translate("orgedit.error.code_taken", lang, code=code)}
            return await _campaign_form(request, form, "", 400, faults, units)
        return await _campaign_form(request, form, str(exc), 400, None, units)
    return Redirect(f"/admin/campaigns/{spec.code}")


SETUP_HANDLERS = [
    questionnaire_list,
    questionnaire_create,
    questionnaire_edit_page,
    questionnaire_edit,
    questionnaire_preview,
    campaign_new,
    campaign_create,
]
