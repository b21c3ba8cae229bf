"""Each account's story: who it is, its contracts, its fate, and its stretches of trouble.

The plan is drawn first, per account, from the account's own random stream; everything
that follows (contacts, usage, tickets, ...) is rendered from it. The fates:

- churners (at a contract end, a few mid-term) with a warning stretch starting 45-150
  days before the churn (mostly early), in which a random subset of symptoms builds up
  and then stays until the account leaves; about 10% churn with no warning at all. The
  churn odds at a renewal are higher for thinly adopted accounts and late onboarders;
- accounts that renew smaller (contracted) after a milder warning stretch;
- healthy accounts, many of which dip for a month or three and recover (alarming a
  rule-based score, though nothing happens), with per-account quirks that also look
  bad and are not: chronic late payers, demanding ticket-filers, grumbling promoters,
  absentee sponsors;
- growers, whose users fill their seats until they expand (mid-term or at renewal).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

import numpy as np

from storage.demo.calendar import Window
from storage.demo.episodes import Episode
from storage.demo.scenarios import CHURN_STORIES, Scenario, resolve_scenario
from storage.demo.vocab import PLANS

SEGMENTS = ("enterprise", "mid_market", "smb")
SEGMENT_SHARE = (0.15, 0.35, 0.50)
SEATS = {"enterprise": (40, 160), "mid_market": (12, 50), "smb": (3, 15)}
ARR = {"enterprise": (80_000, 400_000), "mid_market": (20_000, 80_000), "smb": (3_000, 20_000)}
TERMS = {
    "enterprise": ((12, 24, 36), (0.55, 0.3, 0.15)),
    "mid_market": ((12, 24, 36), (0.75, 0.2, 0.05)),
    "smb": ((12, 24), (0.9, 0.1)),
}
CHURN_AT_RENEWAL = {"enterprise": 0.13, "mid_market": 0.22, "smb": 0.3}
CONTRACT_AT_RENEWAL = 0.09
GROWER_SHARE = 0.2

# Symptoms a stretch of trouble can show, with the odds each appears when an account is
# heading for churn. Dips and contractions show each with lower odds.
SYMPTOM_ODDS = {
    "usage": 0.75,  # fewer logins and sessions
    "dropout": 0.7,  # users stop using the product
    "breadth": 0.55,  # advanced features fall out of use
    "sponsor": 0.65,  # the executive sponsor stops replying or attending
    "champion": 0.55,  # the champion goes quiet
    "champion_leaves": 0.3,  # the champion leaves the company
    "tickets": 0.6,  # more, more urgent and angrier tickets
    "nps": 0.7,  # survey scores fall
    "meetings": 0.6,  # calls and QBRs missed or cancelled
    "invoices": 0.4,  # invoices paid late or not at all
}
SYMPTOMS = tuple(SYMPTOM_ODDS)
# Churn reasons recorded in lifecycle `detail`, chosen to match the symptoms shown.
REASON_BY_SYMPTOM = (
    ("champion_leaves", "champion left"),
    ("sponsor", "lost executive sponsor"),
    ("usage", "low adoption"),
    ("dropout", "low adoption"),
    ("tickets", "product gaps and reliability"),
    ("invoices", "budget cuts"),
)
SUDDEN_REASONS = ("acquired by another company", "project cancelled", "budget cuts")


@dataclass
class Term:
    """One contract row."""

    contract_id: str
    start: dt.date
    end: dt.date  # inclusive; the renewal date
    arr: float
    seats: int
    plan: str


@dataclass
class LifecycleRow:
    occurred_at: dt.datetime
    kind: str
    arr_change: float | None
    detail: str


@dataclass
class AccountPlan:
    index: int
    account_id: str
    name: str
    domain: str
    segment: str
    industry: str
    owner: str
    plan: str
    created_at: dt.datetime
    terms: list[Term] = field(default_factory=list)
    lifecycle: list[LifecycleRow] = field(default_factory=list)
    churn_date: dt.date | None = None  # within the window
    future_churn: dt.date | None = None  # after the window (warnings may already show)
    grower: bool = False
    engagement: float = 1.0
    late_payer: bool = False
    demanding: bool = False  # files many, often urgent, tickets even when all is well
    episodes: list[Episode] = field(default_factory=list)
    occupancy: float = 0.6  # share of seats with a user, for non-growers
    growth_days: float = 0.0  # doubling time of users, for growers
    growth_start: float = 0.0  # users at the start of growth
    growth_origin: int = 0  # day growth starts from
    first_value_day: int | None = None
    onboarding_late: bool = False
    milestones: dict[str, dt.date] = field(default_factory=dict)
    expansions: list[dt.date] = field(default_factory=list)
    seasonal: bool = False  # usage dips over the holidays and in summer (scenario `seasonal`)

    @property
    def first_day(self) -> dt.date:
        return self.created_at.date()

    def last_live_date(self, window: Window) -> dt.date:
        """The last day the account is a customer within the window."""
        if self.churn_date is not None:
            return self.churn_date - dt.timedelta(days=1)
        return window.end


def _add_months(day: dt.date, months: int) -> dt.date:
    month = day.month - 1 + months
    year = day.year + month // 12
    month = month % 12 + 1
    last = [
        31,
        29 if year % 4 == 0 and (year % 100 or year % 400 == 0) else 28,
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ][month - 1]
    return dt.date(year, month, min(day.day, last))


def _seats_and_arr(segment: str, rng: np.random.Generator) -> tuple[int, float]:
    low, high = SEATS[segment]
    seats = int(round(math.exp(rng.uniform(math.log(low), math.log(high)))))
    arr_low, arr_high = ARR[segment]
    share = (math.log(seats) - math.log(low)) / (math.log(high) - math.log(low))
    arr = math.exp(math.log(arr_low) + share * (math.log(arr_high) - math.log(arr_low)))
    arr *= rng.lognormal(0.0, 0.12)
    return seats, float(round(min(max(arr, arr_low), arr_high), -2))


def _episode(
    kind: str,
    start: int,
    peak: int,
    end: int,
    rng: np.random.Generator,
    depth: tuple[float, float],
    odds_scale: float,
) -> Episode:
    # Before a churn the symptoms arrive close together; in a dip they trickle in.
    latest_onset = 0.2 if kind == "churn" else 0.5
    symptoms: dict[str, float] = {}
    for name, odds in SYMPTOM_ODDS.items():
        if rng.random() < odds * odds_scale:
            symptoms[name] = float(rng.uniform(0.0, latest_onset))
    while len(symptoms) < (5 if kind == "churn" else 2):
        name = SYMPTOMS[int(rng.integers(len(SYMPTOMS)))]
        symptoms.setdefault(name, float(rng.uniform(0.0, latest_onset)))
    if kind != "churn":
        symptoms.pop("champion_leaves", None)
    return Episode(
        kind=kind,
        start=start,
        peak=peak,
        end=end,
        depth=float(rng.uniform(*depth)),
        shape=float(rng.uniform(0.4, 1.0) if kind == "churn" else rng.uniform(0.6, 1.5)),
        symptoms=symptoms,
    )


def plan_account(
    index: int,
    identity: dict[str, str],
    window: Window,
    rng: np.random.Generator,
    scenario: Scenario | None = None,
) -> AccountPlan:
    """Draw one account's story. `identity` holds name, domain, segment, industry, owner;
    `scenario` changes how the story goes (None: the default book)."""
    story = resolve_scenario(scenario)
    segment = identity["segment"]
    created = (
        window.start - dt.timedelta(days=int(rng.integers(30, 1100)))
        if rng.random() < 1.0 - story.created_in_window_share
        else window.start + dt.timedelta(days=int(rng.integers(0, max(1, window.days - 20))))
    )
    plan = PLANS[segment][int(rng.integers(3))]
    account = AccountPlan(
        index=index,
        account_id=f"acct-{index + 1:05d}",
        name=identity["name"],
        domain=identity["domain"],
        segment=segment,
        industry=identity["industry"],
        owner=identity["owner"],
        plan=plan,
        created_at=dt.datetime.combine(
            created, dt.time(int(rng.integers(8, 18)), int(rng.integers(60)))
        ),
        grower=bool(rng.random() < GROWER_SHARE),
        engagement=float(rng.lognormal(0.0, 0.3)),
        late_payer=bool(rng.random() < 0.2),
        demanding=bool(rng.random() < 0.25),
        occupancy=float(rng.uniform(0.45, 0.8)),
    )
    if story.seasonal_share > 0:
        account.seasonal = bool(rng.random() < story.seasonal_share)
    _plan_onboarding(account, window, rng)
    _plan_contracts(account, window, rng, story)
    _plan_dips(account, window, rng, story)
    return account


def _plan_onboarding(account: AccountPlan, window: Window, rng: np.random.Generator) -> None:
    created = account.first_day
    kickoff = created + dt.timedelta(days=int(rng.integers(2, 10)))
    account.onboarding_late = bool(rng.random() < 0.2)
    to_value = int(rng.integers(60, 160)) if account.onboarding_late else int(rng.integers(12, 45))
    first_value = created + dt.timedelta(days=to_value)
    complete = first_value + dt.timedelta(days=int(rng.integers(20, 60)))
    account.first_value_day = window.day(first_value)
    for name, when in (
        ("kickoff", kickoff),
        ("first_value", first_value),
        ("onboarding_complete", complete),
    ):
        if when <= window.end:
            account.milestones[name] = when
            account.lifecycle.append(
                LifecycleRow(dt.datetime.combine(when, dt.time(12, 0)), "milestone", None, name)
            )


def _plan_contracts(
    account: AccountPlan, window: Window, rng: np.random.Generator, story: Scenario
) -> None:
    """Walk the contracts from creation to past the window, deciding each renewal."""
    segment = account.segment
    terms, odds = TERMS[segment]
    seats, arr = _seats_and_arr(segment, rng)
    start = account.first_day
    horizon = window.end + dt.timedelta(days=150)
    n = 0
    doubling = float(rng.uniform(200, 480))
    account.growth_days = doubling
    growth_origin = max(0, window.day(start))
    account.growth_origin = growth_origin
    account.growth_start = seats * float(rng.uniform(0.45, 0.65))
    while True:
        months = int(rng.choice(terms, p=odds))
        if n == 0 and story.first_term_months:
            months = story.first_term_months
        end = _add_months(start, months) - dt.timedelta(days=1)
        n += 1
        term = Term(f"{account.account_id}-c{n}", start, end, arr, seats, account.plan)
        # Growers expand mid-term once their users have filled the seats for a while.
        if account.grower:
            expansion = _expansion_day(account, term, window, growth_origin, rng)
            while (
                expansion is not None
                and expansion <= window.end
                and expansion < end - dt.timedelta(days=30)
            ):
                term.end = expansion - dt.timedelta(days=1)
                if term.end >= term.start:
                    account.terms.append(term)
                factor = float(rng.uniform(1.25, 1.6))
                new_seats = int(math.ceil(seats * factor))
                new_arr = float(round(arr * new_seats / seats * rng.uniform(0.95, 1.05), -2))
                account.lifecycle.append(
                    LifecycleRow(
                        dt.datetime.combine(expansion, dt.time(0)),
                        "expanded",
                        new_arr - arr,
                        f"seats {seats} → {new_seats}",
                    )
                )
                account.expansions.append(expansion)
                seats, arr = new_seats, new_arr
                n += 1
                term = Term(f"{account.account_id}-c{n}", expansion, end, arr, seats, account.plan)
                expansion = _expansion_day(account, term, window, growth_origin, rng)
        account.terms.append(term)
        renewal = end + dt.timedelta(days=1)
        if end > horizon:
            return
        if end < window.start:
            arr = float(round(arr * rng.uniform(1.0, 1.06), -2))
            start = renewal
            account.lifecycle.append(
                LifecycleRow(
                    dt.datetime.combine(renewal, dt.time(0)),
                    "renewed",
                    None,
                    f"contract {account.account_id}-c{n + 1}",
                )
            )
            continue
        # A decision at a renewal inside the window or shortly after it.
        churn_odds = 0.0 if account.grower else CHURN_AT_RENEWAL[segment] * _fit(account)
        if account.onboarding_late and term.start <= account.first_day + dt.timedelta(days=400):
            churn_odds = min(0.8, churn_odds * 1.8)
        draw = rng.random()
        if draw < churn_odds:
            churn_on = end
            # A few leave mid-term, though never before the window (they would not be in it).
            earliest = max(term.start + dt.timedelta(days=120), window.start + dt.timedelta(30))
            if rng.random() < story.mid_term_share and (end - earliest).days > 60:
                churn_on = earliest + dt.timedelta(
                    days=int(rng.integers(0, (end - earliest).days - 30))
                )
            _plan_churn(account, churn_on, arr, window, rng, story)
            return
        if end > window.end:
            if not account.grower and draw < churn_odds + CONTRACT_AT_RENEWAL:
                _plan_contraction_warning(account, end, window, rng)
            return
        old_arr, old_seats = arr, seats
        if account.grower and _users(account, window.day(end), seats) >= 0.9 * seats:
            seats = int(math.ceil(seats * rng.uniform(1.2, 1.5)))
            arr = float(round(old_arr * seats / old_seats * rng.uniform(0.97, 1.05), -2))
            kind, detail = "expanded", f"seats {old_seats} → {seats} at renewal"
            account.expansions.append(renewal)
        elif not account.grower and draw < churn_odds + CONTRACT_AT_RENEWAL:
            _plan_contraction_warning(account, end, window, rng)
            seats = max(2, int(round(seats * rng.uniform(0.6, 0.85))))
            arr = float(round(old_arr * seats / old_seats * rng.uniform(0.95, 1.0), -2))
            kind, detail = "contracted", f"seats {old_seats} → {seats} at renewal"
        else:
            arr = float(round(old_arr * rng.uniform(1.0, 1.07), -2))
            kind, detail = "", ""
        occurred = dt.datetime.combine(renewal, dt.time(0))
        account.lifecycle.append(
            LifecycleRow(
                occurred, "renewed", arr - old_arr, f"contract {account.account_id}-c{n + 1}"
            )
        )
        if kind:
            account.lifecycle.append(LifecycleRow(occurred, kind, arr - old_arr, detail))
        start = renewal


def _fit(account: AccountPlan) -> float:
    """How much likelier than usual this account is to churn: thin adoption churns more."""
    odds = (0.62 / account.occupancy) * (1.0 / account.engagement) ** 0.5
    return min(max(odds, 0.6), 1.6)


def _users(account: AccountPlan, day: int, seats: int) -> float:
    """A grower's licensed users on `day`: exponential growth capped by the seats."""
    grown = account.growth_start * 2 ** (max(day - account.growth_origin, 0) / account.growth_days)
    return min(grown, float(seats))


