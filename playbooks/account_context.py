"""What a trigger looks at for one account on one date: plain data, no database.

`AccountContext` is built from the account's `AccountScore` row, the previous scores (the
band before this one, the peak health over each look-back window) and event facts read
from the data-contract tables. Building it is I/O (`playbooks.context_loader`); evaluating
triggers on it is pure (`playbooks.conditions`).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Any

from storage.models import AccountScore


@dataclass(slots=True)
class EventFacts:
    """Dated facts about one account, each as of the end of the evaluation date."""

    start_date: dt.date | None = None  # account created or first contract start
    milestones: dict[str, dt.date] = field(default_factory=dict)  # detail -> first reached
    last_urgent_ticket_at: dt.datetime | None = None
    urgent_open: int = 0
    champion_left_at: dt.datetime | None = None
    sponsor_left_at: dt.datetime | None = None
    last_detractor_at: dt.datetime | None = None
    last_detractor_score: float | None = None
    oldest_overdue_due_at: dt.datetime | None = None
    overdue_invoices: int = 0


@dataclass(slots=True)
class AccountContext:
    """One account's score, recent history and event facts, as of `as_of`."""

    account_id: str
    as_of: dt.date
    health: float
    band: str
    churn_risk: float | None = None
    stakeholder_band: str = "healthy"
    renewal_date: dt.date | None = None
    arr: float = 0.0
    health_delta_7d: float | None = None
    health_delta_30d: float | None = None
    segment: str | None = None
    signals: dict[str, Any] = field(default_factory=dict)
    stakeholders: dict[str, Any] = field(default_factory=dict)
    previous_band: str | None = None  # band of the latest earlier score; None if none
    peak_health: dict[int, float | None] = field(default_factory=dict)  # window days -> max
    events: EventFacts | None = None  # None: only the score is known (use its signals)
    top_reason: str | None = None  # the first reason's text, for message drafts

    @classmethod
    def from_score(
        cls,
        score: AccountScore,
        *,
        previous_band: str | None = None,
        peak_health: dict[int, float | None] | None = None,
        events: EventFacts | None = None,
        segment: str | None = None,
    ) -> AccountContext:
        return cls(
            account_id=score.account_id,
            as_of=score.as_of,
            health=score.health,
            band=score.band,
            churn_risk=score.churn_risk,
            stakeholder_band=score.stakeholder_band,
            renewal_date=score.renewal_date,
            arr=score.arr,
            health_delta_7d=score.health_delta_7d,
            health_delta_30d=score.health_delta_30d,
            segment=segment,
            signals=score.signals or {},
            stakeholders=score.stakeholders or {},
            previous_band=previous_band,
            peak_health=peak_health or {},
            events=events,
            top_reason=(score.reasons[0].get("text") if score.reasons else None),
        )

    def signal(self, name: str) -> float | None:
        """A signal value as a float, or None when missing or NaN."""
        value = self.signals.get(name)
        if value is None or isinstance(value, str):
            return None
        try:
            number = float(value)
        except (TypeError, ValueError):
            return None
        return None if math.isnan(number) else number

    def days_to_renewal(self) -> int | None:
        if self.renewal_date is not None:
            return (self.renewal_date - self.as_of).days
        value = self.signal("days_to_renewal")
        return None if value is None else int(value)

    def days_since_start(self) -> int | None:
        if self.events is not None and self.events.start_date is not None:
            return (self.as_of - self.events.start_date).days
        value = self.signal("tenure_days")
        return None if value is None else int(value)

    def end_of_day(self) -> dt.datetime:
        return dt.datetime.combine(self.as_of + dt.timedelta(days=1), dt.time())
