"""explain_all gives, for every account at once, exactly the reasons explain gives one
account at a time; round_like_python rounds exactly as Python's round."""

from __future__ import annotations

import math

import numpy as np
import pytest

from scoring.config import default_config
from scoring.explain import explain, explain_all, round_like_python
from scoring.health import health_signals
from scoring.signals.registry import SIGNAL_NAMES

SIGNALS = health_signals(default_config())


def _same(got: np.ndarray, want: list[float]) -> bool:
    return [repr(float(v)) for v in got] == [repr(v) for v in want]  # NaN, -0.0 included


@pytest.mark.parametrize("digits", [2, 4])
def test_round_like_python_is_pythons_round(digits: int) -> None:
    rng = np.random.default_rng(3)
    halves = (rng.integers(-(10**6), 10**6, 20_000) + 0.5) / 10**digits  # ties and near-ties
    special = [0.125, 2.675, 1.005, -0.005, 0.005, -0.0, 0.0, 2.5, -2.5, 5e-324, 1e16 + 1]
    special += [1e300, -1e300, 1e308, math.inf, -math.inf, math.nan]
    values = np.concatenate(
        [rng.normal(0, 10, 20_000), rng.normal(0, 1e7, 5_000), halves, np.array(special)]
    )
    assert _same(round_like_python(values, digits), [round(float(v), digits) for v in values])


def _case(rng: np.random.Generator, mode: int, n: int = 6) -> tuple:
    m = len(SIGNALS)
    impacts = rng.normal(0, 3, (n, m))
    if mode == 1:  # every impact on a 0.005 step: rounding ties everywhere
        impacts = np.round(impacts * 200) / 200
    elif mode == 2:  # around the 0.005 cut, zeros, and equal magnitudes for "largest"
        impacts[:, ::2] = rng.choice([0.0, 0.004999, 0.005, -0.005, 1.0, -1.0], (n, (m + 1) // 2))
    elif mode == 3:  # no reasons at all
        impacts[:] = 0.0
    elif mode == 4:  # non-finite numbers: explained one by one
        impacts[0, 3] = math.nan
        impacts[1, 5] = math.inf
    values = rng.normal(0, 50, (n, len(SIGNAL_NAMES)))
    values[rng.random(values.shape) < 0.25] = math.nan
    values[:, ::5] = np.round(values[:, ::5] * 2e4) / 2e4  # value/baseline ties
    rows = [
        {name: None if math.isnan(v) else float(v) for name, v in zip(SIGNAL_NAMES, r, strict=True)}
        for r in values.tolist()
    ]
    totals = impacts.sum(axis=1) + rng.choice([0.0, 0.013, -0.007], n)
    if mode == 4:
        totals[2] = math.nan
    return values, rows, impacts, totals


@pytest.mark.parametrize("mode", range(5))
def test_explain_all_equals_explain_account_by_account(mode: int) -> None:
    rng = np.random.default_rng(mode)
    for _ in range(40):
        values, rows, impacts, totals = _case(rng, mode)
        want = [
            explain(row, dict(zip(SIGNALS, impacts[i].tolist(), strict=True)), float(totals[i]))
            for i, row in enumerate(rows)
        ]
        got = explain_all(values, list(SIGNAL_NAMES), rows, SIGNALS, impacts, totals)
        assert repr(got) == repr(want)


def test_explain_all_of_no_accounts() -> None:
    empty = np.zeros((0, len(SIGNALS)))
    assert explain_all(np.zeros((0, 1)), ["x"], [], SIGNALS, empty, np.zeros(0)) == []
