"""Queue the notices for escalated playbook steps (the hourly `reminders` job calls this).

Who hears of a slipped step: its CSM always; the CSM's manager(s) from
CSBOT_MANAGER_MAPPING_FILE once it reaches the manager tier; the leaders' channel once it
reaches the executive tier. One outbox key per step, tier and recipient, so a notice is
sent once however often the job runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlmodel import Session

from bot.delivery.recipients import mapping_file_of, recipient
from bot.plays.escalation import escalation_message
from bot.settings import Settings
from bot.slack.permissions import load_managers
from bot.slack.send import queue
from playbooks.escalation import Escalation
from playbooks.library import load_library
from storage.clock import Clock
from storage.enums import MessageKind
from storage.models import Account, OutboxMessage, PlaybookStep


def escalation_recipients(
    escalation: Escalation, managers: dict[str, frozenset[str]], leaders_channel: str | None
) -> list[str]:
    """Pure: the owners' emails or Slack ids (and the leaders' channel) to tell, in order."""
    targets: list[str] = [escalation.owner] if escalation.owner else []
    if escalation.to_tier in ("manager", "executive") and escalation.owner:
        targets.extend(sorted(managers.get(escalation.owner.lower(), frozenset())))
    if escalation.to_tier == "executive" and leaders_channel:
        targets.append(leaders_channel)
    return list(dict.fromkeys(targets))


def queue_escalations(
    session: Session,
    escalations: Sequence[Escalation],
    *,
    clock: Clock,
    settings: Settings,
    client: Any,
) -> list[OutboxMessage]:
    """Render and enqueue every notice; recipients with no Slack user are skipped (logged by
    the resolver) so the job never fails on one unknown owner."""
    managers = load_managers(settings.manager_mapping_file)
    leaders = settings.leaders_channel
    library = load_library(settings.playbook_dir)
    queued: list[OutboxMessage] = []
    for escalation in escalations:
        step = session.get(PlaybookStep, escalation.step_id)
        account = session.get(Account, escalation.account_id)
        if step is None or account is None:
            continue
        playbook = library.get(escalation.playbook)
        title = playbook.title if playbook else escalation.playbook
        for target in escalation_recipients(escalation, managers, leaders):
            channel, mention = _address(session, target, leaders, settings, client, clock)
            if channel is None:
                continue
            payload = escalation_message(
                step,
                account_name=account.name,
                playbook_title=title,
                to_tier=escalation.to_tier,
                overdue_hours=escalation.overdue_hours,
                mention=mention,
            )
            queued.append(
                queue(
                    session,
                    kind=MessageKind.ESCALATION,
                    key=f"escalation:{step.id}:{escalation.to_tier}:{target}",
                    channel=channel,
                    message=payload,
                    clock=clock,
                    subject={"step_id": step.id},
                    account_id=account.account_id,
                )
            )
    return queued


def _address(
    session: Session,
    target: str,
    leaders: str | None,
    settings: Settings,
    client: Any,
    clock: Clock,
) -> tuple[str | None, str | None]:
    if target == leaders:
        return target, None
    if "@" not in target:  # a Slack user id from the manager mapping
        return target, None
    return recipient(
        session,
        target,
        channel=None,
        client=client,
        clock=clock,
        mapping_file=mapping_file_of(settings),
    )
