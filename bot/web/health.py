"""`GET /healthz`: is the database reachable, is the scheduler running, when did each job
last succeed. 200 when the database answers, 503 otherwise (load balancers and
orchestrators restart or route around the process on 503).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from bot.runtime import Runtime
from bot.scheduling.runner import last_runs


def scheduler_state(scheduler: Any) -> str:
    """running | stopped | absent, for our CsbotScheduler or a bare APScheduler."""
    if scheduler is None:
        return "absent"
    state = getattr(scheduler, "state", None)
    if isinstance(state, str):
        return state
    from apscheduler.schedulers.base import STATE_RUNNING

    return "running" if state == STATE_RUNNING else "stopped"


def health_report(runtime: Runtime, scheduler: Any = None) -> tuple[int, dict[str, Any]]:
    """(HTTP status, body). Never raises: an unreachable database is the 503 answer."""
    body: dict[str, Any] = {"scheduler": scheduler_state(scheduler)}
    try:
        engine = runtime.engine
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as error:  # any failure to reach the database is "unreachable"
        body.update(database="unreachable", error=type(error).__name__)
        return 503, body
    body["database"] = "ok"
    try:
        body["last_runs"] = {
            job: run.finished_at.isoformat(timespec="seconds") + "Z"
            for job, run in sorted(last_runs(runtime).items())
            if run.finished_at is not None
        }
    except Exception as error:  # job_runs unreadable (schema behind): say so, still 200
        body["last_runs"] = {}
        body["last_runs_error"] = type(error).__name__
    return 200, body


def health_routes(runtime: Runtime, scheduler: Any = None) -> list[Route]:
    async def healthz(request: Request) -> JSONResponse:
        status, body = await run_in_threadpool(health_report, runtime, scheduler)
        return JSONResponse(body, status_code=status, headers={"Cache-Control": "no-store"})

    return [Route("/healthz", healthz, methods=["GET"])]
