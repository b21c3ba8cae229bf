"""Each demo scenario tells the story it names, read back from the files it writes."""

from __future__ import annotations

import csv
import datetime as dt
import statistics
from collections import Counter, defaultdict
from functools import cache
from pathlib import Path

import numpy as np
import pytest

from storage.demo import SCENARIOS, generate_portfolio
from storage.demo.calendar import Window
from storage.demo.plan import plan_account
from storage.demo.scenarios import resolve_scenario

END = dt.date(2026, 11, 20)


class Book:
    """A generated scenario book, its files parsed."""

    def __init__(self, directory: Path) -> None:
        self.dir = directory

        def read(name: str) -> list[dict[str, str]]:
            with (directory / f"{name}.csv").open(encoding="utf-8", newline="") as handle:
                return list(csv.DictReader(handle))

        self.rows = {
            name: read(name)
            for name in (
                "accounts",
                "contracts",
                "contacts",
                "usage",
                "tickets",
                "surveys",
                "invoices",
                "lifecycle",
            )
        }
        self.churns = {
            r["account_id"]: _day(r["occurred_at"])
            for r in self.rows["lifecycle"]
            if r["kind"] == "churned"
        }
        self.logins: dict[str, Counter[dt.date]] = defaultdict(Counter)
        for r in self.rows["usage"]:
            if r["event"] == "login":
                self.logins[r["account_id"]][_day(r["timestamp"])] += 1
        self.tickets: dict[str, list[dt.date]] = defaultdict(list)
        for r in self.rows["tickets"]:
            self.tickets[r["account_id"]].append(_day(r["opened_at"]))

    def login_sum(self, account: str, start: dt.date, end: dt.date) -> int:
        """Logins on days start … end − 1."""
        return sum(n for day, n in self.logins[account].items() if start <= day < end)

    def before(self, account: str, near: int, far: int) -> int:
        """Logins from `far` to `near` days before the account's churn."""
        churn = self.churns[account]
        return self.login_sum(
            account, churn - dt.timedelta(days=far), churn - dt.timedelta(days=near)
        )

    def tickets_before(self, account: str, near: int, far: int) -> int:
        churn = self.churns[account]
        lo, hi = churn - dt.timedelta(days=far), churn - dt.timedelta(days=near)
        return sum(lo <= day < hi for day in self.tickets[account])


def _day(text: str) -> dt.date:
    return dt.datetime.fromisoformat(text).date() if "T" in text else dt.date.fromisoformat(text)


@cache
def _book(scenario: str, tmp_root: str) -> Book:
    out = Path(tmp_root) / scenario
    generate_portfolio(
        out, seed=5, accounts=90, months=24, end=END, usage_density=0.3, scenario=scenario
    )
    return Book(out)


@pytest.fixture(scope="module")
def book(tmp_path_factory: pytest.TempPathFactory):
    root = str(tmp_path_factory.mktemp("scenarios"))
    return lambda name: _book(name, root)


def _churners(book: Book, history: int) -> list[str]:
    """Churned accounts with at least `history` days of data before the churn."""
    start = END - dt.timedelta(days=round(24 * 30.44))
    created = {r["account_id"]: _day(r["created_at"]) for r in book.rows["accounts"]}
    return [
        a for a, churn in book.churns.items() if (churn - max(start, created[a])).days >= history
    ]


