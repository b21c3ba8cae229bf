"""The daily reminders roll-up: one message per person a day, never one per step.

It lists the person's overdue steps grouped by account, and — for managers and the
leaders' channel — the steps escalated to them (tier manager / executive, from
CSBOT_MANAGER_MAPPING_FILE). On a person's digest days the `digests` job folds it into
the digest (`rollup_lines`, noted in the ledger as "folded" under the roll-up's key); on
other days the hourly `reminders` job queues it once their local digest time has passed,
under `reminders:<recipient>:<local date>`, through the noise budget (so it counts against
their real-time allowance, waits out quiet hours, and is held while they are away or on
"digest only"). Channels (the leaders') get it on its own every day.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from slack_sdk.models.blocks import ContextBlock, HeaderBlock, MarkdownTextObject, SectionBlock
from sqlmodel import Session, col, select

from bot.delivery.limits import MAX_SECTION_TEXT
from bot.delivery.recipients import mapping_file_of, recipient
from bot.settings import Settings
from bot.slack.format import escape, truncate
from bot.slack.permissions import load_managers
from bot.slack.send import queue_budgeted
from playbooks.model import TIERS
from storage.clock import Clock
from storage.enums import MessageKind
from storage.models import Account, PlaybookRun, PlaybookStep
from storage.models.noise import DeliveryLedger

MAX_ACCOUNTS = 10  # accounts listed in one roll-up; the rest are counted
MAX_STEPS_PER_ACCOUNT = 4


@dataclass(frozen=True)
class LateStep:
    step_id: int
    account_id: str
    account_name: str
    playbook: str
    title: str
    owner: str | None
    due_at: dt.datetime
    tier: int


@dataclass
class Rollup:
    """What one recipient hears today: their own late steps and those escalated to them."""

    recipient: str
    own: dict[str, list[LateStep]] = field(default_factory=dict)
    escalated: dict[str, list[LateStep]] = field(default_factory=dict)

    @property
    def size(self) -> int:
        return sum(map(len, self.own.values())) + sum(map(len, self.escalated.values()))


def late_steps(session: Session, now: dt.datetime) -> list[LateStep]:
    """Every open step of an active run past its due time (one query)."""
    rows = session.exec(
        select(PlaybookStep, PlaybookRun, Account)
        .join(PlaybookRun, col(PlaybookRun.id) == col(PlaybookStep.run_id))
        .join(Account, col(Account.account_id) == col(PlaybookRun.account_id))
        .where(
            col(PlaybookStep.status) == "open",
            col(PlaybookRun.status) == "active",
            col(PlaybookStep.due_at) < now,
        )
        .order_by(col(PlaybookStep.due_at), col(PlaybookStep.id))
    ).all()
    found = []
    for step, run, account in rows:
        if run.snoozed_until is not None and run.snoozed_until > now:
            continue
        found.append(
            LateStep(
                step_id=step.id or 0,
                account_id=account.account_id,
                account_name=account.name,
                playbook=run.playbook,
                title=step.title,
                owner=step.owner or run.owner or account.owner,
                due_at=step.due_at,
                tier=step.escalation_tier,
            )
        )
    return found


def group_rollups(
    steps: Iterable[LateStep],
    managers: Mapping[str, frozenset[str]],
    leaders_channel: str | None,
) -> dict[str, Rollup]:
    """Pure: recipient → roll-up. Owners hear of their own late steps; a step escalated to
    the manager tier is also told to the owner's managers, and at the executive tier to the
    leaders' channel."""
    rollups: dict[str, Rollup] = {}

    def add(who: str, where: str, step: LateStep) -> None:
        rollup = rollups.setdefault(who, Rollup(who))
        getattr(rollup, where).setdefault(step.account_id, []).append(step)

    for step in steps:
        owner = (step.owner or "").lower()
        if owner:
            add(owner, "own", step)
        if step.tier >= TIERS.index("manager") and owner:
            for manager in sorted(managers.get(owner, frozenset())):
                if manager != owner:
                    add(manager, "escalated", step)
        if step.tier >= TIERS.index("executive") and leaders_channel:
            add(leaders_channel, "escalated", step)
    return rollups


def _lines(groups: Mapping[str, list[LateStep]], now: dt.datetime, owner: bool) -> list[str]:
    lines = []
    ordered = sorted(groups.values(), key=lambda steps: min(s.due_at for s in steps))
    for steps in ordered[:MAX_ACCOUNTS]:
        first = steps[0]
        shown = [
            f"{escape(s.title)} ({(now - s.due_at).days} d late"
            + ("" if owner else f", {escape(s.owner or 'unassigned')}")
            + ")"
            for s in steps[:MAX_STEPS_PER_ACCOUNT]
        ]
        extra = len(steps) - len(shown)
        more = f" and {extra} more" if extra > 0 else ""
        lines.append(f"• *{escape(first.account_name)}*: " + "; ".join(shown) + more)
    if len(ordered) > MAX_ACCOUNTS:
        lines.append(f"…and {len(ordered) - MAX_ACCOUNTS} more accounts — see the App Home")
    return lines


