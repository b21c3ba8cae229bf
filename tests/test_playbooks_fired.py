"""`fired_triggers` on plain data: a playbook without a trigger (started by hand only) never
fires, and does not stop the others from firing."""

from __future__ import annotations

import datetime as dt

from playbooks.account_context import AccountContext, EventFacts
from playbooks.evaluate import fired_triggers
from playbooks.library import load_library

AS_OF = dt.date(2026, 6, 1)


def _context(account_id: str, band: str) -> AccountContext:
    return AccountContext(
        account_id=account_id,
        as_of=AS_OF,
        health=20.0,
        band=band,
        previous_band="neutral",
        segment="mid_market",
        arr=40_000.0,
        events=EventFacts(start_date=AS_OF - dt.timedelta(days=400)),
    )


def test_a_playbook_without_a_trigger_never_fires():
    library = load_library()
    with_trigger = library["churn_risk_save"]
    assert with_trigger.trigger is not None
    by_hand = with_trigger.model_copy(update={"name": "by_hand_only", "trigger": None})
    contexts = [_context("A1", "critical"), _context("A2", "at_risk")]

    fired = fired_triggers(contexts, [by_hand, with_trigger], history={})

    assert {f.playbook.name for f in fired} <= {"churn_risk_save"}
    assert fired_triggers(contexts, [by_hand], history={}) == []
    alone = fired_triggers(contexts, [with_trigger], history={})
    assert alone  # A1 entered critical
    assert [(f.context.account_id, f.reasons) for f in fired] == [
        (f.context.account_id, f.reasons) for f in alone
    ]
