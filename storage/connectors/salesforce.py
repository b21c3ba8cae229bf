"""Salesforce: User → owner emails, Account → accounts, Contact → contacts (roles,
`left_at` from deletion), Opportunity → contract terms and lifecycle, through REST + SOQL.

Each object is one SOQL query (`GET /services/data/vXX.X/query?q=…`), ordered by
`SystemModstamp` and filtered `SystemModstamp >= <cursor>`; pages follow `nextRecordsUrl`
until `done`. Contacts are read with `queryAll` so deleted ones come back with
`IsDeleted = true`: their `left_at` is their deletion time. Authentication is an OAuth
access token, or a connected app's client credentials (`POST /services/oauth2/token`,
`grant_type=client_credentials`). Errors are Salesforce's `[{"message", "errorCode"}]`.

Recipes (docs/sources/salesforce.md): a won Opportunity is a contract term `opp-<id>`
(`CloseDate` + `term_months`) unless the mapping names `salesforce.contract_arr_field`:
then each Contract (`StatusCode` in `contract_statuses`) is a term of its own `ctr-<id>`
(`StartDate` to `EndDate`, or `ContractTerm` months), never overwriting another term, and
Opportunities give only the lifecycle events; a won one whose `Type` is a renewal type is `renewed` (and
`expanded` / `contracted` by the change from the previous term), a won upsell is
`expanded`, a lost renewal is `churned`.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import quote

import httpx
from dateutil.relativedelta import relativedelta

from storage.connectors import recipes
from storage.connectors.base import Connector, Cursor, Item, Link, Row, Step, SyncContext, Unmatched
from storage.connectors.recipes import Terms
from storage.ingest.connectors import (
    NextLinkPagination,
    Record,
    RestSource,
    SourceError,
    api_message,
)

ROLES = {
    "decision maker": "decision_maker",
    "economic buyer": "decision_maker",
    "executive sponsor": "executive_sponsor",
    "business user": "end_user",
    "technical buyer": "admin",
    "evaluator": "end_user",
}
"""Salesforce's standard contact roles → contract roles (the mapping file adds more)."""


def soql_time(cursor: str) -> str:
    """A stored cursor or --since date → a SOQL datetime literal (UTC)."""
    value = dt.datetime.fromisoformat(cursor.replace("Z", "+00:00").replace("+0000", "+00:00"))
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


