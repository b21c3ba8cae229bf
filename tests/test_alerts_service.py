"""raise_alerts against a real database: alerts fire once, clear on change, respect snoozes."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlmodel import Session, select

from bot.alerts.service import raise_alerts
from bot.delivery.limits import validate_message
from bot.settings import Settings
from storage.clock import FixedClock
from storage.models import Account, AccountScore, Alert, OutboxMessage, SlackUser, Snooze

DAY = dt.date(2026, 6, 1)
# These tests are about the alerts' memory; the noise budget has its own (test_noise_budget).
NO_BUDGET: dict[str, Any] = {"default_delivery": "everything", "realtime_per_day": 10}


def add_score(session: Session, day: dt.date, **values: Any) -> None:
    defaults: dict[str, Any] = {
        "health": 70.0,
        "band": "neutral",
        "arr": 80_000.0,
        "churn_risk": 0.2,
        "reasons": [{"signal": "login_change", "impact": -9.0, "text": "Logins down 40%"}],
    }
    defaults.update(values)
    session.add(AccountScore(account_id="acc-1", as_of=day, **defaults))
    session.commit()


def run(session: Session, clock: FixedClock, day: dt.date, settings: Settings) -> list[str]:
    clock.set(dt.datetime.combine(day, dt.time(6, 0)))
    queued = raise_alerts(session, as_of=day, clock=clock, settings=settings)
    session.commit()
    return [row.idempotency_key for row in queued]


def test_alerts_fire_once_clear_on_change_and_respect_snoozes(session: Session) -> None:
    clock = FixedClock(dt.datetime.combine(DAY, dt.time(6, 0)))
    settings = Settings(_env_file=None, **NO_BUDGET, risk_alert_threshold=0.5, digest_channel=None)  # type: ignore[call-arg]
    session.add(Account(account_id="acc-1", name="Acme", owner="dana@x.io"))
    session.add(Account(account_id="acc-2", name="Nobody's", owner=None))
    session.add(
        SlackUser(email="dana@x.io", user_id="U1", source="mapping", fetched_at=clock.now())
    )
    session.commit()
    days = [DAY + dt.timedelta(days=n) for n in range(10)]

    add_score(session, days[0])
    assert run(session, clock, days[0], settings) == []

    add_score(session, days[1], band="critical", health=30.0, churn_risk=0.7)
    keys = run(session, clock, days[1], settings)
    assert keys == ["alert:acc-1:band:critical:2026-06-02", "alert:acc-1:risk:risk>=0.5:2026-06-02"]
    rows = session.exec(select(OutboxMessage).order_by(OutboxMessage.id)).all()
    assert [row.channel for row in rows] == ["U1", "U1"]
    assert all(row.kind == "alert" and row.account_id == "acc-1" for row in rows)
    validate_message(rows[0].payload)
    assert "Acme* entered critical (was neutral)" in rows[0].payload["blocks"][0]["text"]["text"]

    # the same day again, and the next day in the same state: nothing new
    assert run(session, clock, days[1], settings) == []
    add_score(session, days[2], band="critical", health=31.0, churn_risk=0.72)
    assert run(session, clock, days[2], settings) == []
    assert len(session.exec(select(OutboxMessage)).all()) == 2

    # recovery clears both alerts
    add_score(session, days[3], band="neutral", health=66.0, churn_risk=0.3)
    assert run(session, clock, days[3], settings) == []
    alerts = session.exec(select(Alert)).all()
    assert len(alerts) == 2 and all(a.cleared_at is not None for a in alerts)

    # back to critical: it fires again, reusing the alert row, as a new message
    add_score(session, days[4], band="critical", health=35.0, churn_risk=0.4)
    assert run(session, clock, days[4], settings) == ["alert:acc-1:band:critical:2026-06-05"]
    band = session.exec(select(Alert).where(Alert.kind == "band")).one()
    assert band.cleared_at is None and band.as_of == days[4]

    # snoozed for 3 days: the stakeholder alert waits
    session.add(
        Snooze(
            account_id="acc-1",
            until=dt.datetime.combine(days[8], dt.time(0, 0)),
            by="U1",
            created_at=clock.now(),
        )
    )
    session.commit()
    for day in days[5:8]:
        add_score(
            session, day, band="critical", health=35.0, churn_risk=0.4, stakeholder_band="critical"
        )
        assert run(session, clock, day, settings) == []
    # the snooze ended: the stakeholder alert fires, and the standing critical one is repeated
    add_score(
        session, days[8], band="critical", health=35.0, churn_risk=0.4, stakeholder_band="critical"
    )
    assert run(session, clock, days[8], settings) == [
        "alert:acc-1:band:critical:2026-06-09",
        "alert:acc-1:stakeholder:critical:2026-06-09",
    ]
    add_score(
        session, days[9], band="critical", health=35.0, churn_risk=0.4, stakeholder_band="critical"
    )
    assert run(session, clock, days[9], settings) == []
    assert len(session.exec(select(Alert)).all()) == 3  # one row per account/kind/state


def test_alerts_go_to_a_configured_channel_mentioning_the_owner(session: Session) -> None:
    clock = FixedClock(dt.datetime.combine(DAY, dt.time(6, 0)))
    settings = Settings(_env_file=None, **NO_BUDGET, digest_channel="C0DIGEST")  # type: ignore[call-arg]
    session.add(Account(account_id="acc-1", name="Acme", owner="dana@x.io"))
    session.add(
        SlackUser(email="dana@x.io", user_id="U1", source="mapping", fetched_at=clock.now())
    )
    session.commit()
    add_score(session, DAY, band="at_risk", health=50.0)
    run(session, clock, DAY, settings)
    (row,) = session.exec(select(OutboxMessage)).all()
    assert row.channel == "C0DIGEST"
    assert row.payload["blocks"][0]["text"]["text"].startswith("<@U1> 🚨 *Acme* entered at risk")


def test_an_owner_without_a_slack_user_gets_the_alert_once_reachable(session: Session) -> None:
    clock = FixedClock(dt.datetime.combine(DAY, dt.time(6, 0)))
    settings = Settings(_env_file=None, **NO_BUDGET, digest_channel=None)  # type: ignore[call-arg]
    session.add(Account(account_id="acc-1", name="Acme", owner="ghost@x.io"))
    session.commit()
    add_score(session, DAY, band="critical", health=30.0)
    assert run(session, clock, DAY, settings) == []
    assert session.exec(select(Alert)).all() == []
    session.add(
        SlackUser(email="ghost@x.io", user_id="U9", source="mapping", fetched_at=clock.now())
    )
    session.commit()
    assert run(session, clock, DAY, settings) == ["alert:acc-1:band:critical:2026-06-01"]
    (row,) = session.exec(select(OutboxMessage)).all()
    start = next(e for b in row.payload["blocks"] if b["type"] == "actions" for e in b["elements"])
    assert start["action_id"] == "account-start-playbook"  # the configured library is offered
