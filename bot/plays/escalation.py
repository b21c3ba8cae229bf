"""An escalation notice: a playbook step slipped past its grace and moved up a tier."""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import MarkdownTextObject, SectionBlock

from bot.plays.messages import step_message
from bot.slack.format import escape
from storage.models import PlaybookStep

TIER_LABELS = {"csm": "the CSM", "manager": "the CS manager", "executive": "the CS executive"}


def escalation_message(
    step: PlaybookStep,
    *,
    account_name: str,
    playbook_title: str,
    to_tier: str,
    overdue_hours: float,
    mention: str | None = None,
    tz: str | None = None,
) -> dict[str, Any]:
    """The step itself (with its Done/Skip/Assign buttons) under one line saying why it is here."""
    days = overdue_hours / 24
    late = f"{days:.0f} days" if days >= 2 else f"{overdue_hours:.0f} hours"
    who = f"<@{mention}> " if mention else ""
    headline = (
        f"⏰ {who}*{escape(step.title)}* for *{escape(account_name)}* is {late} overdue — "
        f"escalated to {TIER_LABELS.get(to_tier, to_tier)}."
    )
    base = step_message(step, account_name=account_name, playbook_title=playbook_title, tz=tz)
    lead = SectionBlock(block_id="escalation-headline", text=MarkdownTextObject(text=headline))
    return {
        "text": escape(f"Escalated: {account_name} · {step.title} is {late} overdue"),
        "blocks": [lead.to_dict(), *base["blocks"]],
    }
