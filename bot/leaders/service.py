"""The leaders' portfolio summary for a period: health distribution, NRR and GRR, accounts
that changed band, and playbook results.

Retention is computed per account from contracts and lifecycle events (pure functions
below): the cohort is every account with ARR at the period start; an account's ARR at a
date is the sum of its contracts in force that day, zero once it has churned, and its last
contract's ARR while a renewal is pending (a lapsed contract without a churn event is not
counted as lost).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session, col, select

from bot.digests.service import latest_facts
from storage.enums import Band
from storage.models import Contract, LifecycleEvent, Outcome, PlaybookRun

BANDS = tuple(Band)
BAND_RANK: dict[str, int] = {band: rank for rank, band in enumerate(BANDS)}
MAX_BAND_CHANGES = 10


@dataclass(frozen=True)
class BandChange:
    account_id: str
    name: str
    owner: str | None
    from_band: str
    to_band: str
    health_from: float
    health_to: float
    arr: float

    @property
    def worsened(self) -> bool:
        return BAND_RANK.get(self.to_band, 0) > BAND_RANK.get(self.from_band, 0)


@dataclass(frozen=True)
class PlaybookResult:
    playbook: str
    title: str
    started: int
    outcomes: dict[str, int]
    arr_change: float


@dataclass
class Retention:
    starting_arr: float = 0.0
    ending_arr: float = 0.0
    expansion: float = 0.0
    contraction: float = 0.0
    churned: float = 0.0

    @property
    def nrr(self) -> float | None:
        return self.ending_arr / self.starting_arr if self.starting_arr else None

    @property
    def grr(self) -> float | None:
        if not self.starting_arr:
            return None
        return (self.starting_arr - self.contraction - self.churned) / self.starting_arr


@dataclass
class LeadersSummary:
    start: dt.date
    end: dt.date
    distribution: dict[str, tuple[int, float]] = field(default_factory=dict)  # band → (n, ARR)
    retention: Retention = field(default_factory=Retention)
    band_changes: list[BandChange] = field(default_factory=list)
    playbooks: list[PlaybookResult] = field(default_factory=list)
    accounts: int = 0


@dataclass(frozen=True)
class ContractSpan:
    account_id: str
    start_date: dt.date
    end_date: dt.date
    arr: float


def arr_at(
    contracts: Iterable[ContractSpan], churned_on: Mapping[str, dt.date], day: dt.date
) -> dict[str, float]:
    """Each account's ARR on `day` (pure; see the module docstring for the rules)."""
    in_force: dict[str, float] = defaultdict(float)
    last: dict[str, ContractSpan] = {}
    for span in contracts:
        if span.start_date > day:
            continue
        if span.end_date >= day:
            in_force[span.account_id] += span.arr
        previous = last.get(span.account_id)
        if previous is None or span.end_date > previous.end_date:
            last[span.account_id] = span
    found: dict[str, float] = {}
    for account_id, span in last.items():
        churned = churned_on.get(account_id)
        if churned is not None and churned <= day:
            found[account_id] = 0.0
        elif account_id in in_force:
            found[account_id] = in_force[account_id]
        else:
            found[account_id] = span.arr  # lapsed, renewal pending
    return found


def retention(start_arr: Mapping[str, float], end_arr: Mapping[str, float]) -> Retention:
    """NRR and GRR for the cohort of accounts with ARR at the start (pure)."""
    result = Retention()
    for account_id, before in start_arr.items():
        if before <= 0:
            continue
        after = end_arr.get(account_id, 0.0)
        result.starting_arr += before
        result.ending_arr += after
        if after == 0:
            result.churned += before
        elif after < before:
            result.contraction += before - after
        else:
            result.expansion += after - before
    return result


def band_changes(
    before: Mapping[str, tuple[str, float]],
    after: Iterable[tuple[str, str, str | None, str, float, float]],
) -> list[BandChange]:
    """Accounts whose band moved, worst moves first (pure). `after` rows are
    (account_id, name, owner, band, health, arr); `before` maps id → (band, health)."""
    changes = []
    for account_id, name, owner, band, health, arr in after:
        if account_id not in before or before[account_id][0] == band:
            continue
        old_band, old_health = before[account_id]
        changes.append(BandChange(account_id, name, owner, old_band, band, old_health, health, arr))
    changes.sort(
        key=lambda c: (
            -(BAND_RANK.get(c.to_band, 0) - BAND_RANK.get(c.from_band, 0)),
            -c.arr,
            c.account_id,
        )
    )
    return changes


def _playbook_results(
    session: Session, start: dt.date, end: dt.date, library: Mapping[str, Any] | None
) -> list[PlaybookResult]:
    begin = dt.datetime.combine(start, dt.time.min)
    finish = dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min)
    started = Counter(
        session.exec(
            select(PlaybookRun.playbook).where(
                PlaybookRun.started_at >= begin, PlaybookRun.started_at < finish
            )
        ).all()
    )
    outcomes: dict[str, Counter[str]] = defaultdict(Counter)
    arr: dict[str, float] = defaultdict(float)
    rows = session.exec(
        select(PlaybookRun.playbook, Outcome.kind, Outcome.arr_change)
        .join(Outcome, col(Outcome.run_id) == col(PlaybookRun.id))
        .where(Outcome.created_at >= begin, Outcome.created_at < finish)
    ).all()
    for playbook, kind, change in rows:
        outcomes[playbook][kind] += 1
        arr[playbook] += change or 0.0
    results = []
    for name in sorted(set(started) | set(outcomes)):
        title = getattr((library or {}).get(name), "title", None) or name.replace("_", " ")
        results.append(
            PlaybookResult(name, title, started.get(name, 0), dict(outcomes[name]), arr[name])
        )
    results.sort(key=lambda r: (-r.started - sum(r.outcomes.values()), r.playbook))
    return results


def build_leaders_summary(
    session: Session,
    *,
    start: dt.date,
    end: dt.date,
    library: Mapping[str, Any] | None = None,
) -> LeadersSummary:
    """The summary of the period (start, end]."""
    now_rows = latest_facts(session, end)
    then_rows = latest_facts(session, start)
    distribution: dict[str, tuple[int, float]] = {band: (0, 0.0) for band in BANDS}
    for score, _name, _owner in now_rows:
        count, arr = distribution.get(score.band, (0, 0.0))
        distribution[score.band] = (count + 1, arr + score.arr)
    changes = band_changes(
        {s.account_id: (s.band, s.health) for s, _n, _o in then_rows},
        [(s.account_id, name, owner, s.band, s.health, s.arr) for s, name, owner in now_rows],
    )
    spans = [
        ContractSpan(account_id, start_date, end_date, arr)
        for account_id, start_date, end_date, arr in session.exec(
            select(
                col(Contract.account_id),
                col(Contract.start_date),
                col(Contract.end_date),
                col(Contract.arr),
            ).where(col(Contract.start_date) <= end)
        ).all()
    ]
    churned: dict[str, dt.date] = {}
    for account_id, occurred in session.exec(
        select(LifecycleEvent.account_id, LifecycleEvent.occurred_at).where(
            LifecycleEvent.kind == "churned",
            LifecycleEvent.occurred_at
            < dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min),
        )
    ).all():
        day = occurred.date()
        churned[account_id] = min(day, churned.get(account_id, day))
    return LeadersSummary(
        start=start,
        end=end,
        distribution=distribution,
        retention=retention(arr_at(spans, churned, start), arr_at(spans, churned, end)),
        band_changes=changes,
        playbooks=_playbook_results(session, start, end, library),
        accounts=len(now_rows),
    )
