"""The one-time-link pages of peers, superiors and self-assessment (/i/<token>).

Nothing here logs or echoes the token: it is a password in a URL.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath
from litestar.response import Template

from pingyi.i18n import in_language, translate
from pingyi.services import peer
from pingyi.web.form_errors import Field, mark
from pingyi.web.guessing import wrong_link
from pingyi.web.rendering import render, request_language

STATES = {
    "unknown": ("peer.unknown", 404),
    "revoked": ("peer.revoked", 410),
    "closed": ("peer.closed", 410),
}


def _fields(sheet: peer.Sheet, lang: str) -> list[Field]:
    """The sheet's questions in page order, each labelled with the person rated."""
    fields = []
    for group in sheet.groups:
        for ratee in group["ratees"]:
            if (ratee["id"], group["role"]) in sheet.submitted:
                continue
            for item in group["items"]:
                name = peer.field_name(group["role"], ratee["id"], item["code"])
                text = in_language(item["text_zh"], item["text_en"], lang)
                fields.append(Field(name, f"{ratee['name']} · {text}", f"{name}-5"))
            name = peer.field_name(group["role"], ratee["id"], "comment")
            label = f"{ratee['name']} · {translate('peer.comment', lang)}"
            fields.append(Field(name, label, name))
    return fields


def _sheet_page(
    request: Request[Any, Any, Any],
    sheet: peer.Sheet,
    token: str,
    values: dict[str, str],
    errors: dict[str, str] | None = None,
    message: str = "",
    is_error: bool = False,
    status: int = 200,
) -> Template:
    lang = request_language(request)
    return render(
        request,
        "peer/sheet.html",
        status_code=status,
        sheet=sheet,
        action=f"/i/{token}",
        form_token=peer.form_token(sheet.invitation_id),
        values=values,
        marked=mark(errors or {}, _fields(sheet, lang), lambda key: translate(key, lang)),
        message=message,
        is_error=is_error,
        k=sheet.campaign.get("k", 3),
    )


class PeerController(Controller):
    path = "/i"
    include_in_schema = False
    # A sheet rates a whole unit: every colleague's items and comment.
    opt = {"max_body": 512 * 1024, "max_fields": 3000}  # noqa: RUF012

    @get("/{token:str}")
    async def sheet(self, request: Request[Any, Any, Any], token: FromPath[str]) -> Template:
        state, sheet = await peer.open_invitation(token)
        if sheet is None:
            key, status = STATES[state]
            if state == "unknown":
                return await wrong_link(request, key, status)
            return render(
                request,
                "citizen/notice.html",
                status_code=status,
                message=translate(key, request_language(request)),
            )
        return _sheet_page(request, sheet, token, sheet.draft)

    @post("/{token:str}", status_code=200)
    async def submit(
        self,
        request: Request[Any, Any, Any],
        token: FromPath[str],
        data: Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Template:
        lang = request_language(request)
        state, sheet = await peer.open_invitation(token)
        if sheet is None:
            key, status = STATES[state]
            if state == "unknown":
                return await wrong_link(request, key, status)
            return render(
                request, "citizen/notice.html", status_code=status, message=translate(key, lang)
            )
        values = {k: v for k, v in data.items() if isinstance(v, str)}
        started = peer.rendered_at(values.get("form", ""), sheet.invitation_id)
        if started is None:
            return _sheet_page(
                request,
                sheet,
                token,
                values,
                message=translate("peer.error.form", lang),
                is_error=True,
                status=400,
            )
        outcome = await peer.save_or_submit(sheet, values, values.get("submit", "save"), started)
        _, sheet = await peer.open_invitation(token)
        assert sheet is not None
        if outcome.errors:
            # Faulty questions have their summary; "_" is a fault of the whole sheet.
            message_key = outcome.errors.pop("_", "")
            return _sheet_page(
                request,
                sheet,
                token,
                values,
                outcome.errors,
                translate(message_key, lang) if message_key else "",
                is_error=True,
                status=400,
            )
        message = (
            translate("peer.saved", lang)
            if outcome.saved
            else translate("peer.stored", lang, n=outcome.stored)
        )
        return _sheet_page(request, sheet, token, sheet.draft, message=message)
