"""Hostile input: what a careless or malicious visitor sends is refused or made
harmless, never a crash, never script in a page, never a guessable secret.

Already covered elsewhere and not repeated here: CSRF on sign-in (test_auth), the
sign-in rate limit and open redirects (test_auth), forged rating-form tokens and
the citizen rate limit (test_citizen), brute-forced device keys (test_device_api),
the security headers of the sign-in page (test_auth), hostile API bodies
(test_fuzz_api).
"""

from __future__ import annotations

import csv
import io
import re
import string
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpers import csrf_from, login, make_user, open_public_campaign

pytestmark = pytest.mark.anyio

ROOT = Path(__file__).resolve().parents[1]
X = '<script>alert("x")</script><img src=x onerror=alert(1)>'
X_ESCAPED = "&lt;script&gt;alert("  # how jinja (and html.escape) show it
FORMULA = '=HYPERLINK("http://evil.example","点我")'

# --------------------------------------------------------------------------- form parsers

form_values = st.one_of(
    st.text(max_size=600),
    st.sampled_from(["", " ", "0", "1", "3", "5", "6", "-1", "²", "٣", "1.0", "yes", "no"]),
    st.integers(),
    st.none(),
    st.booleans(),
    st.lists(st.text(max_size=5), max_size=3),
)
ITEMS = [
    {"code": "attitude", "kind": "scale5", "required": True},
    {"code": "speed", "kind": "scale5", "required": False},
    {"code": "again", "kind": "yesno", "required": False},
    {"code": "topic", "kind": "choice", "required": False, "choices": ["a", "b"]},
    {"code": "remarks", "kind": "text", "required": False},
]
KNOWN_ERRORS = {
    "rate.error.overall",
    "rate.error.required",
    "rate.error.level",
    "rate.error.choice",
    "rate.error.too_long",
    "rate.error.reason",
}


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    form=st.dictionaries(
        st.one_of(
            st.sampled_from(
                [
                    "overall",
                    "item_attitude",
                    "item_speed",
                    "item_again",
                    "item_topic",
                    "item_remarks",
                    "comment",
                    "reason",
                    "reason_text",
                    "contact",
                    "website",
                ]
            ),
            st.text(max_size=20),
        ),
        form_values,
        max_size=14,
    )
)
def test_public_form_parser_never_raises(form: dict[str, Any]) -> None:
    from pingyi.services.public_rating import LEVELS, rating_input_from_form, validate

    rating = rating_input_from_form(form, ITEMS)
    errors, answers = validate(rating, ITEMS)
    assert set(errors.values()) <= KNOWN_ERRORS
    for code, score, value in answers:
        assert score is None or score in LEVELS
        assert code == "overall" or code in {i["code"] for i in ITEMS}
        assert isinstance(value, str)
    if not errors:
        assert answers[0][0] == "overall"


@settings(max_examples=400, deadline=None)
@given(
    values=st.dictionaries(
        st.one_of(
            st.sampled_from(["peer.7.attitude", "peer.7.teamwork", "peer.7.comment"]),
            st.text(max_size=20),
        ),
        st.one_of(st.text(max_size=600), st.sampled_from(["1", "5", "6", "²", "٣", " 3"])),
        max_size=6,
    )
)
def test_peer_sheet_parser_never_raises(values: dict[str, str]) -> None:
    from pingyi.services.peer import _answers_for
    from pingyi.services.public_rating import LEVELS

    group = {
        "role": "peer",
        "items": [
            {"code": "attitude", "required": True},
            {"code": "teamwork", "required": False},
        ],
    }
    answers, comment, missing = _answers_for(group, 7, values)
    assert all(score in LEVELS for _, score, _ in answers)
    assert isinstance(comment, str)
    assert set(missing) <= {"peer.7.attitude"}
    if values.get("peer.7.attitude") in {"1", "2", "3", "4", "5"}:
        assert not missing


# --------------------------------------------------------------------------- XSS


