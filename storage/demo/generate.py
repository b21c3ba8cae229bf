"""`generate_portfolio`: write a whole synthetic book of business as contract files.

Account identities (names, segments, owners) come from one random stream for the whole
portfolio; everything else about account i comes from its own stream seeded with
(seed, i), so output is byte-identical per seed and accounts can be rendered one at a
time, streaming rows to the files without holding the portfolio in memory.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from storage.demo import activity
from storage.demo.calendar import Window, iso
from storage.demo.columns import CONTRACT_COLUMNS
from storage.demo.plan import SEGMENT_SHARE, SEGMENTS, AccountPlan, plan_account
from storage.demo.roster import build_roster
from storage.demo.scenarios import Scenario, resolve_scenario
from storage.demo.trajectory import render
from storage.demo.usage import write_usage
from storage.demo.vocab import (
    BOOK_SIZE,
    COMPANY_CORES,
    COMPANY_PREFIXES,
    COMPANY_SUFFIXES,
    CSM_NAMES,
    FIRST_NAMES,
    INDUSTRIES,
    LAST_NAMES,
)

Progress = Callable[[float, float], None]


@dataclass
class PortfolioSummary:
    """What was generated: where, how much, and the fates the accounts met."""

    out_dir: Path
    start: dt.date
    end: dt.date
    seed: int
    accounts: int
    csms: list[str]
    rows: dict[str, int]
    segments: dict[str, int]
    churned: int  # churned within the window
    at_risk: int  # heading for churn after the window, warnings already showing
    expanded: int  # accounts with at least one expansion in the window
    contracted: int
    renewed: int  # renewals within the window
    seconds: float
    files: dict[str, Path] = field(default_factory=dict)
    scenario: str = "default"

    def lines(self) -> list[str]:
        """A human-readable account of the portfolio, one fact per line."""
        segments = ", ".join(f"{count} {name}" for name, count in self.segments.items())
        out = [
            f"Demo portfolio in {self.out_dir} (seed {self.seed}), {self.start} … {self.end}",
            f"  {self.accounts} accounts ({segments}), {len(self.csms)} CSMs",
            f"  {self.churned} churned, {self.renewed} renewals, {self.expanded} expanded, "
            f"{self.contracted} contracted, {self.at_risk} heading for churn after {self.end}",
        ]
        out += [f"  {name:<12} {count:>10,} rows" for name, count in self.rows.items()]
        out.append(f"  generated in {self.seconds:.1f} s")
        return out

    def __str__(self) -> str:
        return "\n".join(self.lines())


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "", text.lower())


def _company_names(count: int, rng: np.random.Generator) -> list[tuple[str, str]]:
    """`count` distinct (company name, domain) pairs."""
    pairs = [(p, c) for p in COMPANY_PREFIXES for c in COMPANY_CORES]
    order = rng.permutation(len(pairs))
    names: list[tuple[str, str]] = []
    for round_ in range(count // len(pairs) + 1):
        for index in order.tolist():
            if len(names) == count:
                return names
            prefix, core = pairs[index]
            if round_:
                prefix = f"{prefix} {COMPANY_PREFIXES[(index + round_) % len(COMPANY_PREFIXES)]}"
            suffix = COMPANY_SUFFIXES[int(rng.integers(len(COMPANY_SUFFIXES)))]
            name = f"{prefix} {core} {suffix}".strip()
            names.append((name, f"{_slug(prefix + core)}.com"))
    return names


def _csm_emails(count: int) -> list[str]:
    names = list(CSM_NAMES)
    extra = 0
    while len(names) < count:
        names.append(
            f"{FIRST_NAMES[extra % len(FIRST_NAMES)]} {LAST_NAMES[(extra * 7) % len(LAST_NAMES)]}"
        )
        extra += 1
    return [".".join(name.lower().split()) + "@example.com" for name in names[:count]]


def _identities(accounts: int, rng: np.random.Generator) -> tuple[list[dict[str, str]], list[str]]:
    """Name, domain, segment, industry and owner of every account; and the CSM list."""
    segments = rng.choice(len(SEGMENTS), size=accounts, p=SEGMENT_SHARE)
    names = _company_names(accounts, rng)
    industries = rng.integers(len(INDUSTRIES), size=accounts)
    sizes = {s: int((segments == i).sum()) for i, s in enumerate(SEGMENTS)}
    # CSMs per segment: one per book's worth of accounts, none for an empty segment.
    books = {s: max(1, round(n / BOOK_SIZE[s])) if n else 0 for s, n in sizes.items()}
    emails = _csm_emails(sum(books.values()))
    owners: list[str] = [""] * accounts
    offset = 0
    for i, segment in enumerate(SEGMENTS):
        team = emails[offset : offset + books[segment]]
        offset += books[segment]
        members = np.flatnonzero(segments == i)
        for k, account in enumerate(rng.permutation(members).tolist()):
            owners[account] = team[k % len(team)]
    identities = [
        {
            "name": names[i][0],
            "domain": names[i][1],
            "segment": SEGMENTS[int(segments[i])],
            "industry": INDUSTRIES[int(industries[i])],
            "owner": owners[i],
        }
        for i in range(accounts)
    ]
    return identities, emails


class _Files:
    """The open contract files, each with its header written."""

    def __init__(self, out_dir: Path) -> None:
        out_dir.mkdir(parents=True, exist_ok=True)
        self.paths = {name: out_dir / f"{name}.csv" for name in CONTRACT_COLUMNS}
        self.handles: dict[str, TextIO] = {}
        self.writers: dict[str, Any] = {}
        self.rows: Counter[str] = Counter()
        for name, path in self.paths.items():
            handle = path.open("w", encoding="utf-8", newline="")
            self.handles[name] = handle
            self.writers[name] = csv.writer(handle, lineterminator="\n")
            self.writers[name].writerow(CONTRACT_COLUMNS[name])

    def write(self, name: str, rows: list[tuple[Any, ...]]) -> None:
        self.writers[name].writerows([tuple(_cell(value) for value in row) for row in rows])
        self.rows[name] += len(rows)

    def close(self) -> None:
        for handle in self.handles.values():
            handle.close()


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return iso(value)
    if isinstance(value, float):
        return f"{value:.2f}".rstrip("0").rstrip(".")
    return value


def _account_rows(account: AccountPlan, window: Window) -> dict[str, list[tuple[Any, ...]]]:
    terms = [t for t in account.terms if t.start <= window.end]
    return {
        "accounts": [
            (
                account.account_id,
                account.name,
                account.segment,
                account.industry,
                account.owner,
                account.created_at,
                account.plan,
            )
        ],
        "contracts": [
            (t.contract_id, account.account_id, t.start, t.end, t.arr, t.seats, t.plan)
            for t in terms
        ],
        "lifecycle": [
            (account.account_id, row.occurred_at, row.kind, row.arr_change, row.detail)
            for row in sorted(account.lifecycle, key=lambda r: (r.occurred_at, r.kind))
            if row.occurred_at.date() <= window.end
        ],
    }


def generate_portfolio(
    out_dir: Path,
    *,
    seed: int = 7,
    accounts: int = 300,
    end: dt.date = dt.date(2026, 11, 20),
    months: int = 18,
    progress: Progress | None = None,
    usage_density: float = 1.0,
    scenario: str | Scenario | None = None,
) -> PortfolioSummary:
    """Write a synthetic portfolio as contract CSV files in `out_dir` and describe it.

    `usage_density` scales how often users use the product: 1.0 gives about 1M usage rows
    for 300 accounts over 18 months (about 2,000 per account-year); lower it for lighter
    portfolios, raise it for heavier benchmark data. `progress(done, total)` is told the
    accounts written so far. `scenario` names a churn story of `storage.demo.scenarios`
    (None or "default": the default book).
    """
    if accounts < 1:
        raise ValueError("accounts must be at least 1")
    if months < 1:
        raise ValueError("months must be at least 1")
    story = resolve_scenario(scenario)
    started = time.perf_counter()
    out_dir = Path(out_dir)
    window = Window.ending(end, months)
    identities, csms = _identities(accounts, np.random.default_rng([seed, 0x5EED]))
    files = _Files(out_dir)
    fates: Counter[str] = Counter()
    try:
        for index, identity in enumerate(identities):
            rng = np.random.default_rng([seed, index])
            account = plan_account(index, identity, window, rng, story)
            trajectory = render(account, window, rng)
            people = build_roster(account, trajectory, window, rng)
            for name, rows in _account_rows(account, window).items():
                files.write(name, rows)
            blank = _no_contact if story.account_level_only else _as_is
            if not story.account_level_only:
                files.write(
                    "contacts",
                    [
                        (p.contact_id, account.account_id, p.name, p.email, p.role, p.left_at)
                        for p in people
                    ],
                )
            files.rows["usage"] += write_usage(
                files.handles["usage"],
                account,
                trajectory,
                people,
                window,
                rng,
                density=usage_density,
                account_level=story.account_level_only,
            )
            files.write(
                "tickets", blank(activity.tickets(account, trajectory, people, window, rng))
            )
            touch_rows, qbrs = activity.touchpoints(account, trajectory, people, window, rng)
            files.write("touchpoints", blank(touch_rows))
            survey_rows = activity.surveys(account, trajectory, people, window, rng, qbrs)
            if story.surveys:
                files.write("surveys", blank(survey_rows))
            files.write(
                "invoices",
                activity.invoices(account, trajectory, window, rng, story.billing_months),
            )
            _count_fates(account, window, fates)
            if progress is not None and (index % 10 == 9 or index == accounts - 1):
                progress(index + 1, accounts)
    finally:
        files.close()
    segments = Counter(identity["segment"] for identity in identities)
    return PortfolioSummary(
        out_dir=out_dir,
        start=window.start,
        end=window.end,
        seed=seed,
        accounts=accounts,
        csms=csms,
        rows={name: files.rows[name] for name in CONTRACT_COLUMNS},
        segments={name: segments[name] for name in SEGMENTS},
        churned=fates["churned"],
        at_risk=fates["at_risk"],
        expanded=fates["expanded"],
        contracted=fates["contracted"],
        renewed=fates["renewed"],
        seconds=time.perf_counter() - started,
        files=dict(files.paths),
        scenario=story.name,
    )


def _as_is(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    return rows


def _no_contact(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """Tickets, touchpoints and surveys without their contact (column 2 in each)."""
    return [(*row[:2], "", *row[3:]) for row in rows]


def _count_fates(account: AccountPlan, window: Window, fates: Counter[str]) -> None:
    kinds = [
        row.kind
        for row in account.lifecycle
        if window.start <= row.occurred_at.date() <= window.end
    ]
    fates["churned"] += "churned" in kinds
    fates["expanded"] += "expanded" in kinds
    fates["contracted"] += "contracted" in kinds
    fates["renewed"] += kinds.count("renewed")
    fates["at_risk"] += account.future_churn is not None and any(
        e.kind == "churn" for e in account.episodes
    )
