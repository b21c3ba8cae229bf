"""The mapping file: validation with file:line errors, and what it changes in a file import
(value maps, non-ISO dates, thousands separators, currencies, cp1252) — plus the file
names, owners and emails rules every import follows."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from storage.ingest import import_directory
from storage.ingest.mapping import MappingError, load_mapping, parse_mapping
from tests.test_ingest_support import write_rows_csv


def problems(text_: str) -> list[str]:
    with pytest.raises(MappingError) as raised:
        parse_mapping(text_, "mapping.yml")
    return raised.value.problems


def test_errors_name_the_line():
    assert problems(
        "reporting_currency: USD\n"
        "rates:\n"
        "  EUR: 1.1\n"
        "  GBP: -2\n"
        "values:\n"
        "  accounts.segment:\n"
        "    Enterprise: enterprise\n"
        "    Big: huge\n"
        "  accounts.colour: {Red: red}\n"
        "owners:\n"
        "  field: csm_owner\n"
        "  emails: {'41': not-an-email}\n"
        "formats: {date: 'dd/mm/yyyy', thousands: ',,'}\n"
        "colour: blue\n"
    ) == [
        "mapping.yml:4: rates.GBP: a rate must be positive (got -2.0)",
        "mapping.yml:12: owners.emails.41: not an email address: 'not-an-email'",
        "mapping.yml:13: formats.date: not a strftime format (e.g. %d/%m/%Y): 'dd/mm/yyyy'",
        "mapping.yml:13: formats.thousands: a separator is one non-alphanumeric character (got ',,')",
        "mapping.yml:14: colour: unknown key 'colour'",
    ]
    assert problems(
        "values:\n  accounts.segment:\n    Big: huge\n  accounts.colour: {Red: red}\n"
    ) == [
        "mapping.yml:3: values.accounts.segment.Big: 'Big' maps to 'huge', not one of: enterprise, mid_market, smb",
        "mapping.yml:4: values.accounts.colour: not a value list: 'accounts.colour' (expected one of: "
        "accounts.segment, contacts.role, tickets.priority, surveys.kind, touchpoints.kind, "
        "touchpoints.status, lifecycle.kind, satisfaction)",
    ]


def test_nested_errors_point_at_their_own_line():
    assert problems(
        "rates:\n"
        "  EUR: 1.1\n"
        "  euro: 1.3\n"
        "owners:\n"
        "  emails:\n"
        "    '41': ok@example.com\n"
        "    '42': nope\n"
        "values:\n"
        "  surveys.kind:\n"
        "    a: nps\n"
        "    b: [1]\n"
        "hubspot:\n"
        "  won_stages:\n"
        "    - closedwon\n"
        "    - {stage: 1}\n"
    ) == [
        "mapping.yml:3: rates.euro: not an ISO 4217 currency code: 'euro'",
        "mapping.yml:7: owners.emails.42: not an email address: 'nope'",
        "mapping.yml:11: values.surveys.kind.b: Input should be a valid string; "
        "Input should be a valid integer",
        "mapping.yml:15: hubspot.won_stages.1: Input should be a valid string",
    ]


def test_yaml_syntax_and_unreadable_files(tmp_path):
    assert problems("values:\n  - a\n b: c\n") == [
        "mapping.yml:3: not valid YAML: expected <block end>, but found '<block mapping start>'"
    ]
    with pytest.raises(MappingError) as raised:
        load_mapping(tmp_path / "missing.yml")
    assert raised.value.problems == [
        f"{tmp_path / 'missing.yml'}:0: cannot read the mapping file: No such file or directory"
    ]


def test_satisfaction_and_currency_helpers():
    mapping = parse_mapping("values:\n  satisfaction: {good: 4, Meh: 3}\nrates: {eur: 1.1}\n")
    assert [mapping.satisfaction(v) for v in ("GOOD", "bad", "meh", "5", "offered", None)] == [
        4,
        1,
        3,
        5,
        None,
        None,
    ]
    assert mapping.to_reporting(100.0, "EUR") == pytest.approx(110.0)
    assert mapping.to_reporting(100.0, "usd") == 100.0
    with pytest.raises(KeyError):
        mapping.to_reporting(1.0, "GBP")


def test_a_mapped_export_imports(engine, tmp_path):
    (tmp_path / "mapping.yml").write_text(
        "rates: {EUR: 1.1}\n"
        "values:\n  accounts.segment: {Large Enterprise: enterprise}\n  contacts.role: {Economic Buyer: decision_maker}\n"
        "formats: {date: '%d/%m/%Y', datetime: '%d/%m/%Y %H:%M', thousands: '.', decimal: ',', encoding: cp1252}\n"
    )
    (tmp_path / "accounts.csv").write_bytes(
        "account_id,name,segment,owner\n"
        "A1,  Café Müller  ,Large Enterprise,Ana.Silva@Example.com\n"
        "A2,Globex,MID_MARKET,\n".encode("cp1252")
    )
    (tmp_path / "contacts.csv").write_bytes(
        b"contact_id,account_id,email,role,left_at\nC1,A1,Jane@Acme.COM,economic buyer,31/01/2026 17:30\n"
    )
    (tmp_path / "contracts.csv").write_bytes(
        b"contract_id,account_id,start_date,end_date,arr,currency\n"
        b'K1,A1,01/02/2026,31/01/2027,"12.000,50",EUR\n'
        b"K2,A2,2026-01-01,2026-12-31,1000,usd\n"
    )
    mapping = load_mapping(tmp_path / "mapping.yml")
    report = import_directory(engine, tmp_path, mapping=mapping)
    assert report.ok, [str(p) for p in report.all_problems()]
    with engine.connect() as connection:
        accounts = connection.execute(
            text("SELECT account_id, name, segment, owner FROM accounts ORDER BY 1")
        ).all()
        contacts = connection.execute(text("SELECT email, role, left_at FROM contacts")).all()
        contracts = connection.execute(
            text("SELECT contract_id, start_date, arr FROM contracts ORDER BY 1")
        ).all()
    assert [tuple(a) for a in accounts] == [
        ("A1", "Café Müller", "enterprise", "ana.silva@example.com"),
        ("A2", "Globex", "mid_market", None),
    ]
    assert [(c[0], c[1], str(c[2])[:16]) for c in contacts] == [
        ("jane@acme.com", "decision_maker", "2026-01-31 17:30")
    ]
    assert [(c[0], str(c[1]), round(c[2], 2)) for c in contracts] == [
        ("K1", "2026-02-01", 13200.55),
        ("K2", "2026-01-01", 1000.0),
    ]


def test_a_currency_without_a_rate_and_an_owner_that_is_not_an_email(engine, tmp_path):
    write_rows_csv(
        tmp_path / "accounts.csv", [{"account_id": "A1", "name": "Acme", "owner": "Ana Silva"}]
    )
    write_rows_csv(
        tmp_path / "contracts.csv",
        [
            {
                "contract_id": "K1",
                "account_id": "A1",
                "start_date": "2026-01-01",
                "end_date": "2026-12-31",
                "arr": "5",
                "currency": "GBP",
            }
        ],
    )
    report = import_directory(engine, tmp_path)
    assert [str(p) for p in report.all_problems()] == [
        "accounts.csv:2: owner: not an email address: 'Ana Silva' (owners are matched to Slack users by email)",
        "contracts.csv:2: account_id: unknown account 'A1'",
    ]
    assert (
        "accounts.csv: refused whole: 1 row not imported because of 1 bad row"
        " (--skip-invalid imports the good ones)" in report.all_warnings()
    )
    write_rows_csv(
        tmp_path / "accounts.csv",
        [{"account_id": "A1", "name": "Acme", "owner": "ana@example.com"}],
    )
    again = import_directory(engine, tmp_path)
    assert [str(p) for p in again.all_problems()] == [
        "contracts.csv:2: currency: no rate for GBP: add it to `rates` in the mapping file (USD per 1 GBP)",
    ]


def test_every_skipped_file_is_named(engine, tmp_path):
    write_rows_csv(tmp_path / "accounts.csv", [{"account_id": "A1", "name": "Acme"}])
    for name in (
        "contracts.CSV",
        "contacts.txt",
        "usage.csv.bak",
        "notes.csv",
        "README.md",
        ".hidden.csv",
    ):
        (tmp_path / name).write_text("x\n")
    report = import_directory(engine, tmp_path)
    assert report.warnings == [
        "contacts.txt: not imported: only .csv and .jsonl are read (rename it contacts.csv or contacts.jsonl)",
        "contracts.CSV: not imported: file names are lower case (contracts.csv)",
        "notes.csv: not a contract file, ignored",
        "usage.csv.bak: not imported: only .csv and .jsonl are read (rename it usage.csv or usage.jsonl)",
    ]


def test_a_directory_carries_its_own_mapping(engine, tmp_path):
    (tmp_path / "mapping.yml").write_text(
        "values:\n  accounts.segment: {Big: enterprise}\nformats:\n  colour: red\n"
    )
    write_rows_csv(
        tmp_path / "accounts.csv", [{"account_id": "A1", "name": "Acme", "segment": "Big"}]
    )
    report = import_directory(engine, tmp_path)
    assert [str(p) for p in report.all_problems()] == [
        "mapping.yml:4: mapping: formats.colour: unknown key 'colour'"
    ]
    (tmp_path / "mapping.yml").write_text("values:\n  accounts.segment: {Big: enterprise}\n")
    assert import_directory(engine, tmp_path).ok
