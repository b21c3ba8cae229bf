"""The quarter's retention with an interval: Monte Carlo over accounts (pure).

Each renewal renews with its own probability (a Poisson-binomial count of renewals); a
renewal's new ARR is its old ARR times a ratio drawn from the past renewals of its
segment, so expansion and contraction spread the interval as they did in history.
Renewals already settled in the quarter enter with their actual outcome.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

DEFAULT_SIMULATIONS = 4000
INTERVAL = (0.1, 0.9)  # an 80% interval


@dataclass(frozen=True, slots=True)
class Retention:
    grr: float | None
    grr_low: float | None
    grr_high: float | None
    nrr: float | None
    nrr_low: float | None
    nrr_high: float | None
    base_arr: float

    def to_json(self) -> dict[str, float | list[float | None] | None]:
        return {
            "grr": self.grr,
            "grr_interval": [self.grr_low, self.grr_high],
            "nrr": self.nrr,
            "nrr_interval": [self.nrr_low, self.nrr_high],
            "base_arr": self.base_arr,
        }


def simulate_retention(
    arr: np.ndarray,
    p_renew: np.ndarray,
    ratio_pools: list[np.ndarray],
    *,
    settled_kept: float = 0.0,
    settled_net: float = 0.0,
    settled_base: float = 0.0,
    extra_base: float = 0.0,
    simulations: int = DEFAULT_SIMULATIONS,
    seed: int = 0,
) -> Retention:
    """GRR and NRR of `arr` renewing with odds `p_renew` and ratios drawn from each pool.

    `settled_*` add renewals whose outcome is already known; `extra_base` adds ARR that is
    not up for renewal (a portfolio-level rate keeps it whole).
    """
    n = arr.size
    base = float(arr.sum()) + settled_base + extra_base
    if base <= 0:
        return Retention(None, None, None, None, None, None, 0.0)
    rng = np.random.default_rng(seed)
    renew = rng.random((simulations, n)) < p_renew[None, :]
    ratios = np.empty((simulations, n))
    for j, pool in enumerate(ratio_pools):
        ratios[:, j] = rng.choice(pool, size=simulations)
    kept = (renew * np.minimum(ratios, 1.0) * arr[None, :]).sum(axis=1)
    net = (renew * ratios * arr[None, :]).sum(axis=1)
    kept = (kept + settled_kept + extra_base) / base
    net = (net + settled_net + extra_base) / base
    mean_ratio = np.array([pool.mean() for pool in ratio_pools]) if n else np.zeros(0)
    mean_kept = (
        np.array([np.minimum(pool, 1.0).mean() for pool in ratio_pools]) if n else mean_ratio
    )
    grr = (float((p_renew * mean_kept * arr).sum()) + settled_kept + extra_base) / base
    nrr = (float((p_renew * mean_ratio * arr).sum()) + settled_net + extra_base) / base
    lo, hi = INTERVAL
    return Retention(
        grr=grr,
        grr_low=float(np.quantile(kept, lo)),
        grr_high=float(np.quantile(kept, hi)),
        nrr=nrr,
        nrr_low=float(np.quantile(net, lo)),
        nrr_high=float(np.quantile(net, hi)),
        base_arr=base,
    )