class Salesforce:
    def __init__(
        self,
        instance_url: str,
        *,
        access_token: str | None = None,
        client_id: str | None = None,
        client_secret: str | None = None,
        version: str = "60.0",
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] | None = None,
        max_attempts: int = 6,
    ) -> None:
        self.instance_url = instance_url.rstrip("/")
        self.access_token = access_token
        self.client_id = client_id
        self.client_secret = client_secret
        self.version = version.removeprefix("v")
        self.transport = transport
        self.sleep = sleep
        self.max_attempts = max_attempts
        self.requests = 0
        self._terms: Terms | None = None

    def _token(self) -> str:
        if self.access_token:
            return self.access_token
        self.requests += 1
        with httpx.Client(
            base_url=self.instance_url, transport=self.transport, timeout=30
        ) as client:
            response = client.post(
                "/services/oauth2/token",
                data={
                    "grant_type": "client_credentials",
                    "client_id": self.client_id or "",
                    "client_secret": self.client_secret or "",
                },
            )
        if response.status_code >= 400:
            said = api_message(response) or response.text[:200]
            raise SourceError(f"POST /services/oauth2/token: HTTP {response.status_code}: {said}")
        body = response.json()
        self.access_token = str(body["access_token"])
        self.instance_url = str(body.get("instance_url") or self.instance_url).rstrip("/")
        return self.access_token

    def query(self, soql: str, *, all_rows: bool = False) -> Iterator[Record]:
        endpoint = "queryAll" if all_rows else "query"
        source = RestSource(
            base_url=self.instance_url,
            path=f"/services/data/v{self.version}/{endpoint}?q={quote(soql)}",
            entity="",
            map_record=lambda record: record,
            pagination=NextLinkPagination(
                records="records", next_link="nextRecordsUrl", done="done"
            ),
            headers={"Authorization": f"Bearer {self._token()}"},
            transport=self.transport,
            max_attempts=self.max_attempts,
            sleep=self.sleep or time.sleep,
        )
        try:
            yield from source.records()
        finally:
            self.requests += source.requests_made

    def _since(
        self, name: str, fields: list[str], since: str | None, *, all_rows: bool = False
    ) -> Iterator[Record]:
        where = f" WHERE SystemModstamp >= {soql_time(since)}" if since else ""
        soql = f"SELECT {', '.join(dict.fromkeys(fields))} FROM {name}{where} ORDER BY SystemModstamp, Id"
        return self.query(soql, all_rows=all_rows)

    # -- steps --------------------------------------------------------------------------
    def users(self, since: str | None, context: SyncContext) -> Iterator[Item]:
        for user in self.query("SELECT Id, Email, IsActive FROM User"):
            if user.get("Email"):
                context.owners[str(user["Id"])] = str(user["Email"]).lower()
        return iter(())

    def accounts(self, since: str | None, context: SyncContext) -> Iterator[Item]:
        options = context.mapping.salesforce
        owners = context.mapping.owners
        fields = ["Id", "Name", "Website", "Industry", "OwnerId", "CreatedDate", "SystemModstamp"]
        fields += [f for f in (owners.field, *owners.fallback, options.segment_field) if f]
        last = None
        for account in self._since("Account", fields, since):
            account_id = str(account["Id"])
            owner_source = context.mapping
            if not (owners.field or owners.fallback):
                owner_source = context.mapping.model_copy(
                    update={"owners": owners.model_copy(update={"fallback": ["OwnerId"]})}
                )
            yield Row(
                "accounts",
                {
                    "account_id": account_id,
                    "name": account.get("Name") or account_id,
                    "segment": account.get(options.segment_field)
                    if options.segment_field
                    else None,
                    "industry": account.get("Industry"),
                    "owner": owner_source.owner_email(account, context.owners),
                    "created_at": account.get("CreatedDate"),
                    "plan": None,
                },
            )
            domain = _domain(account.get("Website"))
            if domain:
                yield Link("domain", domain, account_id)
            last = account.get("SystemModstamp") or last
        if last:
            yield Cursor(str(last))

    def contacts(self, since: str | None, context: SyncContext) -> Iterator[Item]:
        options = context.mapping.salesforce
        fields = [
            "Id",
            "AccountId",
            "FirstName",
            "LastName",
            "Email",
            "IsDeleted",
            "SystemModstamp",
        ]
        if options.role_field:
            fields.append(options.role_field)
        roles = {**ROLES, **context.mapping.aliases("contacts", "role")}
        last = None
        for contact in self._since("Contact", fields, since, all_rows=True):
            last = contact.get("SystemModstamp") or last
            account = contact.get("AccountId") or context.account_for_domain(contact.get("Email"))
            if not account:
                yield Unmatched(f"Contact {contact['Id']}")
                continue
            role = None
            if options.role_field and contact.get(options.role_field):
                role = roles.get(str(contact[options.role_field]).strip().lower())
            name = " ".join(p for p in (contact.get("FirstName"), contact.get("LastName")) if p)
            yield Row(
                "contacts",
                {
                    "contact_id": str(contact["Id"]),
                    "account_id": str(account),
                    "name": name or None,
                    "email": contact.get("Email"),
                    "role": role,
                    "left_at": contact.get("SystemModstamp") if contact.get("IsDeleted") else None,
                },
            )
        if last:
            yield Cursor(str(last))

    def opportunities(self, since: str | None, context: SyncContext) -> Iterator[Item]:
        options = context.mapping.salesforce
        fields = [
            "Id",
            "AccountId",
            "Name",
            "Amount",
            "CloseDate",
            "StageName",
            "IsWon",
            "IsClosed",
            "Type",
            "SystemModstamp",
        ]
        if options.currency_field:
            fields.append(options.currency_field)
        if self._terms is None:
            self._terms = recipes.load_terms(context)
        terms_from_contracts = bool(options.contract_arr_field)
        last = None
        for opportunity in self._since("Opportunity", fields, since):
            last = opportunity.get("SystemModstamp") or last
            account = opportunity.get("AccountId")
            if opportunity.get("Amount") is None or not opportunity.get("CloseDate"):
                continue
            if not account:
                yield Unmatched(f"Opportunity {opportunity['Id']}")
                continue
            closed = dt.date.fromisoformat(str(opportunity["CloseDate"])[:10])
            kind = str(opportunity.get("Type") or "").lower()
            items = recipes.deal_items(
                recipes.Deal(
                    contract_id=f"opp-{opportunity['Id']}",
                    account=str(account),
                    closed=closed,
                    amount=float(opportunity["Amount"]),
                    currency=opportunity.get(options.currency_field)
                    if options.currency_field
                    else None,
                    start=closed,
                    end=closed + relativedelta(months=options.term_months) - dt.timedelta(days=1),
                    won=bool(opportunity.get("IsWon")),
                    lost=bool(opportunity.get("IsClosed")) and not opportunity.get("IsWon"),
                    renewal=kind in {t.lower() for t in options.renewal_types},
                    expansion=kind in {t.lower() for t in options.expansion_types},
                    name=opportunity.get("Name"),
                    detail=f"salesforce opportunity {opportunity['Id']}",
                ),
                context,
                self._terms,
            )
            for item in items:
                if terms_from_contracts and item.entity == "contracts":
                    continue  # the Contract object holds the terms
                yield item
        if last:
            yield Cursor(str(last))

    def contracts(self, since: str | None, context: SyncContext) -> Iterator[Item]:
        """Contracts as contract terms `ctr-<id>`, when the mapping names their ARR field."""
        options = context.mapping.salesforce
        arr_field = options.contract_arr_field
        if not arr_field:
            return
        fields = [
            "Id",
            "AccountId",
            "ContractNumber",
            "StartDate",
            "EndDate",
            "ContractTerm",
            "StatusCode",
            "SystemModstamp",
            arr_field,
        ]
        if options.currency_field:
            fields.append(options.currency_field)
        if self._terms is None:
            self._terms = recipes.load_terms(context)
        statuses = {status.lower() for status in options.contract_statuses}
        last = None
        for contract in self._since("Contract", fields, since):
            last = contract.get("SystemModstamp") or last
            account, start = contract.get("AccountId"), contract.get("StartDate")
            if str(contract.get("StatusCode") or "").lower() not in statuses or not start:
                continue
            if not account:
                yield Unmatched(f"Contract {contract['Id']}")
                continue
            begins = dt.date.fromisoformat(str(start)[:10])
            if contract.get("EndDate"):
                ends = dt.date.fromisoformat(str(contract["EndDate"])[:10])
            else:
                months = int(contract.get("ContractTerm") or options.term_months)
                ends = begins + relativedelta(months=months) - dt.timedelta(days=1)
            arr = contract.get(arr_field)
            currency = contract.get(options.currency_field) if options.currency_field else None
            contract_id = f"ctr-{contract['Id']}"
            yield Row(
                "contracts",
                {
                    "contract_id": contract_id,
                    "account_id": str(account),
                    "start_date": begins,
                    "end_date": ends,
                    "arr": arr,
                    "plan": contract.get("ContractNumber"),
                    "currency": currency,
                },
            )
            if arr not in (None, ""):
                try:
                    reported = context.mapping.to_reporting(float(arr), currency)
                except (KeyError, ValueError):
                    reported = None
                if reported is not None:
                    recipes.remember_term(self._terms, str(account), begins, reported, contract_id)
        if last:
            yield Cursor(str(last))


def _domain(website: object) -> str | None:
    if not website:
        return None
    text = str(website).strip().lower()
    text = text.split("://", 1)[-1].split("/", 1)[0].removeprefix("www.")
    return text or None


def connector(instance_url: str, **options: Any) -> Connector:
    salesforce = Salesforce(instance_url, **options)
    return Connector(
        "salesforce",
        [
            Step("users", salesforce.users),
            Step("accounts", salesforce.accounts),
            Step("contacts", salesforce.contacts),
            Step("contracts", salesforce.contracts),
            Step("opportunities", salesforce.opportunities),
        ],
        "Salesforce REST + SOQL",
        requests=lambda: salesforce.requests,
    )
