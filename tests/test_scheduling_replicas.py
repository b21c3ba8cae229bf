"""Two real scheduler processes on one database.

PostgreSQL: both replicas fire the job; one runs it; when that one is SIGKILLed mid-run,
the other takes over once the lease lapses (2 s here, 60 s by default).
SQLite: a second instance is refused the scheduler with a message saying why.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlmodel import Session, select

from bot.runtime import Runtime
from bot.scheduling import leases
from bot.scheduling.service import INSTANCE_LEASE, CsbotScheduler, InstanceAlreadyRunning
from bot.settings import load_settings
from storage import migrate
from storage.models.delivery import JobRun
from tests.polling import wait_until

ROOT = Path(__file__).resolve().parents[1]

CHILD = """
import datetime as dt, sys, time
from apscheduler.triggers.interval import IntervalTrigger
from bot.runtime import Runtime
from bot.scheduling import registry
from bot.scheduling.service import CsbotScheduler
from bot.settings import load_settings
from tests.test_scheduling_replicas import replica_probe
start = dt.datetime.fromtimestamp(float(sys.argv[2]), dt.UTC)
registry.register(registry.JobSpec(
    "replica-probe", replica_probe, "test", lambda s: IntervalTrigger(seconds=1, start_date=start),
    misfire_grace_seconds=30, slot=registry.daily_slot,
))
scheduler = CsbotScheduler(Runtime(settings=load_settings(database_url=sys.argv[1])),
                           jobs=["replica-probe"], lease_seconds=2)
scheduler.start()
print("started", scheduler.holder, flush=True)
time.sleep(60)
"""


def replica_probe(runtime, clock) -> dict:
    """First run: slow (so the test can kill it mid-run). A takeover run: quick."""
    with Session(runtime.engine) as session:
        earlier = session.exec(
            select(JobRun).where(JobRun.job == "replica-probe", JobRun.status == "abandoned")
        ).first()
    if earlier is None:
        time.sleep(30)
    return {"pid": os.getpid()}


def _runs(engine) -> list[JobRun]:
    with Session(engine) as session:
        return list(session.exec(select(JobRun).where(JobRun.job == "replica-probe")))


def test_two_postgres_replicas_run_a_job_once_and_take_over_from_a_dead_one(empty_engine):
    if empty_engine.dialect.name != "postgresql":
        pytest.skip("replicas need PostgreSQL (SQLite is single-instance; see the next test)")
    migrate.upgrade(empty_engine)
    url = empty_engine.url.render_as_string(hide_password=False)
    fire_at = time.time() + 8  # the children import the whole scheduler (about 3 s each)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    children = [
        subprocess.Popen(
            [sys.executable, "-c", CHILD, url, str(fire_at)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    try:
        pids = {child.pid: child for child in children}
        running = wait_until(
            lambda: [run for run in _runs(empty_engine) if run.status == "running"],
            20,
            "a run",
            poll=0.05,
        )
        time.sleep(1.5)  # both replicas have fired several times by now
        assert len([run for run in _runs(empty_engine) if run.status == "running"]) == 1
        (first,) = running
        holder_pid = int(first.holder.split(":")[1])
        assert holder_pid in pids
        pids[holder_pid].send_signal(signal.SIGKILL)
        killed_at = time.monotonic()
        done = wait_until(
            lambda: [run for run in _runs(empty_engine) if run.status == "ok"],
            20,
            "takeover",
            poll=0.05,
        )
        took_over_after = time.monotonic() - killed_at
        (ok,) = done
        assert ok.holder != first.holder and ok.detail["pid"] != holder_pid
        assert took_over_after < 2 + 5  # lease 2 s, polled every 0.5 s, scheduler ticks 1 s
        time.sleep(1.5)  # more fires: the slot is done, nothing runs again
        statuses = sorted(run.status for run in _runs(empty_engine))
        assert statuses == ["abandoned", "ok"]
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
            child.wait(timeout=10)


def test_second_sqlite_instance_is_refused_the_scheduler(tmp_path, clock):
    url = f"sqlite:///{tmp_path / 'single.db'}"
    first_runtime = Runtime(settings=load_settings(database_url=url), clock=clock)
    second_runtime = Runtime(settings=load_settings(database_url=url), clock=clock)
    first = CsbotScheduler(first_runtime, jobs=["deliver"])
    first.start()
    try:
        assert first.state == "running"
        second = CsbotScheduler(second_runtime, jobs=["deliver"])
        with pytest.raises(InstanceAlreadyRunning, match="another csbot .* SQLite supports one"):
            second.start()
        assert second.state == "stopped"
    finally:
        first.shutdown()
    assert leases.current(first_runtime.engine, INSTANCE_LEASE) is None
    third = CsbotScheduler(second_runtime, jobs=["deliver"])
    third.start()
    third.shutdown()


def test_sqlite_instance_lease_of_a_crashed_process_on_this_host_is_taken_over(tmp_path, clock):
    import socket

    runtime = Runtime(
        settings=load_settings(database_url=f"sqlite:///{tmp_path / 'c.db'}"), clock=clock
    )
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    dead_holder = f"{socket.gethostname()}:{dead.stdout.strip()}:gone"
    assert leases.acquire(runtime.engine, INSTANCE_LEASE, dead_holder, clock)
    scheduler = CsbotScheduler(runtime, jobs=["deliver"])
    scheduler.start()
    try:
        assert leases.current(runtime.engine, INSTANCE_LEASE).holder == scheduler.holder
    finally:
        scheduler.shutdown()
