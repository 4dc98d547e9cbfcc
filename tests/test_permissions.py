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


# What each role may SEE, not only whether the page opens (issue 13 item 2): the
# permission table says a unit leader monitors their own unit only.

OWN_UNIT, OTHER_UNIT = "不动产登记", "社会保障"  # u1 (the leader's) and u2 of the campaign
PUBLIC_TOTAL = re.compile(r"群众评价数: <strong>(\d+)</strong>")


async def _two_units_with_ratings(client: Any) -> dict[str, int]:
    """The campaign of helpers.open_public_campaign with public ratings posted by the
    window devices (3 at u1-W1, 5 at u2-W1, one bad review each); returns the case
    id of each unit."""
    import uuid

    from helpers import open_public_campaign
    from pingyi.db.tables import BadReviewCase
    from pingyi.services.devices import add_device

    await open_public_campaign()
    for window, n in (("u1-W1", 3), ("u2-W1", 5)):
        headers = {"authorization": f"Bearer {await add_device(window)}"}
        for i in range(n):
            level = 1 if i == 0 else 5
            body = {
                "client_id": str(uuid.uuid4()),
                "window": window,
                "answers": {"overall": level, "attitude": level},
            }
            stored = await client.post("/api/v1/ratings", json=body, headers=headers)
            assert stored.status_code == 201, stored.text
    cases = await BadReviewCase.select(BadReviewCase.id, BadReviewCase.unit.code.as_alias("u"))
    return {row["u"]: row["id"] for row in cases}


class _SignedIn:
    """One signed-in browser per user (each its own address: logins are rate limited)."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.clients: dict[str, Any] = {}

    async def get(self, username: str, path: str) -> Any:
        import httpx

        if username not in self.clients:
            transport = httpx.ASGITransport(
                app=self.app, client=(f"203.0.113.{10 + len(self.clients)}", 50000)
            )
            http = httpx.AsyncClient(transport=transport, base_url="http://testserver")
            assert (await login(http, username, PASSWORD)).status_code in (302, 303)
            self.clients[username] = http
        return await self.clients[username].get(path)

    async def close(self) -> None:
        for http in self.clients.values():
            await http.aclose()


# Every GET route a unit leader may open, with what must and must not be on it.
LEADER_VIEWS: dict[str, tuple[list[str], list[str]]] = {
    "/admin": ([], [OTHER_UNIT]),
    "/admin/campaigns": (["C1"], []),
    "/admin/campaigns/{code:str}": (
        [f"{OWN_UNIT}1号窗口", OWN_UNIT],
        [OTHER_UNIT, "被标记的评价占比", "/qr/"],  # no other unit, no campaign-wide figure
    ),
    "/admin/campaigns/{code:str}/indicators": ([f"{OWN_UNIT}1号窗口"], [OTHER_UNIT]),
    "/admin/campaigns/{code:str}/indicators.csv": (["u1-W1"], ["u2-", OTHER_UNIT]),
    "/admin/cases": ([OWN_UNIT], [OTHER_UNIT]),
    "/admin/cases/export": ([OWN_UNIT], [OTHER_UNIT]),
    "/admin/cases/{case_id:int}": ([OWN_UNIT], [OTHER_UNIT]),
    "/me": ([], [OTHER_UNIT]),
}


def _leader_path(route: str, case_id: int) -> str:
    return route.replace("{code:str}", "C1").replace("{case_id:int}", str(case_id))


async def test_a_unit_leader_sees_only_their_own_units_data(app: Any, client: Any) -> None:
    case_of = await _two_units_with_ratings(client)
    await make_user("leader1", "unit_leader", PASSWORD, unit_code="u1")
    await make_user("agency", "agency_admin", PASSWORD)

    # Every page a leader may open is listed above, so a new one needs its data check.
    leader_gets = {
        route.path
        for route in app.routes
        for handler in getattr(route, "route_handlers", [])
        if "GET" in handler.http_methods
        and handler.opt.get("permission")
        in {p for p, r in PERMISSIONS.items() if "unit_leader" in r}
    }
    assert leader_gets == set(LEADER_VIEWS), leader_gets ^ set(LEADER_VIEWS)

    browsers = _SignedIn(app)
    try:
        await _check_leader_views(browsers, case_of)
    finally:
        await browsers.close()


async def _check_leader_views(browsers: _SignedIn, case_of: dict[str, int]) -> None:
    from pingyi.services.org import upsert_unit

    for route, (present, absent) in LEADER_VIEWS.items():
        page = await browsers.get("leader1", _leader_path(route, case_of["u1"]))
        assert page.status_code == 200, (route, page.status_code)
        for text in present:
            assert text in page.text, (route, text)
        for text in absent:
            assert text not in page.text, (route, text)

    # The dashboard's counts are the unit's: 3 public ratings, 1 case; the agency
    # sees the campaign's 8 and both units.
    leader = await browsers.get("leader1", "/admin/campaigns/C1")
    agency = await browsers.get("agency", "/admin/campaigns/C1")
    assert PUBLIC_TOTAL.findall(leader.text) == ["3"]
    assert PUBLIC_TOTAL.findall(agency.text) == ["8"]
    assert "1 / 1" in leader.text and "2 / 2" in agency.text
    assert OTHER_UNIT in agency.text and f"{OTHER_UNIT}1号窗口" in agency.text
    # The other unit's case is not theirs.
    other_case = await browsers.get("leader1", f"/admin/cases/{case_of['u2']}")
    assert other_case.status_code == 404 and OTHER_UNIT not in other_case.text

    # A leader of a unit outside the campaign: the campaign is not theirs to see.
    org = await _organization()
    await upsert_unit(org, "u3", "公安出入境", "Exit-entry", opening_hours="")
    await make_user("leader3", "unit_leader", PASSWORD, unit_code="u3")
    listing = await browsers.get("leader3", "/admin/campaigns")
    assert listing.status_code == 200 and "C1" not in listing.text
    for path in ("/admin/campaigns/C1", "/admin/campaigns/C1/indicators"):
        outside = await browsers.get("leader3", path)
        assert outside.status_code == 404, (path, outside.status_code)
        assert OWN_UNIT not in outside.text and OTHER_UNIT not in outside.text


async def _organization() -> int:
    from pingyi.db.tables import Organization

    row = await Organization.select(Organization.id).first()
    assert row is not None
    return int(row["id"])
