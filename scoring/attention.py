"""The one attention ranking: which few accounts deserve each CSM's attention today, and why.

Pure: plain score records in (an `AccountScore`, or a mapping with the same fields plus
`owner`), ranked entries out. `load_attention` is the thin loader over stored scores.

Value of a CSM's attention to an account, in dollars of ARR:

    arr_at_risk  = churn probability × ARR
    urgency      = 1 + renewal pull + trajectory pull
                   renewal pull   = 1 − days to renewal / renewal_window (0 outside it)
                   trajectory pull = min(1, 30-day health fall / (2 × falling_points))
    expansion    = expansion score × ARR × expansion_share
    value        = arr_at_risk × urgency + expansion

The churn probability is the model's when one is active, else a proxy read off health:
`health_risk_scale` × (80 − health) / 80, clipped to 0..1 (0 for a healthy account). An account is
*eligible* only with a reason today (`why_today`): churn risk at or above the alert
threshold, health in an at-risk band, falling fast, critical stakeholder coverage, a
renewal inside the window while its risk is at least half the alert threshold, or an
expansion score worth a conversation on a healthy account. Low risk and no other reason:
never listed, however large the ARR. Each CSM gets at most `per_csm` entries a day
(`CSBOT_ATTENTION_PER_CSM`, 5).

Where health and churn risk disagree strongly (health not at risk while churn risk is at
least 50% and the alert threshold, or health critical while churn risk is under 10% and a
third of the threshold),
the entry's `disagreement` is one line that says why: the model's top reason.

Callers: `scoring.service` stores `value` as `AccountScore.attention`; `csbot digest
--format json` prints `rank_attention`'s entries. The bot's digest, App Home, `/cs risk`,
alerts and "See all" rank through `bot.accounts.attention.rank_accounts`, which applies
`why_today` and `attention_parts`; the `why` keys match `bot.accounts.ranking`'s labels.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col

from storage.enums import Band, StakeholderBand
from storage.models import Account, AccountScore

RISKY_BANDS = (Band.AT_RISK, Band.CRITICAL)


@dataclass(frozen=True)
class AttentionSettings:
    """The knobs of the ranking (defaults match csbot's settings)."""

    per_csm: int = 5
    alert_threshold: float = 0.5  # the model's alert threshold (chosen at training)
    renewal_window_days: int = 90
    falling_points: float = 10.0
    expansion_threshold: float = 0.6
    expansion_share: float = 0.2  # ARR share a successful expansion conversation is worth
    health_risk_scale: float = 0.5  # health → risk proxy when no model is active
    healthy_line: float = 80.0  # the proxy is 0 at or above this health


@dataclass
class AttentionEntry:
    """One selected account for one CSM, with the parts of its value and why today."""

    rank: int
    account_id: str
    owner: str | None
    value: float
    arr_at_risk: float
    urgency: float
    expansion_value: float
    churn_risk: float | None
    health: float
    band: str
    arr: float
    renewal_date: dt.date | None
    why: list[str] = field(default_factory=list)  # keys (bot/digest/ranking WHY_LABELS)
    reasons: list[str] = field(default_factory=list)  # one line each: why today
    disagreement: str | None = None

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["renewal_date"] = self.renewal_date.isoformat() if self.renewal_date else None
        return out


def _get(record: Any, name: str, default: Any = None) -> Any:
    if isinstance(record, Mapping):
        return record.get(name, default)
    return getattr(record, name, default)


def _num(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    return None if math.isnan(number) else number


def churn_probability(record: Any, settings: AttentionSettings) -> float:
    """The model's churn risk, else the health proxy (see the module doc)."""
    risk = _num(_get(record, "churn_risk"))
    if risk is not None:
        return min(max(risk, 0.0), 1.0)
    health = _num(_get(record, "health"))
    health = 50.0 if health is None else health
    below = (settings.healthy_line - health) / settings.healthy_line
    return min(max(below, 0.0), 1.0) * settings.health_risk_scale


def _days_to_renewal(record: Any, as_of: dt.date) -> int | None:
    renewal = _get(record, "renewal_date")
    if renewal is None:
        return None
    if isinstance(renewal, str):
        renewal = dt.date.fromisoformat(renewal)
    return (renewal - as_of).days


def top_model_reason(record: Any) -> str | None:
    """The churn model's largest cause (not timing context), as its sentence."""
    for reason in _get(record, "churn_reasons") or []:
        if reason.get("kind", "cause") == "cause" and reason.get("text"):
            return str(reason["text"])
    return None


def disagreement_line(record: Any, settings: AttentionSettings) -> str | None:
    """One line when health and churn risk disagree strongly; None when they agree."""
    risk = _num(_get(record, "churn_risk"))
    if risk is None:
        return None
    band = str(_get(record, "band") or "")
    health = _num(_get(record, "health")) or 0.0
    top = top_model_reason(record)
    if band not in RISKY_BANDS and risk >= max(settings.alert_threshold, 0.5):
        because = f": {top}" if top else ""
        return f"Health {health:.0f} looks fine, but churn risk is {risk:.0%}{because}"
    if band == Band.CRITICAL and risk < min(settings.alert_threshold / 3, 0.1):
        because = f"; the model's largest factor: {top}" if top else ""
        return f"Health {health:.0f} is critical, but churn risk is only {risk:.0%}{because}"
    return None


def why_today(record: Any, as_of: dt.date, settings: AttentionSettings) -> list[str]:
    """Keys of every reason the account needs its owner today (empty: it does not)."""
    why: list[str] = []
    band = str(_get(record, "band") or "")
    risk = _num(_get(record, "churn_risk"))
    if band in RISKY_BANDS:
        why.append(band)
    fall = _num(_get(record, "health_delta_30d"))
    if fall is not None and fall <= -settings.falling_points:
        why.append("falling_fast")
    if risk is not None and risk >= settings.alert_threshold:
        why.append("high_churn_risk")
    if _get(record, "stakeholder_band") == StakeholderBand.CRITICAL:
        why.append("stakeholder_critical")
    days = _days_to_renewal(record, as_of)
    if (
        days is not None
        and 0 <= days <= settings.renewal_window_days
        and (
            churn_probability(record, settings) >= settings.alert_threshold / 2
            or band in RISKY_BANDS
        )
    ):
        why.append("renewal_at_risk")
    expansion = _num(_get(record, "expansion")) or 0.0
    if expansion >= settings.expansion_threshold and band not in RISKY_BANDS:
        why.append("expansion")
    return why


def attention_parts(
    record: Any, as_of: dt.date, settings: AttentionSettings
) -> tuple[float, float, float, float]:
    """(value, arr_at_risk, urgency, expansion_value) of one account (module doc)."""
    arr = max(_num(_get(record, "arr")) or 0.0, 0.0)
    at_risk = churn_probability(record, settings) * arr
    pull = 0.0
    days = _days_to_renewal(record, as_of)
    if days is not None and 0 <= days <= settings.renewal_window_days:
        pull += 1.0 - days / settings.renewal_window_days
    fall = max(0.0, -(_num(_get(record, "health_delta_30d")) or 0.0))
    pull += min(1.0, fall / (2 * settings.falling_points))
    urgency = 1.0 + pull
    expansion = (_num(_get(record, "expansion")) or 0.0) * arr * settings.expansion_share
    return at_risk * urgency + expansion, at_risk, urgency, expansion


def attention_value(
    record: Any, as_of: dt.date, settings: AttentionSettings | None = None
) -> float:
    """The value of the owner's attention to this account today (dollars of ARR)."""
    return attention_parts(record, as_of, settings or AttentionSettings())[0]


def _money(value: float) -> str:
    if value >= 1_000_000:
        return f"${value / 1_000_000:.1f}M"
    if value >= 1_000:
        return f"${value / 1_000:.0f}k"
    return f"${value:.0f}"


def _sentences(
    record: Any, why: list[str], as_of: dt.date, parts: tuple[float, float, float, float]
) -> list[str]:
    lines: list[str] = []
    risk = _num(_get(record, "churn_risk"))
    arr = _num(_get(record, "arr")) or 0.0
    if risk is not None and ("high_churn_risk" in why or parts[1] > 0):
        lines.append(f"Churn risk {risk:.0%} on {_money(arr)} ARR ({_money(parts[1])} at risk)")
    band = str(_get(record, "band") or "")
    if band in RISKY_BANDS:
        lines.append(f"Health {(_num(_get(record, 'health')) or 0):.0f}, {band.replace('_', ' ')}")
    if "falling_fast" in why:
        fall = -(_num(_get(record, "health_delta_30d")) or 0.0)
        lines.append(f"Health fell {fall:.0f} points in 30 days")
    if "stakeholder_critical" in why:
        lines.append("Key stakeholders silent or gone")
    days = _days_to_renewal(record, as_of)
    if "renewal_at_risk" in why and days is not None:
        lines.append(f"Renews in {days} days")
    if "expansion" in why:
        lines.append(f"Expansion signals ({_money(parts[3])} of potential value)")
    return lines


def rank_attention(
    records: Iterable[Any], as_of: dt.date, settings: AttentionSettings | None = None
) -> list[tuple[Any, float, tuple[str, ...]]]:
    """Eligible records (a reason today), most valuable first: (record, value, why keys).

    The same shape as `bot.digest.ranking.rank_attention`, so callers that slice the top
    few of one CSM's records switch to this by import; `select_attention` applies the
    per-CSM cap and builds the entries with sentences. Ties break on the account id."""
    settings = settings or AttentionSettings()
    ranked = []
    for record in records:
        why = why_today(record, as_of, settings)
        if why:
            ranked.append((record, attention_parts(record, as_of, settings)[0], tuple(why)))
    ranked.sort(key=lambda row: (-row[1], str(_get(row[0], "account_id"))))
    return ranked


def select_attention(
    records: Iterable[Any],
    as_of: dt.date,
    settings: AttentionSettings | None = None,
) -> dict[str | None, list[AttentionEntry]]:
    """Each owner's selected accounts, most valuable first, at most `per_csm` each.

    Only accounts with a reason today are eligible; ties break on the account id."""
    settings = settings or AttentionSettings()
    by_owner: dict[str | None, list[tuple[float, str, AttentionEntry]]] = {}
    for record in records:
        why = why_today(record, as_of, settings)
        if not why:
            continue
        parts = attention_parts(record, as_of, settings)
        account_id = str(_get(record, "account_id"))
        renewal = _get(record, "renewal_date")
        if isinstance(renewal, str):
            renewal = dt.date.fromisoformat(renewal)
        entry = AttentionEntry(
            rank=0,
            account_id=account_id,
            owner=_get(record, "owner"),
            value=round(parts[0], 2),
            arr_at_risk=round(parts[1], 2),
            urgency=round(parts[2], 4),
            expansion_value=round(parts[3], 2),
            churn_risk=_num(_get(record, "churn_risk")),
            health=float(_num(_get(record, "health")) or 0.0),
            band=str(_get(record, "band") or ""),
            arr=float(_num(_get(record, "arr")) or 0.0),
            renewal_date=renewal,
            why=why,
            reasons=_sentences(record, why, as_of, parts),
            disagreement=disagreement_line(record, settings),
        )
        by_owner.setdefault(entry.owner, []).append((-parts[0], account_id, entry))
    out: dict[str | None, list[AttentionEntry]] = {}
    for owner, items in sorted(by_owner.items(), key=lambda kv: str(kv[0])):
        items.sort(key=lambda item: (item[0], item[1]))
        chosen = [entry for _, _, entry in items[: settings.per_csm]]
        for rank, entry in enumerate(chosen, start=1):
            entry.rank = rank
        out[owner] = chosen
    return out


def load_attention(
    session: Session,
    as_of: dt.date,
    settings: AttentionSettings | None = None,
    owners: Iterable[str] | None = None,
) -> dict[str | None, list[AttentionEntry]]:
    """`rank_attention` over the scores stored as of `as_of` (with each account's owner)."""
    query = (
        select(AccountScore, col(Account.owner))
        .join(Account, col(Account.account_id) == col(AccountScore.account_id))
        .where(col(AccountScore.as_of) == as_of)
    )
    wanted = set(owners) if owners is not None else None
    records = []
    for score, owner in session.execute(query):
        if wanted is not None and owner not in wanted:
            continue
        record = {name: getattr(score, name) for name in _FIELDS}
        record["owner"] = owner
        records.append(record)
    return select_attention(records, as_of, settings)


_FIELDS = (
    "account_id",
    "health",
    "band",
    "health_delta_30d",
    "churn_risk",
    "expansion",
    "stakeholder_band",
    "renewal_date",
    "arr",
    "churn_reasons",
)
