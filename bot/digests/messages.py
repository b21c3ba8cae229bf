"""The daily digest in Block Kit: "N accounts need you today", each with why and what to do.

Per account: a section (name, ARR, renewal, health with its 30-day change and band, churn
risk, 12-week sparkline), a context (the top three reasons, the suggested playbook) and an
actions block (Start playbook, Assign, Snooze, Not a risk, Details). Expansion candidates
follow. Slack allows 50 blocks per message: `digest_messages` splits a long digest into
parts, `digest_message` returns one message that ends with "N more — see the App Home".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from slack_sdk.models.blocks import (
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.accounts.actions import account_actions, state_text
from bot.accounts.service import AccountState
from bot.delivery.limits import MAX_HEADER_TEXT, MAX_MESSAGE_BLOCKS, MAX_SECTION_TEXT
from bot.digests.model import WHY_LABELS, Digest, DigestItem, ExpansionItem
from bot.slack.format import (
    band_emoji,
    band_label,
    change,
    escape,
    money,
    percent,
    playbook_title,
    renewal,
    truncate,
)
from bot.slack.ids import ActionId, ButtonValue

CONTEXT_TEXT = 2000
FALLBACK_TEXT = 3000


def headline(digest: Digest) -> str:
    count = digest.total_needing
    if count == 0:
        return "No account needs you today"
    return f"{count} account{'s' if count != 1 else ''} need{'s' if count == 1 else ''} you today"


def item_summary(item: DigestItem) -> str:
    """The account's line in mrkdwn: who, how big, how healthy, which way, how risky."""
    facts = [f"{band_emoji(item.band)} *{escape(item.name)}*", f"{money(item.arr)} ARR"]
    if item.days_to_renewal is not None:
        facts.append(renewal(item.days_to_renewal))
    health = f"Health *{item.health:.0f}* ({band_label(item.band)})"
    moved = change(item.health_delta_30d)
    if moved:
        health += f" {moved} in 30 days"
    second = [health, f"churn risk {percent(item.churn_risk)}"]
    lines = [" · ".join(facts), " · ".join(second)]
    if item.sparkline:
        lines.append(f"`{item.sparkline}` {len(item.sparkline)} weeks")
    if item.why:
        lines.append("_" + " · ".join(WHY_LABELS.get(w, w) for w in item.why) + "_")
    return truncate("\n".join(lines), MAX_SECTION_TEXT)


def item_context(
    item: DigestItem, titles: dict[str, str], state: AccountState | None = None
) -> list[MarkdownTextObject]:
    elements = []
    if item.reasons:
        reasons = "\n".join(f"• {escape(reason)}" for reason in item.reasons)
        elements.append(MarkdownTextObject(text=truncate(reasons, CONTEXT_TEXT)))
    if item.suggested_playbooks:
        plays = ", ".join(playbook_title(name, titles) for name in item.suggested_playbooks[:3])
        elements.append(MarkdownTextObject(text=truncate(f"Suggested: *{plays}*", CONTEXT_TEXT)))
    if not elements:
        elements.append(MarkdownTextObject(text="No single signal stands out; see Details."))
    said = state_text(state)
    if said:
        elements.append(MarkdownTextObject(text=said))
    return elements


def item_blocks(item: DigestItem, digest: Digest, state: AccountState | None = None) -> list[Block]:
    """An account's three blocks: summary, why (and what people did since), actions. The
    state only adds to the why line, so a re-rendered digest splits into the same parts."""
    titles = {choice.name: choice.title for choice in digest.playbooks}
    key = item.account_id
    return [
        SectionBlock(block_id=f"digest-{key}", text=MarkdownTextObject(text=item_summary(item))),
        ContextBlock(block_id=f"digest-{key}-why", elements=item_context(item, titles, state)),
        account_actions(
            item.account_id,
            suggested=item.suggested_playbooks,
            library=digest.playbooks,
            as_of=digest.as_of.isoformat(),
            state=state,
        ),
    ]


def expansion_blocks(item: ExpansionItem) -> list[Block]:
    facts = [
        f"📈 *{escape(item.name)}*",
        f"{money(item.arr)} ARR",
        f"expansion {percent(item.expansion)}",
        f"health {item.health:.0f}",
    ]
    if item.days_to_renewal is not None:
        facts.append(renewal(item.days_to_renewal))
    lines = [" · ".join(facts)] + [f"• {escape(signal)}" for signal in item.signals]
    return [
        SectionBlock(
            block_id=f"expansion-{item.account_id}",
            text=MarkdownTextObject(text=truncate("\n".join(lines), MAX_SECTION_TEXT)),
            accessory=ButtonElement(
                text="Details",
                action_id=ActionId.DETAILS,
                value=ButtonValue(account_id=item.account_id).encode(),
            ),
        )
    ]


