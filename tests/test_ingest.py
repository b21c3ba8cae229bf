"""The data-contract importer on SQLite and PostgreSQL: round trips, every problem kind
with its exact wording, idempotency, incremental imports, --skip-invalid and rejects."""

from __future__ import annotations

import csv
import datetime as dt
import json

import pytest
from sqlalchemy import text
from sqlmodel import Session, select

from storage.ingest import ContractViolation, import_directory, import_rows
from storage.ingest.contract import ENTITIES
from storage.ingest.convert import ColumnConverter, Invalid
from storage.ingest.importer import import_source
from storage.ingest.readers import CsvSource
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
from tests.test_ingest_support import (
    EXAMPLE_ROWS,
    dump_tables,
    write_csv,
    write_examples,
    write_jsonl,
    write_rows_csv,
)

USAGE_HEADER = ["account_id", "contact_id", "timestamp", "event", "quantity"]


def accounts_dir(tmp_path, *ids: str):
    rows = [{"account_id": i, "name": f"Account {i}"} for i in ids or ("A1",)]
    write_rows_csv(tmp_path / "accounts.csv", rows)
    return tmp_path


def problems_of(report) -> list[str]:
    return [str(problem) for problem in report.all_problems()]


# -- round trips ---------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_every_file_round_trips(engine, tmp_path, fmt):
    report = import_directory(engine, write_examples(tmp_path, fmt))
    assert report.ok, problems_of(report)
    assert [f.entity for f in report.files] == list(ENTITIES)  # accounts first
    assert all(
        (f.read, f.inserted, f.updated, f.committed) == (1, 1, 0, True) for f in report.files
    )
    with Session(engine) as session:
        assert session.get(Account, "A1") == Account(
            account_id="A1",
            name="Acme Corp",
            segment="enterprise",
            industry="Software",
            owner="jo@example.com",
            created_at=dt.datetime(2023, 4, 1),
            plan="scale",
        )
        contract = session.get(Contract, "K1")
        assert (contract.start_date, contract.end_date, contract.arr, contract.seats) == (
            dt.date(2025, 7, 1),
            dt.date(2026, 6, 30),
            120000.0,
            250,
        )
        contact = session.get(Contact, "C1")
        assert (contact.role, contact.left_at, contact.email) == (
            "champion",
            None,
            "dana@acme.example",
        )
        usage = session.exec(select(UsageEvent)).one()
        assert (usage.contact_id, usage.timestamp, usage.event, usage.quantity) == (
            "C1",
            dt.datetime(2026, 5, 31, 14, 3),
            "login",
            1.0,
        )
        ticket = session.get(Ticket, "T1")
        assert ticket.closed_at == dt.datetime(2026, 5, 21, 14, 40)  # +02:00 → UTC
        assert ticket.body == EXAMPLE_ROWS["tickets"]["body"]
        assert (ticket.priority, ticket.csat) == ("high", 4)
        survey = session.get(SurveyResponse, "R1")
        assert (survey.kind, survey.score, survey.submitted_at) == (
            "nps",
            9.0,
            dt.datetime(2026, 5, 15, 10),
        )
        assert session.get(Touchpoint, "P1").status == "held"
        invoice = session.get(Invoice, "I1")
        assert (invoice.due_at, invoice.paid_at, invoice.amount) == (
            dt.datetime(2025, 7, 31),
            dt.datetime(2025, 7, 20, 11),
            120000.0,
        )
        event = session.exec(select(LifecycleEvent)).one()
        assert (event.kind, event.arr_change, event.detail) == (
            "renewed",
            20000.0,
            "Renewed with 50 more seats",
        )
        # Stored datetimes are naive UTC, and ORM comparisons against them work.
        later = select(UsageEvent).where(UsageEvent.timestamp >= dt.datetime(2026, 5, 31, 14, 3))
        assert len(session.exec(later).all()) == 1


def test_csv_and_jsonl_give_the_same_rows(engine, tmp_path):
    import_directory(engine, write_examples(tmp_path / "csv", "csv"))
    from_csv = dump_tables(engine)
    with engine.begin() as connection:
        for entity in ENTITIES.values():
            connection.execute(text(f'DELETE FROM "{entity.table_name}"'))
    import_directory(engine, write_examples(tmp_path / "jsonl", "jsonl"))
    assert dump_tables(engine) == from_csv


