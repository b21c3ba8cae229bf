"""Renewal forecast: renewal outcomes, learned rates, the Monte Carlo, and a backtest on a
generated book."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from sqlmodel import Session

from scoring.forecast.backtest import backtest_forecast
from scoring.forecast.rates import LabelledRenewal, fit_rates
from scoring.forecast.renewals import ContractRow, EventRow, renewal_points, retention, upcoming
from scoring.forecast.service import forecast_renewals
from scoring.forecast.simulate import simulate_retention
from storage.models import Account, Contract, LifecycleEvent, UsageEvent

D = dt.date


def test_renewal_points_outcomes():
    contracts = [
        ContractRow("a1", "A", D(2025, 1, 1), D(2025, 12, 31), 100.0),
        ContractRow("a2", "A", D(2026, 1, 1), D(2026, 12, 31), 120.0),  # renewed +20%
        ContractRow("b1", "B", D(2025, 1, 1), D(2025, 12, 31), 50.0),  # churned
        ContractRow("c1", "C", D(2025, 1, 1), D(2025, 6, 30), 10.0),  # cut by an expansion
        ContractRow("c2", "C", D(2025, 7, 1), D(2025, 12, 31), 15.0),  # lapsed
        ContractRow("d1", "D", D(2025, 6, 1), D(2026, 5, 31), 40.0),  # still pending
    ]
    events = [
        EventRow("A", D(2026, 1, 1), "renewed"),
        EventRow("B", D(2025, 12, 31), "churned"),
        EventRow("C", D(2025, 7, 1), "expanded"),
    ]
    points = {p.contract_id: p for p in renewal_points(contracts, events, D(2026, 3, 15))}
    assert points["a1"].outcome == "renewed" and points["a1"].new_arr == 120.0
    assert points["b1"].outcome == "churned" and points["b1"].new_arr == 0.0
    assert "c1" not in points
    assert points["c2"].outcome == "lapsed"
    assert points["d1"].outcome == "pending"
    assert "a2" in points and points["a2"].outcome == "pending"
    # Settled: a1 (100 → 120), b1 (50 → 0), c2 (15 → 0). GRR caps a1 at 100.
    grr, nrr, base = retention(points.values())
    assert base == 165.0
    assert grr == pytest.approx(100 / 165)
    assert nrr == pytest.approx(120 / 165)
    # Known-by: a week before B's end nothing about B is known yet.
    early = {p.contract_id: p for p in renewal_points(contracts, events, D(2025, 12, 24))}
    assert early["b1"].outcome == "pending"
    assert [c.contract_id for c in upcoming(contracts, events, D(2026, 1, 15), 180)] == ["d1"]


def _labelled(segment, band, renewed, n, ratio=1.0):
    from scoring.forecast.renewals import Renewal

    out = []
    for i in range(n):
        ok = i < renewed
        r = Renewal(
            f"{segment}{band}{i}",
            f"c{i}",
            D(2025, 1, 1),
            100.0,
            "renewed" if ok else "churned",
            100.0 * ratio if ok else 0.0,
        )
        out.append(LabelledRenewal(r, segment, band))
    return out


def test_rates_shrink_toward_the_wider_rate():
    history = _labelled("smb", "healthy", 18, 20) + _labelled("smb", "critical", 2, 10)
    history += _labelled("enterprise", "healthy", 9, 10, ratio=1.2)
    rates = fit_rates(history, prior_weight=10)
    book = (29 + 1) / (40 + 2)
    smb = (20 + 10 * book) / (30 + 10)
    assert rates.book == pytest.approx(book)
    assert rates.segment["smb"][0] == pytest.approx(smb)
    critical = rates.odds("smb", "critical")
    assert critical.source == "segment×band"
    assert critical.p_renew == pytest.approx((2 + 10 * smb) / (10 + 10))
    assert rates.odds("smb", "neutral").source == "segment"
    assert rates.odds("mid_market", None).source == "book"
    assert rates.ratios("enterprise").mean() == pytest.approx(1.2)


def test_simulation_matches_worked_expectations():
    arr = np.array([100.0, 100.0])
    pools = [np.array([1.0]), np.array([1.5])]
    sure = simulate_retention(arr, np.array([1.0, 1.0]), pools)
    assert sure.grr == pytest.approx(1.0) and sure.nrr == pytest.approx(1.25)
    assert sure.grr_low == pytest.approx(1.0) and sure.grr_high == pytest.approx(1.0)
    half = simulate_retention(arr, np.array([0.5, 0.5]), pools, simulations=20000, seed=1)
    assert half.grr == pytest.approx(0.5)
    assert half.nrr == pytest.approx(0.625)
    assert half.grr_low == pytest.approx(0.0) and half.grr_high == pytest.approx(1.0)
    # ARR not up for renewal is kept whole at the portfolio level: (50 + 200) / 300.
    book = simulate_retention(arr, np.array([0.5, 0.5]), pools, extra_base=100.0)
    assert book.grr == pytest.approx(200 / 300)


def _generated_book(session: Session, seed: int = 3) -> None:
    """160 accounts on yearly contracts from 2024; smb renews 60%, enterprise 95%. Enterprise
    contracts start in the first and third quarters, smb in the second and fourth, so each
    quarter's renewals are of one segment and last quarter's rate is the wrong guide."""
    rng = np.random.default_rng(seed)
    for i in range(160):
        aid = f"g{i:03d}"
        segment = "smb" if i % 2 else "enterprise"
        p = 0.6 if segment == "smb" else 0.95
        session.add(Account(account_id=aid, name=f"Gen {i}", segment=segment))
        quarter = 2 * int(rng.integers(0, 2)) + (1 if segment == "smb" else 0)
        start = D(2024, 1 + 3 * quarter, 1) + dt.timedelta(days=int(rng.integers(0, 88)))
        arr = 10_000.0 if segment == "smb" else 100_000.0
        n = 0
        while start <= D(2026, 6, 30):
            end = (
                D(start.year + 1, start.month, 1) - dt.timedelta(days=1)
                if start.day == 1
                else (start + dt.timedelta(days=364))
            )
            session.add(
                Contract(
                    contract_id=f"{aid}-{n}",
                    account_id=aid,
                    start_date=start,
                    end_date=end,
                    arr=arr,
                )
            )
            n += 1
            if rng.random() >= p:
                session.add(
                    LifecycleEvent(
                        account_id=aid,
                        occurred_at=dt.datetime.combine(end, dt.time()),
                        kind="churned",
                    )
                )
                break
            session.add(
                LifecycleEvent(
                    account_id=aid,
                    occurred_at=dt.datetime.combine(end + dt.timedelta(days=1), dt.time()),
                    kind="renewed",
                )
            )
            start = end + dt.timedelta(days=1)
    session.add(UsageEvent(account_id="g000", timestamp=dt.datetime(2024, 1, 1), event="login"))
    session.add(UsageEvent(account_id="g000", timestamp=dt.datetime(2026, 9, 30), event="login"))
    session.commit()


def test_forecast_and_backtest_on_a_generated_book(engine):
    with Session(engine) as session:
        _generated_book(session)
    no_bands = lambda day: {}  # noqa: E731  (segment rates only: no scores in this book)
    forecast = forecast_renewals(engine, D(2026, 4, 1), use_churn_model=False, bands=no_bands)
    by_segment = {r.segment: r.p_renew for r in forecast.renewals}
    assert by_segment["smb"] == pytest.approx(0.6, abs=0.1)
    assert by_segment["enterprise"] == pytest.approx(0.95, abs=0.08)
    assert all(r.source == "segment" for r in forecast.renewals)
    assert all(D(2026, 4, 1) <= r.renewal_date <= D(2026, 9, 28) for r in forecast.renewals)
    r = forecast.renewing
    assert r.grr_low <= r.grr <= r.grr_high
    result = backtest_forecast(engine, bands=no_bands, min_history_days=540)
    assert len(result.quarters) >= 3
    assert all(q.actual_grr is not None for q in result.quarters)
    # Learned segment rates follow each quarter's mix: better than last quarter's rate.
    assert result.mae() < 0.15
    assert result.mae() < result.mae(naive=True) / 2
