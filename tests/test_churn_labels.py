"""Labels and feedback on hand-built histories; no leakage past the training cut-off."""

from __future__ import annotations

import datetime as dt

import numpy as np

from scoring.churn.config import TrainingConfig
from scoring.churn.labels import FeedbackLabel, apply_feedback, churn_labels, next_churn
from scoring.churn.snapshots import SnapshotSet, grid_dates
from scoring.churn.train import label_snapshots

D = dt.date


def o(day: dt.date) -> int:
    return day.toordinal()


def test_next_churn_finds_the_first_churn_on_or_after_each_snapshot() -> None:
    events = {"a": [o(D(2025, 3, 1)), o(D(2025, 9, 1))], "b": [o(D(2025, 1, 10))]}
    ids = np.array(["a", "a", "a", "a", "b", "c"], dtype=object)
    dates = np.array(
        [
            o(D(2025, 1, 1)),
            o(D(2025, 3, 1)),
            o(D(2025, 3, 2)),
            o(D(2025, 10, 1)),
            o(D(2025, 1, 1)),
            o(D(2025, 1, 1)),
        ]
    )
    assert next_churn(ids, dates, events).tolist() == [
        o(D(2025, 3, 1)),
        o(D(2025, 3, 1)),  # churn on the snapshot day counts
        o(D(2025, 9, 1)),
        -1,
        o(D(2025, 1, 10)),
        -1,
    ]


def test_label_is_one_only_within_the_horizon() -> None:
    churn = o(D(2025, 6, 30))
    dates = np.array([churn - 91, churn - 90, churn - 1, churn])
    labels = churn_labels(dates, np.full(4, churn), 90)
    assert labels.tolist() == [0, 1, 1, 1]
    assert churn_labels(np.array([1000]), np.array([-1]), 90).tolist() == [0]


def _snaps(rows: list[tuple[str, dt.date]]) -> SnapshotSet:
    n = len(rows)
    return SnapshotSet(
        names=["x"],
        X=np.arange(n, dtype=float).reshape(n, 1),
        account_ids=np.array([a for a, _ in rows], dtype=object),
        dates=np.array([o(d) for _, d in rows], dtype=np.int64),
        y=np.zeros(n, dtype=np.int8),
        weight=np.ones(n),
        churn_dates=np.full(n, -1, dtype=np.int64),
    )


def test_no_leakage_past_the_cutoff() -> None:
    cfg = TrainingConfig(horizon_days=90)
    cutoff = D(2025, 12, 31)
    weeks = grid_dates(D(2025, 1, 1), D(2026, 6, 30), 7)
    snaps = _snaps([(a, d) for a in ("early", "late", "never") for d in weeks])
    events = {"early": [o(D(2025, 6, 1))], "late": [o(D(2026, 2, 15))]}
    labelled = label_snapshots(snaps, events, [], cutoff, cfg)
    # every snapshot's outcome window closed by the cut-off
    assert (labelled.dates + 90 <= o(cutoff)).all()
    assert labelled.dates.max() > o(cutoff) - 97  # …and the latest such week is used
    # the churn after the cut-off is unknown: "late" has no positive label at all
    assert labelled.y[labelled.account_ids == "late"].sum() == 0
    assert (labelled.churn_dates[labelled.account_ids == "late"] == -1).all()
    assert labelled.y[labelled.account_ids == "early"].sum() == 13  # weeks within 90 days
    # adding any event or feedback after the cut-off changes nothing
    more = dict(events, never=[o(D(2026, 1, 5))])
    feedback = [FeedbackLabel("never", D(2026, 1, 2), "churned")]
    again = label_snapshots(snaps, more, feedback, cutoff, cfg)
    assert again.y.tolist() == labelled.y.tolist()
    assert again.weight.tolist() == labelled.weight.tolist()
    # a later cut-off does see it
    later = label_snapshots(snaps, more, [], D(2026, 6, 30), cfg)
    assert later.y[later.account_ids == "never"].sum() > 0


def test_feedback_changes_labels_and_weights() -> None:
    cfg = TrainingConfig(horizon_days=90, not_a_risk_weight=3.0, feedback_window_days=30)
    weeks = grid_dates(D(2025, 1, 1), D(2025, 12, 31), 7)
    snaps = _snaps([(a, d) for a in ("saved", "false_alarm", "lost", "plain") for d in weeks])
    feedback = [
        FeedbackLabel("saved", D(2025, 6, 1), "saved"),
        FeedbackLabel("false_alarm", D(2025, 6, 1), "not_a_risk"),
        FeedbackLabel("lost", D(2025, 6, 1), "churned"),
    ]
    out = label_snapshots(snaps, {}, feedback, D(2026, 6, 30), cfg)

    def dates_of(account: str) -> np.ndarray:
        return out.dates[out.account_ids == account]

    june = o(D(2025, 6, 1))
    # saved: the 90 days before the save are dropped (weight 0), the rest kept
    assert not ((dates_of("saved") >= june - 90) & (dates_of("saved") <= june)).any()
    assert len(dates_of("saved")) == len(weeks) - 13
    # not a risk: snapshots within 30 days weigh 3
    w = out.weight[out.account_ids == "false_alarm"]
    near = np.abs(dates_of("false_alarm") - june) <= 30
    assert set(w[near]) == {3.0} and set(w[~near]) == {1.0} and near.sum() == 9
    # churned: positive in the 90 days before, gone after
    lost_y = out.y[out.account_ids == "lost"]
    assert dates_of("lost").max() <= june
    assert lost_y.sum() == 13
    assert out.y[out.account_ids == "plain"].sum() == 0


def test_not_a_risk_never_overrides_a_real_churn() -> None:
    ids = np.array(["a", "a"], dtype=object)
    dates = np.array([o(D(2025, 6, 1)), o(D(2025, 6, 8))])
    y = np.array([1, 1], dtype=np.int8)
    weight, keep = apply_feedback(
        ids,
        dates,
        y,
        [FeedbackLabel("a", D(2025, 6, 1), "not_a_risk")],
        horizon_days=90,
        not_a_risk_weight=3.0,
        window_days=30,
    )
    assert weight.tolist() == [1.0, 1.0] and keep.all()