def test_defaults_and_empty_values(engine, tmp_path):
    accounts_dir(tmp_path)
    write_csv(
        tmp_path / "usage.csv",
        ["account_id", "timestamp", "event"],  # no contact_id, no quantity column
        [["A1", "2026-01-02", "login"]],
    )
    write_rows_csv(
        tmp_path / "touchpoints.csv",
        [{"touchpoint_id": "P1", "account_id": "A1", "occurred_at": "2026-01-02", "kind": "call"}],
    )
    write_jsonl(
        tmp_path / "lifecycle.jsonl",
        [{"account_id": "A1", "occurred_at": "2026-01-03", "kind": "milestone", "detail": None}],
    )
    report = import_directory(engine, tmp_path)
    assert report.ok, problems_of(report)
    with Session(engine) as session:
        usage = session.exec(select(UsageEvent)).one()
        assert (usage.contact_id, usage.quantity, usage.timestamp) == (
            "",
            1.0,
            dt.datetime(2026, 1, 2),
        )
        assert session.get(Touchpoint, "P1").status == "held"
        assert session.exec(select(LifecycleEvent)).one().detail == ""


# -- every kind of problem, worded exactly --------------------------------------------

PROBLEM_CASES = [
    (
        "accounts",
        {"account_id": "A2", "name": ""},
        "accounts.csv:3: name: missing required value",
    ),
    (
        "accounts",
        {"account_id": "A2", "name": "B", "segment": "huge"},
        "accounts.csv:3: segment: unknown value 'huge' (expected one of: enterprise, mid_market, smb)",
    ),
    (
        "usage",
        {"account_id": "A1", "timestamp": "yesterday", "event": "login"},
        "usage.csv:2: timestamp: not an ISO-8601 date or datetime: 'yesterday'",
    ),
    (
        "usage",
        {"account_id": "A1", "timestamp": "2026-02-30", "event": "login"},
        "usage.csv:2: timestamp: not an ISO-8601 date or datetime: '2026-02-30'",
    ),
    (
        "usage",
        {"account_id": "A1", "timestamp": "2026-01-01", "event": "login", "quantity": "lots"},
        "usage.csv:2: quantity: not a number: 'lots'",
    ),
    (
        "usage",
        {"account_id": "A1", "timestamp": "2026-01-01", "event": "login", "quantity": "nan"},
        "usage.csv:2: quantity: not a finite number: 'nan'",
    ),
    (
        "usage",
        {"account_id": "A404", "timestamp": "2026-01-01", "event": "login"},
        "usage.csv:2: account_id: unknown account 'A404'",
    ),
    (
        "usage",
        {"account_id": "A1", "timestamp": "2026-01-01", "event": "x" * 129},
        "usage.csv:2: event: longer than 128 characters",
    ),
    (
        "contracts",
        {
            "contract_id": "K1",
            "account_id": "A1",
            "start_date": "2025-13-01",
            "end_date": "2026-01-01",
            "arr": "1",
        },
        "contracts.csv:2: start_date: not an ISO-8601 date: '2025-13-01'",
    ),
    (
        "contracts",
        {
            "contract_id": "K1",
            "account_id": "A1",
            "start_date": "2025-01-01",
            "end_date": "2026-01-01",
            "arr": "1",
            "seats": "2.5",
        },
        "contracts.csv:2: seats: not an integer: '2.5'",
    ),
    (
        "contracts",
        {
            "contract_id": "K1",
            "account_id": "A1",
            "start_date": "2025-06-01",
            "end_date": "2025-01-01",
            "arr": "1",
        },
        "contracts.csv:2: end_date: before start_date (2025-01-01 < 2025-06-01)",
    ),
    (
        "tickets",
        {"ticket_id": "T1", "account_id": "A1", "opened_at": "2026-01-01", "csat": "7"},
        "tickets.csv:2: csat: must be between 1 and 5 (got 7)",
    ),
    (
        "surveys",
        {
            "response_id": "R1",
            "account_id": "A1",
            "submitted_at": "2026-01-01",
            "kind": "nps",
            "score": "11",
        },
        "surveys.csv:2: score: a nps score must be between 0 and 10 (got 11)",
    ),
]


