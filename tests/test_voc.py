"""Voice of the customer: themes recover topics planted in a hand-built corpus."""

from __future__ import annotations

import datetime as dt
from collections import Counter

from sqlmodel import Session

from scoring.voc.render import report_mrkdwn
from scoring.voc.service import route_theme, voc_report
from scoring.voc.themes import Doc, find_themes
from storage.models import Account, Contract, SurveyResponse, Ticket

TOPICS = {
    "sso": [
        "SSO login with Okta fails",
        "Okta SSO login broken again",
        "cannot login via SSO Okta",
        "SSO login loop with Okta",
        "Okta SSO setup login error",
    ],
    "invoice": [
        "invoice amount wrong on billing",
        "billing invoice sent twice",
        "wrong invoice billing address",
        "need a corrected invoice from billing",
        "billing invoice missing VAT",
    ],
    "export": [
        "CSV export times out",
        "export to CSV is slow",
        "CSV export missing columns",
        "large CSV export fails",
        "export CSV file empty",
    ],
}


def _corpus(per_topic: int, start: dt.datetime) -> list[tuple[str, str]]:
    docs = []
    for topic, texts in TOPICS.items():
        for i in range(per_topic):
            docs.append((topic, texts[i % len(texts)] + ("" if i < 5 else f" (case {i})")))
    return docs


def test_themes_recover_planted_topics():
    corpus = _corpus(12, dt.datetime(2026, 5, 1))
    docs = [
        Doc(text, f"A{i % 7}", dt.datetime(2026, 5, 1), "survey", f"d{i}")
        for i, (_, text) in enumerate(corpus)
    ]
    topic_of = {d.doc_id: topic for d, (topic, _) in zip(docs, corpus, strict=True)}
    themes = find_themes(docs, n_themes=3)
    assert len(themes) == 3
    found = set()
    for theme in themes:
        topics = Counter(topic_of[d.doc_id] for d in theme.docs)
        topic, count = topics.most_common(1)[0]
        assert count / theme.volume >= 0.9, (theme.label, topics)
        assert count == 12
        found.add(topic)
        assert any(
            word in theme.label
            for word in {
                "sso": ("sso", "okta", "login"),
                "invoice": ("invoice", "billing"),
                "export": ("csv", "export"),
            }[topic]
        )
        assert 2 <= len(theme.examples) <= 3
    assert found == set(TOPICS)


def test_voc_report_volumes_trend_arr_owner_and_escaping(engine, clock):
    with Session(engine) as session:
        for i, segment in enumerate(("smb", "enterprise")):
            session.add(Account(account_id=f"A{i}", name=f"A{i}", segment=segment, plan="scale"))
            session.add(
                Contract(
                    contract_id=f"K{i}",
                    account_id=f"A{i}",
                    start_date=dt.date(2026, 1, 1),
                    end_date=dt.date(2026, 12, 31),
                    arr=1000.0 * (i + 1),
                )
            )
        n = 0
        for topic, texts in TOPICS.items():
            count = 8 if topic == "sso" else 4  # sso doubles against the period before
            for j in range(count):
                n += 1
                session.add(
                    Ticket(
                        ticket_id=f"T{n}",
                        account_id=f"A{j % 2}",
                        opened_at=dt.datetime(2026, 5, 1 + j),
                        subject=texts[j % 5] + (" <b>&" if j == 0 else ""),
                    )
                )
            for j in range(4):
                n += 1
                session.add(
                    SurveyResponse(
                        response_id=f"S{n}",
                        account_id="A0",
                        submitted_at=dt.datetime(2026, 2, 1 + j),
                        kind="nps",
                        score=5,
                        comment=texts[j],
                    )
                )
        route_theme(session, "okta", "pm-identity@example.com", actor="cli", clock=clock)
        session.commit()
    report = voc_report(engine, start=dt.date(2026, 4, 1), end=dt.date(2026, 6, 29), n_themes=3)
    sso = next(v for v in report.themes if "okta" in v.theme.terms or "sso" in v.theme.terms)
    assert sso.theme.volume == 8 and sso.theme.previous == 4 and sso.theme.trend == 1.0
    assert sso.owner == "pm-identity@example.com"
    assert sso.arr_by_segment == {"enterprise": 2000.0, "smb": 1000.0} and sso.arr_by_tier == {
        "scale": 3000.0
    }
    text = report_mrkdwn(report)
    assert "<b>" not in text and "&lt;b&gt;&amp;" in text
