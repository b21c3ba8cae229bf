"""Zendesk Support: organizations → account links, users → contacts (and `left_at`),
tickets → tickets (with their CSAT), satisfaction ratings → CSAT surveys.

Read through the incremental export API: organizations time-based
(`/api/v2/incremental/organizations.json?start_time=`, cursor = the answer's `end_time`),
users and tickets cursor-based (`/api/v2/incremental/{users,tickets}/cursor.json`, cursor =
`after_cursor`, pages followed by `after_url` until `end_of_stream`), and satisfaction
ratings with `start_time` and cursor pagination (`page[size]`, `links.next`,
`meta.has_more`). Zendesk answers 429 with `Retry-After`, which is honoured.

Matching (docs/sources/zendesk.md): an organization is the account whose id is its
`external_id`, else a mapping `match.accounts` entry `zendesk:<org id>`, else the account
whose CRM domain is one of its `domain_names`. A user is the contact with the same email
(case-insensitive) — a CRM contact keeps its fields and only gets `left_at` when the user is
deactivated or suspended — or a new contact `zd-<id>` in its organization's account. A
ticket's account is its organization's, else its requester's. Deleted tickets are deleted.
"""

from __future__ import annotations

import base64
import datetime as dt
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx

from storage.connectors.base import (
    Connector,
    Cursor,
    Delete,
    Item,
    Link,
    Patch,
    Row,
    Step,
    SyncContext,
    Unmatched,
    iso,
)
from storage.ingest.connectors import Record, RestSource, _at, _records_at

CLOSED = {"solved", "closed"}
PRIORITIES = {"low", "normal", "high", "urgent"}


