"""GET /healthz: 200 when the database answers, 503 otherwise."""

from __future__ import annotations

from litestar import get
from litestar.response import Response

from pingyi.db.tables import Organization


@get("/healthz", include_in_schema=False, opt={"public": True})
async def healthz() -> Response[dict[str, str]]:
    try:
        await Organization.count()
    except Exception as exc:  # any failure to reach the database
        return Response(
            {"status": "unavailable", "database": type(exc).__name__},
            status_code=503,
            headers={"Retry-After": "5"},
        )
    return Response({"status": "ok", "database": "ok"})
