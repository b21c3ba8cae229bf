"""The sender: delivers due outbox rows to Slack, once each, at Slack's pace.

How a row is delivered exactly once, step by step (each step its own committed
transaction, so a process killed anywhere leaves a state the next run understands):

1. claim: rows due and not claimed (or whose claim lease expired) get `claimed_by` = this
   sender and `claimed_until` = now + lease. PostgreSQL: `SELECT … FOR UPDATE SKIP LOCKED`;
   SQLite: one conditional `UPDATE … RETURNING` (SQLite has one writer at a time).
2. mark: `status='sending', attempts+1, outcome_unknown=true`, only if the row is still
   claimed by us (a fence: a sender whose lease ran out and was taken over stops here).
3. post: chat.postMessage with message metadata `{"event_type": "csbot_outbox",
   "event_payload": {"key": <idempotency key>}}` (or chat.update, which is idempotent).
4. record: `status='sent'`, the channel and ts Slack answered.

Killed after 1: the lease expires and another run claims the row. Killed after 2 or 3,
or a timeout or 5xx (Slack may have posted): the row keeps `outcome_unknown`, and before
posting again the sender reads the channel's recent history (`conversations.history`
with `include_all_metadata`) for a message carrying the row's key; if it is there the
row is recorded as sent without posting again.

Residual window, stated honestly: chat.postMessage has no idempotency key, so when the
history lookup itself is impossible (the app lacks `channels:history`/`groups:history`/
`im:history`, or the message was deleted) the sender posts again rather than lose the
message, and logs `duplicate_possible`. Slack's history is also eventually consistent:
a message accepted a moment before a crash might not yet be listed; the claim lease
(60 s by default) makes the retry happen well after that.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import random
import socket
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from slack_sdk import WebClient
from slack_sdk.webhook import WebhookClient
from sqlalchemy import Connection, Engine, and_, func, or_, update
from sqlalchemy import select as sa_select
from sqlmodel import col

from bot.delivery.errors import (
    MessageRejected,
    RateLimited,
    SlackDeliveryError,
    SlackUnavailable,
    TokenRevoked,
    classify,
)
from bot.delivery.logs import log_event
from bot.settings import Settings
from storage.clock import Clock
from storage.models.delivery import OutboxMessage

logger = logging.getLogger("csbot.delivery")

METADATA_EVENT_TYPE = "csbot_outbox"
DELIVERABLE = ("pending", "sending")


@dataclass(frozen=True)
class SenderConfig:
    """Limits of one sender; the defaults follow Slack's documented limits."""

    batch_size: int = 50
    max_attempts: int = 6
    claim_seconds: float = 60.0
    channel_interval_seconds: float = 1.0  # chat.postMessage: about 1 message/s per channel
    max_pace_wait_seconds: float = 5.0  # wait longer than this → leave the row for a later run
    backoff_base_seconds: float = 10.0
    backoff_cap_seconds: float = 900.0
    min_retry_after_seconds: float = 1.0
    history_pages: int = 3
    max_messages: int | None = None  # stop after this many rows (per run)


@dataclass
class DeliveryStats:
    claimed: int = 0
    sent: int = 0
    reconciled: int = 0  # found already in Slack: recorded without posting again
    retried: int = 0
    deferred: int = 0
    failed: int = 0
    lost_claims: int = 0
    halted: str | None = None  # an error code that stopped the run (token revoked)
    errors: dict[str, int] = field(default_factory=dict)


