"""The outbox: one row per idempotency key, whoever queues it and however often."""

from __future__ import annotations

import threading

import pytest
from sqlmodel import Session, func, select

from bot.delivery.outbox import OutboxError, enqueue, retry_failed
from storage.models.delivery import OutboxMessage

PAYLOAD = {"text": "3 accounts need you today", "blocks": []}


def test_enqueue_returns_existing_row_for_same_key(session, clock):
    first = enqueue(
        session,
        key="digest:a@x.io:2026-06-01",
        kind="digest",
        channel="U1",
        payload=PAYLOAD,
        clock=clock,
    )
    session.commit()
    clock.advance(minutes=5)
    second = enqueue(
        session,
        key="digest:a@x.io:2026-06-01",
        kind="digest",
        channel="U2",
        payload={"text": "other", "blocks": []},
        clock=clock,
    )
    session.commit()
    assert second.id == first.id
    assert second.channel == "U1" and second.payload == PAYLOAD
    assert second.status == "pending" and second.next_attempt_at == first.created_at
    assert session.exec(select(func.count()).select_from(OutboxMessage)).one() == 1


def test_concurrent_enqueue_of_one_key_makes_one_row(engine, clock):
    """Eight threads, each in its own transaction, queue the same key at once."""
    barrier = threading.Barrier(8)
    ids: list[int] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            with Session(engine) as own:
                barrier.wait()
                row = enqueue(
                    own,
                    key="alert:acc-1:risk:critical",
                    kind="alert",
                    channel="C1",
                    payload=PAYLOAD,
                    clock=clock,
                )
                own.commit()
                assert row.id is not None
                ids.append(row.id)
        except BaseException as error:  # surfaced below
            errors.append(error)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert len(set(ids)) == 1
    with Session(engine) as check:
        assert check.exec(select(func.count()).select_from(OutboxMessage)).one() == 1


@pytest.mark.parametrize(
    ("payload", "channel", "message"),
    [
        ({"blocks": []}, "C1", "non-empty 'text'"),
        ({"text": "x", "blocks": [{"type": "divider"}] * 51}, "C1", "51 blocks"),
        ({"text": "x", "blocks": []}, "", "no channel"),
    ],
)
def test_enqueue_rejects_bad_messages(session, clock, payload, channel, message):
    with pytest.raises(OutboxError, match=message):
        enqueue(session, key="k1", kind="digest", channel=channel, payload=payload, clock=clock)


def test_retry_failed_puts_failed_back_to_pending(session, clock):
    row = enqueue(session, key="k1", kind="digest", channel="C1", payload=PAYLOAD, clock=clock)
    row.status, row.attempts, row.last_error = "failed", 6, "channel_not_found"
    session.add(row)
    session.commit()
    clock.advance(hours=1)
    assert retry_failed(session, clock=clock) == 1
    session.commit()
    session.refresh(row)
    assert (row.status, row.attempts, row.next_attempt_at) == ("pending", 0, clock.now())
