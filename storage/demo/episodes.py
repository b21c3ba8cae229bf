"""A stretch of trouble in an account's story, and the default book's shares of unusual churn.

Shared by the planner (`plan.py`) and the named scenarios (`scenarios.py`), which both
build episodes; kept apart so neither imports the other in a circle.
"""

from __future__ import annotations

from dataclasses import dataclass

NO_WARNING_SHARE = 0.1
MID_TERM_SHARE = 0.08


@dataclass
class Episode:
    """A stretch of trouble: symptoms ramp up from `start` to `peak`, then fade by `end`.

    `onsets` delays each symptom within the ramp so they do not all move together.
    """

    kind: str  # "churn", "contraction", "dip"
    start: int  # day numbers of the window (may lie outside it)
    peak: int
    end: int
    depth: float
    shape: float  # >1: slow start, <1: early drop
    symptoms: dict[str, float]  # symptom -> onset as a fraction of the ramp
