"""Pulling contract rows from a paginated REST API: the pattern every connector follows.

A `RestSource` walks an API's pages with httpx (cursor or page-number pagination), retries
429, 5xx, timeouts and dropped connections with exponential backoff (honouring
`Retry-After`), and maps each API record to a contract row with a function the connector
supplies. `import_from_api` then feeds those rows through `import_rows`, so an API pull
gets exactly the validation, upsert and counts of a file.

A vendor connector is a `RestSource` with a base URL, auth headers, a pagination and a
`map_record` (e.g. a support desk's ticket → our `tickets` row).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
from sqlalchemy import Engine

from storage.ingest.importer import FileReport, import_rows

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})

Record = Mapping[str, Any]
MapRecord = Callable[[Record], Mapping[str, Any] | None]
"""API record → contract row (keys = contract columns), or None to leave the record out."""


class SourceError(Exception):
    """The API could not be read (after retries, or with a non-retryable status)."""


def _records_at(body: Any, path: str) -> list[Record]:
    value = body
    for part in path.split(".") if path else []:
        value = value.get(part) if isinstance(value, Mapping) else None
    if not isinstance(value, list):
        raise SourceError(f"response has no list at {path!r}")
    return value


@dataclass(frozen=True)
class CursorPagination:
    """`?cursor=<token>` until the body's `next_cursor` (a dotted path) is empty."""

    records: str = "data"
    next_cursor: str = "next_cursor"
    cursor_param: str = "cursor"
    limit_param: str | None = "limit"
    limit: int = 100

    def pages(self, fetch: Callable[[dict[str, Any]], Any]) -> Iterator[list[Record]]:
        params: dict[str, Any] = {self.limit_param: self.limit} if self.limit_param else {}
        while True:
            body = fetch(params)
            yield _records_at(body, self.records)
            cursor: Any = body
            for part in self.next_cursor.split("."):
                cursor = cursor.get(part) if isinstance(cursor, Mapping) else None
            if not cursor:
                return
            params = {**params, self.cursor_param: cursor}


@dataclass(frozen=True)
class PagePagination:
    """`?page=1,2,…&per_page=N` until a page comes back short (or empty)."""

    records: str = "data"
    page_param: str = "page"
    size_param: str = "per_page"
    size: int = 100
    first_page: int = 1

    def pages(self, fetch: Callable[[dict[str, Any]], Any]) -> Iterator[list[Record]]:
        page = self.first_page
        while True:
            records = _records_at(
                fetch({self.page_param: page, self.size_param: self.size}), self.records
            )
            yield records
            if len(records) < self.size:
                return
            page += 1


@dataclass
class RestSource:
    """One paginated endpoint of a REST API, mapped to one contract entity."""

    base_url: str
    path: str
    entity: str
    map_record: MapRecord
    pagination: CursorPagination | PagePagination = field(default_factory=CursorPagination)
    headers: Mapping[str, str] = field(default_factory=dict)
    params: Mapping[str, Any] = field(default_factory=dict)
    timeout: float = 30.0
    max_attempts: int = 5
    backoff: float = 0.5
    max_backoff: float = 30.0
    sleep: Callable[[float], None] = time.sleep
    transport: httpx.BaseTransport | None = None
    requests_made: int = 0

    def _fetch(self, client: httpx.Client, params: dict[str, Any]) -> Any:
        """GET one page, retrying what a retry can fix."""
        query = {**self.params, **params}
        for attempt in range(1, self.max_attempts + 1):
            delay = min(self.max_backoff, self.backoff * 2 ** (attempt - 1))
            self.requests_made += 1
            try:
                response = client.get(self.path, params=query)
            except (httpx.TimeoutException, httpx.TransportError) as error:
                if attempt == self.max_attempts:
                    raise SourceError(
                        f"GET {self.path}: {error!r} after {attempt} attempts"
                    ) from error
                self.sleep(delay)
                continue
            if response.status_code in RETRY_STATUSES and attempt < self.max_attempts:
                retry_after = response.headers.get("retry-after", "")
                if retry_after.isdigit():
                    delay = min(self.max_backoff, float(retry_after))
                self.sleep(delay)
                continue
            if response.status_code >= 400:
                raise SourceError(
                    f"GET {response.url}: HTTP {response.status_code} after {attempt} attempts"
                )
            try:
                return response.json()
            except ValueError as error:
                raise SourceError(f"GET {response.url}: response is not JSON") from error
        raise AssertionError("unreachable")

    def records(self) -> Iterator[Record]:
        """Every API record, page after page (one page in memory at a time)."""
        with httpx.Client(
            base_url=self.base_url,
            headers=dict(self.headers),
            timeout=self.timeout,
            transport=self.transport,
        ) as client:
            for page in self.pagination.pages(lambda params: self._fetch(client, params)):
                yield from page

    def rows(self) -> Iterator[Mapping[str, Any]]:
        """Contract rows: each record through `map_record` (None = skipped)."""
        for record in self.records():
            row = self.map_record(record)
            if row is not None:
                yield row

    def json_lines(self) -> Iterator[str]:
        for row in self.rows():
            yield json.dumps(row, default=str)


def import_from_api(
    engine: Engine, source: RestSource, *, skip_invalid: bool = False
) -> FileReport:
    """Pull `source` and import its rows with the contract's validation (line N = the Nth
    mapped record). Raises ContractViolation on bad rows unless `skip_invalid`, and
    SourceError when the API cannot be read (nothing is committed then)."""
    return import_rows(
        engine,
        source.entity,
        source.json_lines(),
        skip_invalid=skip_invalid,
        source_name=f"{source.base_url.rstrip('/')}/{source.path.lstrip('/')}",
    )
