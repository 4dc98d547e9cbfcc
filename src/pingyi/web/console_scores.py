"""Scores for HR and the agency: the feed table, exports, publication, the policy,
final grades; the staff member's own view and appeals, and the agency's review."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any

from litestar import Request, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, PathParameter
from litestar.response import Redirect, Response, Template

from pingyi import charts, exports
from pingyi.db.tables import Campaign, Publication, Staff
from pingyi.i18n import translate
from pingyi.numbers import plain_int
from pingyi.scoring import GRADE_PRESETS, Policy
from pingyi.services import appeals, cleaning_run, scores
from pingyi.services.campaigns import CampaignError
from pingyi.web import score_table, tables
from pingyi.web.console_campaigns import Form, _actor, _campaign
from pingyi.web.guards import current_user
from pingyi.web.rendering import attachment, render, request_language

EXPORT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "json": "application/json",
}


def _text(data: dict[str, Any], name: str, limit: int = 2000) -> str:
    """A form field as text; repeated or missing fields are empty, not a list's repr."""
    value = data.get(name, "")
    return value[:limit] if isinstance(value, str) else ""


def _is_agency(request: Request[Any, Any, Any]) -> bool:
    user = current_user(request)
    return bool(user and user["role"] == "agency_admin")


def _error(request: Request[Any, Any, Any], exc: Exception, status: int = 409) -> Template:
    return render(request, "error.html", status_code=status, message=str(exc))


async def _feed(request: Request[Any, Any, Any], code: str) -> tuple[dict[str, Any], list[Any]]:
    """The published feed; the agency may preview the latest unpublished run."""
    await _campaign(code)
    if _is_agency(request) and request.query_params.get("preview"):
        return await scores.preview_feed(code)
    return await scores.published_feed(code)


def _fixed(facts: dict[str, Any]) -> dict[str, str]:
    """The agency's preview of unpublished numbers stays a preview in every link."""
    return {} if facts["published"] else {"preview": "1"}


@get("/admin/scores", opt={"permission": "scores.view"})
async def scores_list(request: Request[Any, Any, Any]) -> Template:
    published = {
        p["campaign"]: p
        for p in await Publication.select(
            Publication.campaign, Publication.revision, Publication.published_at
        ).order_by(Publication.revision)
    }
    campaigns = await Campaign.select(
        Campaign.id, Campaign.code, Campaign.name, Campaign.state, Campaign.period_end
    ).order_by(Campaign.period_end, ascending=False)
    if not _is_agency(request):
        campaigns = [c for c in campaigns if c["id"] in published]
    return render(request, "admin/scores_list.html", campaigns=campaigns, published=published)


@get("/admin/campaigns/{code:str}/scores", opt={"permission": "scores.view"})
async def scores_page(request: Request[Any, Any, Any], code: FromPath[str]) -> Template:
    try:
        facts, rows = await _feed(request, code)
    except scores.ScoresError as exc:
        return _error(request, exc)
    policy = Policy.from_json(facts["policy"], strict=False)
    lang = request_language(request)
    zh_labels = [policy.label(level) for level in range(len(policy.labels))]
    try:
        query = tables.parse(request.query_params, score_table.SCORES_TABLE, _fixed(facts))
        shown = tables.page_of(score_table.select(rows, query, zh_labels), query)
    except tables.TableError as exc:
        return tables.refused(request, exc)
    # the charts describe the whole feed, whatever the table shows
    totals = [r.total for r in rows if r.total is not None]
    grades = Counter(r.recommended_grade for r in rows if r.recommended_grade)
    labels = [policy.label(level, lang) for level in range(len(policy.labels))]
    campaign = await _campaign(code)
    # the agency sees what cleaning did to these scores before HR does
    summary = (
        await cleaning_run.run_summary(campaign["id"], facts["revision"])
        if _is_agency(request)
        else None
    )
    return render(
        request,
        "admin/scores.html",
        campaign=campaign,
        summary=summary,
        facts=facts,
        page=shown,
        sizes=tables.PAGE_SIZES,
        units=score_table.units_of(rows),
        policy=policy,
        grade_labels=zh_labels,
        presets=GRADE_PRESETS,
        histogram=charts.histogram(totals, bins=10, title=translate("feed.total", lang))
        if totals
        else "",
        grade_chart=charts.bar_chart(
            labels,
            [float(grades.get(z, 0)) for z in zh_labels],
            title=translate("feed.recommended_grade", lang),
        )
        if rows
        else "",
    )


