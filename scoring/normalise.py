"""Signal values → 0..1 goodness, the common scale every composite is built on.

Linear between two edges from the configuration: the `bad` value maps to 0 and the
`good` value to 1, clipped outside; `bad` above `good` handles signals where more is
worse (silent days, overdue invoices). A missing value (NaN) takes the configured
`missing` goodness (0.5 by default: no evidence either way).
"""

from __future__ import annotations

import numpy as np


def goodness(
    values: np.ndarray | float, bad: float, good: float, missing: float = 0.5
) -> np.ndarray:
    """Map values linearly so bad → 0 and good → 1, clipped to 0..1; NaN → `missing`."""
    if bad == good:
        raise ValueError("bad and good must differ")
    array = np.asarray(values, dtype=float)
    scaled = np.clip((array - bad) / (good - bad), 0.0, 1.0)
    return np.where(np.isnan(array), missing, scaled)
