"""The App Home: my accounts by risk with trend, my open steps with due dates and buttons,
and my digest. A Home view allows 100 blocks; each section is capped and says how many
more there are."""

from __future__ import annotations

import datetime as dt
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

from bot.delivery.limits import MAX_SECTION_TEXT
from bot.digests.messages import headline
from bot.digests.model import WHY_LABELS, DigestItem
from bot.home.service import HomeData
from bot.plays.messages import step_blocks
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


def _details(account_id: str) -> ButtonElement:
    return ButtonElement(
        text="Details",
        action_id=ActionId.DETAILS,
        value=ButtonValue(account_id=account_id).encode(),
    )


def account_line(item: DigestItem) -> str:
    moved = change(item.health_delta_30d)
    parts = [
        f"{band_emoji(item.band)} *{escape(item.name)}* · {money(item.arr)}",
        f"health {item.health:.0f} {band_label(item.band)}" + (f" {moved}" if moved else ""),
        f"risk {percent(item.churn_risk)}",
    ]
    if item.days_to_renewal is not None:
        parts.append(renewal(item.days_to_renewal))
    line = " · ".join(parts)
    if item.sparkline:
        line += f"\n`{item.sparkline}`"
    if item.why:
        line += " _" + ", ".join(WHY_LABELS.get(w, w) for w in item.why) + "_"
    return truncate(line, MAX_SECTION_TEXT)


def _more(block_id: str, text: str) -> ContextBlock:
    return ContextBlock(block_id=block_id, elements=[MarkdownTextObject(text=text)])


def home_view(
    home: HomeData, *, tz: str | None = None, now: dt.datetime | None = None
) -> dict[str, Any]:
    """The Home tab view (`views.publish(user_id=…, view=home_view(…))`)."""
    blocks: list[Block] = [
        HeaderBlock(block_id="home-accounts-header", text="Your accounts by risk"),
    ]
    if home.held:
        blocks.append(
            _more(
                "home-held",
                f"🔕 {home.held} update{'s' if home.held != 1 else ''} held for your next digest "
                "(your settings and the daily budget keep csbot quiet)",
            )
        )
    if home.as_of is None:
        blocks.append(_more("home-no-scores", "No scores yet — they arrive after the nightly run."))
    else:
        blocks.append(
            _more(
                "home-accounts-about",
                f"{home.accounts_total} accounts · scored as of {home.as_of:%a %d %b %Y}",
            )
        )
        for item in home.accounts:
            blocks.append(
                SectionBlock(
                    block_id=f"home-account-{item.account_id}",
                    text=MarkdownTextObject(text=account_line(item)),
                    accessory=_details(item.account_id),
                )
            )
        if home.accounts_total > len(home.accounts):
            blocks.append(
                _more(
                    "home-accounts-more",
                    f"{home.accounts_total - len(home.accounts)} more, lower risk — "
                    "`/cs risk` lists them all",
                )
            )
    blocks += [
        DividerBlock(block_id="home-steps-divider"),
        HeaderBlock(block_id="home-steps-header", text="Your open steps"),
    ]
    if not home.steps:
        blocks.append(_more("home-no-steps", "No open steps. 🎉"))
    for open_step in home.steps:
        blocks.append(
            _more(
                f"home-step-{open_step.step.id}-about",
                f"*{escape(open_step.account_name)}* · {escape(open_step.playbook_title)}",
            )
        )
        blocks.extend(step_blocks(open_step.step, tz=tz, now=now))
    if home.steps_total > len(home.steps):
        blocks.append(
            _more(
                "home-steps-more",
                f"{home.steps_total - len(home.steps)} more — `/cs my` lists them",
            )
        )
    blocks.append(DividerBlock(block_id="home-digest-divider"))
    digest = home.digest
    if digest is not None:
        posted = (
            f" · posted {home.digest_posted_at:%b %d %H:%M} UTC" if home.digest_posted_at else ""
        )
        blocks.append(HeaderBlock(block_id="home-digest-header", text="Your digest"))
        blocks.append(
            _more(
                "home-digest-about",
                f"{headline(digest)} · as of {digest.as_of:%b %d}{posted}",
            )
        )
        for item in digest.items:
            reasons = "\n".join(f"• {escape(r)}" for r in item.reasons)
            blocks.append(
                SectionBlock(
                    block_id=f"home-digest-{item.account_id}",
                    text=MarkdownTextObject(
                        text=truncate(
                            account_line(item) + ("\n" + reasons if reasons else ""),
                            MAX_SECTION_TEXT,
                        )
                    ),
                    accessory=_details(item.account_id),
                )
            )
        if digest.hidden:
            blocks.append(_more("home-digest-more", f"{digest.hidden} more need you — `/cs risk`"))
        for candidate in digest.expansion:
            blocks.append(
                SectionBlock(
                    block_id=f"home-expansion-{candidate.account_id}",
                    text=MarkdownTextObject(
                        text=truncate(
                            f"📈 *{escape(candidate.name)}* · {money(candidate.arr)} · expansion "
                            f"{percent(candidate.expansion)}\n"
                            + "\n".join(f"• {escape(s)}" for s in candidate.signals),
                            MAX_SECTION_TEXT,
                        )
                    ),
                    accessory=_details(candidate.account_id),
                )
            )
    blocks.append(
        ActionsBlock(
            block_id="home-actions",
            elements=[
                ButtonElement(text="Refresh", action_id=ActionId.HOME_REFRESH, value="refresh"),
                ButtonElement(text="Settings", action_id=ActionId.HOME_SETTINGS, value="settings"),
            ],
        )
    )
    return {"type": "home", "blocks": [block.to_dict() for block in blocks]}
