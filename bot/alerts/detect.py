"""Which alert-worthy states an account is in, and which it has just entered (pure).

Four kinds of alert, each with a *state*; an alert is said once per (account, kind, state)
and may be said again only after the state changes (see `bot.alerts.service`):
- band: the account is at_risk or critical (entering critical from at_risk is a new state);
- risk: churn risk at or above the threshold (state "risk>=0.5");
- stakeholder: stakeholder coverage critical;
- expansion: the expansion score at or above its threshold.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.accounts.ranking import DEFAULT_EXPANSION_THRESHOLD, top_reasons
from storage.enums import AlertKind, Band, StakeholderBand
from storage.models import AccountScore

KINDS = tuple(AlertKind)
ALERT_BANDS = (Band.AT_RISK, Band.CRITICAL)
BAND_ORDER: dict[str, int] = {band: rank for rank, band in enumerate(Band)}


@dataclass(frozen=True)
class AlertCandidate:
    """An alert to raise: the account, what crossed, from what, and why in plain words."""

    account_id: str
    kind: str
    state: str
    previous_state: str | None
    title: str
    reasons: tuple[str, ...]


def risk_state(threshold: float) -> str:
    return f"risk>={threshold:g}"


def expansion_state(threshold: float) -> str:
    return f"expansion>={threshold:g}"


def alert_states(
    score: AccountScore | None,
    *,
    risk_threshold: float,
    expansion_threshold: float = DEFAULT_EXPANSION_THRESHOLD,
) -> dict[str, str | None]:
    """The alert-worthy state of each kind for this score (None where there is none)."""
    states: dict[str, str | None] = dict.fromkeys(KINDS)
    if score is None:
        return states
    if score.band in ALERT_BANDS:
        states[AlertKind.BAND] = score.band
    if score.churn_risk is not None and score.churn_risk >= risk_threshold:
        states[AlertKind.RISK] = risk_state(risk_threshold)
    if score.stakeholder_band == StakeholderBand.CRITICAL:
        states[AlertKind.STAKEHOLDER] = StakeholderBand.CRITICAL
    if score.expansion >= expansion_threshold and score.band not in ALERT_BANDS:
        states[AlertKind.EXPANSION] = expansion_state(expansion_threshold)
    return states


def _title(kind: str, score: AccountScore, previous: AccountScore | None) -> str:
    if kind == AlertKind.BAND:
        was = f" (was {previous.band.replace('_', ' ')})" if previous else ""
        return f"entered {score.band.replace('_', ' ')}{was}: health {score.health:.0f}"
    if kind == AlertKind.RISK:
        was = (
            f", up from {previous.churn_risk * 100:.0f}%"
            if previous is not None and previous.churn_risk is not None
            else ""
        )
        return f"churn risk rose to {(score.churn_risk or 0) * 100:.0f}%{was}"
    if kind == AlertKind.STAKEHOLDER:
        return "stakeholder coverage turned critical"
    return f"expansion signals fired (score {score.expansion * 100:.0f}%)"


def _reasons(kind: str, score: AccountScore) -> tuple[str, ...]:
    if kind == AlertKind.EXPANSION:
        return tuple(str(r["text"]) for r in score.expansion_reasons or [] if r.get("text"))[:3]
    if kind == AlertKind.STAKEHOLDER:
        roles = (score.stakeholders or {}).get("roles") or {}
        lines = []
        for role, info in roles.items():
            state = (info or {}).get("state")
            if state in ("silent", "left", "missing"):
                who = (info or {}).get("contact") or "nobody"
                silent = (info or {}).get("silent_days")
                detail = f", silent {silent} days" if state == "silent" and silent else ""
                lines.append(f"{role.replace('_', ' ')} {who}: {state}{detail}")
        return tuple(lines[:3]) or top_reasons(score)
    return top_reasons(score)


def candidates_for(
    current: AccountScore,
    kinds: dict[str, str | None],
    previous: AccountScore | None,
    previous_states: dict[str, str | None],
) -> list[AlertCandidate]:
    return [
        AlertCandidate(
            account_id=current.account_id,
            kind=kind,
            state=state,
            previous_state=previous_states.get(kind),
            title=_title(kind, current, previous),
            reasons=_reasons(kind, current),
        )
        for kind, state in kinds.items()
        if state is not None
    ]


def detect_alerts(
    previous: AccountScore | None,
    current: AccountScore,
    *,
    risk_threshold: float,
    expansion_threshold: float = DEFAULT_EXPANSION_THRESHOLD,
) -> list[AlertCandidate]:
    """The alert-worthy states `current` has entered since `previous` (None: first score).

    A band alert fires on entering at_risk or critical, and on worsening at_risk → critical,
    not on improving critical → at_risk.
    """
    now = alert_states(
        current, risk_threshold=risk_threshold, expansion_threshold=expansion_threshold
    )
    before = alert_states(
        previous, risk_threshold=risk_threshold, expansion_threshold=expansion_threshold
    )
    entered: dict[str, str | None] = {}
    for kind, state in now.items():
        if state is None or state == before[kind]:
            continue
        worse = previous is None or BAND_ORDER.get(current.band, 0) > BAND_ORDER.get(
            previous.band, 0
        )
        if kind == AlertKind.BAND and not worse:
            continue
        entered[kind] = state
    return candidates_for(current, entered, previous, before)
