"""Small text formatters shared by every message kind (Slack mrkdwn and the terminal).

One place decides how money, health changes, bands and renewals read, so the digest, the
card, alerts and the App Home say the same thing the same way.
"""

from __future__ import annotations

import datetime as dt
import re

from storage.enums import Band

BAND_LABELS = {
    "healthy": "healthy",
    "neutral": "neutral",
    "at_risk": "at risk",
    "critical": "critical",
    "watch": "watch",
    "concern": "concern",
}
BAND_EMOJI: dict[str, str] = {
    Band.HEALTHY: "🟢",
    Band.NEUTRAL: "🟡",
    Band.AT_RISK: "🟠",
    Band.CRITICAL: "🔴",
}
SLACK_USER_ID = re.compile(r"^[UW][A-Z0-9]+$")


def escape(text: str) -> str:
    """Escape the three characters Slack mrkdwn treats as control characters."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def truncate(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters, with an ellipsis when it was cut."""
    return text if len(text) <= limit else text[: max(0, limit - 1)].rstrip() + "…"


def money(amount: float | None) -> str:
    """$1.2M, $120k, $7.1k, $900; "—" when unknown."""
    if amount is None:
        return "—"
    value = float(amount)
    if abs(value) >= 1_000_000:
        return f"${value / 1_000_000:.1f}M"
    if abs(value) >= 10_000:
        return f"${value / 1000:.0f}k"
    if abs(value) >= 1000:
        return f"${value / 1000:.1f}k"
    return f"${value:.0f}"


def band_label(band: str | None) -> str:
    return BAND_LABELS.get(band or "", band or "unknown")


def band_emoji(band: str | None) -> str:
    return BAND_EMOJI.get(band or "", "⚪")


def change(delta: float | None) -> str:
    """ "↓18", "↑5", "→0"; "" when there is no history to compare with."""
    if delta is None:
        return ""
    points = round(delta)
    if points < 0:
        return f"↓{-points}"
    if points > 0:
        return f"↑{points}"
    return "→0"


def percent(value: float | None) -> str:
    return "n/a" if value is None else f"{value * 100:.0f}%"


def renewal(days: int | None) -> str:
    """ "renews in 74 days", "renews today", "renewal 3 days overdue", "" when unknown."""
    if days is None:
        return ""
    if days == 0:
        return "renews today"
    if days < 0:
        return f"renewal {-days} day{'s' if days != -1 else ''} overdue"
    return f"renews in {days} day{'s' if days != 1 else ''}"


def who(actor: str | None) -> str:
    """A Slack user id as a mention (`<@U1>`), anything else (an email, "scheduler") as text."""
    if not actor:
        return "someone"
    return f"<@{actor}>" if SLACK_USER_ID.match(actor) else escape(actor)


def when(moment: dt.datetime | dt.date | None) -> str:
    """ "Jun 01 09:00 UTC" for a naive-UTC datetime, "Jun 01" for a date, "—" for none."""
    if moment is None:
        return "—"
    if isinstance(moment, dt.datetime):
        return f"{moment:%b %d %H:%M} UTC"
    return f"{moment:%b %d}"


def clock_time(when: dt.datetime, tz: str | None = None) -> str:
    """HH:MM of a naive-UTC datetime, in `tz` when given (the reader's time zone)."""
    if tz:
        from zoneinfo import ZoneInfo

        when = when.replace(tzinfo=dt.UTC).astimezone(ZoneInfo(tz))
    return when.strftime("%H:%M")


def playbook_title(name: str, titles: dict[str, str] | None = None) -> str:
    if titles and name in titles:
        return titles[name]
    return name.replace("_", " ").replace("-", " ").capitalize()
