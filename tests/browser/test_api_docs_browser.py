"""The API documentation renders in a real browser under the app's own CSP, with
nothing loaded from outside, and lists the API operations only (issue 13 item 9)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse


def test_api_docs_render_from_local_files(browser: Any, empty_server: Any, axe: Any) -> None:
    page = browser.new_page()
    requested: list[str] = []
    problems: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.on(
        "console",
        lambda message: problems.append(message.text) if message.type == "error" else None,
    )
    page.goto(f"{empty_server.base}/api/docs")
    page.wait_for_selector(".opblock", timeout=30_000)
    page.click(".opblock-summary-control")  # one operation opened, its form shown
    page.wait_for_selector(".opblock-body")
    axe.check(page)  # again, now that Swagger UI has drawn the operations
    paths = page.locator(".opblock-summary-path").all_inner_texts()
    assert paths and all(p.replace("\u200b", "").startswith("/api/") for p in paths), paths
    assert any("/api/v1/ratings" in p.replace("\u200b", "") for p in paths)
    own = urlparse(empty_server.base).netloc
    assert all(urlparse(url).netloc == own for url in requested), requested
    assert not [p for p in problems if "Content Security Policy" in p], problems
    page.close()
