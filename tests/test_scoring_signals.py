"""compute_signals on a hand-built portfolio: every signal against a worked-out answer,
who is scored, point in time, and limited history — on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
from sqlmodel import Session
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from scoring.signals import SIGNAL_NAMES, compute_signals
from storage.models import UsageEvent
from tests.test_scoring_builders import (
    NPS_COMMENT,
    TICKET_TEXTS,
    D,
    build_portfolio,
    later_rows,
    main_account_rows,
)

END = dt.datetime.combine(D, dt.time()) + dt.timedelta(days=1)


def _weekday_share(active_days_back: set[int], covered: int) -> tuple[float, float]:
    """(active weekdays, share of weekdays) counted day by day — independent of numpy."""
    days = [D - dt.timedelta(days=k) for k in range(covered)]
    weekdays = [d for d in days if d.weekday() < 5]
    active = [d for d in weekdays if (D - d).days in active_days_back]
    return float(len(active)), len(active) / len(weekdays)


def _weekly_slope(rows: list[UsageEvent], weeks: int) -> float:
    """Relative slope of weekly usage computed straight from the rows with np.polyfit."""
    totals = [0.0] * weeks
    for row in rows:
        back = (END - row.timestamp) / dt.timedelta(days=1)
        j = int(back // 7)
        if back >= 0 and j < weeks:
            totals[j] += row.quantity
    x = [-j for j in range(weeks)]
    slope = np.polyfit(x, totals, 1)[0]
    return slope / (sum(totals) / weeks)


def _weekly_totals(rows: list[UsageEvent], weeks: int = 13) -> list[float]:
    totals = [0.0] * weeks
    for row in rows:
        back = (END - row.timestamp) / dt.timedelta(days=1)
        j = int(back // 7)
        if back >= 0 and j < weeks:
            totals[j] += row.quantity
    return totals


def _against_baseline(rows: list[UsageEvent], weeks: int) -> float:
    totals = _weekly_totals(rows)
    return (sum(totals[:weeks]) / weeks) / (sum(totals[4:13]) / 9) - 1


def _expected_a1() -> dict[str, float]:
    usage = [r for r in main_account_rows() if isinstance(r, UsageEvent)]
    active_back = {
        (D - r.timestamp.date()).days for r in usage if (D - r.timestamp.date()).days < 90
    }
    active_weekdays, regularity = _weekday_share(active_back, 90)
    vader = SentimentIntensityAnalyzer()
    texts = [f"{s} {b}" for s, b in TICKET_TEXTS.values()] + [NPS_COMMENT]
    sentiment = sum(vader.polarity_scores(t)["compound"] for t in texts) / len(texts)
    return {
        # logins: 10 in the last 30 days; 70 in 90 → baseline 70 × 30/90; change 10/23.33 − 1
        "logins_30d": 10,
        "logins_baseline_30d": 70 * 30 / 90,
        "login_change": 10 / (70 * 30 / 90) - 1,
        "active_users_30d": 2,  # u1, u2
        "active_users_prev_30d": 1,  # u1
        "seats": 10,
        "license_utilisation": 0.2,
        "feature_breadth_30d": 4,  # report_view, dashboard_view, workflow_automation, api_call (once)
        "core_feature_share": 6 / 9,  # people only: (4 + 2) / 9; the 2 automated api calls are not
        "usage_regularity_90d": regularity,
        "active_days_90d": active_weekdays,
        "usage_trend_30d": _weekly_slope(usage, 4),
        "usage_trend_60d": _weekly_slope(usage, 9),
        "usage_trend_90d": _weekly_slope(usage, 13),
        "days_since_two_way_touchpoint": 10,  # email_in 10 days before D
        "qbrs_held_365d": 1,
        "qbrs_missed_365d": 2,  # one missed, one cancelled
        "qbr_attendance": 1 / 3,
        "email_response_hours": (6 + 135) / 2,  # 6 h reply; unanswered for 5 d 15 h
        "active_contacts_90d": 2,  # c1, s1
        "sponsor_silent_days": 52,
        "champion_silent_days": 10,
        "decision_maker_silent_days": 365,  # never seen: tenure 516 capped at 365
        "champion_left": 1,
        "sponsor_left": 0,
        "decision_maker_left": 0,
        "nps_last": 5,
        "nps_trend": -3,  # mean 5 in the last 180 days against 8 before
        "nps_indifferent": 1,
        "tickets_30d": 3,
        "tickets_baseline_30d": 4 * 30 / 90,
        "ticket_volume_change": 3 / (4 * 30 / 90) - 1,
        "urgent_tickets_30d": 3,
        "urgent_open": 2,  # T1 open; T3 closes after D
        "open_ticket_age_days": 100,
        "csat_avg": 3.0,  # tickets 2 and 4, survey 3
        "sentiment": sentiment,
        "arr": 120_000,
        "days_to_renewal": 74,
        "tenure_days": 516,
        "renewals": 1,
        "overdue_invoices": 2,
        "days_overdue": 40,
        "late_invoices_365d": 1,
        # due in 90 days: I1 (unpaid), I2 (paid 8 days late), I3 (paid after D): all late
        "late_invoice_share_90d": 1.0,
        "usage_vs_baseline_7d": _against_baseline(usage, 1),
        "usage_vs_baseline_30d": _against_baseline(usage, 4),
        "contractions": 1,
        "seat_saturation_days": 0,
        "advanced_feature_adoption": 2 / 7,
        "new_contacts_30d": 1,  # u2
        "active_user_growth": 1.0,
        "touchpoints_21d": 3,
        "touchpoints_prev_21d": 1,
        "touchpoint_momentum": 2.0,
        "engaged_contacts_90d": 5,  # u1, u2, u3, c1, s1
        "multithreading_target": 4,
    }


def _expected_a2() -> dict[str, float]:
    active_weekdays, regularity = _weekday_share(set(range(21)) | {25}, 61)
    return {
        "logins_30d": 86,
        "logins_baseline_30d": 86 * 30 / 61,  # 61 days of history scale the baseline
        "login_change": 86 / (86 * 30 / 61) - 1,
        "seat_saturation_days": 21,
        "license_utilisation": 1.0,
        "usage_regularity_90d": regularity,
        "active_days_90d": active_weekdays,
        "usage_trend_60d": math.nan,  # younger than the window
        "usage_trend_90d": math.nan,
        "usage_vs_baseline_7d": math.nan,  # no 13 weeks of history
        "usage_vs_baseline_30d": math.nan,
        "active_user_growth": math.nan,
        "sponsor_silent_days": math.nan,
        "champion_silent_days": 0,
        "tenure_days": 60,
        "multithreading_target": 2,
        "nps_last": math.nan,
        "csat_avg": math.nan,
        "sentiment": math.nan,
        "tickets_30d": math.nan,  # no ticket ever: no support data, not zero tickets
        "ticket_volume_change": math.nan,
    }


def _mismatches(row: dict[str, float | None], expected: dict[str, float]) -> list[str]:
    problems = []
    for name, want in expected.items():
        got = row[name]
        if math.isnan(want):
            if got is not None:
                problems.append(f"{name}: expected no data, got {got}")
        elif got is None or not math.isclose(got, want, rel_tol=1e-6, abs_tol=1e-9):
            problems.append(f"{name}: expected {want}, got {got}")
    return problems


def test_every_signal_has_a_known_answer() -> None:
    covered = set(_expected_a1()) | set(_expected_a2())
    assert set(SIGNAL_NAMES) <= covered, sorted(set(SIGNAL_NAMES) - covered)


def test_signals_match_hand_computed_values(engine) -> None:
    build_portfolio(engine)
    frame = compute_signals(engine, D)
    assert frame.names == SIGNAL_NAMES
    assert frame.values.dtype == np.float64
    problems = _mismatches(frame.row("A1"), _expected_a1())
    problems += [f"A2 {p}" for p in _mismatches(frame.row("A2"), _expected_a2())]
    assert not problems, "\n".join(problems)
    roles = frame.extra("roles", "A1")
    assert roles["executive_sponsor"]["contact"] == "Sam Sponsor"
    assert roles["champion"] == {
        "contact": "Cleo Champion",
        "silent_days": 10,
        "present": True,
        "left_recently": True,
    }
    assert frame.extra("renewal_date", "A1") == dt.date(2026, 8, 14)
    assert frame.extra("segment", "A2") == "smb"


def test_only_live_accounts_are_scored(engine) -> None:
    build_portfolio(engine)
    frame = compute_signals(engine, D)
    # A3 churned before D, A4 created after D; A6 came back with a new contract; A7 churns later.
    assert frame.account_ids == ["A1", "A2", "A5", "A6", "A7"]
    before_churn = compute_signals(engine, dt.date(2026, 2, 28))
    assert "A3" in before_churn.account_ids
    assert "A6" not in compute_signals(engine, dt.date(2026, 1, 15)).account_ids


def test_subset_of_accounts_matches_the_whole_portfolio(engine) -> None:
    build_portfolio(engine)
    whole = compute_signals(engine, D)
    part = compute_signals(engine, D, ["A2", "A1", "A3"])
    assert part.account_ids == ["A1", "A2"]
    for account_id in part.account_ids:
        assert part.row(account_id) == whole.row(account_id)


def test_data_dated_after_d_changes_no_signal(engine) -> None:
    build_portfolio(engine)
    before = compute_signals(engine, D)
    with Session(engine) as session:
        session.add_all(later_rows())
        session.commit()
    after = compute_signals(engine, D)
    assert after.account_ids == before.account_ids
    changed = [
        f"{account_id}.{name}"
        for i, account_id in enumerate(before.account_ids)
        for j, name in enumerate(before.names)
        if not np.array_equal(before.values[i, j], after.values[i, j], equal_nan=True)
    ]
    assert not changed, changed
    assert after.extras["roles"] == before.extras["roles"]
    # The later rows are real data: scored a few days later, they do count.
    later = compute_signals(engine, D + dt.timedelta(days=2))
    assert later.row("A1")["logins_30d"] != before.row("A1")["logins_30d"]
    assert later.row("A1")["nps_last"] == 0
    assert "A1" not in compute_signals(engine, D + dt.timedelta(days=5)).account_ids


def test_new_account_has_signals_but_no_nan_in_json(engine) -> None:
    build_portfolio(engine)
    row = compute_signals(engine, D).row("A5")
    assert row["tenure_days"] == 10
    assert row["logins_30d"] == 0
    assert row["login_change"] is None
    assert row["usage_trend_30d"] is None
    assert row["license_utilisation"] == 0
    assert all(value is None or math.isfinite(value) for value in row.values())


def test_empty_database_gives_an_empty_frame(engine) -> None:
    frame = compute_signals(engine, D)
    assert frame.account_ids == []
    assert frame.values.shape == (0, len(SIGNAL_NAMES))


def test_days_to_renewal_uses_the_term_known_on_each_date(engine) -> None:
    """Contract history, one row per term: on each date the renewal is the end date of
    the term then current, and a later term changes nothing before it starts."""
    from storage.models import Account, Contract

    with Session(engine) as session:
        session.add(Account(account_id="T1", name="Terms", created_at=dt.datetime(2024, 1, 1)))
        session.add_all(
            [
                Contract(
                    contract_id="T1-2024",
                    account_id="T1",
                    start_date=dt.date(2024, 1, 1),
                    end_date=dt.date(2024, 12, 31),
                    arr=10_000.0,
                ),
                Contract(
                    contract_id="T1-2025",
                    account_id="T1",
                    start_date=dt.date(2025, 1, 1),
                    end_date=dt.date(2025, 12, 31),
                    arr=12_000.0,
                ),
            ]
        )
        session.commit()
    mid_first = compute_signals(engine, dt.date(2024, 11, 1)).row("T1")
    assert mid_first["days_to_renewal"] == (dt.date(2024, 12, 31) - dt.date(2024, 11, 1)).days
    assert mid_first["arr"] == 10_000.0
    mid_second = compute_signals(engine, dt.date(2025, 3, 1)).row("T1")
    assert mid_second["days_to_renewal"] == (dt.date(2025, 12, 31) - dt.date(2025, 3, 1)).days
    assert mid_second["arr"] == 12_000.0


def test_contacts_of_accounts_not_live_yet_do_not_crash(engine) -> None:
    """An as-of before any account began (contacts stored, no live account) and a subset of
    only a not-yet-created account used to index an empty population (IndexError)."""
    build_portfolio(engine)
    before_all = compute_signals(engine, dt.date(2020, 1, 1))
    assert before_all.account_ids == []
    assert before_all.values.shape == (0, len(SIGNAL_NAMES))
    assert compute_signals(engine, D, ["A4"]).account_ids == []


def test_account_younger_than_thirty_days_has_stakeholder_signals(engine) -> None:
    """A 10-day-old account: its key roles never seen count as silent since it began (its
    tenure, not the cap), and every figure is finite or None."""
    build_portfolio(engine)
    for day in (D, D - dt.timedelta(days=9)):
        frame = compute_signals(engine, day)
        assert "A5" in frame.account_ids
        row = frame.row("A5")
        assert all(value is None or math.isfinite(value) for value in row.values())
        assert row["tenure_days"] <= 10
