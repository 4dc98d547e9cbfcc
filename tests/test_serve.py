"""The README's promise, as a new user would try it: `pingyi demo && pingyi serve`."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from conftest import ENGINE


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 (local URL)
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def _serve(env: dict[str, str], cwd: Path, *extra: str) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "pingyi.cli", "serve", "--port", str(port), *extra],
        env=env,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            _get(base + "/healthz")
            break
        except OSError:
            time.sleep(0.1)
    return server, base


@pytest.mark.skipif(ENGINE != "sqlite", reason="runs once, on the README's SQLite default")
def test_demo_then_serve_shows_login_and_health(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PINGYI_")}
    env["PINGYI_DATA_DIR"] = str(tmp_path / "data")
    demo = subprocess.run(
        [sys.executable, "-m", "pingyi.cli", "demo"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert demo.returncode == 0, demo.stderr
    assert "admin" in demo.stdout and "agency_admin" in demo.stdout
    assert (tmp_path / "pingyi.db").exists()
    again = subprocess.run(
        [sys.executable, "-m", "pingyi.cli", "demo"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert again.returncode == 0 and "already loaded" in again.stdout
    server, base = _serve(env, tmp_path)
    try:
        assert _get(base + "/healthz")[0] == 200
        status, page = _get(base + "/login")
        assert status == 200 and "登录" in page
    finally:
        server.kill()
        server.wait()


def test_healthz_is_503_when_the_database_is_unreachable(tmp_path: Path) -> None:
    env = {**os.environ, "PINGYI_DATABASE_URL": "postgresql://postgres@127.0.0.1:1/nowhere"}
    server, base = _serve(env, tmp_path, "--no-migrate")
    try:
        status, body = _get(base + "/healthz")
        assert status == 503 and "unavailable" in body
    finally:
        server.kill()
        server.wait()
