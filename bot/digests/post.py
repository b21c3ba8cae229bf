"""Queue each CSM's digest in the outbox, once per CSM per day, and deliver it.

The outbox key `digest:<email>:<date>` (later parts of a long digest add `:part2`, …)
makes queueing idempotent: running the digest job or `csbot digest --post` twice on the
same day finds the rows already there, and the sender delivers each row once.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, replace
from typing import Any

from sqlmodel import Session, col, or_, select

from bot.delivery.budget import held_count, release_held
from bot.delivery.recipients import mapping_file_of, recipient
from bot.digests.messages import digest_messages, item_rule
from bot.digests.model import Digest
from bot.digests.service import digest_subject
from bot.settings import Settings
from bot.slack.send import queue_budgeted
from storage.clock import Clock
from storage.enums import MessageKind
from storage.models import OutboxMessage

logger = logging.getLogger("csbot.digest")


def digest_key(owner: str, as_of: dt.date, part: int = 1) -> str:
    key = f"digest:{owner}:{as_of.isoformat()}"
    return key if part == 1 else f"{key}:part{part}"


def queued_parts(session: Session, owner: str, as_of: dt.date) -> list[OutboxMessage]:
    """The outbox rows of `owner`'s digest for `as_of` (every part), oldest first."""
    first = digest_key(owner, as_of)
    return list(
        session.exec(
            select(OutboxMessage)
            .where(
                or_(
                    col(OutboxMessage.idempotency_key) == first,
                    col(OutboxMessage.idempotency_key).startswith(f"{first}:part"),
                )
            )
            .order_by(col(OutboxMessage.id))
        ).all()
    )


def queue_digest(
    session: Session,
    digest: Digest,
    *,
    as_of: dt.date,
    clock: Clock,
    settings: Settings,
    client: Any = None,
) -> list[OutboxMessage] | None:
    """Queue one CSM's digest (all its parts) unless it was queued before for that day, in
    which case the earlier rows are returned unchanged (a digest that grew since is not
    topped up: once a day means once). None when the CSM cannot be reached: no Slack user
    and no digest channel configured. The caller commits."""
    earlier = queued_parts(session, digest.owner, as_of)
    if earlier:
        return earlier
    channel, mention = recipient(
        session,
        digest.owner,
        channel=settings.digest_channel,
        client=client,
        clock=clock,
        mapping_file=mapping_file_of(settings),
    )
    if not channel:
        logger.warning("digest for %s not queued: no Slack user found", digest.owner)
        return None
    held = held_count(session, digest.owner)
    if held:
        digest = replace(digest, held=held)
    messages = digest_messages(digest, mention=mention)
    rows = queue_budgeted(
        session,
        kind=MessageKind.DIGEST,
        recipient=digest.owner,
        key=digest_key(digest.owner, as_of),
        channel=channel,
        message=messages,
        clock=clock,
        settings=settings,
        subject=[
            digest_subject(digest, mention=mention, part=part)
            for part in range(1, len(messages) + 1)
        ],
        items=[{"account_id": item.account_id, "rule": item_rule(item)} for item in digest.items],
        day=as_of,
    )
    if rows:
        release_held(session, digest.owner, clock.now())
    return rows


def queue_digests(
    session: Session,
    digests: list[Digest],
    *,
    as_of: dt.date,
    clock: Clock,
    settings: Settings,
    client: Any = None,
) -> list[OutboxMessage]:
    """Queue every non-empty digest (see `queue_digest`); return the outbox rows, including
    rows queued by an earlier run for the same day. CSMs who cannot be reached are skipped
    with a warning. The caller commits."""
    rows: list[OutboxMessage] = []
    for digest in digests:
        if digest.is_empty:
            continue
        queued = queue_digest(
            session, digest, as_of=as_of, clock=clock, settings=settings, client=client
        )
        rows.extend(queued or [])
    return rows


@dataclass(frozen=True)
class PostResult:
    queued: int  # digest messages in the outbox for the day
    new: int  # of which queued by this run
    sent: int  # messages the sender delivered in this run (digests and anything else due)
    failed: int
    unreachable: tuple[str, ...] = ()  # CSMs with no Slack user (and no digest channel)


def post_digests(
    session: Session,
    digests: list[Digest],
    *,
    as_of: dt.date,
    runtime: Any,
    clock: Clock,
    client: Any = None,
) -> int:
    """Queue the digests, commit, and deliver everything due; return how many were sent."""
    return queue_and_deliver(
        session, digests, as_of=as_of, runtime=runtime, clock=clock, client=client
    ).sent


def queue_and_deliver(
    session: Session,
    digests: list[Digest],
    *,
    as_of: dt.date,
    runtime: Any,
    clock: Clock,
    client: Any = None,
) -> PostResult:
    """`queue_digests`, commit, then `deliver_pending` with the configured WebClient."""
    from bot.delivery.client import make_web_client
    from bot.delivery.sender import deliver_pending

    client = client or make_web_client(runtime.settings)
    rows: list[OutboxMessage] = []
    new = 0
    unreachable = []
    for digest in digests:
        if digest.is_empty:
            continue
        before = len(queued_parts(session, digest.owner, as_of))
        queued = queue_digest(
            session, digest, as_of=as_of, clock=clock, settings=runtime.settings, client=client
        )
        if queued is None:
            unreachable.append(digest.owner)
            continue
        rows.extend(queued)
        new += len(queued) - before
    session.commit()
    stats = deliver_pending(runtime.engine, client, clock)
    return PostResult(
        queued=len(rows),
        new=new,
        sent=stats.sent,
        failed=stats.failed,
        unreachable=tuple(unreachable),
    )
