"""An account's people: named stakeholders in their roles and the end users who hold seats.

Stakeholders (admin, champion, decision maker, executive sponsor, finance) exist from the
start; some leave and are replaced, and a churning account's champion may leave for good.
End users join as the account fills its seats and leave with normal staff turnover.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from storage.demo.calendar import Window
from storage.demo.plan import AccountPlan
from storage.demo.trajectory import Trajectory
from storage.demo.vocab import FIRST_NAMES, LAST_NAMES

# Each role's base chance of using the product on a working day (0: never uses it).
ROLE_ACTIVITY = {
    "admin": 0.55,
    "champion": 0.6,
    "decision_maker": 0.12,
    "executive_sponsor": 0.03,
    "finance": 0.0,
}
# Chance a stakeholder answers a CSM's email.
ROLE_RESPONSIVE = {
    "admin": 0.6,
    "champion": 0.7,
    "decision_maker": 0.45,
    "executive_sponsor": 0.45,
    "finance": 0.4,
    "end_user": 0.3,
}
PRODUCT_ROLES = ("admin", "champion", "decision_maker", "end_user")
"""Roles that may hold a seat (a decision maker on a tiny account does not use one)."""


@dataclass
class Person:
    contact_id: str
    name: str
    email: str
    role: str
    start: int  # first day they can appear (window day numbers)
    end: int  # one past the last day they can appear
    left_at: dt.datetime | None
    activity: float  # chance of using the product on a normal working day
    steadfast: float  # 0..1: how much trouble it takes before they stop using it
    hour: float  # preferred hour of the working day (UTC)
    responsive: float
    aloof: float = 0.0  # 0..1: how distant they are even when all is well (absentee sponsors)


def _stakeholder_roles(segment: str, rng: np.random.Generator) -> list[str]:
    roles = ["admin", "champion", "decision_maker"]
    if segment == "enterprise":
        roles += ["admin", "executive_sponsor", "finance", "decision_maker"]
        if rng.random() < 0.5:
            roles.append("champion")
    elif segment == "mid_market":
        roles += ["executive_sponsor", "finance"]
    else:
        if rng.random() < 0.4:
            roles.append("executive_sponsor")
        if rng.random() < 0.3:
            roles.append("finance")
    return roles


class Roster:
    """Builds the people of one account, with unique ids and email addresses."""

    def __init__(self, account: AccountPlan, rng: np.random.Generator) -> None:
        self.account = account
        self.rng = rng
        self.people: list[Person] = []
        self._emails: set[str] = set()

    def _person(self, role: str, start: int, end: int) -> Person:
        rng = self.rng
        first = FIRST_NAMES[int(rng.integers(len(FIRST_NAMES)))]
        last = LAST_NAMES[int(rng.integers(len(LAST_NAMES)))]
        email = f"{first}.{last}@{self.account.domain}".lower()
        suffix = 2
        while email in self._emails:
            email = f"{first}.{last}{suffix}@{self.account.domain}".lower()
            suffix += 1
        self._emails.add(email)
        if role == "end_user":
            activity = float(rng.beta(2.0, 11.0))
            activity = max(activity, 0.3) if self.account.grower else max(activity, 0.06)
        else:
            activity = ROLE_ACTIVITY[role] * float(rng.uniform(0.7, 1.3))
            if self.account.grower and role == "decision_maker":
                activity *= 2.5
        steadfast = float(rng.uniform(0.0, 1.0))
        if role in ("admin", "champion"):
            steadfast = 0.5 + 0.5 * steadfast
        person = Person(
            contact_id=f"{self.account.account_id}-p{len(self.people) + 1:04d}",
            name=f"{first} {last}",
            email=email,
            role=role,
            start=start,
            end=end,
            left_at=None,
            activity=activity,
            steadfast=steadfast,
            hour=float(rng.uniform(7.5, 16.5)),
            responsive=ROLE_RESPONSIVE[role] * float(rng.uniform(0.7, 1.3)),
        )
        if role == "executive_sponsor" and rng.random() < 0.5:
            person.aloof = float(rng.uniform(0.5, 0.8))  # signs the contract, rarely shows up
        self.people.append(person)
        return person

    def _leave(self, person: Person, day: int, window: Window) -> None:
        person.end = min(person.end, day)
        at = dt.datetime.combine(window.date(day), dt.time(17, 0))
        person.left_at = at if day <= window.days - 1 else None


def build_roster(
    account: AccountPlan, trajectory: Trajectory, window: Window, rng: np.random.Generator
) -> list[Person]:
    roster = Roster(account, rng)
    first, last = trajectory.first, trajectory.last
    if last <= first:
        return roster.people
    horizon = last
    for role in _stakeholder_roles(account.segment, rng):
        person = roster._person(role, first, horizon)
        if role == "decision_maker" and trajectory.seats[first] <= 6:
            person.activity = 0.0  # on a handful of seats the buyer holds none

    # A churning account's champion may leave during the warning stretch, not replaced.
    leaving = trajectory.symptoms["champion_leaves"]
    if leaving.max() > 0:
        day = int(np.argmax(leaving > 0.25 * leaving.max()))
        for person in [p for p in roster.people if p.role == "champion"][:1]:
            if first < day < person.end:
                roster._leave(person, day, window)
    # Ordinary turnover among stakeholders: leave and get replaced a few weeks later.
    for person in list(roster.people):
        if person.left_at is None and rng.random() < 0.05 * (last - first) / 365:
            day = int(rng.integers(first, last))
            if day < last - 1:
                roster._leave(person, day, window)
                replaced = day + int(rng.integers(14, 60))
                if replaced < last:
                    roster._person(person.role, replaced, horizon)

    # End users fill the licensed users; check weekly, with turnover.
    users: list[Person] = []
    for week_start in range(first, last, 7):
        target = int(round(trajectory.users[week_start]))
        in_use = [
            p
            for p in roster.people
            if p.role in PRODUCT_ROLES and p.activity > 0 and p.start <= week_start < p.end
        ]
        for person in [p for p in users if p.start <= week_start < p.end]:
            if rng.random() < 0.12 / 52:
                roster._leave(person, week_start + int(rng.integers(0, 7)), window)
        if len(in_use) < target:
            for _ in range(target - len(in_use)):
                joined = week_start if week_start == first else week_start + int(rng.integers(0, 7))
                users.append(roster._person("end_user", min(joined, last - 1), horizon))
        elif len(in_use) > target:
            spare = [p for p in in_use if p.role == "end_user"]
            for index in rng.permutation(len(spare))[: len(in_use) - target]:
                spare[int(index)].end = week_start
    return roster.people
