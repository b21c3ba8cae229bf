"""Churn metrics against values worked out by hand."""

from __future__ import annotations

import pytest

from scoring.churn import metrics

Y = [0, 0, 1, 1, 0, 1, 0, 0, 0, 0]
S = [0.1, 0.4, 0.35, 0.8, 0.2, 0.9, 0.05, 0.3, 0.6, 0.15]


def test_roc_auc_counts_correctly_ordered_pairs() -> None:
    # positives 0.35, 0.8, 0.9 against 7 negatives 0.1 0.4 0.2 0.05 0.3 0.6 0.15:
    # 0.35 beats 5, 0.8 beats 7, 0.9 beats 7 → 19 of 21 pairs.
    assert metrics.roc_auc(Y, S) == pytest.approx(19 / 21)


def test_pr_auc_is_average_precision() -> None:
    # ranked: 0.9(+) 0.8(+) 0.6 0.4 0.35(+) → precision at each hit 1, 1, 3/5; mean over 3.
    assert metrics.pr_auc(Y, S) == pytest.approx((1 + 1 + 0.6) / 3)


def test_brier_is_mean_squared_error() -> None:
    expected = sum((s - y) ** 2 for y, s in zip(Y, S, strict=True)) / len(Y)
    assert metrics.brier(Y, S) == pytest.approx(expected)
    assert metrics.brier([0, 1], [0.25, 0.5]) == pytest.approx((0.0625 + 0.25) / 2)


def test_top_decile_takes_the_ceiling_of_ten_percent() -> None:
    # 10 rows → top 1: 0.9 is a churn → precision 1, recall 1/3
    assert metrics.at_top_decile(Y, S) == (1.0, pytest.approx(1 / 3))
    # 11 rows → top 2
    p, r = metrics.at_top_decile([*Y, 0], [*S, 0.85])
    assert (p, r) == (0.5, pytest.approx(1 / 3))


def test_precision_recall_at_threshold() -> None:
    # ≥ 0.35 flags 0.4, 0.35, 0.8, 0.9, 0.6 → 3 churns of 5 flagged; all 3 churns caught
    assert metrics.at_threshold(Y, S, 0.35) == (pytest.approx(0.6), 1.0)
    assert metrics.at_threshold(Y, S, 0.95) == (None, 0.0)


def test_one_class_gives_none_not_a_crash() -> None:
    assert metrics.roc_auc([0, 0], [0.1, 0.2]) is None
    assert metrics.pr_auc([0, 0], [0.1, 0.2]) is None
    assert metrics.at_threshold([0, 0], [0.1, 0.9], 0.5) == (0.0, None)


def test_lead_days_from_first_alert_in_the_run_up() -> None:
    # account a churns on day 200: snapshots 100 (0.2), 120 (0.7), 150 (0.4), 190 (0.9)
    #   run-up is days 110..200 (horizon 90): first alert 120 → lead 80 (day 100 is outside)
    # account b churns on day 300: alerted at 100 (outside the run-up) and 280 → lead 20
    # account c churns on day 400 and is never alerted: no lead
    # account d never churns, alerted: no lead
    ids = ["a"] * 4 + ["b"] * 2 + ["c", "d"]
    days = [100, 120, 150, 190, 100, 280, 350, 350]
    scores = [0.2, 0.7, 0.4, 0.9, 0.8, 0.6, 0.1, 0.9]
    churn = [200, 200, 200, 200, 300, 300, 400, -1]
    leads = metrics.lead_days(ids, days, scores, churn, 0.5, 90)
    assert sorted(leads) == [20, 80]
    assert metrics.median_lead_days(ids, days, scores, churn, 0.5, 90) == 50.0
    assert metrics.median_lead_days(ids, days, [0.0] * 8, churn, 0.5, 90) is None


def test_evaluate_has_every_key() -> None:
    result = metrics.evaluate(Y, S, threshold=0.5, horizon_days=90)
    assert tuple(result) == metrics.METRIC_KEYS
    assert result["median_lead_days"] is None
    assert result["precision_at_threshold"] == pytest.approx(2 / 3)
