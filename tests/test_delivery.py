"""The sender against a fake Slack: retries, pacing, errors, and crashes between its steps.

Time only moves through the FixedClock: pacing "sleeps" advance it, retries are due when
the test advances it. No test sleeps.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import random
import threading

import pytest
from slack_sdk import WebClient
from sqlmodel import Session, select

from bot.delivery.outbox import enqueue
from bot.delivery.sender import SenderConfig, deliver_pending, make_sender_client
from storage.models.delivery import OutboxMessage
from tests.test_delivery_fake import running_history_slack


@pytest.fixture
def history_slack():
    yield from running_history_slack()


SECRET_TEXT = "Acme Corp renewal at risk: confidential"


def payload(text: str = SECRET_TEXT) -> dict:
    return {"text": text, "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]}


def queue(
    engine, clock, count: int, *, channel=lambda i: f"C{i % 3}", prefix: str = "digest"
) -> list[str]:
    keys = []
    with Session(engine) as session:
        for i in range(count):
            key = f"{prefix}:csm{i}@example.com:2026-06-01"
            enqueue(
                session, key=key, kind=prefix, channel=channel(i), payload=payload(), clock=clock
            )
            keys.append(key)
        session.commit()
    return keys


def rows(engine) -> dict[str, OutboxMessage]:
    with Session(engine) as session:
        return {row.idempotency_key: row for row in session.exec(select(OutboxMessage))}


def client_for(server, timeout: float = 5) -> WebClient:
    return WebClient(token="xoxb-test-token", base_url=server.api_url, timeout=timeout)  # type: ignore[arg-type]


def run(engine, server, clock, **kwargs):
    kwargs.setdefault("sleep", lambda seconds: clock.advance(seconds=seconds))
    kwargs.setdefault("rng", random.Random(7))
    return deliver_pending(
        engine, kwargs.pop("client", None) or client_for(server), clock, **kwargs
    )


def test_delivers_each_message_once_and_records_channel_and_ts(engine, history_slack, clock):
    keys = queue(engine, clock, 4, channel=lambda i: f"U{i:04d}")
    stats = run(engine, history_slack, clock)
    assert (stats.claimed, stats.sent, stats.failed) == (4, 4, 0)
    posted = rows(engine)
    for key in keys:
        row = posted[key]
        assert row.status == "sent" and row.ts and row.posted_channel == row.channel
        assert row.sent_at == clock.now() and row.attempts == 1 and not row.outcome_unknown
    calls = history_slack.calls_to("chat.postMessage")
    assert [call.args["metadata"]["event_payload"]["key"] for call in calls] == keys
    assert calls[0].headers["Authorization"] == "Bearer xoxb-test-token"
    assert run(engine, history_slack, clock).claimed == 0
    assert len(history_slack.calls_to("chat.postMessage")) == 4


def test_rate_limit_honours_retry_after(engine, history_slack, clock):
    (key,) = queue(engine, clock, 1)
    history_slack.fail("chat.postMessage", status=429, retry_after=7)
    stats = run(engine, history_slack, clock)
    assert (stats.sent, stats.retried, stats.errors) == (0, 1, {"ratelimited": 1})
    row = rows(engine)[key]
    assert row.status == "pending" and row.attempts == 0 and not row.outcome_unknown
    assert row.next_attempt_at == clock.now() + dt.timedelta(seconds=7)
    clock.advance(seconds=6)
    assert run(engine, history_slack, clock).claimed == 0  # not due yet
    clock.advance(seconds=1)
    assert run(engine, history_slack, clock).sent == 1
    assert history_slack.posts_by_key() == {key: 1}


def test_server_error_backs_off_with_jitter_then_succeeds(engine, history_slack, clock):
    (key,) = queue(engine, clock, 1)
    history_slack.fail("chat.postMessage", status=500, times=2)
    start = clock.now()
    run(engine, history_slack, clock)
    first = rows(engine)[key]
    assert (
        first.status == "pending" and first.outcome_unknown and first.last_error == "internal_error"
    )
    assert (
        start + dt.timedelta(seconds=5) <= first.next_attempt_at <= start + dt.timedelta(seconds=10)
    )
    clock.set(first.next_attempt_at)
    run(engine, history_slack, clock)
    second = rows(engine)[key]
    delay = (second.next_attempt_at - clock.now()).total_seconds()
    assert second.attempts == 2 and 10 <= delay <= 20  # doubled
    clock.set(second.next_attempt_at)
    assert run(engine, history_slack, clock).sent == 1
    assert history_slack.posts_by_key() == {key: 1}
    assert len(history_slack.calls_to("conversations.history")) == 2  # checked before each retry


def test_timeout_after_slack_posted_is_recorded_without_posting_again(engine, history_slack, clock):
    """Slack accepts the message but answers after our timeout: the retry finds it in history."""
    (key,) = queue(engine, clock, 1, channel=lambda i: "U0042")
    history_slack.fail("chat.postMessage", delay=0.6)
    stats = run(engine, history_slack, clock, client=client_for(history_slack, timeout=0.2))
    assert stats.errors == {"timeout": 1}
    row = rows(engine)[key]
    assert row.status == "pending" and row.outcome_unknown and row.last_error == "timeout"
    _wait_until(lambda: len(history_slack.posted) == 1)  # the fake finishes its slow answer
    clock.set(row.next_attempt_at)
    stats = run(engine, history_slack, clock)
    assert (stats.reconciled, stats.sent) == (1, 0)
    row = rows(engine)[key]
    assert row.status == "sent" and row.ts == history_slack.posted[0]["ts"]
    assert row.posted_channel == "D0042"  # history read from the DM opened for U0042
    assert history_slack.posts_by_key() == {key: 1}


@pytest.mark.parametrize("error", ["channel_not_found", "is_archived", "msg_too_long"])
def test_permanent_errors_fail_at_once(engine, history_slack, clock, error):
    (key,) = queue(engine, clock, 1)
    history_slack.fail("chat.postMessage", error=error)
    stats = run(engine, history_slack, clock)
    row = rows(engine)[key]
    assert (stats.failed, row.status, row.last_error, row.attempts) == (1, "failed", error, 1)
    clock.advance(hours=1)
    assert run(engine, history_slack, clock).claimed == 0


def test_revoked_token_stops_the_run_and_leaves_the_rest_pending(engine, history_slack, clock):
    keys = queue(engine, clock, 3, channel=lambda i: f"U{i}")
    history_slack.fail("chat.postMessage", error="token_revoked")
    stats = run(engine, history_slack, clock)
    assert stats.halted == "token_revoked" and stats.failed == 1
    state = rows(engine)
    assert state[keys[0]].status == "failed"
    assert [(state[k].status, state[k].claimed_by) for k in keys[1:]] == [("pending", None)] * 2
    assert run(engine, history_slack, clock).sent == 2


def test_gives_up_after_max_attempts(engine, history_slack, clock):
    (key,) = queue(engine, clock, 1)
    history_slack.fail("chat.postMessage", status=503, times=3)
    config = SenderConfig(max_attempts=3)
    for _ in range(3):
        run(engine, history_slack, clock, config=config)
        clock.advance(hours=1)
    row = rows(engine)[key]
    assert (row.status, row.attempts, row.last_error) == ("failed", 3, "internal_error")
    assert history_slack.posts_by_key() == {}


def test_paces_each_channel_to_one_message_a_second(engine, history_slack, clock):
    queue(engine, clock, 5, channel=lambda i: "CBUSY", prefix="alert")
    queue(engine, clock, 2, channel=lambda i: f"CQUIET{i}", prefix="digest")
    start = clock.now()
    stats = run(engine, history_slack, clock)
    assert stats.sent == 7
    state = rows(engine).values()
    busy = sorted(row.sent_at for row in state if row.channel == "CBUSY")
    gaps = [(b - a).total_seconds() for a, b in zip(busy, busy[1:], strict=False)]
    assert gaps == [1.0] * 4
    quiet = [row.sent_at for row in state if row.channel.startswith("CQUIET")]
    assert all(sent == start for sent in quiet)  # other channels are not held up
    # A later run keeps the pace from the last post it finds in the table.
    queue(engine, clock, 1, channel=lambda i: "CBUSY", prefix="late")
    run(engine, history_slack, clock)
    late = rows(engine)["late:csm0@example.com:2026-06-01"]
    assert (late.sent_at - busy[-1]).total_seconds() == 1.0


def test_chat_update_edits_the_message_another_row_posted(engine, history_slack, clock):
    (key,) = queue(engine, clock, 1, channel=lambda i: "C1")
    run(engine, history_slack, clock)
    original = rows(engine)[key]
    with Session(engine) as session:
        enqueue(
            session,
            key=f"{key}:update:1",
            kind="update",
            channel="C1",
            payload={**payload("updated"), "update_key": key},
            clock=clock,
        )
        session.commit()
    clock.advance(seconds=2)
    assert run(engine, history_slack, clock).sent == 1
    (update,) = history_slack.calls_to("chat.update")
    assert (update.args["channel"], update.args["ts"]) == (original.posted_channel, original.ts)


class Crash(BaseException):
    """Stands for the process dying: not an Exception, so nothing in the sender catches it."""


@pytest.mark.parametrize("step", ["claimed", "marked", "posted", "recorded"])
def test_crash_between_steps_then_restart_posts_each_message_once(
    engine, history_slack, clock, step
):
    keys = queue(engine, clock, 4, channel=lambda i: f"C{i}")
    seen: list[str] = []

    def crash_on_third(name: str, row: OutboxMessage) -> None:
        if name == step:
            seen.append(row.idempotency_key)
            if len(seen) == 3:
                raise Crash

    with pytest.raises(Crash):
        run(engine, history_slack, clock, on_step=crash_on_third)
    clock.advance(seconds=30)  # the dead sender's claims have not expired yet
    run(engine, history_slack, clock)
    assert all(
        row.status in {"pending", "sending"}
        for k, row in rows(engine).items()
        if k == seen[2] and step != "recorded"
    )
    clock.advance(seconds=31)  # now they have
    run(engine, history_slack, clock)
    state = rows(engine)
    assert all(state[key].status == "sent" for key in keys)
    assert history_slack.posts_by_key() == dict.fromkeys(keys, 1)


def test_two_senders_at_once_post_each_message_once(engine, history_slack, clock):
    keys = queue(engine, clock, 60, channel=lambda i: f"U{i:04d}")
    lock = threading.Lock()

    def locked_sleep(seconds: float) -> None:
        with lock:
            clock.advance(seconds=seconds)

    results = []
    threads = [
        threading.Thread(
            target=lambda: results.append(
                run(
                    engine,
                    history_slack,
                    clock,
                    sleep=locked_sleep,
                    config=SenderConfig(batch_size=7),
                )
            )
        )
        for _ in range(2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(stats.sent for stats in results) == 60
    assert history_slack.posts_by_key() == dict.fromkeys(keys, 1)


def test_slack_api_url_setting_routes_calls_and_logs_hold_no_text_or_token(
    engine, history_slack, clock, monkeypatch, caplog
):
    from bot.settings import load_settings

    monkeypatch.setenv("CSBOT_SLACK_API_URL", history_slack.api_url)
    monkeypatch.setenv("CSBOT_SLACK_BOT_TOKEN", "xoxb-secret-token-123")
    client = make_sender_client(load_settings())
    assert client.retry_handlers == []
    queue(engine, clock, 2)
    with caplog.at_level(logging.INFO, logger="csbot.delivery"):
        stats = run(engine, history_slack, clock, client=client)
    assert stats.sent == 2
    assert len(history_slack.calls_to("chat.postMessage")) == 2
    lines = [record.getMessage() for record in caplog.records if record.name == "csbot.delivery"]
    events = [json.loads(line) for line in lines]
    assert [event["status"] for event in events if event["event"] == "delivery"] == ["sent", "sent"]
    assert all(
        {"outbox_id", "key", "channel", "holder"} <= event.keys()
        for event in events
        if event["event"] == "delivery"
    )
    assert not any("confidential" in line or "xoxb" in line for line in lines)


def _wait_until(condition, timeout: float = 5.0) -> None:
    """Wait for the fake server's own thread (not for csbot's clock)."""
    import time

    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached")
        time.sleep(0.01)
