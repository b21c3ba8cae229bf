"""One guarded run of a job: lease, slot check, job_runs row, structured log line.

Several replicas share one PostgreSQL database and one APScheduler job store, so every
replica fires every job. Only the one holding the job's lease (`job:<name>` in
job_leases, renewed every 20 s while it works, lapsing 60 s after its holder dies) runs
it. A replica that finds the lease held either skips (frequent jobs) or waits: when the
holder finishes, the occurrence (`slot`) is already done and it skips; when the holder
died, the lease lapses and it takes the job over — within a minute.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col, select

from bot.delivery.logs import log_event
from bot.delivery.sender import new_holder_id, sleep_for
from bot.runtime import Runtime
from bot.scheduling import leases, registry
from bot.settings import Settings
from storage.clock import Clock
from storage.models.delivery import JobRun

logger = logging.getLogger("csbot.scheduling")


@dataclass
class JobOutcome:
    job: str
    status: str  # ok | error | skipped_held | skipped_done
    holder: str
    slot: str | None = None
    run_id: int | None = None
    detail: dict[str, Any] = field(default_factory=dict)
    error: str | None = None


def lease_name(job: str) -> str:
    return f"job:{job}"


def slot_done(runtime: Runtime, job: str, slot: str) -> bool:
    with Session(runtime.engine) as session:
        return (
            session.exec(
                select(JobRun.id).where(
                    JobRun.job == job, JobRun.slot == slot, JobRun.status == "ok"
                )
            ).first()
            is not None
        )


def last_runs(runtime: Runtime) -> dict[str, JobRun]:
    """The latest finished successful run of each job."""
    with Session(runtime.engine, expire_on_commit=False) as session:
        rows = session.exec(
            select(JobRun)
            .where(JobRun.status == "ok")
            .order_by(col(JobRun.finished_at).desc())
            .limit(500)
        )
        latest: dict[str, JobRun] = {}
        for row in rows:
            latest.setdefault(row.job, row)
        return latest


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


def run_job(
    runtime: Runtime,
    name: str,
    *,
    clock: Clock | None = None,
    holder: str | None = None,
    force: bool = False,
    wait: bool | None = None,
    sleep: Callable[[float], None] | None = None,
    lease_seconds: float = leases.DEFAULT_TTL_SECONDS,
    poll_seconds: float | None = None,
) -> JobOutcome:
    """Run job `name` once under its lease. `force` runs even if this slot already ran
    (`csbot run-job`). `wait` overrides the job's wait-for-holder rule."""
    spec = registry.get(name)
    clock = clock or runtime.clock
    holder = holder or new_holder_id()
    sleep = sleep or sleep_for(clock)
    engine = runtime.engine
    lease = lease_name(name)
    slot = spec.slot(clock.now(), runtime.settings) if spec.slot else None
    waiting = spec.wait_for_holder if wait is None else wait
    poll = poll_seconds or lease_seconds / 4
    started_waiting = clock.now()
    acquired = leases.acquire(engine, lease, holder, clock, lease_seconds)
    while not acquired and waiting:
        if (clock.now() - started_waiting).total_seconds() > spec.max_wait_seconds:
            break
        sleep(poll)
        acquired = leases.acquire(engine, lease, holder, clock, lease_seconds)
    if not acquired:
        current = leases.current(engine, lease)
        outcome = JobOutcome(
            name,
            "skipped_held",
            holder,
            slot,
            detail={"held_by": current.holder if current else None},
        )
        _log(outcome)
        return outcome
    try:
        if slot is not None and not force and slot_done(runtime, name, slot):
            outcome = JobOutcome(name, "skipped_done", holder, slot)
            _log(outcome)
            return outcome
        return _run_holding(runtime, spec, clock, holder, slot, lease, lease_seconds)
    finally:
        leases.release(engine, lease, holder)


def _run_holding(
    runtime: Runtime,
    spec: registry.JobSpec,
    clock: Clock,
    holder: str,
    slot: str | None,
    lease: str,
    lease_seconds: float,
) -> JobOutcome:
    with Session(runtime.engine, expire_on_commit=False) as session:
        # We hold the lease, so a run of this job still "running" belongs to a dead holder.
        session.execute(
            update(JobRun)
            .where(col(JobRun.job) == spec.name, col(JobRun.status) == "running")
            .values(status="abandoned", finished_at=clock.now())
            .execution_options(synchronize_session=False)
        )
        run = JobRun(
            job=spec.name, slot=slot, started_at=clock.now(), status="running", holder=holder
        )
        session.add(run)
        session.commit()
        run_id = run.id
    began = time.monotonic()
    status, detail, error = "ok", {}, None
    with leases.LeaseKeeper(runtime.engine, lease, holder, clock, lease_seconds) as keeper:
        try:
            detail = _jsonable(spec.func(runtime, clock) or {})
        except Exception as raised:  # recorded on the job_runs row and logged
            status = "error"
            error = f"{type(raised).__name__}: {raised}"[:1000]
            detail = {"error": error, "where": traceback.format_exc(limit=-3)[-2000:]}
            logger.exception("job %s failed", spec.name)
    if keeper.lost:
        detail["lease_lost"] = True
    with Session(runtime.engine, expire_on_commit=False) as session:
        row = session.get(JobRun, run_id)
        assert row is not None
        row.status, row.detail, row.finished_at = status, detail, clock.now()
        session.add(row)
        session.commit()
    outcome = JobOutcome(spec.name, status, holder, slot, run_id, detail, error)
    _log(outcome, seconds=round(time.monotonic() - began, 3))
    return outcome


def _log(outcome: JobOutcome, **extra: Any) -> None:
    log_event(
        logger,
        "job_run",
        level=logging.ERROR if outcome.status == "error" else logging.INFO,
        job=outcome.job,
        status=outcome.status,
        slot=outcome.slot,
        run_id=outcome.run_id,
        holder=outcome.holder,
        error=outcome.error,
        **extra,
    )


def next_runs(settings: Settings, now: dt.datetime) -> dict[str, dt.datetime | None]:
    """When each scheduled job fires next after `now` (naive UTC), from its trigger."""
    aware = now.replace(tzinfo=dt.UTC)
    result: dict[str, dt.datetime | None] = {}
    for name, spec in registry.JOBS.items():
        if spec.trigger is None:
            result[name] = None
            continue
        fire = spec.trigger(settings).get_next_fire_time(None, aware)
        result[name] = fire.astimezone(dt.UTC).replace(tzinfo=None) if fire else None
    return result
