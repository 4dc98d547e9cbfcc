"""Console: organisation structure (import from CSV/XLSX, list, edit) and the audit log."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromQuery
from litestar.response import Redirect, Response, Template

from pingyi.db.tables import POST_CATEGORIES, AuditEvent, ServiceWindow, Staff, Unit
from pingyi.services import audit
from pingyi.services.org_import import import_org, template_csv
from pingyi.web.console_campaigns import _actor
from pingyi.web.rendering import render

MAX_UPLOAD = 5 * 1024 * 1024


@get("/admin/org", opt={"permission": "org.manage"})
async def org_page(request: Request[Any, Any, Any]) -> Template:
    units = await Unit.select().order_by(Unit.code)
    windows = await ServiceWindow.select(
        ServiceWindow.all_columns(), ServiceWindow.unit.code.as_alias("unit_code")
    ).order_by(ServiceWindow.code)
    staff = await Staff.select(
        Staff.all_columns(),
        Staff.unit.code.as_alias("unit_code"),
        Staff.window.code.as_alias("window_code"),
    ).order_by(Staff.code)
    return render(
        request,
        "admin/org.html",
        units=units,
        windows=windows,
        staff=staff,
        categories=POST_CATEGORIES,
    )


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


ORG_HANDLERS = [org_page, org_template, org_import, audit_page]
