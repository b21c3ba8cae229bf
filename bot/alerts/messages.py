"""An alert: one account crossed a risk or expansion threshold, with the reasons and actions."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from slack_sdk.models.blocks import ContextBlock, MarkdownTextObject, SectionBlock

from bot.accounts.actions import account_actions, state_text
from bot.accounts.model import PlaybookChoice
from bot.accounts.service import AccountState
from bot.alerts.detect import AlertCandidate
from bot.delivery.limits import MAX_SECTION_TEXT
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
from storage.enums import AlertKind
from storage.models import AccountScore

KIND_ICONS: dict[str, str] = {
    AlertKind.BAND: "🚨",
    AlertKind.RISK: "⚠️",
    AlertKind.STAKEHOLDER: "👥",
    AlertKind.EXPANSION: "📈",
}


def alert_text(candidate: AlertCandidate, name: str) -> str:
    return escape(f"{name} {candidate.title}")


def alert_message(
    candidate: AlertCandidate,
    *,
    name: str,
    score: AccountScore,
    playbooks: Sequence[PlaybookChoice] = (),
    suggested: Sequence[str] = (),
    mention: str | None = None,
    state: AccountState | None = None,
) -> dict[str, Any]:
    """The alert as a message: what happened, the account's facts, why, and the actions;
    `state` (re-rendering after a click) sets the buttons and says what people did."""
    icon = KIND_ICONS.get(candidate.kind, "⚠️")
    lead = f"<@{mention}> " if mention else ""
    facts = [f"{money(score.arr)} ARR"]
    if score.renewal_date is not None:
        facts.append(renewal((score.renewal_date - score.as_of).days))
    health = f"{band_emoji(score.band)} health {score.health:.0f} ({band_label(score.band)})"
    moved = change(score.health_delta_30d)
    if moved:
        health += f" {moved} in 30 days"
    facts += [health, f"churn risk {percent(score.churn_risk)}"]
    text = f"{lead}{icon} *{escape(name)}* {escape(candidate.title)}\n" + " · ".join(facts)
    blocks: list = [
        SectionBlock(
            block_id=f"alert-{candidate.kind}",
            text=MarkdownTextObject(text=truncate(text, MAX_SECTION_TEXT)),
        )
    ]
    if candidate.reasons:
        reasons = "\n".join(f"• {escape(reason)}" for reason in candidate.reasons)
        blocks.append(
            ContextBlock(
                block_id="alert-why",
                elements=[MarkdownTextObject(text=truncate(reasons, 2000))],
            )
        )
    blocks.append(
        account_actions(
            score.account_id,
            suggested=suggested,
            library=playbooks,
            as_of=score.as_of.isoformat(),
            not_a_risk=candidate.kind != AlertKind.EXPANSION,
            state=state,
        )
    )
    said = state_text(state)
    if said:
        blocks.append(
            ContextBlock(
                block_id=f"activity:{score.account_id}"[:255],
                elements=[MarkdownTextObject(text=said)],
            )
        )
    return {
        "text": truncate(alert_text(candidate, name), 3000),
        "blocks": [block.to_dict() for block in blocks],
    }
