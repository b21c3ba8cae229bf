"""The account brief: one page before any conversation, every number with its source.

`build_brief(engine, account, as_of)` reads the facts (`playbooks.prep.facts`) and the
renewal forecast (`scoring.forecast`) and returns a `Brief`; `render_markdown` and
`Brief.to_json` show it. The Slack layer calls `build_brief` and renders the same
sections as blocks (escaping every text from people: names, verbatims, ticket subjects).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import Engine

from playbooks.library import load_library
from playbooks.prep.facts import AccountFacts, Figure, load_facts, tone_word
from scoring.forecast.service import RenewalForecast, forecast_account

ROLE_ORDER = ("executive_sponsor", "decision_maker", "champion", "admin", "finance", "end_user")


@dataclass
class Brief:
    facts: AccountFacts
    forecast: RenewalForecast | None
    figures: list[Figure] = field(default_factory=list)
    next_steps: list[str] = field(default_factory=list)

    def figure(self, label: str) -> Figure:
        for item in self.figures:
            if item.label == label:
                return item
        raise KeyError(label)

    def to_json(self) -> dict[str, Any]:
        score = self.facts.score
        return {
            "account": {
                "account_id": self.facts.account_id,
                "name": self.facts.name,
                "segment": self.facts.segment,
                "owner": self.facts.owner,
            },
            "as_of": self.facts.as_of.isoformat(),
            "score_as_of": score.as_of.isoformat(),
            "score_stored": self.facts.score_stored,
            "health": {
                "health": score.health,
                "band": score.band,
                "delta_7d": score.health_delta_7d,
                "delta_30d": score.health_delta_30d,
                "direction": score.direction,
                "churn_risk": score.churn_risk,
                "reasons": [
                    {k: r.get(k) for k in ("signal", "value", "baseline", "impact", "text")}
                    for r in score.reasons
                ],
            },
            "figures": [asdict(f) for f in self.figures],
            "facts": self.facts.to_json(),
            "forecast": self.forecast.to_json() if self.forecast else None,
            "expansion": {"score": score.expansion, "reasons": score.expansion_reasons},
            "next_steps": self.next_steps,
        }


def build_brief(
    engine: Engine, account: str, as_of: dt.date, library: Mapping[str, Any] | None = None
) -> Brief:
    """The brief of one account (its id or exact name) as of a date. Playbook runs are
    named by their titles from `library` (by default the shipped playbooks), as everywhere
    else in the product, not by their ids."""
    facts = load_facts(engine, account, as_of)
    titles = library if library is not None else load_library()
    for run in facts.runs:
        run.title = playbook_title(titles, run.playbook)
    forecast = forecast_account(engine, facts.account_id, as_of)
    brief = Brief(facts, forecast)
    brief.figures = _figures(facts, forecast)
    brief.next_steps = suggested_steps(facts, forecast)
    return brief


def _figures(facts: AccountFacts, forecast: RenewalForecast | None) -> list[Figure]:
    s = facts.score
    figures = [
        Figure("health", round(s.health), facts.score_source("health")),
        Figure("health change 30d", s.health_delta_30d, facts.score_source("health_delta_30d")),
        Figure("churn risk", s.churn_risk, facts.score_source("churn_risk")),
        Figure("ARR", s.arr, facts.score_source("arr")),
        Figure(
            "renewal date",
            s.renewal_date.isoformat() if s.renewal_date else None,
            facts.score_source("renewal_date"),
        ),
        facts.signal("logins_30d", "logins 30d"),
        facts.signal("logins_baseline_30d", "logins baseline 30d"),
        facts.signal("active_users_30d", "active users 30d"),
        facts.signal("seats", "seats"),
        facts.signal("license_utilisation", "licence utilisation"),
        facts.signal("feature_breadth_30d", "features used 30d"),
        facts.signal("advanced_feature_adoption", "advanced feature adoption"),
        facts.signal("usage_trend_30d", "usage trend 30d"),
        facts.signal("csat_avg", "CSAT 90d"),
        facts.signal("nps_last", "last NPS"),
        Figure("tickets 90d", facts.tickets_90d, f"tickets[{facts.account_id}] opened in 90 days"),
        Figure("open tickets", len(facts.open_tickets), f"tickets[{facts.account_id}] open"),
        Figure("expansion score", s.expansion, facts.score_source("expansion")),
    ]
    if forecast is not None:
        source = f"forecast as of {facts.as_of} ({forecast.source})"
        figures += [
            Figure("renewal probability", round(forecast.p_renew, 4), source),
            Figure("expected renewal ARR", round(forecast.expected_arr, 2), source),
        ]
    return figures


def suggested_steps(facts: AccountFacts, forecast: RenewalForecast | None) -> list[str]:
    """Next steps that follow from the facts, most pressing first (rules, not a model)."""
    steps: list[str] = []
    s = facts.score
    urgent = [t for t in facts.open_tickets if t.priority in ("high", "urgent")]
    if urgent:
        steps.append(
            f"Chase the {len(urgent)} open high-priority ticket(s) with support "
            f"(oldest {max(t.age_days for t in urgent)} days)."
        )
    days_to_renewal = (s.renewal_date - facts.as_of).days if s.renewal_date else None
    if forecast is not None and days_to_renewal is not None and forecast.p_renew < 0.8:
        active = {r.playbook for r in facts.runs}
        if "renewal" not in active and "churn_risk_save" not in active:
            steps.append(
                f"Renewal in {days_to_renewal} days at {forecast.p_renew:.0%} odds: "
                "start the renewal or churn-risk save playbook."
            )
    for person in _key_people(facts):
        if person.left_at is not None:
            steps.append(
                f"Find a successor for the {_role(person.role)} who left on {person.left_at}."
            )
        elif person.silent:
            since = f"{person.silent_days} days" if person.silent_days is not None else "a year"
            steps.append(f"Re-engage the {_role(person.role)} ({person.name}), silent for {since}.")
    utilisation = facts.signals.get("license_utilisation")
    if isinstance(utilisation, float) and utilisation == utilisation and utilisation < 0.5:
        steps.append(f"Adoption plan: only {utilisation:.0%} of licences in use.")
    detractors = [v for v in facts.verbatims if v.kind == "nps" and v.score <= 6]
    if detractors:
        steps.append(
            f"Close the loop on the NPS {detractors[0].score:.0f} from {detractors[0].submitted_at}."
        )
    if s.expansion >= 0.5:
        steps.append(f"Qualify expansion (score {s.expansion:.2f}).")
    for run in facts.runs:
        if run.next_open and run.next_due:
            steps.append(
                f'{run.title or run.playbook}: next step "{run.next_open}" due {run.next_due}.'
            )
    return steps


def playbook_title(library: Mapping[str, Any], name: str) -> str:
    """A playbook's title from the library; its id in words when the library lacks it."""
    return getattr(library.get(name), "title", None) or name.replace("_", " ")