def _epoch(since: str | None) -> int:
    if not since:
        return 0
    if since.isdigit():
        return int(since)
    value = dt.datetime.fromisoformat(since.replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return int(value.timestamp())


def _naive(value: object) -> dt.datetime | None:
    text = iso(value)
    if not text:
        return None
    parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return parsed.astimezone(dt.UTC).replace(tzinfo=None) if parsed.tzinfo else parsed


@dataclass
class ExportPagination:
    """Incremental exports: follow `next_link` until `end_of_stream` (or no link); keeps the
    last body so the cursor (`after_cursor` or `end_time`) can be stored."""

    records: str
    next_link: str = "after_url"
    end: str = "end_of_stream"
    last: dict[str, Any] = field(default_factory=dict)

    def pages(self, fetch: Callable[..., Any]) -> Iterator[list[Record]]:
        body = fetch({})
        while True:
            self.last = body
            yield _records_at(body, self.records)
            link = _at(body, self.next_link)
            if not link or _at(body, self.end) or not _records_at(body, self.records):
                return
            body = fetch({}, str(link))


@dataclass
class LinksPagination:
    """Cursor pagination of the regular API: `links.next` while `meta.has_more`."""

    records: str
    last: dict[str, Any] = field(default_factory=dict)

    def pages(self, fetch: Callable[..., Any]) -> Iterator[list[Record]]:
        body = fetch({})
        while True:
            self.last = body
            yield _records_at(body, self.records)
            link = _at(body, "links.next")
            if not link or not _at(body, "meta.has_more"):
                return
            body = fetch({}, str(link))


class Zendesk:
    def __init__(
        self,
        base_url: str,
        email: str,
        token: str,
        *,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] | None = None,
        max_attempts: int = 6,
        page_size: int = 100,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        pair = base64.b64encode(f"{email}/token:{token}".encode()).decode()
        self.authorization = f"Basic {pair}"  # Zendesk API tokens: "{email}/token:{token}"
        self.transport = transport
        self.sleep = sleep
        self.max_attempts = max_attempts
        self.page_size = page_size
        self.requests = 0
        self.user_accounts: dict[str, tuple[str, str | None]] = {}

    def _read(self, path: str, params: dict[str, Any], pagination: Any) -> Iterator[Record]:
        source = RestSource(
            base_url=self.base_url,
            path=path,
            entity="",
            map_record=lambda record: record,
            pagination=pagination,
            headers={"Authorization": self.authorization},
            params=params,
            transport=self.transport,
            max_attempts=self.max_attempts,
            sleep=self.sleep or time.sleep,
        )
        try:
            yield from source.records()
        finally:
            self.requests += source.requests_made

    # -- organizations ------------------------------------------------------------------
    def organizations(self, since: str | None, context: SyncContext) -> Iterator[Item]:
        pages = ExportPagination("organizations", next_link="next_page")
        options = context.mapping.zendesk
        for org in self._read(
            "/api/v2/incremental/organizations.json", {"start_time": _epoch(since)}, pages
        ):
            if org.get("deleted_at"):
                continue
            org_id = str(org["id"])
            external = str(org.get("external_id") or "")
            account = context.mapping.match.accounts.get(f"zendesk:{org_id}")
            if account is None and options.external_id_is_account and external in context.accounts:
                account = external
            if account is None:
                for domain in org.get("domain_names") or []:
                    account = context.account_for_domain(domain)
                    if account:
                        break
            if account:
                yield Link("organization", org_id, account)
            else:
                yield Unmatched(f"organization {org_id}")
        if pages.last.get("end_time"):
            yield Cursor(str(pages.last["end_time"]))

    # -- users --------------------------------------------------------------------------
    def users(self, since: str | None, context: SyncContext) -> Iterator[Item]:
        pages = ExportPagination("users")
        params: dict[str, Any] = (
            {"cursor": since}
            if since and not _looks_like_time(since)
            else {"start_time": _epoch(since)}
        )
        params["per_page"] = self.page_size
        for user in self._read("/api/v2/incremental/users/cursor.json", params, pages):
            if user.get("role", "end-user") != "end-user":
                continue
            yield from self._user_items(user, context)
        if pages.last.get("after_cursor"):
            yield Cursor(str(pages.last["after_cursor"]))

    def _user_items(self, user: Record, context: SyncContext) -> Iterator[Item]:
        user_id = str(user["id"])
        email = (user.get("email") or "").strip().lower() or None
        inactive = user.get("active") is False or bool(user.get("suspended"))
        left_at = _naive(user.get("updated_at")) if inactive else None
        known = context.contact_for_email(email)
        if known is not None and not known[1].startswith("zd-"):
            yield Link("user", user_id, known[0], known[1])
            if left_at is not None:
                yield Patch("contacts", {"contact_id": known[1]}, {"left_at": left_at})
            return
        account = context.account_for("organization", user.get("organization_id"))
        account = account or context.account_for_domain(email)
        if account is None:
            yield Unmatched(f"user {user_id}")
            return
        contact = f"zd-{user_id}"
        yield Link("user", user_id, account, contact)
        yield Row(
            "contacts",
            {
                "contact_id": contact,
                "account_id": account,
                "name": user.get("name"),
                "email": email,
                "role": None,
                "left_at": left_at,
            },
        )

    # -- tickets ------------------------------------------------------------------------
    def tickets(self, since: str | None, context: SyncContext) -> Iterator[Item]:
        pages = ExportPagination("tickets")
        params: dict[str, Any] = (
            {"cursor": since}
            if since and not _looks_like_time(since)
            else {"start_time": _epoch(since)}
        )
        params["per_page"] = self.page_size
        for ticket in self._read("/api/v2/incremental/tickets/cursor.json", params, pages):
            ticket_id = f"zd-{ticket['id']}"
            if ticket.get("status") == "deleted":
                yield Delete("tickets", {"ticket_id": ticket_id})
                continue
            account, contact = self._who(ticket, context)
            if account is None:
                yield Unmatched(f"ticket {ticket['id']}")
                continue
            rating = ticket.get("satisfaction_rating") or {}
            priority = str(ticket.get("priority") or "").lower()
            yield Row(
                "tickets",
                {
                    "ticket_id": ticket_id,
                    "account_id": account,
                    "contact_id": contact,
                    "opened_at": iso(ticket.get("created_at")),
                    "closed_at": iso(ticket.get("updated_at"))
                    if ticket.get("status") in CLOSED
                    else None,
                    "priority": priority if priority in PRIORITIES else None,
                    "subject": ticket.get("subject"),
                    "body": ticket.get("description"),
                    "csat": context.mapping.satisfaction(rating.get("score")),
                },
            )
        if pages.last.get("after_cursor"):
            yield Cursor(str(pages.last["after_cursor"]))

    def _who(self, record: Record, context: SyncContext) -> tuple[str | None, str | None]:
        """(account, contact) of a ticket or rating: organization first, then requester."""
        requester = context.links.get(("user", str(record.get("requester_id"))))
        account = context.account_for("organization", record.get("organization_id"))
        if account is None and requester is not None:
            account = requester[0]
        contact = requester[1] if requester is not None and requester[0] == account else None
        return account, contact

    # -- satisfaction ratings -----------------------------------------------------------
    def satisfaction_ratings(self, since: str | None, context: SyncContext) -> Iterator[Item]:
        pages = LinksPagination("satisfaction_ratings")
        last = None
        params = {"start_time": _epoch(since), "page[size]": self.page_size}
        for rating in self._read("/api/v2/satisfaction_ratings", params, pages):
            last = max(last or "", str(rating.get("updated_at") or ""))
            score = context.mapping.satisfaction(rating.get("score"))
            if score is None:
                continue  # offered, unoffered: no answer yet
            account, contact = self._who(rating, context)
            if account is None:
                yield Unmatched(f"satisfaction rating {rating['id']}")
                continue
            yield Row(
                "surveys",
                {
                    "response_id": f"zd-csat-{rating['id']}",
                    "account_id": account,
                    "contact_id": contact,
                    "submitted_at": iso(rating.get("updated_at") or rating.get("created_at")),
                    "kind": "csat",
                    "score": float(score),
                    "comment": rating.get("comment"),
                },
            )
        if last:
            yield Cursor(last)


def _looks_like_time(value: str) -> bool:
    return value.isdigit() or value[:4].isdigit() and value[4:5] == "-"


def connector(base_url: str, email: str, token: str, **options: Any) -> Connector:
    zendesk = Zendesk(base_url, email, token, **options)
    return Connector(
        "zendesk",
        [
            Step("organizations", zendesk.organizations),
            Step("users", zendesk.users),
            Step("tickets", zendesk.tickets),
            Step("satisfaction_ratings", zendesk.satisfaction_ratings),
        ],
        "Zendesk Support incremental exports",
        requests=lambda: zendesk.requests,
    )
