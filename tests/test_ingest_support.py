"""Shared helpers for the ingest tests: one example row per contract file, writers for
CSV and JSON Lines directories, and a table dump for comparing database states."""

from __future__ import annotations

import csv
import json
from collections.abc import Mapping, Sequence
from pathlib import Path

from sqlalchemy import Engine, text

from storage.ingest.contract import ENTITIES

EXAMPLE_ROWS: dict[str, dict[str, str]] = {
    "accounts": {
        "account_id": "A1",
        "name": "Acme Corp",
        "segment": "enterprise",
        "industry": "Software",
        "owner": "jo@example.com",
        "created_at": "2023-04-01",
        "plan": "scale",
    },
    "contracts": {
        "contract_id": "K1",
        "account_id": "A1",
        "start_date": "2025-07-01",
        "end_date": "2026-06-30",
        "arr": "120000",
        "seats": "250",
        "plan": "scale",
    },
    "contacts": {
        "contact_id": "C1",
        "account_id": "A1",
        "name": "Dana Reyes",
        "email": "dana@acme.example",
        "role": "champion",
        "left_at": "",
    },
    "usage": {
        "account_id": "A1",
        "contact_id": "C1",
        "timestamp": "2026-05-31T14:03:00Z",
        "event": "login",
        "quantity": "1",
    },
    "tickets": {
        "ticket_id": "T1",
        "account_id": "A1",
        "contact_id": "C1",
        "opened_at": "2026-05-20T09:15:00Z",
        "closed_at": "2026-05-21T16:40:00+02:00",
        "priority": "high",
        "subject": "Export fails",
        "body": 'CSV export times out on "large" reports,\nsince Monday',
        "csat": "4",
    },
    "surveys": {
        "response_id": "R1",
        "account_id": "A1",
        "contact_id": "C1",
        "submitted_at": "2026-05-15T10:00:00Z",
        "kind": "nps",
        "score": "9",
        "comment": "Great support",
    },
    "touchpoints": {
        "touchpoint_id": "P1",
        "account_id": "A1",
        "contact_id": "C1",
        "occurred_at": "2026-05-28T15:00:00Z",
        "kind": "meeting",
        "status": "held",
    },
    "invoices": {
        "invoice_id": "I1",
        "account_id": "A1",
        "issued_at": "2025-07-01",
        "due_at": "2025-07-31",
        "paid_at": "2025-07-20T11:00:00",
        "amount": "120000",
    },
    "lifecycle": {
        "account_id": "A1",
        "occurred_at": "2025-07-01",
        "kind": "renewed",
        "arr_change": "20000",
        "detail": "Renewed with 50 more seats",
    },
}


def write_csv(path: Path, header: Sequence[str], rows: Sequence[Sequence[object]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def write_rows_csv(path: Path, rows: Sequence[Mapping[str, object]]) -> Path:
    header = list(dict.fromkeys(key for row in rows for key in row))
    return write_csv(path, header, [[row.get(c, "") for c in header] for row in rows])


def write_jsonl(path: Path, rows: Sequence[Mapping[str, object]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row) + "\n")
    return path


def write_examples(directory: Path, fmt: str) -> Path:
    """Every contract file with its example row, as CSV or JSON Lines."""
    for name, row in EXAMPLE_ROWS.items():
        if fmt == "csv":
            write_rows_csv(directory / f"{name}.csv", [row])
        else:
            values = {k: (None if v == "" else v) for k, v in row.items()}
            write_jsonl(directory / f"{name}.jsonl", [values])
    return directory


def dump_tables(engine: Engine) -> dict[str, list[tuple[object, ...]]]:
    """Every contract table's rows, sorted: equal dumps = equal database contents."""
    out: dict[str, list[tuple[object, ...]]] = {}
    with engine.connect() as connection:
        for entity in ENTITIES.values():
            rows = connection.execute(text(f'SELECT * FROM "{entity.table_name}"')).all()
            out[entity.name] = sorted((tuple(row) for row in rows), key=repr)
    return out
