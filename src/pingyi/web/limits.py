"""Request bodies are checked as they arrive, before anything parses them.

Each route says how much it accepts (`opt={"max_body": bytes, "max_fields": n}`;
defaults below): a citizen's form is a few KB, a device's JSON a few hundred bytes.
A body beyond its route's size or field count is refused with 413 as soon as the
excess arrives, so a 9 MB form with a million fields costs a worker nothing. JSON
nested deeper than any of our bodies (`max_depth`) is refused with 400 before a
decoder recurses into it. Control characters (NUL and the other C0 codes except tab,
newline and carriage return, and DEL) are refused with 400 in forms, JSON bodies and
query strings, the same on SQLite (which would store them) and PostgreSQL (which
cannot store NUL at all).

The scan works on the raw bytes: percent-escapes in forms and \\u escapes in JSON are
recognised without decoding anything.
"""

from __future__ import annotations

import re
from typing import Any

from litestar.exceptions import HTTPException
from litestar.types import ASGIApp, Receive, ReceiveMessage, Scope, Send

KIB = 1024
DEFAULT_MAX_BODY = 1024 * KIB  # console forms without an upload
DEFAULT_MAX_FIELDS = 5000
DEFAULT_MAX_DEPTH = 16

# Raw control bytes, and their escapes in forms (%00-%1F but %09 %0A %0D, %7F).
_FORM_CONTROL = re.compile(
    rb"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]|%(?:0[0-8bBcCeEfF]|1[0-9a-fA-F]|7[fF])"
)
# In JSON: raw bytes (invalid JSON anyway) and \u escapes not preceded by an escaped
# backslash (an even run of backslashes before the one that starts the escape).
_JSON_CONTROL = re.compile(
    rb"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]"
    rb"|(?<!\\)(?:\\\\)*\\u00(?:0[0-8bBcCeEfF]|1[0-9a-fA-F]|7[fF])"
)
_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_JSON_BRACKETS = re.compile(rb"[\[\]{}]")


class InputRefused(HTTPException):
    """A 400 or 413; the error handler turns `key` into a sentence in the
    requester's language."""

    def __init__(self, status_code: int, key: str, **kw: Any) -> None:
        super().__init__(status_code=status_code, detail=key)
        self.key = key
        self.kw = kw


def json_depth(body: bytes) -> int:
    """How deep the arrays and objects of a JSON text nest (strings skipped)."""
    depth = deepest = 0
    for bracket in _JSON_BRACKETS.findall(_JSON_STRING.sub(b"", body)):
        if bracket in (b"[", b"{"):
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


def has_control_characters(body: bytes, json: bool) -> bool:
    return bool((_JSON_CONTROL if json else _FORM_CONTROL).search(body))


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return str(value.decode("latin-1"))
    return ""


def input_limits_middleware(app: ASGIApp) -> ASGIApp:
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        query = scope.get("query_string", b"")
        if query and _FORM_CONTROL.search(query):
            raise InputRefused(400, "error.control_characters")
        if scope.get("method") in ("GET", "HEAD", "OPTIONS"):
            await app(scope, receive, send)
            return
        handler = scope.get("route_handler")
        opt: dict[str, Any] = getattr(handler, "opt", None) or {}
        max_body = int(opt.get("max_body", DEFAULT_MAX_BODY))
        max_fields = int(opt.get("max_fields", DEFAULT_MAX_FIELDS))
        max_depth = int(opt.get("max_depth", DEFAULT_MAX_DEPTH))
        content_type = _header(scope, b"content-type").split(";")[0].strip().lower()
        is_form = content_type == "application/x-www-form-urlencoded"
        # Uploads (multipart) carry files: only their size is checked here. Anything
        # else may reach a JSON decoder whatever its content type says.
        is_json = not is_form and not content_type.startswith("multipart/")
        declared = _header(scope, b"content-length")
        if declared.isdigit() and int(declared) > max_body:
            raise InputRefused(413, "error.too_large", kib=max(1, max_body // KIB))
        received = bytearray()
        fields = 1

        async def checked_receive() -> ReceiveMessage:
            nonlocal fields
            message = await receive()
            if message["type"] != "http.request":
                return message
            chunk = message.get("body", b"")
            received.extend(chunk)
            if len(received) > max_body:
                raise InputRefused(413, "error.too_large", kib=max(1, max_body // KIB))
            if is_form:
                fields += chunk.count(b"&")
                if fields > max_fields:
                    raise InputRefused(413, "error.too_many_fields", n=max_fields)
            if not message.get("more_body", False):
                body = bytes(received)
                if (is_form or is_json) and has_control_characters(body, json=is_json):
                    raise InputRefused(400, "error.control_characters")
                if is_json and json_depth(body) > max_depth:
                    raise InputRefused(400, "error.too_deep")
            return message

        await app(scope, checked_receive, send)

    return middleware
