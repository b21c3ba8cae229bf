"""An account as plain data: its health card, its open runs, the playbooks one may start.

The card (`bot.accounts.messages`), the digest and alerts render these same records.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field


@dataclass(frozen=True)
class PlaybookChoice:
    """A playbook a CSM can start from a digest (name is the id, title what is shown)."""

    name: str
    title: str


@dataclass(frozen=True)
class RunSummary:
    """An open playbook run on an account, as the card and App Home show it."""

    run_id: int
    playbook: str
    title: str
    started_at: dt.datetime
    open_steps: int
    total_steps: int
    next_step: str | None = None
    next_due: dt.datetime | None = None
    owner: str | None = None


@dataclass
class AccountCard:
    """Everything the account health card shows, for one account as of its latest score."""

    account_id: str
    name: str
    as_of: dt.date
    health: float
    band: str
    arr: float
    owner: str | None = None
    segment: str | None = None
    health_delta_7d: float | None = None
    health_delta_30d: float | None = None
    direction: str = "steady"
    churn_risk: float | None = None
    expansion: float = 0.0
    stakeholder_band: str = "healthy"
    renewal_date: dt.date | None = None
    days_to_renewal: int | None = None
    reasons: tuple[str, ...] = ()
    expansion_signals: tuple[str, ...] = ()
    stakeholders: dict = field(default_factory=dict)
    sparkline: str = ""
    model_version: str | None = None
    runs: list[RunSummary] = field(default_factory=list)
    suggested_playbooks: tuple[str, ...] = ()
    playbooks: list[PlaybookChoice] = field(default_factory=list)
    snoozed: str | None = None  # "until Jun 08 by <@U1> — known issue", while snoozed
