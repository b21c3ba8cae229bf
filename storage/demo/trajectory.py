"""Day-by-day curves rendered from an account's plan: live days, seats, licensed users,
engagement and the intensity (0..1) of each symptom of trouble.

Every later stage reads these curves, so the same latent story drives usage, tickets,
surveys, touchpoints and invoices consistently.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from storage.demo.calendar import Window
from storage.demo.episodes import Episode
from storage.demo.plan import SYMPTOMS, AccountPlan
from storage.demo.scenarios import seasonal_factor


@dataclass
class Trajectory:
    live: np.ndarray  # bool: a customer on this day (created … day before churn)
    seats: np.ndarray  # int: seats of the contract in force
    users: np.ndarray  # float: licensed users the account has
    engagement: np.ndarray  # float: multiplier on every user's chance to use the product
    symptoms: dict[str, np.ndarray]  # symptom -> intensity 0..1 per day
    trouble: np.ndarray  # the strongest symptom per day

    @property
    def first(self) -> int:
        live = np.flatnonzero(self.live)
        return int(live[0]) if live.size else 0

    @property
    def last(self) -> int:
        """One past the last live day."""
        live = np.flatnonzero(self.live)
        return int(live[-1]) + 1 if live.size else 0


def episode_curve(episode: Episode, onset: float, days: np.ndarray) -> np.ndarray:
    """Intensity of one symptom over `days`: ramps to `depth` at the peak, fades by the end."""
    begin = episode.start + onset * (episode.peak - episode.start)
    rise = np.clip((days - begin) / max(episode.peak - begin, 1.0), 0.0, 1.0) ** episode.shape
    fall = np.clip((episode.end - days) / max(episode.end - episode.peak, 1.0), 0.0, 1.0)
    return episode.depth * np.where(days <= episode.peak, rise, fall)


def render(account: AccountPlan, window: Window, rng: np.random.Generator) -> Trajectory:
    n = window.days
    days = np.arange(n, dtype=float)
    first = max(window.day(account.first_day), 0)
    last = min(window.day(account.last_live_date(window)) + 1, n)
    live = np.zeros(n, dtype=bool)
    live[first:last] = True

    seats = np.zeros(n, dtype=np.int64)
    for term in account.terms:
        a = max(window.day(term.start), 0)
        b = min(window.day(term.end) + 1, n)
        if b > a:
            seats[a:b] = term.seats
    if account.grower:
        grown = account.growth_start * 2 ** (
            np.maximum(days - account.growth_origin, 0) / account.growth_days
        )
        users = np.minimum(grown, seats.astype(float))
    else:
        users = seats * account.occupancy

    symptoms = {name: np.zeros(n) for name in SYMPTOMS}
    for episode in account.episodes:
        for name, onset in episode.symptoms.items():
            np.maximum(symptoms[name], episode_curve(episode, onset, days), out=symptoms[name])
    trouble = np.max(np.vstack(list(symptoms.values())), axis=0)

    # Weekly wobble (AR(1) in log space) shared by all users of the account.
    weeks = n // 7 + 2
    wobble = np.empty(weeks)
    wobble[0] = rng.normal(0.0, 0.1)
    shocks = rng.normal(0.0, 0.07, size=weeks)
    for i in range(1, weeks):
        wobble[i] = 0.7 * wobble[i - 1] + shocks[i]
    noise = np.exp(np.repeat(wobble, 7)[:n])

    ramp = np.ones(n)
    if account.first_value_day is not None and account.first_value_day > first:
        start_level = 0.25 if account.onboarding_late else 0.4
        span = account.first_value_day - window.day(account.first_day)
        progress = np.clip((days - window.day(account.first_day)) / max(span, 1), 0.0, 1.0)
        ramp = start_level + (1.0 - start_level) * progress
    engagement = account.engagement * ramp * noise * (1.0 - 0.8 * symptoms["usage"])
    if account.seasonal:
        dates = [window.date(i) for i in range(n)]
        engagement = engagement * seasonal_factor(
            np.array([d.month for d in dates]), np.array([d.day for d in dates])
        )
    return Trajectory(
        live=live,
        seats=seats,
        users=users,
        engagement=engagement,
        symptoms=symptoms,
        trouble=trouble,
    )
