"""What a connector yields, and the context it reads while mapping records.

A connector is a list of `Step`s; a step reads one API object from a cursor (None: from the
beginning) and yields `Row`s (contract rows), `Delete`s (records gone at the source),
`Link`s (this external id is that account), `Unmatched` (a record no account matches:
reported, not written) and `Cursor` marks (read up to here). The runner
does all writing, so connectors are plain mapping code over API records.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, text

from storage.clock import Clock, SystemClock
from storage.ingest.mapping import DEFAULT
from storage.ingest.mapping import Mapping as MappingFile


@dataclass(frozen=True)
class Row:
    """One contract row (keys = contract columns; values text, numbers, dates or None)."""

    entity: str
    values: Mapping[str, Any]


@dataclass(frozen=True)
class Delete:
    """The record with this key was deleted at the source."""

    entity: str
    key: Mapping[str, Any]


@dataclass(frozen=True)
class Patch:
    """Set some columns of an existing row (e.g. a CRM contact's `left_at` from the support
    desk), leaving the others as their own source wrote them."""

    entity: str
    key: Mapping[str, Any]
    values: Mapping[str, Any]


@dataclass(frozen=True)
class Link:
    """`external_id` of `kind` in this source is csbot's `account_id` (and contact)."""

    kind: str
    external_id: str
    account_id: str
    contact_id: str | None = None


@dataclass(frozen=True)
class Unmatched:
    """A record that matches no account (named for the report, e.g. "deal 9001"): it is
    left out, and the sync report counts and names it instead of dropping it silently."""

    record: str


@dataclass(frozen=True)
class Cursor:
    """Everything up to `value` has been yielded (stored when the step ends)."""

    value: str


Item = Row | Delete | Patch | Link | Unmatched | Cursor


@dataclass
class Step:
    """One API object: `read(since, context)` yields items from `since` (None = all)."""

    object: str
    read: Callable[[str | None, SyncContext], Iterator[Item]]


@dataclass
class Connector:
    """A source (`hubspot`, `zendesk`, …) and its steps, in dependency order."""

    source: str
    steps: list[Step]
    description: str = ""
    requests: Callable[[], int] = lambda: 0
    """How many HTTP requests were made (for the report and the bench)."""


@dataclass
class SyncContext:
    """What mapping needs to look up: the mapping file, known accounts, links (this
    source's and the CRM's domains), contacts by email, CRM users' emails. Loaded once per
    sync; links and accounts found during the sync are added as they are yielded."""

    engine: Engine
    source: str
    mapping: MappingFile = DEFAULT
    clock: Clock = field(default_factory=SystemClock)
    accounts: set[str] = field(default_factory=set)
    links: dict[tuple[str, str], tuple[str, str | None]] = field(default_factory=dict)
    domains: dict[str, str] = field(default_factory=dict)
    contacts_by_email: dict[str, tuple[str, str]] = field(default_factory=dict)
    owners: dict[str, str] = field(default_factory=dict)

    @classmethod
    def load(
        cls, engine: Engine, source: str, mapping: MappingFile = DEFAULT, clock: Clock | None = None
    ) -> SyncContext:
        context = cls(engine, source, mapping, clock or SystemClock())
        with engine.connect() as connection:
            context.accounts = set(
                connection.execute(text("SELECT account_id FROM accounts")).scalars()
            )
            for kind, external, account, contact, link_source in connection.execute(
                text("SELECT kind, external_id, account_id, contact_id, source FROM sync_links")
            ):
                if kind == "domain":
                    context.domains[external] = account
                elif link_source == source:
                    context.links[(kind, external)] = (account, contact)
            for contact_id, account_id, email in connection.execute(
                text("SELECT contact_id, account_id, email FROM contacts WHERE email IS NOT NULL")
            ):
                context.contacts_by_email[str(email).strip().lower()] = (account_id, contact_id)
        return context

    def account_for(self, kind: str, external_id: object) -> str | None:
        """The account a linked record of this source is (None when not linked)."""
        if external_id in (None, ""):
            return None
        explicit = self.mapping.match.accounts.get(f"{self.source}:{external_id}")
        if explicit is not None:
            return explicit
        found = self.links.get((kind, str(external_id)))
        return found[0] if found else None

    def account_for_domain(self, domain_or_email: object) -> str | None:
        """The account whose CRM domain is this domain (or this email's), when the mapping
        allows matching by domain; subdomains match their parent (eu.acme.com → acme.com)."""
        if not self.mapping.match.domains or not domain_or_email:
            return None
        domain = str(domain_or_email).strip().lower().rpartition("@")[2]
        domain = domain.removeprefix("www.")
        while domain:
            if domain in self.domains:
                return self.domains[domain]
            _, dot, domain = domain.partition(".")
            if not dot or "." not in domain:
                return self.domains.get(domain) if domain else None
        return None

    def contact_for_email(self, email: object) -> tuple[str, str] | None:
        """(account_id, contact_id) of the contact with this email, case-insensitively."""
        if not email:
            return None
        return self.contacts_by_email.get(str(email).strip().lower())

    def remember(self, item: Item) -> None:
        """Make a yielded link or account visible to later lookups in the same sync."""
        if isinstance(item, Link):
            if item.kind == "domain":
                self.domains[item.external_id] = item.account_id
            else:
                self.links[(item.kind, item.external_id)] = (item.account_id, item.contact_id)
        elif isinstance(item, Row):
            if item.entity == "accounts":
                self.accounts.add(str(item.values["account_id"]))
            elif item.entity == "contacts" and item.values.get("email"):
                email = str(item.values["email"]).strip().lower()
                self.contacts_by_email[email] = (
                    str(item.values["account_id"]),
                    str(item.values["contact_id"]),
                )


def iso(value: object) -> str | None:
    """An API timestamp (ISO text, epoch seconds or milliseconds) → ISO text, or None."""
    if value in (None, ""):
        return None
    if isinstance(value, int | float) or (isinstance(value, str) and value.isdigit()):
        number = float(value)
        if number > 1e11:  # milliseconds
            number /= 1000
        return dt.datetime.fromtimestamp(number, dt.UTC).isoformat()
    return str(value)