@get("/admin/campaigns/{code:str}/scores/export", opt={"permission": "scores.view"})
async def scores_export(
    request: Request[Any, Any, Any], code: FromPath[str]
) -> Response[bytes] | Template:
    kind = request.query_params.get("format", "csv")
    if kind not in EXPORT_TYPES:
        return _error(request, ValueError("format must be csv, xlsx or json"), 400)
    try:
        facts, rows = await _feed(request, code)
    except scores.ScoresError as exc:
        return _error(request, exc)
    policy = Policy.from_json(facts["policy"], strict=False)
    try:  # the rows the table shows with the same parameters, every page
        query = tables.parse(request.query_params, score_table.SCORES_TABLE)
        rows = score_table.select(
            rows, query, [policy.label(level) for level in range(len(policy.labels))]
        )
    except tables.TableError as exc:
        return tables.refused(request, exc)
    lang = request_language(request)
    body = exports.render(kind, facts, rows, lang)
    suffix = "" if facts["published"] else "-preview"
    return Response(
        body,
        media_type=EXPORT_TYPES[kind],
        headers={"content-disposition": attachment(f"{code}-r{facts['revision']}{suffix}.{kind}")},
    )


@post("/admin/campaigns/{code:str}/publish", opt={"permission": "campaign.manage"})
async def campaign_publish(
    request: Request[Any, Any, Any], code: FromPath[str], data: Form
) -> Template | Redirect:
    await _campaign(code)
    try:
        revision = _text(data, "revision", 9)
        await scores.publish(
            code,
            _actor(request),
            note=_text(data, "note", 500),
            expected_revision=plain_int(revision),
        )
    except CampaignError as exc:
        return _error(request, exc)
    return Redirect(f"/admin/campaigns/{code}/scores")


POLICY_FIELDS: dict[str, Callable[[str], Any]] = {
    "preset": str,
    "excellent_quota": lambda v: float(v) / 100,
    "quota_rounding": str,
    "min_satisfaction": lambda v: float(v) / 100,
    "min_public_ratings": int,
    "satisfied_min": int,
    "min_weight_present": lambda v: float(v) / 100,
    "superior_k": int,
    "appeal_days": int,
    "contact_days": int,
    "rectify_days": int,
    "version": str,
    "level_scores": lambda v: [float(x) for x in v.replace("，", ",").split(",")],
}


@post("/admin/campaigns/{code:str}/policy", opt={"permission": "campaign.manage"})
async def campaign_policy(
    request: Request[Any, Any, Any], code: FromPath[str], data: Form
) -> Template | Redirect:
    await _campaign(code)
    changes: dict[str, Any] = {}
    try:
        for name, parse in POLICY_FIELDS.items():
            value = _text(data, name, 100).strip()
            if value:
                changes[name] = parse(value)
        changes["thresholds"] = [float(_text(data, f"threshold_{i}", 20)) for i in range(3)]
        await scores.update_policy(code, changes, _actor(request))
    except (ValueError, OverflowError) as exc:  # ScoresError too
        return _error(request, exc, 400)
    return Redirect(f"/admin/campaigns/{code}/scores?preview=1")