def _intro(digest: Digest, mention: str | None) -> list[Block]:
    lead = f"<@{mention}> " if mention else ""
    book = f"{digest.accounts_in_book} account{'s' if digest.accounts_in_book != 1 else ''}"
    return [
        HeaderBlock(block_id="digest-header", text=truncate(headline(digest), MAX_HEADER_TEXT)),
        ContextBlock(
            block_id="digest-intro",
            elements=[
                MarkdownTextObject(
                    text=f"{lead}As of {digest.as_of:%a %d %b %Y} · {book} in your book · "
                    "ranked by ARR-weighted risk and change"
                )
            ],
        ),
    ]


def _expansion_header(digest: Digest) -> list[Block]:
    count = digest.total_expansion
    return [
        DividerBlock(block_id="expansion-divider"),
        SectionBlock(
            block_id="expansion-header",
            text=MarkdownTextObject(
                text=f"*Expansion candidates* ({count}) — accounts showing signals to grow"
            ),
        ),
    ]


def _more(count: int, block_id: str) -> ContextBlock:
    return ContextBlock(
        block_id=block_id,
        elements=[MarkdownTextObject(text=f"{count} more — see the App Home")],
    )


def fallback_text(digest: Digest) -> str:
    names = ", ".join(
        f"{escape(item.name)} ({band_label(item.band)}{', ' + change(item.health_delta_30d) if item.health_delta_30d else ''})"
        for item in digest.items
    )
    text = headline(digest) + (f": {names}" if names else "")
    if digest.expansion:
        text += f". Expansion: {', '.join(escape(item.name) for item in digest.expansion)}"
    return truncate(text, FALLBACK_TEXT)


def _groups(
    digest: Digest, states: Mapping[str, AccountState] | None = None
) -> tuple[list[list[Block]], list[list[Block]]]:
    states = states or {}
    attention = [item_blocks(item, digest, states.get(item.account_id)) for item in digest.items]
    expansion = []
    if digest.expansion:
        expansion.append(_expansion_header(digest))
        expansion.extend(expansion_blocks(item) for item in digest.expansion)
    return attention, expansion


def digest_messages(
    digest: Digest,
    *,
    mention: str | None = None,
    max_blocks: int = MAX_MESSAGE_BLOCKS,
    states: Mapping[str, AccountState] | None = None,
) -> list[dict[str, Any]]:
    """The whole digest as one or more messages, each within Slack's block limit.

    Accounts are never split across messages; later parts say "part 2 of 3". `states`
    (re-rendering after a click) shows what people did on each account.
    """
    attention, expansion = _groups(digest, states)
    groups = attention + expansion
    if digest.hidden:
        groups.append([_more(digest.hidden, "digest-more")])
    intro = _intro(digest, mention)
    pages: list[list[Block]] = [list(intro)]
    for group in groups:
        room = max_blocks - 1  # keep one block for a continuation marker
        if len(pages[-1]) + len(group) > room and len(pages[-1]) > 0:
            pages.append([])
        pages[-1].extend(group)
    text = fallback_text(digest)
    messages = []
    for number, page in enumerate(pages, start=1):
        blocks = page
        if number > 1:
            marker = ContextBlock(
                block_id=f"digest-part-{number}",
                elements=[
                    MarkdownTextObject(text=f"{headline(digest)} — part {number} of {len(pages)}")
                ],
            )
            blocks = [marker, *page]
        messages.append(
            {
                "text": text if number == 1 else f"{headline(digest)} (part {number})",
                "blocks": [block.to_dict() for block in blocks],
            }
        )
    return messages


def digest_message(
    digest: Digest, *, mention: str | None = None, max_blocks: int = MAX_MESSAGE_BLOCKS
) -> dict[str, Any]:
    """The digest as a single message: as many accounts as fit, then "N more — see the App
    Home" for the rest (expansion candidates follow when there is room)."""
    attention, expansion = _groups(digest)
    blocks: list[Block] = _intro(digest, mention)
    budget = max_blocks - 1  # room for the "N more" line
    expansion_size = sum(len(group) for group in expansion)
    shown = 0
    for group in attention:
        if len(blocks) + len(group) > budget:
            break
        blocks.extend(group)
        shown += 1
    if len(blocks) + expansion_size <= budget:
        for group in expansion:
            blocks.extend(group)
    hidden = digest.total_needing - shown
    if hidden > 0:
        blocks.append(_more(hidden, "digest-more"))
    return {"text": fallback_text(digest), "blocks": [block.to_dict() for block in blocks]}