def rollup_message(rollup: Rollup, now: dt.datetime, mention: str | None = None) -> dict[str, Any]:
    """One message: overdue steps grouped by account, then those escalated to the reader."""
    own = sum(map(len, rollup.own.values()))
    escalated = sum(map(len, rollup.escalated.values()))
    parts = []
    if own:
        parts.append(f"{own} overdue step{'s' if own != 1 else ''}")
    if escalated:
        parts.append(f"{escalated} escalated to you")
    title = "Reminders: " + " · ".join(parts)
    blocks: list[Any] = [HeaderBlock(block_id="rollup-header", text=truncate(title, 150))]
    if mention:
        blocks.append(
            ContextBlock(block_id="rollup-for", elements=[MarkdownTextObject(text=f"<@{mention}>")])
        )
    if own:
        text = "*Your overdue steps*\n" + "\n".join(_lines(rollup.own, now, owner=True))
        blocks.append(
            SectionBlock(
                block_id="rollup-own",
                text=MarkdownTextObject(text=truncate(text, MAX_SECTION_TEXT)),
            )
        )
    if escalated:
        text = "*Escalated to you*\n" + "\n".join(_lines(rollup.escalated, now, owner=False))
        blocks.append(
            SectionBlock(
                block_id="rollup-escalated",
                text=MarkdownTextObject(text=truncate(text, MAX_SECTION_TEXT)),
            )
        )
    blocks.append(
        ContextBlock(
            block_id="rollup-about",
            elements=[
                MarkdownTextObject(
                    text="One roll-up a day · Done / Skip from the App Home or `/cs my`"
                )
            ],
        )
    )
    return {"text": title, "blocks": [block.to_dict() for block in blocks]}


def rollup_lines(rollup: Rollup, now: dt.datetime) -> list[str]:
    """The roll-up as mrkdwn lines, for the digest it is folded into on digest days."""
    lines: list[str] = []
    if rollup.own:
        lines += ["_Your overdue steps_", *_lines(rollup.own, now, owner=True)]
    if rollup.escalated:
        lines += ["_Escalated to you_", *_lines(rollup.escalated, now, owner=False)]
    return lines


def rollups_to_fold(
    session: Session, *, people: Iterable[str], now: dt.datetime, settings: Settings
) -> dict[str, Rollup]:
    """Today's roll-up of each of `people` who has one and has not had it yet (to fold
    into their digest)."""
    managers = load_managers(settings.manager_mapping_file)
    rollups = group_rollups(late_steps(session, now), managers, None)
    return {who: rollups[who] for who in people if who in rollups}


def rollup_key(recipient_: str, day: dt.date) -> str:
    return f"reminders:{recipient_}:{day.isoformat()}"


def queue_rollups(
    session: Session,
    *,
    clock: Clock,
    settings: Settings,
    client: Any,
    due: Any,
) -> dict[str, int]:
    """Queue today's roll-up for every recipient `due(recipient) -> local date | None` says
    is due (their digest time has passed) and who has something late. The caller commits."""
    now = clock.now()
    managers = load_managers(settings.manager_mapping_file)
    leaders = settings.leaders_channel
    rollups = group_rollups(late_steps(session, now), managers, leaders)
    counts: dict[str, int] = defaultdict(int)
    for who, rollup in sorted(rollups.items()):
        day = due(who)
        if day is None:
            counts["not_due"] += 1
            continue
        key = rollup_key(who, day)
        if session.exec(select(DeliveryLedger.id).where(DeliveryLedger.key == key)).first():
            continue
        channel: str | None
        mention: str | None
        if who == leaders or "@" not in who:
            channel, mention = who, None
        else:
            channel, mention = recipient(
                session,
                who,
                channel=None,
                client=client,
                clock=clock,
                mapping_file=mapping_file_of(settings),
            )
        if channel is None:
            counts["unreachable"] += 1
            continue
        items = [
            {"account_id": account_id, "rule": "overdue_step"} for account_id in rollup.own
        ] + [{"account_id": account_id, "rule": "escalation"} for account_id in rollup.escalated]
        rows = queue_budgeted(
            session,
            kind=MessageKind.REMINDERS,
            recipient=who,
            key=key,
            channel=channel,
            message=rollup_message(rollup, now, mention),
            clock=clock,
            settings=settings,
            urgent=True,
            items=items,
        )
        counts["queued" if rows else "held"] += 1
    return dict(counts)
