"""An escalation notice: a playbook step slipped past its grace and moved up a tier."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from slack_sdk.models.blocks import MarkdownTextObject, SectionBlock

from bot.plays.messages import step_message
from bot.slack.format import escape
from storage.models import PlaybookStep

TIER_LABELS = {"csm": "the CSM", "manager": "the CS manager", "executive": "the CS executive"}


# Where a tier's people come from, named when nobody is set up there.
TIER_SETTINGS = {
    "manager": "no manager for the CSM in CSBOT_MANAGER_MAPPING_FILE",
    "executive": "CSBOT_LEADERS_CHANNEL is not set",
}


def escalated_to(to_tier: str, told: Collection[str] | None = None) -> str:
    """Pure: who the step went to, as true as the recipients: "escalated to the CS manager"
    only when a manager is told. `told` is the tiers that hear of it (None: assume the tier's
    people are set up)."""
    label = TIER_LABELS.get(to_tier, to_tier.replace("_", " "))
    if told is None or to_tier in told or to_tier == "csm":
        return f"escalated to {label}."
    heard = [TIER_LABELS[tier] for tier in TIER_LABELS if tier in told]
    who = " and ".join(heard) or "nobody"
    verb = "is" if len(heard) == 1 else "are"
    setting = TIER_SETTINGS.get(to_tier)
    missing = f" ({setting})" if setting else ""
    return f"it is due for {label}, but csbot has no one to tell there{missing}, so only {who} {verb} told."


def escalation_message(
    step: PlaybookStep,
    *,
    account_name: str,
    playbook_title: str,
    to_tier: str,
    overdue_hours: float,
    mention: str | None = None,
    tz: str | None = None,
    told: Collection[str] | None = None,
) -> dict[str, Any]:
    """The step itself (with its Done/Skip/Assign buttons) under one line saying why it is
    here and who was told (`told`: the tiers that hear of it)."""
    days = overdue_hours / 24
    late = f"{days:.0f} days" if days >= 2 else f"{overdue_hours:.0f} hours"
    who = f"<@{mention}> " if mention else ""
    headline = (
        f"⏰ {who}*{escape(step.title)}* for *{escape(account_name)}* is {late} overdue — "
        + escalated_to(to_tier, told)
    )
    base = step_message(step, account_name=account_name, playbook_title=playbook_title, tz=tz)
    lead = SectionBlock(block_id="escalation-headline", text=MarkdownTextObject(text=headline))
    return {
        "text": escape(f"Escalated: {account_name} · {step.title} is {late} overdue"),
        "blocks": [lead.to_dict(), *base["blocks"]],
    }
