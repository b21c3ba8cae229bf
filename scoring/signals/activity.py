"""Per-contact activity gathered from every source, for silence, engagement and new contacts."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class ContactActivity:
    """Activity of (account_id, contact_id) pairs from one source.

    `days_since` is days from the end of D back to the latest activity (NaN: none known);
    `recent` marks activity in the last 30 days and `earlier` in the 60 days before that.
    """

    account_ids: list[str] = field(default_factory=list)
    contact_ids: list[str] = field(default_factory=list)
    days_since: np.ndarray = field(default_factory=lambda: np.zeros(0))
    recent: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    earlier: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
