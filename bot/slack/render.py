"""Block Kit for what the Slack app itself answers: help, cards, lists, playbook runs.

Digest, alert and leaders' layouts live in `bot.messages`; these are the interaction
replies (`/cs` answers, the playbook-run message with its step buttons). Every payload is
built from `slack_sdk.models` objects, which check Slack's text limits when serialised,
and `payload()` checks the block count.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    Option,
    SectionBlock,
    StaticSelectElement,
)

from bot.ids import ActionId, ButtonValue
from bot.slack.book import AccountView, Activity
from bot.slack.command_parse import USAGE
from storage.models import Account, Contract, Outcome, PlaybookRun

MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MAX_ROWS = 15
SNOOZE_DAYS = (1, 7, 30)
STEP_MARK = {"open": ":white_square:", "done": ":white_check_mark:", "skipped": ":fast_forward:"}
BAND_MARK = {"healthy": ":large_green_circle:", "neutral": ":large_yellow_circle:",
             "at_risk": ":large_orange_circle:", "critical": ":red_circle:"}  # fmt: skip


def payload(
    text: str, blocks: Sequence[Block | dict[str, Any]], limit: int = MAX_MESSAGE_BLOCKS
) -> dict[str, Any]:
    """`{"text", "blocks"}` with every block serialised (and so validated) by slack_sdk."""
    rendered = [block.to_dict() if isinstance(block, Block) else block for block in blocks]
    if len(rendered) > limit:
        raise ValueError(f"{len(rendered)} blocks is over Slack's limit of {limit}")
    return {"text": text[:3000], "blocks": rendered}


def mrkdwn(text: str) -> MarkdownTextObject:
    return MarkdownTextObject(text=_clip(text, 3000))


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def button(
    text: str, action_id: ActionId, value: ButtonValue, style: str | None = None
) -> ButtonElement:
    return ButtonElement(
        text=_clip(text, 75), action_id=action_id, value=value.encode(), style=style
    )


def who(actor: str | None) -> str:
    """A Slack user id as a mention; an email or name as it is."""
    if not actor:
        return "nobody"
    return f"<@{actor}>" if actor[:1] in ("U", "W") and actor.isalnum() else actor


def when(moment: dt.datetime | dt.date | None) -> str:
    if moment is None:
        return "—"
    if isinstance(moment, dt.datetime):
        return f"{moment:%b %d %H:%M} UTC"
    return f"{moment:%b %d}"


def money(value: float | None) -> str:
    if value is None:
        return "—"
    if abs(value) >= 1_000_000:
        return f"${value / 1_000_000:.1f}M"
    if abs(value) >= 1_000:
        return f"${value / 1_000:.0f}k"
    return f"${value:.0f}"


# -- help ------------------------------------------------------------------------------------


def usage_message(problem: str | None = None) -> dict[str, Any]:
    lines = "\n".join(f"`/cs {form}` — {meaning}" for form, meaning in USAGE)
    blocks: list[Block] = []
    if problem:
        blocks.append(SectionBlock(text=mrkdwn(f":warning: {problem}")))
    blocks.append(SectionBlock(text=mrkdwn(f"*csbot commands*\n{lines}")))
    return payload(f"{problem + ' — ' if problem else ''}csbot commands: /cs help", blocks)


def notice(text: str) -> dict[str, Any]:
    return payload(text, [SectionBlock(text=mrkdwn(text))])


# -- accounts ----------------------------------------------------------------------------------


def score_line(view: AccountView) -> str:
    score = view.score
    if score is None:
        return "not scored yet"
    delta = (
        f" ({score.health_delta_30d:+.0f} in 30 d)" if score.health_delta_30d is not None else ""
    )
    risk = f" · churn risk {score.churn_risk:.0%}" if score.churn_risk is not None else ""
    renewal = f" · renews {when(score.renewal_date)}" if score.renewal_date else ""
    mark = BAND_MARK.get(score.band, "")
    return f"{mark} health {score.health:.0f}{delta} {score.direction} · {score.band.replace('_', ' ')}{risk} · ARR {money(score.arr)}{renewal}"


def snooze_select(action_id: ActionId, value: ButtonValue) -> StaticSelectElement:
    return StaticSelectElement(
        action_id=action_id,
        placeholder="Snooze",
        options=[
            Option(
                text=f"{days} day{'s' if days > 1 else ''}",
                value=value.model_copy(update={"option": str(days)}).encode(),
            )
            for days in SNOOZE_DAYS
        ],
    )


def choose_account(query: str, candidates: Sequence[Account], then: str = "card") -> dict[str, Any]:
    """Several accounts match: one button each (the option says what to do once chosen)."""
    rows = [
        SectionBlock(
            text=mrkdwn(f"*{account.name}* · `{account.account_id}` · {account.owner or '—'}"),
            accessory=button(
                "Choose",
                ActionId.CHOOSE_ACCOUNT,
                ButtonValue(account_id=account.account_id, option=then),
            ),
        )
        for account in candidates[:MAX_ROWS]
    ]
    head = SectionBlock(text=mrkdwn(f"Several accounts match *{query}*; which one?"))
    return payload(f"Several accounts match {query}", [head, *rows])


def book_message(title: str, views: Sequence[AccountView], empty: str) -> dict[str, Any]:
    if not views:
        return notice(empty)
    rows = [
        SectionBlock(
            text=mrkdwn(f"*{view.account.name}* — {score_line(view)}"),
            accessory=button(
                "Details", ActionId.DETAILS, ButtonValue(account_id=view.account.account_id)
            ),
        )
        for view in views[:MAX_ROWS]
    ]
    more = len(views) - MAX_ROWS
    tail = (
        [ContextBlock(elements=[mrkdwn(f"…and {more} more in the App Home")])] if more > 0 else []
    )
    return payload(title, [HeaderBlock(text=_clip(title, 150)), *rows, *tail])


def renewals_message(
    days: int, rows: Sequence[tuple[Account, Contract]], today: dt.date
) -> dict[str, Any]:
    if not rows:
        return notice(f"None of your accounts renews in the next {days} days.")
    lines = [
        f"• *{account.name}* — {when(contract.end_date)} (in {(contract.end_date - today).days} d) · ARR {money(contract.arr)}"
        for account, contract in rows[:40]
    ]
    title = f"Your renewals in the next {days} days"
    return payload(title, [HeaderBlock(text=title), SectionBlock(text=mrkdwn("\n".join(lines)))])


def playbook_list(playbooks: Iterable[Any]) -> dict[str, Any]:
    lines = [
        f"• `{getattr(p, 'name', '?')}` — {getattr(p, 'title', None) or getattr(p, 'description', '') or ''}"
        for p in playbooks
    ]
    text = "*Playbooks*\n" + ("\n".join(lines) if lines else "none loaded")
    return payload("Playbooks", [SectionBlock(text=mrkdwn(text))])


def activity_block(account_id: str, activity: Sequence[Activity]) -> ContextBlock:
    lines = " · ".join(f"{who(item.by)} {item.text} {when(item.at)}" for item in activity[-5:])
    return ContextBlock(block_id=f"activity:{account_id}"[:255], elements=[mrkdwn(lines)])


def thread_note(actor: str, text: str) -> dict[str, Any]:
    """The line recorded in an account's thread after an action."""
    return notice(f"{who(actor)} {text}")