@pytest.mark.parametrize(("name", "row", "expected"), PROBLEM_CASES)
def test_each_problem_is_reported_exactly(engine, tmp_path, name, row, expected):
    accounts_dir(tmp_path)
    if name == "accounts":
        write_rows_csv(tmp_path / "accounts.csv", [{"account_id": "A1", "name": "Acme"}, row])
    else:
        write_rows_csv(tmp_path / f"{name}.csv", [row])
    report = import_directory(engine, tmp_path)
    assert problems_of(report) == [expected]
    refused = next(f for f in report.files if f.entity == name)
    assert (refused.committed, refused.inserted, refused.rejected) == (False, 0, 1)
    assert dump_tables(engine)[name] == []


def test_malformed_csv_lines(engine, tmp_path):
    accounts_dir(tmp_path)
    (tmp_path / "usage.csv").write_text(
        "account_id,contact_id,timestamp,event,quantity\n"
        "A1,,2026-01-01,login,1\n"
        "A1,,2026-01-01,export,1,extra\n"
        'A1,,2026-01-02,"login"x,1\n'
        "\n"
        "A1\n"
    )
    report = import_directory(engine, tmp_path)
    assert problems_of(report) == [
        "usage.csv:3: row: malformed CSV line: expected 5 fields, found 6",
        "usage.csv:4: row: malformed CSV line: ',' expected after '\"'",
        "usage.csv:6: row: malformed CSV line: expected 5 fields, found 1",
    ]
    assert dump_tables(engine)["usage"] == []


def test_missing_required_column_and_unknown_columns(engine, tmp_path):
    accounts_dir(tmp_path)
    write_csv(tmp_path / "usage.csv", ["account_id", "event", "colour"], [["A1", "login", "red"]])
    write_csv(
        tmp_path / "contacts.csv",
        ["contact_id", "account_id", "colour", "size"],
        [["C1", "A1", "red", "L"]],
    )
    report = import_directory(engine, tmp_path)
    assert problems_of(report) == [
        "usage.csv:1: timestamp: required column missing from the header"
    ]
    assert report.all_warnings() == [
        "contacts.csv:1: unknown columns ignored: colour, size",
        "usage.csv:1: unknown columns ignored: colour",
    ]
    assert [(f.entity, f.committed) for f in report.files] == [
        ("accounts", True),
        ("contacts", True),
        ("usage", False),
    ]


def test_jsonl_line_problems(engine, tmp_path):
    accounts_dir(tmp_path)
    (tmp_path / "usage.jsonl").write_text(
        '{"account_id": "A1", "timestamp": "2026-01-01", "event": "login"}\n'
        "{not json\n"
        "[1, 2]\n"
        '{"account_id": "A1", "timestamp": "2026-01-01", "event": "x", "quantity": [1]}\n'
        '{"account_id": "A1", "timestamp": "2026-01-01", "event": "y", "extra": 1}\n'
    )
    report = import_directory(engine, tmp_path)
    assert problems_of(report) == [
        "usage.jsonl:2: row: not valid JSON: Expecting property name enclosed in double quotes",
        "usage.jsonl:3: row: not a JSON object",
        "usage.jsonl:4: quantity: expected a string, number or null",
    ]
    assert report.all_warnings() == [
        "usage.jsonl: unknown keys ignored: extra",
        "usage.jsonl: refused whole: 5 rows not imported because of 3 bad rows"
        " (--skip-invalid imports the good ones)",
    ]


def test_several_problems_in_one_row_and_line_numbers_across_batches(engine, tmp_path):
    accounts_dir(tmp_path)
    rows = [["A1", "", f"2026-01-01T00:00:{i:02d}Z", "login", "1"] for i in range(7)]
    rows[4] = ["A9", "", "soon", "", "x"]
    path = write_csv(tmp_path / "usage.csv", USAGE_HEADER, rows)
    import_directory(engine, accounts_dir(tmp_path / "a"))
    entity = ENTITIES["usage"]
    report = import_source(engine, entity, CsvSource(path, entity, batch_rows=2), {"A1"})
    assert [str(p) for p in report.problems] == [
        "usage.csv:6: account_id: unknown account 'A9'",
        "usage.csv:6: timestamp: not an ISO-8601 date or datetime: 'soon'",
        "usage.csv:6: event: missing required value",
        "usage.csv:6: quantity: not a number: 'x'",
    ]
    # The batches before the bad one were written, then rolled back with the file.
    assert (report.read, report.rejected, report.committed) == (7, 1, False)
    assert dump_tables(engine)["usage"] == []


