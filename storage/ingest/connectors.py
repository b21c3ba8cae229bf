"""Pulling contract rows from a paginated REST API: the pattern every connector follows.

A `RestSource` walks an API's pages with httpx (cursor or page-number pagination), retries
429, 5xx, timeouts and dropped connections with exponential backoff (honouring
`Retry-After`), and maps each API record to a contract row with a function the connector
supplies. `import_from_api` then feeds those rows through `import_rows`, so an API pull
gets exactly the validation, upsert and counts of a file.

A vendor connector (storage/connectors/) is a `RestSource` per object with a base URL,
auth headers, a pagination (a cursor in the query or, for POST searches, in the JSON body;
page numbers; or the next page's link) and a `map_record`; `csbot sync` runs them.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx
from sqlalchemy import Engine

from storage.ingest.importer import FileReport, import_rows

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})

Record = Mapping[str, Any]
MapRecord = Callable[[Record], Mapping[str, Any] | None]
"""API record → contract row (keys = contract columns), or None to leave the record out."""


class SourceError(Exception):
    """The API could not be read (after retries, or with a non-retryable status); the
    message names the request and, when the API said why, its own words."""


def api_message(response: httpx.Response) -> str:
    """What the API said went wrong, from the error shapes of the APIs csbot reads:
    HubSpot `{"message"}`, Stripe `{"error": {"message"}}`, Zendesk `{"error",
    "description"}`, Salesforce `[{"message", "errorCode"}]`. Empty when it said nothing."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:200].strip()
    if isinstance(body, list) and body and isinstance(body[0], Mapping):
        body = body[0]
    if not isinstance(body, Mapping):
        return ""
    error = body.get("error")
    if isinstance(error, Mapping):
        return str(error.get("message") or error.get("title") or "")
    for key in ("message", "error_description", "description", "details", "error"):
        if isinstance(body.get(key), str) and body[key]:
            return str(body[key])
    return ""


def retry_after(response: httpx.Response) -> float | None:
    """Seconds the API asks us to wait: `Retry-After` (or HubSpot's and Stripe's
    rate-limit headers), None when it does not say."""
    text = response.headers.get("retry-after", "").strip()
    try:
        return max(0.0, float(text)) if text else None
    except ValueError:
        return None


def _records_at(body: Any, path: str) -> list[Record]:
    value = body
    for part in path.split(".") if path else []:
        value = value.get(part) if isinstance(value, Mapping) else None
    if not isinstance(value, list):
        raise SourceError(f"response has no list at {path!r}")
    return value


class Pagination(Protocol):
    """Walks an endpoint's pages: `fetch(params, path=None)` returns one page's body."""

    def pages(self, fetch: Callable[..., Any]) -> Iterator[list[Record]]: ...


@dataclass(frozen=True)
class CursorPagination:
    """`?cursor=<token>` until the body's `next_cursor` (a dotted path) is empty."""

    records: str = "data"
    next_cursor: str = "next_cursor"
    cursor_param: str = "cursor"
    limit_param: str | None = "limit"
    limit: int = 100

    def pages(self, fetch: Callable[..., Any]) -> Iterator[list[Record]]:
        params: dict[str, Any] = {self.limit_param: self.limit} if self.limit_param else {}
        while True:
            body = fetch(params)
            yield _records_at(body, self.records)
            cursor = _at(body, self.next_cursor)
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

    def pages(self, fetch: Callable[..., Any]) -> Iterator[list[Record]]:
        page = self.first_page
        while True:
            records = _records_at(
                fetch({self.page_param: page, self.size_param: self.size}), self.records
            )
            yield records
            if len(records) < self.size:
                return
            page += 1


@dataclass(frozen=True)
class NextLinkPagination:
    """Follow the next page's URL or path the body gives (Salesforce's `nextRecordsUrl`,
    Zendesk's `after_url`, Stripe-style `links.next`) until it is empty or `done` is true."""

    records: str = "records"
    next_link: str = "nextRecordsUrl"
    done: str | None = None

    def pages(self, fetch: Callable[..., Any]) -> Iterator[list[Record]]:
        body = fetch({})
        while True:
            yield _records_at(body, self.records)
            link = _at(body, self.next_link)
            if not link or (self.done is not None and _at(body, self.done)):
                return
            body = fetch({}, str(link))


def _at(body: Any, path: str) -> Any:
    value = body
    for part in path.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    return value


@dataclass
class RestSource:
    """One paginated endpoint of a REST API, mapped to one contract entity."""

    base_url: str
    path: str
    entity: str
    map_record: MapRecord
    pagination: Pagination = field(default_factory=CursorPagination)
    headers: Mapping[str, str] = field(default_factory=dict)
    params: Mapping[str, Any] = field(default_factory=dict)
    timeout: float = 30.0
    max_attempts: int = 5
    backoff: float = 0.5
    max_backoff: float = 30.0
    sleep: Callable[[float], None] = time.sleep
    transport: httpx.BaseTransport | None = None
    method: str = "GET"
    body: Mapping[str, Any] = field(default_factory=dict)
    requests_made: int = 0
    retries: int = 0

    def _fetch(self, client: httpx.Client, params: dict[str, Any], path: str | None = None) -> Any:
        """One page (GET with `params` in the query; POST with them in the JSON body),
        retrying what a retry can fix. `path` overrides the source's (a next-page URL)."""
        target = path or self.path
        if self.method == "GET":
            query = {**self.params, **params} if path is None else params
            request: dict[str, Any] = {"params": query}
        else:
            request = {"params": dict(self.params), "json": {**dict(self.body), **params}}
        if not request["params"]:
            del request["params"]  # httpx would drop a query written in the path
        for attempt in range(1, self.max_attempts + 1):
            delay = min(self.max_backoff, self.backoff * 2 ** (attempt - 1))
            self.requests_made += 1
            try:
                response = client.request(self.method, target, **request)
            except (httpx.TimeoutException, httpx.TransportError) as error:
                if attempt == self.max_attempts:
                    raise SourceError(
                        f"{self.method} {target}: {error!r} after {attempt} attempts"
                    ) from error
                self.sleep(delay)
                continue
            if response.status_code in RETRY_STATUSES and attempt < self.max_attempts:
                asked = retry_after(response)
                if asked is not None:
                    delay = min(self.max_backoff, asked)
                self.retries += 1
                self.sleep(delay)
                continue
            if response.status_code >= 400:
                said = api_message(response)
                raise SourceError(
                    f"{self.method} {response.url}: HTTP {response.status_code} after {attempt} attempts"
                    + (f": {said}" if said else "")
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
            for page in self.pagination.pages(
                lambda params, path=None: self._fetch(client, params, path)
            ):
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
