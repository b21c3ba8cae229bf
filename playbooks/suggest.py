"""Which playbooks fit an account right now (for the "start a playbook" menu)."""

from __future__ import annotations

from playbooks.account_context import AccountContext, EventFacts
from playbooks.model import Playbook
from storage.models import AccountScore


def suggest_playbooks(
    score: AccountScore,
    library: dict[str, Playbook],
    *,
    previous_band: str | None = None,
    events: EventFacts | None = None,
    segment: str | None = None,
) -> list[str]:
    """Names of the playbooks whose trigger matches this score, best first (priority, then
    the number of reasons that matched). Event triggers use the score's signals unless
    `events` is given."""
    ctx = AccountContext.from_score(
        score, previous_band=previous_band, events=events, segment=segment
    )
    ranked: list[tuple[int, int, str]] = []
    for playbook in library.values():
        if playbook.trigger is None:
            continue
        reasons = playbook.trigger.match(ctx)
        if reasons is not None:
            ranked.append((-playbook.priority, -len(reasons), playbook.name))
    return [name for *_, name in sorted(ranked)]