def test_a_bad_file_does_not_stop_the_others(engine, tmp_path):
    write_examples(tmp_path, "csv")
    write_rows_csv(tmp_path / "tickets.csv", [{**EXAMPLE_ROWS["tickets"], "priority": "p1"}])
    report = import_directory(engine, tmp_path)
    committed = {f.entity: f.committed for f in report.files}
    assert committed.pop("tickets") is False
    assert all(committed.values())
    assert dump_tables(engine)["tickets"] == []


def test_fast_path_agrees_with_the_row_by_row_definition():
    """The column-at-a-time path returns what `value()` returns, or refuses the batch."""
    samples = {
        "datetime": [
            "2025-01-01T00:00:07Z",
            "2025-01-01",
            "2025-01-01T10:00:00+02:00",
            "2025-01-01 10:00:00.5",
            "2025-01-01T10:00:00.123456-05:30",
            "20250101T101010Z",
            "2025-06-30 23:59:59",
            "2024-02-29",
            "2025-02-29",
            "",
            "x",
        ],
        "number": ["1", "2.5", "-3e2", "1_000", "", "inf", "abc"],
        "text": ["A1", "", "A2", "zzz"],
    }
    columns = {
        "datetime": ENTITIES["usage"].columns[2],
        "number": ENTITIES["usage"].columns[4],
        "text": ENTITIES["usage"].columns[0],
    }
    for kind, values in samples.items():
        converter = ColumnConverter(columns[kind], {"A1", "A2"})
        for size in (1, 2, 3):
            for start in range(len(values)):
                chunk = tuple(values[start : start + size])
                try:
                    expected = [converter.value(v) for v in chunk]
                except Invalid:
                    with pytest.raises((Invalid, ValueError)):
                        converter.values(chunk)
                    continue
                assert converter.values(chunk) == expected, chunk


# -- idempotency, incremental imports, keys --------------------------------------------


def test_reimport_leaves_the_database_as_after_once(engine, tmp_path):
    write_examples(tmp_path, "csv")
    write_csv(
        tmp_path / "usage.csv",
        USAGE_HEADER,
        [["A1", "", f"2026-01-{d:02d}T08:00:00Z", "login", "1"] for d in range(1, 21)],
    )
    first = import_directory(engine, tmp_path)
    once = dump_tables(engine)
    second = import_directory(engine, tmp_path)
    assert dump_tables(engine) == once
    assert [f.inserted for f in first.files] == [f.read for f in first.files]
    assert [(f.inserted, f.updated) for f in second.files] == [(0, f.read) for f in second.files]


def test_reimport_replaces_changed_rows(engine, tmp_path):
    accounts_dir(tmp_path)
    write_csv(tmp_path / "usage.csv", USAGE_HEADER, [["A1", "", "2026-01-01", "login", "1"]])
    import_directory(engine, tmp_path)
    write_csv(
        tmp_path / "usage.csv",
        USAGE_HEADER,
        [["A1", "", "2026-01-01T00:00:00+00:00", "login", "5"], ["A1", "", "2026-01-02", "x", ""]],
    )
    report = import_directory(engine, tmp_path)
    usage = report.files[-1]
    assert (usage.inserted, usage.updated) == (1, 1)
    with Session(engine) as session:
        rows = session.exec(select(UsageEvent).order_by(UsageEvent.timestamp)).all()
    assert [(r.timestamp, r.event, r.quantity) for r in rows] == [
        (dt.datetime(2026, 1, 1), "login", 5.0),
        (dt.datetime(2026, 1, 2), "x", 1.0),
    ]


def test_a_key_repeated_in_one_file_keeps_the_last_row(engine, tmp_path):
    accounts_dir(tmp_path)
    write_csv(
        tmp_path / "usage.csv",
        USAGE_HEADER,
        [["A1", "", "2026-01-01", "login", "1"], ["A1", "", "2026-01-01", "login", "3"]],
    )
    usage = import_directory(engine, tmp_path).files[-1]
    assert (usage.read, usage.inserted, usage.updated) == (2, 1, 1)
    with Session(engine) as session:
        assert session.exec(select(UsageEvent.quantity)).all() == [3.0]


