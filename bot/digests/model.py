"""The digest as plain data: what a CSM is told about, independent of how it is rendered.

Slack blocks (`bot.digests.messages`), the terminal (`bot.digests.terminal`) and the App
Home all render these same records, so what a CSM sees is decided in one place.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from bot.accounts.model import PlaybookChoice

# Why an account is in the digest (shown as short tags next to it).
WHY_LABELS = {
    "critical": "critical",
    "at_risk": "at risk",
    "falling_fast": "falling fast",
    "high_churn_risk": "high churn risk",
    "elevated_churn_risk": "elevated churn risk",
    "stakeholder_critical": "stakeholders critical",
    "renewal_at_risk": "renewal at risk",
    "expansion": "expansion signals",  # scoring.attention's why key
}


@dataclass(frozen=True)
class DigestItem:
    """One account that needs its owner today, with everything that explains why."""

    account_id: str
    name: str
    arr: float
    health: float
    band: str
    priority: float
    why: tuple[str, ...]
    reasons: tuple[str, ...]  # the top three, plain words
    health_delta_30d: float | None = None
    direction: str = "steady"
    churn_risk: float | None = None
    stakeholder_band: str = "healthy"
    renewal_date: dt.date | None = None
    days_to_renewal: int | None = None
    suggested_playbooks: tuple[str, ...] = ()
    weekly_health: tuple[float | None, ...] = ()
    sparkline: str = ""
    #: One line when health and churn risk disagree strongly (the model's top reason):
    #: `scoring.attention.disagreement_line`, shown under the entry's summary.
    disagreement: str | None = None


@dataclass(frozen=True)
class ExpansionItem:
    """An account showing expansion signals, with the signals in plain words."""

    account_id: str
    name: str
    arr: float
    expansion: float
    health: float
    band: str
    priority: float
    signals: tuple[str, ...]
    days_to_renewal: int | None = None
    suggested_playbooks: tuple[str, ...] = ()


@dataclass
class Digest:
    """One CSM's digest for one day.

    `items` holds at most `size` accounts; `total_needing` counts every account that
    qualified, so a renderer can say "N more — see the App Home".
    """

    owner: str
    as_of: dt.date
    items: list[DigestItem] = field(default_factory=list)
    total_needing: int = 0
    expansion: list[ExpansionItem] = field(default_factory=list)
    total_expansion: int = 0
    playbooks: list[PlaybookChoice] = field(default_factory=list)
    accounts_in_book: int = 0
    held: int = 0  # messages the noise budget held back since the last digest
    # the day's reminders roll-up (overdue steps, escalations), folded in on digest days
    reminders: list[str] = field(default_factory=list)

    @property
    def hidden(self) -> int:
        """Accounts that qualified but are not listed (they are on the App Home)."""
        return max(0, self.total_needing - len(self.items))

    @property
    def is_empty(self) -> bool:
        return not self.items and not self.expansion and not self.reminders
