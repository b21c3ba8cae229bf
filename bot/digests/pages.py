""" "See all N": every account that qualified for a digest, in the digest's order, a page
at a time in a modal (Next / Previous), so no account is out of reach.

The list is recomputed from the stored scores for the accounts the digest's reader covers
(their scope and the people they cover for, as the digest) and its date (the same
exclusions as the digest: snoozed, "not a risk"); the modal's private_metadata remembers
owner, date and page.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
    ContextBlock,
    MarkdownTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View
from sqlmodel import Session

from bot.accounts.attention import attention_rules, rank_accounts
from bot.accounts.ranking import ScoreFacts
from bot.delivery.limits import MAX_SECTION_TEXT
from bot.digests.model import WHY_LABELS
from bot.digests.service import (
    latest_facts,
    load_audiences,
    not_a_risk_accounts,
    snoozed_accounts,
    viewed_by,
)
from bot.settings import Settings
from bot.slack.format import band_emoji, change, escape, money, percent, truncate
from bot.slack.ids import ActionId, ButtonValue, CallbackId

PAGE_SIZE = 15


@dataclass(frozen=True)
class Line:
    account_id: str
    name: str
    facts: ScoreFacts
    why: tuple[str, ...]


def needing(
    session: Session, viewer: str, as_of: dt.date, now: dt.datetime, settings: Settings
) -> list[Line]:
    """Every account that qualifies as of `as_of` among those `viewer`'s digest covers
    (their scope and covers, `load_audiences`, as the digest itself), in the digest's order."""
    audience = load_audiences(session, settings, {viewer: as_of})
    rows = viewed_by(latest_facts(session, as_of), audience)
    names = {facts.account_id: name for facts, name, _o in rows}
    left_out = snoozed_accounts(session, now) | not_a_risk_accounts(session, as_of)
    ranked = rank_accounts(
        [f for f, _n, _o in rows if f.account_id not in left_out],
        as_of,
        attention_rules(session, settings),
    )
    return [Line(f.account_id, names[f.account_id], f, why) for f, _p, why in ranked]


def line_text(number: int, line: Line) -> str:
    facts = line.facts
    moved = change(facts.health_delta_30d)
    health = f"health {facts.health:.0f}" + (f" {moved} in 30 days" if moved else "")
    tags = ", ".join(WHY_LABELS.get(w, w) for w in line.why)
    return truncate(
        f"{number}. {band_emoji(facts.band)} *{escape(line.name)}* · {money(facts.arr)} ARR · "
        f"{health} · churn risk {percent(facts.churn_risk)}\n_{tags}_",
        MAX_SECTION_TEXT,
    )


def page_count(total: int, size: int = PAGE_SIZE) -> int:
    return max(1, -(-total // size))


def see_all_view(
    lines: list[Line], *, owner: str, as_of: dt.date, page: int, size: int = PAGE_SIZE
) -> dict[str, Any]:
    """One page of the list as a modal (≤ 100 blocks: `size` lines plus three)."""
    pages = page_count(len(lines), size)
    page = min(max(1, page), pages)
    start = (page - 1) * size
    blocks: list[Any] = [
        ContextBlock(
            block_id="see-all-about",
            elements=[
                MarkdownTextObject(
                    text=f"{len(lines)} accounts need you as of {as_of:%a %d %b} · "
                    f"page {page} of {pages}"
                )
            ],
        )
    ]
    for number, line in enumerate(lines[start : start + size], start=start + 1):
        blocks.append(
            SectionBlock(
                block_id=f"see-all-{line.account_id}",
                text=MarkdownTextObject(text=line_text(number, line)),
                accessory=ButtonElement(
                    text="Details",
                    action_id=ActionId.DETAILS,
                    value=ButtonValue(account_id=line.account_id).encode(),
                ),
            )
        )
    nav = []
    if page > 1:
        nav.append(_page_button("← Previous", owner, as_of, page - 1, ActionId.DIGEST_PAGE_BACK))
    if page < pages:
        nav.append(_page_button("Next →", owner, as_of, page + 1))
    if nav:
        blocks.append(ActionsBlock(block_id="see-all-pages", elements=nav))
    meta = ButtonValue(option=owner, as_of=as_of.isoformat(), run_id=page).encode()
    return View(
        type="modal",
        callback_id=CallbackId.DIGEST_ALL,
        title="All that need you",
        close="Close",
        blocks=blocks,
        private_metadata=meta,
    ).to_dict()


def _page_button(
    text: str, owner: str, as_of: dt.date, page: int, action: ActionId = ActionId.DIGEST_PAGE
) -> ButtonElement:
    return ButtonElement(
        text=text,
        action_id=action,
        value=ButtonValue(option=owner, as_of=as_of.isoformat(), run_id=page).encode(),
    )
