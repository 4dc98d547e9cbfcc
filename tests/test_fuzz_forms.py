"""Property-based fuzzing (hypothesis) of every route that takes a token, a form or
a JSON body: arbitrary Unicode and arbitrary bytes in paths, form fields, raw
bodies and JSON. No answer is a 5xx, and a refused request (4xx) stores nothing,
in any table (issue 13, "Done means"). The /api/ operations are also fuzzed from
their schema in test_fuzz_api.

Cases are drawn with a fixed seed (derandomize) so a failure reproduces; each is
sent from its own client address, so the guessing limits (429) do not hide the
deeper paths after the first twenty.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from helpers import csrf_from, login, make_user, open_public_campaign

pytestmark = pytest.mark.anyio

EXAMPLES = 60

text = st.text(st.characters(codec="utf-8"), max_size=200)
# Signed tokens are `payload.signature`: a dot gets a guess past the first check.
dotted = st.builds(lambda a, b: f"{a}.{b}", text, text)
any_text = st.one_of(
    text,
    dotted,
    st.text(max_size=40),  # surrogates and all
    st.sampled_from(["", "\x00", "é" * 300, "5", "-1", "1e9", "999999999999999999999", "../"]),
)
raw_bytes = st.binary(max_size=600)
form_fields = st.dictionaries(
    st.one_of(
        st.sampled_from(
            [
                "token",
                "overall",
                "item_attitude",
                "comment",
                "reason",
                "reason_text",
                "contact",
                "text",
                "form",
                "submit",
                "username",
                "password",
                "next",
                "code",
                "name",
                "target",
                "scope",
                "unit",
                "window",
                "staff",
            ]
        ),
        text,
    ),
    any_text,
    max_size=12,
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | text,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(["client_id", "window", "answers", "staff"]) | text,
            children,
            max_size=4,
        )
    ),
    max_leaves=20,
)


def draw(strategy: Any, count: int = EXAMPLES) -> list[Any]:
    found: list[Any] = []

    @settings(
        max_examples=count,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
        derandomize=True,
    )
    @given(strategy)
    def collect(value: Any) -> None:
        found.append(value)

    collect()
    return found


def path_segment(value: str | bytes) -> str:
    """Any text or bytes as one path segment (percent-encoded, never a new '/')."""
    return quote(value, safe="") or "x"


async def stored() -> tuple[int, ...]:
    """The row count of every table, in one query."""
    from pingyi.db.tables import ALL_TABLES, Organization

    counts = ", ".join(f'(SELECT COUNT(*) FROM "{t._meta.tablename}")' for t in ALL_TABLES)
    row = (await Organization.raw(f"SELECT {counts}"))[0]
    return tuple(int(v) for v in row.values())


class Probe:
    """Sends one case from a fresh client address and checks the rules."""

    def __init__(self, app: Any, cookies: httpx.Cookies | None = None) -> None:
        self.app = app
        self.cookies = cookies
        self.sent = 0
        self.failures: list[str] = []
        self.statuses: set[int] = set()

    async def send(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        self.sent += 1
        address = f"10.{self.sent // 250 % 250}.{self.sent % 250}.{1 + self.sent % 7}"
        transport = httpx.ASGITransport(app=self.app, client=(address, 1000))
        before = await stored()
        async with httpx.AsyncClient(
            transport=transport, base_url="http://testserver", cookies=self.cookies
        ) as http:
            response = await http.request(method, url, **kwargs)
        self.statuses.add(response.status_code)
        where = f"{method} {url[:120]} {str(kwargs)[:200]!r}"
        if response.status_code >= 500:
            self.failures.append(f"{response.status_code}: {where}")
        elif response.status_code >= 400 and await stored() != before:
            self.failures.append(f"refused ({response.status_code}) but stored: {where}")
        return response


@pytest.fixture
async def seeded(app: Any) -> AsyncIterator[dict[str, Any]]:
    from pingyi.services.devices import add_device
    from pingyi.services.links import window_url

    campaign = await open_public_campaign()
    key = await add_device("u1-W1", "fuzz")
    path = window_url(campaign["campaign_id"], campaign["windows"]["u1-W1"])
    yield {
        "campaign": campaign,
        "device_key": key,
        "window_path": path.removeprefix("http://127.0.0.1:8000"),
    }


async def test_citizen_and_peer_links_take_any_token(app: Any, seeded: dict[str, Any]) -> None:
    from pingyi.db.tables import Answer, PressureReport, Response

    probe = Probe(app)
    for prefix in ("/r/", "/t/", "/i/"):
        for token in draw(st.one_of(any_text, raw_bytes), 40):
            url = prefix + path_segment(token)
            await probe.send("GET", url)
            await probe.send("POST", url, data={"token": "x", "overall": "5"})
    assert not probe.failures, "\n".join(probe.failures[:10])
    assert await Response.count() == 0 and await Answer.count() == 0
    assert await PressureReport.count() == 0


async def test_citizen_forms_take_any_fields_and_bytes(app: Any, seeded: dict[str, Any]) -> None:
    from pingyi.db.tables import PressureReport, Response

    probe = Probe(app)
    window = seeded["window_path"]
    form = {"content-type": "application/x-www-form-urlencoded"}
    for route in (window, "/p", "/i/not-a-token", "/t/not-a-token"):
        for fields in draw(form_fields, 50):
            await probe.send("POST", route, data=fields)
        for body in draw(raw_bytes, 30):
            await probe.send("POST", route, content=body, headers=form)
        for body in draw(raw_bytes, 10):
            await probe.send(
                "POST", route, content=body, headers={"content-type": "multipart/form-data"}
            )
    # A genuine form token with fuzzed answers: stored only when the answers are valid.
    page = await httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ).get(window)
    token = re.search(r'name="token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    for fields in draw(form_fields, 60):
        fields["token"] = token
        await probe.send("POST", window, data=fields)
    assert not probe.failures, "\n".join(probe.failures[:10])
    assert await PressureReport.count() == 0
    assert await Response.count() <= 1  # the one genuine form, at most once
    assert 200 in probe.statuses or 400 in probe.statuses


async def test_api_takes_any_json_and_bytes(app: Any, seeded: dict[str, Any]) -> None:
    from pingyi.db.tables import Response

    probe = Probe(app)
    key = {"authorization": f"Bearer {seeded['device_key']}"}
    for route in ("/api/v1/ratings", "/api/v1/tickets"):
        for headers in ({}, key):
            for value in draw(json_values, 40):
                await probe.send("POST", route, json=value, headers=headers)
            for body in draw(raw_bytes, 20):
                await probe.send(
                    "POST",
                    route,
                    content=body,
                    headers={**headers, "content-type": "application/json"},
                )
    assert not probe.failures, "\n".join(probe.failures[:10])
    assert await Response.count() == 0
    assert {401, 400} <= probe.statuses


async def test_console_forms_take_any_fields(app: Any, client: Any, seeded: dict[str, Any]) -> None:
    """Every console POST route, signed in as the agency with a valid CSRF token:
    whatever the form holds, no 5xx, and a refusal stores nothing."""
    from litestar.routes import HTTPRoute

    await make_user("fuzzer", "agency_admin")
    assert (await login(client, "fuzzer", "correct horse battery")).status_code in (302, 303)
    csrf = csrf_from((await client.get("/admin/org")).text)
    probe = Probe(app, cookies=client.cookies)
    routes = sorted(
        route.path
        for route in app.routes
        if isinstance(route, HTTPRoute)
        and "POST" in route.methods
        and route.path.startswith(("/admin/", "/me/"))
    )
    assert len(routes) > 15
    values = {
        "str": ["C1", "u1", quote("ä\x00", safe="")],
        "int": ["1", "2", "99999999999999999999"],
    }
    for route in routes:
        for n, fields in enumerate(draw(form_fields, 12)):
            url = re.sub(r"\{\w+:(str|int)\}", lambda m, n=n: values[m.group(1)][n % 3], route)
            fields["_csrf_token"] = csrf if n % 4 else str(fields.get("token", ""))
            await probe.send("POST", url, data=fields)
    # The CSRF token itself, in any shape.
    # (a token is 64 hex digits and an HMAC: long ones reach the comparison).
    long_text = st.text(st.characters(codec="utf-8"), min_size=65, max_size=300)
    for token in draw(
        st.one_of(any_text, long_text, raw_bytes.map(lambda b: b.decode("latin-1"))), 40
    ):
        await probe.send("POST", "/admin/org/units/new", data={"_csrf_token": token, "code": "z"})
        await probe.send(
            "POST", "/logout", headers={"x-csrftoken": token.encode("utf-8", "replace")}
        )
    # ... or a file part of a multipart form.
    for body in draw(raw_bytes, 10):
        await probe.send(
            "POST",
            "/admin/org/import",
            files={"_csrf_token": ("t.txt", body), "file": ("o.csv", body)},
        )
    assert not probe.failures, "\n".join(probe.failures[:10])


async def test_sign_in_takes_any_form(app: Any, seeded: dict[str, Any]) -> None:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as http:
        csrf = csrf_from((await http.get("/login")).text)
        cookies = http.cookies
    probe = Probe(app, cookies=cookies)
    for fields in draw(form_fields, 60):
        fields["_csrf_token"] = csrf
        await probe.send("POST", "/login", data=fields)
    for body in draw(raw_bytes, 20):
        await probe.send(
            "POST",
            "/login",
            content=body,
            headers={"content-type": "application/x-www-form-urlencoded"},
        )
    assert not probe.failures, "\n".join(probe.failures[:10])