def _key_people(facts: AccountFacts) -> list[Any]:
    key = [p for p in facts.people if p.role in ("executive_sponsor", "decision_maker", "champion")]
    return sorted(key, key=lambda p: ROLE_ORDER.index(p.role or "end_user"))


def _role(role: str | None) -> str:
    return (role or "contact").replace("_", " ")


def _pct(value: Any) -> str:
    return "–" if value is None else f"{value:.0%}"


def _num(value: Any, digits: int = 0) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return str(value)


def render_markdown(brief: Brief) -> str:
    """The brief as Markdown (for the CLI and a file; Slack renders its own blocks)."""
    f, s, fc = brief.facts, brief.facts.score, brief.forecast
    lines = [
        f"# {f.name} — account brief",
        f"{f.segment or 'no segment'} · owner {f.owner or '–'} · as of {f.as_of}"
        + ("" if f.score_stored else " · score computed now (not stored)"),
        "",
        "## Health",
        f"Health **{s.health:.0f}** ({s.band.replace('_', ' ')}), {s.direction}; "
        f"{_signed(s.health_delta_7d)} in 7 days, {_signed(s.health_delta_30d)} in 30 days; "
        f"churn risk {_pct(s.churn_risk)}.",
    ]
    against = [r for r in s.reasons if r.get("impact", 0) < 0][:3]
    for_ = [r for r in s.reasons if r.get("impact", 0) > 0][:2]
    lines += [f"- ↓ {r['text']}" for r in against] + [f"- ↑ {r['text']}" for r in for_]
    sig = f.signals
    lines += [
        "",
        "## Usage and adoption",
        f"- Logins: {_num(sig.get('logins_30d'))} in 30 days against a baseline of "
        f"{_num(sig.get('logins_baseline_30d'))} (its own 90 days, per 30).",
        f"- Active users: {_num(sig.get('active_users_30d'))} of {_num(sig.get('seats'))} "
        f"licences ({_pct(_clean(sig.get('license_utilisation')))}).",
        f"- Features used in 30 days: {_num(sig.get('feature_breadth_30d'))}; advanced features "
        f"adopted: {_pct(_clean(sig.get('advanced_feature_adoption')))}.",
        "",
        "## Stakeholders",
    ]
    people = sorted(
        f.people, key=lambda p: ROLE_ORDER.index(p.role) if p.role in ROLE_ORDER else 99
    )
    for p in people:
        if p.left_at is not None:
            state = f"left {p.left_at}"
        elif p.last_active is None:
            state = "no activity in a year"
        else:
            state = f"last active {p.last_active} ({p.silent_days} days)" + (
                " — **silent**" if p.silent else ""
            )
        lines.append(f"- {_role(p.role)}: {p.name or p.contact_id} — {state}")
    lines += ["", "## Support"]
    lines.append(
        f"{f.tickets_90d} tickets in 90 days, {len(f.open_tickets)} open; CSAT "
        f"{_num(_clean(sig.get('csat_avg')), 1)}; tone {_num(_clean(sig.get('sentiment')), 2)}."
    )
    for t in f.open_tickets[:5]:
        lines.append(
            f"- {t.ticket_id} ({t.priority or 'normal'}, {t.age_days} days, {tone_word(t.tone)}): "
            f"{t.subject}"
        )
    lines += ["", "## Surveys"]
    for kind, scores in sorted(f.survey_scores.items()):
        lines.append(
            f"- {kind.upper()}: latest {scores[0]:.0f}, mean {sum(scores) / len(scores):.1f} "
            f"over {len(scores)} in a year"
        )
    for v in f.verbatims:
        lines.append(f"> {v.comment} — {v.kind.upper()} {v.score:.0f}, {v.submitted_at}")
    lines += ["", "## Renewal"]
    lines.append(
        f"ARR {s.arr:,.0f}; renews {s.renewal_date or '–'}"
        + (f" ({(s.renewal_date - f.as_of).days} days)." if s.renewal_date else ".")
    )
    if fc is not None:
        lines.append(
            f"Forecast: {fc.p_renew:.0%} likely to renew ({fc.source}); expected renewal ARR "
            f"{fc.expected_arr:,.0f} (expansion {fc.expected_expansion:,.0f}, contraction "
            f"{fc.expected_contraction:,.0f}, churn {fc.expected_churn:,.0f})."
        )
    else:
        lines.append("No renewal in the next 180 days.")
    lines += ["", "## Playbooks"]
    if not f.runs:
        lines.append("No active playbook runs.")
    for r in f.runs:
        last = f"last done: {r.last_done} ({r.last_done_at})" if r.last_done else "nothing done yet"
        nxt = f"next: {r.next_open} (due {r.next_due})" if r.next_open else "no open steps"
        lines.append(f"- {r.title or r.playbook} (since {r.started_at}): {last}; {nxt}")
    lines += ["", "## Expansion", f"Expansion score {s.expansion:.2f}."]
    lines += [f"- {r['text']}" for r in (s.expansion_reasons or [])[:3]]
    lines += ["", "## Suggested next steps"]
    lines += [f"{i}. {step}" for i, step in enumerate(brief.next_steps, 1)] or ["Nothing pressing."]
    lines += ["", "## Sources"]
    lines += [f"- {fig.label}: {_num(fig.value, 2)} — {fig.source}" for fig in brief.figures]
    return "\n".join(lines) + "\n"


def _signed(value: float | None) -> str:
    return "–" if value is None else f"{value:+.0f}"


def _clean(value: Any) -> Any:
    return None if isinstance(value, float) and value != value else value
