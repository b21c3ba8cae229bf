"""Each person's own delivery controls, read with the operator's defaults filled in.

Stored per Slack user in `person_prefs` (written by the App Home / `/cs settings` modal);
jobs address people by email, so lookups go by email too. A person with no row gets the
settings' defaults: delivery CSBOT_DEFAULT_DELIVERY, digest at CSBOT_DIGEST_TIME on
CSBOT_DIGEST_DAYS, quiet hours CSBOT_QUIET_HOURS, scope "mine".
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func
from sqlmodel import Session, col, select

from bot.hours import parse_days, parse_span, parse_time
from bot.settings import Settings
from storage.enums import Delivery, Scope
from storage.models.noise import PersonPrefs


@dataclass(frozen=True)
class Prefs:
    """What one person asked for (defaults filled in)."""

    scope: str = Scope.MINE
    delivery: str = Delivery.CRITICAL
    digest_time: dt.time = dt.time(8, 30)
    digest_days: frozenset[int] = frozenset(range(5))
    quiet: tuple[dt.time, dt.time] | None = (dt.time(20), dt.time(7))
    away_until: dt.date | None = None
    cover: str | None = None

    def away_on(self, day: dt.date) -> bool:
        return self.away_until is not None and day <= self.away_until


def defaults(settings: Settings) -> Prefs:
    """The operator's defaults."""
    return Prefs(
        delivery=settings.default_delivery,
        digest_time=settings.digest_time,
        digest_days=parse_days(settings.digest_days),
        quiet=parse_span(settings.quiet_hours),
    )


def from_row(row: PersonPrefs | None, settings: Settings) -> Prefs:
    base = defaults(settings)
    if row is None:
        return base
    quiet = base.quiet
    if row.quiet_start is not None and row.quiet_end is not None:
        quiet = parse_span(f"{row.quiet_start}-{row.quiet_end}") if row.quiet_start else None
    return Prefs(
        scope=row.scope,
        delivery=row.delivery,
        digest_time=parse_time(row.digest_time) if row.digest_time else base.digest_time,
        digest_days=parse_days(row.digest_days),
        quiet=quiet,
        away_until=row.away_until,
        cover=row.cover,
    )


def row_for_email(session: Session, email: str) -> PersonPrefs | None:
    return session.exec(
        select(PersonPrefs)
        .where(func.lower(col(PersonPrefs.email)) == email.strip().lower())
        .order_by(col(PersonPrefs.updated_at).desc())
    ).first()


def prefs_for(session: Session, email: str | None, settings: Settings) -> Prefs:
    """`email`'s preferences (a channel id or None gets the defaults)."""
    if not email or "@" not in email:
        return defaults(settings)
    return from_row(row_for_email(session, email), settings)


def all_rows(session: Session) -> list[PersonPrefs]:
    return list(session.exec(select(PersonPrefs)))
