"""The pure parts of scoring on plain data: normalisation, the composite and its exact
impacts, bands, trend direction, attention ranking, sentences, stakeholders, expansion
and the configuration file."""

from __future__ import annotations

import math

import numpy as np
import pytest

from scoring.bands import direction, health_band
from scoring.config import ConfigError, default_config, load_config
from scoring.expansion import expansion_reasons, expansion_scores
from scoring.explain import explain
from scoring.health import health_of_row, health_scores, segment_weights
from scoring.normalise import goodness
from scoring.signals.registry import SIGNALS, describe
from scoring.stakeholders import stakeholder_band, stakeholders_summary
from scoring.trend import attention, attention_rank

CFG = default_config()


def test_goodness_is_linear_clipped_and_reversible() -> None:
    assert goodness(np.array([0.0, 5.0, 10.0, 20.0, -3.0]), 0, 10).tolist() == [0, 0.5, 1, 1, 0]
    # More is worse: silent days from 14 (good) to 60 (bad).
    assert goodness(np.array([14.0, 37.0, 60.0, 90.0]), 60, 14).tolist() == [1, 0.5, 0, 0]
    assert goodness(np.array([math.nan]), 0, 1).tolist() == [0.5]
    assert goodness(np.array([math.nan]), 0, 1, missing=0.0).tolist() == [0.0]
    with pytest.raises(ValueError):
        goodness(1.0, 3, 3)


def _row(**values: float | None) -> dict[str, float | None]:
    row: dict[str, float | None] = dict.fromkeys(SIGNALS)
    row.update(values)
    return row


def test_unknown_account_sits_at_the_neutral_point() -> None:
    health, impacts = health_of_row(_row(), None, CFG)
    assert health == 50
    assert all(v == 0 for v in impacts.values())


def test_all_good_is_100_and_all_bad_is_0() -> None:
    good = _row(**{name: n.good for name, n in CFG.signals.items()})
    bad = _row(**{name: n.bad for name, n in CFG.signals.items()})
    for segment in (None, "enterprise", "smb"):
        assert health_of_row(good, segment, CFG)[0] == pytest.approx(100)
        assert health_of_row(bad, segment, CFG)[0] == pytest.approx(0)


def test_composite_matches_a_hand_computation(tmp_path) -> None:
    """Two dimensions: engagement 0.6 (login_change w1), support 0.4 (csat w1, sentiment w3)."""
    path = tmp_path / "tiny.yml"
    keep = {"login_change", "csat_avg", "sentiment"}
    zero = "\n".join(f"  {n}: {{weight: 0}}" for n in CFG.signals if n not in keep)
    path.write_text(
        "dimensions: {engagement: 0.6, relationship: 0, support: 0.4, contract: 0}\n"
        "segments: {}\n"
        "signals:\n"
        "  login_change: {weight: 1, bad: -0.5, good: 0.0}\n"
        "  csat_avg: {weight: 1, bad: 3, good: 5}\n"
        "  sentiment: {weight: 3, bad: -1, good: 1}\n" + zero + "\n"
    )
    cfg = load_config(path)
    row = _row(login_change=-0.25, csat_avg=5.0, sentiment=None)
    # g = 0.5, 1.0, missing; w = 0.6, 0.4·1/4, (0.4·3/4 drops out: no data) → W = 0.7,
    # health = 100·(0.6·0.5 + 0.1·1.0) / 0.7
    health, impacts = health_of_row(row, None, cfg)
    assert health == pytest.approx(100 * 0.4 / 0.7)
    assert impacts["csat_avg"] == pytest.approx(100 * 0.1 / 0.7 * 0.5)
    assert impacts["sentiment"] == 0.0
    assert impacts["login_change"] == pytest.approx(0.0)
    assert sum(impacts.values()) == pytest.approx(health - 50)


def test_segment_overrides_change_weights() -> None:
    enterprise, _ = segment_weights(CFG, "enterprise")
    smb, _ = segment_weights(CFG, "smb")
    names = list(CFG.signals)
    sponsor = names.index("sponsor_silent_days")
    assert enterprise[sponsor] > smb[sponsor]
    assert smb[names.index("qbr_attendance")] == 0
    assert enterprise.sum() == pytest.approx(1.0) and smb.sum() == pytest.approx(1.0)
    # a silent sponsor hurts an enterprise account more (beside middling usage)
    row = _row(sponsor_silent_days=90.0, login_change=-0.3, license_utilisation=0.5)
    assert health_of_row(row, "enterprise", CFG)[0] < health_of_row(row, "smb", CFG)[0]


