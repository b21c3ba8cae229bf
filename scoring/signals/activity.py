"""Per-contact activity gathered from every source, for silence, engagement and new contacts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from scoring.signals.sql import columns
from scoring.signals.window import Window


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


def contact_activity(rows: Sequence[Any], win: Window) -> ContactActivity:
    """ContactActivity from rows of (account_id, contact_id, latest activity, any in the
    last 30 days, any in the 60 before those)."""
    accounts, contacts, last, recent, earlier = columns(rows, 5)
    return ContactActivity(
        account_ids=list(accounts),
        contact_ids=list(contacts),
        days_since=win.days_before_end(last),
        recent=np.array(recent, dtype=bool),
        earlier=np.array(earlier, dtype=bool),
    )
