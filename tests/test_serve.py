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
from live_server import READY_TIMEOUT_S


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310 (local URL)
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def _serve(env: dict[str, str], cwd: Path, *extra: str) -> tuple[subprocess.Popen[bytes], str]:
    """`pingyi serve` as typed, once it answers on its port: no fixed start-up time, a
    generous deadline (a busy machine starts it slowly), its log when it fails."""
    port = _free_port()
    log_path = cwd / f"serve-{port}.log"
    with open(log_path, "wb") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "pingyi.cli", "serve", "--port", str(port), *extra],
            env=env,
            cwd=cwd,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + READY_TIMEOUT_S
    while True:
        if server.poll() is not None:
            raise AssertionError(f"pingyi serve exited:\n{log_path.read_text()[-3000:]}")
        try:
            _get(base + "/healthz")
            return server, base
        except OSError:
            if time.monotonic() > deadline:
                server.kill()
                server.wait()
                raise AssertionError(
                    f"pingyi serve did not listen within {READY_TIMEOUT_S} s:\n"
                    + log_path.read_text()[-3000:]
                ) from None
            time.sleep(0.1)


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
