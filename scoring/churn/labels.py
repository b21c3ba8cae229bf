"""Churn labels for snapshots, and how people's feedback changes them.

A snapshot of account a on day s is labelled 1 when a churned (lifecycle kind "churned")
on a day c with s <= c <= s + horizon. Only snapshots whose outcome window closed by the
training cut-off (s + horizon <= cut-off) may be labelled at all; `train` enforces it.

Feedback from Slack (table `feedback`), used by the next training when it was given on or
before the cut-off:
- `churned` on day d: the account is treated as churned on d even when no lifecycle event
  says so (the CSM knows first); its snapshots after d are dropped.
- `saved` on day d: the account was at risk and a save play kept it. Its snapshots in the
  horizon before d (d - horizon … d) get weight 0: their "did not churn" outcome was caused
  by the intervention, and teaching the model that the pattern is harmless would be wrong.
- `not_a_risk` on day d: a person judged the alert wrong. Snapshots within
  `feedback_window_days` of d that did not churn get `not_a_risk_weight` (3×), so false
  alarms like it cost the model more. A lifecycle churn still wins: the label stays 1.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from sqlalchemy import Engine, select
from sqlmodel import Session, col

from storage.enums import FeedbackKind
from storage.models import Feedback, LifecycleEvent


@dataclass(frozen=True)
class FeedbackLabel:
    """One piece of feedback: about `account_id` as of `as_of`, given on `given_on` (the
    day it was recorded; a backtest retrain on day R uses it only if given_on <= R)."""

    account_id: str
    as_of: dt.date
    label: str
    given_on: dt.date | None = None

    def known_by(self, day: dt.date) -> bool:
        return self.as_of <= day and (self.given_on is None or self.given_on <= day)


def load_churn_events(engine: Engine, known_by: dt.date | None = None) -> dict[str, list[int]]:
    """Churn dates (ordinals, sorted) per account from the lifecycle table."""
    query = select(col(LifecycleEvent.account_id), col(LifecycleEvent.occurred_at)).where(
        col(LifecycleEvent.kind) == "churned"
    )
    if known_by is not None:
        query = query.where(
            col(LifecycleEvent.occurred_at)
            < dt.datetime.combine(known_by + dt.timedelta(days=1), dt.time())
        )
    events: dict[str, list[int]] = {}
    with Session(engine) as session:
        for account_id, occurred_at in session.execute(query):
            events.setdefault(account_id, []).append(occurred_at.date().toordinal())
    return {account: sorted(set(days)) for account, days in events.items()}


def load_feedback(engine: Engine, known_by: dt.date) -> list[FeedbackLabel]:
    """Feedback given on or before `known_by` (its creation date, not the date it is about)."""
    limit = dt.datetime.combine(known_by + dt.timedelta(days=1), dt.time())
    query = select(
        col(Feedback.account_id),
        col(Feedback.as_of),
        col(Feedback.label),
        col(Feedback.created_at),
    ).where(col(Feedback.created_at) < limit, col(Feedback.as_of) <= known_by)
    with Session(engine) as session:
        return [
            FeedbackLabel(a, d, lab, _day(given)) for a, d, lab, given in session.execute(query)
        ]


def _day(value: dt.datetime | dt.date | str) -> dt.date:
    if isinstance(value, str):  # SQLite may hand back text
        value = dt.datetime.fromisoformat(value)
    return value.date() if isinstance(value, dt.datetime) else value


def merge_feedback_churns(
    events: dict[str, list[int]], feedback: Iterable[FeedbackLabel]
) -> dict[str, list[int]]:
    """Churn events plus `churned` feedback for accounts the lifecycle has no churn for."""
    merged = {account: list(days) for account, days in events.items()}
    for item in feedback:
        if item.label == FeedbackKind.CHURNED and item.account_id not in events:
            merged.setdefault(item.account_id, []).append(item.as_of.toordinal())
    return {account: sorted(set(days)) for account, days in merged.items()}


def next_churn(
    account_ids: np.ndarray, dates: np.ndarray, events: dict[str, list[int]]
) -> np.ndarray:
    """Per row, the ordinal of the account's first churn on or after the row's date (-1: none).

    Vectorised: rows and events are keyed (account index, day) and matched by searchsorted.
    """
    n = account_ids.size
    if n == 0 or not events:
        return np.full(n, -1, dtype=np.int64)
    codes = {account: i for i, account in enumerate(events)}
    row_code = np.fromiter((codes.get(a, -1) for a in account_ids), dtype=np.int64, count=n)
    ev_code = np.concatenate(
        [np.full(len(days), codes[a], dtype=np.int64) for a, days in events.items()]
    )
    ev_day = np.concatenate([np.asarray(days, dtype=np.int64) for days in events.values()])
    scale = np.int64(10_000_000)  # larger than any date ordinal
    ev_key = ev_code * scale + ev_day
    order = np.argsort(ev_key)
    ev_key, ev_day, ev_code = ev_key[order], ev_day[order], ev_code[order]
    row_key = row_code * scale + dates.astype(np.int64)
    pos = np.searchsorted(ev_key, row_key, side="left")
    result = np.full(n, -1, dtype=np.int64)
    found = (row_code >= 0) & (pos < ev_key.size)
    idx = pos[found]
    same_account = ev_code[idx] == row_code[found]
    rows = np.flatnonzero(found)[same_account]
    result[rows] = ev_day[idx[same_account]]
    return result


def churn_labels(dates: np.ndarray, churn_dates: np.ndarray, horizon_days: int) -> np.ndarray:
    """1 where the next churn falls within the horizon after the snapshot."""
    return ((churn_dates >= 0) & (churn_dates - dates <= horizon_days)).astype(np.int8)


def apply_feedback(
    account_ids: np.ndarray,
    dates: np.ndarray,
    y: np.ndarray,
    feedback: Iterable[FeedbackLabel],
    *,
    horizon_days: int,
    not_a_risk_weight: float,
    window_days: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Sample weights and a keep-mask for the rows, from the feedback (see module doc)."""
    weight = np.ones(account_ids.size, dtype=np.float64)
    keep = np.ones(account_ids.size, dtype=bool)
    by_account: dict[str, list[FeedbackLabel]] = {}
    for item in feedback:
        by_account.setdefault(item.account_id, []).append(item)
    if not by_account:
        return weight, keep
    rows_of: dict[str, list[int]] = {}
    wanted = np.isin(account_ids, list(by_account))
    for row in np.flatnonzero(wanted):
        rows_of.setdefault(str(account_ids[row]), []).append(int(row))
    for account, items in by_account.items():
        rows = np.asarray(rows_of.get(account, []), dtype=np.int64)
        if rows.size == 0:
            continue
        days = dates[rows]
        for item in items:
            d = item.as_of.toordinal()
            if item.label == FeedbackKind.SAVED:
                weight[rows[(days >= d - horizon_days) & (days <= d)]] = 0.0
            elif item.label == FeedbackKind.NOT_A_RISK:
                near = (np.abs(days - d) <= window_days) & (y[rows] == 0)
                weight[rows[near]] = np.maximum(weight[rows[near]], not_a_risk_weight)
            elif item.label == FeedbackKind.CHURNED:
                keep[rows[days > d]] = False
    return weight, keep
