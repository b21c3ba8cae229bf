"""Array helpers of the signal modules against plain Python: days between moments (numpy's
own conversion where it applies), feature breadth counted once per (account, event)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from scoring.config import default_config
from scoring.signals.usage import feature_signals
from scoring.signals.window import Population, days_between

END = dt.datetime(2026, 6, 2)


def test_days_between_datetimes_dates_none_and_text() -> None:
    naive = [
        dt.datetime(2026, 6, 1, 12, 0, 0, 900_000),
        None,
        dt.datetime(1969, 12, 31, 23, 59, 59, 500_000),
    ]
    # Seconds truncated (floored) as numpy does; None unknown.
    want = [0.5, np.nan, (END - dt.datetime(1969, 12, 31, 23, 59, 59)) / dt.timedelta(days=1)]
    np.testing.assert_array_equal(days_between(END, naive), want)
    numpy_way = np.full(3, np.nan)
    numpy_way[[0, 2]] = (
        np.datetime64(END, "s") - np.array([naive[0], naive[2]], dtype="datetime64[s]")
    ).astype("timedelta64[us]").astype(float) / 86_400e6
    np.testing.assert_array_equal(days_between(END, naive), numpy_way)
    # A date is its midnight; text (SQLite) and aware datetimes take the general path.
    mixed = [*naive, dt.date(2026, 5, 30), "2026-05-31 06:00:00"]
    np.testing.assert_array_equal(days_between(END, mixed), [*want, 3.0, 1.75])
    aware = [dt.datetime(2026, 6, 1, 12, tzinfo=dt.UTC), None]
    with pytest.warns(UserWarning):  # numpy's, as before
        np.testing.assert_array_equal(days_between(END, aware), [0.5, np.nan])
    assert days_between(END, []).shape == (0,)
    np.testing.assert_array_equal(days_between(END, [None, None]), [np.nan, np.nan])


def _reference(rows: list[tuple], population: Population, core: set, advanced: set) -> dict:
    """The per-row algorithm feature_signals replaced."""
    breadth: dict[str, set] = {}
    used: dict[tuple, bool] = {}
    people: dict[str, float] = {}
    core_q: dict[str, float] = {}
    for account, event, person, quantity in rows:
        used[(account, event)] = used.get((account, event), False) or quantity > 0
        if person:
            people[account] = people.get(account, 0.0) + quantity
            if event in core:
                core_q[account] = core_q.get(account, 0.0) + quantity
    for (account, event), flag in used.items():
        if flag:
            breadth.setdefault(account, set()).add(event)
    out = {}
    for account in population.account_ids:
        events = breadth.get(account, set())
        out[account] = (
            float(len(events)),
            core_q.get(account, 0.0) / people[account] if people.get(account, 0) > 0 else None,
            len(events & advanced) / len(advanced),
        )
    return out


def test_feature_breadth_counts_an_event_once_and_only_when_used() -> None:
    params = default_config().signal_params
    core, advanced = set(params.core_features), set(params.advanced_features)
    some_core, some_advanced = sorted(core)[0], sorted(advanced)[0]
    rows = [
        ("A1", some_core, True, 3.0),
        ("A1", some_core, False, 2.0),  # automation too: still one event
        ("A1", some_advanced, False, 1.0),
        ("A1", "other", True, 0.0),  # no quantity: not used
        ("A2", "other", True, -1.0),
        ("A2", "other", False, 2.0),  # used by automation
        ("A2", some_advanced, True, 4.0),
        ("A9", some_core, True, 5.0),  # not in the population
        ("A3", "lonely", False, -2.0),
    ]
    population = Population(account_ids=["A1", "A2", "A3", "A4"])
    out = feature_signals(rows, population, params)
    want = _reference(rows, population, core, advanced)
    for i, account in enumerate(population.account_ids):
        breadth, share, adoption = want[account]
        assert out["feature_breadth_30d"][i] == breadth, account
        assert (np.isnan(out["core_feature_share"][i]) and share is None) or out[
            "core_feature_share"
        ][i] == share, account
        assert out["advanced_feature_adoption"][i] == adoption, account
    assert out["feature_breadth_30d"].tolist() == [2.0, 2.0, 0.0, 0.0]