def test_incremental_daily_files(engine, tmp_path):
    base = tmp_path / "day1"
    write_examples(base, "csv")
    write_csv(base / "usage.csv", USAGE_HEADER, [["A1", "", "2026-01-01", "login", "1"]] * 1)
    import_directory(engine, base)
    day2 = tmp_path / "day2"  # only new usage rows: no accounts file needed any more
    write_csv(
        day2 / "usage.csv",
        USAGE_HEADER,
        [["A1", "C1", f"2026-01-02T{h:02d}:00:00Z", "login", "1"] for h in range(24)],
    )
    report = import_directory(engine, day2)
    assert report.ok, problems_of(report)
    assert [(f.entity, f.read, f.inserted, f.updated) for f in report.files] == [
        ("usage", 24, 24, 0)
    ]
    assert len(dump_tables(engine)["usage"]) == 25
    assert len(dump_tables(engine)["accounts"]) == 1


def test_accounts_import_first_and_count_for_references(engine, tmp_path):
    write_jsonl(
        tmp_path / "usage.jsonl",
        [{"account_id": "N1", "timestamp": "2026-01-01", "event": "login"}],
    )
    write_rows_csv(tmp_path / "accounts.csv", [{"account_id": "N1", "name": "New"}])
    report = import_directory(engine, tmp_path)
    assert report.ok, problems_of(report)
    assert [f.file for f in report.files] == ["accounts.csv", "usage.jsonl"]


def test_the_first_import_needs_accounts(engine, tmp_path):
    write_csv(tmp_path / "usage.csv", USAGE_HEADER, [["A1", "", "2026-01-01", "login", "1"]])
    (tmp_path / "notes.csv").write_text("a\n")
    report = import_directory(engine, tmp_path)
    assert problems_of(report) == [
        "accounts.csv:0: row: required file missing (accounts.csv or accounts.jsonl)",
        "usage.csv:2: account_id: unknown account 'A1'",
    ]
    assert report.warnings == ["notes.csv: not a contract file, ignored"]


def test_not_a_directory(engine, tmp_path):
    with pytest.raises(NotADirectoryError):
        import_directory(engine, tmp_path / "missing")


# -- skip-invalid and rejects ------------------------------------------------------------


def test_skip_invalid_commits_good_rows_and_writes_rejects(engine, tmp_path):
    accounts_dir(tmp_path)
    write_csv(
        tmp_path / "usage.csv",
        USAGE_HEADER,
        [
            ["A1", "", "2026-01-01", "login", "1"],
            ["A404", "", "2026-01-01", "login", "1"],
            ["A1", "", "2026-01-02", "login", "many"],
            ["A1", "", "2026-01-03", "login", "2"],
        ],
    )
    (tmp_path / "lifecycle.jsonl").write_text(
        '{"account_id": "A1", "occurred_at": "2026-01-01", "kind": "renewed"}\n'
        '{"account_id": "A1", "occurred_at": "2026-01-01", "kind": "won"}\n'
    )
    report = import_directory(engine, tmp_path, skip_invalid=True)
    usage = next(f for f in report.files if f.entity == "usage")
    assert (usage.read, usage.inserted, usage.rejected, usage.committed) == (4, 2, 2, True)
    assert len(dump_tables(engine)["usage"]) == 2
    with open(tmp_path / "rejects" / "usage.rejects.csv", newline="") as handle:
        assert list(csv.reader(handle)) == [
            ["line", "problems", *USAGE_HEADER],
            ["3", "account_id: unknown account 'A404'", "A404", "", "2026-01-01", "login", "1"],
            ["4", "quantity: not a number: 'many'", "A1", "", "2026-01-02", "login", "many"],
        ]
    lifecycle_rejects = (tmp_path / "rejects" / "lifecycle.rejects.jsonl").read_text().splitlines()
    assert [json.loads(line) for line in lifecycle_rejects] == [
        {
            "line": 2,
            "problems": [
                "kind: unknown value 'won' (expected one of: churned, renewed, expanded, "
                "contracted, milestone)"
            ],
            "record": '{"account_id": "A1", "occurred_at": "2026-01-01", "kind": "won"}',
        }
    ]
    assert usage.rejects_path == tmp_path / "rejects" / "usage.rejects.csv"