@post("/admin/campaigns/{code:str}/grades", opt={"permission": "grade.decide"})
async def grade_decide(
    request: Request[Any, Any, Any], code: FromPath[str], data: Form
) -> Template | Redirect:
    await _campaign(code)
    try:
        await scores.decide_grade(
            code,
            _text(data, "staff", 64),
            _text(data, "final", 16),
            _text(data, "note", 500),
            _actor(request),
        )
    except CampaignError as exc:
        return _error(request, exc, 400)
    # back to the page, filter and sort the grade was decided on
    return Redirect(f"/admin/campaigns/{code}/scores{tables.back_query(data.get('back'))}")


@get("/me", opt={"permission": "self.view"})
async def my_results(request: Request[Any, Any, Any]) -> Template:
    """A staff member's own published results: aggregates only, never raters."""
    user = current_user(request)
    staff_id = user.get("staff_id") if user else None
    if staff_id is None:  # e.g. a leader's login not linked to their staff record
        return render(request, "admin/me.html", results=[], appeals=[], no_staff=True)
    staff = await Staff.select(Staff.code).where(Staff.id == staff_id).first()
    code = staff["code"] if staff else None
    results = []
    for campaign in await Campaign.select(Campaign.code, Campaign.name).order_by(
        Campaign.period_end, ascending=False
    ):
        try:
            facts, rows = await scores.published_feed(campaign["code"])
        except scores.ScoresError:
            continue
        mine = next((r for r in rows if r.staff_code == code), None)
        if mine is None:
            continue
        deadline = appeals.appeal_deadline(facts["first_published_at"], facts["policy"])
        results.append(
            {
                "campaign": campaign,
                "facts": facts,
                "row": mine,
                "policy": Policy.from_json(facts["policy"], strict=False),
                "deadline": deadline,
                "can_appeal": datetime.now(UTC) <= deadline,
            }
        )
    return render(
        request,
        "admin/me.html",
        results=results,
        appeals=await appeals.appeals_of_staff(staff_id),
    )


@post("/me/appeals", opt={"permission": "self.view"})
async def my_appeal(request: Request[Any, Any, Any], data: Form) -> Template | Redirect:
    user = current_user(request)
    if not user or user.get("staff_id") is None:
        return _error(request, ValueError(translate("me.no_staff", request_language(request))), 400)
    try:
        await appeals.file_appeal(
            int(user["staff_id"]),
            _text(data, "campaign", 64),
            _text(data, "reason", 4000),
            str(user["username"]),
        )
    except CampaignError as exc:
        return _error(request, exc, 400)
    return Redirect("/me")


@get("/admin/appeals", opt={"permission": "appeal.review"})
async def appeal_list(request: Request[Any, Any, Any]) -> Template:
    return render(request, "admin/appeals.html", appeals=await appeals.all_appeals())


AppealId = Annotated[int, PathParameter(ge=1, le=2**31 - 1)]


@get("/admin/appeals/{appeal_id:int}", opt={"permission": "appeal.review"})
async def appeal_page(request: Request[Any, Any, Any], appeal_id: AppealId) -> Template:
    appeal = next((a for a in await appeals.all_appeals() if a["id"] == appeal_id), None)
    if appeal is None:
        raise NotFoundException("no such appeal")
    intact, same, row = await appeals.recompute(appeal_id)
    return render(request, "admin/appeal.html", appeal=appeal, intact=intact, same=same, row=row)


@post("/admin/appeals/{appeal_id:int}/decide", opt={"permission": "appeal.review"})
async def appeal_decide(
    request: Request[Any, Any, Any], appeal_id: AppealId, data: Form
) -> Template | Redirect:
    try:
        await appeals.decide(
            appeal_id,
            _text(data, "decision", 16),
            _text(data, "explanation"),
            _actor(request),
        )
    except CampaignError as exc:
        return _error(request, exc)
    return Redirect(f"/admin/appeals/{appeal_id}")


SCORE_HANDLERS = [
    scores_list,
    scores_page,
    scores_export,
    campaign_publish,
    campaign_policy,
    grade_decide,
    my_results,
    my_appeal,
    appeal_list,
    appeal_page,
    appeal_decide,
]
