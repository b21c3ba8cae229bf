"""Product usage from a warehouse: one SQL query on any SQLAlchemy URL (PostgreSQL,
BigQuery, Snowflake, … with their dialect installed).

The query returns the columns `account`, `contact` (may be null), `day`, `event` and
`quantity`, and takes `:since` — the last day already read (1970-01-01 the first time) —
so it can filter `WHERE day >= :since`. The cursor is the latest day returned; that day is
read again next time (late rows still arrive) and costs no writes when nothing changed.
An `account` that is not a csbot account id is matched as an email domain or a mapping
`match.accounts` entry (`usage:<value>`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.exc import SQLAlchemyError

from storage.connectors.base import Connector, Cursor, Item, Row, Step, SyncContext
from storage.ingest.connectors import SourceError

COLUMNS = ("account", "contact", "day", "event", "quantity")
BEGINNING = "1970-01-01"


def _day(value: Any) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None)
    if isinstance(value, dt.date):
        return dt.datetime.combine(value, dt.time())
    return dt.datetime.fromisoformat(str(value)[:10])


class UsageSql:
    def __init__(self, url: str, sql: str) -> None:
        self.url = url
        self.sql = sql
        self.requests = 0

    def usage(self, since: str | None, context: SyncContext) -> Iterator[Item]:
        start = (since or BEGINNING)[:10]
        try:
            engine = create_engine(self.url)
        except (SQLAlchemyError, ImportError) as error:
            raise SourceError(f"CSBOT_USAGE_SQL_URL: {error}") from None
        last: dt.datetime | None = None
        try:
            with engine.connect() as connection:
                self.requests += 1
                result = connection.execution_options(stream_results=True).execute(
                    text(self.sql), {"since": dt.date.fromisoformat(start)}
                )
                names = list(result.keys())
                missing = [c for c in COLUMNS if c not in names]
                if missing:
                    raise SourceError(
                        f"CSBOT_USAGE_SQL returns no column {', '.join(missing)} "
                        f"(it returns {', '.join(names)})"
                    )
                index = [names.index(c) for c in COLUMNS]
                accounts = context.accounts
                for chunk in result.partitions(10_000):
                    for record in chunk:
                        account, contact, day, event, quantity = (record[i] for i in index)
                        account = str(account)
                        if account not in accounts:
                            account = (
                                context.account_for("account", account)
                                or context.account_for_domain(account)
                                or account
                            )
                        when = _day(day)
                        if last is None or when > last:
                            last = when
                        yield Row(
                            "usage",
                            {
                                "account_id": account,
                                "contact_id": "" if contact is None else str(contact),
                                "timestamp": when,
                                "event": event,
                                "quantity": 1.0 if quantity is None else float(quantity),
                            },
                        )
        except SQLAlchemyError as error:
            message = str(getattr(error, "orig", None) or error).splitlines()[0]
            raise SourceError(f"query failed: {message}") from None
        finally:
            engine.dispose()
        if last is not None:
            yield Cursor(last.date().isoformat())


def connector(url: str, sql: str) -> Connector:
    source = UsageSql(url, sql)
    return Connector(
        "usage-sql",
        [Step("usage", source.usage)],
        "warehouse SQL",
        requests=lambda: source.requests,
    )
