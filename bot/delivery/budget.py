"""The noise budget: the one policy every message to a person or channel passes.

Defaults (CSBOT_REALTIME_PER_DAY, CSBOT_DEFAULT_DELIVERY, CSBOT_QUIET_HOURS, and each
person's own controls in `person_prefs`):

- one digest a day, on the person's digest days, never while they are away (their cover's
  digest takes their accounts);
- at most `realtime_per_day` (2) other messages a day, and only for what cannot wait: an
  account crossing into critical, the daily reminders roll-up (overdue steps, escalations
  addressed to the person). With delivery "everything" other alerts count too; with
  "digest" nothing but the digest is sent;
- inside quiet hours an urgent message is deferred to their end (the outbox's
  `not_before`), not dropped;
- everything else is *held*: recorded in `delivery_ledger`, counted, and shown in the
  digest and the App Home ("4 updates held for your next digest").

`decide` is pure; `send` is the one place that asks it and then queues (outbox) or
records the hold. Every decision is written to the ledger under the message's key, so a
job run twice decides once.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from bot.delivery.outbox import enqueue, get_by_key
from bot.delivery.prefs import Prefs, prefs_for
from bot.delivery.users import user_time_zone
from bot.hours import in_span, local, span_end_after
from bot.settings import Settings
from storage.clock import Clock
from storage.enums import Delivery
from storage.models import OutboxMessage, SlackUser
from storage.models.noise import DeliveryLedger

logger = logging.getLogger("csbot.budget")


class Kind(StrEnum):
    DIGEST = "digest"
    ALERT = "alert"
    REMINDERS = "reminders"  # the daily roll-up: overdue steps and escalations, per person
    LEADERS = "leaders"  # the weekly summary in the leaders' channel
    # Preparation the person asked for by booking a QBR or running a playbook: not spent
    # from the real-time budget; held while they are away, deferred out of quiet hours.
    QBR = "qbr"  # a QBR draft, a week before the meeting
    DRAFTS = "drafts"  # emails held for their review
    VOC = "voc"  # the weekly themes in the product channel (a channel, like LEADERS)


PREP_KINDS = frozenset({Kind.QBR, Kind.DRAFTS})


class Decision(StrEnum):
    SENT = "sent"
    DEFERRED = "deferred"  # sent at the end of quiet hours
    HELD = "held"  # waits for the digest / App Home
    FOLDED = "folded"  # went inside that day's digest (the reminders roll-up)


@dataclass(frozen=True)
class Spent:
    """What a recipient already got (or will get) on one local day."""

    digests: int = 0
    realtime: int = 0


@dataclass(frozen=True)
class Verdict:
    decision: Decision
    reason: str | None = None
    not_before: dt.datetime | None = None  # aware local time, when deferred

    @property
    def goes_out(self) -> bool:
        return self.decision is not Decision.HELD


def decide(
    kind: Kind,
    *,
    urgent: bool,
    prefs: Prefs,
    spent: Spent,
    local_now: dt.datetime,
    realtime_per_day: int,
    day: dt.date | None = None,
) -> Verdict:
    """Pure: send, defer or hold one message for one recipient at `local_now` (aware);
    `day` is the local date it is for (a digest's date; default today)."""
    today = day or local_now.date()
    if kind in (Kind.LEADERS, Kind.VOC):
        return Verdict(Decision.SENT)
    if prefs.away_on(today):
        return Verdict(Decision.HELD, "away")
    if kind in PREP_KINDS:
        if in_span(local_now.time().replace(tzinfo=None), prefs.quiet):
            assert prefs.quiet is not None
            return Verdict(Decision.DEFERRED, "quiet hours", span_end_after(local_now, prefs.quiet))
        return Verdict(Decision.SENT)
    if kind is Kind.DIGEST:
        if today.weekday() not in prefs.digest_days:
            return Verdict(Decision.HELD, "not a digest day")
        if spent.digests >= 1:
            return Verdict(Decision.HELD, "one digest a day")
        return Verdict(Decision.SENT)
    if prefs.delivery == Delivery.DIGEST:
        return Verdict(Decision.HELD, "digest only")
    if not urgent and prefs.delivery != Delivery.EVERYTHING:
        return Verdict(Decision.HELD, "can wait for the digest")
    if spent.realtime >= realtime_per_day:
        return Verdict(Decision.HELD, "daily budget spent")
    if in_span(local_now.time().replace(tzinfo=None), prefs.quiet):
        assert prefs.quiet is not None
        return Verdict(Decision.DEFERRED, "quiet hours", span_end_after(local_now, prefs.quiet))
    return Verdict(Decision.SENT)


# -- the database side -------------------------------------------------------------------------
def recipient_tz(session: Session, recipient: str, default: str) -> str:
    """A person's Slack time zone (cached from users.info / lookupByEmail), else `default`."""

    if "@" not in recipient:
        return default
    return user_time_zone(session.get(SlackUser, recipient.strip().lower()), default)


def spent_on(session: Session, recipient: str, day: dt.date) -> Spent:
    rows = session.exec(
        select(DeliveryLedger.kind, func.count())
        .where(
            DeliveryLedger.recipient == recipient.lower(),
            DeliveryLedger.day == day,
            col(DeliveryLedger.decision).in_([Decision.SENT, Decision.DEFERRED]),
        )
        .group_by(col(DeliveryLedger.kind))
    ).all()
    counts = dict(rows)
    digests = counts.pop(Kind.DIGEST.value, 0)
    counts.pop(Kind.LEADERS.value, None)
    for kind in (Kind.VOC, *PREP_KINDS):  # prep and channel posts spend no real-time budget
        counts.pop(kind.value, None)
    return Spent(digests=digests, realtime=sum(counts.values()))


def send(
    session: Session,
    *,
    recipient: str,
    kind: Kind,
    key: str,
    channel: str,
    payload: dict[str, Any] | Sequence[dict[str, Any]],
    clock: Clock,
    settings: Settings,
    urgent: bool = False,
    account_id: str | None = None,
    items: Iterable[dict[str, Any]] = (),
    day: dt.date | None = None,
    queue_part: Callable[..., OutboxMessage] | None = None,
) -> list[OutboxMessage]:
    """Ask the budget about one message (a digest may come in several parts, queued under
    `key`, `key:part2`, …) and queue it, or record that it was held. Returns the outbox
    rows (empty when held). Idempotent on `key`: a second call returns the first answer.
    `recipient` is the person's email (whatever channel it goes to) or a channel id; `day`
    the local date the message is for (a digest's date; default: the recipient's today).
    `queue_part(key=, channel=, payload=, not_before=)` writes one admitted part to the
    outbox (`bot.slack.send.queue_budgeted` stamps it with its key, kind and subject);
    default: a plain outbox row. The caller commits."""
    parts = [payload] if isinstance(payload, dict) else list(payload)
    keys = [key if n == 1 else f"{key}:part{n}" for n in range(1, len(parts) + 1)]
    who = recipient.strip().lower() if "@" in recipient else recipient
    decided = session.exec(select(DeliveryLedger).where(DeliveryLedger.key == key)).first()
    if decided is not None:
        return [row for row in (get_by_key(session, k) for k in keys) if row is not None]
    now = clock.now()
    tz = recipient_tz(session, who, settings.timezone)
    local_now = local(now, tz)
    prefs = prefs_for(session, who, settings)
    spent = spent_on(session, who, day or local_now.date())
    verdict = decide(
        kind,
        urgent=urgent,
        prefs=prefs,
        spent=spent,
        local_now=local_now,
        realtime_per_day=settings.realtime_per_day,
        day=day,
    )
    when = (
        verdict.not_before.astimezone(dt.UTC).replace(tzinfo=None) if verdict.not_before else None
    )
    if verdict.not_before is not None:
        day = verdict.not_before.date()
    day = day or local_now.date()
    session.add(
        DeliveryLedger(
            key=key,
            recipient=who,
            day=day,
            kind=kind.value,
            decision=verdict.decision.value,
            reason=verdict.reason,
            account_id=account_id,
            items=list(items),
            created_at=now,
        )
    )
    session.flush()
    if not verdict.goes_out:
        logger.info("held %s for %s: %s", key, who, verdict.reason)
        return []
    if queue_part is None:

        def queue_part(**part: Any) -> OutboxMessage:
            return enqueue(session, kind=kind.value, clock=clock, account_id=account_id, **part)

    return [
        queue_part(key=part_key, channel=channel, payload=part, not_before=when)
        for part_key, part in zip(keys, parts, strict=True)
    ]


def held_count(session: Session, recipient: str) -> int:
    """Messages held back for `recipient` that no digest has taken in yet."""
    who = recipient.strip().lower() if "@" in recipient else recipient
    return int(
        session.exec(
            select(func.count()).where(
                DeliveryLedger.recipient == who,
                DeliveryLedger.decision == Decision.HELD,
                col(DeliveryLedger.kind) != Kind.DIGEST,
                col(DeliveryLedger.released_at).is_(None),
            )
        ).one()
    )


def release_held(session: Session, recipient: str, now: dt.datetime) -> int:
    """Mark `recipient`'s held messages as taken in by the digest being sent; how many."""
    who = recipient.strip().lower() if "@" in recipient else recipient
    rows = session.exec(
        select(DeliveryLedger).where(
            DeliveryLedger.recipient == who,
            DeliveryLedger.decision == Decision.HELD,
            col(DeliveryLedger.kind) != Kind.DIGEST,
            col(DeliveryLedger.released_at).is_(None),
        )
    ).all()
    for row in rows:
        row.released_at = now
        session.add(row)
    return len(rows)


def held_summary(session: Session, since: dt.date | None = None) -> list[tuple[str, str, str, int]]:
    """(recipient, kind, reason, count) of held messages (still waiting or taken in)."""
    query = (
        select(
            DeliveryLedger.recipient,
            DeliveryLedger.kind,
            DeliveryLedger.reason,
            func.count(),
        )
        .where(DeliveryLedger.decision == Decision.HELD)
        .group_by(
            col(DeliveryLedger.recipient), col(DeliveryLedger.kind), col(DeliveryLedger.reason)
        )
        .order_by(col(DeliveryLedger.recipient))
    )
    if since is not None:
        query = query.where(DeliveryLedger.day >= since)
    return [(r, k, reason or "", int(n)) for r, k, reason, n in session.exec(query).all()]


def _digest_time_passed(
    session: Session, recipient: str, now: dt.datetime, settings: Settings
) -> tuple[dt.date, bool] | None:
    """(the recipient's local date, whether it is a digest day for them: one of their
    digest days and they are not away) once their digest time has passed today; None
    before it. Channels use CSBOT_TIMEZONE and CSBOT_DIGEST_TIME. `due_day` and
    `rollup_day` both ask it, so the digest and the roll-up never disagree on the day."""
    tz = recipient_tz(session, recipient, settings.timezone)
    prefs = prefs_for(session, recipient, settings)
    moment = local(now, tz)
    if moment.time().replace(tzinfo=None) < prefs.digest_time:
        return None
    digest_day = moment.weekday() in prefs.digest_days and not prefs.away_on(moment.date())
    return moment.date(), digest_day


def due_day(
    session: Session, recipient: str, now: dt.datetime, settings: Settings
) -> dt.date | None:
    """The recipient's local date when their digest time has passed today, it is one of
    their digest days and they are not away; None otherwise. Channels use CSBOT_TIMEZONE
    and CSBOT_DIGEST_TIME."""
    passed = _digest_time_passed(session, recipient, now, settings)
    if passed is None:
        return None
    day, digest_day = passed
    if "@" in recipient and not digest_day:
        return None
    return day


def record_folded(
    session: Session,
    *,
    key: str,
    recipient: str,
    kind: Kind,
    day: dt.date,
    now: dt.datetime,
    items: Iterable[dict[str, Any]] = (),
) -> None:
    """Note that a message went inside the digest (not sent on its own, nothing spent), so
    its own job does not send it again. Idempotent on `key`. The caller commits."""
    if session.exec(select(DeliveryLedger.id).where(DeliveryLedger.key == key)).first():
        return
    session.add(
        DeliveryLedger(
            key=key,
            recipient=recipient.strip().lower() if "@" in recipient else recipient,
            day=day,
            kind=kind.value,
            decision=Decision.FOLDED.value,
            reason="in the digest",
            items=list(items),
            created_at=now,
        )
    )
    session.flush()


def rollup_day(
    session: Session, recipient: str, now: dt.datetime, settings: Settings
) -> dt.date | None:
    """When the reminders roll-up goes on its own: the recipient's local date once their
    digest time has passed on a day without a digest (not one of their digest days, or
    away); on digest days the digest carries it. Channels get it every day."""
    passed = _digest_time_passed(session, recipient, now, settings)
    if passed is None:
        return None
    day, digest_day = passed
    if "@" in recipient and digest_day:
        return None
    return day
