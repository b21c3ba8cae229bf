"""Lease rows in `job_leases`: which process may run a job (or be the single instance).

A lease is taken by inserting its row, or by a conditional UPDATE when the row's lease
has expired (or is already ours). The holder renews it while working; when a holder dies
its lease lapses after `ttl` and the next process to ask takes it over. Works the same on
SQLite and PostgreSQL (on PostgreSQL a waiting UPDATE re-checks `expires_at` after the
row lock, so two replicas cannot both take over one expired lease).
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from types import TracebackType

from sqlalchemy import Engine, delete, or_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col

from bot.delivery.logs import log_event
from storage.clock import Clock
from storage.models.delivery import JobLease

logger = logging.getLogger("csbot.scheduling")

DEFAULT_TTL_SECONDS = 60.0


def acquire(
    engine: Engine, name: str, holder: str, clock: Clock, ttl: float = DEFAULT_TTL_SECONDS
) -> bool:
    """Take the lease `name` for `ttl` seconds; True if `holder` now holds it."""
    now = clock.now()
    expires = now + dt.timedelta(seconds=ttl)
    table = JobLease.__table__  # type: ignore[attr-defined]
    insert = (postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert)(table)
    with engine.begin() as connection:
        inserted = connection.execute(
            insert.values(name=name, holder=holder, expires_at=expires).on_conflict_do_nothing(
                index_elements=["name"]
            )
        )
        if inserted.rowcount == 1:
            return True
        taken = connection.execute(
            update(JobLease)
            .where(
                col(JobLease.name) == name,
                or_(col(JobLease.expires_at) < now, col(JobLease.holder) == holder),
            )
            .values(holder=holder, expires_at=expires)
        )
        return taken.rowcount == 1


def renew(
    engine: Engine, name: str, holder: str, clock: Clock, ttl: float = DEFAULT_TTL_SECONDS
) -> bool:
    """Extend our lease; False if it is no longer ours (it lapsed and was taken over)."""
    with engine.begin() as connection:
        result = connection.execute(
            update(JobLease)
            .where(col(JobLease.name) == name, col(JobLease.holder) == holder)
            .values(expires_at=clock.now() + dt.timedelta(seconds=ttl))
        )
        return result.rowcount == 1


def release(engine: Engine, name: str, holder: str) -> None:
    with engine.begin() as connection:
        connection.execute(
            delete(JobLease).where(col(JobLease.name) == name, col(JobLease.holder) == holder)
        )


def current(engine: Engine, name: str) -> JobLease | None:
    with Session(engine, expire_on_commit=False) as session:
        return session.get(JobLease, name)


class LeaseKeeper:
    """Renews a held lease every `ttl / 3` seconds (wall time) until closed.

    `lost` turns True if a renewal finds the lease gone: the work should stop.
    """

    def __init__(
        self, engine: Engine, name: str, holder: str, clock: Clock, ttl: float = DEFAULT_TTL_SECONDS
    ) -> None:
        self.engine, self.name, self.holder, self.clock, self.ttl = engine, name, holder, clock, ttl
        self.lost = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=f"lease-{name}", daemon=True)

    def __enter__(self) -> LeaseKeeper:
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def _loop(self) -> None:
        while not self._stop.wait(self.ttl / 3):
            try:
                if not renew(self.engine, self.name, self.holder, self.clock, self.ttl):
                    self.lost = True
                    log_event(
                        logger,
                        "lease_lost",
                        level=logging.ERROR,
                        lease=self.name,
                        holder=self.holder,
                    )
                    return
            except Exception:  # a database hiccup: try again at the next tick
                logger.warning("lease %s: renewal failed", self.name, exc_info=True)
