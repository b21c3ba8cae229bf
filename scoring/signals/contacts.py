"""Stakeholder signals: who is engaged, who is new, and how long each key role is silent.

A contact's activity is the latest of: usage (90 days), two-way touchpoints, tickets
opened and survey responses. A contact has left when `left_at` is on or before D. A key
contact never seen at all counts as silent since the account began (at most
`silence_cap_days`).
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import numpy as np
from sqlalchemy import Connection, select

from scoring.config import SignalParams
from scoring.signals.activity import ContactActivity
from scoring.signals.sql import columns, restrict, table
from scoring.signals.window import Population, Window
from storage.models import Contact

ROLE_SIGNALS = {
    "executive_sponsor": "sponsor",
    "champion": "champion",
    "decision_maker": "decision_maker",
}
ROLES = tuple(ROLE_SIGNALS)


def fetch_contacts(conn: Connection, account_ids: list[str] | None) -> list[Any]:
    """Every contact's account, id, name, role and departure (the query alone, so it can
    run before the activity it is matched with is known)."""
    c = table(Contact)
    return list(
        conn.execute(
            restrict(
                select(c.c.account_id, c.c.contact_id, c.c.name, c.c.role, c.c.left_at),
                c.c.account_id,
                account_ids,
            )
        ).all()
    )


def contact_signals(
    rows: list[Any],
    win: Window,
    population: Population,
    params: SignalParams,
    activities: list[ContactActivity],
) -> dict[str, np.ndarray]:
    """Stakeholder signals from `fetch_contacts`'s rows and every source's activity."""
    # Whole columns at a time (C loops): a portfolio has ~7 contacts an account and each
    # source's activity is matched against them by (account_id, contact_id).
    accounts, contacts, contact_names, contact_roles, departures = columns(rows, 5)
    # A repeated key keeps its last row, as assigning one row at a time did.
    keys = dict(zip(zip(accounts, contacts, strict=True), range(len(rows)), strict=True))
    names: list[str | None] = [n or c for n, c in zip(contact_names, contacts, strict=True)]
    roles: list[str | None] = list(contact_roles)
    left_at: list[dt.datetime | None] = list(departures)
    account_of: list[str] = list(accounts)
    pairs = [list(zip(a.account_ids, a.contact_ids, strict=True)) for a in activities]
    for seen in pairs:  # contacts seen in activity but missing from contacts
        for account_id, contact_id in [k for k in seen if k not in keys]:
            if (account_id, contact_id) not in keys:
                keys[(account_id, contact_id)] = len(names)
                names.append(contact_id)
                roles.append(None)
                left_at.append(None)
                account_of.append(account_id)

    m = len(names)
    days_since = np.full(m, np.nan)
    recent = np.zeros(m, dtype=bool)
    earlier = np.zeros(m, dtype=bool)
    for activity, seen in zip(activities, pairs, strict=True):
        if not seen:
            continue
        idx = np.fromiter(map(keys.__getitem__, seen), dtype=np.int64, count=len(seen))
        np.fmin.at(days_since, idx, activity.days_since)
        recent[idx] |= activity.recent
        earlier[idx] |= activity.earlier

    pos = population.positions(account_of)
    gone_days = win.days_before_end(left_at)  # NaN: not left
    gone = gone_days > 0  # left_at before the end of D
    present = ~gone
    engaged = present & (days_since <= 90)
    out = {
        "engaged_contacts_90d": population.bincount(pos, engaged),
        "new_contacts_30d": population.bincount(pos, present & recent & ~earlier),
    }

    tenure = population.created_days
    never_seen = np.fmin(
        np.nan_to_num(tenure, nan=params.silence_cap_days), params.silence_cap_days
    )
    # Each contact's "never seen" silence, by its account's tenure. A contact whose account
    # is not live on D (created later, or no account live at all: an as-of before the data)
    # takes the cap; it is masked out below, and must not index an empty population.
    live = pos >= 0
    never_seen_of = np.full(m, float(params.silence_cap_days))
    never_seen_of[live] = never_seen[pos[live]]
    role_array = np.array(roles, dtype=object)
    details: list[dict[str, Any]] = [{} for _ in range(population.n)]
    for role, prefix in ROLE_SIGNALS.items():
        of_role = (role_array == role) & (pos >= 0)
        silent = np.floor(np.where(np.isnan(days_since), np.inf, days_since))
        silent = np.where(np.isinf(silent), never_seen_of, silent)
        active_idx = np.flatnonzero(of_role & present)
        best = np.full(population.n, np.nan)
        who = np.full(population.n, -1, dtype=np.int64)
        if len(active_idx):
            order = active_idx[np.lexsort((silent[active_idx], pos[active_idx]))]
            first = np.r_[True, pos[order][1:] != pos[order][:-1]]
            chosen = order[first]
            best[pos[chosen]] = silent[chosen]
            who[pos[chosen]] = chosen
        out[f"{prefix}_silent_days"] = best
        left_recently = of_role & gone & (gone_days <= 90)
        out[f"{prefix}_left"] = np.minimum(population.bincount(pos, left_recently), 1.0)
        had_role = population.bincount(pos, of_role) > 0
        # Plain lists: indexing numpy arrays one element at a time costs more than the dicts.
        who_of, best_of = who.tolist(), best.tolist()
        left_of = out[f"{prefix}_left"].tolist()
        for i in np.flatnonzero(had_role | (who >= 0)).tolist():
            contact, days = who_of[i], best_of[i]
            details[i][role] = {
                "contact": names[contact] if contact >= 0 else None,
                "silent_days": None if math.isnan(days) else int(days),
                "present": contact >= 0,
                "left_recently": bool(left_of[i]),
            }
    population.extras["roles"] = details
    # Multithreading: engaged key people per account against a target growing with ARR.
    return out


def multithreading_target(arr: np.ndarray, params: SignalParams) -> np.ndarray:
    tiers = sorted(params.multithreading_targets, key=lambda tier: tier.arr_from)
    edges = np.array([tier.arr_from for tier in tiers])
    targets = np.array([tier.target for tier in tiers], dtype=float)
    index = np.searchsorted(edges, np.nan_to_num(arr, nan=0.0), side="right") - 1
    return targets[np.clip(index, 0, len(targets) - 1)]
