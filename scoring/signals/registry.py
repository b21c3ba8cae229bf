"""Every signal csbot computes: its name, dimension, meaning, unit and plain sentence.

This module is the one place a signal is defined. Parameters that tune how a signal
counts toward the health score (weights, the "bad" and "good" edges of its 0..1
normalisation) live in `scoring/defaults.yml`; the SQL that computes the values lives in
one module per source table beside this one. Names here are the canonical names other
areas (the churn model, playbook triggers, the digest) use.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

Row = Mapping[str, float | None]

DIMENSIONS = ("engagement", "relationship", "support", "contract", "expansion", "stakeholders")


@dataclass(frozen=True)
class SignalDef:
    """One signal. `baseline` names the signal a reason compares the value with, and
    `value_of` the signal whose number a reason reports (for a ratio such as
    login_change the reason reports logins against baseline logins)."""

    name: str
    dimension: str
    doc: str
    unit: str
    text: Callable[[Row], str]
    baseline: str | None = None
    value_of: str | None = None


def _num(row: Row, name: str) -> float | None:
    value = row.get(name)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return float(value)


def _int(value: float | None) -> str:
    return "no" if value is None else f"{round(value):,}"


def _pct(value: float | None) -> str:
    return "?" if value is None else f"{abs(value) * 100:.0f}%"


def _weekly(value: float | None) -> str:
    return "?" if value is None else f"{value * 7 / 30:.0f}"


def _plural(n: float | None, word: str) -> str:
    count = 0 if n is None else round(n)
    return f"{count:,} {word}" + ("" if count == 1 else "s")


def _change(row: Row, name: str, noun: str, current: str, baseline: str, unit: str) -> str:
    change = _num(row, name)
    if change is None:
        return f"{noun} have no baseline yet"
    word = "down" if change < 0 else "up"
    if abs(change) < 0.05:
        return f"{noun} level with the 90-day baseline"
    if unit == "week":
        numbers = f"({_weekly(_num(row, baseline))} → {_weekly(_num(row, current))} a week)"
    else:
        b, c = _num(row, baseline), _num(row, current)
        numbers = f"({'?' if b is None else f'{b:.1f}'} → {_int(c)} in 30 days)"
    return f"{noun} {word} {_pct(change)} against the 90-day baseline {numbers}"


def _against_baseline(row: Row, name: str, when: str) -> str:
    change = _num(row, name)
    if change is None:
        return "Usage has no 90-day baseline yet"
    if abs(change) < 0.05:
        return f"Usage {when} level with weeks 4-12"
    word = "down" if change < 0 else "up"
    return f"Usage {word} {_pct(change)} {when} against weeks 4-12"


def _trend(row: Row, name: str, days: int) -> str:
    slope = _num(row, name)
    if slope is None:
        return f"Not enough usage to measure a {days}-day trend"
    if abs(slope) < 0.01:
        return f"Usage flat over {days} days"
    word = "falling" if slope < 0 else "rising"
    return f"Usage {word} {_pct(slope)} a week over {days} days"


def _silent(row: Row, name: str, who: str) -> str:
    days = _num(row, name)
    if days is None:
        return f"No {who.lower()} on record"
    if days < 1:
        return f"{who} active today"
    return f"{who} silent for {_plural(days, 'day')}"


def _renewal(row: Row) -> str:
    days = _num(row, "days_to_renewal")
    if days is None:
        return "No current contract"
    if days < 0:
        return f"Renewal overdue by {_plural(-days, 'day')}"
    return f"Renewal in {_plural(days, 'day')}"


def _nps_last(row: Row) -> str:
    score = _num(row, "nps_last")
    if score is None:
        return "No NPS response in 12 months"
    kind = "detractor" if score <= 6 else "passive" if score <= 8 else "promoter"
    return f"Last NPS response {score:.0f} ({kind})"


def _nps_trend(row: Row) -> str:
    trend = _num(row, "nps_trend")
    if trend is None:
        return "Not enough NPS responses for a trend"
    if abs(trend) < 0.05:
        return "NPS unchanged against the six months before"
    word = "down" if trend < 0 else "up"
    return f"NPS {word} {abs(trend):.1f} points against the six months before"


def _urgent(row: Row) -> str:
    count = _num(row, "urgent_tickets_30d") or 0
    still_open = _num(row, "urgent_open") or 0
    text = f"{_plural(count, 'urgent or high ticket')} in 30 days"
    if still_open:
        text += f", {_int(still_open)} still open"
    return text


def _utilisation(row: Row) -> str:
    ratio = _num(row, "license_utilisation")
    if ratio is None:
        return "Licence utilisation unknown (no seat count)"
    return (
        f"{_pct(ratio)} of {_int(_num(row, 'seats'))} licences in use "
        f"({_plural(_num(row, 'active_users_30d'), 'active user')} in 30 days)"
    )


def _sentiment(row: Row) -> str:
    value = _num(row, "sentiment")
    if value is None:
        return "No ticket or survey text in 90 days"
    tone = "Negative" if value <= -0.05 else "Positive" if value >= 0.05 else "Neutral"
    return f"{tone} tone in tickets and survey comments over 90 days ({value:+.2f})"


def _overdue(row: Row) -> str:
    count = _num(row, "overdue_invoices") or 0
    if not count:
        return "No overdue invoices"
    return f"{_plural(count, 'invoice')} overdue, the oldest by {_plural(_num(row, 'days_overdue'), 'day')}"


def _qbr(row: Row) -> str:
    held = _num(row, "qbrs_held_365d") or 0
    missed = _num(row, "qbrs_missed_365d") or 0
    if held + missed == 0:
        return "No QBR scheduled in 12 months"
    return f"{_int(held)} of {_int(held + missed)} QBRs held in 12 months"


def _momentum(row: Row) -> str:
    now, before = _num(row, "touchpoints_21d"), _num(row, "touchpoints_prev_21d")
    return f"{_int(now)} interactions in the last 21 days against {_int(before)} in the 21 before"


def _growth(row: Row) -> str:
    growth = _num(row, "active_user_growth")
    now, before = _num(row, "active_users_30d"), _num(row, "active_users_prev_30d")
    if growth is None:
        return "No active users in the previous 30 days to compare with"
    word = "up" if growth >= 0 else "down"
    return (
        f"Active users {word} {_pct(growth)} on the previous 30 days ({_int(before)} → {_int(now)})"
    )


def _ratio_text(template: str, name: str) -> Callable[[Row], str]:
    return lambda row: template.format(_pct(_num(row, name)))


def _count_text(template: str, name: str) -> Callable[[Row], str]:
    return lambda row: template.format(_int(_num(row, name)))


def _left(who: str, name: str) -> Callable[[Row], str]:
    return lambda row: (
        f"{who} left in the last 90 days" if _num(row, name) else f"{who} still in place"
    )


_DEFS: tuple[SignalDef, ...] = (
    # Engagement -----------------------------------------------------------------------
    SignalDef(
        "logins_30d",
        "engagement",
        "Login events (sum of quantity) in the 30 days to D.",
        "logins",
        _count_text("{} logins in 30 days", "logins_30d"),
    ),
    SignalDef(
        "logins_baseline_30d",
        "engagement",
        "Logins in the 90 days to D, scaled to 30 days (the account's own baseline).",
        "logins",
        _count_text("{} logins per 30 days over the last 90 days", "logins_baseline_30d"),
    ),
    SignalDef(
        "login_change",
        "engagement",
        "logins_30d / logins_baseline_30d − 1; NaN without baseline logins.",
        "ratio",
        lambda r: _change(r, "login_change", "Logins", "logins_30d", "logins_baseline_30d", "week"),
        baseline="logins_baseline_30d",
        value_of="logins_30d",
    ),
    SignalDef(
        "active_users_30d",
        "engagement",
        "Distinct contacts with usage in the 30 days to D.",
        "users",
        _count_text("{} active users in 30 days", "active_users_30d"),
    ),
    SignalDef(
        "active_users_prev_30d",
        "engagement",
        "Distinct contacts with usage in the 30 days before the last 30.",
        "users",
        _count_text("{} active users in the 30 days before", "active_users_prev_30d"),
    ),
    SignalDef(
        "seats",
        "engagement",
        "Seats of the current contract.",
        "seats",
        _count_text("{} seats", "seats"),
    ),
    SignalDef(
        "license_utilisation", "engagement", "active_users_30d / seats.", "ratio", _utilisation
    ),
    SignalDef(
        "feature_breadth_30d",
        "engagement",
        "Distinct non-login features used in the 30 days to D.",
        "features",
        _count_text("{} features used in 30 days", "feature_breadth_30d"),
    ),
    SignalDef(
        "core_feature_share",
        "engagement",
        "Share of people's feature usage (quantity; logins and account-level rows excluded) on core features, 30 days.",
        "ratio",
        _ratio_text("Core features are {} of usage in 30 days", "core_feature_share"),
    ),
    SignalDef(
        "usage_regularity_90d",
        "engagement",
        "Share of weekdays (Mon–Fri) with any usage in the 90 days to D.",
        "ratio",
        _ratio_text("Product used on {} of weekdays over 90 days", "usage_regularity_90d"),
    ),
    SignalDef(
        "usage_trend_30d",
        "engagement",
        "Least-squares slope of weekly usage over the last 4 weeks, as a share of the mean week.",
        "ratio/week",
        lambda r: _trend(r, "usage_trend_30d", 30),
    ),
    SignalDef(
        "usage_trend_60d",
        "engagement",
        "Slope of weekly usage over the last 9 weeks, as a share of the mean week.",
        "ratio/week",
        lambda r: _trend(r, "usage_trend_60d", 60),
    ),
    SignalDef(
        "usage_trend_90d",
        "engagement",
        "Slope of weekly usage over the last 13 weeks, as a share of the mean week.",
        "ratio/week",
        lambda r: _trend(r, "usage_trend_90d", 90),
    ),
    SignalDef(
        "usage_vs_baseline_7d",
        "engagement",
        "All usage in the last week against the mean week of weeks 4-12 before D, minus 1.",
        "ratio",
        lambda r: _against_baseline(r, "usage_vs_baseline_7d", "in the last week"),
    ),
    SignalDef(
        "usage_vs_baseline_30d",
        "engagement",
        "All usage in the last 4 weeks against the mean week of weeks 4-12 before D, minus 1.",
        "ratio",
        lambda r: _against_baseline(r, "usage_vs_baseline_30d", "over the last 4 weeks"),
    ),
    SignalDef(
        "active_days_90d",
        "engagement",
        "Weekdays (Mon–Fri) with any usage in the 90 days to D (for limited-history detection).",
        "days",
        _count_text("Used on {} weekdays in 90 days", "active_days_90d"),
    ),
    # Relationship ---------------------------------------------------------------------
    SignalDef(
        "days_since_two_way_touchpoint",
        "relationship",
        "Days since the last held call, meeting or QBR, or inbound email.",
        "days",
        lambda r: (
            "No two-way conversation on record"
            if _num(r, "days_since_two_way_touchpoint") is None
            else f"Last two-way conversation {_plural(_num(r, 'days_since_two_way_touchpoint'), 'day')} ago"
        ),
    ),
    SignalDef(
        "qbrs_held_365d", "relationship", "QBRs held in the 365 days to D.", "meetings", _qbr
    ),
    SignalDef(
        "qbrs_missed_365d",
        "relationship",
        "QBRs missed or cancelled in the 365 days to D.",
        "meetings",
        _qbr,
    ),
    SignalDef(
        "qbr_attendance",
        "relationship",
        "QBRs held / (held + missed or cancelled) in 365 days; NaN when none was scheduled.",
        "ratio",
        _qbr,
    ),
    SignalDef(
        "email_response_hours",
        "relationship",
        "Mean hours from each email_out (90 days) to the next email_in, each capped at 14 days; an unanswered one counts the hours elapsed so far.",
        "hours",
        lambda r: (
            "No outbound email in 90 days"
            if _num(r, "email_response_hours") is None
            else f"Customer replies to our emails in {_num(r, 'email_response_hours'):.0f} hours (average, 90 days)"
        ),
    ),
    SignalDef(
        "active_contacts_90d",
        "relationship",
        "Distinct contacts with a held touchpoint or email in the 90 days to D.",
        "contacts",
        _count_text("{} contacts in conversation with us in 90 days", "active_contacts_90d"),
    ),
    SignalDef(
        "sponsor_silent_days",
        "relationship",
        "Days since the most recently active executive sponsor (not left) was last active in any source (usage counts within 90 days; never seen = tenure, at most silence_cap_days).",
        "days",
        lambda r: _silent(r, "sponsor_silent_days", "Executive sponsor"),
    ),
    SignalDef(
        "champion_silent_days",
        "relationship",
        "Days since the most recently active champion was last active.",
        "days",
        lambda r: _silent(r, "champion_silent_days", "Champion"),
    ),
    SignalDef(
        "decision_maker_silent_days",
        "relationship",
        "Days since the most recently active decision maker was last active.",
        "days",
        lambda r: _silent(r, "decision_maker_silent_days", "Decision maker"),
    ),
    SignalDef(
        "champion_left",
        "relationship",
        "1 when a champion left (left_at) in the 90 days to D, else 0.",
        "flag",
        _left("Champion", "champion_left"),
    ),
    SignalDef(
        "sponsor_left",
        "relationship",
        "1 when an executive sponsor left in the 90 days to D, else 0.",
        "flag",
        _left("Executive sponsor", "sponsor_left"),
    ),
    SignalDef(
        "decision_maker_left",
        "relationship",
        "1 when a decision maker left in the 90 days to D, else 0.",
        "flag",
        _left("Decision maker", "decision_maker_left"),
    ),
    SignalDef(
        "nps_last",
        "relationship",
        "The latest NPS response (0–10) in the 365 days to D.",
        "score",
        _nps_last,
    ),
    SignalDef(
        "nps_trend",
        "relationship",
        "Mean NPS of the last 180 days minus the mean of the 180 days before.",
        "points",
        _nps_trend,
    ),
    SignalDef(
        "nps_indifferent",
        "relationship",
        "1 when the last three or more NPS responses (365 days) lie within one point of each other.",
        "flag",
        lambda r: (
            f"NPS flat at about {_int(_num(r, 'nps_last'))} across the last three surveys"
            if _num(r, "nps_indifferent")
            else "NPS responses vary"
        ),
    ),
    # Support ----------------------------------------------------------------------------
    SignalDef(
        "tickets_30d",
        "support",
        "Tickets opened in the 30 days to D.",
        "tickets",
        _count_text("{} tickets in 30 days", "tickets_30d"),
    ),
    SignalDef(
        "tickets_baseline_30d",
        "support",
        "Tickets opened in the 90 days to D, scaled to 30 days.",
        "tickets",
        _count_text("{} tickets per 30 days over 90 days", "tickets_baseline_30d"),
    ),
    SignalDef(
        "ticket_volume_change",
        "support",
        "tickets_30d / tickets_baseline_30d − 1; 0 when there were no tickets.",
        "ratio",
        lambda r: _change(
            r, "ticket_volume_change", "Tickets", "tickets_30d", "tickets_baseline_30d", "month"
        ),
        baseline="tickets_baseline_30d",
        value_of="tickets_30d",
    ),
    SignalDef(
        "urgent_tickets_30d",
        "support",
        "High or urgent tickets opened in the 30 days to D.",
        "tickets",
        _urgent,
    ),
    SignalDef(
        "urgent_open", "support", "High or urgent tickets still open at D.", "tickets", _urgent
    ),
    SignalDef(
        "open_ticket_age_days",
        "support",
        "Age in days of the oldest ticket open at D; 0 when none is open.",
        "days",
        lambda r: (
            "No open tickets"
            if not _num(r, "open_ticket_age_days")
            else f"Oldest open ticket is {_plural(_num(r, 'open_ticket_age_days'), 'day')} old"
        ),
    ),
    SignalDef(
        "csat_avg",
        "support",
        "Mean CSAT (1–5) of tickets closed and CSAT surveys answered in the 90 days to D.",
        "score",
        lambda r: (
            "No CSAT in 90 days"
            if _num(r, "csat_avg") is None
            else f"CSAT {_num(r, 'csat_avg'):.1f} of 5 over 90 days"
        ),
    ),
    SignalDef(
        "sentiment",
        "support",
        "Mean VADER compound score (−1..1) of ticket subject+body and survey comments in the 90 days to D.",
        "score",
        _sentiment,
    ),
    # Contract and finance ---------------------------------------------------------------
    SignalDef(
        "arr",
        "contract",
        "ARR of the current contract (the latest one started by D when none covers D).",
        "currency",
        lambda r: f"ARR {_int(_num(r, 'arr'))}",
    ),
    SignalDef(
        "days_to_renewal",
        "contract",
        "Days from D to the end_date of the current contract (negative when it lapsed).",
        "days",
        _renewal,
    ),
    SignalDef(
        "tenure_days",
        "contract",
        "Days since the account was created (or its first contract started).",
        "days",
        lambda r: f"Customer for {_plural(_num(r, 'tenure_days'), 'day')}",
    ),
    SignalDef(
        "renewals",
        "contract",
        "Renewals so far: renewed lifecycle events, or contracts after the first.",
        "count",
        lambda r: (
            f"Renewed {_plural(_num(r, 'renewals'), 'time')}"
            if _num(r, "renewals")
            else "Not renewed yet"
        ),
    ),
    SignalDef(
        "overdue_invoices", "contract", "Invoices past due and unpaid at D.", "invoices", _overdue
    ),
    SignalDef(
        "days_overdue",
        "contract",
        "Days the oldest overdue invoice is past due; 0 when none.",
        "days",
        _overdue,
    ),
    SignalDef(
        "late_invoices_365d",
        "contract",
        "Invoices due in the 365 days to D that were paid after their due date.",
        "invoices",
        _count_text("{} invoices paid late in 12 months", "late_invoices_365d"),
    ),
    SignalDef(
        "late_invoice_share_90d",
        "contract",
        "Share of the invoices due in the 90 days to D paid late or still unpaid.",
        "ratio",
        lambda r: (
            "No invoice fell due in 90 days"
            if _num(r, "late_invoice_share_90d") is None
            else f"{_pct(_num(r, 'late_invoice_share_90d'))} of the invoices due in 90 days paid late or unpaid"
        ),
    ),
    SignalDef(
        "contractions",
        "contract",
        "Contracted lifecycle events so far.",
        "count",
        lambda r: f"Contracted {_plural(_num(r, 'contractions'), 'time')} before",
    ),
    # Expansion --------------------------------------------------------------------------
    SignalDef(
        "seat_saturation_days",
        "expansion",
        "Days (in whole weeks, up to 56) of the latest run of weeks whose weekly active users were ≥ 85% of seats.",
        "days",
        lambda r: (
            f"Seats at 85% utilisation or more for {_plural(_num(r, 'seat_saturation_days'), 'day')}"
        ),
    ),
    SignalDef(
        "advanced_feature_adoption",
        "expansion",
        "Share of the configured advanced features used in the 30 days to D.",
        "ratio",
        _ratio_text("{} of advanced features in use", "advanced_feature_adoption"),
    ),
    SignalDef(
        "new_contacts_30d",
        "expansion",
        "Contacts active in the last 30 days who were not active in the 60 days before.",
        "contacts",
        _count_text("{} new contacts engaged in 30 days", "new_contacts_30d"),
    ),
    SignalDef(
        "active_user_growth",
        "expansion",
        "active_users_30d / active_users_prev_30d − 1.",
        "ratio",
        _growth,
        baseline="active_users_prev_30d",
        value_of="active_users_30d",
    ),
    SignalDef(
        "touchpoints_21d",
        "expansion",
        "Held touchpoints and emails in the 21 days to D.",
        "interactions",
        _momentum,
    ),
    SignalDef(
        "touchpoints_prev_21d",
        "expansion",
        "Held touchpoints and emails in the 21 days before those.",
        "interactions",
        _momentum,
    ),
    SignalDef(
        "touchpoint_momentum",
        "expansion",
        "(touchpoints_21d − touchpoints_prev_21d) / max(touchpoints_prev_21d, 1).",
        "ratio",
        _momentum,
        baseline="touchpoints_prev_21d",
        value_of="touchpoints_21d",
    ),
    # Stakeholders -----------------------------------------------------------------------
    SignalDef(
        "engaged_contacts_90d",
        "stakeholders",
        "Distinct contacts (not left) active in any source in the 90 days to D.",
        "contacts",
        lambda r: (
            f"{_plural(_num(r, 'engaged_contacts_90d'), 'engaged contact')} against a target of {_int(_num(r, 'multithreading_target'))}"
        ),
    ),
    SignalDef(
        "multithreading_target",
        "stakeholders",
        "Engaged contacts an account of this ARR should have (tiers in defaults.yml).",
        "contacts",
        _count_text("Target of {} engaged contacts", "multithreading_target"),
    ),
)

SIGNALS: dict[str, SignalDef] = {definition.name: definition for definition in _DEFS}
SIGNAL_NAMES: list[str] = [definition.name for definition in _DEFS]


def signal(name: str) -> SignalDef:
    try:
        return SIGNALS[name]
    except KeyError:
        raise KeyError(f"unknown signal {name!r}") from None


def describe(name: str, row: Row) -> str:
    """The plain sentence for one signal of one account's row."""
    return SIGNALS[name].text(row)
