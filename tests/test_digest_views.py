"""The account card and App Home loaded from a real database and rendered."""

from __future__ import annotations

import datetime as dt

from sqlmodel import Session

from bot.accounts.cards import load_account_card
from bot.accounts.messages import account_card_message
from bot.delivery.limits import validate_message
from bot.home.messages import home_view
from bot.home.service import load_home
from bot.slack.ids import ActionId
from playbooks.library import load_library
from storage.models import Account, AccountScore, OutboxMessage, PlaybookRun, PlaybookStep

AS_OF = dt.date(2026, 6, 1)


def seed(session: Session) -> None:
    session.add(Account(account_id="acc-1", name="Acme", owner="dana@x.io", segment="enterprise"))
    session.add(Account(account_id="acc-2", name="Globex", owner="dana@x.io"))
    session.add(Account(account_id="acc-3", name="Initech", owner="eli@x.io"))
    for weeks in range(12):
        session.add(
            AccountScore(
                account_id="acc-1",
                as_of=AS_OF - dt.timedelta(days=7 * weeks),
                health=40.0 + 3 * weeks,
                band="at_risk" if weeks < 7 else "neutral",
                health_delta_30d=-12.0,
                arr=150_000.0,
                churn_risk=0.55,
                renewal_date=AS_OF + dt.timedelta(days=60),
                reasons=[{"signal": "login_change", "impact": -9.0, "text": "Logins down 40%"}],
                stakeholders={
                    "roles": {"champion": {"contact": "Bo", "silent_days": 45, "state": "silent"}},
                    "engaged_contacts": 1,
                    "target": 4,
                },
            )
        )
    session.add(
        AccountScore(account_id="acc-2", as_of=AS_OF, health=90.0, band="healthy", arr=20_000.0)
    )
    session.add(
        AccountScore(account_id="acc-3", as_of=AS_OF, health=30.0, band="critical", arr=20_000.0)
    )
    session.add(
        PlaybookRun(
            id=5,
            account_id="acc-1",
            playbook="churn_risk_save",
            started_at=dt.datetime(2026, 5, 28),
            started_by="scheduler",
            owner="dana@x.io",
        )
    )
    for position, (status, owner) in enumerate(
        [("done", None), ("open", None), ("open", "U0DANA"), ("open", "eli@x.io")], start=1
    ):
        session.add(
            PlaybookStep(
                id=50 + position,
                run_id=5,
                position=position,
                title=f"Step number {position}",
                kind="task",
                owner_role="csm",
                owner=owner,
                instructions="Do the thing carefully.",
                due_at=dt.datetime(2026, 6, position, 17),
                status=status,
                done_by="U0DANA" if status == "done" else None,
                done_at=dt.datetime(2026, 5, 29, 10) if status == "done" else None,
            )
        )
    session.add(
        OutboxMessage(
            idempotency_key="digest:dana@x.io:2026-06-01",
            kind="digest",
            channel="U0DANA",
            payload={"text": "x"},
            status="sent",
            next_attempt_at=dt.datetime(2026, 6, 1, 12),
            created_at=dt.datetime(2026, 6, 1, 12),
            sent_at=dt.datetime(2026, 6, 1, 12, 31),
        )
    )
    session.commit()


def test_account_card_from_the_database(session: Session) -> None:
    seed(session)
    library = load_library()
    card = load_account_card(session, "acc-1", library=library)
    assert card is not None
    assert (card.name, card.health, card.band, card.days_to_renewal) == (
        "Acme",
        40.0,
        "at_risk",
        60,
    )
    assert card.sparkline[0] == "█" and card.sparkline[-1] == "▁"
    (run,) = card.runs
    assert (run.title, run.open_steps, run.total_steps, run.next_step) == (
        "Churn-risk save",
        3,
        4,
        "Step number 2",
    )
    message = validate_message(account_card_message(card))
    assert "champion: Bo — silent for 45 days" in str(message["blocks"])
    assert load_account_card(session, "nope") is None
    older = load_account_card(session, "acc-1", as_of=AS_OF - dt.timedelta(days=8))
    assert older is not None and older.as_of == AS_OF - dt.timedelta(days=14)


def test_app_home_from_the_database(session: Session) -> None:
    seed(session)
    home = load_home(session, "dana@x.io", as_of=AS_OF, user_id="U0DANA", size=5)
    assert [item.account_id for item in home.accounts] == ["acc-1", "acc-2"]
    assert [s.step.id for s in home.steps] == [
        52,
        53,
    ]  # the run's step and the one assigned to U0DANA
    assert home.digest is not None and [i.account_id for i in home.digest.items] == ["acc-1"]
    assert home.digest_posted_at == dt.datetime(2026, 6, 1, 12, 31)
    view = validate_message(home_view(home, now=dt.datetime(2026, 6, 2, 18)))
    flat = str(view["blocks"])
    assert "overdue since Jun 02" in flat and "posted Jun 01 12:31 UTC" in flat
    buttons = [e for b in view["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert [e["action_id"] for e in buttons].count(ActionId.STEP_DONE) == 2
    empty = load_home(session, "new@x.io", as_of=None)
    assert empty.accounts == [] and empty.digest is None