def _expansion_day(
    account: AccountPlan, term: Term, window: Window, origin: int, rng: np.random.Generator
) -> dt.date | None:
    """When a grower on `term` expands: some weeks after its users pass 88% of the seats."""
    saturation = 0.88 * term.seats
    if account.growth_start >= saturation:
        day = max(window.day(term.start), 0)
    else:
        day = origin + int(
            math.ceil(account.growth_days * math.log2(saturation / account.growth_start))
        )
    day = max(day, window.day(term.start), origin)
    expansion = window.date(day) + dt.timedelta(days=int(rng.integers(28, 80)))
    return expansion


def _plan_churn(
    account: AccountPlan,
    churn_on: dt.date,
    arr: float,
    window: Window,
    rng: np.random.Generator,
    story: Scenario,
) -> None:
    day = window.day(churn_on)
    symptoms: dict[str, float] = {}
    if story.churn_story is not None:
        episode = CHURN_STORIES[story.churn_story](day, rng)
        account.episodes.append(episode)
        symptoms = episode.symptoms
    elif rng.random() >= story.no_warning_share:
        # Most warnings start early (lead skewed towards 150 days), a few only weeks before.
        lead = 45 + int(round(105 * rng.beta(3.0, 1.0)))
        # The trouble builds over the first half or so of the lead, then the account
        # stays checked-out (a plateau, slowly easing) until it leaves.
        peak = day - int(lead * rng.uniform(0.45, 0.65))
        episode = _episode("churn", day - lead, peak, day + 3650, rng, (0.8, 1.0), 1.0)
        account.episodes.append(episode)
        symptoms = episode.symptoms
    if churn_on > window.end:
        account.future_churn = churn_on
        return
    account.churn_date = churn_on
    reason = _churn_reason(symptoms, rng)
    account.lifecycle.append(
        LifecycleRow(dt.datetime.combine(churn_on, dt.time(0)), "churned", -arr, reason)
    )


