"""What each playbook achieved over a period, against comparable accounts without it.

For every playbook with runs started in [since, until]:
- runs started, completed (all steps done or skipped), closed by hand, still active;
- median days from start to completion;
- outcomes logged (saved, churned, renewed, expanded, contracted, no_action_needed);
- save rate: the share of run accounts that had not churned by `until` (a churned
  outcome or a churn in the lifecycle data after the run started);
- ARR kept (ARR at start of runs ending saved, renewed, expanded or contracted, less any
  contraction), ARR lost (ARR at start of churned runs) and the net logged ARR change;
- baseline: accounts that were in the same bands during the period but had no run of this
  playbook; their save rate per band, weighted by the runs' band mix at start, so the
  comparison is like for like. `lift` is save rate minus baseline save rate.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field

from sqlalchemy import func, or_, select
from sqlmodel import Session, col

from storage.enums import OutcomeKind
from storage.models import AccountScore, LifecycleEvent, Outcome, PlaybookRun

RETAINED = (OutcomeKind.SAVED, OutcomeKind.RENEWED, OutcomeKind.EXPANDED, OutcomeKind.CONTRACTED)


@dataclass
class PlaybookResult:
    playbook: str
    runs_started: int
    runs_completed: int
    runs_closed: int
    runs_active: int
    median_days_to_complete: float | None
    outcomes: dict[str, int] = field(default_factory=dict)
    runs_without_outcome: int = 0
    churned: int = 0
    save_rate: float | None = None
    arr_kept: float = 0.0
    arr_lost: float = 0.0
    arr_change: float = 0.0
    baseline_accounts: int = 0
    baseline_churned: int = 0
    baseline_save_rate: float | None = None
    lift: float | None = None

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def playbook_report(session: Session, *, since: dt.date, until: dt.date) -> list[PlaybookResult]:
    """One result per playbook with runs started in [since, until], by name."""
    start = dt.datetime.combine(since, dt.time())
    end = dt.datetime.combine(until + dt.timedelta(days=1), dt.time())
    runs = list(
        session.scalars(
            select(PlaybookRun)
            .where(col(PlaybookRun.started_at) >= start, col(PlaybookRun.started_at) < end)
            .order_by(col(PlaybookRun.id))
        )
    )
    if not runs:
        return []
    outcomes = {
        o.run_id: o
        for o in session.scalars(
            select(Outcome)
            .join(PlaybookRun, col(PlaybookRun.id) == col(Outcome.run_id))
            .where(col(PlaybookRun.started_at) >= start, col(PlaybookRun.started_at) < end)
        )
    }
    churned_at = dict(
        session.execute(
            select(col(LifecycleEvent.account_id), func.min(col(LifecycleEvent.occurred_at)))
            .where(
                col(LifecycleEvent.kind) == "churned",
                col(LifecycleEvent.occurred_at) >= start,
                col(LifecycleEvent.occurred_at) < end,
            )
            .group_by(col(LifecycleEvent.account_id))
        ).all()
    )
    band_entry: dict[str, dict[str, dt.date]] = defaultdict(dict)  # band -> account -> first
    for account_id, band, first in session.execute(
        select(
            col(AccountScore.account_id), col(AccountScore.band), func.min(col(AccountScore.as_of))
        )
        .where(col(AccountScore.as_of) >= since, col(AccountScore.as_of) <= until)
        .group_by(col(AccountScore.account_id), col(AccountScore.band))
    ):
        band_entry[band][account_id] = first
    with_run: dict[str, set[str]] = defaultdict(set)  # playbook -> accounts with a run
    for account_id, playbook in session.execute(
        select(col(PlaybookRun.account_id), col(PlaybookRun.playbook)).where(
            col(PlaybookRun.started_at) < end,
            or_(col(PlaybookRun.closed_at).is_(None), col(PlaybookRun.closed_at) >= start),
        )
    ):
        with_run[playbook].add(account_id)

    by_playbook: dict[str, list[PlaybookRun]] = defaultdict(list)
    for run in runs:
        by_playbook[run.playbook].append(run)
    return [
        _result(name, group, outcomes, churned_at, band_entry, with_run[name])
        for name, group in sorted(by_playbook.items())
    ]


def _result(
    name: str,
    runs: list[PlaybookRun],
    outcomes: dict[int | None, Outcome],
    churned_at: dict[str, dt.datetime],
    band_entry: dict[str, dict[str, dt.date]],
    accounts_with_run: set[str],
) -> PlaybookResult:
    statuses = Counter(run.status for run in runs)
    durations = [
        (run.closed_at - run.started_at).total_seconds() / 86400
        for run in runs
        if run.status == "completed" and run.closed_at is not None
    ]
    result = PlaybookResult(
        playbook=name,
        runs_started=len(runs),
        runs_completed=statuses["completed"],
        runs_closed=statuses["closed"],
        runs_active=statuses["active"],
        median_days_to_complete=round(statistics.median(durations), 1) if durations else None,
    )
    kinds: Counter[str] = Counter()
    bands: Counter[str] = Counter()
    for run in runs:
        outcome = outcomes.get(run.id)
        arr = run.arr_at_start or 0.0
        if run.band_at_start:
            bands[run.band_at_start] += 1
        if outcome is None:
            result.runs_without_outcome += 1
        else:
            kinds[outcome.kind] += 1
            result.arr_change += outcome.arr_change or 0.0
        lost_at = churned_at.get(run.account_id)
        churned = (outcome is not None and outcome.kind == OutcomeKind.CHURNED) or (
            lost_at is not None and lost_at.date() >= run.started_at.date()
        )
        if churned:
            result.churned += 1
            result.arr_lost += arr
        elif outcome is not None and outcome.kind in RETAINED:
            result.arr_kept += max(0.0, arr + min(outcome.arr_change or 0.0, 0.0))
    result.outcomes = dict(sorted(kinds.items()))
    result.save_rate = round(1 - result.churned / len(runs), 4)

    weighted, weight = 0.0, 0
    for band, runs_in_band in bands.items():
        entries = {
            account: first
            for account, first in band_entry.get(band, {}).items()
            if account not in accounts_with_run
        }
        if not entries:
            continue
        lost = sum(
            1
            for account, first in entries.items()
            if account in churned_at and churned_at[account].date() >= first
        )
        result.baseline_accounts += len(entries)
        result.baseline_churned += lost
        weighted += runs_in_band * (1 - lost / len(entries))
        weight += runs_in_band
    if weight:
        result.baseline_save_rate = round(weighted / weight, 4)
        result.lift = round(result.save_rate - result.baseline_save_rate, 4)
    return result