async def _hostile_campaign() -> dict[str, Any]:
    """Every name and text an agency types in carries a script."""
    from datetime import date

    from pingyi.services import campaigns
    from pingyi.services.org import upsert_organization, upsert_staff, upsert_unit, upsert_window
    from pingyi.services.questionnaires import ItemSpec, create_questionnaire

    org = await upsert_organization("org", f"中心{X}")
    unit = await upsert_unit(org, "u1", f"大厅{X}", f"Hall{X}", opening_hours="")
    window = await upsert_window(unit, "W1", "01", f"窗口{X}", f"Window{X}")
    staff = [await upsert_staff(unit, "S0", f"张{X}", window_id=window, is_leader=True)]
    staff.append(await upsert_staff(unit, "S1", FORMULA))
    for n in range(2, 5):
        staff.append(await upsert_staff(unit, f"S{n}", f"员工{n}{X}"))
    public = await create_questionnaire(
        "pub", f"问卷{X}", "public", [ItemSpec("attitude", f"态度{X}", f"Attitude{X}")]
    )
    peer = await create_questionnaire(
        "peer", f"互评{X}", "peer", [ItemSpec("attitude", f"工作态度{X}", f"Work{X}")]
    )
    await campaigns.create_campaign(
        campaigns.CampaignSpec(
            code="X1",
            name=f"评议{X}",
            period_start=date(2026, 10, 1),
            period_end=date(2026, 12, 31),
            unit_codes=["u1"],
            public_version=public,
            peer_version=peer,
            superior_version=peer,
            self_version=peer,
        )
    )
    await campaigns.move("X1", "open", "test")
    campaign = await campaigns.get_campaign("X1")
    return {"campaign_id": campaign["id"], "window": window}


def _no_script(page: Any, where: str) -> str:
    body = str(page.text)
    assert X not in body, f"unescaped script in {where}"
    # No tag of ours came through: every "<" of the payload is escaped.
    assert not re.search(r"<(script|img)\b", body, re.IGNORECASE), where
    return body


async def test_scripts_in_names_comments_and_questionnaires_are_escaped(client: Any) -> None:
    from pingyi.db.tables import BadReviewCase, Questionnaire
    from pingyi.services.links import window_url

    ids = await _hostile_campaign()
    path = window_url(ids["campaign_id"], ids["window"]).removeprefix("http://127.0.0.1:8000")

    # The citizen's page: unit, window, staff member, questionnaire text.
    page = await client.get(path)
    assert page.status_code == 200
    assert _no_script(page, "rating page").count(X_ESCAPED) >= 3
    token = re.search(r'name="token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    done = await client.post(
        path,
        data={
            "token": token,
            "overall": "1",
            "item_attitude": "1",
            "reason": "other",
            "reason_text": f"原因{X}",
            "comment": f"评语{X}",
            "contact": f"138{X}"[:60],
        },
    )
    assert done.status_code == 200 and "感谢" in done.text
    _no_script(done, "thank-you page")

    await make_user("xadmin", "agency_admin")
    await login(client, "xadmin", "correct horse battery")
    questionnaire = await Questionnaire.select(Questionnaire.id).where(Questionnaire.code == "pub")
    qid = questionnaire[0]["id"]
    case = await BadReviewCase.select(BadReviewCase.id).first()
    assert case is not None
    shown = {}
    for where in (
        "/admin",
        "/admin/org",
        "/admin/questionnaires",
        f"/admin/questionnaires/{qid}",
        f"/admin/questionnaires/{qid}/preview",
        "/admin/campaigns",
        "/admin/campaigns/X1",
        "/admin/campaigns/X1/assignments",
        "/admin/campaigns/X1/indicators",
        "/admin/cases",
        f"/admin/cases/{case['id']}",
        "/admin/interview",
        "/admin/audit",
    ):
        response = await client.get(where)
        assert response.status_code == 200, (where, response.status_code)
        shown[where] = _no_script(response, where).count(X_ESCAPED)
    # The names are really on these pages (escaped), so the checks above mean something.
    for where in ("/admin/org", f"/admin/questionnaires/{qid}/preview", "/admin/campaigns/X1"):
        assert shown[where] >= 1, where
    assert shown[f"/admin/cases/{case['id']}"] >= 2  # reason and comment

    # Invitation links: the CSV is formula-safe, the peer sheet escapes every name.
    csrf = csrf_from((await client.get("/admin/campaigns/X1")).text)
    exported = await client.post(
        "/admin/campaigns/X1/invitations", data={"_csrf_token": csrf, "scope": "all"}
    )
    assert exported.status_code in (200, 201)
    rows = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
    names = [row[1] for row in rows[1:]]
    assert "'" + FORMULA in names and FORMULA not in names
    assert all(not cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)
    link = next(row[3] for row in rows[1:] if row[0] == "S2")
    sheet = await client.get(link.removeprefix("http://127.0.0.1:8000"))
    assert sheet.status_code == 200
    assert _no_script(sheet, "peer sheet").count(X_ESCAPED) >= 2

    # After cleaning: the flags page and the self-contained cleaning report.
    moved = await client.post(
        "/admin/campaigns/X1/move", data={"_csrf_token": csrf, "target": "closed"}
    )
    assert moved.status_code in (302, 303)
    cleaned = await client.post("/admin/campaigns/X1/clean", data={"_csrf_token": csrf})
    assert cleaned.status_code in (302, 303), cleaned.text[:500]
    for where in ("/admin/campaigns/X1/flags", "/admin/campaigns/X1/cleaning-report"):
        response = await client.get(where)
        assert response.status_code == 200, where
        _no_script(response, where)
    report = await client.get("/admin/campaigns/X1/cleaning-report")
    assert report.headers["content-security-policy"].startswith("default-src 'none'")


