"""The HR scoring feed over HTTP: published numbers only, API key with the hr scope."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get
from litestar.exceptions import HTTPException, NotFoundException, PermissionDeniedException
from litestar.params import FromPath, QueryParameter

from pingyi.services import scores
from pingyi.services.campaigns import CampaignError
from pingyi.services.devices import api_key_scopes
from pingyi.web.api import bearer, refuse_key


class FeedItem(msgspec.Struct):
    """One staff member's cleaned scores, total and recommended grade (DESIGN.md 6).

    Role scores are 0-100 or null: null with the role in `missing_roles` when it had
    no ratings ("none") or too few raters to show ("under_k"); its weight is then
    shared among the others in proportion (`weights_used`)."""

    staff_code: str
    staff_name: str
    unit_code: str
    unit_name: str
    post_category: str
    public_score: float | None
    peer_score: float | None
    superior_score: float | None
    self_score: float | None
    public_n: int | None
    peer_n: int | None
    superior_n: int | None
    self_n: int | None
    public_source: str
    total: float | None
    weights_used: dict[str, float]
    missing_roles: dict[str, str]
    satisfaction_rate: float | None
    satisfaction_n: int
    satisfaction_status: str
    rule_flags: list[str]
    grade_level: int | None
    recommended_grade: str
    grade_notes: list[str]
    below_standard: bool
    warning_consecutive: bool
    final_grade: str  # the grade a person decided for this revision, "" until then
    final_approved_by: str


class ScoresPage(msgspec.Struct):
    campaign: str
    revision: int
    snapshot_hash: str
    published_at: datetime
    policy_version: str
    page: int
    per_page: int
    total_items: int
    next_page: int | None
    items: list[FeedItem]


class ScoresApi(Controller):
    path = "/api/v1/campaigns"
    tags = ("hr",)

    @get("/{code:str}/scores", summary="The published scoring feed of a campaign")
    async def get_scores(
        self,
        request: Request[Any, Any, Any],
        code: FromPath[str],
        page: Annotated[int, QueryParameter(ge=1, le=100_000)] = 1,
        per_page: Annotated[int, QueryParameter(ge=1, le=1000)] = 200,
    ) -> ScoresPage:
        """Per staff member: role scores, n per role, the weighted 360 total, public
        satisfaction, rule flags, the recommended grade and the two-period warning, as
        frozen at the newest publication (`revision`, `snapshot_hash`). Requires an
        API key with the `hr` scope (Authorization: Bearer <key>)."""
        granted = await api_key_scopes(bearer(request))
        if granted is None:
            await refuse_key(request, "missing or wrong API key (Authorization: Bearer <key>)")
        if "hr" not in granted:
            raise PermissionDeniedException("this API key lacks the hr scope")
        try:
            facts, rows = await scores.published_feed(code)
        except scores.ScoresError as exc:
            raise HTTPException(status_code=409, detail=str(exc)) from exc
        except CampaignError as exc:
            raise NotFoundException(str(exc)) from exc
        start = (page - 1) * per_page
        chunk = rows[start : start + per_page]
        return ScoresPage(
            campaign=code,
            revision=facts["revision"],
            snapshot_hash=facts["snapshot_hash"],
            published_at=facts["published_at"],
            policy_version=facts["policy"]["version"],
            page=page,
            per_page=per_page,
            total_items=len(rows),
            next_page=page + 1 if start + per_page < len(rows) else None,
            items=[msgspec.convert(r.to_json(), FeedItem) for r in chunk],
        )
