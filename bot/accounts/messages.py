"""The account health card: score, band, trend, reasons, stakeholders, renewal, open plays."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.accounts.actions import account_actions, state_text
from bot.accounts.model import AccountCard, RunSummary
from bot.accounts.service import AccountState, AccountView, Activity
from bot.accounts.trend import trend_word
from bot.delivery.limits import MAX_HEADER_TEXT, MAX_SECTION_TEXT
from bot.slack import blocks as render
from bot.slack import format as fmt
from bot.slack.format import (
    band_emoji,
    band_label,
    change,
    escape,
    money,
    percent,
    renewal,
    truncate,
)
from bot.slack.ids import ActionId, ButtonValue
from storage.enums import Band
from storage.models import Account, Contract

STATE_MARKS = {
    "active": "🟢",
    "declining": "🟡",
    "silent": "🟠",
    "left": "🔴",
    "missing": "⚪",
}
MAX_FIELD = 2000


def _field(title: str, body: str) -> MarkdownTextObject:
    return MarkdownTextObject(text=truncate(f"*{title}*\n{body}", MAX_FIELD))


def stakeholder_lines(stakeholders: dict[str, Any]) -> list[str]:
    lines = []
    for role, info in (stakeholders.get("roles") or {}).items():
        info = info or {}
        state = info.get("state") or "missing"
        contact = escape(str(info.get("contact") or "nobody"))
        silent = info.get("silent_days")
        detail = f", silent {silent:.0f} days" if silent and state != "active" else ""
        label = role.replace("_", " ")
        lines.append(f"{STATE_MARKS.get(state, '⚪')} {label}: {contact} — {state}{detail}")
    engaged, target = stakeholders.get("engaged_contacts"), stakeholders.get("target")
    if engaged is not None and target:
        lines.append(f"{engaged} engaged contacts of a target of {target}")
    return lines


def run_line(run: RunSummary) -> str:
    line = f"*{escape(run.title)}* — {run.open_steps} of {run.total_steps} steps open"
    if run.next_step:
        due = f", due {run.next_due:%b %d}" if run.next_due else ""
        line += f"; next: {escape(run.next_step)}{due}"
    return line


def account_card_message(
    card: AccountCard, *, actions: bool = True, state: AccountState | None = None
) -> dict[str, Any]:
    """The card as a message (also usable as modal or ephemeral content: ≤ 13 blocks);
    `state` (re-rendering after a click) sets its buttons and says what people did."""
    trend = change(card.health_delta_30d)
    trend_text = f"{trend} in 30 days" if trend else "no 30-day history"
    week = change(card.health_delta_7d)
    if week:
        trend_text += f" · {week} in 7 days"
    if card.sparkline:
        trend_text += f"\n`{card.sparkline}` {len(card.sparkline)} weeks"
    renewal_text = (
        f"{card.renewal_date:%b %d %Y} ({renewal(card.days_to_renewal)})"
        if card.renewal_date
        else "no renewal date"
    )
    fields = [
        _field("Health", f"{band_emoji(card.band)} *{card.health:.0f}* {band_label(card.band)}"),
        _field("Trend", trend_text),
        _field("Churn risk", percent(card.churn_risk)),
        _field("ARR and renewal", f"{money(card.arr)} · {renewal_text}"),
        _field("Stakeholders", band_label(card.stakeholder_band)),
        _field("Expansion", percent(card.expansion)),
    ]
    blocks: list[Block] = [
        HeaderBlock(block_id="card-header", text=truncate(card.name, MAX_HEADER_TEXT)),
        SectionBlock(block_id="card-facts", fields=fields),
    ]
    if card.snoozed:
        blocks.append(
            ContextBlock(
                block_id="card-snoozed",
                elements=[MarkdownTextObject(text=f"🔕 Snoozed {escape(card.snoozed)}")],
            )
        )
    why = "\n".join(f"• {escape(reason)}" for reason in card.reasons) or "No reasons recorded."
    blocks.append(
        SectionBlock(
            block_id="card-why",
            text=MarkdownTextObject(text=truncate(f"*Why*\n{why}", MAX_SECTION_TEXT)),
        )
    )
    if card.expansion_signals:
        signals = "\n".join(f"• {escape(s)}" for s in card.expansion_signals)
        blocks.append(
            SectionBlock(
                block_id="card-expansion",
                text=MarkdownTextObject(
                    text=truncate(f"*Expansion signals*\n{signals}", MAX_SECTION_TEXT)
                ),
            )
        )
    people = stakeholder_lines(card.stakeholders)
    if people:
        blocks.append(
            SectionBlock(
                block_id="card-stakeholders",
                text=MarkdownTextObject(
                    text=truncate("*Stakeholders*\n" + "\n".join(people), MAX_SECTION_TEXT)
                ),
            )
        )
    plays = "\n".join(run_line(run) for run in card.runs) or "No open playbooks."
    blocks.append(
        SectionBlock(
            block_id="card-plays",
            text=MarkdownTextObject(text=truncate(f"*Open plays*\n{plays}", MAX_SECTION_TEXT)),
        )
    )
    if actions:
        blocks.append(DividerBlock(block_id="card-divider"))
        blocks.append(
            account_actions(
                card.account_id,
                suggested=card.suggested_playbooks,
                library=card.playbooks,
                as_of=card.as_of.isoformat(),
                details=False,
                state=state,
            )
        )
    said = state_text(state)
    if said:
        blocks.append(
            ContextBlock(block_id="card-activity", elements=[MarkdownTextObject(text=said)])
        )
    about = [f"Scored as of {card.as_of:%b %d %Y}"]
    if card.owner:
        about.append(f"owner {escape(card.owner)}")
    if card.model_version:
        about.append(f"churn model {escape(card.model_version)}")
    blocks.append(
        ContextBlock(block_id="card-about", elements=[MarkdownTextObject(text=" · ".join(about))])
    )
    text = (
        f"{escape(card.name)}: health {card.health:.0f} ({band_label(card.band)}) {trend}, "
        f"churn risk {percent(card.churn_risk)}"
    )
    return {"text": truncate(text, 3000), "blocks": [block.to_dict() for block in blocks]}


# -- `/cs` answers about accounts: lists and choices --------------------------------------

MAX_ROWS = 15


BAND_MARK: dict[str, str] = {
    Band.HEALTHY: ":large_green_circle:",
    Band.NEUTRAL: ":large_yellow_circle:",
    Band.AT_RISK: ":large_orange_circle:",
    Band.CRITICAL: ":red_circle:",
}


def score_line(view: AccountView) -> str:
    score = view.score
    if score is None:
        return "not scored yet"
    delta = (
        f" ({score.health_delta_30d:+.0f} in 30 d)" if score.health_delta_30d is not None else ""
    )
    risk = f" · churn risk {score.churn_risk:.0%}" if score.churn_risk is not None else ""
    renewal = f" · renews {fmt.when(score.renewal_date)}" if score.renewal_date else ""
    mark = BAND_MARK.get(score.band, "")
    return f"{mark} health {score.health:.0f}{delta} {trend_word(score.health_delta_30d)} · {score.band.replace('_', ' ')}{risk} · ARR {fmt.money(score.arr)}{renewal}"


def choose_account(query: str, candidates: Sequence[Account], then: str = "card") -> dict[str, Any]:
    """Several accounts match: one button each (the option says what to do once chosen)."""
    rows = [
        SectionBlock(
            text=render.mrkdwn(
                f"*{escape(account.name)}* · `{escape(account.account_id)}` · {escape(account.owner or '—')}"
            ),
            accessory=render.button(
                "Choose",
                ActionId.CHOOSE_ACCOUNT,
                ButtonValue(account_id=account.account_id, option=then),
            ),
        )
        for account in candidates[:MAX_ROWS]
    ]
    head = SectionBlock(text=render.mrkdwn(f"Several accounts match *{escape(query)}*; which one?"))
    return render.payload(f"Several accounts match {escape(query)}", [head, *rows])


def book_message(title: str, views: Sequence[AccountView], empty: str) -> dict[str, Any]:
    if not views:
        return render.notice(empty)
    rows = [
        SectionBlock(
            text=render.mrkdwn(f"*{escape(view.account.name)}* — {score_line(view)}"),
            accessory=render.button(
                "Details", ActionId.DETAILS, ButtonValue(account_id=view.account.account_id)
            ),
        )
        for view in views[:MAX_ROWS]
    ]
    more = len(views) - MAX_ROWS
    tail = (
        [ContextBlock(elements=[render.mrkdwn(f"…and {more} more in the App Home")])]
        if more > 0
        else []
    )
    return render.payload(title, [HeaderBlock(text=fmt.truncate(title, 150)), *rows, *tail])


def renewals_message(
    days: int, rows: Sequence[tuple[Account, Contract]], today: dt.date
) -> dict[str, Any]:
    if not rows:
        return render.notice(f"None of your accounts renews in the next {days} days.")
    lines = [
        f"• *{escape(account.name)}* — {fmt.when(contract.end_date)} (in {(contract.end_date - today).days} d) · ARR {fmt.money(contract.arr)}"
        for account, contract in rows[:40]
    ]
    title = f"Your renewals in the next {days} days"
    return render.payload(
        title, [HeaderBlock(text=title), SectionBlock(text=render.mrkdwn("\n".join(lines)))]
    )


def activity_block(account_id: str, activity: Sequence[Activity]) -> ContextBlock:
    lines = " · ".join(
        f"{fmt.who(item.by)} {escape(item.text)} {fmt.when(item.at)}" for item in activity[-5:]
    )
    return ContextBlock(block_id=f"activity:{account_id}"[:255], elements=[render.mrkdwn(lines)])
