"""Renewal points and their outcomes, from contracts and lifecycle events (pure).

A contract's `end_date` is its renewal date (docs/data-contract.md). At that date the
account either renews — a successor contract starts within `SUCCESSOR_DAYS` of it, whose
ARR is the renewed ARR (expansion or contraction included) — or is lost: a `churned`
lifecycle event between the contract's start and `SETTLE_DAYS` after its end, or no
successor once `SETTLE_DAYS` have passed ("lapsed"). A contract cut short by a mid-term
expansion (the successor starts the next day with an `expanded` event and no `renewed`
event that day) is not a renewal point.

Everything takes `known_by`: only contracts started and events dated by then are seen,
so a forecast or a backtest as of a date never sees what came after it.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

SUCCESSOR_DAYS = 60  # a contract starting up to this long after the end renews it
SETTLE_DAYS = 60  # after this, a renewal with no successor is lost


@dataclass(frozen=True, slots=True)
class ContractRow:
    contract_id: str
    account_id: str
    start: dt.date
    end: dt.date
    arr: float


@dataclass(frozen=True, slots=True)
class EventRow:
    account_id: str
    day: dt.date
    kind: str  # churned, renewed, expanded, contracted, …


@dataclass(frozen=True, slots=True)
class Renewal:
    """One renewal point: the contract, and (when settled) what came of it."""

    account_id: str
    contract_id: str
    renewal_date: dt.date  # the contract's end_date
    arr: float  # ARR up for renewal
    outcome: str  # renewed, churned, lapsed, pending
    new_arr: float | None  # ARR after the renewal (0 when lost; None while pending)

    @property
    def settled(self) -> bool:
        return self.outcome != "pending"

    @property
    def renewed(self) -> bool:
        return self.outcome == "renewed"


def _by_account(rows: Iterable[ContractRow], known_by: dt.date) -> dict[str, list[ContractRow]]:
    grouped: dict[str, list[ContractRow]] = defaultdict(list)
    for row in rows:
        if row.start <= known_by:
            grouped[row.account_id].append(row)
    for items in grouped.values():
        items.sort(key=lambda c: (c.start, c.end))
    return grouped


def _events(rows: Iterable[EventRow], known_by: dt.date) -> dict[str, dict[str, list[dt.date]]]:
    grouped: dict[str, dict[str, list[dt.date]]] = defaultdict(lambda: defaultdict(list))
    for row in rows:
        if row.day <= known_by:
            grouped[row.account_id][row.kind].append(row.day)
    return grouped


def _successor(contract: ContractRow, later: list[ContractRow]) -> ContractRow | None:
    for other in later:
        gap = (other.start - contract.end).days
        if other.contract_id != contract.contract_id and -30 <= gap <= SUCCESSOR_DAYS:
            return other
    return None


def renewal_points(
    contracts: Iterable[ContractRow], events: Iterable[EventRow], known_by: dt.date
) -> list[Renewal]:
    """Every renewal point of contracts started by `known_by`, with its outcome as known then."""
    by_account = _by_account(contracts, known_by)
    happened = _events(events, known_by)
    points: list[Renewal] = []
    for account_id, items in by_account.items():
        kinds = happened.get(account_id, {})
        churns = sorted(kinds.get("churned", []))
        for i, contract in enumerate(items):
            successor = _successor(contract, items[i + 1 :])
            if (
                successor is not None
                and (successor.start - contract.end).days == 1
                and successor.start in kinds.get("expanded", [])
                and successor.start not in kinds.get("renewed", [])
            ):
                continue  # cut short by a mid-term expansion: not a renewal
            lost = [
                c
                for c in churns
                if contract.start <= c <= contract.end + dt.timedelta(days=SETTLE_DAYS)
            ]
            if lost and (successor is None or successor.start > lost[0]):
                points.append(_point(contract, "churned", 0.0))
            elif successor is not None:
                points.append(_point(contract, "renewed", successor.arr))
            elif contract.end + dt.timedelta(days=SETTLE_DAYS) <= known_by:
                points.append(_point(contract, "lapsed", 0.0))
            else:
                points.append(_point(contract, "pending", None))
    points.sort(key=lambda r: (r.renewal_date, r.account_id))
    return points


def _point(contract: ContractRow, outcome: str, new_arr: float | None) -> Renewal:
    return Renewal(
        contract.account_id, contract.contract_id, contract.end, contract.arr, outcome, new_arr
    )


def live_contracts(
    contracts: Iterable[ContractRow], events: Iterable[EventRow], as_of: dt.date
) -> list[ContractRow]:
    """The contract in force at `as_of` for each account that has not churned during it
    (the latest-starting one when several cover the date)."""
    by_account = _by_account(contracts, as_of)
    happened = _events(events, as_of)
    live: list[ContractRow] = []
    for account_id, items in by_account.items():
        covering = [c for c in items if c.start <= as_of <= c.end]
        if not covering:
            continue
        current = covering[-1]
        churns = happened.get(account_id, {}).get("churned", [])
        if any(current.start <= c <= as_of for c in churns):
            continue
        live.append(current)
    return live


def upcoming(
    contracts: Iterable[ContractRow],
    events: Iterable[EventRow],
    as_of: dt.date,
    days: int,
) -> list[ContractRow]:
    """Live contracts whose renewal date falls in [as_of, as_of + days]."""
    last = as_of + dt.timedelta(days=days)
    rows = [c for c in live_contracts(contracts, events, as_of) if c.end <= last]
    return sorted(rows, key=lambda c: (c.end, c.account_id))


def quarter_of(day: dt.date) -> tuple[dt.date, dt.date]:
    """First and last day of the calendar quarter containing `day`."""
    first_month = 3 * ((day.month - 1) // 3) + 1
    start = dt.date(day.year, first_month, 1)
    if first_month == 10:
        nxt = dt.date(day.year + 1, 1, 1)
    else:
        nxt = dt.date(day.year, first_month + 3, 1)
    return start, nxt - dt.timedelta(days=1)


def quarter_label(start: dt.date) -> str:
    return f"{start.year}-Q{(start.month - 1) // 3 + 1}"


def retention(points: Iterable[Renewal]) -> tuple[float | None, float | None, float]:
    """(GRR, NRR, ARR up for renewal) of settled renewal points; None without any."""
    base = kept = net = 0.0
    for point in points:
        if not point.settled or point.new_arr is None:
            continue
        base += point.arr
        kept += min(point.new_arr, point.arr)
        net += point.new_arr
    if base <= 0:
        return None, None, 0.0
    return kept / base, net / base, base
