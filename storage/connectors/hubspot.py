"""HubSpot (CRM v3): owners → CSM emails, companies → accounts, contacts (with buying roles)
→ contacts, deals → contract terms, renewals, expansions and churn.

Every call goes through hubspot-api-client (its `host` set to `CSBOT_HUBSPOT_API_URL`), one
page a call wrapped in the shared retry policy (storage/connectors/vendor.py: 429,
Retry-After, backoff). Every object is read through the CRM search API
(`POST /crm/v3/objects/{type}/search`), sorted by last modification, 100 records a page (the
client's own page size in `get_all`, and the largest the search API serves). The cursor is the last modification time read; a
search stops at 10,000 results, so a long read restarts from the last time seen (records at
that instant are read twice, which changed-only writes make free). Deals' companies come
from the v4 associations batch API, one call per page. Archived contacts are read from the
list API (`archived=true`): their `archivedAt` becomes `left_at`.

Recipes (docs/sources/hubspot.md): a won deal is a contract term of its own (`deal-<id>`,
never overwriting an earlier term's end date); a won renewal is also a `renewed` lifecycle
event whose `arr_change` is its amount less the previous term's, plus `expanded` or
`contracted` when that differs from zero; a won upsell is `expanded`; a lost renewal is
`churned` with the previous term's ARR as the loss.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable, Iterator, Mapping
from functools import partial
from typing import Any

from dateutil.relativedelta import relativedelta

from storage.connectors import recipes
from storage.connectors.base import (
    Connector,
    Cursor,
    Item,
    Link,
    Row,
    Step,
    SyncContext,
    Unmatched,
    iso,
)
from storage.connectors.recipes import Terms
from storage.connectors.vendor import Failure, Retrying
from storage.ingest.connectors import Record

SEARCH_LIMIT = 10_000
"""The search API returns at most this many results per query (then HTTP 400)."""
PAGE = 100

ROLES = {
    "decision_maker": "decision_maker",
    "champion": "champion",
    "executive_sponsor": "executive_sponsor",
    "end_user": "end_user",
    "budget_holder": "finance",
}
"""HubSpot's `hs_buying_role` values → contract roles (the mapping file adds more)."""

COMPANY_PROPERTIES = ["name", "domain", "industry", "createdate", "hs_lastmodifieddate"]
CONTACT_PROPERTIES = ["email", "firstname", "lastname", "associatedcompanyid", "lastmodifieddate"]
DEAL_PROPERTIES = [
    "dealname",
    "amount",
    "closedate",
    "dealstage",
    "dealtype",
    "deal_currency_code",
    "hs_lastmodifieddate",
]


