"""The demo portfolio: deterministic, in the contract, consistent, and telling a story.

One small portfolio (80 accounts over 12 months) is generated once per module and read
back from its CSV files, as the importer would see them.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
from collections import defaultdict
from pathlib import Path

import pytest

from storage.demo import CONTRACT_COLUMNS, generate_portfolio
from storage.demo.__main__ import main
from storage.models.contract import (
    CONTACT_ROLES,
    LIFECYCLE_KINDS,
    SEGMENTS,
    SURVEY_KINDS,
    TICKET_PRIORITIES,
    TOUCHPOINT_KINDS,
    TOUCHPOINT_STATUSES,
)

END = dt.date(2026, 11, 20)
ACCOUNTS = 80
MONTHS = 12
START = END - dt.timedelta(days=round(MONTHS * 30.44))

# The import contract's columns, in its order (issue 3), written out independently.
CONTRACT = {
    "accounts": "account_id name segment industry owner created_at plan",
    "contracts": "contract_id account_id start_date end_date arr seats plan",
    "contacts": "contact_id account_id name email role left_at",
    "usage": "account_id contact_id timestamp event quantity",
    "tickets": "ticket_id account_id contact_id opened_at closed_at priority subject body csat",
    "surveys": "response_id account_id contact_id submitted_at kind score comment",
    "touchpoints": "touchpoint_id account_id contact_id occurred_at kind status",
    "invoices": "invoice_id account_id issued_at due_at paid_at amount",
    "lifecycle": "account_id occurred_at kind arr_change detail",
}


@pytest.fixture(scope="module")
def portfolio(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo")
    generate_portfolio(out, seed=3, accounts=ACCOUNTS, end=END, months=MONTHS)
    return out


def read(directory: Path, name: str) -> list[dict[str, str]]:
    with (directory / f"{name}.csv").open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def day(text: str) -> dt.date:
    return dt.date.fromisoformat(text[:10])


def digest(directory: Path) -> dict[str, str]:
    return {
        path.name: hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(directory.glob("*.csv"))
    }


def test_same_seed_gives_byte_identical_files(tmp_path: Path) -> None:
    generate_portfolio(tmp_path / "a", seed=5, accounts=30, end=END, months=6)
    generate_portfolio(tmp_path / "b", seed=5, accounts=30, end=END, months=6)
    generate_portfolio(tmp_path / "c", seed=6, accounts=30, end=END, months=6)
    assert digest(tmp_path / "a") == digest(tmp_path / "b")
    assert len(digest(tmp_path / "a")) == 9
    assert digest(tmp_path / "a")["usage.csv"] != digest(tmp_path / "c")["usage.csv"]


def test_every_file_has_the_contract_header(portfolio: Path) -> None:
    for name, columns in CONTRACT.items():
        with (portfolio / f"{name}.csv").open(encoding="utf-8") as handle:
            header = next(csv.reader(handle))
        assert header == columns.split(), name
        assert tuple(header) == CONTRACT_COLUMNS[name]


def test_header_matches_the_importers_contract_when_present(portfolio: Path) -> None:
    contract = pytest.importorskip("storage.ingest.contract")
    for name, columns in CONTRACT_COLUMNS.items():
        assert contract.ENTITIES[name].column_names == columns


def test_summary_counts_the_rows_written(tmp_path: Path) -> None:
    calls: list[tuple[float, float]] = []
    summary = generate_portfolio(
        tmp_path, seed=1, accounts=20, end=END, months=6, progress=lambda d, t: calls.append((d, t))
    )
    for name in CONTRACT_COLUMNS:
        assert summary.rows[name] == len(read(tmp_path, name)), name
    assert summary.accounts == 20 and sum(summary.segments.values()) == 20
    assert calls[-1] == (20, 20)
    assert summary.start == END - dt.timedelta(days=183) and summary.end == END
    assert "20 accounts" in str(summary)


def test_values_are_in_the_contracts_domains(portfolio: Path) -> None:
    accounts = read(portfolio, "accounts")
    assert {a["segment"] for a in accounts} <= set(SEGMENTS)
    assert len({a["name"] for a in accounts}) == len(accounts)
    owners = {a["owner"] for a in accounts}
    assert 2 <= len(owners) <= 6 and all(o.endswith("@example.com") for o in owners)
    assert {c["role"] for c in read(portfolio, "contacts")} == set(CONTACT_ROLES)
    tickets = read(portfolio, "tickets")
    assert {t["priority"] for t in tickets} == set(TICKET_PRIORITIES)
    assert all(t["csat"] == "" or 1 <= int(t["csat"]) <= 5 for t in tickets)
    assert all(t["subject"] and t["body"] for t in tickets)
    surveys = read(portfolio, "surveys")
    assert {s["kind"] for s in surveys} <= set(SURVEY_KINDS)
    assert all(0 <= float(s["score"]) <= 10 for s in surveys if s["kind"] == "nps")
    touchpoints = read(portfolio, "touchpoints")
    assert {t["kind"] for t in touchpoints} == set(TOUCHPOINT_KINDS)
    assert {t["status"] for t in touchpoints} == set(TOUCHPOINT_STATUSES)
    assert {r["kind"] for r in read(portfolio, "lifecycle")} == set(LIFECYCLE_KINDS)
    for row in read(portfolio, "contracts"):
        assert row["start_date"] <= row["end_date"]
        assert float(row["arr"]) > 0 and int(row["seats"]) > 0


def test_arr_ranges_follow_the_segment(portfolio: Path) -> None:
    segment = {a["account_id"]: a["segment"] for a in read(portfolio, "accounts")}
    first_arr: dict[str, float] = {}
    for row in sorted(read(portfolio, "contracts"), key=lambda r: r["start_date"]):
        first_arr.setdefault(row["account_id"], float(row["arr"]))
    bounds = {
        "enterprise": (80_000, 400_000),
        "mid_market": (20_000, 80_000),
        "smb": (3_000, 20_000),
    }
    for account, arr in first_arr.items():
        low, high = bounds[segment[account]]
        assert low <= arr <= high, (account, arr)


def test_references_resolve(portfolio: Path) -> None:
    accounts = {a["account_id"] for a in read(portfolio, "accounts")}
    contact_account = {c["contact_id"]: c["account_id"] for c in read(portfolio, "contacts")}
    assert set(contact_account.values()) <= accounts
    for name in CONTRACT_COLUMNS:
        rows = read(portfolio, name)
        assert {r["account_id"] for r in rows} <= accounts, name
        if "contact_id" in CONTRACT_COLUMNS[name] and name != "contacts":
            for row in rows:
                if row["contact_id"]:
                    assert contact_account[row["contact_id"]] == row["account_id"], (name, row)


def test_natural_keys_are_unique(portfolio: Path) -> None:
    usage = read(portfolio, "usage")
    keys = {(u["account_id"], u["contact_id"], u["timestamp"], u["event"]) for u in usage}
    assert len(keys) == len(usage)
    lifecycle = read(portfolio, "lifecycle")
    keys = {(r["account_id"], r["occurred_at"], r["kind"], r["detail"]) for r in lifecycle}
    assert len(keys) == len(lifecycle)
    for name, key in (
        ("tickets", "ticket_id"),
        ("touchpoints", "touchpoint_id"),
        ("invoices", "invoice_id"),
    ):
        rows = read(portfolio, name)
        assert len({r[key] for r in rows}) == len(rows), name


def test_usage_and_activity_only_while_a_customer(portfolio: Path) -> None:
    created = {a["account_id"]: a["created_at"][:10] for a in read(portfolio, "accounts")}
    churned = {
        r["account_id"]: r["occurred_at"][:10]
        for r in read(portfolio, "lifecycle")
        if r["kind"] == "churned"
    }
    assert churned, "a 12-month portfolio of 80 accounts has churners"
    last_usage: dict[str, str] = {}
    for row in read(portfolio, "usage"):
        assert row["timestamp"][:10] >= created[row["account_id"]]
        assert row["timestamp"][:10] <= END.isoformat()
        last_usage[row["account_id"]] = max(last_usage.get(row["account_id"], ""), row["timestamp"])
    for account, when in churned.items():
        assert last_usage.get(account, "") < when, account
    for row in read(portfolio, "tickets"):
        assert row["opened_at"][:10] < churned.get(row["account_id"], "9999")
    contracts = defaultdict(list)
    for row in read(portfolio, "contracts"):
        contracts[row["account_id"]].append(row)
    at_contract_end = 0
    for account, when in churned.items():
        assert all(c["start_date"] <= when for c in contracts[account]), "no renewal after churn"
        at_contract_end += any(c["end_date"] == when for c in contracts[account])
    assert at_contract_end >= 0.75 * len(churned), "churn happens mostly at a contract end"


def _logins(portfolio: Path) -> dict[str, dict[dt.date, int]]:
    logins: dict[str, dict[dt.date, int]] = defaultdict(lambda: defaultdict(int))
    for row in read(portfolio, "usage"):
        if row["event"] == "login":
            logins[row["account_id"]][day(row["timestamp"])] += 1
    return logins


def _change(per_day: dict[dt.date, int], until: dt.date) -> float | None:
    """Logins in the 30 days before `until` against the 90 days before those, per 30 days."""
    recent = sum(n for d, n in per_day.items() if until - dt.timedelta(days=30) <= d < until)
    earlier = sum(
        n
        for d, n in per_day.items()
        if until - dt.timedelta(days=120) <= d < until - dt.timedelta(days=30)
    )
    return recent / (earlier / 3) - 1 if earlier else None


def test_churners_logins_decline_before_churn(portfolio: Path) -> None:
    churned = {
        r["account_id"]: day(r["occurred_at"])
        for r in read(portfolio, "lifecycle")
        if r["kind"] == "churned"
    }
    logins = _logins(portfolio)
    # Only churners with the 120 days of history the comparison needs.
    churners = [
        _change(logins[a], when) for a, when in churned.items() if (when - START).days >= 120
    ]
    others = [_change(logins[a], END) for a in logins if a not in churned]
    churners = [c for c in churners if c is not None]
    others = [c for c in others if c is not None]
    assert len(churners) >= 5 and len(others) >= 30
    mean_churner = sum(churners) / len(churners)
    mean_other = sum(others) / len(others)
    assert mean_churner < -0.25, mean_churner
    assert mean_churner < mean_other - 0.25, (mean_churner, mean_other)
    # No leak: churners still use the product in the last weeks, usage does not just stop.
    last_login = {a: max(logins[a], default=None) for a in churned}
    gaps = sorted((churned[a] - d).days for a, d in last_login.items() if d is not None)
    assert gaps[len(gaps) // 2] <= 21, gaps


def test_expansions_follow_seat_saturation(portfolio: Path) -> None:
    seats_on: dict[str, list[tuple[str, str, int]]] = defaultdict(list)
    for row in read(portfolio, "contracts"):
        seats_on[row["account_id"]].append((row["start_date"], row["end_date"], int(row["seats"])))
    expansions = [
        (r["account_id"], day(r["occurred_at"]))
        for r in read(portfolio, "lifecycle")
        if r["kind"] == "expanded"
    ]
    assert expansions
    users: dict[str, set[tuple[dt.date, str]]] = defaultdict(set)
    for row in read(portfolio, "usage"):
        if row["contact_id"]:
            users[row["account_id"]].add((day(row["timestamp"]), row["contact_id"]))
    for account, when in expansions:
        before = (when - dt.timedelta(days=1)).isoformat()
        seats = [s for start, end, s in seats_on[account] if start <= before <= end]
        active = {c for d, c in users[account] if when - dt.timedelta(days=30) <= d < when}
        assert len(active) / seats[0] >= 0.85, (account, when, len(active), seats[0])
        after = [s for start, end, s in seats_on[account] if start == when.isoformat()]
        assert after and after[0] > seats[0], "an expansion is a new contract with more seats"


def test_troubled_tickets_read_angrier(portfolio: Path) -> None:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    churned = {
        r["account_id"]: day(r["occurred_at"])
        for r in read(portfolio, "lifecycle")
        if r["kind"] == "churned"
    }
    analyzer = SentimentIntensityAnalyzer()
    late, other = [], []
    for row in read(portfolio, "tickets"):
        score = analyzer.polarity_scores(row["body"])["compound"]
        when = churned.get(row["account_id"])
        if when is not None and (when - day(row["opened_at"])).days <= 60:
            late.append(score)
        elif when is None:
            other.append(score)
    assert late and other
    assert sum(late) / len(late) < sum(other) / len(other) - 0.3


def test_command_line_prints_the_summary(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([str(tmp_path), "--accounts", "12", "--seed", "2", "--months", "4"]) == 0
    out = capsys.readouterr().out
    assert "12 accounts" in out and "usage" in out
    assert (tmp_path / "usage.csv").exists()
    with pytest.raises(SystemExit):
        main([str(tmp_path), "--accounts", "0"])
