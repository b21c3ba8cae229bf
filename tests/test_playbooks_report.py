"""The results report on a hand-built history, and the `csbot playbooks` commands."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlmodel import Session, select
from typer.testing import CliRunner

from bot.cli import app
from bot.cli.errors import CliError
from playbooks.library import LIBRARY_DIR
from playbooks.report import playbook_report
from storage.db import make_engine
from storage.models import (
    Account,
    AccountScore,
    LifecycleEvent,
    Outcome,
    PlaybookRun,
    PlaybookStep,
)

SINCE, UNTIL = dt.date(2026, 1, 1), dt.date(2026, 6, 30)


def day(month: int, d: int) -> dt.datetime:
    return dt.datetime(2026, month, d, 9, 0)


def run(session, account_id, playbook, started, *, band, arr, status="active", closed=None):
    row = PlaybookRun(
        account_id=account_id,
        playbook=playbook,
        status=status,
        started_at=started,
        started_by="csbot",
        band_at_start=band,
        arr_at_start=arr,
        closed_at=closed,
    )
    session.add(row)
    session.flush()
    return row


def outcome(session, run_row, kind, arr_change=None):
    session.add(
        Outcome(
            run_id=run_row.id,
            account_id=run_row.account_id,
            kind=kind,
            arr_change=arr_change,
            by="U1",
            created_at=run_row.started_at + dt.timedelta(days=5),
        )
    )


def scores(session, account_id, band, first: dt.date, days=3):
    for offset in range(days):
        session.add(
            AccountScore(
                account_id=account_id, as_of=first + dt.timedelta(days=offset), health=50, band=band
            )
        )


def churn(session, account_id, when):
    session.add(LifecycleEvent(account_id=account_id, occurred_at=when, kind="churned"))


def build_history(session: Session) -> None:
    save = "churn_risk_save"
    r1 = run(
        session,
        "R1",
        save,
        day(2, 1),
        band="at_risk",
        arr=100_000,
        status="completed",
        closed=day(2, 11),
    )
    outcome(session, r1, "saved")
    r2 = run(
        session,
        "R2",
        save,
        day(2, 5),
        band="at_risk",
        arr=50_000,
        status="completed",
        closed=day(2, 25),
    )
    outcome(session, r2, "contracted", arr_change=-20_000)
    run(
        session,
        "R3",
        save,
        day(3, 1),
        band="at_risk",
        arr=40_000,
        status="closed",
        closed=day(3, 10),
    )
    churn(session, "R3", day(4, 1))  # churned after the run, no outcome logged
    r4 = run(session, "R4", save, day(3, 1), band="critical", arr=10_000)
    outcome(session, r4, "churned")
    run(
        session,
        "OLD",
        save,
        dt.datetime(2025, 12, 1),
        band="at_risk",
        arr=1,
        status="completed",
        closed=dt.datetime(2025, 12, 5),
    )
    o1 = run(session, "O1", "renewal", day(3, 1), band="neutral", arr=20_000)
    session.add(
        PlaybookStep(
            run_id=o1.id, position=0, title="x", kind="task", owner_role="csm", due_at=day(3, 2)
        )
    )
    # Score history: run accounts, and comparable accounts without a churn-save run.
    for account_id in ("R1", "R2", "R3"):
        scores(session, account_id, "at_risk", dt.date(2026, 1, 25))
    scores(session, "R4", "critical", dt.date(2026, 2, 25))
    for account_id in ("B1", "B2", "B3", "B4", "O1"):
        scores(session, account_id, "at_risk", dt.date(2026, 3, 1))
    churn(session, "B1", day(4, 15))
    churn(session, "B2", day(2, 1))  # churned before it was ever at risk: not counted
    for account_id in ("C1", "C2"):
        scores(session, account_id, "critical", dt.date(2026, 3, 1))
        churn(session, account_id, day(5, 1))
    scores(session, "H1", "healthy", dt.date(2026, 3, 1))
    churn(session, "H1", day(5, 1))  # another band: not a comparison for these runs
    session.commit()


def test_report_on_a_hand_built_history(session):
    build_history(session)
    results = {r.playbook: r for r in playbook_report(session, since=SINCE, until=UNTIL)}
    assert set(results) == {"churn_risk_save", "renewal"}
    save = results["churn_risk_save"]
    assert (save.runs_started, save.runs_completed, save.runs_closed, save.runs_active) == (
        4,
        2,
        1,
        1,
    )
    assert save.median_days_to_complete == 15.0
    assert save.outcomes == {"churned": 1, "contracted": 1, "saved": 1}
    assert save.runs_without_outcome == 1
    assert save.churned == 2 and save.save_rate == 0.5
    assert save.arr_kept == 130_000  # 100k saved + 50k contracted by 20k
    assert save.arr_lost == 50_000 and save.arr_change == -20_000
    # Baseline: at_risk without a run: B1 (churned), B2, B3, B4, O1 → 80% kept;
    # critical: C1, C2 both churned → 0%. Weighted by the runs' bands 3:1 → 60%.
    assert (save.baseline_accounts, save.baseline_churned) == (7, 3)
    assert save.baseline_save_rate == 0.6
    assert save.lift == -0.1
    renewal = results["renewal"]
    assert (renewal.runs_started, renewal.runs_active, renewal.save_rate) == (1, 1, 1.0)
    assert renewal.baseline_save_rate is None and renewal.lift is None
    assert playbook_report(session, since=dt.date(2026, 7, 1), until=dt.date(2026, 7, 31)) == []


@pytest.fixture
def cli_db(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("CSBOT_DATABASE_URL", url)
    monkeypatch.delenv("CSBOT_PLAYBOOK_DIR", raising=False)
    monkeypatch.setenv("COLUMNS", "220")  # rich tables unwrapped
    runner = CliRunner()
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    return make_engine(url)


def test_cli_report_json_and_table(cli_db):
    with Session(cli_db) as session:
        build_history(session)
    runner = CliRunner()
    result = runner.invoke(
        app,
        [
            "playbooks",
            "report",
            "--since",
            "2026-01-01",
            "--until",
            "2026-06-30",
            "--format",
            "json",
        ],
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    save = next(p for p in payload["playbooks"] if p["playbook"] == "churn_risk_save")
    assert save["save_rate"] == 0.5 and save["baseline_save_rate"] == 0.6
    table = runner.invoke(
        app, ["playbooks", "report", "--since", "2026-01-01", "--until", "2026-06-30"]
    )
    assert table.exit_code == 0 and "churn_risk_save" in table.output and "-10 pts" in table.output


def test_cli_list_validate_start_and_advance(cli_db, tmp_path, monkeypatch):
    runner = CliRunner()
    listed = runner.invoke(app, ["playbooks", "list"])
    assert (
        listed.exit_code == 0
        and "renewal" in listed.output
        and "days to renewal 15–120" in listed.output
    )
    custom = tmp_path / "custom"
    custom.mkdir()
    text = (LIBRARY_DIR / "multithreading.yml").read_text()
    (custom / "ours.yml").write_text(text.replace("name: multithreading", "name: partner_handoff"))
    monkeypatch.setenv("CSBOT_PLAYBOOK_DIR", str(custom))
    listed = runner.invoke(app, ["playbooks", "list"])
    assert "11 playbooks" in listed.output and "partner_handoff *" in listed.output
    monkeypatch.delenv("CSBOT_PLAYBOOK_DIR")
    assert runner.invoke(app, ["playbooks", "validate"]).exit_code == 0
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "renewal.yml").write_text("name: renewal\ntitle: Renewal\nstage: sprint\n")
    result = runner.invoke(app, ["playbooks", "validate", str(bad)])
    assert result.exit_code == 1
    assert isinstance(result.exception, CliError)
    assert "renewal.yml:3: stage: must be one of crawl, walk, run (got 'sprint')" in str(
        result.exception
    )
    monkeypatch.setenv("CSBOT_PLAYBOOK_DIR", str(bad))
    listed = runner.invoke(app, ["playbooks", "list"])
    assert isinstance(listed.exception, CliError) and "CSBOT_PLAYBOOK_DIR" in str(listed.exception)
    monkeypatch.delenv("CSBOT_PLAYBOOK_DIR")
    with Session(cli_db) as session:
        session.add(Account(account_id="A1", name="A1 Corp", owner="csm@example.com"))
        session.add(AccountScore(account_id="A1", as_of=dt.date.today(), health=40, band="at_risk"))
        session.commit()
    started = runner.invoke(app, ["playbooks", "start", "A1", "churn_risk_save", "--by", "ops"])
    assert started.exit_code == 0, started.output
    with Session(cli_db) as session:
        step = session.exec(select(PlaybookStep).order_by(PlaybookStep.id)).first()
        assert session.get(PlaybookRun, step.run_id).source == "cli"
    done = runner.invoke(app, ["playbooks", "advance", str(step.id), "--done", "--by", "ops"])
    assert done.exit_code == 0 and "done; run" in done.output
    again = runner.invoke(app, ["playbooks", "advance", str(step.id), "--skip"])
    assert again.exit_code != 0
    both = runner.invoke(app, ["playbooks", "advance", str(step.id), "--skip", "--done"])
    assert both.exit_code != 0
    unknown = runner.invoke(app, ["playbooks", "start", "A1", "nope"])
    assert unknown.exit_code != 0
    evaluated = runner.invoke(
        app, ["playbooks", "evaluate", "--as-of", dt.date.today().isoformat()]
    )
    assert evaluated.exit_code == 0, evaluated.output
    assert "run(s) started" in evaluated.output
