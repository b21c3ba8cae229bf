"""Trigger conditions evaluated on plain data: every kind, combinators, filters, suggestions."""

from __future__ import annotations

import datetime as dt

import pytest
from pydantic import TypeAdapter

from playbooks.account_context import AccountContext, EventFacts
from playbooks.conditions import Condition
from playbooks.library import load_library
from playbooks.suggest import suggest_playbooks
from storage.models import AccountScore

AS_OF = dt.date(2026, 6, 1)
CONDITION = TypeAdapter(Condition)


def ctx(**overrides) -> AccountContext:
    values = dict(
        account_id="A1",
        as_of=AS_OF,
        health=70.0,
        band="neutral",
        segment="mid_market",
        arr=40_000.0,
        events=EventFacts(start_date=AS_OF - dt.timedelta(days=400)),
    )
    values.update(overrides)
    return AccountContext(**values)


def matches(condition: dict, context: AccountContext) -> list[str] | None:
    return CONDITION.validate_python(condition).match(context)


def at(days_ago: int) -> dt.datetime:
    return dt.datetime.combine(AS_OF, dt.time(10)) - dt.timedelta(days=days_ago)


# --- score -----------------------------------------------------------------------------


def test_band_entered_fires_on_the_change_only():
    rule = {"band_entered": ["at_risk", "critical"]}
    assert matches(rule, ctx(band="at_risk", previous_band="neutral")) == [
        "entered at_risk (was neutral)"
    ]
    assert matches(rule, ctx(band="critical", previous_band="at_risk")) is None  # stayed inside
    assert matches(rule, ctx(band="neutral", previous_band="at_risk")) is None
    assert matches(rule, ctx(band="critical", previous_band=None)) == [
        "scored critical (first score)"
    ]


def test_band_filter_and_churn_risk_threshold():
    assert matches({"band": "healthy"}, ctx(band="healthy")) == []
    assert matches({"band": "healthy"}, ctx(band="neutral")) is None
    rule = {"churn_risk_at_least": 0.6}
    assert matches(rule, ctx(churn_risk=0.6)) == ["churn risk 60% ≥ 60%"]
    assert matches(rule, ctx(churn_risk=0.59)) is None
    assert matches(rule, ctx(churn_risk=None)) is None


def test_health_fell_uses_the_peak_of_the_window():
    rule = {"health_fell": {"points": 15, "days": 30}}
    assert matches(rule, ctx(health=55, peak_health={30: 72})) == [
        "health fell 17 points in 30 days (to 55)"
    ]
    assert matches(rule, ctx(health=60, peak_health={30: 72})) is None
    assert matches(rule, ctx(health=60, peak_health={30: None})) is None  # no history
    # Only the score row known: its own 30-day delta stands in.
    assert matches(rule, ctx(health=50, health_delta_30d=-16)) is not None
    assert matches(rule, ctx(health=50, health_delta_30d=-14)) is None


# --- events ----------------------------------------------------------------------------


def test_new_account_within_days():
    rule = {"new_account": {"within_days": 7}}
    assert matches(rule, ctx(events=EventFacts(start_date=AS_OF - dt.timedelta(days=3))))
    assert matches(rule, ctx(events=EventFacts(start_date=AS_OF - dt.timedelta(days=8)))) is None
    assert matches({"new_account": True}, ctx(signals={"tenure_days": 2}, events=None))


def test_milestone_overdue():
    rule = {"milestone_overdue": {"milestone": "first_value", "days": 30}}
    started = AS_OF - dt.timedelta(days=35)
    assert matches(rule, ctx(events=EventFacts(start_date=started))) == [
        "first_value not reached 35 days after start (due by day 30)"
    ]
    reached = EventFacts(start_date=started, milestones={"first_value": AS_OF})
    assert matches(rule, ctx(events=reached)) is None
    too_early = EventFacts(start_date=AS_OF - dt.timedelta(days=20))
    assert matches(rule, ctx(events=too_early)) is None
    long_past = EventFacts(start_date=AS_OF - dt.timedelta(days=91))  # no longer onboarding
    assert matches(rule, ctx(events=long_past)) is None
    assert matches({"milestone_overdue": {"days": 30, "until_day": 100}}, ctx(events=long_past))
    other = EventFacts(start_date=started, milestones={"kickoff": AS_OF})
    assert matches(rule, ctx(events=other)) is not None
    assert matches({"milestone_overdue": {"days": 30}}, ctx(events=other)) is None


