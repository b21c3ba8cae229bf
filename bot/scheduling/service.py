"""The scheduler process: APScheduler 3 with its job store in our database.

`SQLAlchemyJobStore` keeps the jobs in `apscheduler_jobs` (created by the job store on
start; APScheduler owns that table's layout, so it is not in our migration). Every
replica adds the same jobs with `replace_existing=True` and fires them; the lease in
`bot.scheduling.runner` lets one replica run each occurrence.

On SQLite csbot is a single instance: `start()` takes the `instance` lease first and
refuses (InstanceAlreadyRunning) when another live process holds it.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading
from dataclasses import dataclass
from typing import Any

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import STATE_RUNNING

from bot.delivery.logs import log_event
from bot.delivery.sender import new_holder_id
from bot.runtime import Runtime
from bot.scheduling import leases, registry
from bot.scheduling.runner import run_job
from storage.db import is_sqlite
from storage.models.delivery import JobLease

logger = logging.getLogger("csbot.scheduling")

INSTANCE_LEASE = "instance"
JOB_FUNC = "bot.scheduling.service:scheduled_run"


class InstanceAlreadyRunning(RuntimeError):
    """Another live csbot process runs the scheduler on this SQLite database."""


@dataclass
class _Context:
    runtime: Runtime
    holder: str
    lease_seconds: float


_context: _Context | None = None
_context_lock = threading.Lock()


def scheduled_run(name: str) -> None:
    """What APScheduler calls (by textual reference, so the job store can persist it)."""
    context = _context
    if context is None:
        logger.error("job %s fired with no scheduler context in this process", name)
        return
    run_job(context.runtime, name, holder=context.holder, lease_seconds=context.lease_seconds)


def _holder_is_dead_here(holder: str) -> bool:
    """True when `holder` (hostname:pid:…) names a process on this host that has exited."""
    host, _, rest = holder.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


class CsbotScheduler:
    """Owns the BackgroundScheduler, the job registrations and (SQLite) the instance lease."""

    def __init__(
        self,
        runtime: Runtime,
        *,
        jobs: list[str] | None = None,
        holder: str | None = None,
        lease_seconds: float = leases.DEFAULT_TTL_SECONDS,
        threads: int = 4,
    ) -> None:
        self.runtime = runtime
        self.holder = holder or new_holder_id()
        self.lease_seconds = lease_seconds
        names = jobs or [n for n, spec in registry.JOBS.items() if spec.trigger is not None]
        self.specs = [registry.get(name) for name in names]
        self.threads = threads
        self.scheduler: BackgroundScheduler | None = None
        self._instance_keeper: leases.LeaseKeeper | None = None

    # -- life cycle -------------------------------------------------------------------------
    def start(self) -> None:
        global _context
        engine = self.runtime.engine
        if is_sqlite(engine):
            self._take_instance_lease()
        scheduler = BackgroundScheduler(
            jobstores={"default": SQLAlchemyJobStore(engine=engine)},
            executors={"default": ThreadPoolExecutor(self.threads)},
            job_defaults={"max_instances": 1},
            timezone="UTC",
        )
        for spec in self.specs:
            assert spec.trigger is not None, f"job {spec.name} has no schedule"
            scheduler.add_job(
                JOB_FUNC,
                trigger=spec.trigger(self.runtime.settings),
                args=[spec.name],
                id=spec.name,
                name=spec.name,
                replace_existing=True,
                misfire_grace_time=spec.misfire_grace_seconds,
                coalesce=spec.coalesce,
                max_instances=1,
            )
        with _context_lock:
            _context = _Context(self.runtime, self.holder, self.lease_seconds)
        scheduler.start()
        wanted = {spec.name for spec in self.specs}
        for job in scheduler.get_jobs():
            if job.id not in wanted and job.id not in registry.JOBS:
                scheduler.remove_job(job.id)  # a job this version no longer has
        self.scheduler = scheduler
        log_event(
            logger,
            "scheduler_started",
            holder=self.holder,
            jobs=[spec.name for spec in self.specs],
            database=engine.dialect.name,
        )

    def shutdown(self, wait: bool = True) -> None:
        global _context
        if self.scheduler is not None and self.scheduler.state == STATE_RUNNING:
            self.scheduler.shutdown(wait=wait)
        with _context_lock:
            if _context is not None and _context.holder == self.holder:
                _context = None
        if self._instance_keeper is not None:
            self._instance_keeper.close()
            leases.release(self.runtime.engine, INSTANCE_LEASE, self.holder)
            self._instance_keeper = None
        log_event(logger, "scheduler_stopped", holder=self.holder)

    def _take_instance_lease(self) -> None:
        engine, clock = self.runtime.engine, self.runtime.clock
        if not leases.acquire(engine, INSTANCE_LEASE, self.holder, clock, self.lease_seconds):
            current = leases.current(engine, INSTANCE_LEASE)
            if current is not None and _holder_is_dead_here(current.holder):
                with engine.begin() as connection:  # a crashed process on this host: take over
                    from sqlalchemy import update
                    from sqlmodel import col

                    connection.execute(
                        update(JobLease)
                        .where(
                            col(JobLease.name) == INSTANCE_LEASE,
                            col(JobLease.holder) == current.holder,
                        )
                        .values(expires_at=clock.now() - dt.timedelta(seconds=1))
                    )
            if not leases.acquire(engine, INSTANCE_LEASE, self.holder, clock, self.lease_seconds):
                current = leases.current(engine, INSTANCE_LEASE)
                who = current.holder if current else "another process"
                until = current.expires_at.isoformat(timespec="seconds") if current else "?"
                raise InstanceAlreadyRunning(
                    f"another csbot ({who}) is running the scheduler on this SQLite database "
                    f"(lease until {until} UTC). SQLite supports one csbot instance: stop the "
                    "other one, or use PostgreSQL to run replicas."
                )
        self._instance_keeper = leases.LeaseKeeper(
            engine, INSTANCE_LEASE, self.holder, clock, self.lease_seconds
        ).__enter__()

    # -- state ------------------------------------------------------------------------------
    @property
    def state(self) -> str:
        if self.scheduler is not None and self.scheduler.state == STATE_RUNNING:
            return "running"
        return "stopped"

    def next_run_times(self) -> dict[str, dt.datetime | None]:
        """Next fire time per job from the job store (naive UTC)."""
        if self.scheduler is None:
            return {}
        result: dict[str, dt.datetime | None] = {}
        for job in self.scheduler.get_jobs():
            when = job.next_run_time
            result[job.id] = when.astimezone(dt.UTC).replace(tzinfo=None) if when else None
        return result

    def __enter__(self) -> CsbotScheduler:
        self.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.shutdown()
