"""axe-core on every page the browser tests visit (WCAG 2.0/2.1, levels A and AA).

`instrument(monkeypatch)` wraps Playwright's navigation calls for one test: after `goto`,
`reload`, `go_back`, `go_forward` and at the end of `with page.expect_navigation():`
the page is audited, and a violation fails the test there, naming the page, the
rule and the elements. A document reached another way (a click without
`expect_navigation`) is audited before the page's next navigation or before it is
closed; `Audit.failures` holds what those late audits found, and the fixture fails
the test with it.

axe-core comes from the npm registry, pinned by package-lock.json beside this file
(`scripts/test` runs `npm ci` here). It is evaluated through the DevTools protocol,
so the app's Content-Security-Policy does not stop it and the pages stay unchanged.
Without JavaScript a page cannot run axe (its timers never fire): such a page's
DOM is copied into a page with JavaScript at the same address (same stylesheets)
and audited there.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

AXE_JS = Path(__file__).with_name("node_modules") / "axe-core" / "axe.min.js"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]

_RUN = """async only => {
  const result = await axe.run(document, {runOnly: only, resultTypes: ['violations']});
  return result.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map(n => ({target: n.target.join(' '), summary: n.failureSummary}))}));
}"""


def axe_source() -> str:
    if not AXE_JS.exists():
        pytest.fail(f"no axe-core at {AXE_JS}: run `npm ci` in tests/browser (scripts/test does)")
    return AXE_JS.read_text(encoding="utf-8")


def describe(url: str, violations: list[dict[str, Any]]) -> str:
    """A readable list: one block per rule, its elements under it."""
    lines = [f"axe-core: {len(violations)} WCAG 2.1 A/AA violation(s) on {url}"]
    for v in violations:
        lines.append(f"- {v['id']} ({v['impact']}): {v['help']}")
        for node in v["nodes"][:8]:
            summary = " ".join(str(node["summary"] or "").split())
            lines.append(f"    {node['target']}: {summary[:300]}")
        if len(v["nodes"]) > 8:
            lines.append(f"    ... and {len(v['nodes']) - 8} more")
    return "\n".join(lines)


@dataclass
class Audit:
    """What was audited in one test, and what the late audits found."""

    source: str
    audited: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    _js_off: set[int] = field(default_factory=set)  # ids of contexts without JavaScript
    _stale: dict[int, bool] = field(default_factory=dict)  # page id -> loaded, not audited
    _mirror: Any = None
    _originals: dict[str, Callable[..., Any]] = field(default_factory=dict)

    def check(self, page: Any) -> None:
        """Audit the page as it is now; raise AssertionError on any violation."""
        url = page.url.split("#")[0]
        self._stale[id(page)] = False
        if not url.startswith("http"):
            return
        violations = self.violations(page, {"type": "tag", "values": TAGS})
        self.audited.append(url)
        if violations:
            raise AssertionError(describe(url, violations))

    def violations(self, page: Any, only: dict[str, Any]) -> list[dict[str, Any]]:
        """axe-core's violations of the rules `only` selects (its runOnly option),
        e.g. {"type": "rule", "values": ["color-contrast-enhanced"]}."""
        url = page.url.split("#")[0]
        target = self._mirrored(page, url) if id(page.context) in self._js_off else page
        if target.evaluate("typeof window.axe") == "undefined":
            target.evaluate(self.source)
        return list(target.evaluate(_RUN, only))

    def catch_up(self, page: Any) -> None:
        """Audit a document reached without an audited navigation, before it goes."""
        if not self._stale.get(id(page)) or page.is_closed():
            return
        try:
            self.check(page)
        except AssertionError as error:
            self.failures.append(str(error))

    def track(self, page: Any) -> None:
        page.on("load", lambda loaded: self._stale.__setitem__(id(loaded), True))

    def _mirrored(self, page: Any, url: str) -> Any:
        html = page.content()
        if self._mirror is None:
            browser = page.context.browser
            self._mirror = self._originals["new_page"](browser)
        mirror = self._mirror
        mirror.set_viewport_size(page.viewport_size or {"width": 1280, "height": 900})

        def same(address: str) -> bool:
            return address.split("#")[0] == url

        def serve(route: Any) -> None:
            route.fulfill(status=200, content_type="text/html; charset=utf-8", body=html)

        mirror.route(same, serve)
        try:
            self._originals["goto"](mirror, url)
        finally:
            mirror.unroute(same, serve)
        return mirror


class _AuditedNavigation:
    """`page.expect_navigation()` that audits the page it arrives at."""

    def __init__(self, inner: Any, page: Any, audit: Audit) -> None:
        self._inner, self._page, self._audit = inner, page, audit

    def __enter__(self) -> Any:
        self._audit.catch_up(self._page)
        return self._inner.__enter__()

    def __exit__(self, kind: Any, error: Any, trace: Any) -> Any:
        result = self._inner.__exit__(kind, error, trace)
        if kind is None:
            self._audit.check(self._page)
        return result


def instrument(monkeypatch: pytest.MonkeyPatch) -> Audit:
    """Playwright's navigation wrapped for one test (monkeypatch undoes it)."""
    from playwright.sync_api import Browser, BrowserContext, Page

    audit = Audit(axe_source())
    originals = {
        "goto": Page.goto,
        "new_page": Browser.new_page,
        "new_context": Browser.new_context,
    }
    audit._originals = originals

    def navigating(name: str) -> Callable[..., Any]:
        original = getattr(Page, name)

        def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
            audit.catch_up(self)
            response = original(self, *args, **kwargs)
            audit.check(self)
            return response

        return wrapper

    for name in ("goto", "reload", "go_back", "go_forward"):
        monkeypatch.setattr(Page, name, navigating(name))

    expect_navigation = Page.expect_navigation
    monkeypatch.setattr(
        Page,
        "expect_navigation",
        lambda self, *a, **k: _AuditedNavigation(expect_navigation(self, *a, **k), self, audit),
    )

    def new_context(self: Any, *args: Any, **kwargs: Any) -> Any:
        context = originals["new_context"](self, *args, **kwargs)
        if kwargs.get("java_script_enabled") is False:
            audit._js_off.add(id(context))
        context.on("page", audit.track)
        return context

    def new_page(self: Any, *args: Any, **kwargs: Any) -> Any:
        page = originals["new_page"](self, *args, **kwargs)
        if kwargs.get("java_script_enabled") is False:
            audit._js_off.add(id(page.context))
        audit.track(page)
        return page

    page_close, context_close = Page.close, BrowserContext.close

    def close_page(self: Any, *args: Any, **kwargs: Any) -> Any:
        audit.catch_up(self)
        return page_close(self, *args, **kwargs)

    def close_context(self: Any, *args: Any, **kwargs: Any) -> Any:
        for page in self.pages:
            audit.catch_up(page)
        return context_close(self, *args, **kwargs)

    monkeypatch.setattr(Browser, "new_context", new_context)
    monkeypatch.setattr(Browser, "new_page", new_page)
    monkeypatch.setattr(Page, "close", close_page)
    monkeypatch.setattr(BrowserContext, "close", close_context)
    return audit
