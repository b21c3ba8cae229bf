"""The judgement bench's measures, on hand-built data with worked numbers."""

from __future__ import annotations

import numpy as np
import pytest

from bench.judgement_metrics import (
    attention_precision,
    bootstrap_ci,
    churned_arr_caught,
    expected_calibration_error,
    precision_recall,
    weighted_pr_auc,
    weighted_roc_auc,
)


def test_bootstrap_interval_of_a_perfect_and_a_reversed_ranking() -> None:
    # six accounts, two rows each; accounts a1..a2 churn (both rows 1)
    groups = np.repeat(["a1", "a2", "a3", "a4", "a5", "a6"], 2)
    y = np.repeat([1, 1, 0, 0, 0, 0], 2)
    good = np.repeat([0.9, 0.8, 0.3, 0.2, 0.1, 0.0], 2)
    assert bootstrap_ci(y, good, groups, weighted_roc_auc, n_boot=50) == (1.0, 1.0)
    assert bootstrap_ci(y, 1 - good, groups, weighted_roc_auc, n_boot=50) == (0.0, 0.0)


def test_bootstrap_interval_brackets_the_estimate_and_resamples_accounts() -> None:
    rng = np.random.default_rng(1)
    groups = np.repeat([f"a{i}" for i in range(80)], 5)
    churner = rng.random(80) < 0.3
    y = np.repeat(churner.astype(int), 5)
    # an account's rows score alike: the spread comes from which accounts are drawn
    scores = np.repeat(churner * 0.3 + rng.random(80), 5) + 0.01 * rng.random(400)
    point = weighted_roc_auc(y, scores, np.ones(y.size))
    low, high = bootstrap_ci(y, scores, groups, weighted_roc_auc, n_boot=200)
    assert low < point < high
    # Treating each row as its own account understates the spread.
    row_low, row_high = bootstrap_ci(y, scores, np.arange(y.size), weighted_roc_auc, n_boot=200)
    assert (row_high - row_low) < (high - low)
    pr_low, pr_high = bootstrap_ci(y, scores, groups, weighted_pr_auc, n_boot=100)
    assert 0.0 <= pr_low < pr_high <= 1.0


def test_bootstrap_interval_is_none_with_one_class() -> None:
    assert bootstrap_ci([0, 0, 0], [0.1, 0.2, 0.3], ["a", "b", "c"], weighted_roc_auc) is None


def test_churned_arr_caught_counts_arr_flagged_30_to_180_days_ahead() -> None:
    churns = {"A": (100, 1000.0), "B": (100, 3000.0), "C": (100, 6000.0)}
    entries = [("A", 60), ("B", 80), ("C", -100), ("Z", 50)]
    # A: 40 days ahead, caught; B: 20 days, too late; C: 200 days, too early.
    assert churned_arr_caught(entries, churns) == pytest.approx(1000 / 10000)
    # C seen again exactly 30 days ahead: caught.
    assert churned_arr_caught([*entries, ("C", 70)], churns) == pytest.approx(7000 / 10000)
    assert churned_arr_caught(entries, {}) is None


def test_attention_precision_is_the_share_of_entries_followed_by_churn_or_expansion() -> None:
    outcomes = {"A": [60], "B": [90], "C": [200]}
    entries = [("A", 0), ("A", 50), ("B", 0), ("C", 0), ("D", 0)]
    # A@0: churn at 60 ✓; A@50: 60 ✓; B@0: expansion at 90 ✓ (window end included);
    # C@0: 200 is past 90 ✗; D: nothing ✗  → 3 / 5
    assert attention_precision(entries, outcomes) == pytest.approx(0.6)
    assert attention_precision([("B", -1)], outcomes) == 0.0  # 90 > -1 + 90
    assert attention_precision([], outcomes) is None


def test_expected_calibration_error_worked_example() -> None:
    # bins of width 0.1: {0.1, 0.1} observed 0 → 0.5·0.1; {0.9} observed 1 → 0.25·0.1;
    # {0.7} observed 1 → 0.25·0.3; total 0.05 + 0.025 + 0.075 = 0.15
    y = [0, 0, 1, 1]
    p = [0.1, 0.1, 0.9, 0.7]
    assert expected_calibration_error(y, p) == pytest.approx(0.15)
    assert expected_calibration_error([0, 1], [0.0, 1.0]) == 0.0
    assert expected_calibration_error([], []) is None


def test_precision_and_recall_of_the_flagged_rows() -> None:
    assert precision_recall([1, 0, 1, 0], [True, True, False, False]) == (0.5, 0.5)
    assert precision_recall([1, 0], [False, False]) == (None, 0.0)