def new_holder_id() -> str:
    """`hostname:pid:random`: unique per process, readable in `csbot outbox` and logs."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def make_sender_client(settings: Settings, **kwargs: Any) -> WebClient:
    """The configured WebClient without automatic retries: a retried chat.postMessage after
    a dropped connection could post twice, so every retry goes through the sender."""
    from bot.delivery.client import make_web_client

    client = make_web_client(settings, **kwargs)
    client.retry_handlers = []
    return client


StepHook = Callable[[str, OutboxMessage], None]


def findable(row: OutboxMessage) -> bool:
    """Whether a copy of `row` could be found in the channel's history (a new channel
    message: not an update, not an ephemeral message or a response_url answer)."""
    payload = row.payload
    return not any(
        payload.get(key) for key in ("update_ts", "update_key", "ephemeral_user", "response_url")
    )


def sleep_for(clock: Clock) -> Callable[[float], None]:
    """How to wait under `clock`: a FixedClock (tests, replays) is advanced, never slept on."""
    advance = getattr(clock, "advance", None)
    if callable(advance):
        return lambda seconds: advance(seconds=seconds)
    return time.sleep


class Sender:
    """One delivery run; see the module docstring for the steps."""

    def __init__(
        self,
        engine: Engine,
        client: WebClient,
        clock: Clock,
        *,
        config: SenderConfig | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
        holder: str | None = None,
        on_step: StepHook | None = None,
        only: set[int] | None = None,
    ) -> None:
        self.engine = engine
        self.only = only  # deliver these rows only (a message a person is waiting for)
        self.client = client
        self.clock = clock
        self.config = config or SenderConfig()
        self.sleep = sleep
        self.rng = rng or random.Random()
        self.holder = holder or new_holder_id()
        self.on_step = on_step
        self.stats = DeliveryStats()
        self._pace: dict[str, dt.datetime] = {}
        self._conn: Connection | None = None
        self._handled: set[int] = set()

    # -- the run ---------------------------------------------------------------------
    def run(self) -> DeliveryStats:
        # One connection for the run: each step is its own short committed transaction on
        # it, without a pool checkout (and PostgreSQL pre-ping) per step.
        with self.engine.connect() as connection:
            self._conn = connection
            try:
                self._run()
            finally:
                self._conn = None
        return self.stats

    def _run(self) -> None:
        while not self.stats.halted:
            budget = self._budget()
            if budget == 0:
                break
            rows = self._claim(min(budget, self.config.batch_size))
            if not rows:
                break
            self.stats.claimed += len(rows)
            self._seed_pace({row.channel for row in rows})
            remaining = {row.id: row for row in rows if row.id is not None}
            while remaining and not self.stats.halted:
                row = self._next_ready(list(remaining.values()))
                assert row.id is not None
                del remaining[row.id]
                self._handled.add(row.id)
                self._deliver(row)
            if remaining:
                self._release(list(remaining))

    def _budget(self) -> int:
        if self.config.max_messages is None:
            return self.config.batch_size
        return max(0, self.config.max_messages - len(self._handled))

    def _step(self, name: str, row: OutboxMessage) -> None:
        if self.on_step:
            self.on_step(name, row)

    def _write(self, statement: Any) -> Any:
        """Execute one statement in its own committed transaction."""
        assert self._conn is not None
        with self._conn.begin():
            return self._conn.execute(statement)

    # -- claiming ----------------------------------------------------------------------
    def _due(self, now: dt.datetime) -> Any:
        clauses = [
            col(OutboxMessage.status).in_(DELIVERABLE),
            col(OutboxMessage.next_attempt_at) <= now,
            or_(col(OutboxMessage.claimed_until).is_(None), col(OutboxMessage.claimed_until) < now),
        ]
        if self._handled:
            clauses.append(col(OutboxMessage.id).not_in(self._handled))
        if self.only is not None:
            clauses.append(col(OutboxMessage.id).in_(self.only))
        return and_(*clauses)

    def _claim(self, limit: int) -> list[OutboxMessage]:
        assert self._conn is not None
        now = self.clock.now()
        until = now + dt.timedelta(seconds=self.config.claim_seconds)
        order = (col(OutboxMessage.next_attempt_at), col(OutboxMessage.id))
        claim = update(OutboxMessage).values(claimed_by=self.holder, claimed_until=until)
        with self._conn.begin():
            if self.engine.dialect.name == "postgresql":
                ids = list(
                    self._conn.execute(
                        sa_select(col(OutboxMessage.id))
                        .where(self._due(now))
                        .order_by(*order)
                        .limit(limit)
                        .with_for_update(skip_locked=True)
                    ).scalars()
                )
                if ids:
                    self._conn.execute(claim.where(col(OutboxMessage.id).in_(ids)))
            else:  # SQLite: one writer at a time, so one conditional UPDATE is the claim
                candidates = (
                    sa_select(col(OutboxMessage.id))
                    .where(self._due(now))
                    .order_by(*order)
                    .limit(limit)
                )
                result = self._conn.execute(
                    claim.where(
                        col(OutboxMessage.id).in_(candidates.scalar_subquery()), self._due(now)
                    ).returning(col(OutboxMessage.id))
                )
                ids = list(result.scalars())
            if not ids:
                return []
            table = OutboxMessage.__table__  # type: ignore[attr-defined]
            rows = self._conn.execute(
                sa_select(table).where(table.c.id.in_(ids)).order_by(*order)
            ).mappings()
            return [OutboxMessage(**dict(row)) for row in rows]

    def _release(self, ids: list[int]) -> None:
        self._write(
            update(OutboxMessage)
            .where(col(OutboxMessage.id).in_(ids), col(OutboxMessage.claimed_by) == self.holder)
            .values(claimed_by=None, claimed_until=None)
        )

    def _set(
        self, row: OutboxMessage, *, require_status: tuple[str, ...] | None = None, **values: Any
    ) -> bool:
        """Update our claimed row; False if another sender has taken it over."""
        statement = update(OutboxMessage).where(
            col(OutboxMessage.id) == row.id, col(OutboxMessage.claimed_by) == self.holder
        )
        if require_status:
            statement = statement.where(col(OutboxMessage.status).in_(require_status))
        changed = bool(self._write(statement.values(**values)).rowcount)
        if not changed:
            self.stats.lost_claims += 1
            self._log(row, "claim_lost", level=logging.WARNING)
        return changed

    # -- pacing --------------------------------------------------------------------------
    def _seed_pace(self, channels: set[str]) -> None:
        """Start from the last post per channel (by any run), so pace holds across runs."""
        unknown = [channel for channel in channels if channel not in self._pace]
        if not unknown or self.config.channel_interval_seconds <= 0:
            return
        since = self.clock.now() - dt.timedelta(seconds=self.config.channel_interval_seconds)
        assert self._conn is not None
        with self._conn.begin():
            rows = self._conn.execute(
                sa_select(col(OutboxMessage.channel), func.max(col(OutboxMessage.sent_at)))
                .where(
                    col(OutboxMessage.channel).in_(unknown),
                    col(OutboxMessage.status) == "sent",
                    col(OutboxMessage.sent_at) >= since,
                )
                .group_by(col(OutboxMessage.channel))
            )
            for channel, last in rows:
                if last is not None:
                    self._pace[channel] = last + dt.timedelta(
                        seconds=self.config.channel_interval_seconds
                    )

    def _ready_at(self, row: OutboxMessage) -> dt.datetime:
        return self._pace.get(row.channel, dt.datetime.min)

    def _next_ready(self, rows: list[OutboxMessage]) -> OutboxMessage:
        return min(rows, key=lambda row: (self._ready_at(row), row.id or 0))

    def _wait_for_channel(self, row: OutboxMessage) -> bool:
        """Sleep until the channel may take another message; False if that is too far off."""
        wait = (self._ready_at(row) - self.clock.now()).total_seconds()
        if wait <= 0:
            return True
        if wait > self.config.max_pace_wait_seconds:
            return False
        self.sleep(wait)
        return True

    def _paced(self, channel: str, extra_seconds: float = 0.0) -> None:
        seconds = max(self.config.channel_interval_seconds, extra_seconds)
        self._pace[channel] = self.clock.now() + dt.timedelta(seconds=seconds)

    # -- one message -----------------------------------------------------------------------
    def _deliver(self, row: OutboxMessage) -> None:
        self._step("claimed", row)
        if not self._wait_for_channel(row):
            if self._set(
                row, next_attempt_at=self._ready_at(row), claimed_by=None, claimed_until=None
            ):
                self.stats.deferred += 1
            return
        # Only a new channel message can be found in history again; an update is
        # idempotent and a lost ephemeral answer is better repeated than dropped.
        is_update = not findable(row)
        earlier_unknown = False
        if row.outcome_unknown and not is_update:
            try:
                found = self._find_posted(row)
            except SlackDeliveryError as error:
                if isinstance(error, RateLimited):
                    self._retry_later(row, error, attempts=row.attempts, unknown=True)
                    return
                # Cannot tell whether the earlier attempt posted: post rather than lose it.
                found, earlier_unknown = None, True
                self._log(row, "duplicate_possible", level=logging.WARNING, error=error.code)
            if found:
                channel, ts = found
                if self._set(
                    row,
                    status="sent",
                    sent_at=self.clock.now(),
                    posted_channel=channel,
                    ts=ts,
                    outcome_unknown=False,
                    claimed_until=None,
                    last_error=None,
                ):
                    self.stats.reconciled += 1
                    self._log(row, "sent", reconciled=True, ts=ts)
                return
        attempt = row.attempts + 1
        if not self._set(
            row,
            require_status=DELIVERABLE,
            status="sending",
            attempts=attempt,
            outcome_unknown=not is_update,
            claimed_until=self.clock.now() + dt.timedelta(seconds=self.config.claim_seconds),
        ):
            return
        row.attempts = attempt
        self._step("marked", row)
        try:
            channel, posted_ts = self._post(row)
        except Exception as raw:  # every client failure is classified below
            failure = classify(raw)
            self._paced(row.channel, getattr(failure, "retry_after", 0.0))
            self._failed_attempt(row, failure, earlier_unknown=earlier_unknown)
            return
        self._paced(row.channel)
        self._step("posted", row)
        if self._set(
            row,
            status="sent",
            sent_at=self.clock.now(),
            posted_channel=channel,
            ts=posted_ts,
            outcome_unknown=False,
            claimed_until=None,
            last_error=None,
        ):
            self.stats.sent += 1
            self._log(row, "sent", ts=posted_ts, posted_channel=channel)
        self._step("recorded", row)

    def _post(self, row: OutboxMessage) -> tuple[str, str | None]:
        """One Slack call for `row`: an update, an ephemeral message, an answer through an
        interaction's response_url, or a new message. Every message carries its outbox key
        in Slack message metadata; no post unfurls links."""
        payload = row.payload
        content: dict[str, Any] = {"text": payload["text"]}
        if payload.get("blocks"):
            content["blocks"] = payload["blocks"]
        metadata = {
            "event_type": METADATA_EVENT_TYPE,
            "event_payload": {"key": row.idempotency_key},
        }
        if payload.get("response_url"):
            return self._respond(row, content)
        target = self._update_target(row)
        if target:
            channel, ts = target
            response = self.client.chat_update(channel=channel, ts=ts, metadata=metadata, **content)
            return str(response.get("channel") or channel), str(response.get("ts") or ts)
        if payload.get("ephemeral_user"):
            response = self.client.chat_postEphemeral(
                channel=row.channel, user=str(payload["ephemeral_user"]), **content
            )
            return row.channel, str(response.get("message_ts") or "") or None
        if payload.get("thread_ts"):
            content["thread_ts"] = payload["thread_ts"]
        response = self.client.chat_postMessage(
            channel=row.channel,
            metadata=metadata,
            unfurl_links=False,
            unfurl_media=False,
            **content,
        )
        return str(response.get("channel") or row.channel), str(response.get("ts"))

    def _respond(self, row: OutboxMessage, content: dict[str, Any]) -> tuple[str, None]:
        """Answer through an interaction's response_url (no token; Slack gives back no ts)."""
        payload = row.payload
        body = {**content, "unfurl_links": False, "unfurl_media": False}
        if payload.get("replace_original"):
            body["replace_original"] = True
        else:
            body["response_type"] = payload.get("response_type") or "ephemeral"
            body["replace_original"] = False
        response = WebhookClient(str(payload["response_url"])).send_dict(body)
        if response.status_code == 429:
            raise RateLimited(retry_after=1.0)
        if response.status_code >= 500:
            raise SlackUnavailable(f"http_{response.status_code}")
        if response.status_code >= 400:
            raise MessageRejected(str(response.body or f"http_{response.status_code}")[:64])
        return row.channel, None

    def _update_target(self, row: OutboxMessage) -> tuple[str, str] | None:
        payload = row.payload
        if payload.get("update_ts"):
            return row.channel, str(payload["update_ts"])
        key = payload.get("update_key")
        if not key:
            return None
        assert self._conn is not None
        with self._conn.begin():
            original = self._conn.execute(
                sa_select(
                    col(OutboxMessage.channel),
                    col(OutboxMessage.posted_channel),
                    col(OutboxMessage.ts),
                ).where(col(OutboxMessage.idempotency_key) == key)
            ).first()
        if original is None or original.ts is None:
            raise SlackUnavailable("original_not_posted", f"message {key!r} not posted yet")
        return original.posted_channel or original.channel, original.ts

    def _find_posted(self, row: OutboxMessage) -> tuple[str, str] | None:
        """Look for this row's message in the channel's history, by its metadata key."""
        channel = row.channel
        try:
            if channel[:1] in ("U", "W"):  # a DM addressed by user id: history needs the D id
                channel = str(self.client.conversations_open(users=channel)["channel"]["id"])
            oldest = row.created_at.replace(tzinfo=dt.UTC).timestamp() - 60
            cursor = None
            for _ in range(self.config.history_pages):
                response = self.client.conversations_history(
                    channel=channel,
                    oldest=f"{oldest:.6f}",
                    include_all_metadata=True,
                    limit=200,
                    cursor=cursor,
                )
                for message in response.get("messages") or []:
                    metadata = message.get("metadata") or {}
                    if (
                        metadata.get("event_type") == METADATA_EVENT_TYPE
                        and (metadata.get("event_payload") or {}).get("key") == row.idempotency_key
                    ):
                        return channel, str(message["ts"])
                cursor = (response.get("response_metadata") or {}).get("next_cursor")
                if not cursor:
                    break
        except Exception as raw:  # classified: the caller decides
            raise classify(raw) from raw
        return None

    # -- failures ------------------------------------------------------------------------------
    def _count_error(self, code: str) -> None:
        self.stats.errors[code] = self.stats.errors.get(code, 0) + 1

    def _backoff_seconds(self, attempt: int) -> float:
        ceiling = min(
            self.config.backoff_cap_seconds, self.config.backoff_base_seconds * 2 ** (attempt - 1)
        )
        return ceiling / 2 + self.rng.uniform(0, ceiling / 2)  # "equal jitter"

    def _retry_later(
        self, row: OutboxMessage, error: RateLimited, *, attempts: int, unknown: bool
    ) -> None:
        """Rate limited: nothing was posted, so the attempt does not count; wait as told."""
        delay = max(error.retry_after, self.config.min_retry_after_seconds)
        self._count_error(error.code)
        if self._set(
            row,
            status="pending",
            attempts=attempts,
            outcome_unknown=unknown,
            next_attempt_at=self.clock.now() + dt.timedelta(seconds=delay),
            claimed_until=None,
            last_error=str(error),
        ):
            self.stats.retried += 1
            self._log(row, "retry", error=error.code, retry_in=round(delay, 3))

    def _failed_attempt(
        self, row: OutboxMessage, error: SlackDeliveryError, *, earlier_unknown: bool
    ) -> None:
        """Record a failed attempt. `earlier_unknown`: an earlier attempt may have posted and
        the history lookup could not rule it out, so the row stays `outcome_unknown`."""
        unknown = error.outcome_unknown or earlier_unknown
        if isinstance(error, RateLimited):
            self._retry_later(row, error, attempts=row.attempts - 1, unknown=unknown)
            return
        self._count_error(error.code)
        if error.retryable and row.attempts < self.config.max_attempts:
            delay = self._backoff_seconds(row.attempts)
            if self._set(
                row,
                status="pending",
                outcome_unknown=unknown,
                next_attempt_at=self.clock.now() + dt.timedelta(seconds=delay),
                claimed_until=None,
                last_error=str(error),
            ):
                self.stats.retried += 1
                self._log(row, "retry", error=error.code, retry_in=round(delay, 3))
            return
        if self._set(
            row,
            status="failed",
            outcome_unknown=unknown,
            claimed_until=None,
            last_error=str(error),
        ):
            self.stats.failed += 1
            self._log(row, "failed", level=logging.ERROR, error=error.code)
        if isinstance(error, TokenRevoked):
            self.stats.halted = error.code

    def _log(
        self, row: OutboxMessage, status: str, *, level: int = logging.INFO, **extra: Any
    ) -> None:
        log_event(
            logger,
            "delivery",
            level=level,
            outbox_id=row.id,
            key=row.idempotency_key,
            kind=row.kind,
            channel=row.channel,
            account_id=row.account_id,
            status=status,
            attempt=row.attempts,
            holder=self.holder,
            **extra,
        )


