"""A real process delivering a batch is SIGKILLed mid-run; a second run finishes the job.

The fake Slack answers slowly, so the kill usually lands while Slack is still "posting"
a message whose answer the killed process never reads: the hardest window. Whatever the
kill interrupted, every key must reach Slack exactly once.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from slack_sdk import WebClient
from sqlmodel import Session, select

from bot.delivery.outbox import enqueue
from bot.delivery.sender import deliver_pending
from storage.clock import FixedClock
from storage.models.delivery import OutboxMessage
from tests.test_delivery_fake import running_history_slack


@pytest.fixture
def history_slack():
    yield from running_history_slack()


ROOT = Path(__file__).resolve().parents[1]
MESSAGES = 24
KILL_AFTER = 9

CHILD = """
import sys, datetime as dt
import pytest
from slack_sdk import WebClient
from bot.delivery.sender import deliver_pending
from storage.clock import FixedClock
from storage.db import make_engine
engine = make_engine(sys.argv[1])
client = WebClient(token="xoxb-child", base_url=sys.argv[2], timeout=10)
print("ready", flush=True)
deliver_pending(engine, client, FixedClock(dt.datetime.fromisoformat(sys.argv[3])), sleep=lambda s: None)
print("finished", flush=True)
"""


def test_sigkill_mid_batch_then_restart_posts_each_key_once(
    engine, database_url, history_slack, clock
):
    keys = [f"digest:csm{i}@example.com:2026-06-01" for i in range(MESSAGES)]
    with Session(engine) as session:
        for i, key in enumerate(keys):
            enqueue(
                session,
                key=key,
                kind="digest",
                channel=f"U{i:04d}",
                payload={"text": "t", "blocks": []},
                clock=clock,
            )
        session.commit()
    history_slack.fail("chat.postMessage", delay=0.05, times=MESSAGES)
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, database_url, history_slack.api_url, clock.now().isoformat()],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while len(history_slack.calls_to("chat.postMessage")) < KILL_AFTER:
            assert child.poll() is None, child.stderr.read() if child.stderr else ""
            assert time.monotonic() < deadline, "child made no progress"
            time.sleep(0.005)
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=10)
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == -signal.SIGKILL
    requested = len(history_slack.calls_to("chat.postMessage"))
    assert KILL_AFTER <= requested < MESSAGES
    # Let the fake finish answering the request the dead process was waiting for.
    deadline = time.monotonic() + 5
    while len(history_slack.posted) < requested and time.monotonic() < deadline:
        time.sleep(0.01)

    with Session(engine) as session:
        states = {row.idempotency_key: row.status for row in session.exec(select(OutboxMessage))}
    assert list(states.values()).count("sent") < MESSAGES

    restart = FixedClock(clock.now() + dt.timedelta(minutes=2))  # the dead claims have expired
    stats = deliver_pending(
        engine,
        WebClient(token="xoxb-2", base_url=history_slack.api_url),
        restart,
        sleep=lambda s: None,
    )
    assert stats.sent + stats.reconciled == MESSAGES - list(states.values()).count("sent")
    with Session(engine) as session:
        assert {row.status for row in session.exec(select(OutboxMessage))} == {"sent"}
    assert history_slack.posts_by_key() == dict.fromkeys(keys, 1)