def test_vectorised_health_equals_row_by_row() -> None:
    rng = np.random.default_rng(3)
    columns = {
        name: rng.uniform(min(n.bad, n.good) - 1, max(n.bad, n.good) + 1, 40)
        for name, n in CFG.signals.items()
    }
    columns["nps_last"][::3] = np.nan
    segments = ["enterprise", "smb", None, "mid_market"] * 10
    result = health_scores(columns, segments, CFG)
    for i in (0, 1, 2, 3, 17):
        row = _row(
            **{name: (None if np.isnan(col[i]) else float(col[i])) for name, col in columns.items()}
        )
        assert result.health[i] == pytest.approx(health_of_row(row, segments[i], CFG)[0])
    assert np.allclose(result.impacts.sum(axis=1), result.health - 50)


@pytest.mark.parametrize(
    ("health", "band"),
    [
        (100, "healthy"),
        (80, "healthy"),
        (79.99, "neutral"),
        (60, "neutral"),
        (59.9, "at_risk"),
        (40, "at_risk"),
        (39.99, "critical"),
        (0, "critical"),
    ],
)
def test_bands(health: float, band: str) -> None:
    assert health_band(health, CFG.bands) == band


def test_band_thresholds_are_configurable(tmp_path) -> None:
    path = tmp_path / "bands.yml"
    path.write_text("bands: {healthy: 90, neutral: 70, at_risk: 50}\n")
    bands = load_config(path).bands
    assert health_band(85, bands) == "neutral"
    assert health_band(45, bands) == "critical"


def test_direction() -> None:
    assert direction(None, None, CFG.trend) == "steady"
    assert direction(-1.0, -14.0, CFG.trend) == "falling"
    assert direction(-3.0, 0.0, CFG.trend) == "falling"
    assert direction(0.5, 6.0, CFG.trend) == "rising"
    assert direction(2.0, 4.9, CFG.trend) == "steady"
    assert direction(3.0, -5.0, CFG.trend) == "falling"  # a fall outweighs a recent bounce


def test_a_fall_ranks_above_a_steady_low_score() -> None:
    fell = {
        "account_id": "fell",
        "health": 58.0,
        "health_delta_30d": -14.0,
        "arr": 50_000,
        "churn_risk": None,
    }
    steady = {
        "account_id": "steady",
        "health": 55.0,
        "health_delta_30d": 0.0,
        "arr": 50_000,
        "churn_risk": None,
    }
    fine = {
        "account_id": "fine",
        "health": 85.0,
        "health_delta_30d": 2.0,
        "arr": 500_000,
        "churn_risk": None,
    }
    assert [s["account_id"] for s in attention_rank([steady, fine, fell], CFG.attention)] == [
        "fell",
        "steady",
        "fine",
    ]
    # ARR weighs: the same risk on a bigger account comes first.
    big = dict(steady, account_id="big", arr=400_000)
    assert attention_rank([steady, big], CFG.attention)[0]["account_id"] == "big"
    # A model risk, when present, counts.
    risky = dict(steady, account_id="risky", churn_risk=0.9)
    assert attention(risky, CFG.attention) > attention(steady, CFG.attention)


