"""score_portfolio and `csbot score` on the hand-built portfolio (SQLite and PostgreSQL):
stored rows, replacement on re-run, trend from stored and computed history, point in
time, limited history, JSON without NaN."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import Engine, func
from sqlmodel import Session, select
from typer.testing import CliRunner

from bot.cli import app
from scoring.config import default_config
from scoring.health import NEUTRAL_POINT
from scoring.service import frame_health, score_portfolio
from scoring.signals import compute_signals
from storage import migrate
from storage.clock import FixedClock
from storage.models import AccountScore
from tests.test_scoring_builders import D, build_portfolio, later_rows

CLOCK = FixedClock(dt.datetime(2026, 6, 2, 5, 0))


def _stored(engine: Engine, as_of: dt.date) -> dict[str, AccountScore]:
    with Session(engine) as session:
        return {
            s.account_id: s
            for s in session.exec(select(AccountScore).where(AccountScore.as_of == as_of))
        }


def test_scores_are_stored_once_per_account_and_replaced(engine: Engine) -> None:
    build_portfolio(engine)
    scores = score_portfolio(engine, D, clock=CLOCK)
    assert [s.account_id for s in scores] == ["A1", "A2", "A5", "A6", "A7"]
    stored = _stored(engine, D)
    assert set(stored) == {"A1", "A2", "A5", "A6", "A7"}
    a1 = stored["A1"]
    assert a1.health == scores[0].health
    assert a1.renewal_date == dt.date(2026, 8, 14) and a1.arr == 120_000
    assert a1.band == (
        "healthy"
        if a1.health >= 80
        else "neutral"
        if a1.health >= 60
        else "at_risk"
        if a1.health >= 40
        else "critical"
    )
    assert sum(r["impact"] for r in a1.reasons) == pytest.approx(
        a1.health - NEUTRAL_POINT, abs=1e-6
    )
    texts = [r["text"] for r in a1.reasons]
    assert "Executive sponsor silent for 52 days" in texts
    assert "3 urgent or high tickets in 30 days, 2 still open" in texts
    assert "Renewal in 74 days" in texts
    assert a1.stakeholder_band == "critical"  # the decision maker has never been heard from
    assert a1.stakeholders["roles"]["decision_maker"]["state"] == "silent"
    assert a1.stakeholders["engaged_contacts"] == 5 and a1.stakeholders["target"] == 4
    assert a1.signals["days_to_renewal"] == 74
    assert a1.scored_at == CLOCK.now()
    assert stored["A2"].expansion > a1.expansion  # saturated seats, growing
    assert stored["A2"].expansion_reasons[0]["signal"] == "seat_saturation_days"
    assert a1.churn_risk is None and a1.model_version is None  # no model trained

    # Re-running with other weights replaces the rows rather than adding any.
    heavy = default_config().model_copy(
        update={"bands": default_config().bands.model_copy(update={"healthy": 99.0})}
    )
    score_portfolio(engine, D, clock=CLOCK, config=heavy)
    with Session(engine) as session:
        count = session.exec(select(func.count()).select_from(AccountScore)).one()
    assert count == 5
    assert _stored(engine, D)["A1"].band != "healthy"


def test_limited_history_scores_without_nan(engine: Engine) -> None:
    build_portfolio(engine)
    scores = {s.account_id: s for s in score_portfolio(engine, D, clock=CLOCK)}
    assert (
        scores["A5"].limited_history
        and scores["A2"].limited_history is False
        or scores["A2"].limited_history
    )
    assert scores["A5"].limited_history
    assert not scores["A1"].limited_history
    for score in scores.values():
        json.dumps(score.model_dump(mode="json"), allow_nan=False)
        assert 0 <= score.health <= 100


def test_trend_uses_stored_history(engine: Engine) -> None:
    build_portfolio(engine)
    now = next(s for s in score_portfolio(engine, D, clock=CLOCK) if s.account_id == "A1").health

    def rescore(before_30d: float, before_7d: float) -> AccountScore:
        with Session(engine) as session:
            for days, health in ((30, before_30d), (7, before_7d)):
                session.merge(
                    AccountScore(
                        account_id="A1",
                        as_of=D - dt.timedelta(days=days),
                        health=health,
                        band="neutral",
                    )
                )
            session.commit()
        return next(s for s in score_portfolio(engine, D, clock=CLOCK) if s.account_id == "A1")

    fell = rescore(now + 14, now + 1)  # "fell from 72 to 58 in 30 days"
    assert fell.health == now
    assert fell.health_delta_30d == pytest.approx(-14) and fell.health_delta_7d == pytest.approx(-1)
    assert fell.direction == "falling"
    rose = rescore(now - 8, now - 1)
    assert rose.health_delta_30d == pytest.approx(8) and rose.direction == "rising"
    steady = rescore(now - 2, now + 1)
    assert steady.direction == "steady"


def test_trend_is_computed_as_of_earlier_dates_when_not_stored(engine: Engine) -> None:
    build_portfolio(engine)
    scores = {s.account_id: s for s in score_portfolio(engine, D, clock=CLOCK)}
    cfg = default_config()
    earlier = compute_signals(engine, D - dt.timedelta(days=30))
    before = dict(zip(earlier.account_ids, frame_health(earlier, cfg).health.tolist(), strict=True))
    assert scores["A1"].health_delta_30d == pytest.approx(
        round(scores["A1"].health - before["A1"], 2), abs=0.011
    )
    # A5 did not exist 30 days before D: no delta, steady.
    assert scores["A5"].health_delta_30d is None and scores["A5"].direction == "steady"


def test_scores_ignore_data_dated_after_d(engine: Engine) -> None:
    build_portfolio(engine)
    first = {
        s.account_id: s.model_dump(exclude={"scored_at"})
        for s in score_portfolio(engine, D, clock=CLOCK)
    }
    with Session(engine) as session:
        session.add_all(later_rows())
        session.commit()
    second = {
        s.account_id: s.model_dump(exclude={"scored_at"})
        for s in score_portfolio(engine, D, clock=CLOCK)
    }
    assert first == second


def test_empty_portfolio(engine: Engine) -> None:
    assert score_portfolio(engine, D, clock=CLOCK) == []


@pytest.fixture
def migrated_url(empty_engine: Engine, tmp_path, monkeypatch: pytest.MonkeyPatch) -> str:
    migrate.upgrade(empty_engine)
    build_portfolio(empty_engine)
    monkeypatch.chdir(tmp_path)  # no stray .env
    return empty_engine.url.render_as_string(hide_password=False)


def test_cli_jsonl_and_table(migrated_url: str) -> None:
    env = {"CSBOT_DATABASE_URL": migrated_url, "COLUMNS": "200"}
    result = CliRunner().invoke(
        app, ["score", "--as-of", "2026-06-01", "--format", "jsonl"], env=env
    )
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.output.splitlines()]
    assert {r["account_id"] for r in rows} == {"A1", "A2", "A5", "A6", "A7"}
    required = {
        "account_id",
        "as_of",
        "health",
        "band",
        "health_delta_30d",
        "churn_risk",
        "expansion",
        "stakeholder_band",
        "renewal_date",
        "arr",
        "reasons",
    }
    for row in rows:
        assert required <= set(row)
        assert row["churn_risk"] is None
        for reason in row["reasons"]:
            assert {"signal", "value", "baseline", "impact", "text"} <= set(reason)
    assert "NaN" not in result.output
    a1 = next(r for r in rows if r["account_id"] == "A1")
    assert a1["renewal_date"] == "2026-08-14" and a1["as_of"] == "2026-06-01"
    attention = [r["attention"] for r in rows]
    assert attention == sorted(attention, reverse=True)

    table = CliRunner().invoke(app, ["score", "--as-of", "2026-06-01"], env=env)
    assert table.exit_code == 0, table.output
    assert "Acme" in table.output and "limited history" in table.output


def test_cli_lists_signals() -> None:
    result = CliRunner().invoke(app, ["score", "--signals"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "sponsor_silent_days" in result.output and "relationship" in result.output


def test_cli_errors_are_one_line(migrated_url: str, tmp_path) -> None:
    env = {"CSBOT_DATABASE_URL": migrated_url}
    result = CliRunner().invoke(app, ["score", "--as-of", "June 1"], env=env)
    assert "--as-of" in str(result.exception)
    bad = tmp_path / "bad.yml"
    bad.write_text("bands: {healthy: 10, neutral: 60, at_risk: 40}\n")
    result = CliRunner().invoke(app, ["score", "--config", str(bad)], env=env)
    assert "bad.yml: bands" in str(result.exception)