def test_templates_have_no_inline_script_or_handlers() -> None:
    """The CSP forbids inline script; the templates must not need any."""
    offenders = []
    for template in (ROOT / "templates").rglob("*.html"):
        text = template.read_text()
        for match in re.finditer(r"<script\b([^>]*)>", text, re.IGNORECASE):
            if "src=" not in match.group(1):
                offenders.append(f"{template.name}: inline <script>")
        if re.search(r"\son[a-z]+\s*=", text, re.IGNORECASE):
            offenders.append(f"{template.name}: inline event handler")
        if "javascript:" in text.lower():
            offenders.append(f"{template.name}: javascript: URL")
    assert not offenders, offenders


async def test_every_kind_of_response_carries_the_csp(client: Any) -> None:
    campaign = await open_public_campaign()
    from pingyi.services.links import window_url

    path = window_url(campaign["campaign_id"], campaign["windows"]["u1-W1"])
    for response in (
        await client.get(path.removeprefix("http://127.0.0.1:8000")),  # citizen page
        await client.get("/no/such/page"),  # error page
        await client.post("/api/v1/ratings", json={}),  # API error
        await client.get("/healthz"),
    ):
        assert "content-security-policy" in response.headers, response.request.url
        csp = response.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp.split("style-src")[0]
        assert "frame-ancestors 'none'" in csp
        assert response.headers["x-content-type-options"] == "nosniff"


# --------------------------------------------------------------------------- secrets in links


async def test_guessed_ticket_links_are_refused_then_rate_limited(client: Any) -> None:
    await open_public_campaign()
    statuses = [(await client.get(f"/t/{'A' * 20}{n:02d}")).status_code for n in range(21)]
    assert statuses[:20] == [404] * 20
    assert statuses[20] == 429
    limited = await client.post("/t/guess", data={"overall": "5"})
    assert limited.status_code == 429 and limited.headers["retry-after"].isdigit()


