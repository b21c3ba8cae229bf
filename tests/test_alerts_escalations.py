"""Escalation notices: a slipped step reaches its CSM, then their manager, then the leaders,
each once however often the hourly job runs."""

from __future__ import annotations

import datetime as dt

from sqlmodel import Session, select

from bot.delivery.limits import validate_message
from bot.plays.scheduled import escalation_recipients, queue_escalations
from bot.settings import Settings
from playbooks import engine
from playbooks.escalation import Escalation
from playbooks.library import load_library
from storage.clock import FixedClock
from storage.models import Account, AccountScore, OutboxMessage, PlaybookStep, SlackUser

NOW = dt.datetime(2026, 6, 1, 9, 0)


def _escalation(to_tier: str, owner: str | None = "csm@example.com") -> Escalation:
    return Escalation(1, 1, "A1", "churn_risk_save", "Call", owner, "csm", to_tier, NOW, 60.0)


def test_recipients_grow_with_the_tier():
    managers = {"csm@example.com": frozenset({"boss@example.com", "U0BOSS"})}
    assert escalation_recipients(_escalation("csm"), managers, "C0LEAD") == ["csm@example.com"]
    assert escalation_recipients(_escalation("manager"), managers, "C0LEAD") == [
        "csm@example.com",
        "U0BOSS",
        "boss@example.com",
    ]
    assert escalation_recipients(_escalation("executive"), managers, "C0LEAD")[-1] == "C0LEAD"
    assert escalation_recipients(_escalation("executive", owner=None), {}, None) == []


def test_overdue_steps_are_noticed_once_per_tier(session, tmp_path):
    session: Session = session
    clock = FixedClock(NOW)
    session.add(Account(account_id="A1", name="Acme Corp", segment="smb", owner="csm@example.com"))
    session.add(
        AccountScore(account_id="A1", as_of=NOW.date(), health=45, band="at_risk", arr=20_000)
    )
    for email, user in (("csm@example.com", "U0CSM"), ("boss@example.com", "U0BOSS")):
        session.add(SlackUser(email=email, user_id=user, source="mapping", fetched_at=NOW))
    session.commit()
    run = engine.start_run(
        session,
        account_id="A1",
        playbook=load_library()["churn_risk_save"],
        actor="scheduler",
        source="scheduler",
        clock=clock,
    )
    session.commit()
    managers = tmp_path / "managers.csv"
    managers.write_text("csm_email,manager\ncsm@example.com,boss@example.com\n")
    settings = Settings(
        manager_mapping_file=managers, leaders_channel="C0LEAD", escalation_grace_hours=24
    )
    first = session.exec(
        select(PlaybookStep).where(PlaybookStep.run_id == run.id).order_by(PlaybookStep.due_at)
    ).first()
    assert first is not None

    def hourly() -> list[OutboxMessage]:
        escalations = engine.escalate_overdue(session, clock=clock, grace_hours=24)
        rows = queue_escalations(session, escalations, clock=clock, settings=settings, client=None)
        session.commit()
        return rows

    clock.set(first.due_at + dt.timedelta(hours=30))  # one grace late: the manager tier
    rows = hourly()
    keys = sorted(
        row.idempotency_key
        for row in rows
        if row.idempotency_key.startswith(f"escalation:{first.id}:")
    )
    assert keys == [
        f"escalation:{first.id}:manager:boss@example.com",
        f"escalation:{first.id}:manager:csm@example.com",
    ]
    for row in rows:
        validate_message(row.payload)
    assert {row.channel for row in rows} <= {"U0CSM", "U0BOSS"}
    assert "overdue" in rows[0].payload["text"]

    clock.advance(hours=1)
    assert hourly() == []  # nothing new: same tier, no second notice

    clock.advance(hours=24)  # another grace: the executive tier reaches the leaders' channel
    hourly()
    channels = {
        row.channel
        for row in session.exec(select(OutboxMessage)).all()
        if row.idempotency_key.startswith(f"escalation:{first.id}:executive:")
    }
    assert channels == {"U0CSM", "U0BOSS", "C0LEAD"}
