"""Playbook steps in Slack: each step with Done / Skip / Assign while open, and after a click
who did what and when ("✅ Done by <@U1> at 09:12").

Rendered from the step's stored state every time (never patched by hand), so a click
handler writes to the database and re-renders the whole message with `run_message`.
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
    PlainTextObject,
    SectionBlock,
    UserSelectElement,
)

from bot.delivery.limits import MAX_HEADER_TEXT, MAX_MESSAGE_BLOCKS, MAX_SECTION_TEXT
from bot.slack import blocks as render
from bot.slack import format as fmt
from bot.slack.format import clock_time, escape, truncate, who
from bot.slack.ids import ActionId, ButtonValue
from storage.enums import RunStatus, StepStatus
from storage.models import Outcome, PlaybookRun, PlaybookStep

INSTRUCTIONS_PREVIEW = 280
STATUS_MARKS = {"done": "✅", "skipped": "⏭️"}


def step_value(step: PlaybookStep) -> ButtonValue:
    return ButtonValue(step_id=step.id, run_id=step.run_id)


def step_number(step: PlaybookStep) -> int:
    """The step's number as people read it: 1 for the first (positions are stored from 0)."""
    return step.position + 1


def step_status_line(step: PlaybookStep, tz: str | None = None) -> str | None:
    """ "✅ Done by <@U1> at 09:12" (or Skipped); None while the step is open."""
    if step.status not in STATUS_MARKS:
        return None
    verb = "Done" if step.status == StepStatus.DONE else "Skipped"
    when = ""
    if step.done_at is not None:
        when = f" at {clock_time(step.done_at, tz)}"
        if step.done_at.date() != step.due_at.date():
            when += f" on {step.done_at:%b %d}"
    line = f"{STATUS_MARKS[step.status]} {verb} by {who(step.done_by)}{when}"
    if step.note:
        line += f" — “{escape(truncate(step.note, 500))}”"
    return line


def step_summary(step: PlaybookStep, now: dt.datetime | None = None) -> str:
    owner = who(step.owner) if step.owner else step.owner_role
    due = f"due {step.due_at:%b %d}"
    if now is not None and step.status == StepStatus.OPEN and step.due_at < now:
        due = f"⏰ overdue since {step.due_at:%b %d}"
    head = f"*{step_number(step)}. {escape(step.title)}* · {step.kind} · {owner} · {due}"
    if step.status == StepStatus.OPEN and step.instructions:
        head += "\n" + escape(truncate(step.instructions, INSTRUCTIONS_PREVIEW))
    return truncate(head, MAX_SECTION_TEXT)


def step_actions(step: PlaybookStep) -> ActionsBlock:
    value = step_value(step).encode()
    return ActionsBlock(
        block_id=value,
        elements=[
            ButtonElement(text="Done", action_id=ActionId.STEP_DONE, value=value, style="primary"),
            ButtonElement(text="Skip", action_id=ActionId.STEP_SKIP, value=value),
            UserSelectElement(
                action_id=ActionId.STEP_ASSIGN,
                placeholder=PlainTextObject(text="Assign"),
                initial_user=step.owner if step.owner and step.owner.startswith("U") else None,
            ),
        ],
    )


def step_blocks(
    step: PlaybookStep, *, tz: str | None = None, now: dt.datetime | None = None
) -> list[Block]:
    """A step: its section, then its buttons (open) or who closed it and when."""
    blocks: list[Block] = [
        SectionBlock(
            block_id=f"step-{step.id}", text=MarkdownTextObject(text=step_summary(step, now))
        )
    ]
    status = step_status_line(step, tz)
    if status is None:
        blocks.append(step_actions(step))
    else:
        blocks.append(
            ContextBlock(
                block_id=f"step-{step.id}-status",
                elements=[MarkdownTextObject(text=truncate(status, 2000))],
            )
        )
    return blocks


def step_message(
    step: PlaybookStep,
    *,
    account_name: str,
    playbook_title: str,
    tz: str | None = None,
    now: dt.datetime | None = None,
) -> dict[str, Any]:
    """One step as its own message (a reminder, an escalation, an assignment)."""
    context = ContextBlock(
        block_id="step-context",
        elements=[MarkdownTextObject(text=f"*{escape(account_name)}* · {escape(playbook_title)}")],
    )
    blocks = [context, *step_blocks(step, tz=tz, now=now)]
    status = step_status_line(step, tz)
    text = escape(f"{account_name} · {playbook_title}: {step.title}") + (
        f" — {status}" if status else ""
    )
    return render.payload(truncate(text, 3000), blocks)


