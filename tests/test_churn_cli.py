"""`csbot train`, `csbot models` and `csbot backtest` end to end on a small demo portfolio."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pytest
from sqlmodel import Session
from typer.testing import CliRunner

from bot.cli import app
from bot.scheduling import jobs
from scoring.churn.metrics import METRIC_KEYS
from storage import migrate
from storage.clock import FixedClock
from storage.db import make_engine
from storage.demo import generate_portfolio
from storage.ingest import import_directory
from storage.models import ModelVersion

END = dt.date(2026, 11, 20)


@pytest.fixture(scope="module")
def portfolio_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    root = tmp_path_factory.mktemp("churn-cli")
    generate_portfolio(root / "files", seed=3, accounts=80, months=18, end=END, usage_density=0.3)
    url = f"sqlite:///{root / 'csbot.db'}"
    engine = make_engine(url)
    migrate.ensure_schema(engine)
    report = import_directory(engine, root / "files")
    assert report.ok, report.all_problems()
    engine.dispose()
    shutil.copy(root / "csbot.db", root / "pristine.db")  # before any test trains on it
    return url


def test_train_models_and_backtest(
    portfolio_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("CSBOT_DATABASE_URL", portfolio_url)
    runner = CliRunner()
    trained = runner.invoke(app, ["train", "--as-of", END.isoformat(), "--snapshot-days", "14"])
    assert trained.exit_code == 0, trained.output
    assert "Stored churn-v1: promoted: no active model to compare with" in trained.output
    assert "followed by a churn within 90 days" in trained.output

    listed = runner.invoke(app, ["models"])
    assert listed.exit_code == 0, listed.output
    assert "churn-v1" in listed.output and "✓" in listed.output

    engine = make_engine(portfolio_url)
    with Session(engine) as session:
        row = session.get(ModelVersion, "churn-v1")
        assert row.active and row.horizon_days == 90 and row.features
        assert row.train_to <= END - dt.timedelta(days=90)
        assert set(METRIC_KEYS) <= set(row.metrics["validation"] or {})
        assert 0 < row.metrics["alert_threshold"] < 1

    # the active model fills churn_risk and churn_reasons when scoring runs
    from scoring.service import score_portfolio
    from storage.clock import FixedClock

    scores = score_portfolio(engine, END, clock=FixedClock(dt.datetime(2026, 11, 21, 6)))
    assert scores and all(s.model_version == "churn-v1" for s in scores)
    assert all(s.churn_risk is not None and 0 <= s.churn_risk <= 1 for s in scores)
    riskiest = max(scores, key=lambda s: s.churn_risk)
    assert riskiest.churn_reasons and all(r["text"] for r in riskiest.churn_reasons)
    engine.dispose()

    plots = tmp_path / "plots"
    replayed = runner.invoke(
        app,
        [
            "backtest",
            "--from",
            "2026-04-01",
            "--to",
            "2026-08-20",
            "--format",
            "json",
            "--every-days",
            "28",
            "--retrain-days",
            "56",
            "--snapshot-days",
            "14",
            "--plots",
            str(plots),
        ],
    )
    assert replayed.exit_code == 0, replayed.output
    result = json.loads(replayed.stdout[replayed.stdout.index("{") :])
    assert set(result) == {
        "rules",
        "learned_health",
        "model",
        "usage_only",
        "calibration",
        "retrains",
        "n_accounts",
        "n_churned",
    }
    for row in ("rules", "learned_health", "model", "usage_only"):
        assert set(METRIC_KEYS) <= set(result[row])
        assert 0 <= result[row]["brier"] <= 1
    assert result["rules"]["threshold"] == pytest.approx(0.4)  # health below 60
    reliability = result["calibration"]["model"]["reliability"]
    assert len(reliability) == 10 and sum(b["rows"] for b in reliability) > 0
    assert 0 <= result["calibration"]["model"]["ece"] <= 1
    assert result["n_accounts"] > 40 and result["n_churned"] > 0
    assert (plots / "calibration.png").stat().st_size > 1000
    assert (plots / "score_distribution.png").stat().st_size > 1000


def test_backtest_rejects_a_period_without_known_outcomes(
    portfolio_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CSBOT_DATABASE_URL", portfolio_url)
    result = CliRunner().invoke(app, ["backtest", "--to", "2026-11-01"])
    assert result.exit_code != 0
    assert "--to 2026-11-01 is too late" in str(result.exception)


def _runtime(url: str, clock, bound=None):
    from bot.runtime import Runtime
    from bot.settings import load_settings

    built = Runtime(settings=load_settings(database_url=url), clock=clock)
    if bound is not None:
        built.__dict__["engine"] = bound
    return built


RETRAIN_CLOCK = FixedClock(dt.datetime(2026, 11, 22, 4))


def test_the_weekly_retrain_job_is_safe_on_an_empty_database(engine) -> None:
    empty = jobs.retrain(_runtime("sqlite://", RETRAIN_CLOCK, engine), RETRAIN_CLOCK)
    assert "no usage data" in empty["skipped"]
    with Session(engine) as session:
        assert session.get(ModelVersion, "churn-v1") is None


def test_the_weekly_retrain_job_keeps_a_champion_its_challenger_does_not_beat(
    portfolio_url: str, tmp_path: Path
) -> None:
    """The scheduled `retrain` job trains on the whole history and leaves promotion to the
    champion/challenger rule."""
    copy = tmp_path / "copy.db"
    shutil.copy(Path(portfolio_url.removeprefix("sqlite:///")).with_name("pristine.db"), copy)
    url = f"sqlite:///{copy}"
    first = jobs.retrain(_runtime(url, RETRAIN_CLOCK), RETRAIN_CLOCK)
    assert first["promoted"] is True and first["version"] == "churn-v1" and first["rows"] > 0
    again = jobs.retrain(_runtime(url, RETRAIN_CLOCK), RETRAIN_CLOCK)
    assert again["version"] == "churn-v2" and again["promoted"] is False  # no better
    check = make_engine(url)
    with Session(check) as session:
        assert session.get(ModelVersion, "churn-v1").active
        assert "does not beat" in session.get(ModelVersion, "churn-v2").promotion_note
    check.dispose()