def _ratio(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def test_every_scenario_has_a_name_and_a_story() -> None:
    assert len(SCENARIOS) == 12
    for name, scenario in SCENARIOS.items():
        assert scenario.name == name and scenario.story
    with pytest.raises(ValueError, match="unknown scenario 'nope'"):
        resolve_scenario("nope")


def test_sudden_drop_falls_off_a_cliff_without_early_warning(book) -> None:
    b = book("sudden_drop")
    accounts = _churners(b, 200)
    assert len(accounts) >= 8
    baseline = [b.before(a, 120, 180) / 2 + 1 for a in accounts]  # per 30 days
    early = _ratio([b.before(a, 60, 90) / base for a, base in zip(accounts, baseline, strict=True)])
    late = _ratio([b.before(a, 0, 30) / base for a, base in zip(accounts, baseline, strict=True)])
    assert early > 0.7, "a sudden drop gives no warning two months ahead"
    assert late < 0.35, "and usage is nearly gone in the last month"


def test_slow_fade_declines_for_months(book) -> None:
    b = book("slow_fade")
    accounts = _churners(b, 330)
    assert len(accounts) >= 5
    fade = _ratio([(b.before(a, 120, 150) + 1) / (b.before(a, 300, 330) + 1) for a in accounts])
    end = _ratio([(b.before(a, 0, 30) + 1) / (b.before(a, 300, 330) + 1) for a in accounts])
    assert fade < 0.85, "four to five months out usage is already falling"
    assert end < fade, "and it keeps falling until the churn"


def test_champion_leaves_before_usage_falls(book) -> None:
    b = book("champion_leaves")
    left = {
        r["account_id"]: _day(r["left_at"])
        for r in b.rows["contacts"]
        if r["role"] == "champion" and r["left_at"]
    }
    accounts = [a for a in _churners(b, 200) if a in left]
    assert len(accounts) >= 0.8 * len(_churners(b, 200)) >= 8
    before_leaving, after_leaving, at_end = [], [], []
    for a in accounts:
        gone = left[a]
        assert gone < b.churns[a]
        three_weeks = dt.timedelta(days=21)
        base = b.login_sum(a, gone - three_weeks, gone) + 1
        before_leaving.append(base)
        after_leaving.append((b.login_sum(a, gone, gone + three_weeks) + 1) / base)
        at_end.append((b.before(a, 0, 21) + 1) / base)
    assert _ratio(after_leaving) > 0.7, "usage holds for weeks after the champion leaves"
    assert _ratio(at_end) < 0.4, "then it falls"


def test_support_driven_churn_is_a_ticket_storm_with_usage_intact(book) -> None:
    b = book("support_driven")
    accounts = _churners(b, 240)
    assert len(accounts) >= 8
    storm = sum(b.tickets_before(a, 0, 60) for a in accounts) / sum(
        b.tickets_before(a, 180, 240) for a in accounts
    )
    usage = _ratio([(b.before(a, 0, 30) + 1) / (b.before(a, 180, 210) + 1) for a in accounts])
    assert storm > 2.0
    assert usage > 0.7
    urgent = Counter(r["priority"] for r in b.rows["tickets"] if r["account_id"] in b.churns)
    calm = Counter(r["priority"] for r in b.rows["tickets"] if r["account_id"] not in b.churns)
    share = (urgent["urgent"] + urgent["high"]) / sum(urgent.values())
    assert share > (calm["urgent"] + calm["high"]) / sum(calm.values()) + 0.1


def test_payment_driven_churn_leaves_invoices_overdue_with_usage_intact(book) -> None:
    b = book("payment_driven")
    accounts = _churners(b, 200)
    assert len(accounts) >= 8
    overdue = 0
    for a in accounts:
        churn = b.churns[a]
        overdue += any(
            r["account_id"] == a
            and _day(r["due_at"]) < churn
            and (not r["paid_at"] or _day(r["paid_at"]) > _day(r["due_at"]) + dt.timedelta(days=14))
            and _day(r["due_at"]) >= churn - dt.timedelta(days=120)
            for r in b.rows["invoices"]
        )
    assert overdue >= 0.8 * len(accounts)
    usage = _ratio([(b.before(a, 0, 30) + 1) / (b.before(a, 180, 210) + 1) for a in accounts])
    assert usage > 0.7


def test_mid_term_churn_lands_between_renewals(book) -> None:
    b = book("mid_term")
    mid = [b.churns[a] not in _renewals(b)[a] for a in b.churns]
    default = book("no_surveys")  # the default story otherwise
    default_mid = [default.churns[a] not in _renewals(default)[a] for a in default.churns]
    assert sum(mid) >= 0.7 * len(mid)
    assert sum(default_mid) <= 0.3 * len(default_mid)


def _renewals(b: Book) -> dict[str, set[dt.date]]:
    """Per account, the days a churn counts as at renewal: a term's last day or the next."""
    out: dict[str, set[dt.date]] = defaultdict(set)
    for r in b.rows["contracts"]:
        end = _day(r["end_date"])
        out[r["account_id"]] |= {end, end + dt.timedelta(days=1)}
    return out


def test_seasonal_dips_recover_and_are_not_churn(book) -> None:
    b = book("seasonal")
    nov = (dt.date(2025, 11, 3), dt.date(2025, 11, 28))
    holiday = (dt.date(2025, 12, 12), dt.date(2026, 1, 8))
    feb = (dt.date(2026, 2, 2), dt.date(2026, 2, 27))
    dippers, recovered, eligible = [], 0, 0
    for a in {r["account_id"] for r in b.rows["accounts"]}:
        base = b.login_sum(a, *nov)
        if base < 20 or (a in b.churns and b.churns[a] <= feb[1]):
            continue
        eligible += 1
        if b.login_sum(a, *holiday) < 0.4 * base:
            dippers.append(a)
            recovered += b.login_sum(a, *feb) >= 0.6 * base
    assert len(dippers) >= 0.3 * eligible >= 6, "about half the accounts dip over the holidays"
    assert recovered >= 0.85 * len(dippers), "and come back in February"
    churned_soon = [a for a in dippers if a in b.churns and b.churns[a] <= dt.date(2026, 4, 8)]
    assert len(churned_soon) <= 0.15 * len(dippers), "the dips are not churn"


def test_temporary_dips_are_more_and_deeper_and_end() -> None:
    window = Window.ending(END, 24)
    identity = {
        "name": "A",
        "domain": "a.com",
        "segment": "mid_market",
        "industry": "Software",
        "owner": "x@example.com",
    }

    def dips(scenario: str | None) -> list:
        found = []
        for i in range(60):
            plan = plan_account(i, identity, window, np.random.default_rng([3, i]), scenario)
            found += [e for e in plan.episodes if e.kind == "dip"]
        return found

    many, few = dips("temporary_dips"), dips(None)
    assert len(many) >= 2 * len(few)
    assert statistics.mean(e.depth for e in many) > statistics.mean(e.depth for e in few) + 0.15
    assert all(e.end - e.start <= 100 for e in many), "every dip recovers within 100 days"


def test_silent_churn_has_no_ticket_storm_but_usage_goes(book) -> None:
    b = book("silent")
    accounts = _churners(b, 240)
    assert len(accounts) >= 8
    tickets = sum(b.tickets_before(a, 0, 60) for a in accounts) / sum(
        b.tickets_before(a, 180, 240) for a in accounts
    )
    usage = _ratio([(b.before(a, 0, 30) + 1) / (b.before(a, 180, 210) + 1) for a in accounts])
    assert tickets < 1.4
    assert usage < 0.5


def test_short_history_accounts_are_mostly_new(book) -> None:
    b = book("short_history")
    start = END - dt.timedelta(days=round(24 * 30.44))
    created = [_day(r["created_at"]) for r in b.rows["accounts"]]
    assert sum(c >= start for c in created) >= 0.8 * len(created)
    first_terms = {}
    for r in sorted(b.rows["contracts"], key=lambda r: r["start_date"]):
        first_terms.setdefault(r["account_id"], r)
    months = [(_day(r["end_date"]) - _day(r["start_date"])).days for r in first_terms.values()]
    assert statistics.median(months) < 190


def test_account_level_usage_has_no_contacts(book) -> None:
    b = book("account_level_usage")
    assert b.rows["contacts"] == []
    assert b.rows["usage"] and all(r["contact_id"] == "" for r in b.rows["usage"])
    assert all(r["contact_id"] == "" for r in b.rows["tickets"])
    assert all(r["contact_id"] == "" for r in b.rows["surveys"])


def test_no_surveys_book_has_none(book) -> None:
    b = book("no_surveys")
    assert b.rows["surveys"] == []
    assert b.rows["tickets"] and b.rows["usage"]


def test_account_level_book_imports_cleanly(engine, book) -> None:
    from storage.ingest import import_directory

    b = book("account_level_usage")
    report = import_directory(engine, b.dir)
    assert report.ok, report