async def test_replayed_ticket_is_refused(client: Any) -> None:
    from pingyi.db.tables import Response
    from pingyi.services.devices import add_device

    await open_public_campaign()
    key = await add_device("u1-W1", "counter")
    issued = await client.post(
        "/api/v1/tickets", json={}, headers={"authorization": f"Bearer {key}"}
    )
    path = issued.json()["url"].removeprefix("http://127.0.0.1:8000")
    page = await client.get(path)
    token = re.search(r'name="token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    first = await client.post(path, data={"token": token, "overall": "5", "item_attitude": "5"})
    assert first.status_code == 200
    # The same ticket with a fresh form (a second rating of one service): refused.
    assert (await client.get(path)).status_code == 410
    forged = await client.post(path, data={"token": token[:-3] + "AAA", "overall": "1"})
    assert forged.status_code in (400, 410)
    assert await Response.count() == 1


async def test_guessed_invitation_links_are_refused_then_rate_limited(client: Any) -> None:
    await open_public_campaign()
    statuses = [(await client.get(f"/i/guess{n:03d}xyz")).status_code for n in range(21)]
    assert statuses[:20] == [404] * 20 and statuses[20] == 429
    assert (await client.post("/i/guess", data={"submit": "all"})).status_code == 429


async def test_forged_window_codes_are_rate_limited(app: Any, client: Any) -> None:
    campaign = await open_public_campaign()
    from pingyi.services.links import window_ref

    ref = window_ref(campaign["campaign_id"], campaign["windows"]["u1-W1"])
    forged = [ref[:-1] + c for c in string.ascii_letters if ref[:-1] + c != ref][:21]
    statuses = [(await client.get(f"/r/{f}")).status_code for f in forged]
    assert statuses[:20] == [404] * 20 and statuses[20] == 429
    # The genuine link still works for another client.
    import httpx

    transport = httpx.ASGITransport(app=app, client=("198.51.100.9", 1))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as other:
        assert (await other.get(f"/r/{ref}")).status_code == 200


async def test_guessed_api_keys_are_refused_then_rate_limited(client: Any) -> None:
    from pingyi.services.devices import add_api_key, add_device

    await open_public_campaign()
    device_key = await add_device("u1-W1")
    await add_api_key("hr-system", ["hr"])
    raw = (await client.get("/api/docs/openapi.json")).json()
    feed = next(p for p in raw["paths"] if p.startswith("/api/v1/campaigns/"))
    url = feed.replace("{code}", "C1")
    # A device key is not an API key.
    wrong_kind = await client.get(url, headers={"authorization": f"Bearer {device_key}"})
    assert wrong_kind.status_code == 401
    statuses = [
        (await client.get(url, headers={"authorization": f"Bearer pyk_{n}"})).status_code
        for n in range(20)
    ]
    assert statuses[:19] == [401] * 19 and statuses[19] == 429


# --------------------------------------------------------------------------- cookies


def _cookie(response: Any, name: str) -> str:
    for header in response.headers.get_list("set-cookie"):
        if header.startswith(name + "="):
            return str(header).lower()
    raise AssertionError(f"no {name} cookie in {response.headers.get_list('set-cookie')}")


async def _signed_in(app: Any, scheme: str = "http") -> tuple[Any, Any]:
    import httpx

    await make_user("cookie", "agency_admin")
    transport = httpx.ASGITransport(app=app, client=("203.0.113.8", 1))
    async with httpx.AsyncClient(transport=transport, base_url=f"{scheme}://testserver") as http:
        page = await http.get("/login")
        done = await login(http, "cookie", "correct horse battery")
    return page, done


async def test_cookies_are_httponly_samesite_and_not_secure_on_plain_http(app: Any) -> None:
    page, done = await _signed_in(app)
    session = _cookie(done, "pingyi_session")
    assert "httponly" in session and "samesite=lax" in session and "secure" not in session
    csrf = _cookie(page, "csrftoken")
    assert "httponly" in csrf and "samesite=strict" in csrf


async def test_cookies_are_secure_when_configured(db: str) -> None:
    import dataclasses

    from pingyi.settings import get_settings
    from pingyi.web.app import create_app

    app = create_app(dataclasses.replace(get_settings(), cookie_secure=True))
    async with app.lifespan():
        page, done = await _signed_in(app, "https")  # a client keeps Secure cookies on https
    session = _cookie(done, "pingyi_session")
    assert "secure" in session and "httponly" in session and "samesite=lax" in session
    assert "secure" in _cookie(page, "csrftoken")


# --------------------------------------------------------------------------- production errors


def test_production_errors_show_no_stack_trace(tmp_path: Path) -> None:
    """A real `pingyi serve` in production mode on a database with no tables: every
    query fails; the visitor sees a plain sentence, never a trace."""
    import httpx

    from live_server import SECRET, LiveServer, server_env
    from pingyi.security import derive_key, sign

    env = server_env(f"sqlite:///{tmp_path / 'empty.db'}", tmp_path, PINGYI_PRODUCTION="1")
    server = LiveServer(env, tmp_path)
    try:
        server.wait_listening()
        ref = sign(derive_key(SECRET, "window-ref"), "c1w1")
        page = httpx.get(f"{server.base}/r/{ref}")
        api = httpx.post(
            f"{server.base}/api/v1/ratings",
            json={
                "client_id": "8d6b4c43-4a37-4f39-9f0e-0b6d5f3c7b10",
                "window": "A",
                "answers": {},
            },
            headers={"authorization": "Bearer pyd_whatever"},
        )
        missing = httpx.get(f"{server.base}/admin/nothing-here")
    finally:
        server.stop()
    assert page.status_code == 500 and api.status_code == 500
    for response in (page, api, missing):
        body = response.text
        for leak in ("Traceback", 'File "', ".py", "sqlite3", "OperationalError", "no such table"):
            assert leak not in body, (leak, body[:300])
    assert "服务暂时不可用" in page.text or "稍后" in page.text
    assert set(api.json()) <= {"status_code", "detail"}
    assert "Traceback" in server.log_path.read_text()  # the trace goes to the log instead