def _churn_reason(symptoms: dict[str, float], rng: np.random.Generator) -> str:
    """The reason a CSM would record, consistent with what the account went through."""
    if not symptoms:
        return SUDDEN_REASONS[int(rng.integers(len(SUDDEN_REASONS)))]
    if "champion_leaves" in symptoms and rng.random() < 0.7:
        return "champion left"
    candidates = [reason for symptom, reason in REASON_BY_SYMPTOM if symptom in symptoms]
    candidates += ["budget cuts", "moved to a competitor"]
    return candidates[int(rng.integers(len(candidates)))]


def _plan_contraction_warning(
    account: AccountPlan, renewal_end: dt.date, window: Window, rng: np.random.Generator
) -> None:
    day = window.day(renewal_end)
    lead = int(rng.integers(45, 121))
    account.episodes.append(
        _episode(
            "contraction", day - lead, day, day + int(rng.integers(20, 60)), rng, (0.3, 0.6), 0.75
        )
    )


def _plan_dips(
    account: AccountPlan, window: Window, rng: np.random.Generator, story: Scenario
) -> None:
    """Healthy stretches interrupted by a dip that recovers (none inside a churn warning)."""
    busy = [(e.start - 30, e.end + 30) for e in account.episodes]
    if account.grower:
        return
    expected = story.dips_per_year * window.days / 365
    for _ in range(int(rng.poisson(expected))):
        length = int(rng.integers(30, 101))
        start = int(rng.integers(-20, window.days))
        end = start + length
        if any(start < b and end > a for a, b in busy):
            continue
        peak = start + int(length * rng.uniform(0.35, 0.65))
        account.episodes.append(_episode("dip", start, peak, end, rng, story.dip_depth, 0.55))
        busy.append((start - 30, end + 30))
