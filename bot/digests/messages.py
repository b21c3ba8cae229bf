"""The daily digest in Block Kit: "N accounts need you today", each with why and what to do.

It fits a phone: at most CSBOT_DIGEST_SIZE accounts (5) and 20 blocks. Per account one
section (name, ARR, renewal, health with its 30-day change and band, churn risk, 12-week
sparkline, each reason once, the suggested play) with an overflow menu (Start playbook,
Assign, Snooze, Not a risk, Details), and one row: the primary button and 👍 / 👎. "See
all N" opens the paginated list of every account that qualified (`bot.digests.pages`).
Expansion candidates follow while there is room.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.accounts.actions import state_text
from bot.accounts.menu import account_menu, entry_actions
from bot.accounts.service import AccountState
from bot.delivery.limits import MAX_HEADER_TEXT, MAX_SECTION_TEXT
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
MAX_DIGEST_BLOCKS = 20  # a digest fits a phone: at most this many blocks
FALLBACK_TEXT = 3000


def headline(digest: Digest) -> str:
    count = digest.total_needing
    if count == 0:
        return "No account needs you today"
    return f"{count} account{'s' if count != 1 else ''} need{'s' if count == 1 else ''} you today"


def shown_tags(item: DigestItem) -> list[str]:
    """Why-tags not already said by the health line (its band), so no word repeats."""
    return [WHY_LABELS.get(w, w) for w in item.why if w != item.band]


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
    tags = shown_tags(item)
    if tags:
        lines.append("_" + " · ".join(tags) + "_")
    return truncate("\n".join(lines), MAX_SECTION_TEXT)


def item_text(item: DigestItem, titles: dict[str, str], state: AccountState | None = None) -> str:
    """Everything about one entry in one section: the summary, each reason once, the play,
    and (re-rendered after a click) what people did on the account since."""
    lines = [item_summary(item)]
    if item.disagreement:  # health and churn risk disagree: say why in one line
        lines.append(f"⚖ {escape(item.disagreement)}")
    seen: set[str] = set()
    for reason in item.reasons:
        if reason.strip().lower() not in seen:
            seen.add(reason.strip().lower())
            lines.append(f"• {escape(reason)}")
    if item.suggested_playbooks:
        plays = ", ".join(playbook_title(name, titles) for name in item.suggested_playbooks[:3])
        lines.append(f"→ Suggested: *{plays}*")
    said = state_text(state)
    if said:
        lines.append(said)
    return truncate("\n".join(lines), MAX_SECTION_TEXT)


def item_rule(item: DigestItem) -> str:
    """The attention rule that put the entry in the digest (its first reason)."""
    return item.why[0] if item.why else "ranked"


def item_blocks(item: DigestItem, digest: Digest, state: AccountState | None = None) -> list[Block]:
    """Two blocks: one section (with the overflow menu) and one row (primary, 👍, 👎). The
    state (re-rendering after a click) adds to the text and trims the menu, never a block."""
    titles = {choice.name: choice.title for choice in digest.playbooks}
    as_of = digest.as_of.isoformat()
    return [
        SectionBlock(
            block_id=f"digest-{item.account_id}",
            text=MarkdownTextObject(text=item_text(item, titles, state)),
            accessory=account_menu(item.account_id, as_of=as_of, state=state),
        ),
        entry_actions(
            item.account_id,
            kind="digest",
            rule=item_rule(item),
            as_of=as_of,
            suggested=item.suggested_playbooks,
            titles=titles,
            block_id=f"digest-{item.account_id}-actions",
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


def see_all_block(digest: Digest) -> ActionsBlock:
    """ "See all N": opens the paginated list of every account that qualified."""
    return ActionsBlock(
        block_id="digest-see-all",
        elements=[
            ButtonElement(
                text=f"See all {digest.total_needing}",
                action_id=ActionId.DIGEST_SEE_ALL,
                value=ButtonValue(option=digest.owner, as_of=digest.as_of.isoformat()).encode(),
            )
        ],
    )


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
                    "ranked by ARR at risk, renewal and fall" + held_note(digest.held)
                )
            ],
        ),
    ]


def reminders_block(lines: list[str]) -> SectionBlock:
    """The day's reminders roll-up inside the digest: one section, not a second message."""
    text = "*Reminders*\n" + "\n".join(lines)
    return SectionBlock(
        block_id="digest-reminders", text=MarkdownTextObject(text=truncate(text, MAX_SECTION_TEXT))
    )


def held_note(held: int) -> str:
    if not held:
        return ""
    return f" · {held} update{'s' if held != 1 else ''} held since your last digest, included here"


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


def fallback_text(digest: Digest) -> str:
    names = ", ".join(
        f"{escape(item.name)} ({band_label(item.band)}{', ' + change(item.health_delta_30d) if item.health_delta_30d else ''})"
        for item in digest.items
    )
    text = headline(digest) + (f": {names}" if names else "")
    if digest.expansion:
        text += f". Expansion: {', '.join(escape(item.name) for item in digest.expansion)}"
    return truncate(text, FALLBACK_TEXT)


def digest_message(
    digest: Digest,
    *,
    mention: str | None = None,
    max_blocks: int = MAX_DIGEST_BLOCKS,
    states: Mapping[str, AccountState] | None = None,
) -> dict[str, Any]:
    """The digest as one phone-sized message (at most `max_blocks`, 20 by default): the
    header, up to the digest size of entries (two blocks each), "See all N" when more
    qualified, then expansion candidates while there is room."""
    blocks: list[Block] = _intro(digest, mention)
    if digest.reminders:
        blocks.append(reminders_block(digest.reminders))
    states = states or {}
    groups = [item_blocks(item, digest, states.get(item.account_id)) for item in digest.items]
    room = max_blocks - len(blocks)
    see_all = digest.hidden > 0 or sum(map(len, groups)) > room
    room -= 1 if see_all else 0
    for group in groups:
        if len(group) > room:
            break
        blocks.extend(group)
        room -= len(group)
    if see_all:
        blocks.append(see_all_block(digest))
    if digest.expansion and room >= 2:
        blocks.append(_expansion_header(digest)[1])
        room -= 1
        for candidate in digest.expansion:
            group = expansion_blocks(candidate)
            if len(group) > room:
                break
            blocks.extend(group)
            room -= len(group)
    return {"text": fallback_text(digest), "blocks": [block.to_dict() for block in blocks]}


def digest_messages(
    digest: Digest,
    *,
    mention: str | None = None,
    max_blocks: int = MAX_DIGEST_BLOCKS,
    states: Mapping[str, AccountState] | None = None,
) -> list[dict[str, Any]]:
    """The digest as messages: always one now (see `digest_message`); kept as a list so
    callers that post "every part" need no change. `states` (re-rendering after a click,
    `render_digest`) shows what people did on each account."""
    return [digest_message(digest, mention=mention, max_blocks=max_blocks, states=states)]