def run_message(
    run: PlaybookRun,
    steps: Sequence[PlaybookStep],
    *,
    account_name: str,
    playbook_title: str,
    tz: str | None = None,
    now: dt.datetime | None = None,
) -> dict[str, Any]:
    """A playbook run with all its steps, re-rendered after every click.

    Steps are listed in order; if a long playbook would pass Slack's 50 blocks, the last
    steps are summarised in one line.
    """
    done = sum(1 for s in steps if s.status != StepStatus.OPEN)
    header = HeaderBlock(
        block_id="run-header",
        text=truncate(f"{playbook_title} · {account_name}", MAX_HEADER_TEXT),
    )
    about = f"{done} of {len(steps)} steps closed · started {run.started_at:%b %d} by {who(run.started_by)}"
    if run.trigger_reason:
        about += f" · {escape(truncate(run.trigger_reason, 300))}"
    if run.status != RunStatus.ACTIVE:
        about += f" · run {run.status}"
    blocks: list[Block] = [
        header,
        ContextBlock(block_id="run-about", elements=[MarkdownTextObject(text=about)]),
    ]
    ordered = sorted(steps, key=lambda s: s.position)
    budget = MAX_MESSAGE_BLOCKS - 1
    for index, step in enumerate(ordered):
        group = step_blocks(step, tz=tz, now=now)
        if len(blocks) + len(group) > budget:
            rest = len(ordered) - index
            blocks.append(
                ContextBlock(
                    block_id="run-more",
                    elements=[MarkdownTextObject(text=f"{rest} more steps — see the App Home")],
                )
            )
            break
        blocks.extend(group)
    text = escape(f"{playbook_title} for {account_name}: {done} of {len(steps)} steps closed")
    return render.payload(truncate(text, 3000), blocks)


# -- the run message's own buttons, the playbook list, my open steps ---------------------

STEP_MARK = {
    StepStatus.OPEN: ":white_square:",
    StepStatus.DONE: ":white_check_mark:",
    StepStatus.SKIPPED: ":fast_forward:",
}


def playbook_list(playbooks: Iterable[Any]) -> dict[str, Any]:
    lines = [
        f"• `{escape(getattr(p, 'name', '?'))}` — {escape(getattr(p, 'title', None) or getattr(p, 'description', '') or '')}"
        for p in playbooks
    ]
    text = "*Playbooks*\n" + ("\n".join(lines) if lines else "none loaded")
    return render.payload("Playbooks", [SectionBlock(text=render.mrkdwn(text))])


def run_actions(run: PlaybookRun, outcome: Outcome | None) -> list[Block]:
    """What a run message adds under its steps: the outcome, and Log outcome / Snooze /
    Close while the run is active (`run:<id>` marks the message as a run message)."""
    blocks: list[Block] = []
    if outcome is not None:
        change = f", ARR {fmt.money(outcome.arr_change)}" if outcome.arr_change is not None else ""
        note = f": _{escape(outcome.note)}_" if outcome.note else ""
        text = (
            f"Outcome *{outcome.kind.replace('_', ' ')}*{change} logged by {fmt.who(outcome.by)} "
            f"{fmt.when(outcome.created_at)}{note}"
        )
        blocks.append(
            ContextBlock(block_id=f"run-outcome:{run.id}", elements=[render.mrkdwn(text)])
        )
    if run.status == RunStatus.ACTIVE:
        value = ButtonValue(account_id=run.account_id, run_id=run.id)
        elements: list[Any] = []
        if outcome is None:
            elements.append(
                render.button("Log outcome", ActionId.RUN_LOG_OUTCOME, value, style="primary")
            )
        elements += [
            render.snooze_select(ActionId.RUN_SNOOZE, value),
            render.button("Close run", ActionId.RUN_CLOSE, value, style="danger"),
        ]
        blocks.append(ActionsBlock(block_id=f"run:{run.id}", elements=elements))
    elif run.closed_at is not None:
        closed = f"Run {run.status} {fmt.when(run.closed_at)}"
        blocks.append(
            ContextBlock(block_id=f"run-closed:{run.id}", elements=[render.mrkdwn(closed)])
        )
    return blocks


def with_run_actions(message: dict[str, Any], extra: Sequence[Block]) -> dict[str, Any]:
    """`message` (a run from `bot.plays.messages`) with `extra` blocks at the end, within
    Slack's 50 blocks."""
    room = MAX_MESSAGE_BLOCKS - len(extra)
    blocks = [*message["blocks"][:room], *(block.to_dict() for block in extra)]
    return {"text": message["text"], "blocks": blocks}


def steps_list(title: str, groups: Sequence[list[dict[str, Any]]], more: int) -> dict[str, Any]:
    """My open steps: each step's blocks (from `bot.plays.messages`) under a header."""
    blocks: list[dict[str, Any]] = [
        HeaderBlock(block_id="my-steps", text=fmt.truncate(title, 150)).to_dict()
    ]
    for group in groups:
        if len(blocks) + len(group) > MAX_MESSAGE_BLOCKS - 1:
            more += 1
            continue
        blocks.extend(group)
    if more:
        blocks.append(
            ContextBlock(elements=[render.mrkdwn(f"…and {more} more in the App Home")]).to_dict()
        )
    return {"text": title, "blocks": blocks}