def test_urgent_ticket_recent_or_open_signal():
    rule = {"urgent_ticket": {"within_days": 2}}
    assert matches(rule, ctx(events=EventFacts(last_urgent_ticket_at=at(1))))
    assert matches(rule, ctx(events=EventFacts(last_urgent_ticket_at=at(5)))) is None
    assert matches(rule, ctx(events=EventFacts())) is None
    assert matches(rule, ctx(events=None, signals={"urgent_open": 2})) == [
        "2 urgent ticket(s) open"
    ]


def test_champion_and_sponsor_left():
    assert matches({"champion_left": True}, ctx(events=EventFacts(champion_left_at=at(10))))
    assert (
        matches(
            {"champion_left": {"within_days": 5}}, ctx(events=EventFacts(champion_left_at=at(10)))
        )
        is None
    )
    assert matches({"sponsor_left": True}, ctx(events=EventFacts(sponsor_left_at=at(0))))
    assert matches({"sponsor_left": True}, ctx(events=EventFacts(champion_left_at=at(0)))) is None
    assert matches({"champion_left": True}, ctx(events=None, signals={"champion_left": 1.0}))
    assert matches({"sponsor_left": True}, ctx(events=None, signals={"sponsor_left": 0.0})) is None


def test_nps_detractor():
    rule = {"nps_detractor": {"within_days": 2}}
    facts = EventFacts(last_detractor_at=at(1), last_detractor_score=4)
    assert matches(rule, ctx(events=facts)) == ["NPS detractor (4) on 2026-05-31"]
    old = EventFacts(last_detractor_at=at(3), last_detractor_score=4)
    assert matches(rule, ctx(events=old)) is None
    assert matches(rule, ctx(events=None, signals={"nps_last": 6})) is not None
    assert matches(rule, ctx(events=None, signals={"nps_last": 7})) is None


def test_invoice_overdue():
    rule = {"invoice_overdue": {"days": 15}}
    assert matches(rule, ctx(events=EventFacts(oldest_overdue_due_at=at(20)))) == [
        "invoice overdue 20 days"
    ]
    assert matches(rule, ctx(events=EventFacts(oldest_overdue_due_at=at(10)))) is None
    assert matches(rule, ctx(events=EventFacts())) is None
    assert matches(rule, ctx(events=None, signals={"days_overdue": 30})) is not None


# --- time ------------------------------------------------------------------------------


def test_days_to_renewal_from_date_or_signal():
    rule = {"days_to_renewal": {"at_least": 15, "at_most": 120}}
    assert matches(rule, ctx(renewal_date=AS_OF + dt.timedelta(days=120))) == [
        "renewal in 120 days"
    ]
    assert matches(rule, ctx(renewal_date=AS_OF + dt.timedelta(days=121))) is None
    assert matches(rule, ctx(renewal_date=AS_OF + dt.timedelta(days=14))) is None
    assert matches(rule, ctx(signals={"days_to_renewal": 90.0})) is not None
    assert matches(rule, ctx()) is None


def test_days_since_start():
    rule = {"days_since_start": {"at_least": 80}}
    assert matches(rule, ctx()) == ["customer for 400 days"]
    assert matches(rule, ctx(events=EventFacts(start_date=AS_OF - dt.timedelta(days=79)))) is None
    assert matches(rule, ctx(events=EventFacts())) is None


# --- behaviour -------------------------------------------------------------------------


def test_logins_down_against_baseline():
    rule = {"logins_down": {"pct": 50}}
    assert matches(rule, ctx(signals={"login_change": -0.54})) == [
        "logins down 54% against the 90-day baseline"
    ]
    assert matches(rule, ctx(signals={"login_change": -0.4})) is None
    assert matches(rule, ctx(signals={"logins_30d": 10, "logins_baseline_30d": 40})) is not None
    assert matches(rule, ctx(signals={"login_change": float("nan")})) is None