def test_rejects_directory_can_be_chosen(engine, tmp_path):
    accounts_dir(tmp_path / "in")
    write_csv(tmp_path / "in" / "usage.csv", USAGE_HEADER, [["A1", "", "bad", "login", "1"]])
    report = import_directory(
        engine, tmp_path / "in", skip_invalid=True, rejects_dir=tmp_path / "out"
    )
    assert report.files[-1].rejects_path == tmp_path / "out" / "usage.rejects.csv"
    assert not (tmp_path / "in" / "rejects").exists()


# -- import_rows (HTTP, connectors) ------------------------------------------------------


def test_import_rows_raises_with_problems(engine, tmp_path):
    import_directory(engine, accounts_dir(tmp_path))
    lines = [
        json.dumps({"account_id": "A1", "timestamp": "2026-01-01", "event": "login"}),
        json.dumps({"account_id": "A1", "timestamp": "never", "event": "login"}),
    ]
    with pytest.raises(ContractViolation) as raised:
        import_rows(engine, "usage", lines)
    assert [str(p) for p in raised.value.problems] == [
        "usage.jsonl:2: timestamp: not an ISO-8601 date or datetime: 'never'"
    ]
    assert dump_tables(engine)["usage"] == []
    report = import_rows(engine, "usage", lines, skip_invalid=True)
    assert (report.read, report.inserted, report.rejected) == (2, 1, 1)
    with pytest.raises(KeyError):
        import_rows(engine, "bananas", lines)


# -- reading details ---------------------------------------------------------------------


def test_bom_crlf_and_quoted_newlines(engine, tmp_path):
    accounts_dir(tmp_path)
    (tmp_path / "tickets.csv").write_bytes(
        "\ufeffticket_id,account_id,opened_at,body\r\n"
        'T1,A1,2026-01-01,"two\r\nlines"\r\n'
        "T2,A1,2026-01-02,plain\r\n".encode()
    )
    report = import_directory(engine, tmp_path)
    assert report.ok, problems_of(report)
    with Session(engine) as session:
        assert session.get(Ticket, "T1").body == "two\r\nlines"
        assert session.get(Ticket, "T2").body == "plain"


def test_a_bad_line_after_a_multiline_record_is_numbered_right(engine, tmp_path):
    accounts_dir(tmp_path)
    (tmp_path / "tickets.csv").write_text(
        'ticket_id,account_id,opened_at,body\nT1,A1,2026-01-01,"a\nb\nc"\nT2,A1,never,x\n'
    )
    report = import_directory(engine, tmp_path)
    assert problems_of(report) == [
        "tickets.csv:5: opened_at: not an ISO-8601 date or datetime: 'never'"
    ]


def test_bytes_that_are_not_utf8(engine, tmp_path):
    accounts_dir(tmp_path)
    (tmp_path / "usage.csv").write_bytes(
        b"account_id,timestamp,event\nA1,2026-01-01,login\nA1,2026-01-02,caf\xe9\n"
    )
    report = import_directory(engine, tmp_path, skip_invalid=True)
    assert problems_of(report) == [
        "usage.csv:3: row: not valid UTF-8 (invalid continuation byte)"
        " (declare another in the mapping's formats.encoding); the rest of the file is unread"
    ]
    assert report.files[-1].committed is False  # even with skip_invalid: the file is unread
    assert dump_tables(engine)["usage"] == []


def test_progress_follows_bytes(engine, tmp_path):
    write_examples(tmp_path, "csv")
    seen: list[tuple[float, float]] = []
    files: list[str] = []
    import_directory(
        engine,
        tmp_path,
        progress=lambda done, total: seen.append((done, total)),
        file_progress=lambda update: files.append(update.file) if update.done else None,
    )
    total = sum(p.stat().st_size for p in tmp_path.glob("*.csv"))
    assert seen[0] == (0.0, total) and seen[-1] == (total, total)
    assert [done for done, _ in seen] == sorted(done for done, _ in seen)
    assert files == [f"{name}.csv" for name in ENTITIES]
