"""Console: the campaign report (白皮书), a self-contained HTML page to read or print."""

from __future__ import annotations

from typing import Any

from litestar import Request, get
from litestar.params import FromPath
from litestar.response import Response, Template

from pingyi.db.tables import Campaign, CleaningRun, Publication
from pingyi.i18n import translate
from pingyi.numbers import plain_int
from pingyi.services import white_paper
from pingyi.web.guards import current_user
from pingyi.web.rendering import attachment, render, request_language

# The report has an inline style sheet and inline SVG, and no script at all.
REPORT_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'"


@get("/admin/campaigns/{code:str}/report", opt={"permission": "scores.view"})
async def campaign_report(
    request: Request[Any, Any, Any], code: FromPath[str]
) -> Response[str] | Template:
    revision = plain_int(request.query_params.get("revision"))
    user = current_user(request)
    if not user or user["role"] != "agency_admin":
        # HR reads published revisions only; the agency may read any cleaning run
        published = await _published_revisions(code)
        if not published and not await Campaign.exists().where(Campaign.code == code):
            return render(
                request,
                "error.html",
                status_code=404,
                message=translate("report.error.no_campaign", request_language(request)),
            )
        if not published:
            return render(
                request,
                "error.html",
                status_code=409,
                message=translate("report.error.unpublished", request_language(request)),
            )
        if revision is None:
            revision = published[-1]
        elif revision not in published:
            return render(
                request,
                "error.html",
                status_code=403,
                message=translate("report.error.revision_unpublished", request_language(request)),
            )
    lang = request_language(request)
    html = await _frozen_report(code, revision, lang)
    if not html:
        try:
            html = await white_paper.build_report(code, revision, lang=lang)
        except white_paper.ReportError as exc:
            return render(request, "error.html", status_code=exc.status, message=str(exc))
    headers = {"content-security-policy": REPORT_CSP}  # never stored: web/headers.py
    if request.query_params.get("download") == "1":
        headers["content-disposition"] = attachment(f"{code}-report.html")
    return Response(html, media_type="text/html; charset=utf-8", headers=headers)


async def _frozen_report(code: str, revision: int | None, lang: str) -> str:
    """The report stored when this revision was published ("" if it was not)."""
    if revision is None:  # the agency's default: the latest cleaning run
        latest = (
            await CleaningRun.select(CleaningRun.revision)
            .where(CleaningRun.campaign.code == code)
            .order_by(CleaningRun.revision, ascending=False)
            .first()
        )
        if latest is None:
            return ""
        revision = latest["revision"]
    column = Publication.report_en if lang == "en" else Publication.report_zh
    stored = (
        await Publication.select(column.as_alias("html"))
        .where((Publication.campaign.code == code) & (Publication.revision == revision))
        .first()
    )
    return stored["html"] if stored else ""


async def _published_revisions(code: str) -> list[int]:
    rows = (
        await Publication.select(Publication.revision)
        .where(Publication.campaign.code == code)
        .order_by(Publication.revision)
    )
    return [r["revision"] for r in rows]


REPORT_HANDLERS = [campaign_report]
