"""What arrives before any parsing or signing-in: oversized, over-long, deeply nested
or non-ASCII input, control characters, forged CSRF tokens of every shape. Each is
a 4xx with a sentence for a person (issue 13 items 4, 5, 6, 8, 10), nothing is
stored, and the app stays responsive."""

from __future__ import annotations

import dataclasses
import re
import uuid
from typing import Any

import pytest

from helpers import csrf_from, login, make_user, open_public_campaign

pytestmark = pytest.mark.anyio


async def _stored() -> dict[str, int]:
    from pingyi.db.tables import Answer, PressureReport, Response, Staff, Unit

    return {
        t._meta.tablename: int(await t.count())
        for t in (Response, Answer, PressureReport, Unit, Staff)
    }


async def _rating_page(client: Any, campaign: dict[str, Any]) -> tuple[str, str]:
    from pingyi.services.links import window_url

    path = window_url(campaign["campaign_id"], campaign["windows"]["u1-W1"]).removeprefix(
        "http://127.0.0.1:8000"
    )
    page = await client.get(path)
    token = re.search(r'name="token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    return path, token


# --------------------------------------------------------------------------- item 4


async def test_non_ascii_signed_tokens_are_refused_not_crashed(client: Any) -> None:
    campaign = await open_public_campaign()
    path, _ = await _rating_page(client, campaign)
    before = await _stored()
    forged = "评" * 40 + ".签名"
    assert (await client.get(f"/r/{forged}")).status_code == 404
    assert (await client.post(f"/r/{forged}", data={"overall": "5"})).status_code == 404
    assert (await client.get(f"/t/{forged}")).status_code == 404
    assert (await client.get(f"/i/{forged}")).status_code == 404
    # A non-ASCII form token on a genuine window link: a fresh form, nothing stored.
    wrong = await client.post(path, data={"token": forged, "overall": "5", "item_attitude": "5"})
    assert wrong.status_code == 400 and "页面已过期" in wrong.text
    assert (await client.post("/p", data={"token": forged, "text": "x"})).status_code == 400
    assert await _stored() == before


async def test_non_ascii_or_file_csrf_tokens_are_403(client: Any) -> None:
    await open_public_campaign()
    await client.get("/login")  # the CSRF cookie
    long_non_ascii = "令牌" * 200
    refused = await client.post(
        "/login", data={"username": "a", "password": "b", "_csrf_token": long_non_ascii}
    )
    assert refused.status_code == 403 and "表单已过期" in refused.text
    header = await client.post("/logout", headers={"x-csrftoken": ("é" * 130).encode()})
    assert header.status_code == 403
    await make_user("admin", "agency_admin")
    assert (await login(client, "admin", "correct horse battery")).status_code in (302, 303)
    before = await _stored()
    for data in ({"_csrf_token": long_non_ascii, "code": "u9", "name": "新"},):
        assert (await client.post("/admin/org/units/new", data=data)).status_code == 403
    as_file = await client.post(
        "/admin/org/import",
        files={
            "_csrf_token": ("token.txt", b"not a token", "text/plain"),
            "file": ("org.csv", "单位编码\n".encode(), "text/csv"),
        },
    )
    assert as_file.status_code == 403 and "表单已过期" in as_file.text
    # A cookie that is not ASCII either.
    cookie = (
        "csrftoken=" + "饼干" * 70 + "; " + "; ".join(f"{k}={v}" for k, v in client.cookies.items())
    )
    refused = await client.post(
        "/logout", data={"_csrf_token": "a" * 128}, headers={"cookie": cookie.encode()}
    )
    assert refused.status_code == 403
    assert await _stored() == before


# --------------------------------------------------------------------------- item 5


async def test_deeply_nested_json_is_400_with_or_without_a_key(client: Any) -> None:
    from pingyi.services.devices import add_device

    await open_public_campaign()
    key = await add_device("u1-W1", "counter")
    deep = b"[" * 1000 + b"]" * 1000
    deep_object = b'{"a":' * 1000 + b"1" + b"}" * 1000
    for path in ("/api/v1/ratings", "/api/v1/tickets"):
        for body in (deep, deep_object):
            anonymous = await client.post(
                path, content=body, headers={"content-type": "application/json"}
            )
            assert anonymous.status_code == 401, anonymous.text  # no key, nothing parsed
            keyed = await client.post(
                path,
                content=body,
                headers={"content-type": "application/json", "authorization": f"Bearer {key}"},
            )
            assert keyed.status_code == 400, keyed.text
            assert keyed.json()["detail"].startswith("提交的数据嵌套层级过深")
        # The content type does not matter: the body is checked all the same.
        plain = await client.post(
            path,
            content=deep,
            headers={"content-type": "text/plain", "authorization": f"Bearer {key}"},
        )
        assert plain.status_code == 400
        big = await client.post(
            path,
            # beyond any API route's limit (a queue system's ticket batch takes 128 KB)
            content=b'{"comment": "' + b"x" * 200_000 + b'"}',
            headers={"content-type": "application/json", "authorization": f"Bearer {key}"},
        )
        assert big.status_code == 413 and "过大" in big.json()["detail"]
    assert (await _stored())["response"] == 0
    # An honest rating still goes through.
    ok = await client.post(
        "/api/v1/ratings",
        json={
            "client_id": str(uuid.uuid4()),
            "window": "u1-W1",
            "answers": {"overall": 5, "attitude": 4},
        },
        headers={"authorization": f"Bearer {key}", "accept-language": "en"},
    )
    assert ok.status_code == 201, ok.text


# --------------------------------------------------------------------------- item 6


async def test_oversized_forms_are_refused_before_parsing(client: Any) -> None:
    campaign = await open_public_campaign()
    path, token = await _rating_page(client, campaign)
    before = await _stored()
    many = b"&".join([b"a"] * 3001)  # more fields than any citizen or peer form has
    huge = b"comment=" + b"x" * 100_000
    form = {"content-type": "application/x-www-form-urlencoded"}
    for route in (path, "/p", "/login", "/i/whatever"):
        response = await client.post(route, content=many, headers=form)
        assert response.status_code == 413, (route, response.status_code)
        assert "字段过多" in response.text
        response = await client.post(route, content=huge + b"x" * 600_000, headers=form)
        assert response.status_code == 413, (route, response.status_code)
        assert "过大" in response.text

    # Without a Content-Length (a chunked upload) the count still stops it.
    async def chunks() -> Any:
        for _ in range(100):
            yield b"&a=1" * 1000

    streamed = await client.post(path, content=chunks(), headers=form)
    assert streamed.status_code == 413
    # English on request.
    english = await client.post(path, content=many, headers={**form, "cookie": "lang=en"})
    assert "Too many fields" in english.text
    # Console forms have room for more, but not for a million fields.
    await make_user("admin", "agency_admin")
    await login(client, "admin", "correct horse battery")
    csrf = csrf_from((await client.get("/admin/org")).text)
    flood = (f"_csrf_token={csrf}&" + "&".join("a=1" for _ in range(20_000))).encode()
    assert (
        await client.post("/admin/org/units/new", content=flood, headers=form)
    ).status_code == 413
    assert await _stored() == before
    # The honest citizen is served as before.
    done = await client.post(path, data={"token": token, "overall": "5", "item_attitude": "5"})
    assert done.status_code == 200 and "感谢" in done.text


# --------------------------------------------------------------------------- item 8


async def test_control_characters_are_refused_the_same_on_every_database(client: Any) -> None:
    from pingyi.services.devices import add_device

    campaign = await open_public_campaign()
    path, token = await _rating_page(client, campaign)
    key = await add_device("u1-W1", "counter")
    before = await _stored()
    for bad in ("评语\x00", "a\x01b", "\x1b[31m", "x\x7f"):
        citizen = await client.post(
            path, data={"token": token, "overall": "5", "item_attitude": "5", "comment": bad}
        )
        assert citizen.status_code == 400, citizen.status_code
        assert "控制字符" in citizen.text
        pressure = await client.post("/p", data={"token": "x", "text": bad})
        assert pressure.status_code == 400 and "控制字符" in pressure.text
        device = await client.post(
            "/api/v1/ratings",
            json={
                "client_id": str(uuid.uuid4()),
                "window": "u1-W1",
                "answers": {"overall": 5, "attitude": 4},
                "comment": bad,
            },
            headers={"authorization": f"Bearer {key}"},
        )
        assert device.status_code == 400 and "控制字符" in device.json()["detail"]
    raw = await client.post(
        path,
        content=b"token=x&comment=a\x00b",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert raw.status_code == 400
    assert (await client.get("/admin/campaigns?q=%00")).status_code == 400
    await make_user("admin", "agency_admin")
    await login(client, "admin", "correct horse battery")
    csrf = csrf_from((await client.get("/admin/org")).text)
    console = await client.post(
        "/admin/org/units/new", data={"_csrf_token": csrf, "code": "u9", "name": "新\x00单位"}
    )
    assert console.status_code == 400 and "控制字符" in console.text
    assert await _stored() == before
    # Tabs and line breaks are ordinary text; a backslash before "u0000" is too.
    kept = await client.post(
        path,
        data={
            "token": token,
            "overall": "5",
            "item_attitude": "5",
            "comment": "第一行\r\n\t第二行",
        },
    )
    assert kept.status_code == 200
    literal = await client.post(
        "/api/v1/ratings",
        json={
            "client_id": str(uuid.uuid4()),
            "window": "u1-W1",
            "answers": {"overall": 4, "attitude": 4},
            "comment": "C:\\u0000",
        },
        headers={"authorization": f"Bearer {key}"},
    )
    assert literal.status_code == 201, literal.text
    from pingyi.db.tables import Response

    comments = sorted(r["comment"] for r in await Response.select(Response.comment))
    assert comments == ["C:\\u0000", "第一行\r\n\t第二行"]


async def test_control_characters_in_an_imported_file_are_refused(client: Any) -> None:
    await make_user("admin", "agency_admin")
    await login(client, "admin", "correct horse battery")
    csrf = csrf_from((await client.get("/admin/org")).text)
    before = await _stored()
    content = "类型,编码,名称\n单位,u7,不动产\x00登记\n".encode()
    response = await client.post(
        "/admin/org/import",
        data={"_csrf_token": csrf},
        files={"file": ("org.csv", content, "text/csv")},
    )
    assert response.status_code == 400 and "control characters" in response.text
    assert await _stored() == before


# --------------------------------------------------------------------------- item 10


async def test_hsts_in_production_only(db: str) -> None:
    import httpx

    from pingyi.settings import get_settings
    from pingyi.web.app import create_app

    # One app at a time: their lifespans share the engine's pool, and a second one
    # inside the first would close the first's pool on its way out.
    for production in (False, True):
        settings = dataclasses.replace(
            get_settings(), production=production, cookie_secure=production
        )
        app = create_app(settings)
        async with app.lifespan():
            transport = httpx.ASGITransport(app=app, client=("203.0.113.9", 1))
            async with httpx.AsyncClient(
                transport=transport, base_url="https://testserver"
            ) as http:
                for response in (
                    await http.get("/login"),
                    await http.get("/no/such/page"),
                    await http.post("/api/v1/ratings", json={}),
                    await http.get("/healthz"),
                ):
                    hsts = response.headers.get("strict-transport-security", "")
                    if production:
                        assert hsts.startswith("max-age=31536000"), response.request.url
                    else:
                        assert hsts == "", response.request.url


# --------------------------------------------------------------------------- item 9


async def test_api_docs_are_local_and_publish_only_the_api(client: Any) -> None:
    page = await client.get("/api/docs")
    assert page.status_code == 200
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert "<script>" not in page.text  # no inline script: the CSP would block it
    assets = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert len(assets) >= 3
    for asset in assets:
        assert asset.startswith("/") and not asset.startswith("//"), asset
        assert (await client.get(asset)).status_code == 200, asset
    schema = (await client.get("/api/docs/openapi.json")).json()
    assert schema["paths"] and all(path.startswith("/api/") for path in schema["paths"])
    for console in ("/login", "/logout", "/admin", "/admin/campaigns", "/r/{ref}", "/p"):
        assert console not in schema["paths"]