def run_actions(run: PlaybookRun, outcome: Outcome | None) -> list[Block]:
    """What a run message adds under its steps: the outcome, and Log outcome / Snooze /
    Close while the run is active (`run:<id>` marks the message as a run message)."""
    blocks: list[Block] = []
    if outcome is not None:
        change = f", ARR {money(outcome.arr_change)}" if outcome.arr_change is not None else ""
        note = f": _{outcome.note}_" if outcome.note else ""
        text = (
            f"Outcome *{outcome.kind.replace('_', ' ')}*{change} logged by {who(outcome.by)} "
            f"{when(outcome.created_at)}{note}"
        )
        blocks.append(ContextBlock(block_id=f"run-outcome:{run.id}", elements=[mrkdwn(text)]))
    if run.status == "active":
        value = ButtonValue(account_id=run.account_id, run_id=run.id)
        elements: list[Any] = []
        if outcome is None:
            elements.append(button("Log outcome", ActionId.RUN_LOG_OUTCOME, value, style="primary"))
        elements += [
            snooze_select(ActionId.RUN_SNOOZE, value),
            button("Close run", ActionId.RUN_CLOSE, value, style="danger"),
        ]
        blocks.append(ActionsBlock(block_id=f"run:{run.id}", elements=elements))
    elif run.closed_at is not None:
        closed = f"Run {run.status} {when(run.closed_at)}"
        blocks.append(ContextBlock(block_id=f"run-closed:{run.id}", elements=[mrkdwn(closed)]))
    return blocks


def with_run_actions(message: dict[str, Any], extra: Sequence[Block]) -> dict[str, Any]:
    """`message` (a run from `bot.messages.steps`) with `extra` blocks at the end, within
    Slack's 50 blocks."""
    room = MAX_MESSAGE_BLOCKS - len(extra)
    blocks = [*message["blocks"][:room], *(block.to_dict() for block in extra)]
    return {"text": message["text"], "blocks": blocks}


def steps_list(title: str, groups: Sequence[list[dict[str, Any]]], more: int) -> dict[str, Any]:
    """My open steps: each step's blocks (from `bot.messages.steps`) under a header."""
    blocks: list[dict[str, Any]] = [
        HeaderBlock(block_id="my-steps", text=_clip(title, 150)).to_dict()
    ]
    for group in groups:
        if len(blocks) + len(group) > MAX_MESSAGE_BLOCKS - 1:
            more += 1
            continue
        blocks.extend(group)
    if more:
        blocks.append(
            ContextBlock(elements=[mrkdwn(f"…and {more} more in the App Home")]).to_dict()
        )
    return {"text": title, "blocks": blocks}
