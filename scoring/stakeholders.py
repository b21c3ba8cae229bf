"""Stakeholder engagement: the state of each key role and the account's band, and
multithreading against the ARR-based target (pure functions on plain data).

Role states: active (seen within `declining_days`), declining (silent ≥ declining_days,
i.e. two weeks without a word), silent (≥ `silent_days`), left (its contacts left in the
last 90 days and nobody holds the role now), missing (nobody holds the role).
Bands, worst first:
- critical: a severe role (executive sponsor, decision maker) silent ≥ severe_silent_days;
- concern: two or more key roles declining or worse, or a critical role silent or left;
- watch: one key role declining;
- healthy: every key role that is present is active.
Missing roles do not move the band (many small accounts have no named sponsor); they show
in the roles detail and count against multithreading.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from scoring.config import Stakeholders
from storage.enums import StakeholderBand


def role_state(detail: Mapping[str, Any] | None, config: Stakeholders) -> str:
    if not detail or not detail.get("present"):
        return "left" if detail and detail.get("left_recently") else "missing"
    silent = detail.get("silent_days")
    if silent is None:
        return "missing"
    if silent >= config.silent_days:
        return "silent"
    if silent >= config.declining_days:
        return "declining"
    return "active"


def stakeholder_band(
    roles: Mapping[str, Mapping[str, Any]], config: Stakeholders
) -> tuple[str, dict[str, dict[str, Any]]]:
    """The band and per-role states from each key role's detail
    ({"contact", "silent_days", "present", "left_recently"})."""
    states: dict[str, dict[str, Any]] = {}
    for role in config.key_roles:
        detail = roles.get(role) or {}
        states[role] = {
            "contact": detail.get("contact"),
            "silent_days": detail.get("silent_days"),
            "state": role_state(detail, config),
        }
    severe = any(
        states[role]["state"] == "silent"
        and (states[role]["silent_days"] or 0) >= config.severe_silent_days
        for role in config.severe_roles
        if role in states
    )
    if severe:
        return StakeholderBand.CRITICAL, states
    worse = [role for role, s in states.items() if s["state"] in ("declining", "silent", "left")]
    critical_gone = any(
        states[role]["state"] in ("silent", "left")
        for role in config.critical_roles
        if role in states
    )
    if len(worse) >= 2 or critical_gone:
        return StakeholderBand.CONCERN, states
    if len(worse) == 1:
        return StakeholderBand.WATCH, states
    return StakeholderBand.HEALTHY, states


def stakeholders_summary(
    roles: Mapping[str, Mapping[str, Any]],
    engaged_contacts: float | None,
    target: float | None,
    config: Stakeholders,
) -> dict[str, Any]:
    """The AccountScore.stakeholders document."""
    band, states = stakeholder_band(roles, config)
    return {
        "band": band,
        "roles": states,
        "engaged_contacts": int(engaged_contacts or 0),
        "target": int(target or 0),
        "below_target": int(engaged_contacts or 0) < int(target or 0),
    }
