"""Schemathesis against the app's own OpenAPI schema (/api/docs/openapi.json), in
process: no operation answers 5xx, whatever it is sent.

Cases are generated from the schema with hypothesis (a bounded number per
operation) and sent through the suite's in-loop client, with real credentials so
the authenticated paths run: a device key for the device API and an API key with
the hr scope for the scoring feed. The schema publishes the /api/ routes only; the
pages and forms are fuzzed in test_fuzz_forms.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings

from helpers import open_public_campaign

pytestmark = pytest.mark.anyio

EXAMPLES_API = 40  # per operation


def _cases(operation: Any, count: int) -> list[Any]:
    cases: list[Any] = []

    @settings(
        max_examples=count,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
        derandomize=True,  # the same cases every run: a failure is reproducible
    )
    @given(case=operation.as_strategy())
    def collect(case: Any) -> None:
        cases.append(case)

    collect()
    return cases


async def _send(client: Any, case: Any, headers: dict[str, str]) -> Any:
    kwargs = case.as_transport_kwargs(base_url="http://testserver", headers=headers)
    request: dict[str, Any] = {
        "headers": {
            k: v
            for k, v in kwargs.get("headers", {}).items()
            if k.lower() not in ("connection", "accept-encoding")
        },
        "params": kwargs.get("params") or None,
    }
    if "json" in kwargs:
        request["content"] = json.dumps(kwargs["json"]).encode()
        request["headers"]["content-type"] = "application/json"
    elif "data" in kwargs:
        data = kwargs["data"]
        if isinstance(data, dict):
            request["data"] = data
        else:
            request["content"] = data if isinstance(data, bytes) else str(data).encode()
    elif "content" in kwargs:
        request["content"] = kwargs["content"]
    return await client.request(kwargs["method"], kwargs["url"], **request)


async def test_no_operation_answers_5xx(client: Any) -> None:
    from pingyi.services.devices import add_api_key, add_device

    await open_public_campaign()
    device_key = await add_device("u1-W1", "fuzz")
    api_key = await add_api_key("fuzz", ["hr"])

    raw = (await client.get("/api/docs/openapi.json")).json()
    schema = schemathesis.openapi.from_dict(raw)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert any(op.path == "/api/v1/ratings" for op in operations)
    # Only the API is published: no console page, no sign-in form.
    assert all(op.path.startswith("/api/") for op in operations), [op.path for op in operations]

    failures: list[str] = []
    seen: dict[str, set[int]] = {}
    sent = 0
    for operation in operations:
        if operation.path.startswith("/api/v1/campaigns"):
            auth = {"authorization": f"Bearer {api_key}"}
        else:
            auth = {"authorization": f"Bearer {device_key}"}
        for n, case in enumerate(_cases(operation, EXAMPLES_API)):
            if operation.path == "/api/v1/ratings" and isinstance(case.body, dict) and n % 2:
                # Half the ratings name the device's own window, some with valid answers,
                # so generated staff codes, tickets and comments reach the deeper checks.
                case.body["window"] = "u1-W1"
                if n % 4 == 3:
                    case.body["answers"] = {"overall": 1 + n % 5, "attitude": 1 + n % 3}
            response = await _send(client, case, auth)
            sent += 1
            seen.setdefault(f"{operation.method.upper()} {operation.path}", set()).add(
                response.status_code
            )
            if response.status_code >= 500:
                failures.append(
                    f"{operation.method.upper()} {case.formatted_path} -> "
                    f"{response.status_code}: {case.as_curl_command()}"
                )
            elif response.status_code >= 400:
                # API errors are JSON a client can act on, never an HTML page.
                assert response.headers["content-type"].startswith("application/json")
                assert "detail" in response.json()
    assert sent > 100
    # The credentials worked: requests got past authentication into validation.
    assert seen["POST /api/v1/ratings"] - {401, 422, 429}, seen["POST /api/v1/ratings"]
    assert not failures, "\n".join(failures[:20])
