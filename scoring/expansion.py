"""Expansion readiness, 0..1, and the signals that drive it.

expansion = Σ w·g / Σ w over the expansion signals (g = 0..1 goodness; missing → 0: no
evidence of growth), halved (below_floor_factor) when health is under the floor — an
unhealthy account is a save, not an upsell. A reason's impact is its contribution in
points of the 0..100 expansion scale, so reasons add up to 100 × expansion.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from scoring.config import Expansion
from scoring.explain import reason
from scoring.normalise import goodness


def expansion_scores(
    columns: Mapping[str, np.ndarray], health: np.ndarray, config: Expansion
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """(score per account, contribution matrix accounts × signals, signal names)."""
    names = list(config.signals)
    total = sum(s.weight for s in config.signals.values()) or 1.0
    factor = np.where(np.asarray(health) < config.health_floor, config.below_floor_factor, 1.0)
    contributions = np.zeros((len(health), len(names)))
    for j, name in enumerate(names):
        s = config.signals[name]
        g = goodness(np.asarray(columns[name], dtype=float), s.bad, s.good, missing=0.0)
        contributions[:, j] = s.weight / total * g * factor
    return contributions.sum(axis=1), contributions, names


def expansion_reasons(
    row: Mapping[str, float | None], contributions: Mapping[str, float]
) -> list[dict[str, Any]]:
    """Reasons for an account's expansion score, largest first (impact in 0..100 points)."""
    reasons = [
        reason(name, row, round(100.0 * value, 2))
        for name, value in contributions.items()
        if value >= 0.00005
    ]
    reasons.sort(key=lambda r: (-r["impact"], r["signal"]))
    return reasons
