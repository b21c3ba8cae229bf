"""The engine on a real database (SQLite and PostgreSQL): starting runs, due dates, every
state transition and its error, the audit log, escalation timing, triggers and cooldowns."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlmodel import Session, select

from playbooks import engine
from playbooks.errors import InvalidTransition, NotFound, PlaybookError
from playbooks.library import load_library
from playbooks.model import Playbook
from storage.models import (
    Account,
    AccountScore,
    AuditLog,
    Contact,
    Feedback,
    Invoice,
    LifecycleEvent,
    PlaybookRun,
    PlaybookStep,
    SurveyResponse,
    Ticket,
)

TODAY = dt.date(2026, 6, 1)
NOW = dt.datetime(2026, 6, 1, 9, 0)
LIBRARY = load_library()


def add_account(session: Session, account_id: str, *, segment="smb", owner=None, days_old=400):
    session.add(
        Account(
            account_id=account_id,
            name=f"{account_id} Corp",
            segment=segment,
            owner=owner or f"csm-{account_id.lower()}@example.com",
            created_at=NOW - dt.timedelta(days=days_old),
        )
    )


def add_score(session: Session, account_id: str, as_of=TODAY, **values) -> AccountScore:
    fields = dict(health=85.0, band="healthy", arr=30_000.0, churn_risk=0.05)
    fields.update(values)
    score = AccountScore(account_id=account_id, as_of=as_of, **fields)
    session.add(score)
    return score


def seed(session: Session, account_id="A1", **score) -> None:
    add_account(session, account_id, segment="mid_market", owner="csm@example.com")
    fields = dict(
        health=48.0,
        band="at_risk",
        churn_risk=0.7,
        arr=50_000.0,
        renewal_date=dt.date(2026, 9, 1),
        stakeholders={"roles": {"champion": {"contact": "Dana Reyes"}}},
        reasons=[{"text": "Logins down 46%"}],
    )
    fields.update(score)
    add_score(session, account_id, **fields)
    session.commit()


def audit_actions(session: Session) -> list[tuple[str, str, str, str]]:
    rows = session.exec(select(AuditLog).order_by(AuditLog.id)).all()
    return [(row.action, row.entity_id, row.actor, row.source) for row in rows]


def start(session, clock, name="churn_risk_save", account_id="A1", **kw) -> PlaybookRun:
    run = engine.start_run(
        session,
        account_id=account_id,
        playbook=LIBRARY[name],
        actor=kw.pop("actor", "U1"),
        source=kw.pop("source", "slack"),
        clock=clock,
        **kw,
    )
    session.commit()
    return run


# --- starting -------------------------------------------------------------------------


def test_start_run_materialises_steps_with_due_dates_owners_and_drafts(session, clock):
    seed(session)
    run = start(session, clock, reason="asked by manager")
    assert (run.status, run.owner, run.band_at_start, run.arr_at_start) == (
        "active",
        "csm@example.com",
        "at_risk",
        50_000.0,
    )
    steps = engine.run_steps(session, run.id)
    playbook = LIBRARY["churn_risk_save"]
    assert [s.due_at for s in steps] == [
        NOW + dt.timedelta(days=step.day) for step in playbook.steps
    ]
    assert [s.position for s in steps] == list(range(len(playbook.steps)))
    by_role = {s.owner_role: s for s in steps}
    assert by_role["csm"].owner == "csm@example.com"
    assert by_role["manager"].owner is None and by_role["manager"].escalation_tier == 1
    assert by_role["exec_sponsor"].escalation_tier == 2
    call = next(s for s in steps if s.message and "candidly" in s.message)
    assert call.message.startswith("Hi Dana Reyes, I would value 30 minutes")
    assert "A1 Corp" in call.message
    assert audit_actions(session) == [("run.started", str(run.id), "U1", "slack")]
    entry = session.exec(select(AuditLog)).one()
    assert entry.at == NOW and entry.detail["reason"] == "asked by manager"


def test_unknown_values_in_drafts_are_left_for_a_person(session, clock):
    seed(session, stakeholders={})
    run = start(session, clock, name="low_engagement_recovery")
    draft = next(s.message for s in engine.run_steps(session, run.id) if s.message)
    assert draft.startswith("Hi [champion name], I noticed activity at A1 Corp")


def test_renewal_steps_count_back_from_the_renewal_date(session, clock):
    seed(session)  # renewal 2026-09-01, 92 days out
    run = start(session, clock, name="renewal")
    assert run.anchor_date == dt.date(2026, 9, 1)
    due = [s.due_at for s in engine.run_steps(session, run.id)]
    renewal = dt.datetime(2026, 9, 1, 9, 0)
    assert due[0] == NOW  # the 120-day review is already late: due at once
    assert due[1:] == [renewal + dt.timedelta(days=d) for d in (-90, -60, -45, -30, -14, 0)]


def test_renewal_without_a_renewal_date_is_refused(session, clock):
    seed(session, renewal_date=None)
    with pytest.raises(PlaybookError, match="A1 has no upcoming renewal"):
        start(session, clock, name="renewal")


def test_start_refuses_a_duplicate_and_an_unknown_account(session, clock):
    seed(session)
    run = start(session, clock)
    with pytest.raises(InvalidTransition, match=f"already active for A1 \\(run {run.id}"):
        start(session, clock)
    session.rollback()
    with pytest.raises(NotFound, match="account NOPE does not exist"):
        start(session, clock, account_id="NOPE")
    with pytest.raises(PlaybookError, match="unknown source 'email'"):
        start(session, clock, source="email")


# --- transitions ----------------------------------------------------------------------


def test_advance_skip_complete_and_every_error(session, clock):
    seed(session)
    run = start(session, clock, name="low_engagement_recovery")
    steps = engine.run_steps(session, run.id)
    first = engine.advance_step(
        session, step_id=steps[0].id, status="done", actor="U1", source="slack", clock=clock
    )
    session.commit()
    assert (first.status, first.done_by, first.done_at) == ("done", "U1", NOW)
    with pytest.raises(InvalidTransition) as caught:
        engine.advance_step(
            session, step_id=steps[0].id, status="skipped", actor="U2", source="cli", clock=clock
        )
    assert str(caught.value) == f"step {steps[0].id} is already done (by U1 at 2026-06-01 09:00)"
    session.rollback()
    with pytest.raises(PlaybookError, match="done or skipped, not 'finished'"):
        engine.advance_step(
            session, step_id=steps[1].id, status="finished", actor="U1", source="cli", clock=clock
        )
    with pytest.raises(NotFound, match="step 999999 does not exist"):
        engine.advance_step(
            session, step_id=999999, status="done", actor="U1", source="cli", clock=clock
        )
    clock.advance(days=2)
    skipped = engine.advance_step(
        session,
        step_id=steps[1].id,
        status="skipped",
        actor="U2",
        source="cli",
        clock=clock,
        note="champion on leave",
    )
    assert (skipped.status, skipped.note) == ("skipped", "champion on leave")
    for step in steps[2:]:
        engine.advance_step(
            session, step_id=step.id, status="done", actor="U1", source="slack", clock=clock
        )
    session.commit()
    session.refresh(run)
    assert run.status == "completed" and run.closed_at == clock.now()
    assert run.version == len(steps) + 1  # one bump per step, one for completing
    with pytest.raises(InvalidTransition, match=f"run {run.id} .* is already completed"):
        engine.close_run(session, run_id=run.id, actor="U1", source="slack", clock=clock)
    actions = [a for a, *_ in audit_actions(session)]
    assert actions == ["run.started", "step.done", "step.skipped"] + ["step.done"] * (
        len(steps) - 2
    ) + ["run.completed"]


def test_closed_run_refuses_changes_and_leaves_to_do_lists(session, clock):
    seed(session)
    run = start(session, clock)
    step = engine.run_steps(session, run.id)[0]
    assert [s.id for s, _ in engine.open_steps_for(session, "csm@example.com")][0] == step.id
    closed = engine.close_run(session, run_id=run.id, actor="U1", source="slack", clock=clock)
    session.commit()
    assert closed.status == "closed" and closed.closed_at == NOW
    assert engine.open_steps_for(session, "csm@example.com") == []
    message = (
        f"cannot mark step {step.id} done: run {run.id} (churn_risk_save for A1) is already closed"
    )
    with pytest.raises(InvalidTransition, match=message.replace("(", r"\(").replace(")", r"\)")):
        engine.advance_step(
            session, step_id=step.id, status="done", actor="U1", source="slack", clock=clock
        )
    for action in (
        lambda: engine.close_run(session, run_id=run.id, actor="U1", source="slack", clock=clock),
        lambda: engine.snooze_run(
            session,
            run_id=run.id,
            until=NOW + dt.timedelta(days=1),
            actor="U1",
            source="slack",
            clock=clock,
        ),
        lambda: engine.assign(
            session, owner="x@example.com", run_id=run.id, actor="U1", source="slack", clock=clock
        ),
        lambda: engine.assign(
            session,
            owner="x@example.com",
            step_id=step.id,
            actor="U1",
            source="slack",
            clock=clock,
        ),
    ):
        with pytest.raises(InvalidTransition, match="is already closed"):
            action()
        session.rollback()
    with pytest.raises(NotFound, match="run 424242 does not exist"):
        engine.close_run(session, run_id=424242, actor="U1", source="slack", clock=clock)
    # The run can start again once it is no longer active.
    again = start(session, clock)
    assert again.id != run.id


def test_assign_step_and_run(session, clock):
    seed(session)
    run = start(session, clock)
    steps = engine.run_steps(session, run.id)
    manager_step = next(s for s in steps if s.owner_role == "manager")
    engine.assign(
        session,
        owner="boss@example.com",
        step_id=manager_step.id,
        actor="U1",
        source="slack",
        clock=clock,
    )
    engine.advance_step(
        session, step_id=steps[0].id, status="done", actor="U1", source="slack", clock=clock
    )
    engine.assign(
        session, owner="new@example.com", run_id=run.id, actor="U9", source="cli", clock=clock
    )
    session.commit()
    owners = {s.id: s.owner for s in engine.run_steps(session, run.id)}
    assert owners[manager_step.id] == "boss@example.com"
    assert owners[steps[0].id] == "csm@example.com"  # done steps keep who did them
    open_csm = [s.id for s in steps[1:] if s.owner_role == "csm"]
    assert {owners[i] for i in open_csm} == {"new@example.com"}
    assert [s.id for s, _ in engine.open_steps_for(session, "boss@example.com")] == [
        manager_step.id
    ]
    mine = engine.open_steps_for(session, "new@example.com")
    assert [s.due_at for s, _ in mine] == sorted(s.due_at for s, _ in mine)
    assert {s.id for s, _ in mine} >= set(open_csm)  # plus unassigned steps of the run
    with pytest.raises(
        InvalidTransition, match=f"cannot reassign step {steps[0].id}: it is already done"
    ):
        engine.assign(
            session,
            owner="x@example.com",
            step_id=steps[0].id,
            actor="U1",
            source="slack",
            clock=clock,
        )
    with pytest.raises(PlaybookError, match="exactly one"):
        engine.assign(session, owner="x", actor="U1", source="slack", clock=clock)
    details = [
        row.detail
        for row in session.exec(select(AuditLog)).all()
        if row.action.endswith("assigned")
    ]
    assert details[0]["to"] == "boss@example.com"
    assert details[1] == {"account_id": "A1", "from": "csm@example.com", "to": "new@example.com"}


def test_snooze_and_outcome(session, clock):
    seed(session)
    run = start(session, clock)
    with pytest.raises(PlaybookError, match="is not in the future"):
        engine.snooze_run(
            session, run_id=run.id, until=NOW, actor="U1", source="slack", clock=clock
        )
    until = NOW + dt.timedelta(days=7)
    snoozed = engine.snooze_run(
        session, run_id=run.id, until=until, actor="U1", source="slack", clock=clock
    )
    assert snoozed.snoozed_until == until
    with pytest.raises(PlaybookError, match="unknown outcome 'won'"):
        engine.log_outcome(
            session, run_id=run.id, kind="won", actor="U1", source="slack", clock=clock
        )
    outcome = engine.log_outcome(
        session,
        run_id=run.id,
        kind="saved",
        actor="U1",
        source="slack",
        clock=clock,
        arr_change=5000,
        note="exec call turned it",
    )
    session.commit()
    assert (outcome.kind, outcome.account_id, outcome.arr_change) == ("saved", "A1", 5000)
    assert outcome.extra["band_at_start"] == "at_risk"
    # A "saved" outcome is a label the next churn training uses.
    labels = session.exec(select(Feedback)).all()
    assert [(f.account_id, f.label, f.by, f.source) for f in labels] == [
        ("A1", "saved", "U1", "slack")
    ]
    with pytest.raises(
        InvalidTransition, match=f"run {run.id} already has the outcome saved \\(by U1"
    ):
        engine.log_outcome(
            session, run_id=run.id, kind="churned", actor="U2", source="slack", clock=clock
        )
    session.rollback()
    assert [a for a, *_ in audit_actions(session)] == [
        "run.started",
        "run.snoozed",
        "run.outcome",
        "churn_feedback",
    ]


# --- escalation -----------------------------------------------------------------------


def test_escalation_timing_csm_to_manager_to_executive(session, clock):
    seed(session)
    run = start(session, clock)  # churn_risk_save: day 0 csm, day 1 manager, day 3 csm ...
    steps = engine.run_steps(session, run.id)
    clock.set(NOW + dt.timedelta(hours=47, minutes=59))
    assert engine.escalate_overdue(session, clock=clock, grace_hours=48) == []
    clock.set(NOW + dt.timedelta(hours=48))
    [first] = engine.escalate_overdue(session, clock=clock, grace_hours=48)
    session.commit()
    assert (first.step_id, first.from_tier, first.to_tier) == (steps[0].id, "csm", "manager")
    assert first.overdue_hours == 48 and first.owner == "csm@example.com"
    assert engine.escalate_overdue(session, clock=clock, grace_hours=48) == []  # idempotent
    clock.set(NOW + dt.timedelta(days=4))
    escalated = engine.escalate_overdue(session, clock=clock, grace_hours=48)
    session.commit()
    assert [(e.step_id, e.from_tier, e.to_tier) for e in escalated] == [
        (steps[0].id, "manager", "executive"),  # two graces late
        (steps[1].id, "manager", "executive"),  # the manager's own step, one grace late
    ]
    tiers = {s.id: (s.escalation_tier, s.escalated_at) for s in engine.run_steps(session, run.id)}
    assert tiers[steps[0].id] == (2, clock.now())
    assert tiers[steps[2].id] == (0, None)  # due day 3: only 1 day late
    logged = session.exec(select(AuditLog).where(AuditLog.action == "step.escalated")).all()
    assert [(row.actor, row.source, row.detail["to"]) for row in logged] == [
        ("csbot", "scheduler", "manager"),
        ("csbot", "scheduler", "executive"),
        ("csbot", "scheduler", "executive"),
    ]


def test_done_steps_and_snoozed_runs_do_not_escalate(session, clock):
    seed(session)
    run = start(session, clock)
    steps = engine.run_steps(session, run.id)
    engine.advance_step(
        session, step_id=steps[0].id, status="done", actor="U1", source="slack", clock=clock
    )
    engine.snooze_run(
        session,
        run_id=run.id,
        until=NOW + dt.timedelta(days=5),
        actor="U1",
        source="slack",
        clock=clock,
    )
    session.commit()
    clock.set(NOW + dt.timedelta(days=6))
    assert engine.escalate_overdue(session, clock=clock, grace_hours=48) == []
    clock.set(NOW + dt.timedelta(days=7))  # snooze end + one grace
    escalated = engine.escalate_overdue(session, clock=clock, grace_hours=48)
    assert steps[0].id not in {e.step_id for e in escalated}
    assert {e.step_id for e in escalated} == {steps[1].id, steps[2].id, steps[3].id}


# --- triggers -------------------------------------------------------------------------


def one_step_playbook(name: str, trigger: dict, cooldown: int = 10) -> Playbook:
    return Playbook.model_validate(
        {
            "name": name,
            "title": name.replace("_", " "),
            "stage": "crawl",
            "objective": "Exercise one trigger kind end to end.",
            "trigger": trigger,
            "steps": [
                {
                    "title": "Look at it",
                    "day": 2,
                    "kind": "task",
                    "owner_role": "csm",
                    "instructions": "Check the account.",
                }
            ],
            "metrics": [{"name": "fired", "target": "once"}],
            "exit": ["done"],
            "owner_role": "csm",
            "cooldown_days": cooldown,
        }
    )


TRIGGER_LIBRARY = {
    p.name: p
    for p in [
        one_step_playbook("band", {"band_entered": ["critical"]}),
        one_step_playbook("risk", {"churn_risk_at_least": 0.6}),
        one_step_playbook("fell", {"health_fell": {"points": 15, "days": 30}}),
        one_step_playbook("new", {"new_account": {"within_days": 7}}),
        one_step_playbook(
            "milestone", {"milestone_overdue": {"milestone": "first_value", "days": 30}}
        ),
        one_step_playbook("urgent", {"urgent_ticket": {"within_days": 2}}),
        one_step_playbook("champion", {"champion_left": {"within_days": 30}}),
        one_step_playbook("sponsor", {"sponsor_left": {"within_days": 30}}),
        one_step_playbook("detractor", {"nps_detractor": {"within_days": 2}}),
        one_step_playbook("invoice", {"invoice_overdue": {"days": 10}}),
        one_step_playbook(
            "big_logins", {"all": [{"logins_down": {"pct": 50}}, {"arr": {"min": 100_000}}]}
        ),
    ]
}


def seed_trigger_history(session: Session) -> None:
    """One account per trigger kind, plus decoys that must not fire."""
    for account_id in ("BAND", "RISK", "FELL", "URG", "CHAMP", "SPON", "NPS", "INV", "QUIET"):
        add_account(session, account_id)
        add_score(session, account_id, as_of=TODAY - dt.timedelta(days=1), band="healthy")
    add_account(session, "NEW", days_old=3)
    add_account(session, "LATE", days_old=40)
    add_account(session, "ONTIME", days_old=40)
    add_account(session, "BIGDROP", segment="enterprise")
    add_account(session, "SMALLDROP")
    add_score(session, "BAND", band="critical", health=35)
    add_score(session, "RISK", churn_risk=0.65)
    add_score(session, "FELL", as_of=TODAY - dt.timedelta(days=20), health=88)
    add_score(session, "FELL", health=70, band="neutral")
    for account_id in ("NEW", "LATE", "ONTIME", "URG", "CHAMP", "SPON", "NPS", "INV", "QUIET"):
        add_score(session, account_id)
    add_score(session, "BIGDROP", arr=150_000, signals={"login_change": -0.6})
    add_score(session, "SMALLDROP", arr=20_000, signals={"login_change": -0.6})
    session.add(
        LifecycleEvent(
            account_id="ONTIME",
            occurred_at=NOW - dt.timedelta(days=20),
            kind="milestone",
            detail="first_value",
        )
    )
    session.add(
        LifecycleEvent(
            account_id="LATE",
            occurred_at=NOW - dt.timedelta(days=20),
            kind="milestone",
            detail="kickoff",
        )
    )
    session.add(
        Ticket(
            ticket_id="T1",
            account_id="URG",
            opened_at=NOW - dt.timedelta(days=1),
            priority="urgent",
        )
    )
    session.add(
        Ticket(
            ticket_id="T2",
            account_id="QUIET",
            opened_at=NOW - dt.timedelta(days=9),
            priority="urgent",
        )
    )
    session.add(Ticket(ticket_id="T3", account_id="QUIET", opened_at=NOW, priority="normal"))
    session.add(
        Contact(
            contact_id="C1", account_id="CHAMP", role="champion", left_at=NOW - dt.timedelta(days=5)
        )
    )
    session.add(
        Contact(
            contact_id="C2",
            account_id="SPON",
            role="executive_sponsor",
            left_at=NOW - dt.timedelta(days=5),
        )
    )
    session.add(
        Contact(
            contact_id="C3", account_id="QUIET", role="end_user", left_at=NOW - dt.timedelta(days=5)
        )
    )
    session.add(
        Contact(
            contact_id="C4", account_id="QUIET", role="champion", left_at=NOW + dt.timedelta(days=5)
        )
    )
    session.add(
        SurveyResponse(
            response_id="S1",
            account_id="NPS",
            submitted_at=NOW - dt.timedelta(days=1),
            kind="nps",
            score=3,
        )
    )
    session.add(
        SurveyResponse(
            response_id="S2",
            account_id="QUIET",
            submitted_at=NOW - dt.timedelta(days=1),
            kind="nps",
            score=9,
        )
    )
    session.add(
        Invoice(invoice_id="I1", account_id="INV", due_at=NOW - dt.timedelta(days=15), amount=100)
    )
    session.add(
        Invoice(
            invoice_id="I2",
            account_id="QUIET",
            due_at=NOW - dt.timedelta(days=15),
            paid_at=NOW - dt.timedelta(days=14),
            amount=100,
        )
    )
    session.commit()


def started(runs: list[PlaybookRun]) -> set[tuple[str, str]]:
    return {(run.account_id, run.playbook) for run in runs}


def test_every_trigger_kind_fires_from_the_database(session, clock):
    seed_trigger_history(session)
    runs = engine.evaluate_triggers(session, as_of=TODAY, library=TRIGGER_LIBRARY, clock=clock)
    session.commit()
    assert started(runs) == {
        ("BAND", "band"),
        ("BAND", "fell"),  # 85 yesterday, 35 today
        ("RISK", "risk"),
        ("FELL", "fell"),
        ("NEW", "new"),
        ("LATE", "milestone"),
        ("URG", "urgent"),
        ("CHAMP", "champion"),
        ("SPON", "sponsor"),
        ("NPS", "detractor"),
        ("INV", "invoice"),
        ("BIGDROP", "big_logins"),
    }
    reason = {(run.account_id, run.playbook): run.trigger_reason for run in runs}
    assert reason["BAND", "band"] == "entered critical (was healthy)"
    assert reason["FELL", "fell"] == "health fell 18 points in 30 days (to 70)"
    assert reason["INV", "invoice"] == "invoice overdue 15 days"
    assert (
        reason["LATE", "milestone"] == "first_value not reached 40 days after start (due by day 30)"
    )
    assert all(run.source == "scheduler" and run.started_by == "csbot" for run in runs)
    steps = session.exec(select(PlaybookStep)).all()
    assert len(steps) == len(runs)
    assert {s.due_at for s in steps} == {NOW + dt.timedelta(days=2)}
    audits = session.exec(select(AuditLog).where(AuditLog.action == "run.started")).all()
    assert len(audits) == len(runs)


def test_active_runs_and_cooldowns_hold_back_triggers(session, clock):
    seed_trigger_history(session)
    library = {"risk": TRIGGER_LIBRARY["risk"]}  # cooldown 10 days
    [run] = engine.evaluate_triggers(session, as_of=TODAY, library=library, clock=clock)
    session.commit()
    assert engine.evaluate_triggers(session, as_of=TODAY, library=library, clock=clock) == []
    clock.advance(days=3)
    engine.close_run(session, run_id=run.id, actor="U1", source="slack", clock=clock)
    session.commit()
    for days, expected in ((12, 0), (13, 1)):  # closed on day 3: cooldown ends day 13
        as_of = TODAY + dt.timedelta(days=days)
        add_score(session, "RISK", as_of=as_of, churn_risk=0.65)
        session.commit()
        clock.set(dt.datetime.combine(as_of, dt.time(6)))
        runs = engine.evaluate_triggers(session, as_of=as_of, library=library, clock=clock)
        session.commit()
        assert len(runs) == expected, days


def test_shipped_library_starts_the_expected_plays(session, clock):
    seed(session, "A1", band="critical", health=30)  # no earlier score: first score counts
    add_account(session, "A2", days_old=2)
    add_score(session, "A2")
    session.commit()
    runs = engine.evaluate_triggers(session, as_of=TODAY, library=LIBRARY, clock=clock)
    session.commit()
    assert ("A1", "churn_risk_save") in started(runs)
    assert ("A1", "renewal") in started(runs)  # 92 days to renewal
    assert ("A2", "onboarding_first_value") in started(runs)
    renewal = next(r for r in runs if r.playbook == "renewal")
    assert renewal.anchor_date == dt.date(2026, 9, 1)


def test_target_tier_is_one_tier_per_grace_period():
    from playbooks.escalation import target_tier

    due, grace = NOW, dt.timedelta(hours=48)
    late = lambda hours: NOW + dt.timedelta(hours=hours)  # noqa: E731
    assert [target_tier("csm", due, None, late(h), grace) for h in (0, 47, 48, 95, 96, 500)] == [
        0, 0, 1, 1, 2, 2
    ]  # fmt: skip
    assert target_tier("ae", due, None, late(48), grace) == 1
    assert target_tier("manager", due, None, late(48), grace) == 2
    assert target_tier("exec_sponsor", due, None, late(500), grace) == 2
    assert target_tier("csm", due, late(100), late(120), grace) == 0  # counts from the snooze end
    assert target_tier("csm", due, None, late(1), dt.timedelta(0)) == 2  # no grace: straight up
    assert target_tier("csm", due, None, due, dt.timedelta(0)) == 0
