"""Engagement and usage-based expansion signals from the `usage` table.

Two grouped queries over the window ending at D, each aggregated in SQL:
- one pass over 91 days per account and contact: login sums over 30 and 90 days, the
  weekly usage series (13 weeks; conditional aggregates), the latest activity, and a mask
  of the days the contact was active (bit k = k days back from D; two integers). From
  those numpy derives distinct active weekdays, usage trends, active users per window and
  per week (seat saturation), new contacts and each contact's last activity ('' rows count
  toward usage, not toward users). Few groups (contacts, not contact-days) and plain
  aggregates let PostgreSQL run the pass in parallel workers;
- per account and event over 30 days: feature breadth, core share, advanced adoption.
Slopes and everything after the GROUP BY are computed for all accounts at once with numpy.
Each query (`fetch_rollup`, `fetch_features`) is apart from what is derived from its rows
(`usage_signals`, `feature_signals`), so the queries can run on a connection of their own
while other tables are read and derived.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import chain
from typing import Any

import numpy as np
from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Connection,
    Date,
    Select,
    String,
    and_,
    case,
    cast,
    func,
    literal,
    select,
)
from sqlalchemy.types import NullType

from scoring.config import SignalParams
from scoring.signals.activity import ContactActivity
from scoring.signals.sql import columns, restrict, table
from scoring.signals.window import Population, Window, days
from storage.models import UsageEvent

WEEKS = 13
SATURATION_WEEKS = 8
TREND_WEEKS = {"usage_trend_30d": 4, "usage_trend_60d": 9, "usage_trend_90d": 13}
WINDOW_DAYS = 7 * WEEKS  # D and the 90 days before it
LOW_BITS = 62  # days 0-61 back from D in one integer mask, days 62-90 in a second
SUMS = ("logins_30", "logins_90", *(f"week_{k}" for k in range(WEEKS)))


def _scan(conn: Connection, query: Select, account_ids: list[str] | None) -> list[Any]:
    usage = table(UsageEvent)
    return list(conn.execute(restrict(query, usage.c.account_id, account_ids)).all())


@dataclass
class _UsageRollup:
    """What the usage window reduces to before any signal is derived (same on every database).

    Per account: logins in 30 and 90 days, distinct active weekdays in 90 days, and the
    weekly usage series (13 weeks, most recent first). Per person (account_id, contact_id;
    '' rows excluded): days since the latest activity, activity in the last 30 days, in the
    30 before, in the 60 before those, and in each of the last 8 weeks.
    """

    logins_30: np.ndarray
    logins_90: np.ndarray
    weekdays: np.ndarray
    weekly: np.ndarray
    activity: ContactActivity
    previous: np.ndarray
    weeks_active: np.ndarray


@dataclass
class RollupRows:
    """What the 91-day pass returns. Per account, `sums`: logins over 30 and 90 days, then
    the 13 weekly sums (an account may have several rows, which add up). Per account and
    contact: the two day masks and the latest activity (text)."""

    sum_accounts: list[str]
    sums: np.ndarray
    accounts: list[str]
    contacts: list[str]
    low: np.ndarray
    high: np.ndarray
    last: list[str]


def fetch_rollup(
    conn: Connection, win: Window, params: SignalParams, account_ids: list[str] | None
) -> RollupRows:
    """The per-account-and-contact pass over the 91-day window (no derivation).

    SQLite returns a row per contact. PostgreSQL adds the contacts' sums up per account and
    returns a row per account with the contacts' masks and latest activity as arrays: about
    a fifth of the values to convert in Python."""
    usage = table(UsageEvent)
    query = restrict(_rollup_query(conn, win, params), usage.c.account_id, account_ids)
    if conn.dialect.name == "postgresql":
        return _per_account(conn, query)
    return _per_contact(conn, query)


def _per_contact(conn: Connection, per_contact: Select) -> RollupRows:
    rows = conn.execute(per_contact).all()
    accounts, contacts, low, high, last, *sums = columns(rows, 5 + len(SUMS))
    return RollupRows(
        sum_accounts=list(accounts),
        sums=np.array(sums, dtype=float).T.reshape(len(rows), len(SUMS)),
        accounts=list(accounts),
        contacts=list(contacts),
        low=np.array(low, dtype=np.int64),
        high=np.array(high, dtype=np.int64),
        last=list(last),
    )


def _per_account(conn: Connection, per_contact: Select) -> RollupRows:
    contact = per_contact.subquery("per_contact")
    rows = conn.execute(
        select(
            contact.c.account_id,
            *(func.sum(contact.c[name]) for name in SUMS),
            # One input order for every aggregate of a group: the arrays line up. Untyped:
            # psycopg's lists as they are, without a pass over every element.
            *(
                func.array_agg(contact.c[name], type_=NullType())
                for name in ("contact_id", "low", "high", "last")
            ),
        ).group_by(contact.c.account_id)
    ).all()
    accounts, *rest = columns(rows, 5 + len(SUMS))
    sums, (contacts, low, high, last) = rest[: len(SUMS)], rest[len(SUMS) :]
    return RollupRows(
        sum_accounts=list(accounts),
        sums=np.array(sums, dtype=float).T.reshape(len(rows), len(SUMS)),
        accounts=[a for a, k in zip(accounts, contacts, strict=True) for _ in range(len(k))],
        contacts=list(chain.from_iterable(contacts)),
        low=np.fromiter(chain.from_iterable(low), dtype=np.int64),
        high=np.fromiter(chain.from_iterable(high), dtype=np.int64),
        last=list(chain.from_iterable(last)),
    )


def fetch_features(
    conn: Connection, win: Window, params: SignalParams, account_ids: list[str] | None
) -> list[Any]:
    """The per-account-and-event pass over 30 days (rows, no derivation)."""
    return _scan(conn, _features_query(win, params), account_ids)


def usage_signals(
    rows: RollupRows,
    win: Window,
    population: Population,
    params: SignalParams,
    seats: np.ndarray,
) -> tuple[dict[str, np.ndarray], ContactActivity]:
    """Engagement signals of every account from `fetch_rollup`'s rows, and each person's
    usage activity."""
    n = population.n
    rollup = _rollup(rows, win, population)

    out: dict[str, np.ndarray] = {}
    tenure = population.created_days
    covered_90 = np.clip(np.nan_to_num(tenure + 1, nan=90.0), 1, 90)
    out["logins_30d"] = rollup.logins_30
    out["logins_baseline_30d"] = rollup.logins_90 * 30.0 / covered_90
    with np.errstate(divide="ignore", invalid="ignore"):
        out["login_change"] = np.where(
            out["logins_baseline_30d"] > 0,
            out["logins_30d"] / out["logins_baseline_30d"] - 1,
            np.nan,
        )
    active_weekdays = rollup.weekdays
    out["active_days_90d"] = active_weekdays
    as_of = np.datetime64(win.as_of, "D")
    first_day = as_of - (covered_90.astype(np.int64) - 1)
    possible = np.busday_count(first_day, as_of + 1).astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        out["usage_regularity_90d"] = np.where(possible > 0, active_weekdays / possible, np.nan)

    for name, weeks in TREND_WEEKS.items():
        out[name] = _relative_slopes(rollup.weekly[:, :weeks])
        out[name][~(np.nan_to_num(tenure, nan=0.0) >= 7 * weeks - 1)] = np.nan

    # All usage (every event, not only logins) in the last week and the last 4 weeks
    # against the mean week of weeks 4-12 before D: a cliff shows in days, not after the
    # 90-day baseline has absorbed it. NaN without 13 weeks of tenure or a quiet baseline.
    base = rollup.weekly[:, 4:WEEKS].mean(axis=1)
    grown = np.nan_to_num(tenure, nan=0.0) >= 7 * WEEKS - 1
    with np.errstate(divide="ignore", invalid="ignore"):
        for name, weeks in (("usage_vs_baseline_7d", 1), ("usage_vs_baseline_30d", 4)):
            recent = rollup.weekly[:, :weeks].mean(axis=1)
            out[name] = np.where((base > 0) & grown, recent / base - 1, np.nan)

    activity = rollup.activity
    kpos = population.positions(activity.account_ids)
    out["active_users_30d"] = population.bincount(kpos, activity.recent)
    out["active_users_prev_30d"] = population.bincount(kpos, rollup.previous)
    with np.errstate(divide="ignore", invalid="ignore"):
        out["active_user_growth"] = np.where(
            out["active_users_prev_30d"] > 0,
            out["active_users_30d"] / out["active_users_prev_30d"] - 1,
            np.nan,
        )
        out["license_utilisation"] = np.where(seats > 0, out["active_users_30d"] / seats, np.nan)
    wau = np.zeros((n, SATURATION_WEEKS))
    for k in range(SATURATION_WEEKS):
        wau[:, k] = population.bincount(kpos, rollup.weeks_active[:, k])
    saturated = wau >= params.seat_saturation_ratio * np.where(seats > 0, seats, np.inf)[:, None]
    run = np.cumprod(saturated, axis=1).sum(axis=1)
    out["seat_saturation_days"] = np.where(seats > 0, 7.0 * run, np.nan)
    return out, activity


def feature_signals(
    rows: list[Any], population: Population, params: SignalParams
) -> dict[str, np.ndarray]:
    """Feature breadth, core share and advanced adoption over 30 days from
    `fetch_features`'s rows (people's use apart from account-level automation)."""
    n = population.n
    out: dict[str, np.ndarray] = {}
    f_accounts, f_events, f_person, f_quantity = columns(rows, 4)
    fpos = population.positions(f_accounts)
    fq = np.asarray(f_quantity, dtype=float)
    by_people = np.asarray(f_person, dtype=bool)
    core_set, advanced_set = set(params.core_features), set(params.advanced_features)
    names = sorted(set(f_events))
    event = np.fromiter(map({e: i for i, e in enumerate(names)}.__getitem__, f_events), np.int64)
    core = np.array([e in core_set for e in names], dtype=bool)[event]
    advanced = np.array([e in advanced_set for e in names], dtype=bool)[event]
    # An event counts once toward breadth even when both people and automation used it:
    # the first row of each (account, event) carries whether any of its rows was used.
    used = np.zeros(len(f_events), dtype=bool)
    live = np.flatnonzero(fpos >= 0)
    if len(live):
        pairs, first, group = np.unique(
            fpos[live] * len(names) + event[live], return_index=True, return_inverse=True
        )
        any_used = np.zeros(len(pairs), dtype=bool)
        np.logical_or.at(any_used, group, fq[live] > 0)
        used[live[first]] = any_used
    out["feature_breadth_30d"] = population.bincount(fpos, used)
    people_quantity = population.bincount(fpos, fq * by_people)
    with np.errstate(divide="ignore", invalid="ignore"):
        out["core_feature_share"] = np.where(
            people_quantity > 0,
            population.bincount(fpos, fq * (core & by_people)) / people_quantity,
            np.nan,
        )
    if advanced_set:
        out["advanced_feature_adoption"] = population.bincount(fpos, used & advanced) / len(
            advanced_set
        )
    else:
        out["advanced_feature_adoption"] = np.full(n, np.nan)
    return out


def _features_query(win: Window, params: SignalParams) -> Select:
    """Per account, event and whether a person (not automation) used it: the quantity over
    30 days of every event but logins."""
    usage = table(UsageEvent)
    ts = usage.c.timestamp
    person_row = (usage.c.contact_id != literal("")).label("person")
    return (
        select(
            usage.c.account_id,
            usage.c.event,
            person_row,
            func.sum(usage.c.quantity).label("quantity"),
        )
        .where(and_(ts >= win.back(30), ts < win.end), ~usage.c.event.in_(params.login_events))
        .group_by(usage.c.account_id, usage.c.event, person_row)
    )


def _rollup_query(conn: Connection, win: Window, params: SignalParams) -> Select:
    """One grouped pass over the 91-day window per account and contact; every per-day,
    per-week and per-window fact is then derived in numpy from a few columns per contact."""
    usage = table(UsageEvent)
    ts = usage.c.timestamp
    login = usage.c.event.in_(params.login_events)
    q = usage.c.quantity
    low_edge = win.back(LOW_BITS)
    return (
        select(
            usage.c.account_id,
            usage.c.contact_id,
            # 0, not NULL, where no row matched: numpy then converts plain numbers.
            func.coalesce(_day_mask(conn, win, ts >= low_edge, 0), 0).label("low"),
            func.coalesce(_day_mask(conn, win, ts < low_edge, LOW_BITS), 0).label("high"),
            cast(func.max(ts), String).label("last"),  # text: parsed by numpy in one call
            func.coalesce(func.sum(q).filter(and_(login, ts >= win.back(30))), 0.0).label(SUMS[0]),
            func.coalesce(func.sum(q).filter(and_(login, ts >= win.back(90))), 0.0).label(SUMS[1]),
            # Filters compare the raw timestamp with bound edges: next to no work a row.
            *(
                func.coalesce(
                    func.sum(q).filter(and_(ts >= win.back(7 * k + 7), ts < win.back(7 * k))),
                    0.0,
                ).label(SUMS[2 + k])
                for k in range(WEEKS)
            ),
        )
        .where(ts >= win.back(WINDOW_DAYS), ts < win.end)
        .group_by(usage.c.account_id, usage.c.contact_id)
    )


def _rollup(rows: RollupRows, win: Window, population: Population) -> _UsageRollup:
    """`fetch_rollup`'s rows reduced to per-account and per-person facts."""
    n = population.n
    spos = population.positions(rows.sum_accounts)
    rpos = population.positions(rows.accounts)
    keep = rpos >= 0
    values = rows.sums
    low, high = rows.low, rows.high
    r_contacts, r_accounts, r_last = rows.contacts, rows.accounts, rows.last

    def scatter_sum(column: np.ndarray) -> np.ndarray:
        return population.bincount(spos, column)

    weekly = np.zeros((n, WEEKS))
    np.add.at(weekly, spos[spos >= 0], values[spos >= 0, 2:])

    # Active weekdays over 90 days: the union of every row's day mask per account.
    acc_low = np.zeros(n, dtype=np.int64)
    acc_high = np.zeros(n, dtype=np.int64)
    np.bitwise_or.at(acc_low, rpos[keep], low[keep])
    np.bitwise_or.at(acc_high, rpos[keep], high[keep])
    acc_days = _unpack(acc_low, acc_high)[:, :90]
    dates = np.datetime64(win.as_of, "D") - np.arange(90)
    acc_weekdays = (acc_days & np.is_busday(dates)[None, :]).sum(axis=1).astype(float)

    person = np.array([c != "" for c in r_contacts], dtype=bool)
    key_accounts = [a for a, p in zip(r_accounts, person, strict=True) if p]
    key_contacts = [c for c, p in zip(r_contacts, person, strict=True) if p]
    active = _unpack(low[person], high[person])
    last_seen = days(
        np.datetime64(win.end, "us")
        - np.array([v for v, p in zip(r_last, person, strict=True) if p], dtype="datetime64[us]")
    )
    return _UsageRollup(
        logins_30=scatter_sum(values[:, 0]),
        logins_90=scatter_sum(values[:, 1]),
        weekdays=acc_weekdays,
        weekly=weekly,
        activity=ContactActivity(
            account_ids=key_accounts,
            contact_ids=key_contacts,
            days_since=last_seen,
            recent=np.any(active[:, :30], axis=1),
            earlier=np.any(active[:, 30:90], axis=1),
        ),
        previous=np.any(active[:, 30:60], axis=1),
        weeks_active=np.any(
            active[:, : 7 * SATURATION_WEEKS].reshape(-1, SATURATION_WEEKS, 7), axis=2
        ),
    )


