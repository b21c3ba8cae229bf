"""Every command, given bad input or an unusable world, answers in one line — never a
traceback: exit 2 for usage errors, 1 for run-time ones. Run as real subprocesses (the
way a person meets csbot), several at once to keep the sweep quick."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlmodel import Session

from storage import migrate
from storage.db import make_engine
from storage.models import Account, AccountScore, UsageEvent

ROOT = Path(__file__).resolve().parents[1]
CSBOT = str(Path(sys.executable).with_name("csbot"))
DOWN_SLACK = "http://127.0.0.1:9/api/"  # discard port: nothing listens


def data_db(tmp_path: Path) -> str:
    """A SQLite database at head with one account and usage from 2026-01-01 to 2026-03-31."""
    url = f"sqlite:///{tmp_path / 'data.db'}"
    engine = make_engine(url)
    migrate.upgrade(engine)
    with Session(engine) as session:
        session.add(Account(account_id="A1", name="Acme", owner="csm@x.io"))
        for day in (dt.datetime(2026, 1, 1), dt.datetime(2026, 3, 31)):
            session.add(UsageEvent(account_id="A1", timestamp=day, event="login"))
        session.add(AccountScore(account_id="A1", as_of=dt.date(2026, 3, 31), health=40.0,
                                 band="at_risk", churn_risk=0.6, arr=1000.0, reasons=[]))  # fmt: skip
        session.commit()
    engine.dispose()
    return url


def run(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [CSBOT, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )


def base_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CSBOT_")}
    return env | {"PYTHONPATH": str(ROOT), "COLUMNS": "80"} | extra


def assert_every_command_swept(cases: list[tuple[list[str], dict[str, str], int, str]]) -> None:
    """Every `csbot` command and subcommand (walked from the Typer app, so one added later
    counts too) meets bad input at least once in the sweep."""
    from tests.test_readme_commands import cli_commands

    swept = {tuple(args[:2]) for args, *_ in cases} | {tuple(args[:1]) for args, *_ in cases}
    missing = sorted(" ".join(path) for path in cli_commands() - swept)
    assert not missing, f"no bad-input case for: csbot {', csbot '.join(missing)}"


def test_no_command_shows_a_traceback(tmp_path: Path) -> None:
    good = data_db(tmp_path)
    missing = f"sqlite:///{tmp_path / 'typo' / 'csbot.db'}"
    bad_yaml = tmp_path / "bad.yml"
    bad_yaml.write_text("name: x\nsteps: [\n")
    online = {"CSBOT_DATABASE_URL": good, "CSBOT_SLACK_BOT_TOKEN": "xoxb-x",
              "CSBOT_SLACK_API_URL": DOWN_SLACK}  # fmt: skip
    cases: list[tuple[list[str], dict[str, str], int, str]] = [
        (["score", "--as-of", "1990-01-01"], {"CSBOT_DATABASE_URL": good}, 1,
         "1990-01-01 is before the imported data (2026-01-01 to 2026-03-31)"),
        (["score", "--as-of", "2026-12-01"], {"CSBOT_DATABASE_URL": good}, 1,
         "after the imported data (2026-01-01 to 2026-03-31)"),
        (["score", "--as-of", "someday"], {"CSBOT_DATABASE_URL": good}, 2, "--as-of"),
        (["score"], {"CSBOT_DATABASE_URL": missing}, 1, "does not exist: create it with `csbot db upgrade`"),
        (["jobs"], {"CSBOT_DATABASE_URL": missing}, 1, "does not exist"),
        (["models"], {"CSBOT_DATABASE_URL": missing}, 1, "does not exist"),
        (["db", "current"], {"CSBOT_DATABASE_URL": missing}, 1, "does not exist"),
        (["outbox"], {"CSBOT_DATABASE_URL": missing}, 1, "does not exist"),
        (["score"], {"CSBOT_DATABASE_URL": "postgres://nobody@127.0.0.1:1/csbot"}, 1,
         "cannot use the database"),
        (["score"], {"CSBOT_DATABASE_URL": "mysql://db/csbot"}, 2, "unsupported database 'mysql'"),
        (["score"], {"CSBOT_DATABASE_URL": "not a url"}, 2, "CSBOT_DATABASE_URL"),
        (["digest", "--post", "--as-of", "2026-03-31", "--wait", "0"], online, 1, "Slack"),
        (["serve", "--socket", "--no-scheduler", "--port", "0"],
         online | {"CSBOT_SLACK_APP_TOKEN": "xapp-1"}, 1, "cannot reach the Slack API"),
        (["serve", "--no-scheduler", "--port", "0"],
         online | {"CSBOT_SLACK_SIGNING_SECRET": "s"}, 1, "cannot reach the Slack API"),
        (["run-job", "nosuch"], {"CSBOT_DATABASE_URL": good}, 2, "no job named 'nosuch'"),
        (["run-job", "import"], {"CSBOT_DATABASE_URL": good}, 1, "CSBOT_IMPORT_DIR is not set"),
        (["outbox", "--status", "lost"], {"CSBOT_DATABASE_URL": good}, 2, "--status must be one of"),
        (["playbooks", "validate", str(tmp_path / "nowhere")], {}, 2, "no such file or directory"),
        (["playbooks", "validate", str(bad_yaml)], {}, 1, "problem(s) in"),
        (["playbooks", "advance", "1"], {"CSBOT_DATABASE_URL": good}, 2, "--done or --skip"),
        (["playbooks", "report", "--since", "2026-06-01", "--until", "2026-01-01"],
         {"CSBOT_DATABASE_URL": good}, 2, "is after --until"),
        (["ingest", str(tmp_path / "nowhere")], {"CSBOT_DATABASE_URL": good}, 1, "not a directory"),
        (["train", "--as-of", "junk"], {"CSBOT_DATABASE_URL": good}, 2, ""),
        (["demo", "--database", "mysql://db/x"], {}, 2, "unsupported database"),
        (["nosuchcommand"], {}, 2, ""),
        (["backtest", "--from", "nope"], {"CSBOT_DATABASE_URL": good}, 2, "--from"),
        (["replay", "--from", "nope", "--days", "3"], {"CSBOT_DATABASE_URL": good}, 2, "--from"),
        (["forecast", "--as-of", "nope"], {"CSBOT_DATABASE_URL": good}, 2, "not a date"),
        (["forecast"], {"CSBOT_DATABASE_URL": missing}, 1, "does not exist"),
        (["voc", "--from", "nope"], {"CSBOT_DATABASE_URL": good}, 2, "not a date"),
        (["voc-route"], {"CSBOT_DATABASE_URL": good}, 2, "Missing argument"),
        (["brief", "nosuch"], {"CSBOT_DATABASE_URL": missing}, 1, "does not exist"),
        (["qbr", "nosuch"], {"CSBOT_DATABASE_URL": missing}, 1, "does not exist"),
        (["alerts", "report"], {"CSBOT_DATABASE_URL": missing}, 1, "does not exist"),
        (["sync", "nosuch"], {"CSBOT_DATABASE_URL": good}, 2, "unknown source 'nosuch'"),
        (["sync", "hubspot"], {"CSBOT_DATABASE_URL": good}, 2, "set CSBOT_HUBSPOT_TOKEN"),
        (["db", "upgrade"], {"CSBOT_DATABASE_URL": "mysql://db/csbot"}, 2, "unsupported database"),
        (["digest", "--as-of", "nope"], {"CSBOT_DATABASE_URL": good}, 2, "not a date"),
        (["playbooks", "list"], {"CSBOT_PLAYBOOK_DIR": str(tmp_path / "nowhere")}, 2,
         f"csbot: CSBOT_PLAYBOOK_DIR: {tmp_path / 'nowhere'} is not a directory"),
        (["playbooks", "start", "NOPE", "renewal"], {"CSBOT_DATABASE_URL": good}, 1, "NOPE does not exist"),
        (["playbooks", "evaluate", "--as-of", "2026-12-01"], {"CSBOT_DATABASE_URL": good}, 1,
         "not evaluating triggers: 2026-12-01 is 245 days after the imported data (2026-01-01 to 2026-03-31)"),
        (["train", "--as-of", "2026-12-01"], {"CSBOT_DATABASE_URL": good}, 1,
         "not training: 2026-12-01 is 245 days after the imported data (2026-01-01 to 2026-03-31)"),
        (["backtest", "--from", "2025-01-01"], {"CSBOT_DATABASE_URL": good}, 1,
         "2025-01-01 is before the imported data (2026-01-01 to 2026-03-31); pass --from"),
        (["outbox", "retry"], {"CSBOT_DATABASE_URL": missing}, 1, "does not exist"),
        (["outbox", "deliver"], {"CSBOT_DATABASE_URL": good}, 1, "CSBOT_SLACK_BOT_TOKEN is not set"),
        (["models"], {"CSBOT_DATABASE_URL": "mysql://db/csbot"}, 2, "unsupported database"),
    ]  # fmt: skip
    assert_every_command_swept(cases)

    def check(case: tuple[list[str], dict[str, str], int, str]) -> str | None:
        args, extra, code, expected = case
        done = run(args, base_env(tmp_path, **extra), tmp_path)
        shown = done.stdout + done.stderr
        if "Traceback" in shown or done.returncode != code or expected not in shown:
            return f"csbot {' '.join(args)} → {done.returncode}:\n{shown[-1500:]}"
        last = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else ""
        first = args[0] == "playbooks"  # the summary line, then one line per problem
        lines = done.stderr.strip().splitlines() or [""]
        if code == 1 and not (lines[0] if first else last).startswith("csbot: "):
            return f"csbot {' '.join(args)}: no closing csbot line:\n{done.stderr}"
        # One line, except where the server had logged its start, or problems are listed.
        if code == 1 and args[0] not in ("serve", "playbooks") and last != done.stderr.strip():
            return f"csbot {' '.join(args)}: not one line:\n{done.stderr}"
        return None

    with ThreadPoolExecutor(max_workers=4) as pool:
        problems = [p for p in pool.map(check, cases) if p]
    assert not problems, "\n\n".join(problems)
    assert not (tmp_path / "typo").exists()  # a typo in a SQLite path creates nothing


def test_jsonl_into_a_closed_pipe_exits_0(tmp_path: Path) -> None:
    env = base_env(tmp_path, CSBOT_DATABASE_URL=data_db(tmp_path))
    done = subprocess.run(
        ["bash", "-c", f"set -o pipefail; {CSBOT} score --as-of 2026-03-31 --format jsonl | head -c 1"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr and "BrokenPipe" not in done.stderr


def test_only_db_upgrade_ingest_and_demo_create_a_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'new.db'}"
    env = base_env(tmp_path, CSBOT_DATABASE_URL=url)
    assert run(["score"], env, tmp_path).returncode == 1
    assert not (tmp_path / "new.db").exists()
    created = run(["db", "upgrade"], env, tmp_path)
    assert created.returncode == 0 and "created a new database at" in created.stdout
    assert (tmp_path / "new.db").exists()


def test_help_answers_quickly_without_heavy_imports() -> None:
    """`csbot --help` imports no SQLAlchemy, scoring or Slack: the command modules import
    them inside their commands (measured with `python -X importtime -m bot --help`)."""
    probe = (
        "import sys, bot.cli; "
        "heavy = [m for m in ('sqlalchemy', 'sklearn', 'slack_sdk', 'scoring', 'numpy') "
        "if m in sys.modules]; print(heavy)"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT)
    assert done.stdout.strip() == "[]", done.stdout + done.stderr


@pytest.mark.parametrize("wide", [False, True])
def test_tables_fit_80_columns_unless_wide(tmp_path: Path, wide: bool) -> None:
    env = base_env(tmp_path, CSBOT_DATABASE_URL=data_db(tmp_path))
    env.pop("COLUMNS")
    args = ["score", "--as-of", "2026-03-31"] + (["--wide"] if wide else [])
    done = run(args, env, tmp_path)
    assert done.returncode == 0, done.stderr
    width = max(len(line) for line in done.stdout.splitlines())
    assert (width > 80) if wide else (width <= 80), done.stdout


def test_a_missing_playbook_dir_is_one_usage_line(tmp_path: Path) -> None:
    nowhere = tmp_path / "nowhere"
    done = run(["playbooks", "list"], base_env(tmp_path, CSBOT_PLAYBOOK_DIR=str(nowhere)), tmp_path)
    assert done.returncode == 2
    assert done.stderr.strip() == f"csbot: CSBOT_PLAYBOOK_DIR: {nowhere} is not a directory"
