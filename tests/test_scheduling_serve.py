"""`GET /healthz` and `csbot serve`: a real server process, its address, its health."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
from starlette.applications import Starlette

from bot.runtime import Runtime
from bot.scheduling.runner import run_job
from bot.settings import load_settings
from bot.web.health import health_routes

ROOT = Path(__file__).resolve().parents[1]
CSBOT = str(Path(sys.executable).with_name("csbot"))


def get_healthz(runtime: Runtime) -> httpx.Response:
    """GET /healthz through the ASGI app (no server needed for these two tests)."""
    app = Starlette(routes=health_routes(runtime))

    async def call() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://csbot") as client:
            return await client.get("/healthz")

    return asyncio.run(call())


def test_healthz_reports_database_scheduler_and_last_runs(engine, database_url, clock):
    runtime = Runtime(settings=load_settings(database_url=database_url), clock=clock)
    runtime.__dict__["engine"] = engine
    assert run_job(runtime, "deliver").status == "ok"
    response = get_healthz(runtime)
    assert response.status_code == 200
    assert response.json() == {
        "database": "ok",
        "scheduler": "absent",
        "last_runs": {"deliver": "2026-06-01T09:00:00Z"},
    }


def test_healthz_is_503_when_the_database_is_unreachable(clock):
    settings = load_settings(database_url="postgresql+psycopg://csbot@127.0.0.1:1/csbot")
    runtime = Runtime(settings=settings, clock=clock)
    response = get_healthz(runtime)
    assert response.status_code == 503
    assert response.json()["database"] == "unreachable"


def _start(env: dict[str, str]) -> tuple[subprocess.Popen, str]:
    process = subprocess.Popen(
        [CSBOT, "serve", "--host", "127.0.0.1", "--port", "0"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline().strip()
    assert line.startswith("csbot listening on http://127.0.0.1:"), (
        line,
        process.stderr.read() if process.stderr else "",
    )
    return process, line.removeprefix("csbot listening on ")


def _healthz(base: str) -> httpx.Response:
    deadline = time.monotonic() + 10
    while True:
        try:
            return httpx.get(f"{base}/healthz", timeout=5)
        except httpx.ConnectError:  # uvicorn prints nothing until it accepts; retry briefly
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def _database(tmp_path: Path) -> str:
    """A migrated SQLite file, as `csbot db upgrade` leaves it (serve does not create one)."""
    from storage import migrate
    from storage.db import make_engine

    url = f"sqlite:///{tmp_path / 'serve.db'}"
    engine = make_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    return url


def test_serve_prints_its_address_and_a_second_sqlite_instance_gets_no_scheduler(tmp_path):
    env = {key: value for key, value in os.environ.items() if not key.startswith("CSBOT_")} | {
        "CSBOT_DATABASE_URL": _database(tmp_path),
        "PYTHONPATH": str(ROOT),
    }
    first, first_url = _start(env)
    second = None
    try:
        response = _healthz(first_url)
        assert response.status_code == 200
        assert response.json()["database"] == "ok"
        assert response.json()["scheduler"] == "running"

        second, second_url = _start(env)
        assert _healthz(second_url).json()["scheduler"] == "absent"
        second.send_signal(signal.SIGTERM)
        _, errors = second.communicate(timeout=15)
        assert "not starting the scheduler: another csbot" in errors
        assert "SQLite supports one csbot instance" in errors
    finally:
        for process in (first, second):
            if process is not None and process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()
    assert first.returncode == 0  # a clean exit on SIGTERM: scheduler stopped, lease released
    from bot.scheduling import leases
    from bot.scheduling.service import INSTANCE_LEASE
    from storage.db import make_engine

    assert leases.current(make_engine(env["CSBOT_DATABASE_URL"]), INSTANCE_LEASE) is None


def test_serve_http_without_a_bot_token_is_one_line_and_starts_nothing(tmp_path):
    """A signing secret without a bot token (or OAuth client) cannot answer Slack: say so in
    one line before the scheduler or the port start, never a traceback after "listening"."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("CSBOT_")} | {
        "CSBOT_DATABASE_URL": _database(tmp_path),
        "CSBOT_SLACK_SIGNING_SECRET": "a-secret",
        "PYTHONPATH": str(ROOT),
    }
    command = [CSBOT, "serve", "--host", "127.0.0.1", "--port", "0"]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1, done.stderr[-2000:]
    assert "Traceback" not in done.stderr and "listening" not in done.stdout
    assert done.stderr.strip().splitlines()[-1] == (
        "csbot: set CSBOT_SLACK_BOT_TOKEN (one workspace) or CSBOT_SLACK_CLIENT_ID and "
        "CSBOT_SLACK_CLIENT_SECRET (OAuth installs)"
    )