def test_explanation_sentences() -> None:
    row = _row(
        logins_30d=17 * 30 / 7,
        logins_baseline_30d=31.4 * 30 / 7,
        login_change=17 / 31.4 - 1,
        sponsor_silent_days=52.0,
        urgent_tickets_30d=3.0,
        urgent_open=2.0,
        days_to_renewal=74.0,
        nps_last=5.0,
        overdue_invoices=2.0,
        days_overdue=40.0,
        license_utilisation=0.2,
        seats=10.0,
        active_users_30d=2.0,
    )
    assert (
        describe("login_change", row)
        == "Logins down 46% against the 90-day baseline (31 → 17 a week)"
    )
    assert describe("sponsor_silent_days", row) == "Executive sponsor silent for 52 days"
    assert (
        describe("urgent_tickets_30d", row) == "3 urgent or high tickets in 30 days, 2 still open"
    )
    assert describe("days_to_renewal", row) == "Renewal in 74 days"
    assert describe("days_to_renewal", _row(days_to_renewal=-3.0)) == "Renewal overdue by 3 days"
    assert describe("nps_last", row) == "Last NPS response 5 (detractor)"
    assert describe("overdue_invoices", row) == "2 invoices overdue, the oldest by 40 days"
    assert (
        describe("license_utilisation", row)
        == "20% of 10 licences in use (2 active users in 30 days)"
    )
    assert (
        describe("champion_silent_days", _row(champion_silent_days=1.0))
        == "Champion silent for 1 day"
    )
    assert describe(
        "login_change", _row(login_change=0.01, logins_30d=10.0, logins_baseline_30d=9.9)
    ).startswith("Logins level")
    # Every signal has a sentence, with data and without.
    for name in SIGNALS:
        assert describe(name, _row())
        assert describe(name, row)


def test_reasons_carry_value_baseline_direction_and_add_up() -> None:
    row = _row(
        logins_30d=72.86,
        logins_baseline_30d=134.57,
        login_change=72.86 / 134.57 - 1,
        sponsor_silent_days=52.0,
        days_to_renewal=74.0,
        csat_avg=4.8,
    )
    health, impacts = health_of_row(row, "enterprise", CFG)
    health = round(health, 2)
    reasons = explain(row, impacts, total=health - 50)
    assert sum(r["impact"] for r in reasons) == pytest.approx(health - 50, abs=1e-9)
    assert [abs(r["impact"]) for r in reasons] == sorted(
        (abs(r["impact"]) for r in reasons), reverse=True
    )
    login = next(r for r in reasons if r["signal"] == "login_change")
    assert login == {
        "signal": "login_change",
        "value": 72.86,
        "baseline": 134.57,
        "direction": "down",
        "impact": login["impact"],
        "text": "Logins down 46% against the 90-day baseline (31 → 17 a week)",
    }
    assert login["impact"] < 0
    sponsor = next(r for r in reasons if r["signal"] == "sponsor_silent_days")
    assert (
        sponsor["text"] == "Executive sponsor silent for 52 days" and sponsor["direction"] == "down"
    )
    csat = next(r for r in reasons if r["signal"] == "csat_avg")
    assert csat["impact"] > 0 and csat["direction"] == "up"
    assert all(
        set(r) == {"signal", "value", "baseline", "direction", "impact", "text"} for r in reasons
    )


def _roles(**silent: int | str | None) -> dict[str, dict]:
    roles = {}
    for role, days in silent.items():
        if days == "left":
            roles[role] = {
                "contact": None,
                "silent_days": None,
                "present": False,
                "left_recently": True,
            }
        elif days is not None:
            roles[role] = {
                "contact": role.title(),
                "silent_days": days,
                "present": True,
                "left_recently": False,
            }
    return roles


@pytest.mark.parametrize(
    ("roles", "band"),
    [
        (_roles(executive_sponsor=3, champion=5, decision_maker=10), "healthy"),
        (_roles(champion=2), "healthy"),  # missing roles do not move the band
        (_roles(executive_sponsor=3, champion=15, decision_maker=10), "watch"),
        (_roles(executive_sponsor=16, champion=15, decision_maker=10), "concern"),
        (_roles(executive_sponsor=3, champion=21, decision_maker=10), "concern"),
        (_roles(executive_sponsor=3, champion="left", decision_maker=10), "concern"),
        (_roles(executive_sponsor=45, champion=1, decision_maker=1), "critical"),
        (_roles(executive_sponsor=1, champion=1, decision_maker=60), "critical"),
        (_roles(executive_sponsor=44, champion=1, decision_maker=1), "concern"),
        (
            _roles(executive_sponsor=1, champion=90, decision_maker=1),
            "concern",
        ),  # champion is not severe
    ],
)
def test_stakeholder_bands(roles: dict, band: str) -> None:
    assert stakeholder_band(roles, CFG.stakeholders)[0] == band


