"""The one attention ranking: value of a CSM's attention, selection rules, why today."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine
from sqlmodel import Session
from typer.testing import CliRunner

from bot.cli import app
from scoring.attention import AttentionSettings, attention_value, rank_attention, select_attention
from storage import migrate
from storage.models import Account, AccountScore

AS_OF = dt.date(2026, 6, 1)
SETTINGS = AttentionSettings(per_csm=2, alert_threshold=0.3)


def _score(account_id: str, owner: str = "dana@x.io", **values) -> dict:
    base = {
        "account_id": account_id,
        "owner": owner,
        "health": 75.0,
        "band": "neutral",
        "health_delta_30d": 0.0,
        "churn_risk": 0.05,
        "expansion": 0.1,
        "stakeholder_band": "healthy",
        "renewal_date": None,
        "arr": 50_000.0,
        "churn_reasons": [],
    }
    base.update(values)
    return base


def test_value_is_arr_at_risk_times_urgency_plus_expansion() -> None:
    calm = _score("a", churn_risk=0.4)
    assert attention_value(calm, AS_OF, SETTINGS) == pytest.approx(
        0.4 * 50_000 + 0.1 * 50_000 * 0.2
    )
    renewing = _score("b", churn_risk=0.4, renewal_date=AS_OF + dt.timedelta(days=45))
    assert attention_value(renewing, AS_OF, SETTINGS) == pytest.approx(
        0.4 * 50_000 * 1.5 + 0.1 * 50_000 * 0.2
    )
    falling = _score("c", churn_risk=0.4, health_delta_30d=-10.0)
    assert attention_value(falling, AS_OF, SETTINGS) == pytest.approx(
        0.4 * 50_000 * 1.5 + 0.1 * 50_000 * 0.2
    )


def test_selects_the_few_with_a_reason_and_says_why() -> None:
    records = [
        _score("big-but-fine", arr=2_000_000.0, churn_risk=0.02, health=90.0, band="healthy"),
        _score(
            "risky", churn_risk=0.6, churn_reasons=[{"text": "Logins down 60%", "kind": "cause"}]
        ),
        _score("renewing", churn_risk=0.2, renewal_date=AS_OF + dt.timedelta(days=20)),
        _score("critical", health=30.0, band="critical", churn_risk=0.25, arr=10_000.0),
        _score("expanding", health=88.0, band="healthy", expansion=0.8, arr=100_000.0),
        _score("eli-risky", owner="eli@x.io", churn_risk=0.5),
    ]
    ranked = select_attention(records, AS_OF, SETTINGS)
    assert set(ranked) == {"dana@x.io", "eli@x.io"}
    dana = ranked["dana@x.io"]
    assert len(dana) == 2  # per_csm
    assert [e.rank for e in dana] == [1, 2]
    assert dana[0].value >= dana[1].value
    listed = {e.account_id for entries in ranked.values() for e in entries}
    assert "big-but-fine" not in listed  # low risk and no other reason: never listed
    every = select_attention(records, AS_OF, AttentionSettings(per_csm=10, alert_threshold=0.3))
    ids = {e.account_id for e in every["dana@x.io"]}
    assert ids == {"risky", "renewing", "critical", "expanding"}
    by_id = {e.account_id: e for e in every["dana@x.io"]}
    assert by_id["risky"].why == ["high_churn_risk"]
    assert by_id["risky"].reasons[0] == "Churn risk 60% on $50k ARR ($30k at risk)"
    assert (
        by_id["risky"].disagreement
        == "Health 75 looks fine, but churn risk is 60%: Logins down 60%"
    )
    assert "Renews in 20 days" in by_id["renewing"].reasons
    # churn risk 0.25 is under the alert line (0.3) but over a third of it: elevated
    assert by_id["critical"].why == ["critical", "elevated_churn_risk"]
    assert by_id["critical"].disagreement is None
    assert by_id["expanding"].why == ["expansion"] and by_id["expanding"].expansion_value > 0
    assert all(entry.reasons for entry in every["dana@x.io"])
    # rank_attention: the same order, shaped like bot.digest.ranking's (record, value, why)
    flat = rank_attention([r for r in records if r["owner"] == "dana@x.io"], AS_OF, SETTINGS)
    assert [row[0]["account_id"] for row in flat] == [e.account_id for e in every["dana@x.io"]]
    assert [row[1] for row in flat] == sorted((row[1] for row in flat), reverse=True)
    assert flat[0][2] == tuple(every["dana@x.io"][0].why)


def test_elevated_churn_risk_surfaces_model_risk_below_the_line() -> None:
    """From a third of the alert line, model risk alone is a reason (said as such); below
    it, a healthy account with no other reason is never listed."""
    records = [
        _score("elevated", churn_risk=0.12, health=82.0, band="healthy", expansion=0.0),
        _score("low", churn_risk=0.09, health=82.0, band="healthy", expansion=0.0),
    ]
    ranked = select_attention(records, AS_OF, SETTINGS)  # alert line 0.3: a third is 0.1
    entries = ranked["dana@x.io"]
    assert [e.account_id for e in entries] == ["elevated"]
    assert entries[0].why == ["elevated_churn_risk"]
    assert entries[0].reasons == ["Churn risk 12% on $50k ARR ($6k at risk)"]


def test_without_a_model_health_stands_in_for_risk() -> None:
    records = [
        _score("healthy", churn_risk=None, health=85.0, band="healthy"),
        _score("at-risk", churn_risk=None, health=50.0, band="at_risk"),
    ]
    ranked = select_attention(records, AS_OF, SETTINGS)
    assert [e.account_id for e in ranked["dana@x.io"]] == ["at-risk"]
    assert ranked["dana@x.io"][0].arr_at_risk == pytest.approx(0.5 * 30 / 80 * 50_000)


@pytest.fixture
def scored(empty_engine: Engine, tmp_path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    migrate.upgrade(empty_engine)
    with Session(empty_engine) as session:
        rows = [
            ("dana@x.io", "critical", 31.0, 0.6),
            ("dana@x.io", "at_risk", 52.0, 0.4),
            ("dana@x.io", "healthy", 88.0, 0.01),
            ("eli@x.io", "at_risk", 47.0, 0.35),
        ]
        for i, (owner, band, health, risk) in enumerate(rows):
            session.add(Account(account_id=f"acc-{i}", name=f"Account {i}", owner=owner))
            session.add(
                AccountScore(
                    account_id=f"acc-{i}",
                    as_of=AS_OF,
                    health=health,
                    band=band,
                    health_delta_30d=-12.0 if band != "healthy" else 0.0,
                    arr=100_000.0,
                    churn_risk=risk,
                    renewal_date=AS_OF + dt.timedelta(days=30),
                    churn_reasons=[{"text": "Logins down 40%", "kind": "cause", "impact": 9.0}],
                )
            )
        session.commit()
    monkeypatch.chdir(tmp_path)
    yield empty_engine.url.render_as_string(hide_password=False)


def test_digest_format_json(scored: str) -> None:
    env = {"CSBOT_DATABASE_URL": scored, "CSBOT_ATTENTION_PER_CSM": "5"}
    result = CliRunner().invoke(
        app, ["digest", "--as-of", AS_OF.isoformat(), "--format", "json"], env=env
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["as_of"] == "2026-06-01" and data["per_csm"] == 5
    by_owner = {csm["owner"]: csm["accounts"] for csm in data["csms"]}
    assert [a["account_id"] for a in by_owner["dana@x.io"]] == ["acc-0", "acc-1"]
    first = by_owner["dana@x.io"][0]
    assert first["rank"] == 1 and first["arr_at_risk"] == pytest.approx(60_000.0)
    assert first["why"][:2] == ["critical", "falling_fast"] and first["reasons"]
    assert first["renewal_date"] == "2026-07-01"
    assert [a["account_id"] for a in by_owner["eli@x.io"]] == ["acc-3"]
    bad = CliRunner().invoke(app, ["digest", "--format", "yaml"], env=env)
    assert (
        bad.exit_code == 2 or "--format: 'yaml'" in str(bad.exception) or "--format" in bad.output
    )
