"""Who is scored as of D, and their contract and lifecycle signals.

Live as of D: created by D (or created_at unknown), and not churned before D — an account
whose latest `churned` lifecycle event falls before D is out, unless a contract started
after that churn and by D (it came back).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import Connection, and_, case, func, select

from scoring.signals.sql import restrict, table
from scoring.signals.window import Population, Window, days
from storage.models import Account, Contract, LifecycleEvent


@dataclass
class ContractRows:
    account_ids: list[str]
    start: list[dt.date]
    end: list[dt.date]
    arr: list[float]
    seats: list[int | None]


def load_population(
    conn: Connection, win: Window, account_ids: list[str] | None
) -> tuple[Population, dict[str, np.ndarray]]:
    """The live accounts and their contract/lifecycle signals (arrays aligned with them)."""
    accounts = table(Account)
    rows = conn.execute(
        restrict(
            select(
                accounts.c.account_id,
                accounts.c.segment,
                accounts.c.owner,
                accounts.c.name,
                accounts.c.created_at,
            ).where((accounts.c.created_at.is_(None)) | (accounts.c.created_at < win.end)),
            accounts.c.account_id,
            account_ids,
        ).order_by(accounts.c.account_id)
    ).all()
    contracts = _contracts(conn, win, account_ids)
    lifecycle = _lifecycle(conn, win, account_ids)

    latest_start: dict[str, dt.date] = {}
    for account_id, start in zip(contracts.account_ids, contracts.start, strict=True):
        if start > latest_start.get(account_id, dt.date.min):
            latest_start[account_id] = start
    churned_at = {row.account_id: row.churned_at for row in lifecycle if row.churned_at}

    live = []
    for row in rows:
        churned = churned_at.get(row.account_id)
        if churned is not None:
            restarted = latest_start.get(row.account_id)
            if restarted is None or dt.datetime.combine(restarted, dt.time()) <= churned:
                continue
        live.append(row)

    population = Population(
        account_ids=[row.account_id for row in live],
        extras={
            "segment": [row.segment for row in live],
            "owner": [row.owner for row in live],
            "name": [row.name for row in live],
        },
    )
    signals = _contract_signals(population, win, contracts, [row.created_at for row in live])
    ids = [row.account_id for row in lifecycle]
    signals["renewals"] = np.fmax(
        population.scatter(ids, [row.renewed for row in lifecycle], fill=0.0),
        np.fmax(signals.pop("_contracts") - 1, 0),
    )
    signals["contractions"] = population.scatter(
        ids, [row.contracted for row in lifecycle], fill=0.0
    )
    return population, signals


def _contracts(conn: Connection, win: Window, account_ids: list[str] | None) -> ContractRows:
    contracts = table(Contract)
    rows = conn.execute(
        restrict(
            select(
                contracts.c.account_id,
                contracts.c.start_date,
                contracts.c.end_date,
                contracts.c.arr,
                contracts.c.seats,
            ).where(contracts.c.start_date <= win.as_of),
            contracts.c.account_id,
            account_ids,
        )
    ).all()
    return ContractRows(
        account_ids=[r.account_id for r in rows],
        start=[r.start_date for r in rows],
        end=[r.end_date for r in rows],
        arr=[r.arr for r in rows],
        seats=[r.seats for r in rows],
    )


def _lifecycle(conn: Connection, win: Window, account_ids: list[str] | None) -> list[Any]:
    lifecycle = table(LifecycleEvent)
    known = lifecycle.c.occurred_at < win.end
    return list(
        conn.execute(
            restrict(
                select(
                    lifecycle.c.account_id,
                    func.max(
                        case(
                            (
                                and_(
                                    lifecycle.c.kind == "churned",
                                    lifecycle.c.occurred_at < win.start,
                                ),
                                lifecycle.c.occurred_at,
                            )
                        )
                    ).label("churned_at"),
                    func.sum(case((and_(lifecycle.c.kind == "renewed", known), 1), else_=0)).label(
                        "renewed"
                    ),
                    func.sum(
                        case((and_(lifecycle.c.kind == "contracted", known), 1), else_=0)
                    ).label("contracted"),
                ).group_by(lifecycle.c.account_id),
                lifecycle.c.account_id,
                account_ids,
            )
        ).all()
    )


def _contract_signals(
    population: Population, win: Window, contracts: ContractRows, created: list
) -> dict[str, np.ndarray]:
    """Current contract = the one whose dates contain D (the latest-starting if several);
    when none does, the latest one started by D (so a lapsed renewal shows as overdue)."""
    n = population.n
    pos = population.positions(contracts.account_ids)
    keep = pos >= 0
    order_pos = pos[keep]
    start = np.array(contracts.start, dtype="datetime64[D]")[keep]
    end = np.array(contracts.end, dtype="datetime64[D]")[keep]
    arr = np.array(contracts.arr, dtype=float)[keep]
    seats = np.array([np.nan if s is None else s for s in contracts.seats], dtype=float)[keep]
    as_of = np.datetime64(win.as_of, "D")
    covers = end >= as_of
    # Rank: covering contracts first, then later starts; the last per account wins.
    order = np.lexsort((start, covers, order_pos))
    last = (
        np.r_[order_pos[order][1:] != order_pos[order][:-1], True]
        if len(order)
        else np.zeros(0, bool)
    )
    chosen = order[last]
    cur_pos = order_pos[chosen]

    out = {name: np.full(n, np.nan) for name in ("arr", "seats", "days_to_renewal")}
    out["arr"][cur_pos] = arr[chosen]
    out["seats"][cur_pos] = seats[chosen]
    out["days_to_renewal"][cur_pos] = days(end[chosen] - as_of)
    renewal = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
    renewal[cur_pos] = end[chosen]
    population.extras["renewal_date"] = [
        None if np.isnat(value) else value.astype(dt.date) for value in renewal
    ]
    out["_contracts"] = np.bincount(order_pos, minlength=n).astype(float)

    first_start = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
    if len(order_pos):
        firsts = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
        np.minimum.at(firsts, order_pos, start.astype(np.int64))
        has = firsts != np.iinfo(np.int64).max
        first_start[has] = firsts[has].astype("datetime64[D]")
    created_day = np.array(
        [np.datetime64("NaT") if c is None else np.datetime64(c.date(), "D") for c in created],
        dtype="datetime64[D]",
    )
    began = np.where(np.isnat(created_day), first_start, created_day)
    both = ~np.isnat(created_day) & ~np.isnat(first_start)
    began[both] = np.minimum(created_day[both], first_start[both])
    tenure = days(as_of - began)
    out["tenure_days"] = np.where(np.isnat(began), np.nan, tenure)
    population.created_days = out["tenure_days"]
    return out
