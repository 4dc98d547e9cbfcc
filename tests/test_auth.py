"""Sign-in, sessions, CSRF, the login rate limit and health."""

from __future__ import annotations

from typing import Any

import pytest

from helpers import csrf_from, login, make_user

pytestmark = pytest.mark.anyio


async def test_login_page_is_chinese_by_default_and_english_on_request(client: Any) -> None:
    page = await client.get("/login")
    assert page.status_code == 200
    assert "登录" in page.text and 'lang="zh-CN"' in page.text
    english = await client.get("/login?lang=en")
    assert "Sign in" in english.text and 'lang="en"' in english.text


async def test_agency_admin_signs_in_and_out(client: Any) -> None:
    await make_user("alice", "agency_admin")
    response = await login(client, "alice", "correct horse battery")
    assert response.status_code in (302, 303)
    assert response.headers["location"] == "/admin"
    cookie = response.headers.get("set-cookie", "")
    assert "pingyi_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    home = await client.get("/admin")
    assert home.status_code == 200 and "alice" in home.text
    logout = await client.post("/logout", data={"_csrf_token": csrf_from(home.text)})
    assert logout.status_code in (302, 303)
    assert (await client.get("/admin")).status_code in (302, 303)


async def test_sign_in_issues_a_fresh_session_id(client: Any) -> None:
    await make_user("alice", "agency_admin")
    planted = "a" * 64  # an ID an attacker set in the victim's browser (session fixation)
    client.cookies.set("pingyi_session", planted)
    await client.get("/login")
    response = await login(client, "alice", "correct horse battery")
    issued = response.headers["set-cookie"].split("pingyi_session=", 1)[1].split(";", 1)[0]
    assert response.status_code in (302, 303) and issued and issued != planted
    client.cookies.clear()
    client.cookies.set("pingyi_session", issued)
    assert (await client.get("/admin")).status_code == 200
    client.cookies.clear()
    client.cookies.set("pingyi_session", planted)
    assert (await client.get("/admin")).status_code in (302, 303)  # the planted ID is nobody


async def test_passwords_are_stored_as_argon2(db: str) -> None:
    from pingyi.db.tables import AdminUser

    await make_user("bob", "hr")
    row = await AdminUser.select(AdminUser.password_hash).where(AdminUser.username == "bob").first()
    assert row["password_hash"].startswith("$argon2id$")


async def test_wrong_password_is_refused_with_a_message(client: Any) -> None:
    await make_user("alice", "agency_admin")
    response = await login(client, "alice", "wrong password!")
    assert response.status_code == 400
    assert "用户名或密码错误" in response.text
    assert (await client.get("/admin")).status_code in (302, 303)


async def test_post_without_csrf_token_is_refused(client: Any) -> None:
    await make_user("alice", "agency_admin")
    await client.get("/login")
    response = await client.post(
        "/login", data={"username": "alice", "password": "correct horse battery"}
    )
    assert response.status_code == 403
    assert "表单已过期" in response.text
    forged = await client.post(
        "/login",
        data={"username": "alice", "password": "correct horse battery", "_csrf_token": "forged"},
    )
    assert forged.status_code == 403


async def test_login_is_rate_limited(client: Any) -> None:
    from pingyi.settings import get_settings

    await make_user("alice", "agency_admin")
    limit = get_settings().login_limit_per_minute
    statuses = [
        (await login(client, "alice", "guess-guess-guess")).status_code for _ in range(limit + 1)
    ]
    assert statuses[:limit] == [400] * limit
    assert statuses[-1] == 429
    # Even the right password waits now: a guesser cannot keep trying.
    assert (await login(client, "alice", "correct horse battery")).status_code == 429


async def test_open_redirect_is_not_followed(client: Any) -> None:
    await make_user("alice", "agency_admin")
    page = await client.get("/login")
    response = await client.post(
        "/login",
        data={
            "username": "alice",
            "password": "correct horse battery",
            "_csrf_token": csrf_from(page.text),
            "next": "//evil.example/",
        },
    )
    assert response.headers["location"] == "/admin"


async def test_anonymous_visitor_is_sent_to_login(client: Any) -> None:
    response = await client.get("/admin")
    assert response.status_code in (302, 303)
    assert response.headers["location"].startswith("/login")


async def test_healthz_is_200_with_the_database(client: Any) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["database"] == "ok"


async def test_security_headers_are_set(client: Any) -> None:
    response = await client.get("/login")
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["referrer-policy"] == "no-referrer"


async def test_pages_are_never_stored_but_static_assets_are(client: Any) -> None:
    """A console page on a hall's shared computer must not come back from the
    browser's cache after logout (Back); styles may be cached."""
    await make_user("alice", "agency_admin")
    await login(client, "alice", "correct horse battery")
    home = await client.get("/admin")
    assert home.status_code == 200
    assert home.headers.get_list("cache-control") == ["no-store"]
    feed = await client.get("/healthz")
    assert feed.headers["cache-control"] == "no-store"
    style = await client.get("/static/app.css")
    assert style.status_code == 200
    assert style.headers.get_list("cache-control") == ["max-age=3600, public"]


async def test_the_bare_address_leads_to_the_console_login(client: Any) -> None:
    root = await client.get("/", follow_redirects=False)
    assert root.status_code in (302, 303) and root.headers["location"] == "/admin"
    page = await client.get("/", follow_redirects=True)
    assert page.status_code == 200 and 'name="password"' in page.text
