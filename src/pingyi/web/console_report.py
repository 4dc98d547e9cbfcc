"""Console: the campaign report (白皮书), a self-contained HTML page to read or print."""

from __future__ import annotations

import re
from typing import Any

from litestar import Request, get
from litestar.response import Response, Template

from pingyi.services import white_paper
from pingyi.web.rendering import render, request_language

# The report has an inline style sheet and inline SVG, and no script at all.
REPORT_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'"


@get("/admin/campaigns/{code:str}/report", opt={"permission": "scores.view"})
async def campaign_report(request: Request[Any, Any, Any], code: str) -> Response[str] | Template:
    revision_text = request.query_params.get("revision", "")
    revision = int(revision_text) if revision_text.isdigit() else None
    try:
        html = await white_paper.build_report(code, revision, lang=request_language(request))
    except white_paper.ReportError as exc:
        return render(request, "error.html", status_code=exc.status, message=str(exc))
    headers = {"content-security-policy": REPORT_CSP, "cache-control": "no-store"}
    if request.query_params.get("download") == "1":
        name = re.sub(r"[^A-Za-z0-9_.-]", "_", code) or "campaign"
        headers["content-disposition"] = f'attachment; filename="{name}-report.html"'
    return Response(html, media_type="text/html; charset=utf-8", headers=headers)


REPORT_HANDLERS = [campaign_report]
