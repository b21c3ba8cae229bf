"""Job leases and guarded job runs: one holder at a time, takeover after the holder dies.

Time moves only through the FixedClock; waiting for a lease "sleeps" by advancing it.
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlmodel import Session, select

from bot.runtime import Runtime
from bot.scheduling import leases, registry
from bot.scheduling.runner import lease_name, run_job
from bot.settings import load_settings
from storage.models.delivery import JobRun

CALLS: list[str] = []


def probe(runtime, clock) -> dict:
    CALLS.append(clock.now().isoformat())
    if getattr(runtime, "fail_probe", False):
        raise RuntimeError("scoring blew up")
    return {"called": len(CALLS)}


@pytest.fixture
def probe_job():
    CALLS.clear()
    spec = registry.register(
        registry.JobSpec("probe", probe, "test job", None, slot=registry.daily_slot)
    )
    quick = registry.register(
        registry.JobSpec("quick-probe", probe, "test job", None, wait_for_holder=False)
    )
    yield spec
    registry.JOBS.pop(spec.name, None)
    registry.JOBS.pop(quick.name, None)


@pytest.fixture
def runtime(engine, database_url, clock) -> Runtime:
    runtime = Runtime(settings=load_settings(database_url=database_url), clock=clock)
    runtime.__dict__["engine"] = engine  # the fixture's schema (no migration run)
    return runtime


def runs(engine) -> list[JobRun]:
    with Session(engine) as session:
        return list(session.exec(select(JobRun).order_by(JobRun.id)))


def test_lease_is_exclusive_until_it_expires(engine, clock):
    assert leases.acquire(engine, "job:x", "host-a:1:a", clock)
    assert not leases.acquire(engine, "job:x", "host-b:2:b", clock)
    assert leases.acquire(engine, "job:x", "host-a:1:a", clock)  # re-entrant for the holder
    clock.advance(seconds=59)
    assert leases.renew(engine, "job:x", "host-a:1:a", clock)
    clock.advance(seconds=59)
    assert not leases.acquire(engine, "job:x", "host-b:2:b", clock)  # renewed: still held
    clock.advance(seconds=2)
    assert leases.acquire(engine, "job:x", "host-b:2:b", clock)  # lapsed: taken over
    assert not leases.renew(engine, "job:x", "host-a:1:a", clock)  # the old holder learns it
    leases.release(engine, "job:x", "host-a:1:a")  # not ours any more: no effect
    assert leases.current(engine, "job:x").holder == "host-b:2:b"


def test_waiting_replica_takes_over_within_a_minute_of_the_holder_dying(
    runtime, engine, clock, probe_job
):
    assert leases.acquire(engine, lease_name("probe"), "dead-host:1:a", clock)  # then it dies
    start = clock.now()
    outcome = run_job(
        runtime, "probe", holder="live-host:2:b", sleep=lambda s: clock.advance(seconds=s)
    )
    assert outcome.status == "ok" and CALLS
    took = (dt.datetime.fromisoformat(CALLS[0]) - start).total_seconds()
    assert 60 < took <= 75
    (row,) = runs(engine)
    assert (row.job, row.status, row.holder, row.slot) == (
        "probe",
        "ok",
        "live-host:2:b",
        "2026-06-01",
    )
    assert row.detail == {"called": 1} and row.finished_at == clock.now()
    assert leases.current(engine, lease_name("probe")) is None  # released


def test_waiting_replica_skips_an_occurrence_the_holder_finished(runtime, engine, clock, probe_job):
    first = run_job(runtime, "probe", holder="a:1:a")
    assert first.status == "ok"
    assert leases.acquire(engine, lease_name("probe"), "a:1:a", clock)  # a second fire, same day

    def holder_finishes(seconds: float) -> None:
        clock.advance(seconds=seconds)
        leases.release(engine, lease_name("probe"), "a:1:a")

    outcome = run_job(runtime, "probe", holder="b:2:b", sleep=holder_finishes)
    assert outcome.status == "skipped_done" and len(CALLS) == 1
    forced = run_job(runtime, "probe", holder="b:2:b", force=True)  # `csbot run-job`
    assert forced.status == "ok" and len(CALLS) == 2


def test_frequent_job_skips_when_another_replica_holds_it(runtime, engine, clock, probe_job):
    assert leases.acquire(engine, lease_name("quick-probe"), "a:1:a", clock)
    outcome = run_job(runtime, "quick-probe", holder="b:2:b")
    assert (outcome.status, outcome.detail) == ("skipped_held", {"held_by": "a:1:a"})
    assert CALLS == [] and runs(engine) == []


def test_failed_job_is_recorded_and_releases_its_lease(runtime, engine, clock, probe_job):
    runtime.fail_probe = True  # type: ignore[attr-defined]
    outcome = run_job(runtime, "probe", holder="a:1:a")
    assert outcome.status == "error" and outcome.error == "RuntimeError: scoring blew up"
    (row,) = runs(engine)
    assert row.status == "error" and "scoring blew up" in row.detail["error"]
    assert leases.current(engine, lease_name("probe")) is None
    runtime.fail_probe = False  # type: ignore[attr-defined]
    assert run_job(runtime, "probe", holder="a:1:a").status == "ok"  # the slot was not done


def test_slots_name_the_occurrence(clock):
    settings = load_settings(timezone="Asia/Tokyo")
    now = dt.datetime(2026, 6, 1, 16, 40)  # 01:40 on 2 June in Tokyo
    assert registry.daily_slot(now, settings) == "2026-06-02"
    assert registry.hourly_slot(now, settings) == "2026-06-01T16"
    assert registry.quarter_hour_slot(now, settings) == "2026-06-01T16:30"
    assert registry.weekly_slot(now, settings) == "2026-W23"


def test_every_scheduled_job_sets_misfire_grace_and_coalesce():
    scheduled = {name: spec for name, spec in registry.JOBS.items() if spec.trigger}
    assert set(scheduled) == {
        "nightly", "digests", "reminders", "leaders", "retrain", "deliver",
        "qbr-drafts", "drafts", "voc",
    }  # fmt: skip
    assert all(spec.coalesce and spec.misfire_grace_seconds > 0 for spec in scheduled.values())
    assert scheduled["nightly"].misfire_grace_seconds == 6 * 3600
