"""The nightly import job keeps good rows, counts rejected ones and reports every problem."""

from __future__ import annotations

from sqlmodel import Session, select

from bot.runtime import Runtime
from bot.scheduling.jobs import import_data
from bot.settings import load_settings
from storage.models import Account


def test_nightly_import_keeps_good_rows_and_reports_bad_ones(engine, database_url, clock, tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "accounts.csv").write_text(
        "account_id,name,segment\nA1,Acme,smb\nA2,Beta,galactic\nA3,Gamma,enterprise\n"
    )
    runtime = Runtime(
        settings=load_settings(database_url=database_url, import_dir=inbox), clock=clock
    )
    runtime.__dict__["engine"] = engine  # the fixture's schema, already created
    detail = import_data(runtime, clock)
    assert detail["files"] == 1 and detail["rejected"] == 1 and detail["problems"] == 1
    with Session(engine) as session:
        assert sorted(session.exec(select(Account.account_id)).all()) == ["A1", "A3"]


def test_nightly_import_is_skipped_without_a_directory(engine, database_url, clock):
    runtime = Runtime(settings=load_settings(database_url=database_url), clock=clock)
    assert import_data(runtime, clock) == {"skipped": "CSBOT_IMPORT_DIR is not set"}
