"""Synthetic snapshot histories with a known churn process, for tests and benchmarks.

Each account either churns on a random day or not; in the `decline_days` before its churn
its logins, feature breadth and NPS slide and its sponsor goes quiet, with noise, so a
model can learn the run-up (and measure lead time). The set is labelled the same way real
snapshots are (`labels.next_churn` / `churn_labels`).
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from scoring.churn.labels import churn_labels, next_churn
from scoring.churn.snapshots import GRID_EPOCH, SnapshotSet

NAMES = [
    "logins_30d",
    "login_change",
    "feature_breadth_30d",
    "sponsor_silent_days",
    "tickets_30d",
    "nps_last",
    "days_to_renewal",
    "arr",
    "noise_a",
    "noise_b",
]


def synthetic_history(
    n_accounts: int,
    n_weeks: int,
    *,
    seed: int = 0,
    churn_share: float = 0.3,
    decline_days: int = 120,
    horizon_days: int = 90,
    start: dt.date = GRID_EPOCH,
) -> tuple[SnapshotSet, dict[str, list[int]]]:
    """Weekly snapshots of live accounts (rows stop at churn) and the churn events."""
    rng = np.random.default_rng(seed)
    first = start.toordinal()
    span = n_weeks * 7
    accounts = np.array([f"acc-{i:06d}" for i in range(n_accounts)], dtype=object)
    churns = rng.random(n_accounts) < churn_share
    churn_day = np.where(churns, first + rng.integers(28, span + horizon_days, n_accounts), -1)
    events = {str(a): [int(d)] for a, d in zip(accounts, churn_day, strict=True) if d >= 0}
    base_logins = rng.lognormal(4.0, 0.6, n_accounts)
    base_breadth = rng.integers(3, 12, n_accounts).astype(float)
    base_nps = rng.integers(5, 11, n_accounts).astype(float)
    arr = rng.lognormal(10, 1, n_accounts)

    dates = first + 7 * np.arange(n_weeks)
    acc_idx = np.repeat(np.arange(n_accounts), n_weeks)
    day = np.tile(dates, n_accounts)
    live = (churn_day[acc_idx] < 0) | (day < churn_day[acc_idx])
    acc_idx, day = acc_idx[live], day[live]
    n = day.size
    to_churn = np.where(churn_day[acc_idx] >= 0, churn_day[acc_idx] - day, 10_000)
    decline = np.clip(1 - to_churn / decline_days, 0, 1)  # 0 far from churn, 1 at churn
    noise = rng.normal(size=(n, 6))
    X = np.empty((n, len(NAMES)))
    X[:, 0] = base_logins[acc_idx] * (1 - 0.7 * decline) * np.exp(0.25 * noise[:, 0])
    X[:, 1] = (1 - 0.7 * decline) * np.exp(0.25 * noise[:, 0]) - 1
    X[:, 2] = np.maximum(0, base_breadth[acc_idx] * (1 - 0.5 * decline) + noise[:, 1])
    X[:, 3] = np.maximum(0, 10 + 60 * decline + 10 * noise[:, 2])
    X[:, 4] = rng.poisson(2 + 4 * decline)
    X[:, 5] = np.clip(np.round(base_nps[acc_idx] - 4 * decline + noise[:, 3]), 0, 10)
    X[:, 6] = (365 - (day - first) % 365).astype(float)
    X[:, 7] = arr[acc_idx]
    X[:, 8] = noise[:, 4]
    X[:, 9] = noise[:, 5]
    X[rng.random((n, len(NAMES))) < 0.03] = np.nan  # some missing data
    snaps = SnapshotSet(
        names=list(NAMES),
        X=X,
        account_ids=accounts[acc_idx],
        dates=day.astype(np.int64),
        weight=np.ones(n),
    )
    snaps.churn_dates = next_churn(snaps.account_ids, snaps.dates, events)
    snaps.y = churn_labels(snaps.dates, snaps.churn_dates, horizon_days)
    return snaps, events
