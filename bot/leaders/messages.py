"""The leaders' channel summary: health distribution, NRR and GRR, band changes, playbook
results for the period."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from typing import Any

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)
from sqlmodel import Session

from bot.accounts.service import rate_text, usefulness_report
from bot.delivery.limits import MAX_HEADER_TEXT, MAX_SECTION_TEXT
from bot.leaders.service import BANDS, LeadersSummary, build_leaders_summary
from bot.slack import blocks as render
from bot.slack.format import band_emoji, band_label, escape, money, truncate

logger = logging.getLogger(__name__)

MAX_CHANGES = 10
MAX_PLAYBOOKS = 10


def _ratio(value: float | None) -> str:
    return "n/a" if value is None else f"{value * 100:.1f}%"


def _section(block_id: str, text: str) -> SectionBlock:
    return SectionBlock(
        block_id=block_id, text=MarkdownTextObject(text=truncate(text, MAX_SECTION_TEXT))
    )


def leaders_summary_message(
    summary: LeadersSummary | Session,
    *,
    as_of: dt.date | None = None,
    period_days: int = 7,
    library: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The summary as a message. Pass a `LeadersSummary`, or a session and `as_of` to build
    the summary of the `period_days` ending on `as_of` (what the weekly job does); with a
    session it also shows how useful alerts and digest entries were."""
    session = summary if isinstance(summary, Session) else None
    if isinstance(summary, Session):
        if as_of is None:
            raise TypeError("leaders_summary_message(session, as_of=…) needs as_of")
        summary = build_leaders_summary(
            summary, start=as_of - dt.timedelta(days=period_days), end=as_of, library=library
        )
    period = f"{summary.start:%b %d} – {summary.end:%b %d %Y}"
    total_arr = sum(arr for _n, arr in summary.distribution.values()) or 0.0
    fields = []
    for band in BANDS:
        count, arr = summary.distribution.get(band, (0, 0.0))
        share = f" ({arr / total_arr * 100:.0f}% of ARR)" if total_arr else ""
        fields.append(
            MarkdownTextObject(
                text=f"{band_emoji(band)} *{band_label(band)}*\n{count} accounts · {money(arr)}{share}"
            )
        )
    r = summary.retention
    retention = (
        f"*Net revenue retention* {_ratio(r.nrr)} · *Gross revenue retention* {_ratio(r.grr)}\n"
        f"Starting ARR {money(r.starting_arr)} → {money(r.ending_arr)}: "
        f"+{money(r.expansion)} expansion, −{money(r.contraction)} contraction, "
        f"−{money(r.churned)} churned"
    )
    blocks: list[Block] = [
        HeaderBlock(
            block_id="leaders-header",
            text=truncate(f"Portfolio summary · {period}", MAX_HEADER_TEXT),
        ),
        SectionBlock(block_id="leaders-bands", fields=fields),
        _section("leaders-retention", retention),
        DividerBlock(block_id="leaders-divider"),
    ]
    worse = [c for c in summary.band_changes if c.worsened]
    better = [c for c in summary.band_changes if not c.worsened]

    def change_lines(changes: list, limit: int) -> str:
        lines = [
            f"• *{escape(c.name)}* {money(c.arr)}: {band_label(c.from_band)} → "
            f"{band_emoji(c.to_band)} {band_label(c.to_band)} ({c.health_from:.0f} → {c.health_to:.0f})"
            + (f" · {escape(c.owner)}" if c.owner else "")
            for c in changes[:limit]
        ]
        if len(changes) > limit:
            lines.append(f"…and {len(changes) - limit} more")
        return "\n".join(lines)

    if worse:
        blocks.append(
            _section(
                "leaders-worse",
                f"*Moved to a worse band ({len(worse)})*\n" + change_lines(worse, MAX_CHANGES),
            )
        )
    if better:
        blocks.append(
            _section(
                "leaders-better",
                f"*Improved ({len(better)})*\n" + change_lines(better, MAX_CHANGES // 2),
            )
        )
    if not summary.band_changes:
        blocks.append(_section("leaders-steady", "No account changed band in the period."))
    if summary.playbooks:
        lines = []
        for result in summary.playbooks[:MAX_PLAYBOOKS]:
            outcomes = ", ".join(
                f"{n} {kind.replace('_', ' ')}" for kind, n in sorted(result.outcomes.items())
            )
            arr_text = (
                f" · ARR {'+' if result.arr_change >= 0 else '−'}{money(abs(result.arr_change))}"
                if result.arr_change
                else ""
            )
            lines.append(
                f"• *{escape(result.title)}*: {result.started} started"
                + (f"; outcomes: {outcomes}" if outcomes else "; no outcomes yet")
                + arr_text
            )
        blocks.append(_section("leaders-playbooks", "*Playbook results*\n" + "\n".join(lines)))
    if session is not None:
        blocks.extend(forecast_blocks(session, summary.end))
        blocks.extend(usefulness_blocks(session, summary.end))
    blocks.append(
        ContextBlock(
            block_id="leaders-about",
            elements=[
                MarkdownTextObject(
                    text=f"{summary.accounts} accounts scored · retention over accounts with ARR on {summary.start:%b %d}"
                )
            ],
        )
    )
    text = (
        f"Portfolio summary {period}: NRR {_ratio(r.nrr)}, GRR {_ratio(r.grr)}, "
        f"{len(worse)} accounts moved to a worse band"
    )
    return render.payload(truncate(text, 3000), blocks)


MAX_RULES = 6
MAX_RENEWALS = 5


def _interval(value: float | None, low: float | None, high: float | None) -> str:
    if value is None:
        return "n/a"
    if low is None or high is None:
        return _ratio(value)
    return f"{_ratio(value)} (80% interval {_ratio(low)}–{_ratio(high)})"


def forecast_blocks(session: Session, as_of: dt.date) -> list[Block]:
    """The quarter's forecast gross and net revenue retention with their intervals, and the
    least likely renewals (`scoring.forecast`, the same numbers as `csbot forecast`)."""
    from scoring.forecast.service import forecast_renewals

    try:
        forecast = forecast_renewals(session.get_bind(), as_of)  # type: ignore[arg-type]
    except Exception:  # noqa: BLE001 - the summary goes out without a forecast
        logger.exception("leaders' summary: the renewal forecast failed")
        return []
    p = forecast.portfolio
    lines = [
        f"*Forecast for {escape(forecast.quarter)}* (to {forecast.quarter_end:%b %d})",
        f"GRR {_interval(p.grr, p.grr_low, p.grr_high)} · "
        f"NRR {_interval(p.nrr, p.nrr_low, p.nrr_high)} on {money(p.base_arr)}",
    ]
    risky = sorted(forecast.renewals, key=lambda r: r.p_renew)[:MAX_RENEWALS]
    lines += [
        f"• *{escape(r.name)}* {money(r.arr)} renews {r.renewal_date:%b %d}: "
        f"{r.p_renew:.0%} likely, expected {money(r.expected_arr)}"
        for r in risky
    ]
    if not forecast.renewals:
        lines.append("No renewals in the next 180 days.")
    return [_section("leaders-forecast", "\n".join(lines))]


def usefulness_blocks(session: Session, as_of: dt.date) -> list[Block]:
    """Per rule and per CSM over the last four weeks: entries a week and the useful rate
    of 👍 / 👎 (`csbot alerts report` has the whole table)."""
    found = usefulness_report(session, since=as_of - dt.timedelta(days=27), until=as_of)
    if not found.by_rule:
        return []
    rules = "\n".join(
        f"• {escape(s.key)}: {s.per_week:.1f} a week, useful {rate_text(s)}"
        for s in found.by_rule[:MAX_RULES]
    )
    csms = "\n".join(
        f"• {escape(s.key)}: {s.per_week:.1f} a week, useful {rate_text(s)}"
        for s in found.by_csm[:MAX_RULES]
    )
    return [
        _section(
            "leaders-usefulness",
            truncate(f"*Alerts and digest entries, last 4 weeks*\n{rules}", 3000),
        ),
        _section("leaders-usefulness-csm", truncate(f"*By CSM*\n{csms}", 3000)),
    ]