def test_stakeholder_summary_reports_roles_and_multithreading() -> None:
    summary = stakeholders_summary(
        _roles(executive_sponsor=52, champion=3), 2.0, 4.0, CFG.stakeholders
    )
    assert summary["band"] == "critical"
    assert summary["roles"]["executive_sponsor"] == {
        "contact": "Executive_Sponsor",
        "silent_days": 52,
        "state": "silent",
    }
    assert summary["roles"]["decision_maker"]["state"] == "missing"
    assert summary["engaged_contacts"] == 2 and summary["target"] == 4 and summary["below_target"]


def test_expansion_score_and_reasons() -> None:
    cfg = CFG.expansion
    names = list(cfg.signals)
    columns = {name: np.array([s.good, s.bad, s.good, math.nan]) for name, s in cfg.signals.items()}
    score, contributions, order = expansion_scores(columns, np.array([90.0, 90.0, 50.0, 90.0]), cfg)
    assert order == names
    assert score.tolist() == pytest.approx([1.0, 0.0, cfg.below_floor_factor, 0.0])
    half = {name: np.array([(s.bad + s.good) / 2]) for name, s in cfg.signals.items()}
    assert expansion_scores(half, np.array([80.0]), cfg)[0][0] == pytest.approx(0.5)
    row = _row(seat_saturation_days=28.0, advanced_feature_adoption=0.3, active_user_growth=0.5)
    cols = {name: np.array([np.nan if row[name] is None else row[name]]) for name in names}
    total, contrib, _ = expansion_scores(cols, np.array([85.0]), cfg)
    reasons = expansion_reasons(row, dict(zip(names, contrib[0].tolist(), strict=True)))
    assert [r["signal"] for r in reasons] == [
        "seat_saturation_days",
        "active_user_growth",
        "advanced_feature_adoption",
    ]
    assert sum(r["impact"] for r in reasons) == pytest.approx(100 * total[0], abs=0.02)
    assert reasons[0]["text"] == "Seats at 85% utilisation or more for 28 days"


def test_config_override_merges_and_errors_name_file_and_key(tmp_path) -> None:
    good = tmp_path / "team.yml"
    good.write_text("signals:\n  login_change: {weight: 5}\n")
    cfg = load_config(good)
    assert cfg.signals["login_change"].weight == 5
    assert cfg.signals["login_change"].bad == CFG.signals["login_change"].bad
    bad = tmp_path / "bad.yml"
    bad.write_text("bands: {healthy: 50, neutral: 60, at_risk: 40}\n")
    with pytest.raises(ConfigError, match=r"bad.yml: bands: thresholds must satisfy"):
        load_config(bad)
    unknown = tmp_path / "unknown.yml"
    unknown.write_text("signals:\n  logins_per_fortnight: {weight: 1, bad: 0, good: 1}\n")
    with pytest.raises(ConfigError, match="unknown signal 'logins_per_fortnight'"):
        load_config(unknown)
    broken = tmp_path / "broken.yml"
    broken.write_text("signals: [\n")
    with pytest.raises(ConfigError, match=r"broken.yml: line \d+"):
        load_config(broken)
    with pytest.raises(ConfigError, match="file not found"):
        load_config(tmp_path / "missing.yml")


def test_missing_sources_are_neutral_and_their_weight_is_spread() -> None:
    """A book with no invoices and no tickets: the billing and ticket signals are NaN and
    drop out; the account's health is what the other signals say, not ~13 points better."""
    known = _row(login_change=-0.3, license_utilisation=0.5, csat_avg=None, sentiment=None)
    without = dict(known)
    for name in (
        "overdue_invoices",
        "days_overdue",
        "late_invoices_365d",
        "ticket_volume_change",
        "urgent_tickets_30d",
        "urgent_open",
        "open_ticket_age_days",
    ):
        without[name] = None
    health_without, impacts = health_of_row(without, None, CFG)
    assert all(impacts[name] == 0.0 for name in ("overdue_invoices", "urgent_open"))
    assert sum(impacts.values()) == pytest.approx(health_without - 50)
    good_news = dict(
        without,
        overdue_invoices=0,
        days_overdue=0,
        late_invoices_365d=0,
        ticket_volume_change=0,
        urgent_tickets_30d=0,
        urgent_open=0,
        open_ticket_age_days=0,
    )
    health_good_news, _ = health_of_row(good_news, None, CFG)
    assert health_good_news > health_without + 5  # real good news still counts
    only_missing = {name: None for name in CFG.signals}
    assert health_of_row(only_missing, None, CFG)[0] == 50.0
