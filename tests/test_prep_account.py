"""Brief, QBR draft, QBR log and drafts held for review, on one hand-built account."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import text
from sqlmodel import Session, select

from playbooks.errors import InvalidTransition
from playbooks.prep.brief import build_brief, render_markdown
from playbooks.prep.drafts import edit_draft, mark_sent, propose_drafts, review_draft
from playbooks.prep.qbr import ActionItem, log_qbr, qbr_draft, upcoming_qbrs
from storage.models import (
    Account,
    AccountScore,
    Contact,
    Contract,
    PlaybookRun,
    PlaybookStep,
    SurveyResponse,
    Ticket,
    Touchpoint,
    UsageEvent,
)

AS_OF = dt.date(2026, 6, 1)
T = dt.datetime


def _account(session: Session) -> None:
    session.add(
        Account(account_id="A1", name="Acme Corp", segment="mid_market", owner="jo@cs.example")
    )
    session.add(
        Contract(
            contract_id="K1",
            account_id="A1",
            start_date=dt.date(2025, 9, 1),
            end_date=dt.date(2026, 8, 31),
            arr=48000.0,
            seats=10,
        )
    )
    session.add(
        Contact(
            contact_id="P1",
            account_id="A1",
            name="Ana Lima",
            email="ana@acme.example",
            role="champion",
        )
    )
    session.add(
        Contact(
            contact_id="P2",
            account_id="A1",
            name="Ben Okafor",
            email="ben@acme.example",
            role="executive_sponsor",
        )
    )
    # Last QBR on 2026-03-02: the period is 2026-03-03 … 2026-06-01 (91 days).
    session.add(
        Touchpoint(
            touchpoint_id="Q0",
            account_id="A1",
            contact_id="P2",
            occurred_at=T(2026, 3, 2, 10),
            kind="qbr",
        )
    )
    session.add(
        Touchpoint(touchpoint_id="Q1", account_id="A1", occurred_at=T(2026, 6, 5, 10), kind="qbr")
    )
    # This period: 3 + 4 + 5 = 12 logins by P1 and a 3rd person; 2 features (export, report).
    for day, qty in ((10, 3.0), (20, 4.0)):
        session.add(
            UsageEvent(
                account_id="A1",
                contact_id="P1",
                timestamp=T(2026, 4, day),
                event="login",
                quantity=qty,
            )
        )
    session.add(
        UsageEvent(
            account_id="A1", contact_id="P3", timestamp=T(2026, 5, 25), event="login", quantity=5.0
        )
    )
    session.add(
        UsageEvent(account_id="A1", contact_id="P1", timestamp=T(2026, 5, 1), event="export")
    )
    session.add(
        UsageEvent(account_id="A1", contact_id="P3", timestamp=T(2026, 5, 2), event="report_view")
    )
    # Previous period (2025-12-02 … 2026-03-02): 5 logins by P2; features export and sso_config.
    session.add(
        UsageEvent(
            account_id="A1", contact_id="P2", timestamp=T(2026, 1, 5), event="login", quantity=5.0
        )
    )
    session.add(
        UsageEvent(account_id="A1", contact_id="P2", timestamp=T(2026, 1, 6), event="sso_config")
    )
    session.add(
        UsageEvent(account_id="A1", contact_id="P2", timestamp=T(2026, 1, 7), event="export")
    )
    # Two tickets resolved in the period (1 and 3 days: median 2.0), one urgent still open.
    session.add(
        Ticket(
            ticket_id="T1",
            account_id="A1",
            opened_at=T(2026, 4, 1),
            closed_at=T(2026, 4, 2),
            subject="Export fails",
        )
    )
    session.add(
        Ticket(
            ticket_id="T2",
            account_id="A1",
            opened_at=T(2026, 4, 5),
            closed_at=T(2026, 4, 8),
            subject="SSO question",
        )
    )
    session.add(
        Ticket(
            ticket_id="T3",
            account_id="A1",
            opened_at=T(2026, 5, 20),
            priority="urgent",
            subject="Data missing <urgent>",
        )
    )
    session.add(
        SurveyResponse(
            response_id="S1",
            account_id="A1",
            contact_id="P1",
            submitted_at=T(2026, 5, 10),
            kind="nps",
            score=4,
            comment="Slow reports, support is great",
        )
    )
    session.add(
        AccountScore(
            account_id="A1",
            as_of=AS_OF,
            health=58.4,
            band="neutral",
            health_delta_7d=-3.0,
            health_delta_30d=-12.0,
            direction="falling",
            churn_risk=0.35,
            arr=48000.0,
            renewal_date=dt.date(2026, 8, 31),
            expansion=0.1,
            reasons=[
                {
                    "signal": "login_change",
                    "value": -0.5,
                    "baseline": 8,
                    "direction": "down",
                    "impact": -6.0,
                    "text": "Logins down 50%",
                }
            ],
            signals={
                "logins_30d": 5.0,
                "logins_baseline_30d": 8.0,
                "active_users_30d": 2.0,
                "seats": 10.0,
                "license_utilisation": 0.2,
                "feature_breadth_30d": 2.0,
                "csat_avg": 4.0,
                "nps_last": 4.0,
            },
        )
    )
    session.commit()


@pytest.fixture
def account(engine):
    with Session(engine) as session:
        _account(session)
    return engine


def test_brief_numbers_come_from_the_account(account):
    brief = build_brief(account, "Acme Corp", AS_OF)
    assert brief.figure("health").value == 58
    assert brief.figure("licence utilisation").value == 0.2
    assert brief.figure("open tickets").value == 1
    assert brief.figure("tickets 90d").value == 3
    assert "signals.seats" in brief.figure("seats").source
    md = render_markdown(brief)
    assert "Active users: 2 of 10 licences (20%)" in md
    assert "executive sponsor: Ben Okafor — last active 2026-03-02 (91 days) — **silent**" in md
    assert "T3 (urgent, 12 days" in md
    assert "> Slow reports, support is great — NPS 4, 2026-05-10" in md
    assert "Chase the 1 open high-priority ticket(s)" in brief.next_steps[0]
    assert any("Re-engage the executive sponsor (Ben Okafor)" in s for s in brief.next_steps)
    assert brief.forecast is not None and brief.forecast.renewal_date == dt.date(2026, 8, 31)
    assert brief.to_json()["health"]["churn_risk"] == 0.35


def _numbers(markdown: str) -> list[float]:
    cleaned = re.sub(r"\d{4}-\d{2}-\d{2}", "", markdown)
    cleaned = re.sub(r"^#.*$", "", cleaned, flags=re.M)  # headings: section numbers
    cleaned = re.sub(r"\[(?:PERSON|EMAIL)_\d+\]|\b\d\.\s", "", cleaned)
    return [float(x.replace(",", "")) for x in re.findall(r"\d[\d,]*(?:\.\d+)?", cleaned)]


def test_every_figure_in_the_qbr_draft_is_in_the_database(account):
    doc = qbr_draft(account, "A1", AS_OF, dt.date(2026, 6, 5))
    by_label = {f.label: f.value for f in doc.figures}
    lo, hi = "2026-03-03", "2026-06-02"
    plo, phi = "2025-12-02", "2026-03-03"
    with account.connect() as c:

        def q(sql: str, **kw) -> float:
            return float(c.execute(text(sql), kw).scalar() or 0)

        expected = {
            "logins": q(
                "select sum(quantity) from usage where account_id='A1' and event='login' and timestamp >= :lo and timestamp < :hi",
                lo=lo,
                hi=hi,
            ),
            "logins before": q(
                "select sum(quantity) from usage where account_id='A1' and event='login' and timestamp >= :lo and timestamp < :hi",
                lo=plo,
                hi=phi,
            ),
            "active users": q(
                "select count(distinct contact_id) from usage where account_id='A1' and timestamp >= :lo and timestamp < :hi",
                lo=lo,
                hi=hi,
            ),
            "features used": q(
                "select count(distinct event) from usage where account_id='A1' and event != 'login' and timestamp >= :lo and timestamp < :hi",
                lo=lo,
                hi=hi,
            ),
            "tickets resolved": q(
                "select count(*) from tickets where account_id='A1' and closed_at >= :lo and closed_at < :hi",
                lo=lo,
                hi=hi,
            ),
            "seats": q("select seats from contracts where contract_id='K1'"),
            "ARR": q("select arr from contracts where contract_id='K1'"),
            "latest NPS": q("select score from surveys where response_id='S1'"),
        }
    assert expected["logins"] == 12.0 and expected["active users"] == 2.0
    for label, value in expected.items():
        assert by_label[label] == pytest.approx(value), label
    assert by_label["median resolution days"] == pytest.approx(2.0)
    assert by_label["unused licences"] == expected["seats"] - expected["active users"]
    # Every number printed in the draft is one of its figures (none invented).
    cited = {round(float(v), 1) for v in by_label.values() if isinstance(v, int | float)}
    for number in _numbers(doc.markdown):
        assert round(number, 1) in cited, f"{number} in the draft is not a figure"
    assert "sso_config" in doc.markdown  # a feature used before and dropped since


def test_upcoming_qbr_and_log_qbr_make_steps_with_owners(account, clock):
    clock.set(T(2026, 6, 1, 9))
    with Session(account) as session:
        found = upcoming_qbrs(session, AS_OF)
        assert [(u.account_id, u.meeting, u.source) for u in found] == [
            ("A1", dt.date(2026, 6, 5), "touchpoint")
        ]
        log = log_qbr(
            session,
            account="A1",
            held_on=dt.date(2026, 6, 5),
            outcomes="Agreed the rollout plan",
            actions=[
                ActionItem("Train the new team", "jo@cs.example", dt.date(2026, 6, 20)),
                ActionItem("Send the SSO guide", "ana@acme.example", dt.date(2026, 6, 12)),
            ],
            actor="U1",
            source="slack",
            clock=clock,
        )
        session.commit()
        steps = session.exec(select(PlaybookStep).where(PlaybookStep.run_id == log.run_id)).all()
        assert {(s.title, s.owner, s.due_at.date()) for s in steps} == {
            ("Train the new team", "jo@cs.example", dt.date(2026, 6, 20)),
            ("Send the SSO guide", "ana@acme.example", dt.date(2026, 6, 12)),
        }
        run = session.get(PlaybookRun, log.run_id)
        assert run.playbook == "qbr_actions" and run.status == "active"
        assert session.get(Touchpoint, log.touchpoint_id).kind == "qbr"


def test_drafts_are_held_edited_reviewed_and_marked_sent(account, clock):
    with Session(account) as session:
        run = PlaybookRun(
            account_id="A1", playbook="qbr_readiness", started_at=T(2026, 5, 30), started_by="U1"
        )
        session.add(run)
        session.flush()
        session.add(
            PlaybookStep(
                run_id=run.id,
                position=1,
                title="Send the follow-up within two business days",
                kind="message",
                owner_role="csm",
                message="Thank you all, Acme Corp.",
                due_at=T(2026, 6, 2),
            )
        )
        session.add(
            PlaybookStep(
                run_id=run.id,
                position=2,
                title="Check the actions are moving",
                kind="task",
                owner_role="csm",
                due_at=T(2026, 6, 20),
            )
        )
        session.commit()
        drafts = propose_drafts(session, clock=clock)
        assert len(drafts) == 1 and drafts[0].purpose == "follow_up" and drafts[0].status == "draft"
        assert propose_drafts(session, clock=clock) == []  # once per step
        draft_id = drafts[0].id
        edit_draft(
            session,
            draft_id,
            body="Thanks Ben — here is the recap.",
            actor="U1",
            source="slack",
            clock=clock,
        )
        review_draft(session, draft_id, actor="U2", source="slack", clock=clock)
        sent = mark_sent(
            session, draft_id, actor="U1", source="slack", clock=clock, contact_id="P2"
        )
        session.commit()
        assert (sent.status, sent.edited_by, sent.reviewed_by, sent.sent_by) == (
            "sent",
            "U1",
            "U2",
            "U1",
        )
        assert sent.template_body == "Thank you all, Acme Corp."
        touchpoint = session.get(Touchpoint, sent.touchpoint_id)
        assert (touchpoint.kind, touchpoint.contact_id) == ("email_out", "P2")
        with pytest.raises(InvalidTransition):
            edit_draft(session, draft_id, body="again", actor="U1", source="slack", clock=clock)


def test_one_account_score_matches_the_nightly_scoring(account, clock):
    from playbooks.prep.facts import score_one
    from scoring.service import score_portfolio

    day = dt.date(2026, 5, 31)
    nightly = {s.account_id: s for s in score_portfolio(account, day, clock=clock)}["A1"]
    alone = score_one(account, "A1", day)
    for name in (
        "health",
        "band",
        "health_delta_7d",
        "health_delta_30d",
        "direction",
        "expansion",
        "stakeholder_band",
        "renewal_date",
        "arr",
        "reasons",
    ):
        assert getattr(alone, name) == getattr(nightly, name), name


def test_the_brief_names_playbooks_by_their_titles(account):
    """The brief (Markdown, JSON and the Slack blocks) says "Churn-risk save", not the id."""
    from bot.delivery.limits import validate_message
    from bot.prep.messages import brief_message

    with Session(account) as session:
        run = PlaybookRun(
            account_id="A1", playbook="churn_risk_save", started_at=T(2026, 5, 30), started_by="U1"
        )
        session.add(run)
        session.flush()
        session.add(
            PlaybookStep(
                run_id=run.id,
                position=1,
                title="Call the sponsor",
                kind="task",
                owner_role="csm",
                due_at=T(2026, 6, 3),
            )
        )
        session.commit()
    brief = build_brief(account, "A1", AS_OF)
    md = render_markdown(brief)
    assert "- Churn-risk save (since 2026-05-30)" in md
    assert 'Churn-risk save: next step "Call the sponsor"' in md
    assert "churn_risk_save" not in md
    message = brief_message(brief)
    validate_message({"text": message["text"], "blocks": message["blocks"]})
    assert "Churn-risk save (since" in str(message["blocks"])
    assert "churn_risk_save (since" not in str(message["blocks"])
    # a team's own library (CSBOT_PLAYBOOK_DIR) names it its way
    renamed = build_brief(
        account, "A1", AS_OF, {"churn_risk_save": type("P", (), {"title": "Save"})}
    )
    assert "- Save (since 2026-05-30)" in render_markdown(renamed)
