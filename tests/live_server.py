"""A real `pingyi serve` in a subprocess, on a free port, with a database of its own.

Used by the crash tests and the browser tests. Every server gets its own temporary
folder (SQLite file, data dir) or its own PostgreSQL database, so tests run in
parallel under xdist.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Self, TypeVar

ROOT = Path(__file__).resolve().parents[1]
SECRET = "live-server-secret-" + "s" * 40
# How long a server may take to start: generous, since the waits below return as soon
# as it answers, and a busy machine (two cores, other work running) starts slowly.
READY_TIMEOUT_S = 180.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def server_env(database_url: str, folder: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PINGYI_")}
    env.update(
        {
            "PINGYI_DATABASE_URL": database_url,
            "PINGYI_DATA_DIR": str(folder / "data"),
            "PINGYI_SECRET_KEY": SECRET,
            "PICCOLO_CONF": "pingyi.piccolo_conf",
            **extra,
        }
    )
    return env


def cli(env: dict[str, str], cwd: Path, *args: str, timeout: float = 180) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "pingyi.cli", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert done.returncode == 0, f"pingyi {' '.join(args)} failed:\n{done.stderr[-3000:]}"
    return done.stdout


def seed(env: dict[str, str], cwd: Path, windows: int = 2) -> dict[str, Any]:
    """Migrate, then an open campaign with `windows` windows and a device each (the
    load benchmark's set-up): {"refs": [...], "devices": [[window, key], ...]}."""
    cli(env, cwd, "migrate")
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "load.py"), "_setup", str(windows)],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def status_of(url: str, timeout: float = 5) -> int:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 (local)
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


class LiveServer:
    def __init__(
        self, env: dict[str, str], cwd: Path, workers: int = 1, port: int | None = None
    ) -> None:
        self.env = env
        self.cwd = cwd
        self.port = port or free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = cwd / f"server-{self.port}-{time.monotonic_ns()}.log"
        self._log = open(self.log_path, "wb")  # noqa: SIM115 (closed in stop)
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "pingyi.cli",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--workers",
                str(workers),
                "--no-migrate",
            ],
            env=env,
            cwd=cwd,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_listening(self, timeout: float = READY_TIMEOUT_S) -> None:
        """Until the port answers at all (200 or 503 from /healthz)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"server exited:\n{self.log()}")
            try:
                status_of(self.base + "/healthz", timeout=2)
                return
            except OSError:
                time.sleep(0.1)
        raise AssertionError(f"server did not listen within {timeout} s:\n{self.log()}")

    def wait_healthy(self, timeout: float = READY_TIMEOUT_S) -> None:
        deadline = time.monotonic() + timeout
        self.wait_listening(timeout)
        while time.monotonic() < deadline:
            try:
                if status_of(self.base + "/healthz", timeout=2) == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"server not healthy within {timeout} s:\n{self.log()}")

    def log(self) -> str:
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_text(errors="replace")[-4000:]

    def kill(self) -> None:
        """SIGKILL, no chance to flush or finish anything (the whole process group:
        uvicorn's workers too)."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)
        self._log.close()

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        if not self._log.closed:
            self._log.close()


# --------------------------------------------------------------------------- PostgreSQL


PG_SERVER = os.environ.get("PINGYI_TEST_PG", "postgresql://postgres@127.0.0.1:5432")
T = TypeVar("T")


def run_async(coro: Coroutine[Any, Any, T]) -> T:
    """asyncio.run on a thread of its own: works even where this thread already runs
    an event loop (Playwright's sync API does)."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


async def _pg(statement: str, server: str = PG_SERVER) -> None:
    import asyncpg

    connection = await asyncpg.connect(f"{server}/postgres")
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


def create_pg_database(name: str, server: str = PG_SERVER) -> str:
    run_async(_pg(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', server))
    run_async(_pg(f'CREATE DATABASE "{name}"', server))
    return f"{server}/{name}"


def drop_pg_database(name: str, server: str = PG_SERVER) -> None:
    run_async(_pg(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', server))


def postgres_bin() -> Path | None:
    """The newest /usr/lib/postgresql/<version>/bin with initdb and pg_ctl."""
    found = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda p: [int(x) if x.isdigit() else 0 for x in p.parent.parent.name.split(".")],
    )
    return found[-1].parent if found else None


class PrivateCluster:
    """A PostgreSQL cluster of our own in a temporary folder, on a free port, so a
    test may stop and start it without touching the shared server on 5432.
    PostgreSQL refuses to run as root; then it runs as the `postgres` user."""

    def __init__(self, folder: Path) -> None:
        binaries = postgres_bin()
        assert binaries is not None
        self.bin = binaries
        self.folder = folder
        self.data = folder / "pgdata"
        self.port = free_port()
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}"
        self._as_user: list[str] = []
        if os.geteuid() == 0:
            runuser = shutil.which("runuser")
            assert runuser, "running as root needs runuser to start PostgreSQL as postgres"
            self._as_user = [runuser, "-u", "postgres", "--"]
            folder.chmod(0o777)  # `folder` must sit in a directory postgres can enter
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8")

    def _run(self, tool: str, *args: str) -> None:
        done = subprocess.run(
            [*self._as_user, str(self.bin / tool), *args],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            cwd=self.folder,
        )
        assert done.returncode == 0, f"{tool} failed: {done.stdout[-2000:]}{done.stderr[-2000:]}"

    def start(self) -> None:
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.folder} "
            "-c fsync=on -c max_connections=100"
        )
        self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-o",
            options,
            "-l",
            str(self.folder / "pg.log"),
            "-w",
            "start",
        )

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")

    def ensure_stopped(self) -> None:
        if (self.data / "postmaster.pid").exists():
            subprocess.run(
                [
                    *self._as_user,
                    str(self.bin / "pg_ctl"),
                    "-D",
                    str(self.data),
                    "-m",
                    "immediate",
                    "-w",
                    "stop",
                ],
                capture_output=True,
                timeout=60,
                check=False,
            )


class BackgroundClients:
    """Clients posting from a thread of their own until told to stop: ``senders``
    coroutines share one httpx client. Subclasses write ``_sender``."""

    http_timeout = 10.0

    def __init__(self, senders: int) -> None:
        self.senders = senders
        self._stop = threading.Event()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._main()), daemon=True)

    def start(self) -> Self:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=60)
        assert not self._thread.is_alive()

    async def _main(self) -> None:
        import httpx

        async with httpx.AsyncClient(timeout=self.http_timeout) as http:
            await asyncio.gather(*(self._sender(http, n) for n in range(self.senders)))

    async def _sender(self, http: Any, n: int) -> None:
        raise NotImplementedError
