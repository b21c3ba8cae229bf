"""How a key contact's state reads to people: the card and the stakeholder alert say it the
same way, and say the silence once ("silent for 103 days", never "silent, silent 103 days").

Pure: plain values in, a phrase out.
"""

from __future__ import annotations


def stakeholder_state(state: str, silent_days: float | None) -> str:
    """A contact's state in words, the silence said once: "silent for 103 days", "left, last
    heard from 40 days ago", "missing", "active"."""
    days = round(silent_days) if silent_days else 0
    if state == "silent" and days:
        return f"silent for {days} day{'s' if days != 1 else ''}"
    if state == "left" and days:
        return f"{state}, last heard from {days} day{'s' if days != 1 else ''} ago"
    return state
