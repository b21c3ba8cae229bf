"""Alert rules on plain scores: which states are entered, and what is said once."""

from __future__ import annotations

import datetime as dt
from typing import Any

from bot.alerts.detect import alert_states, detect_alerts
from bot.alerts.service import plan_alerts
from storage.models import AccountScore, Alert

AS_OF = dt.date(2026, 6, 1)
NOW = dt.datetime(2026, 6, 1, 6, 0)


def score(**values: Any) -> AccountScore:
    defaults: dict[str, Any] = {
        "account_id": "acc-1",
        "as_of": AS_OF,
        "health": 70.0,
        "band": "neutral",
        "arr": 50_000.0,
        "churn_risk": 0.2,
        "expansion": 0.1,
    }
    defaults.update(values)
    return AccountScore(**defaults)


def kinds(candidates: list) -> list[tuple[str, str]]:
    return [(c.kind, c.state) for c in candidates]


def test_entering_at_risk_or_critical_alerts_improving_does_not() -> None:
    neutral, at_risk, critical = (
        score(),
        score(band="at_risk", health=50.0),
        score(band="critical", health=30.0),
    )
    assert kinds(detect_alerts(neutral, at_risk, risk_threshold=0.5)) == [("band", "at_risk")]
    assert kinds(detect_alerts(at_risk, critical, risk_threshold=0.5)) == [("band", "critical")]
    assert detect_alerts(critical, at_risk, risk_threshold=0.5) == []
    assert detect_alerts(at_risk, at_risk, risk_threshold=0.5) == []
    assert kinds(detect_alerts(None, critical, risk_threshold=0.5)) == [("band", "critical")]
    alert = detect_alerts(neutral, critical, risk_threshold=0.5)[0]
    assert alert.title == "entered critical (was neutral): health 30"
    assert alert.previous_state is None


def test_risk_rising_past_the_threshold() -> None:
    before, after = score(churn_risk=0.45), score(churn_risk=0.55)
    (alert,) = detect_alerts(before, after, risk_threshold=0.5)
    assert (alert.kind, alert.state) == ("risk", "risk>=0.5")
    assert alert.title == "churn risk rose to 55%, up from 45%"
    assert detect_alerts(after, score(churn_risk=0.9), risk_threshold=0.5) == []
    assert detect_alerts(before, after, risk_threshold=0.6) == []
    assert detect_alerts(None, score(churn_risk=None), risk_threshold=0.5) == []


def test_stakeholder_turning_critical_and_expansion_firing() -> None:
    roles = {"executive_sponsor": {"contact": "Ana", "silent_days": 61, "state": "silent"}}
    turned = score(stakeholder_band="critical", stakeholders={"roles": roles})
    (alert,) = detect_alerts(score(stakeholder_band="concern"), turned, risk_threshold=0.5)
    assert (alert.kind, alert.state) == ("stakeholder", "critical")
    assert alert.reasons == ("executive sponsor Ana: silent for 61 days",)
    grows = score(band="healthy", expansion=0.75, expansion_reasons=[{"text": "Seats 97% used"}])
    (alert,) = detect_alerts(score(band="healthy"), grows, risk_threshold=0.5)
    assert (alert.kind, alert.state, alert.reasons) == (
        "expansion",
        "expansion>=0.6",
        ("Seats 97% used",),
    )
    # an account in trouble is not an expansion alert
    assert (
        alert_states(score(band="at_risk", expansion=0.9), risk_threshold=0.5)["expansion"] is None
    )


def open_alert(kind: str, state: str, created: dt.datetime = NOW) -> Alert:
    return Alert(account_id="acc-1", kind=kind, state=state, as_of=AS_OF, created_at=created)


def test_plan_fires_once_clears_on_change_and_repeats_after_a_snooze() -> None:
    critical = score(band="critical", health=30.0)
    plan = plan_alerts([critical], {}, {}, snoozed=set(), snooze_ended={}, risk_threshold=0.5)
    assert kinds(plan.fire) == [("band", "critical")] and plan.clear == []
    # already alerted, state unchanged: nothing
    existing = open_alert("band", "critical")
    plan = plan_alerts(
        [critical], {}, {"acc-1": [existing]}, snoozed=set(), snooze_ended={}, risk_threshold=0.5
    )
    assert plan.fire == [] and plan.clear == []
    # state changed: the old alert clears (and the new state fires)
    at_risk = score(band="at_risk", health=50.0)
    plan = plan_alerts(
        [at_risk], {}, {"acc-1": [existing]}, snoozed=set(), snooze_ended={}, risk_threshold=0.5
    )
    assert plan.clear == [existing] and kinds(plan.fire) == [("band", "at_risk")]
    # snoozed: nothing fires
    plan = plan_alerts([critical], {}, {}, snoozed={"acc-1"}, snooze_ended={}, risk_threshold=0.5)
    assert plan.fire == []
    # a snooze that ended after the alert: it is said again
    ended = {"acc-1": NOW + dt.timedelta(days=7)}
    plan = plan_alerts(
        [critical], {}, {"acc-1": [existing]}, snoozed=set(), snooze_ended=ended, risk_threshold=0.5
    )
    assert kinds(plan.fire) == [("band", "critical")]
    # …but a snooze that ended before the alert was raised does not repeat it
    old = {"acc-1": NOW - dt.timedelta(days=1)}
    plan = plan_alerts(
        [critical], {}, {"acc-1": [existing]}, snoozed=set(), snooze_ended=old, risk_threshold=0.5
    )
    assert plan.fire == []