def deliver_pending(
    engine: Engine,
    client: WebClient,
    clock: Clock,
    *,
    config: SenderConfig | None = None,
    sleep: Callable[[float], None] | None = None,
    rng: random.Random | None = None,
    holder: str | None = None,
    on_step: StepHook | None = None,
) -> DeliveryStats:
    """Deliver every due outbox row once (see the module docstring); return what happened.

    `sleep` is only used for per-channel pacing (≤ `max_pace_wait_seconds` at a time);
    by default `sleep_for(clock)` (a FixedClock is advanced instead of slept on). `on_step(step, row)` is called after the
    claimed/marked/posted/recorded steps (tests use it to crash between steps).
    """
    sender = Sender(
        engine,
        client,
        clock,
        config=config,
        sleep=sleep or sleep_for(clock),
        rng=rng,
        holder=holder,
        on_step=on_step,
    )
    stats = sender.run()
    if stats.claimed:
        log_event(
            logger,
            "delivery_run",
            holder=sender.holder,
            claimed=stats.claimed,
            sent=stats.sent,
            reconciled=stats.reconciled,
            retried=stats.retried,
            deferred=stats.deferred,
            failed=stats.failed,
            lost_claims=stats.lost_claims,
            halted=stats.halted,
        )
    return stats


# A person is waiting on an interactive message: no per-channel pacing (chat.update and
# replies follow clicks, at human pace) and no wait for a free channel.
INTERACTIVE = SenderConfig(channel_interval_seconds=0.0, max_pace_wait_seconds=0.0)


def deliver_now(engine: Engine, client: WebClient, clock: Clock, row_id: int) -> DeliveryStats:
    """Deliver one outbox row at once, through the same steps as every other row. A row
    that cannot go now stays in the outbox for the `deliver` job to retry."""
    return Sender(engine, client, clock, config=INTERACTIVE, only={row_id}).run()
