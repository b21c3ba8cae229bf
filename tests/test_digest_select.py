"""build_digests against a real database (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt

from sqlmodel import Session

from bot.accounts.attention import attention_rules
from bot.digests.service import build_digests
from bot.settings import Settings
from playbooks.library import load_library
from storage.models import Account, AccountScore, Feedback, Snooze

AS_OF = dt.date(2026, 6, 1)
NOW = dt.datetime(2026, 6, 1, 8, 30)


def add_score(session: Session, account_id: str, days_ago: int, **values: object) -> None:
    defaults: dict[str, object] = {
        "health": 85.0,
        "band": "healthy",
        "health_delta_30d": 0.0,
        "arr": 50_000.0,
        "churn_risk": 0.05,
    }
    defaults.update(values)
    session.add(
        AccountScore(
            account_id=account_id,
            as_of=AS_OF - dt.timedelta(days=days_ago),
            **defaults,  # type: ignore[arg-type]
        )
    )


def portfolio(session: Session) -> None:
    owners = {
        "A": "dana@x.io",
        "B": "dana@x.io",
        "C": "dana@x.io",
        "D": "dana@x.io",
        "E": "dana@x.io",
        "F": "dana@x.io",
        "G": "dana@x.io",
        "H": "eli@x.io",
        "U": None,
    }
    for account_id, owner in owners.items():
        session.add(Account(account_id=account_id, name=f"Account {account_id}", owner=owner))
    # A: a weekly slide from 80 to 36, critical today, with reasons
    for week in range(12):
        health = 36.0 + 4 * week
        add_score(
            session, "A", 7 * week, health=health, band="neutral" if health >= 60 else "at_risk"
        )
    session.merge(
        AccountScore(
            account_id="A",
            as_of=AS_OF,
            health=36.0,
            band="critical",
            health_delta_30d=-16.0,
            arr=240_000.0,
            churn_risk=0.72,
            renewal_date=AS_OF + dt.timedelta(days=74),
            reasons=[
                {"signal": "login_change", "impact": -14.0, "text": "Logins down 46%"},
                {"signal": "sponsor_silent_days", "impact": -9.0, "text": "Sponsor silent 52 days"},
                {"signal": "urgent_open", "impact": -5.0, "text": "2 urgent tickets open"},
                {"signal": "nps_last", "impact": -1.0, "text": "NPS 6"},
            ],
        )
    )
    add_score(session, "B", 0)
    add_score(session, "C", 0, band="at_risk", health=50.0)
    add_score(session, "D", 0, band="at_risk", health=52.0)
    add_score(session, "E", 0, band="at_risk", health=54.0)
    add_score(
        session,
        "F",
        0,
        expansion=0.85,
        expansion_reasons=[
            {"signal": "seat_saturation_days", "text": "Seats 97% used for 40 days"}
        ],
    )
    add_score(session, "G", 20, band="critical", health=20.0)  # not scored for 20 days
    add_score(session, "H", 1, band="at_risk", health=45.0)  # latest is yesterday's
    add_score(session, "H", -1, band="healthy", health=90.0)  # a score after as_of is ignored
    add_score(session, "U", 0, band="critical", health=10.0)  # nobody owns it
    session.add(Snooze(account_id="C", until=NOW + dt.timedelta(days=6), by="U1", created_at=NOW))
    session.add(Snooze(account_id="B", until=NOW - dt.timedelta(days=1), by="U1", created_at=NOW))
    for account_id, days_ago in (("D", 5), ("E", 40)):
        session.add(
            Feedback(
                account_id=account_id,
                as_of=AS_OF - dt.timedelta(days=days_ago),
                label="not_a_risk",
                by="U1",
                created_at=NOW,
            )
        )
    session.commit()


def test_build_digests_from_stored_scores(session: Session) -> None:
    portfolio(session)
    library = load_library()
    digests = build_digests(
        session,
        AS_OF,
        size=5,
        library=library,
        now=NOW,
        suggester=lambda score, lib: ["churn_risk_save"] if score.band == "critical" else [],
    )
    assert [d.owner for d in digests] == ["dana@x.io", "eli@x.io"]
    dana, eli = digests
    assert [item.account_id for item in dana.items] == ["A", "E"]  # C snoozed, D not a risk
    assert dana.total_needing == 2 and dana.accounts_in_book == 6  # G is stale
    top = dana.items[0]
    assert top.name == "Account A" and top.band == "critical" and top.arr == 240_000.0
    assert top.days_to_renewal == 74 and top.health_delta_30d == -16.0
    assert top.reasons == ("Logins down 46%", "Sponsor silent 52 days", "2 urgent tickets open")
    assert top.suggested_playbooks == ("churn_risk_save",)
    assert len(top.weekly_health) == 12 and top.weekly_health[-1] == 36.0
    assert top.weekly_health[0] == 36.0 + 4 * 11
    assert top.sparkline[0] == "█" and top.sparkline[-1] == "▁"
    assert {"critical", "high_churn_risk", "falling_fast", "renewal_at_risk"} <= set(top.why)
    assert [e.account_id for e in dana.expansion] == ["F"]
    assert dana.expansion[0].signals == ("Seats 97% used for 40 days",)
    assert [c.name for c in dana.playbooks] == list(library)
    assert [item.account_id for item in eli.items] == ["H"]
    assert eli.items[0].health == 45.0

    # size caps the list; the count says how many qualified
    (only,) = build_digests(session, AS_OF, size=1, owners=["dana@x.io"], now=NOW)
    assert len(only.items) == 1 and only.total_needing == 2 and only.hidden == 1
    assert only.items[0].suggested_playbooks == ()  # no library, no suggestions

    # once the snooze ends C is back
    later = NOW + dt.timedelta(days=7)
    (dana_later,) = build_digests(session, AS_OF, size=5, owners=["dana@x.io"], now=later)
    assert "C" in [item.account_id for item in dana_later.items]


def test_the_settings_thresholds_change_what_the_digest_selects(session: Session) -> None:
    """The digest ranks with `attention_rules(session, settings)`, the alerts' thresholds:
    a lower risk line or a smaller "falling fast" fall brings accounts in."""
    for account_id in ("R", "S"):
        session.add(Account(account_id=account_id, name=f"Account {account_id}", owner="fay@x.io"))
    add_score(session, "R", 0, churn_risk=0.12)  # well below the default 0.5 line
    add_score(
        session, "S", 0, health_delta_30d=-7.0, churn_risk=0.0
    )  # falls 7 points, default is 10
    session.commit()

    def selected(**values: object) -> list[str]:
        settings = Settings(_env_file=None, **values)  # type: ignore[call-arg]
        (digest,) = build_digests(
            session,
            AS_OF,
            size=5,
            owners=["fay@x.io"],
            now=NOW,
            rules=attention_rules(session, settings),
        )
        return sorted(item.account_id for item in digest.items)

    assert selected() == []
    assert selected(risk_alert_threshold=0.1) == ["R"]
    assert selected(falling_fast_points=5.0) == ["S"]