def test_stakeholder_band_and_multithreading():
    assert matches({"stakeholder_band": ["concern", "critical"]}, ctx(stakeholder_band="concern"))
    assert matches({"stakeholder_band": "critical"}, ctx(stakeholder_band="watch")) is None
    rule = {"multithreading_below_target": {"by_at_least": 2}}
    assert matches(rule, ctx(stakeholders={"engaged_contacts": 1, "target": 4})) == [
        "1 engaged contacts against a target of 4"
    ]
    assert matches(rule, ctx(stakeholders={"engaged_contacts": 3, "target": 4})) is None
    signals = {"engaged_contacts_90d": 2.0, "multithreading_target": 5.0}
    assert matches(rule, ctx(signals=signals)) is not None


# --- expansion -------------------------------------------------------------------------


def test_seat_saturation_and_advanced_adoption():
    rule = {"seat_saturation": {"utilisation": 0.85, "days": 21}}
    full = {"seat_saturation_days": 25, "license_utilisation": 0.9}
    assert matches(rule, ctx(signals=full)) == ["seats at 90% for 25 days"]
    assert matches(rule, ctx(signals={**full, "seat_saturation_days": 20})) is None
    assert matches(rule, ctx(signals={**full, "license_utilisation": 0.7})) is None
    adoption = {"advanced_feature_adoption": {"at_least": 0.4}}
    assert matches(adoption, ctx(signals={"advanced_feature_adoption": 0.45}))
    assert matches(adoption, ctx(signals={"advanced_feature_adoption": 0.2})) is None


# --- filters and combinators -----------------------------------------------------------


def test_segment_and_arr_filters():
    assert matches({"segment": ["enterprise", "mid_market"]}, ctx()) == []
    assert matches({"segment": "smb"}, ctx()) is None
    assert matches({"segment": "smb"}, ctx(segment=None)) is None
    assert matches({"arr": {"min": 40_000}}, ctx()) == []
    assert matches({"arr": {"min": 40_001}}, ctx()) is None
    assert matches({"arr": {"max": 40_000}}, ctx()) is None  # max is exclusive
    assert matches({"arr": {"min": 10_000, "max": 50_000}}, ctx()) == []


def test_all_any_not_combine_reasons():
    rule = {
        "all": [
            {"any": [{"churn_risk_at_least": 0.5}, {"logins_down": {"pct": 50}}]},
            {"segment": "mid_market"},
            {"not": {"band": "healthy"}},
        ]
    }
    both = ctx(churn_risk=0.7, signals={"login_change": -0.6})
    assert matches(rule, both) == [
        "churn risk 70% ≥ 50%",
        "logins down 60% against the 90-day baseline",
    ]
    assert matches(rule, ctx(churn_risk=0.7, segment="smb")) is None
    assert matches(rule, ctx(churn_risk=0.7, band="healthy")) is None
    assert matches(rule, ctx(churn_risk=0.1)) is None


@pytest.mark.parametrize(
    "bad",
    [
        {"health_fell": {"points": 0, "days": 30}},
        {"days_to_renewal": {"at_least": 100, "at_most": 10}},
        {"days_to_renewal": {}},
        {"arr": {"min": 5, "max": 1}},
        {"any": []},
        {"band_entered": "amber"},
        {"segment": "enterprise", "arr": {"min": 1}},
    ],
)
def test_invalid_conditions_are_rejected(bad):
    with pytest.raises(ValueError):
        CONDITION.validate_python(bad)


def test_suggest_playbooks_orders_by_priority():
    library = load_library()
    score = AccountScore(
        account_id="A1",
        as_of=AS_OF,
        health=35,
        band="critical",
        churn_risk=0.72,
        renewal_date=AS_OF + dt.timedelta(days=80),
        arr=90_000,
        stakeholder_band="concern",
        signals={"login_change": -0.6, "nps_last": 3},
    )
    names = suggest_playbooks(score, library)
    assert names[:3] == ["churn_risk_save", "voc_detractor_followup", "renewal"]
    assert "exec_sponsor_alignment" in names
    assert "low_engagement_recovery" not in names  # excluded when critical
    assert "expansion_qualification" not in names
    healthy = AccountScore(
        account_id="A2",
        as_of=AS_OF,
        health=90,
        band="healthy",
        churn_risk=0.05,
        arr=30_000,
        signals={"seat_saturation_days": 30, "license_utilisation": 0.95},
    )
    assert suggest_playbooks(healthy, library, previous_band="healthy") == [
        "expansion_qualification"
    ]
