"""queue_digests: one set of outbox rows per CSM per day, long digests in parts."""

from __future__ import annotations

import datetime as dt

from sqlmodel import Session, select

from bot.delivery.limits import validate_message
from bot.digests.model import Digest
from bot.digests.post import queue_digests
from bot.settings import Settings
from storage.clock import FixedClock
from storage.models import OutboxMessage, SlackUser
from tests.test_messages import item

AS_OF = dt.date(2026, 6, 1)


def test_queue_digests_once_per_csm_per_day_in_one_message(session: Session) -> None:
    clock = FixedClock(dt.datetime(2026, 6, 1, 8, 30))
    settings = Settings(_env_file=None, digest_channel="C0DIGEST")  # type: ignore[call-arg]
    session.add(
        SlackUser(email="dana@x.io", user_id="U0DANA", source="mapping", fetched_at=clock.now())
    )
    session.commit()
    long = Digest(
        owner="dana@x.io", as_of=AS_OF, items=[item(i) for i in range(20)], total_needing=20
    )
    empty = Digest(owner="eli@x.io", as_of=AS_OF)
    rows = queue_digests(session, [long, empty], as_of=AS_OF, clock=clock, settings=settings)
    session.commit()
    assert [row.idempotency_key for row in rows] == ["digest:dana@x.io:2026-06-01"]
    for row in rows:
        assert row.channel == "C0DIGEST" and row.kind == "digest"
        validate_message(row.payload)
    assert rows[0].payload["blocks"][1]["elements"][0]["text"].startswith("<@U0DANA> As of")

    # later the same day the digest has grown: nothing is added
    longer = Digest(
        owner="dana@x.io", as_of=AS_OF, items=[item(i) for i in range(40)], total_needing=40
    )
    clock.advance(hours=3)
    again = queue_digests(session, [longer], as_of=AS_OF, clock=clock, settings=settings)
    session.commit()
    assert [row.id for row in again] == [row.id for row in rows]
    assert len(session.exec(select(OutboxMessage)).all()) == 1

    # the next day is a new digest
    tomorrow = AS_OF + dt.timedelta(days=1)
    rows = queue_digests(session, [longer], as_of=tomorrow, clock=clock, settings=settings)
    assert len(rows) == 1 and rows[0].idempotency_key == "digest:dana@x.io:2026-06-02"
