"""Walk every admin route as every role and check it against the permission table."""

from __future__ import annotations

import re
from typing import Any

import pytest

from helpers import csrf_from, login, make_minimal_org, make_user
from pingyi.db.tables import ADMIN_ROLES
from pingyi.permissions import PERMISSIONS

pytestmark = pytest.mark.anyio

PASSWORD = "correct horse battery"


def admin_routes(app: Any) -> list[tuple[str, str, str]]:
    """(method, path, permission) for every handler behind the role check."""
    found = []
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            permission = handler.opt.get("permission")
            if permission is None:
                continue
            for method in sorted(handler.http_methods):
                if method in ("HEAD", "OPTIONS"):
                    continue
                path = re.sub(r"\{[^}]+\}", "1", route.path)
                found.append((method, path, permission))
    return sorted(found)


async def _setup_users() -> None:
    unit_code, staff_code = await make_minimal_org()
    for role in ADMIN_ROLES:
        await make_user(
            f"u_{role}",
            role,
            PASSWORD,
            staff_code=staff_code if role == "staff" else None,
            unit_code=unit_code if role == "unit_leader" else None,
        )


async def test_every_admin_route_names_a_known_permission(app: Any) -> None:
    routes = admin_routes(app)
    assert len(routes) >= 1
    for _, path, permission in routes:
        assert permission in PERMISSIONS, (path, permission)


async def test_every_admin_route_as_every_role(app: Any, client: Any) -> None:
    await _setup_users()
    routes = admin_routes(app)
    for role in ADMIN_ROLES:
        client.cookies.clear()
        assert (await login(client, f"u_{role}", PASSWORD)).status_code in (302, 303)
        token = csrf_from((await client.get("/admin")).text)
        for method, path, permission in routes:
            if path == "/logout":
                continue
            if method == "GET":
                response = await client.get(path)
            else:
                response = await client.request(method, path, data={"_csrf_token": token})
            expected_allowed = role in PERMISSIONS[permission]
            if expected_allowed:
                assert response.status_code != 403, (role, method, path, response.text[:200])
                assert response.status_code < 500, (role, method, path, response.text[:300])
            else:
                assert response.status_code == 403, (role, method, path, response.status_code)


async def test_anonymous_gets_no_admin_route(app: Any, client: Any) -> None:
    for method, path, _ in admin_routes(app):
        response = await client.request(method, path)
        assert response.status_code in (302, 303, 401, 403), (method, path)
