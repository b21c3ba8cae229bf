"""A hand-built portfolio for the scoring tests, with every expected signal worked out by
hand in `EXPECTED` (comments show the arithmetic). Rows are written through SQLModel.

D = 2026-06-01; `day(k, h)` is k days before D at hour h. Windows end at midnight after D.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Engine
from sqlmodel import Session, SQLModel

from storage.models import (
    Account,
    Contact,
    Contract,
    Invoice,
    LifecycleEvent,
    SurveyResponse,
    Ticket,
    Touchpoint,
    UsageEvent,
)

D = dt.date(2026, 6, 1)
TICKET_TEXTS = {
    "T1": ("Exports fail again", "This is the third outage this week and the team is furious."),
    "T2": ("SSO broken", "Nobody can log in. This is unacceptable."),
    "T3": ("API errors", "The API returns errors and blocks our release."),
    "T4": ("Question about reports", "Thanks, could you point us to the docs? Great tool."),
}
NPS_COMMENT = "The product keeps breaking and support is slow."


def day(k: float, hour: int = 9) -> dt.datetime:
    return dt.datetime.combine(D, dt.time(hour)) - dt.timedelta(days=k)


def main_account_rows() -> list[SQLModel]:
    """A1: an enterprise account with a bit of everything."""
    a = "A1"
    rows: list[SQLModel] = [
        Account(
            account_id=a,
            name="Acme",
            segment="enterprise",
            owner="maya@example.com",
            created_at=dt.datetime(2025, 1, 1),
        ),
        Contract(
            contract_id="C0",
            account_id=a,
            start_date=dt.date(2025, 1, 1),
            end_date=dt.date(2025, 6, 30),
            arr=100_000,
            seats=8,
        ),
        Contract(
            contract_id="C1",
            account_id=a,
            start_date=dt.date(2025, 7, 1),
            end_date=dt.date(2026, 8, 14),
            arr=120_000,
            seats=10,
        ),
        LifecycleEvent(account_id=a, occurred_at=dt.datetime(2025, 7, 1), kind="renewed"),
        LifecycleEvent(
            account_id=a, occurred_at=dt.datetime(2025, 3, 1), kind="contracted", arr_change=-10_000
        ),
        Contact(contact_id="s1", account_id=a, name="Sam Sponsor", role="executive_sponsor"),
        Contact(contact_id="c1", account_id=a, name="Cleo Champion", role="champion"),
        Contact(
            contact_id="c0", account_id=a, name="Old Champion", role="champion", left_at=day(20)
        ),
        Contact(contact_id="d1", account_id=a, name="Dana Decider", role="decision_maker"),
        Contact(contact_id="u1", account_id=a, name="Uma User", role="end_user"),
        Contact(contact_id="u2", account_id=a, name="Ugo Admin", role="admin"),
    ]
    # Logins: one a day on days 30..89 before D (60), and on days 0..9 (10).
    for k in list(range(30, 90)) + list(range(0, 10)):
        rows.append(
            UsageEvent(account_id=a, contact_id="u1", timestamp=day(k), event="login", quantity=1)
        )
    # Features in the last 30 days: 4 features (2 advanced); people used 9 units, 6 on core.
    rows += [
        UsageEvent(
            account_id=a, contact_id="u1", timestamp=day(1, 10), event="report_view", quantity=4
        ),
        UsageEvent(
            account_id=a, contact_id="u2", timestamp=day(2, 10), event="dashboard_view", quantity=2
        ),
        UsageEvent(
            account_id=a,
            contact_id="u2",
            timestamp=day(3, 10),
            event="workflow_automation",
            quantity=2,
        ),
        UsageEvent(account_id=a, contact_id="", timestamp=day(1, 11), event="api_call", quantity=2),
        UsageEvent(
            account_id=a, contact_id="u2", timestamp=day(2, 12), event="api_call", quantity=1
        ),
        # u3 (not in contacts) active once, 70 days ago; a row 120 days ago is outside every window.
        UsageEvent(account_id=a, contact_id="u3", timestamp=day(70), event="search", quantity=1),
        UsageEvent(account_id=a, contact_id="u1", timestamp=day(120), event="search", quantity=1),
    ]
    rows += [
        Touchpoint(
            touchpoint_id="P1",
            account_id=a,
            contact_id=None,
            occurred_at=day(10, 10),
            kind="email_out",
        ),
        Touchpoint(
            touchpoint_id="P2",
            account_id=a,
            contact_id="c1",
            occurred_at=day(10, 16),
            kind="email_in",
        ),
        Touchpoint(
            touchpoint_id="P3",
            account_id=a,
            contact_id=None,
            occurred_at=day(5, 9),
            kind="email_out",
        ),
        Touchpoint(
            touchpoint_id="P4",
            account_id=a,
            contact_id="c1",
            occurred_at=day(30, 10),
            kind="meeting",
        ),
        Touchpoint(
            touchpoint_id="P5", account_id=a, contact_id="s1", occurred_at=day(52, 10), kind="call"
        ),
        Touchpoint(
            touchpoint_id="P6", account_id=a, contact_id="s1", occurred_at=day(100, 10), kind="qbr"
        ),
        Touchpoint(
            touchpoint_id="P7",
            account_id=a,
            contact_id="s1",
            occurred_at=day(200, 10),
            kind="qbr",
            status="missed",
        ),
        Touchpoint(
            touchpoint_id="P8",
            account_id=a,
            contact_id="s1",
            occurred_at=day(300, 10),
            kind="qbr",
            status="cancelled",
        ),
        Touchpoint(
            touchpoint_id="P9", account_id=a, contact_id="s1", occurred_at=day(400, 10), kind="qbr"
        ),
        Touchpoint(
            touchpoint_id="P10",
            account_id=a,
            contact_id="d1",
            occurred_at=day(15, 10),
            kind="meeting",
            status="missed",
        ),
    ]
    rows += [
        Ticket(
            ticket_id="T1",
            account_id=a,
            contact_id="u1",
            opened_at=day(5, 11),
            priority="urgent",
            subject=TICKET_TEXTS["T1"][0],
            body=TICKET_TEXTS["T1"][1],
        ),
        Ticket(
            ticket_id="T2",
            account_id=a,
            opened_at=day(12, 11),
            closed_at=day(11, 11),
            priority="high",
            csat=2,
            subject=TICKET_TEXTS["T2"][0],
            body=TICKET_TEXTS["T2"][1],
        ),
        Ticket(
            ticket_id="T3",
            account_id=a,
            opened_at=day(3, 11),
            closed_at=day(-2, 11),
            priority="urgent",
            subject=TICKET_TEXTS["T3"][0],
            body=TICKET_TEXTS["T3"][1],
        ),
        Ticket(
            ticket_id="T4",
            account_id=a,
            opened_at=day(60, 11),
            closed_at=day(58, 11),
            priority="normal",
            csat=4,
            subject=TICKET_TEXTS["T4"][0],
            body=TICKET_TEXTS["T4"][1],
        ),
        Ticket(
            ticket_id="T5",
            account_id=a,
            opened_at=day(100, 11),
            priority="low",
            subject="Old",
            body="An old question.",
        ),
    ]
    rows += [
        SurveyResponse(response_id="N1", account_id=a, submitted_at=day(300), kind="nps", score=8),
        SurveyResponse(response_id="N2", account_id=a, submitted_at=day(200), kind="nps", score=8),
        SurveyResponse(response_id="N3", account_id=a, submitted_at=day(100), kind="nps", score=5),
        SurveyResponse(response_id="N4", account_id=a, submitted_at=day(40), kind="nps", score=5),
        SurveyResponse(
            response_id="N5",
            account_id=a,
            submitted_at=day(10),
            kind="nps",
            score=5,
            comment=NPS_COMMENT,
        ),
        SurveyResponse(response_id="S1", account_id=a, submitted_at=day(20), kind="csat", score=3),
    ]
    rows += [
        Invoice(
            invoice_id="I1", account_id=a, issued_at=day(70, 0), due_at=day(40, 0), amount=30_000
        ),
        Invoice(
            invoice_id="I2",
            account_id=a,
            issued_at=day(40, 0),
            due_at=day(10, 0),
            paid_at=day(2, 0),
            amount=30_000,
        ),
        Invoice(
            invoice_id="I3",
            account_id=a,
            issued_at=day(35, 0),
            due_at=day(5, 0),
            paid_at=day(-3, 0),
            amount=30_000,
        ),
        Invoice(
            invoice_id="I4", account_id=a, issued_at=day(20, 0), due_at=day(-10, 0), amount=30_000
        ),
        Invoice(
            invoice_id="I5",
            account_id=a,
            issued_at=day(400, 0),
            due_at=day(380, 0),
            paid_at=day(370, 0),
            amount=30_000,
        ),
    ]
    return rows


def saturated_account_rows() -> list[SQLModel]:
    """A2: a 61-day-old smb account with 2 seats, both users active daily for 3 weeks."""
    a = "A2"
    rows: list[SQLModel] = [
        Account(account_id=a, name="Bolt", segment="smb", created_at=datetime_days_before(60)),
        Contract(
            contract_id="C2",
            account_id=a,
            start_date=D - dt.timedelta(days=60),
            end_date=D + dt.timedelta(days=305),
            arr=20_000,
            seats=2,
        ),
        Contact(contact_id="a2u1", account_id=a, name="Ann", role="champion"),
        Contact(contact_id="a2u2", account_id=a, name="Ben", role="end_user"),
    ]
    for k in range(21):
        for contact in ("a2u1", "a2u2"):
            rows.append(
                UsageEvent(
                    account_id=a,
                    contact_id=contact,
                    timestamp=day(k, 14),
                    event="login",
                    quantity=2,
                )
            )
    rows.append(
        UsageEvent(
            account_id=a, contact_id="a2u1", timestamp=day(25, 14), event="login", quantity=2
        )
    )
    return rows


def datetime_days_before(k: int) -> dt.datetime:
    return dt.datetime.combine(D, dt.time()) - dt.timedelta(days=k)


def other_account_rows() -> list[SQLModel]:
    """Accounts that test who is scored: churned, not yet created, new, returned, churning later."""
    return [
        # A3 churned before D: not scored.
        Account(account_id="A3", name="Gone", created_at=dt.datetime(2024, 1, 1)),
        Contract(
            contract_id="C3",
            account_id="A3",
            start_date=dt.date(2024, 1, 1),
            end_date=dt.date(2026, 12, 31),
            arr=50_000,
            seats=5,
        ),
        LifecycleEvent(account_id="A3", occurred_at=dt.datetime(2026, 3, 1), kind="churned"),
        UsageEvent(account_id="A3", contact_id="x", timestamp=day(5), event="login"),
        # A4 created after D: not scored.
        Account(account_id="A4", name="Future", created_at=dt.datetime(2026, 6, 5)),
        # A5 new: 10 days old, a contract, no activity at all: limited history.
        Account(
            account_id="A5", name="Newco", segment="mid_market", created_at=datetime_days_before(10)
        ),
        Contract(
            contract_id="C5",
            account_id="A5",
            start_date=D - dt.timedelta(days=10),
            end_date=D + dt.timedelta(days=355),
            arr=30_000,
            seats=5,
        ),
        # A6 churned, then signed again: scored.
        Account(account_id="A6", name="Returned", created_at=dt.datetime(2024, 6, 1)),
        LifecycleEvent(account_id="A6", occurred_at=dt.datetime(2025, 12, 1), kind="churned"),
        Contract(
            contract_id="C6",
            account_id="A6",
            start_date=dt.date(2026, 2, 1),
            end_date=dt.date(2027, 1, 31),
            arr=10_000,
            seats=3,
        ),
        # A7 churns after D: still scored as of D.
        Account(account_id="A7", name="Later", created_at=dt.datetime(2025, 1, 1)),
        LifecycleEvent(account_id="A7", occurred_at=dt.datetime(2026, 7, 1), kind="churned"),
    ]


def build_portfolio(engine: Engine) -> None:
    with Session(engine) as session:
        session.add_all(main_account_rows() + saturated_account_rows() + other_account_rows())
        session.commit()


def later_rows() -> list[SQLModel]:
    """Data dated after D in every table: must change nothing scored as of D."""
    return [
        UsageEvent(account_id="A1", contact_id="u1", timestamp=day(-1), event="login", quantity=50),
        UsageEvent(
            account_id="A1", contact_id="u9", timestamp=day(-1, 10), event="alert_rule", quantity=5
        ),
        UsageEvent(
            account_id="A2", contact_id="a2u1", timestamp=day(-2), event="login", quantity=9
        ),
        UsageEvent(account_id="A5", contact_id="n1", timestamp=day(-1), event="login", quantity=9),
        Touchpoint(
            touchpoint_id="L1",
            account_id="A1",
            contact_id="d1",
            occurred_at=day(-1),
            kind="meeting",
        ),
        Touchpoint(
            touchpoint_id="L2",
            account_id="A1",
            contact_id="s1",
            occurred_at=day(-2),
            kind="email_in",
        ),
        Touchpoint(
            touchpoint_id="L3", account_id="A1", occurred_at=day(-1), kind="qbr", status="missed"
        ),
        Touchpoint(touchpoint_id="L4", account_id="A1", occurred_at=day(-1), kind="email_out"),
        Ticket(
            ticket_id="L5",
            account_id="A1",
            contact_id="d1",
            opened_at=day(-1),
            priority="urgent",
            subject="Down",
            body="Everything is broken, terrible.",
        ),
        SurveyResponse(
            response_id="L6",
            account_id="A1",
            contact_id="s1",
            submitted_at=day(-1),
            kind="nps",
            score=0,
            comment="Awful.",
        ),
        SurveyResponse(
            response_id="L7", account_id="A1", submitted_at=day(-1), kind="csat", score=1
        ),
        Invoice(
            invoice_id="L8", account_id="A1", issued_at=day(-1, 0), due_at=day(-20, 0), amount=1
        ),
        LifecycleEvent(account_id="A1", occurred_at=day(-3), kind="churned"),
        LifecycleEvent(account_id="A1", occurred_at=day(-3), kind="contracted"),
        LifecycleEvent(account_id="A2", occurred_at=day(-3), kind="renewed"),
        Contract(
            contract_id="L9",
            account_id="A1",
            start_date=D + dt.timedelta(days=1),
            end_date=D + dt.timedelta(days=400),
            arr=1,
            seats=1,
        ),
        Contact(
            contact_id="L10",
            account_id="A1",
            name="Gone later",
            role="executive_sponsor",
            left_at=day(-1),
        ),
        Account(account_id="L11", name="Created later", created_at=day(-1)),
    ]
