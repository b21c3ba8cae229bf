"""Escalations reach managers as one batched roll-up a day, never one message per step.

Through the real hourly `reminders` job and the `digests` job, against the fake Slack
server: a CSM's slipped steps on two accounts escalate to their manager (from
CSBOT_MANAGER_MAPPING_FILE), who owns no account. On the manager's digest day the
escalations ride in one digest of their own; on another day they go alone as one roll-up;
either way the noise budget decides and records it, and no per-step escalation is queued.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path
from typing import Any

from sqlmodel import Session, select

from bot.delivery.limits import validate_message
from bot.scheduling import jobs
from storage.clock import FixedClock
from storage.models import Account, OutboxMessage, PlaybookRun, PlaybookStep
from storage.models.noise import DeliveryLedger, PersonPrefs
from tests.test_noise_budget import runtime_for

MONDAY = dt.date(2026, 6, 1)
CSM = ("csm@example.com", "U0CSM")
BOSS = ("boss@example.com", "U0BOSS")


def seed(engine: Any) -> None:
    with Session(engine) as session:
        for a in ("A1", "A2"):
            session.add(Account(account_id=a, name=f"Acme {a}", owner=CSM[0]))
            run = PlaybookRun(account_id=a, playbook="churn_risk_save", status="active",
                              started_at=dt.datetime(2026, 5, 1), started_by="scheduler", owner=CSM[0])  # fmt: skip
            session.add(run)
            session.flush()
            for s in range(3):
                session.add(PlaybookStep(run_id=run.id or 0, position=s, title=f"Call {a}-{s}", kind="task",
                                         owner_role="csm", owner=CSM[0], due_at=dt.datetime(2026, 5, 25 + s)))  # fmt: skip
        # The manager gets a digest on Mondays only: Tuesday's roll-up goes on its own.
        session.add(PersonPrefs(user_id=BOSS[1], email=BOSS[0], digest_days="mon",
                                updated_at=dt.datetime(2026, 5, 1)))  # fmt: skip
        session.commit()


def day_of_jobs(runtime: Any, clock: FixedClock, day: dt.date, fake: Any) -> Counter:
    """Every hour of `day` as the scheduler runs it; messages per channel that reached Slack."""
    seen = len(fake.calls_to("chat.postMessage"))
    for hour in range(24):
        clock.set(dt.datetime.combine(day, dt.time(hour, 5)))
        jobs.reminders(runtime, clock)
        jobs.digests(runtime, clock)
    return Counter(c.args["channel"] for c in fake.calls_to("chat.postMessage")[seen:])


def test_managers_get_one_escalation_rollup_a_day(engine, fake_slack, tmp_path: Path) -> None:
    seed(engine)
    for email, user_id in (CSM, BOSS):
        fake_slack.add_user(email, user_id, tz="UTC")
    managers = tmp_path / "managers.csv"
    managers.write_text(f"csm_email,manager\n{CSM[0]},{BOSS[0]}\n")
    clock = FixedClock(dt.datetime.combine(MONDAY, dt.time(0, 5)))
    runtime = runtime_for(
        engine, clock, fake_slack, manager_mapping_file=managers, escalation_grace_hours=24
    )

    monday = day_of_jobs(runtime, clock, MONDAY, fake_slack)
    tuesday = day_of_jobs(runtime, clock, MONDAY + dt.timedelta(days=1), fake_slack)
    assert monday[BOSS[1]] == 1 and tuesday[BOSS[1]] == 1, (monday, tuesday)
    assert monday[CSM[1]] == 1 and tuesday[CSM[1]] == 1  # the CSM's digest carries their own
    to_boss = [
        c.args for c in fake_slack.calls_to("chat.postMessage") if c.args["channel"] == BOSS[1]
    ]
    for message in to_boss:
        validate_message({"text": message["text"], "blocks": message["blocks"]})
        shown = str(message["blocks"])
        assert "Escalated to you" in shown or "escalated to you" in shown
        assert all(f"Call {a}-{s}" in shown for a in ("A1", "A2") for s in range(3))
    with Session(engine) as session:
        kinds = {row.kind for row in session.exec(select(OutboxMessage))}
        assert "escalation" not in kinds  # no per-step notice, ever
        decided = {
            row.key: row.decision
            for row in session.exec(
                select(DeliveryLedger).where(DeliveryLedger.recipient == BOSS[0])
            )
        }
        steps = session.exec(select(PlaybookStep)).all()
    assert all(step.escalation_tier >= 1 for step in steps)  # they did escalate
    # Monday: folded into the manager's digest; Tuesday: the roll-up itself, budgeted.
    assert decided[f"reminders:{BOSS[0]}:2026-06-01"] == "folded"
    assert decided[f"reminders:{BOSS[0]}:2026-06-02"] in ("sent", "deferred")
    assert decided[f"digest:{BOSS[0]}:2026-06-01"] == "sent"