def _ms(value: object) -> int | None:
    text_value = iso(value)
    if text_value is None:
        return None
    parsed = dt.datetime.fromisoformat(text_value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return int(parsed.timestamp() * 1000)


def _day(value: object) -> dt.date | None:
    text_value = iso(value)
    if not text_value:
        return None
    try:
        return dt.datetime.fromisoformat(text_value.replace("Z", "+00:00")).date()
    except ValueError:
        return dt.date.fromisoformat(text_value[:10])


def _number(value: object) -> float | None:
    try:
        return float(str(value)) if value not in (None, "") else None
    except ValueError:
        return None


class HubSpot:
    """Reads CRM objects through hubspot-api-client, its host set to `base_url`."""

    def __init__(
        self,
        token: str,
        base_url: str = "https://api.hubapi.com",
        *,
        sleep: Callable[[float], None] | None = None,
        max_attempts: int = 6,
        page_size: int = PAGE,
        timeout: float = 30.0,
    ) -> None:
        from hubspot import HubSpot as Client
        from urllib3.util.retry import Retry

        self.base_url = base_url.rstrip("/")
        # urllib3 would retry a 429 itself, sleeping for Retry-After out of our sight: off,
        # so the shared policy does it (and a test's `sleep` sees it).
        no_retry = Retry(0, respect_retry_after_header=False)
        self.client = Client(access_token=token, host=self.base_url, retry=no_retry)
        self.retrying = Retrying(_explain, max_attempts=max_attempts, sleep=sleep or time.sleep)
        self.page_size = page_size
        self.timeout = timeout
        self._apis: dict[str, Any] = {}
        self._previous_terms: Terms | None = None

    @property
    def requests(self) -> int:
        return self.retrying.requests

    def _api(self, name: str) -> Any:
        """One API object per kind, kept: each holds its own connection pool."""
        if name not in self._apis:
            crm = self.client.crm
            self._apis[name] = {
                "owners": lambda: crm.owners.owners_api,
                "companies": lambda: crm.companies.search_api,
                "contacts": lambda: crm.contacts.search_api,
                "deals": lambda: crm.deals.search_api,
                "contacts-basic": lambda: crm.contacts.basic_api,
                "associations": lambda: crm.associations.v4.batch_api,
            }[name]()
        return self._apis[name]

    def _search(
        self, kind: str, modified: str, properties: list[str], since: str | None
    ) -> Iterator[Record]:
        """Every record of `kind` modified at or after `since`, oldest first. The search API
        stops at 10,000 results: past that, a new search from the last time seen."""
        from hubspot.crm.objects import Filter, FilterGroup, PublicObjectSearchRequest

        api = self._api(kind)
        since_ms, after = (_ms(since) if since else None), 0
        while True:
            request = PublicObjectSearchRequest(
                sorts=[{"propertyName": modified, "direction": "ASCENDING"}],
                properties=properties,
                limit=self.page_size,
                after=str(after) if after else None,
                filter_groups=[]
                if since_ms is None
                else [
                    FilterGroup(
                        filters=[
                            Filter(property_name=modified, operator="GTE", value=str(since_ms))
                        ]
                    )
                ],
            )
            page = self.retrying.call(
                f"POST {self.base_url}/crm/v3/objects/{kind}/search",
                partial(
                    api.do_search,
                    public_object_search_request=request,
                    _request_timeout=self.timeout,
                ),
            )
            results = page.results or []
            for result in results:
                yield _record(result)
            following = page.paging.next.after if page.paging and page.paging.next else None
            if not following or not results:
                return
            if int(following) + self.page_size > SEARCH_LIMIT:
                restart = _ms((results[-1].properties or {}).get(modified))
                if restart is None or restart == since_ms:
                    return  # more than 10,000 records share one instant: nothing to page by
                since_ms, after = restart, 0
            else:
                after = int(following)

    def _list(self, name: str, what: str, **options: Any) -> Iterator[Any]:
        """A list endpoint's pages (`after` = `paging.next.after`), each record as the
        client's model."""
        api, after = self._api(name), None
        while True:
            page = self.retrying.call(
                f"GET {self.base_url}{what}",
                partial(
                    api.get_page,
                    limit=self.page_size,
                    after=after,
                    _request_timeout=self.timeout,
                    **options,
                ),
            )
            yield from page.results or []
            after = page.paging.next.after if page.paging and page.paging.next else None
            if not after or not page.results:
                return

    # -- steps --------------------------------------------------------------------------
    def owners(self, since: str | None, context: SyncContext) -> Iterator[Item]:
        """CRM users: id → email, for owner resolution (read whole each time: it is short)."""
        for owner in self._list("owners", "/crm/v3/owners"):
            if owner.email:
                context.owners[str(owner.id)] = str(owner.email).lower()
                if owner.user_id is not None:
                    context.owners.setdefault(str(owner.user_id), str(owner.email).lower())
        return iter(())

    def companies(self, since: str | None, context: SyncContext) -> Iterator[Item]:
        options = context.mapping.hubspot
        owner_fields = context.mapping.owners
        properties = list(COMPANY_PROPERTIES)
        for name in (owner_fields.field, *owner_fields.fallback, "hubspot_owner_id"):
            if name and name not in properties:
                properties.append(name)
        for name in (options.segment_property, options.plan_property):
            if name and name not in properties:
                properties.append(name)
        last = None
        for record in self._search("companies", "hs_lastmodifieddate", properties, since):
            props: Mapping[str, Any] = record.get("properties") or {}
            account_id = str(record["id"])
            domain = (props.get("domain") or "").strip().lower()
            yield Row(
                "accounts",
                {
                    "account_id": account_id,
                    "name": props.get("name") or domain or f"HubSpot company {account_id}",
                    "segment": props.get(options.segment_property)
                    if options.segment_property
                    else None,
                    "industry": props.get("industry"),
                    "owner": _owner(props, context),
                    "created_at": iso(props.get("createdate") or record.get("createdAt")),
                    "plan": props.get(options.plan_property) if options.plan_property else None,
                },
            )
            if domain:
                yield Link("domain", domain, account_id)
            last = props.get("hs_lastmodifieddate") or record.get("updatedAt") or last
        if last:
            yield Cursor(str(iso(last)))

    def contacts(self, since: str | None, context: SyncContext) -> Iterator[Item]:
        options = context.mapping.hubspot
        properties = list(CONTACT_PROPERTIES)
        if options.role_property:
            properties.append(options.role_property)
        roles = {
            **ROLES,
            **{k.lower(): v for k, v in context.mapping.aliases("contacts", "role").items()},
        }
        last = None
        for record in self._search("contacts", "lastmodifieddate", properties, since):
            props = record.get("properties") or {}
            row = _contact_row(record, props, roles, options.role_property, context)
            if row is not None:
                yield Row("contacts", row)
            else:
                yield Unmatched(f"contact {record['id']}")
            last = props.get("lastmodifieddate") or record.get("updatedAt") or last
        archived = self._list(
            "contacts-basic",
            "/crm/v3/objects/contacts?archived=true",
            properties=properties,
            archived=True,
        )
        for model in archived:
            record = _record(model)
            props = record.get("properties") or {}
            row = _contact_row(record, props, roles, options.role_property, context)
            if row is not None:
                row["left_at"] = iso(record.get("archivedAt") or record.get("updatedAt"))
                yield Row("contacts", row)
            else:
                yield Unmatched(f"archived contact {record['id']}")
        if last:
            yield Cursor(str(iso(last)))

    def deals(self, since: str | None, context: SyncContext) -> Iterator[Item]:
        options = context.mapping.hubspot
        properties = list(DEAL_PROPERTIES)
        for name in (options.start_property, options.end_property):
            if name:
                properties.append(name)
        last = None
        page: list[Record] = []
        for record in self._search("deals", "hs_lastmodifieddate", properties, since):
            page.append(record)
            last = (record.get("properties") or {}).get("hs_lastmodifieddate") or last
            if len(page) >= self.page_size:
                yield from self._deal_page(page, context)
                page = []
        if page:
            yield from self._deal_page(page, context)
        if last:
            yield Cursor(str(iso(last)))

    def _deal_page(self, deals: list[Record], context: SyncContext) -> Iterator[Item]:
        companies = self._deal_companies([str(deal["id"]) for deal in deals])
        for deal in deals:
            account = companies.get(str(deal["id"]))
            if account is None:
                yield Unmatched(f"deal {deal['id']}")
                continue
            yield from deal_items(deal, account, context, self._terms(context))

    def _deal_companies(self, ids: list[str]) -> dict[str, str]:
        """Deal id → its company (the primary one when several), via v4 associations."""
        from hubspot.crm.associations.v4 import (
            BatchInputPublicFetchAssociationsBatchRequest,
            PublicFetchAssociationsBatchRequest,
        )

        request = BatchInputPublicFetchAssociationsBatchRequest(
            inputs=[PublicFetchAssociationsBatchRequest(id=deal_id) for deal_id in ids]
        )
        api = self._api("associations")
        answer = self.retrying.call(
            f"POST {self.base_url}/crm/v4/associations/deals/companies/batch/read",
            lambda: api.get_page(
                "deals",
                "companies",
                batch_input_public_fetch_associations_batch_request=request,
                _request_timeout=self.timeout,
            ),
        )
        out: dict[str, str] = {}
        for result in answer.results or []:
            targets = result.to or []
            primary = [
                t for t in targets if any(a.label == "Primary" for a in t.association_types or [])
            ]
            chosen = (primary or targets)[:1]
            if chosen:
                out[str(result._from.id)] = str(chosen[0].to_object_id)
        return out

    def _terms(self, context: SyncContext) -> Terms:
        if self._previous_terms is None:
            self._previous_terms = recipes.load_terms(context)
        return self._previous_terms


def _record(model: Any) -> Record:
    """A client model (SimplePublicObject and kin) as the plain record the mapping reads."""
    archived_at = getattr(model, "archived_at", None)
    return {
        "id": model.id,
        "properties": model.properties or {},
        "createdAt": _text(model.created_at),
        "updatedAt": _text(model.updated_at),
        "archivedAt": _text(archived_at),
    }


def _text(value: Any) -> str | None:
    return value.isoformat() if isinstance(value, dt.datetime) else value


def _explain(error: Exception) -> Failure | None:
    """hubspot-api-client's ApiException (every API package has its own class) or a
    urllib3 connection error → Failure; anything else is not the API's."""
    import urllib3

    if isinstance(error, urllib3.exceptions.HTTPError):
        return Failure(None, message=repr(error))
    status = getattr(error, "status", None)
    if not type(error).__module__.startswith("hubspot.") or not isinstance(status, int):
        return None
    message = ""
    try:
        body = json.loads(getattr(error, "body", None) or b"{}")
        message = str(body.get("message") or "") if isinstance(body, dict) else ""
    except ValueError:
        message = str(getattr(error, "reason", "") or "")
    headers = dict(getattr(error, "headers", None) or {})
    return Failure(status or None, headers, message or str(getattr(error, "reason", "") or ""))


def _owner(props: Mapping[str, Any], context: SyncContext) -> str | None:
    owners = context.mapping.owners
    if owners.field or owners.fallback:
        return context.mapping.owner_email(props, context.owners)
    fallback = context.mapping.model_copy(
        update={"owners": owners.model_copy(update={"fallback": ["hubspot_owner_id"]})}
    )
    return fallback.owner_email(props, context.owners)


def _contact_row(
    record: Record,
    props: Mapping[str, Any],
    roles: Mapping[str, str],
    role_property: str | None,
    context: SyncContext,
) -> dict[str, Any] | None:
    account = props.get("associatedcompanyid") or context.account_for_domain(props.get("email"))
    if not account:
        return None
    role = None
    if role_property and props.get(role_property):
        for value in str(props[role_property]).split(";"):
            role = roles.get(value.strip().lower())
            if role:
                break
    name = " ".join(part for part in (props.get("firstname"), props.get("lastname")) if part)
    return {
        "contact_id": str(record["id"]),
        "account_id": str(account),
        "name": name or None,
        "email": props.get("email"),
        "role": role,
        "left_at": None,
    }


def deal_items(deal: Record, account: str, context: SyncContext, terms: Terms) -> Iterator[Item]:
    """One HubSpot deal through the shared recipe (storage/connectors/recipes.py)."""
    options = context.mapping.hubspot
    props = deal.get("properties") or {}
    closed = _day(props.get("closedate"))
    amount = _number(props.get("amount"))
    if closed is None or amount is None:
        return
    kind = str(props.get("dealtype") or "").lower()
    start = (_day(props.get(options.start_property)) if options.start_property else None) or closed
    end = _day(props.get(options.end_property)) if options.end_property else None
    end = end or start + relativedelta(months=options.term_months) - dt.timedelta(days=1)
    yield from recipes.deal_items(
        recipes.Deal(
            contract_id=f"deal-{deal['id']}",
            account=account,
            closed=closed,
            amount=amount,
            currency=props.get("deal_currency_code"),
            start=start,
            end=end,
            won=str(props.get("dealstage")) in options.won_stages,
            lost=str(props.get("dealstage")) in options.lost_stages,
            renewal=kind in {t.lower() for t in options.renewal_types},
            expansion=kind in {t.lower() for t in options.expansion_types},
            name=props.get("dealname"),
            detail=f"hubspot deal {deal['id']}",
        ),
        context,
        terms,
    )


def connector(
    token: str,
    base_url: str = "https://api.hubapi.com",
    **options: Any,
) -> Connector:
    hubspot = HubSpot(token, base_url, **options)
    return Connector(
        "hubspot",
        [
            Step("owners", hubspot.owners),
            Step("companies", hubspot.companies),
            Step("contacts", hubspot.contacts),
            Step("deals", hubspot.deals),
        ],
        "HubSpot CRM v3",
        requests=lambda: hubspot.requests,
    )
