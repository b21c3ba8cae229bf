"""Two people pressing the same button at once: separate sessions in separate threads, on
PostgreSQL and SQLite. The step advances once; the loser gets a clear InvalidTransition."""

from __future__ import annotations

import datetime as dt
import threading
import time

from sqlmodel import Session, select

from playbooks import engine as pb
from playbooks.errors import InvalidTransition
from playbooks.library import load_library
from storage.clock import FixedClock
from storage.models import Account, AccountScore, AuditLog, PlaybookRun

NOW = dt.datetime(2026, 6, 1, 9, 0)
LIBRARY = load_library()
CLOCK = FixedClock(NOW)


def seed_run(db, name="low_engagement_recovery") -> tuple[int, list[int]]:
    with Session(db, expire_on_commit=False) as session:
        session.add(Account(account_id="A1", name="A1 Corp", owner="csm@example.com"))
        session.add(
            AccountScore(
                account_id="A1",
                as_of=NOW.date(),
                health=50,
                band="at_risk",
                renewal_date=dt.date(2026, 9, 1),
            )
        )
        session.commit()
        run = pb.start_run(
            session,
            account_id="A1",
            playbook=LIBRARY[name],
            actor="U0",
            source="slack",
            clock=CLOCK,
        )
        session.commit()
        return run.id, [step.id for step in pb.run_steps(session, run.id)]


def click(db, step_id: int, actor: str, outcome: dict, barrier=None) -> None:
    """One button press: its own session and transaction, committed at the end."""
    with Session(db, expire_on_commit=False) as session:
        if barrier is not None:
            barrier.wait()
        try:
            pb.advance_step(
                session, step_id=step_id, status="done", actor=actor, source="slack", clock=CLOCK
            )
            session.commit()
            outcome[actor] = "done"
        except InvalidTransition as error:
            session.rollback()
            outcome[actor] = str(error)


def audit_count(db, action: str) -> int:
    with Session(db) as session:
        return len(session.exec(select(AuditLog).where(AuditLog.action == action)).all())


def test_second_click_waits_for_the_first_and_then_fails(engine):
    _, steps = seed_run(engine)
    outcome: dict[str, str] = {}
    with Session(engine, expire_on_commit=False) as first:
        pb.advance_step(
            first, step_id=steps[0], status="done", actor="U1", source="slack", clock=CLOCK
        )
        second = threading.Thread(target=click, args=(engine, steps[0], "U2", outcome))
        second.start()
        time.sleep(0.5)
        assert second.is_alive(), "the second press must wait for the first transaction"
        first.commit()
    second.join(timeout=30)
    assert not second.is_alive()
    assert outcome["U2"] == f"step {steps[0]} is already done (by U1 at 2026-06-01 09:00)"
    assert audit_count(engine, "step.done") == 1


def test_racing_clicks_advance_each_step_once(engine):
    _, steps = seed_run(engine)
    for step_id in steps:
        outcome: dict[str, str] = {}
        barrier = threading.Barrier(2)
        threads = [
            threading.Thread(target=click, args=(engine, step_id, actor, outcome, barrier))
            for actor in ("U1", "U2")
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert list(outcome.values()).count("done") == 1, outcome
        loser = next(v for v in outcome.values() if v != "done")
        # The last press may lose to the run's completion instead: both name the state.
        assert loser.startswith(f"step {step_id} is already done (by U") or (
            step_id == steps[-1] and "is already completed" in loser
        ), loser
    assert audit_count(engine, "step.done") == len(steps)
    with Session(engine) as session:
        run = session.exec(select(PlaybookRun)).one()
        assert run.status == "completed" and run.version == len(steps) + 1
    assert audit_count(engine, "run.completed") == 1


def test_two_last_steps_done_at_once_complete_the_run_once(engine):
    run_id, steps = seed_run(engine)
    with Session(engine, expire_on_commit=False) as session:
        for step_id in steps[:-2]:
            pb.advance_step(
                session, step_id=step_id, status="done", actor="U0", source="slack", clock=CLOCK
            )
        session.commit()
    outcome: dict[str, str] = {}
    with Session(engine, expire_on_commit=False) as first:
        pb.advance_step(
            first, step_id=steps[-2], status="done", actor="U1", source="slack", clock=CLOCK
        )
        second = threading.Thread(target=click, args=(engine, steps[-1], "U2", outcome))
        second.start()
        time.sleep(0.5)
        first.commit()
    second.join(timeout=30)
    assert outcome == {"U2": "done"}
    with Session(engine) as session:
        assert session.get(PlaybookRun, run_id).status == "completed"
    assert audit_count(engine, "run.completed") == 1


def test_two_starts_at_once_make_one_run(engine):
    seed_run(engine, name="churn_risk_save")
    outcome: dict[str, str] = {}

    def start(actor: str) -> None:
        with Session(engine, expire_on_commit=False) as session:
            try:
                pb.start_run(
                    session,
                    account_id="A1",
                    playbook=LIBRARY["renewal"],
                    actor=actor,
                    source="slack",
                    clock=CLOCK,
                )
                session.commit()
                outcome[actor] = "started"
            except InvalidTransition as error:
                session.rollback()
                outcome[actor] = str(error)

    with Session(engine, expire_on_commit=False) as first:
        pb.start_run(
            first,
            account_id="A1",
            playbook=LIBRARY["renewal"],
            actor="U1",
            source="slack",
            clock=CLOCK,
        )
        second = threading.Thread(target=start, args=("U2",))
        second.start()
        time.sleep(0.5)
        first.commit()
    second.join(timeout=30)
    assert outcome["U2"].startswith("Renewal is already active for A1")
    with Session(engine) as session:
        runs = session.exec(select(PlaybookRun).where(PlaybookRun.playbook == "renewal")).all()
        assert len(runs) == 1


def test_nightly_evaluation_skips_a_run_started_meanwhile(engine):
    run_id, _ = seed_run(engine, name="churn_risk_save")  # A1 at_risk: renewal fires too
    library = {"renewal": LIBRARY["renewal"]}
    result: dict[str, object] = {}

    def nightly() -> None:
        with Session(engine, expire_on_commit=False) as session:
            result["runs"] = pb.evaluate_triggers(
                session, as_of=NOW.date(), library=library, clock=CLOCK
            )
            session.commit()

    with Session(engine, expire_on_commit=False) as first:
        pb.start_run(
            first,
            account_id="A1",
            playbook=LIBRARY["renewal"],
            actor="U1",
            source="slack",
            clock=CLOCK,
        )
        job = threading.Thread(target=nightly)
        job.start()
        time.sleep(0.5)
        first.commit()
    job.join(timeout=30)
    assert result["runs"] == []  # no error, no duplicate
    with Session(engine) as session:
        runs = session.exec(select(PlaybookRun).where(PlaybookRun.playbook == "renewal")).all()
        assert [run.started_by for run in runs] == ["U1"]
        assert session.get(PlaybookRun, run_id).status == "active"
