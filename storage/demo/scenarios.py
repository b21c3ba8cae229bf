"""Named churn stories for the demo generator, beyond the default book's.

The default book's churn is a deep, lasting, multi-symptom decline that mostly lands on a
renewal date: easy to see. Each scenario here changes one thing about how accounts churn
(or look as if they might), so a bench can ask whether csbot's judgement holds on it:

- `sudden_drop`: usage falls off a cliff 4-8 weeks before the churn, nothing else warns;
- `slow_fade`: usage, breadth, surveys and meetings fade over 6-9 months;
- `champion_leaves`: the champion leaves first, usage follows 2-6 weeks later;
- `support_driven`: a storm of urgent, angry tickets and falling surveys; usage intact;
- `payment_driven`: invoices go overdue and unpaid (monthly billing); usage intact;
- `mid_term`: every churn lands mid-term, not at a renewal;
- `seasonal`: half the accounts dip deeply over the year-end holidays and in summer, and
  those dips are not churn;
- `temporary_dips`: many deep dips in usage that recover;
- `silent`: users drift away and stakeholders go quiet with no tickets or complaints;
- `short_history`: most accounts are new (first terms of six months), so most have under
  six months of history when they are scored;
- `account_level_usage`: usage without people: no contacts file, every usage row (and
  ticket, survey, touchpoint) without a contact;
- `no_surveys`: the book has no survey responses at all.

A scenario is data (`Scenario`); the generator reads its fields where the default book
uses constants, so `DEFAULT` gives byte-identical output to the generator before scenarios.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from storage.demo.episodes import MID_TERM_SHARE, NO_WARNING_SHARE, Episode


@dataclass(frozen=True)
class Scenario:
    """How one book departs from the default story (the defaults are the default book)."""

    name: str
    story: str
    churn_story: str | None = None  # a key of CHURN_STORIES; None: the default warning
    mid_term_share: float = MID_TERM_SHARE
    no_warning_share: float = NO_WARNING_SHARE
    dips_per_year: float = 0.6
    dip_depth: tuple[float, float] = (0.3, 0.85)
    seasonal_share: float = 0.0
    created_in_window_share: float = 0.4
    first_term_months: int | None = None
    account_level_only: bool = False
    surveys: bool = True
    billing_months: int | None = None


def _sudden(day: int, rng: np.random.Generator) -> Episode:
    start = day - int(rng.integers(30, 57))
    return Episode(
        kind="churn",
        start=start,
        peak=start + int(rng.integers(3, 8)),
        end=day + 3650,
        depth=float(rng.uniform(0.85, 1.0)),
        shape=1.0,
        symptoms={"usage": 0.0, "dropout": 0.0, "breadth": 0.0},
    )


def _slow_fade(day: int, rng: np.random.Generator) -> Episode:
    lead = int(rng.integers(180, 271))
    return Episode(
        kind="churn",
        start=day - lead,
        peak=day,
        end=day + 3650,
        depth=float(rng.uniform(0.75, 0.95)),
        shape=1.0,
        symptoms={
            name: float(rng.uniform(0.0, 0.3))
            for name in ("usage", "dropout", "breadth", "nps", "meetings")
        },
    )


def _champion_first(day: int, rng: np.random.Generator) -> Episode:
    lead = int(rng.integers(100, 151))
    return Episode(
        kind="churn",
        start=day - lead,
        peak=day - int(lead * 0.15),
        end=day + 3650,
        depth=float(rng.uniform(0.85, 1.0)),
        shape=1.0,
        # The champion leaves a quarter of the way into the ramp; usage starts to fall
        # at 45-60% of it, i.e. weeks after.
        symptoms={
            "champion_leaves": 0.0,
            "champion": 0.0,
            "usage": float(rng.uniform(0.45, 0.6)),
            "dropout": float(rng.uniform(0.45, 0.6)),
            "breadth": float(rng.uniform(0.5, 0.7)),
        },
    )


def _support(day: int, rng: np.random.Generator) -> Episode:
    lead = int(rng.integers(60, 121))
    return Episode(
        kind="churn",
        start=day - lead,
        peak=day - int(lead * 0.4),
        end=day + 3650,
        depth=float(rng.uniform(0.9, 1.0)),
        shape=0.7,
        symptoms={"tickets": 0.0, "nps": float(rng.uniform(0.1, 0.4))},
    )


def _payment(day: int, rng: np.random.Generator) -> Episode:
    lead = int(rng.integers(90, 151))
    return Episode(
        kind="churn",
        start=day - lead,
        peak=day - int(lead * 0.5),
        end=day + 3650,
        depth=1.0,
        shape=0.7,
        symptoms={"invoices": 0.0},
    )


def _silent(day: int, rng: np.random.Generator) -> Episode:
    lead = int(rng.integers(60, 151))
    return Episode(
        kind="churn",
        start=day - lead,
        peak=day - int(lead * 0.3),
        end=day + 3650,
        depth=float(rng.uniform(0.8, 1.0)),
        shape=1.0,
        symptoms={
            name: float(rng.uniform(0.0, 0.3))
            for name in ("usage", "dropout", "champion", "sponsor", "meetings")
        },
    )


CHURN_STORIES = {
    "sudden": _sudden,
    "slow_fade": _slow_fade,
    "champion_first": _champion_first,
    "support": _support,
    "payment": _payment,
    "silent": _silent,
}

DEFAULT = Scenario("default", "the default book: deep multi-symptom declines, mostly at renewal")

SCENARIOS: dict[str, Scenario] = {
    s.name: s
    for s in (
        Scenario(
            "sudden_drop",
            "usage falls off a cliff 4-8 weeks before the churn",
            churn_story="sudden",
            no_warning_share=0.0,
        ),
        Scenario(
            "slow_fade",
            "usage, breadth, surveys and meetings fade over 6-9 months",
            churn_story="slow_fade",
            no_warning_share=0.0,
        ),
        Scenario(
            "champion_leaves",
            "the champion leaves, usage follows weeks later",
            churn_story="champion_first",
            no_warning_share=0.0,
        ),
        Scenario(
            "support_driven",
            "ticket storm and negative tone, usage intact",
            churn_story="support",
            no_warning_share=0.0,
        ),
        Scenario(
            "payment_driven",
            "overdue and unpaid invoices, usage intact",
            churn_story="payment",
            no_warning_share=0.0,
            billing_months=1,
        ),
        Scenario("mid_term", "every churn lands mid-term, not at a renewal", mid_term_share=1.0),
        Scenario(
            "seasonal",
            "half the accounts dip over the holidays and in summer; the dips are not churn",
            seasonal_share=0.5,
        ),
        Scenario(
            "temporary_dips",
            "many deep usage dips that recover",
            dips_per_year=2.0,
            dip_depth=(0.6, 0.95),
        ),
        Scenario(
            "silent",
            "users drift away and stakeholders go quiet; no tickets, no complaints",
            churn_story="silent",
            no_warning_share=0.0,
        ),
        Scenario(
            "short_history",
            "most accounts are new, on six-month first terms",
            created_in_window_share=0.9,
            first_term_months=6,
        ),
        Scenario(
            "account_level_usage",
            "usage at account level only: no contacts",
            account_level_only=True,
        ),
        Scenario("no_surveys", "no survey responses at all", surveys=False),
    )
}


def resolve_scenario(scenario: str | Scenario | None) -> Scenario:
    """The scenario named (or given); None and "default" are the default book."""
    if scenario is None:
        return DEFAULT
    if isinstance(scenario, Scenario):
        return scenario
    if scenario == DEFAULT.name:
        return DEFAULT
    try:
        return SCENARIOS[scenario]
    except KeyError:
        names = ", ".join(["default", *SCENARIOS])
        raise ValueError(f"unknown scenario {scenario!r} (expected one of: {names})") from None


def seasonal_factor(months: np.ndarray, days: np.ndarray) -> np.ndarray:
    """Usage level of a seasonal business by calendar day: deep holiday dip, summer lull."""
    factor = np.ones(months.shape)
    holidays = ((months == 12) & (days >= 10)) | ((months == 1) & (days <= 10))
    factor[holidays] = 0.15
    factor[(months == 7) | (months == 8)] = 0.45
    return factor
