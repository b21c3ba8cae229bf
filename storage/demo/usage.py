"""Product-usage rows: one per contact per active day per event, with a quantity.

Each user's chance of using the product on a day is their own habit times the account's
engagement, the day's rhythm (weekends, holidays) and, in trouble, whether they have
dropped out. Active days always log a `login`; other features follow per-user habits,
the account's adoption of advanced features and how much its breadth is shrinking.
Unattended integrations write account-level rows (empty contact_id).

Everything is drawn with numpy for a whole account at once and formatted in one pass,
so the generator streams millions of rows without holding them.
"""

from __future__ import annotations

from typing import TextIO

import numpy as np

from storage.demo.calendar import Window, clock_strings
from storage.demo.plan import AccountPlan
from storage.demo.roster import Person
from storage.demo.trajectory import Trajectory
from storage.demo.vocab import ACCOUNT_LEVEL_FEATURES, ADVANCED_FEATURES, USER_FEATURES

EVENTS = ("login", *USER_FEATURES, *ACCOUNT_LEVEL_FEATURES)
# Chance a feature is used on a user's active day, and its extra quantity (Poisson mean).
FEATURE_RATE = {
    "report_view": (0.35, 1.5),
    "dashboard_view": (0.3, 2.0),
    "search": (0.2, 2.0),
    "export": (0.08, 0.3),
    "comment": (0.12, 0.8),
    "dashboard_create": (0.12, 0.2),
    "workflow_automation": (0.1, 0.5),
    "alert_rule": (0.07, 0.3),
    "custom_field": (0.06, 0.2),
    "sso_config": (0.004, 0.0),
}
SECONDARY_CORE = ("search", "export", "comment")
ADOPTION_BY_PLAN = {"starter": 0.12, "professional": 0.3, "business": 0.45, "enterprise": 0.6}


def adoption_days(account: AccountPlan, window: Window, rng: np.random.Generator) -> dict[str, int]:
    """The day each advanced feature is adopted (absent: never)."""
    adopted: dict[str, int] = {}
    start = max(window.day(account.first_day), 0)
    initial = ADOPTION_BY_PLAN[account.plan]
    later = 0.75 if account.grower else 0.15
    for feature in ADVANCED_FEATURES:
        if rng.random() < initial:
            adopted[feature] = start + int(rng.integers(0, 60))
        elif rng.random() < later:
            adopted[feature] = int(rng.integers(start, window.days + 1))
    return adopted


