"""Tickets, surveys, touchpoints and invoices of one account, as contract rows.

Each reads the account's trajectory: trouble makes tickets more frequent, urgent and
angry, survey scores fall, the sponsor or champion stop answering and attending, QBRs
get missed and invoices are paid late. Healthy accounts still produce the odd bad
ticket, late invoice or missed call, so no single signal gives the game away.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import numpy as np

from storage.demo.calendar import Window
from storage.demo.plan import AccountPlan, _add_months
from storage.demo.roster import PRODUCT_ROLES, Person
from storage.demo.texts import TICKET_TOPICS, nps_comment, ticket_text, tone_for
from storage.demo.trajectory import Trajectory

Row = tuple[Any, ...]

TICKETS_PER_MONTH = {"enterprise": 3.0, "mid_market": 1.4, "smb": 0.5}
EMAIL_EVERY = {"enterprise": 6, "mid_market": 12, "smb": 25}
CALL_EVERY = {"enterprise": 14, "mid_market": 30, "smb": 75}
MEETING_EVERY = {"enterprise": 30, "mid_market": 60, "smb": 0}
QBR_EVERY = {"enterprise": 91, "mid_market": 91, "smb": 0}


def _at(window: Window, day: int, hour: float) -> dt.datetime:
    seconds = int(min(max(hour, 0.0), 23.99) * 3600)
    return dt.datetime.combine(window.date(day), dt.time()) + dt.timedelta(seconds=seconds)


def _present(people: list[Person], day: int, roles: tuple[str, ...] | None = None) -> list[Person]:
    return [p for p in people if p.start <= day < p.end and (roles is None or p.role in roles)]


def silence(person: Person, trajectory: Trajectory, day: int) -> float:
    """How unlikely this person is to engage today (0: as usual, 1: gone quiet)."""
    if person.role == "executive_sponsor":
        quiet = 1.2 * trajectory.symptoms["sponsor"][day]
    elif person.role == "champion":
        quiet = 1.2 * trajectory.symptoms["champion"][day]
    else:
        quiet = 0.4 * trajectory.trouble[day]
    return float(min(1.0, max(quiet, person.aloof)))


def tickets(
    account: AccountPlan,
    trajectory: Trajectory,
    people: list[Person],
    window: Window,
    rng: np.random.Generator,
) -> list[Row]:
    first, last = trajectory.first, trajectory.last
    if last <= first:
        return []
    days = np.arange(first, last)
    strain = trajectory.symptoms["tickets"][first:last]
    size = (max(float(trajectory.users[first:last].mean()), 3.0) / 15.0) ** 0.4
    weekday = np.where(window.weekday[first:last] < 5, 1.0, 0.1)
    demanding = 2.5 if account.demanding else 1.0
    rate = TICKETS_PER_MONTH[account.segment] / 21.0 * size * weekday * (1.0 + 2.5 * strain)
    rate = rate * demanding
    counts = rng.poisson(rate)
    rows: list[Row] = []
    for day in np.repeat(days, counts).tolist():
        s = float(trajectory.symptoms["tickets"][day])
        tone = tone_for(max(s, 0.3 * float(trajectory.trouble[day])), rng)
        urgent = (0.12 if account.demanding else 0.04) + 0.3 * s
        high = 0.14 + 0.15 * s
        low = 0.2 * (1.0 - s)
        priority = str(
            rng.choice(
                ("urgent", "high", "low", "normal"), p=(urgent, high, low, 1 - urgent - high - low)
            )
        )
        topic = TICKET_TOPICS[int(rng.integers(len(TICKET_TOPICS)))]
        if trajectory.symptoms["invoices"][day] > 0.3 and rng.random() < 0.3:
            topic = "billing"
        subject, body = ticket_text(topic, tone, rng)
        openers = _present(people, day, PRODUCT_ROLES)
        contact = openers[int(rng.integers(len(openers)))].contact_id if openers else ""
        opened = _at(window, day, rng.uniform(7.0, 18.0))
        hours = (
            rng.lognormal(np.log(18.0), 1.0) * (0.4 if priority == "urgent" else 1.0) * (1 + 2 * s)
        )
        closed: dt.datetime | None = opened + dt.timedelta(hours=float(hours))
        if rng.random() < 0.04 or (closed is not None and closed.date() > window.end):
            closed = None
        csat: int | str = ""
        if closed is not None and rng.random() < 0.55:
            scale = {
                "calm": ((5, 4, 3), (0.6, 0.3, 0.1)),
                "concerned": ((4, 3, 2), (0.4, 0.4, 0.2)),
                "frustrated": ((3, 2, 1), (0.2, 0.4, 0.4)),
            }[tone]
            csat = int(rng.choice(scale[0], p=scale[1]))
        number = len(rows) + 1
        rows.append(
            (
                f"{account.account_id}-t{number:04d}",
                account.account_id,
                contact,
                opened,
                closed,
                priority,
                subject,
                body,
                csat,
            )
        )
    return rows


def surveys(
    account: AccountPlan,
    trajectory: Trajectory,
    people: list[Person],
    window: Window,
    rng: np.random.Generator,
    qbr_days: list[int],
) -> list[Row]:
    """Quarterly NPS waves, CSAT after held QBRs, CES after onboarding."""
    first, last = trajectory.first, trajectory.last
    rows: list[Row] = []
    if last <= first:
        return rows
    loyalty = float(rng.normal(7.9, 1.4))  # some loyal customers are chronic grumblers

    def add(day: int, contact: str, kind: str, score: float, comment: str) -> None:
        number = len(rows) + 1
        rows.append(
            (
                f"{account.account_id}-s{number:04d}",
                account.account_id,
                contact,
                _at(window, day, rng.uniform(8, 20)),
                kind,
                score,
                comment,
            )
        )

    for wave in range(first + int(rng.integers(0, 91)), last, 91):
        recipients = _present(people, wave)
        stakeholders = [p for p in recipients if p.role != "end_user"]
        users = [p for p in recipients if p.role == "end_user"]
        picks = stakeholders + [users[int(i)] for i in rng.permutation(len(users))[:4]]
        for person in picks:
            if rng.random() > 0.35 * (1.0 - silence(person, trajectory, wave)):
                continue
            day = wave + int(rng.integers(0, 10))
            if not (person.start <= day < min(person.end, last)):
                continue
            drop = 7.0 * trajectory.symptoms["nps"][day] + 1.5 * trajectory.trouble[day]
            score = int(np.clip(round(loyalty + rng.normal(0, 1.4) - drop), 0, 10))
            comment = nps_comment(score, rng) if rng.random() < 0.55 else ""
            add(day, person.contact_id, "nps", score, comment)
    sponsors = [p for p in people if p.role in ("executive_sponsor", "decision_maker")]
    for day in qbr_days:
        present = [p for p in sponsors if p.start <= day < p.end]
        if present and rng.random() < 0.4:
            score = int(
                np.clip(round(4.3 + rng.normal(0, 0.6) - 2.5 * trajectory.trouble[day]), 1, 5)
            )
            add(day, present[0].contact_id, "csat", score, "")
    done = account.milestones.get("onboarding_complete")
    if done is not None and window.start <= done and window.day(done) < last:
        admins = _present(people, window.day(done), ("admin",))
        if admins and rng.random() < 0.7:
            score = int(
                np.clip(round(rng.normal(2.5 if account.onboarding_late else 5.5, 1.0)), 1, 7)
            )
            add(window.day(done), admins[0].contact_id, "ces", score, "")
    return rows


def touchpoints(
    account: AccountPlan,
    trajectory: Trajectory,
    people: list[Person],
    window: Window,
    rng: np.random.Generator,
) -> tuple[list[Row], list[int]]:
    """The CSM's emails, calls, meetings and QBRs, and the customer's replies.

    Returns the rows and the days of held QBRs (for post-QBR CSAT surveys).
    """
    first, last = trajectory.first, trajectory.last
    rows: list[Row] = []
    held_qbrs: list[int] = []
    if last <= first:
        return rows, held_qbrs
    segment = account.segment
    found: list[tuple[dt.datetime, str, str, str]] = []

    def cadence(every: int) -> list[int]:
        if every <= 0:
            return []
        out, day = [], first + int(rng.integers(0, every))
        while day < last:
            out.append(day)
            day += max(1, int(round(every * rng.uniform(0.6, 1.4))))
        return out

    def pick(day: int, weights: Mapping[str, float]) -> Person | None:
        present = [p for p in _present(people, day) if weights.get(p.role, 0) > 0]
        if not present:
            return None
        cumulative = np.cumsum([weights[p.role] for p in present])
        return present[int(np.searchsorted(cumulative, rng.random() * cumulative[-1], "right"))]

    def status(person: Person, day: int, base: float) -> str:
        miss = (
            base
            + 0.5 * trajectory.symptoms["meetings"][day]
            + 0.5 * silence(person, trajectory, day)
        )
        if rng.random() < miss:
            return "missed" if rng.random() < 0.6 else "cancelled"
        return "held"

    email_roles = {
        "champion": 4,
        "admin": 2,
        "executive_sponsor": 2.5,
        "decision_maker": 1.5,
        "finance": 0.5,
    }
    for day in cadence(EMAIL_EVERY[segment]):
        person = pick(day, email_roles)
        if person is None:
            continue
        sent = _at(window, day, rng.uniform(8, 18))
        found.append((sent, person.contact_id, "email_out", "held"))
        if rng.random() < person.responsive * (1 - silence(person, trajectory, day)):
            reply = sent + dt.timedelta(hours=float(rng.lognormal(np.log(14), 0.8)))
            if window.day(reply.date()) < last:
                found.append((reply, person.contact_id, "email_in", "held"))
    for day in np.flatnonzero(rng.random(last - first) < 1.5 / 30).tolist():
        day += first
        person = pick(day, {"champion": 3, "admin": 3, "end_user": 0.3, "decision_maker": 1})
        if person is not None and rng.random() > silence(person, trajectory, day):
            found.append(
                (_at(window, day, rng.uniform(8, 18)), person.contact_id, "email_in", "held")
            )
    for every, kind, roles in (
        (CALL_EVERY[segment], "call", {"champion": 3, "admin": 2, "decision_maker": 1}),
        (
            MEETING_EVERY[segment],
            "meeting",
            {"champion": 2, "decision_maker": 2, "executive_sponsor": 2},
        ),
    ):
        for day in cadence(every):
            person = pick(day, roles)
            if person is not None:
                found.append(
                    (
                        _at(window, day, rng.uniform(9, 17)),
                        person.contact_id,
                        kind,
                        status(person, day, 0.06),
                    )
                )
    for day in cadence(QBR_EVERY[segment]):
        person = pick(day, {"executive_sponsor": 10, "decision_maker": 1})
        if person is None:
            continue
        state = status(person, day, 0.05)
        found.append((_at(window, day, rng.uniform(9, 17)), person.contact_id, "qbr", state))
        if state == "held":
            held_qbrs.append(day)
    found.sort()
    for number, (when, contact, kind, state) in enumerate(found, start=1):
        rows.append(
            (f"{account.account_id}-m{number:05d}", account.account_id, contact, when, kind, state)
        )
    return rows, held_qbrs


BILLING = {
    "enterprise": ((12, 3), (0.6, 0.4)),
    "mid_market": ((12, 3), (0.5, 0.5)),
    "smb": ((1, 12), (0.7, 0.3)),
}


def invoices(
    account: AccountPlan,
    trajectory: Trajectory,
    window: Window,
    rng: np.random.Generator,
    every_months: int | None = None,
) -> list[Row]:
    """Invoices for every billing period of every contract, paid on time unless in trouble
    (billed every `every_months`, or as the segment usually is)."""

    options, odds = BILLING[account.segment]
    every = int(rng.choice(options, p=odds))
    if every_months is not None:
        every = every_months
    stop = account.churn_date or (window.end + dt.timedelta(days=1))
    rows: list[Row] = []
    for term in account.terms:
        period = term.start
        while period <= term.end and period <= window.end and period < stop:
            following = min(_add_months(period, every), term.end + dt.timedelta(days=1))
            amount = round(term.arr * (following - period).days / 365.0, 2)
            issued = dt.datetime.combine(period, dt.time())
            due = issued + dt.timedelta(days=30)
            day = window.day(period)
            strain = float(trajectory.symptoms["invoices"][day]) if 0 <= day < window.days else 0.0
            delay = rng.normal(-2.0, 5.0)
            if account.late_payer:
                delay += rng.uniform(5, 35)
            paid: dt.datetime | None
            if strain > 0.5 and rng.random() < 0.45 * strain:
                paid = None
            else:
                delay += strain * rng.uniform(15, 90)
                paid_on = max(
                    (due + dt.timedelta(days=round(delay))).date(), period + dt.timedelta(days=1)
                )
                paid = dt.datetime.combine(paid_on, dt.time(10))
                if paid_on > window.end:
                    paid = None
            number = len(rows) + 1
            rows.append(
                (
                    f"{account.account_id}-i{number:03d}",
                    account.account_id,
                    issued,
                    due,
                    paid,
                    amount,
                )
            )
            period = following
    return rows