def _unpack(low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """Day masks (bit k = active k days back from D) as a boolean matrix, 91 days wide."""
    shifts = np.arange(LOW_BITS, dtype=np.int64)
    low_bits = ((low[:, None] >> shifts) & 1).astype(bool)
    high_bits = ((high[:, None] >> shifts[: WINDOW_DAYS - LOW_BITS]) & 1).astype(bool)
    return np.concatenate([low_bits, high_bits], axis=1)


def _day_mask(conn: Connection, win: Window, rows: ColumnElement, first: int):  # type: ignore[no-untyped-def]
    """OR of 1 << (days back from D − `first`) over the group's `rows`: the days on which
    the group was active. PostgreSQL: bit_or (parallel-safe), days back by date
    arithmetic, computed once a row (the two masks' filters exclude each other). SQLite,
    which has no bit_or: the sum of the distinct powers of two, which is the same number,
    with the day found by a balanced tree of timestamp comparisons."""
    usage = table(UsageEvent)
    ts = usage.c.timestamp
    one = literal(1, BigInteger)
    if conn.dialect.name == "postgresql":
        back = literal(win.as_of, Date) - cast(ts, Date)
        return func.bit_or(one.op("<<")(back - first if first else back)).filter(rows)
    back = _days_back(ts, win, first, WINDOW_DAYS if first else LOW_BITS)
    return func.sum(case((rows, one.op("<<")(back - first if first else back))).distinct())


def _days_back(ts, win: Window, lo: int, hi: int):  # type: ignore[no-untyped-def]
    """Whole days from D back to a timestamp in [back(hi), back(lo)) as a balanced tree of
    CASEs: about 6 comparisons a row (SQLite evaluates each comparison in its VM)."""
    if hi - lo == 1:
        return literal(lo)
    mid = (lo + hi) // 2
    return case(
        (ts >= win.back(mid), _days_back(ts, win, lo, mid)),
        else_=_days_back(ts, win, mid, hi),
    )


def _relative_slopes(weekly: np.ndarray) -> np.ndarray:
    """Least-squares slope of each row (weeks, most recent first) per week, divided by
    the row's mean week; NaN for rows with no usage."""
    weeks = weekly.shape[1]
    x = -np.arange(weeks, dtype=float)  # time runs forward as the week index falls
    xc = x - x.mean()
    mean = weekly.mean(axis=1)
    slope = ((weekly - mean[:, None]) * xc).sum(axis=1) / (xc**2).sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(mean > 0, slope / mean, np.nan)