def write_usage(
    out: TextIO,
    account: AccountPlan,
    trajectory: Trajectory,
    people: list[Person],
    window: Window,
    rng: np.random.Generator,
    *,
    density: float = 1.0,
    account_level: bool = False,
) -> int:
    """Write the account's usage rows to `out` (CSV, no header); return how many.
    `account_level`: every row without its contact (a product that logs accounts only)."""
    first, last = trajectory.first, trajectory.last
    users = [p for p in people if p.activity > 0 and p.end > p.start]
    if last <= first:
        return 0
    span = last - first
    days = np.arange(first, last)
    adopted = adoption_days(account, window, rng)
    breadth = trajectory.symptoms["breadth"][first:last]
    dropout = trajectory.symptoms["dropout"][first:last]
    day_level = trajectory.engagement[first:last] * window.rhythm[first:last] * density

    parts_u: list[np.ndarray] = []
    parts_d: list[np.ndarray] = []
    parts_e: list[np.ndarray] = []
    parts_q: list[np.ndarray] = []
    parts_s: list[np.ndarray] = []
    if users:
        activity = np.array([p.activity for p in users])
        steadfast = np.array([p.steadfast for p in users])
        start = np.array([p.start for p in users])
        end = np.array([p.end for p in users])
        hour = np.array([p.hour for p in users])
        power = np.array([p.role in ("admin", "champion") for p in users])
        present = (days[None, :] >= start[:, None]) & (days[None, :] < end[:, None])
        dropped = steadfast[:, None] < 0.85 * dropout[None, :]
        chance = activity[:, None] * day_level[None, :] * np.where(dropped, 0.1, 1.0)
        active = present & (rng.random((len(users), span)) < np.minimum(chance, 0.95))
        cell_u, cell_d = np.nonzero(active)
        cells = cell_u.size
        start_s = np.clip(
            hour[cell_u] * 3600 + rng.normal(0, 5400, cells), 0, 86_400 - 7_200
        ).astype(np.int64)
        # Logins.
        parts_u.append(cell_u)
        parts_d.append(cell_d)
        parts_e.append(np.zeros(cells, dtype=np.int64))
        parts_q.append(1 + rng.poisson(0.4, cells))
        parts_s.append(start_s)
        habit = rng.lognormal(0.0, 0.45, size=(len(users), len(USER_FEATURES)))
        for k, feature in enumerate(USER_FEATURES):
            rate, extra = FEATURE_RATE[feature]
            factor = np.full(span, rate)
            if feature in ADVANCED_FEATURES:
                factor = factor * np.where(days >= adopted.get(feature, 10**9), 1.0, 0.0)
                factor = factor * (1.0 - breadth) ** 1.5
                person = habit[cell_u, k] * np.where(power[cell_u], 1.6, 1.0)
                if feature == "sso_config":
                    person = np.where(
                        np.array([p.role == "admin" for p in users])[cell_u], person * 3, 0.0
                    )
            elif feature in SECONDARY_CORE:
                factor = factor * (1.0 - 0.6 * breadth)
                person = habit[cell_u, k]
            else:
                person = habit[cell_u, k]
            used = rng.random(cells) < np.minimum(person * factor[cell_d], 0.95)
            count = int(used.sum())
            if not count:
                continue
            parts_u.append(cell_u[used])
            parts_d.append(cell_d[used])
            parts_e.append(np.full(count, 1 + k, dtype=np.int64))
            parts_q.append(1 + rng.poisson(extra, count))
            parts_s.append(start_s[used] + (k + 1) * rng.integers(60, 600, count))

    # Unattended integrations: one account-level row per day they run.
    for j, feature in enumerate(ACCOUNT_LEVEL_FEATURES):
        since = adopted.get(feature)
        if since is None:
            continue
        runs = (days >= since) & (rng.random(span) < 0.97 * (1.0 - breadth) ** 2)
        run_d = np.flatnonzero(runs)
        if not run_d.size:
            continue
        scale = 30.0 if feature == "api_call" else 12.0
        level = trajectory.engagement[first:last][run_d] * max(trajectory.users[first], 1.0) ** 0.5
        parts_u.append(np.full(run_d.size, -1, dtype=np.int64))
        parts_d.append(run_d)
        parts_e.append(np.full(run_d.size, 1 + len(USER_FEATURES) + j, dtype=np.int64))
        parts_q.append(1 + rng.poisson(scale * level))
        parts_s.append(2 * 3600 + j * 60 + rng.integers(0, 3000, run_d.size))

    if not parts_d:
        return 0
    cell_u = np.concatenate(parts_u)
    cell_d = np.concatenate(parts_d)
    event = np.concatenate(parts_e)
    quantity = np.concatenate(parts_q)
    second = np.concatenate(parts_s)
    order = np.lexsort((event, cell_u, second, cell_d))
    ids = [p.contact_id for p in users] + [""]  # index -1 is the account itself
    if account_level:
        ids = [""] * len(ids)
    dates = window.date_strings
    clock = clock_strings()
    prefix = account.account_id + ","
    lines = [
        f"{prefix}{ids[u]},{dates[first + d]}T{clock[s]},{EVENTS[e]},{q}\n"
        for u, d, s, e, q in zip(
            cell_u[order].tolist(),
            cell_d[order].tolist(),
            second[order].tolist(),
            event[order].tolist(),
            quantity[order].tolist(),
            strict=True,
        )
    ]
    out.write("".join(lines))
    return len(lines)
