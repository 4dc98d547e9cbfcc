"""Console: organisation structure (import from CSV/XLSX, list, edit) and the audit log."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromQuery
from litestar.response import Redirect, Response, Template

from pingyi.db.tables import POST_CATEGORIES, AuditEvent, ServiceWindow, Staff, Unit
from pingyi.i18n import translate
from pingyi.services import audit, listings
from pingyi.services.org_import import import_org, template_csv
from pingyi.web import tables
from pingyi.web.console_campaigns import _actor
from pingyi.web.rendering import render, request_language

MAX_UPLOAD = 5 * 1024 * 1024
ORG_PAGE_STAFF = 200  # beyond this many, the organisation page links to the staff table


@get("/admin/org", opt={"permission": "org.manage"})
async def org_page(request: Request[Any, Any, Any]) -> Template:
    units = await Unit.select().order_by(Unit.code)
    windows = await ServiceWindow.select(
        ServiceWindow.all_columns(), ServiceWindow.unit.code.as_alias("unit_code")
    ).order_by(ServiceWindow.code)
    # a small organisation's staff are listed here; a large one's in the staff table
    staff = (
        await Staff.select(
            Staff.all_columns(),
            Staff.unit.code.as_alias("unit_code"),
            Staff.window.code.as_alias("window_code"),
        )
        .order_by(Staff.code)
        .limit(ORG_PAGE_STAFF + 1)
    )
    return render(
        request,
        "admin/org.html",
        units=units,
        windows=windows,
        staff=staff if len(staff) <= ORG_PAGE_STAFF else [],
        staff_total=await Staff.count(),
        categories=POST_CATEGORIES,
    )


STAFF_TABLE = tables.TableSpec(
    sorts=tuple(listings.STAFF_SORTS),
    default_sort="code",
    filters={
        "unit": None,
        "category": POST_CATEGORIES,
        "leader": listings.YES_NO,
        "active": listings.YES_NO,
    },
)


@get("/admin/org/staff", opt={"permission": "org.manage"})
async def staff_table(request: Request[Any, Any, Any]) -> Template:
    try:
        query = tables.parse(request.query_params, STAFF_TABLE)
    except tables.TableError as exc:
        return tables.refused(request, exc)
    rows, total = await listings.staff(tables.listing(query))
    if query.page > 1 and not rows and total:  # past the last page: the last one
        query = tables.clamp(query, total)
        rows, total = await listings.staff(tables.listing(query))
    return render(
        request,
        "admin/staff_table.html",
        page=tables.Page(rows, total, query),
        sizes=tables.PAGE_SIZES,
        units=await listings.unit_choices(),
        categories=POST_CATEGORIES,
    )


@get("/admin/org/staff/export", opt={"permission": "org.manage"})
async def staff_export(request: Request[Any, Any, Any]) -> Template | Response[bytes]:
    """The staff the table shows with the same parameters, every page."""
    try:
        query = tables.parse(request.query_params, STAFF_TABLE)
        fmt = tables.export_format(request.query_params)
    except tables.TableError as exc:
        return tables.refused(request, exc)
    rows, _ = await listings.staff(tables.listing(query, everything=True))
    lang = request_language(request)
    header = [
        translate(key, lang)
        for key in (
            "campaign.code",
            "campaign.name",
            "campaign.unit",
            "org.category",
            "org.leader",
            "org.active",
            "orgedit.usual_window",
        )
    ]
    yes, no = translate("table.yes", lang), translate("table.no", lang)
    body = (
        [
            s["code"],
            s["name"],
            s["unit_name"],
            translate(f"post.{s['post_category']}", lang),
            yes if s["is_leader"] else no,
            yes if s["active"] else no,
            s["window_code"] or "",
        ]
        for s in rows
    )
    return tables.download(request, fmt, "staff", header, body)


@get("/admin/org/template.csv", opt={"permission": "org.manage"})
async def org_template() -> Response[bytes]:
    return Response(
        template_csv(),
        media_type="text/csv",
        headers={"content-disposition": 'attachment; filename="pingyi-org-template.csv"'},
    )


@post(
    "/admin/org/import",
    opt={"permission": "org.manage", "max_body": MAX_UPLOAD},
    request_max_body_size=MAX_UPLOAD,
)
async def org_import(
    request: Request[Any, Any, Any],
    data: Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)],
) -> Template | Redirect:
    upload = data.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return render(
            request,
            "admin/org_import.html",
            status_code=400,
            errors=[(0, "choose a CSV or XLSX file first")],
            report=None,
        )
    content = await upload.read()
    report = await import_org(upload.filename, content, _actor(request))
    return render(
        request,
        "admin/org_import.html",
        status_code=200 if report.ok else 400,
        errors=report.errors,
        report=report,
    )


@get("/admin/audit", opt={"permission": "audit.view"})
async def audit_page(
    request: Request[Any, Any, Any],
    actor: FromQuery[str | None] = None,
    action: FromQuery[str | None] = None,
) -> Template:
    query = AuditEvent.select().order_by(AuditEvent.seq, ascending=False).limit(300)
    if actor:
        query = query.where(AuditEvent.actor == actor[:64])
    if action:
        query = query.where(AuditEvent.action.like(f"{action[:60]}%"))
    check = await audit.verify_chain()
    return render(
        request,
        "admin/audit.html",
        events=await query.output(load_json=True),
        check=check,
        actor=actor or "",
        action=action or "",
    )


ORG_HANDLERS = [org_page, staff_table, staff_export, org_template, org_import, audit_page]
