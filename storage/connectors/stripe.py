"""Stripe: customers → account links, subscriptions → contract terms and lifecycle,
invoices → invoices.

Calls go through the `stripe` library (StripeClient, `base_addresses={"api": …}` =
`CSBOT_STRIPE_API_URL`), one page a call inside the shared retry policy (vendor.py). Lists
are read 100 at a time (`limit=100`, `starting_after=<last id>` while `has_more`),
the shape of every Stripe list. Stripe lists have no "changed since" filter: customers and
subscriptions (`status=all`) are read whole each sync — their rows are written only when
they changed — and invoices from `created[gte]` = the cursor less `INVOICE_LOOKBACK_DAYS`,
so a payment or a void on a recent invoice is seen.

Matching (docs/sources/stripe.md): a customer is the account named in its metadata
(`stripe.account_metadata_key`, default `csbot_account_id`), else a mapping
`match.accounts` entry `stripe:<cus_…>`, else the account whose CRM domain is its email's.

Recipes: each subscription period is a contract term `<sub id>:<period start>` (a renewal
adds a term), ARR = the items' recurring amounts × quantities, annualised; a change of ARR
within a period is `expanded` / `contracted`; a cancelled subscription is `churned` at its
end with its ARR lost. Amounts are in the smallest currency unit (cents) except Stripe's
zero-decimal currencies.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterator
from functools import partial
from typing import Any

from storage.connectors import recipes
from storage.connectors.base import (
    Connector,
    Cursor,
    Delete,
    Item,
    Link,
    Row,
    Step,
    SyncContext,
    Unmatched,
)
from storage.connectors.recipes import Terms
from storage.connectors.vendor import Failure, Retrying
from storage.ingest.connectors import Record

INVOICE_LOOKBACK_DAYS = 60
ZERO_DECIMAL = {
    "bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx", "vnd", "vuv",
    "xaf", "xof", "xpf",
}  # fmt: skip
PER_YEAR = {"day": 365.0, "week": 52.0, "month": 12.0, "year": 1.0}


def _units(amount: Any, currency: object) -> float:
    value = float(amount or 0)
    return value if str(currency or "").lower() in ZERO_DECIMAL else value / 100


def _when(epoch: Any) -> dt.datetime | None:
    if epoch in (None, ""):
        return None
    return dt.datetime.fromtimestamp(int(epoch), dt.UTC).replace(tzinfo=None)


def annual_amount(subscription: Record) -> tuple[float, int | None, str | None]:
    """(ARR in the subscription's currency, seats, currency) from its items."""
    total, seats = 0.0, 0
    currency = subscription.get("currency")
    for item in (subscription.get("items") or {}).get("data") or []:
        price = item.get("price") or item.get("plan") or {}
        recurring = price.get("recurring") or price
        interval = recurring.get("interval") or "month"
        count = float(recurring.get("interval_count") or 1)
        quantity = int(item.get("quantity") or 1)
        currency = currency or price.get("currency")
        unit = price.get("unit_amount") if "unit_amount" in price else price.get("amount")
        total += (
            _units(unit, price.get("currency") or currency) * quantity * PER_YEAR[interval] / count
        )
        seats += quantity
    return total, seats or None, str(currency).upper() if currency else None


def _period(subscription: Record) -> tuple[Any, Any]:
    """The current period, on the subscription (older API versions) or its items (newer)."""
    start = subscription.get("current_period_start")
    end = subscription.get("current_period_end")
    if start is None:
        items = (subscription.get("items") or {}).get("data") or [{}]
        start, end = items[0].get("current_period_start"), items[0].get("current_period_end")
    return start, end


class Stripe:
    """Reads Stripe lists through the `stripe` library's StripeClient, its API base set to
    `base_url` and its own retries off (the shared policy in vendor.py retries)."""

    def __init__(
        self,
        api_key: str,
        base_url: str = "https://api.stripe.com",
        *,
        sleep: Callable[[float], None] | None = None,
        max_attempts: int = 6,
        page_size: int = 100,
    ) -> None:
        import stripe

        self.base_url = base_url.rstrip("/")
        self.client = stripe.StripeClient(
            api_key, base_addresses={"api": self.base_url}, max_network_retries=0
        )
        self.retrying = Retrying(_explain, max_attempts=max_attempts, sleep=sleep or time.sleep)
        self.page_size = page_size
        self._terms: Terms | None = None

    @property
    def requests(self) -> int:
        return self.retrying.requests

    def _read(self, name: str, params: dict[str, Any]) -> Iterator[Record]:
        """Every object of a list (`customers`, `subscriptions`, `invoices`), page by page:
        `starting_after` = the last id while `has_more`; each object as a plain dict."""
        service = getattr(self.client.v1, name)
        query: dict[str, Any] = {**params, "limit": self.page_size}
        while True:
            page = self.retrying.call(
                f"GET {self.base_url}/v1/{name}",
                partial(service.list, params=dict(query)),
            )
            data = [item.to_dict() for item in page.data]
            yield from data
            if not page.has_more or not data:
                return
            query["starting_after"] = data[-1]["id"]

    def customers(self, since: str | None, context: SyncContext) -> Iterator[Item]:
        key = context.mapping.stripe.account_metadata_key
        for customer in self._read("customers", {}):
            if customer.get("deleted"):
                continue
            customer_id = str(customer["id"])
            named = str((customer.get("metadata") or {}).get(key) or "")
            account = context.mapping.match.accounts.get(f"stripe:{customer_id}")
            if account is None and named in context.accounts:
                account = named
            account = account or context.account_for_domain(customer.get("email"))
            if account:
                yield Link("customer", customer_id, account)
            else:
                yield Unmatched(f"customer {customer_id}")
        return

    def subscriptions(self, since: str | None, context: SyncContext) -> Iterator[Item]:
        if self._terms is None:
            self._terms = recipes.load_terms(context)
        terms = self._terms
        for subscription in self._read("subscriptions", {"status": "all"}):
            account = context.account_for("customer", subscription.get("customer"))
            if subscription.get("status") in ("incomplete", "incomplete_expired"):
                continue
            if account is None:
                yield Unmatched(f"subscription {subscription['id']}")
                continue
            arr_native, seats, currency = annual_amount(subscription)
            try:
                arr = context.mapping.to_reporting(arr_native, currency)
            except KeyError:
                arr = arr_native
            start_epoch, end_epoch = _period(subscription)
            start, end = _when(start_epoch), _when(end_epoch)
            if start is None or end is None:
                continue
            contract_id = f"{subscription['id']}:{start_epoch}"
            detail = f"stripe subscription {subscription['id']}"
            before = recipes.current_arr(terms, account, contract_id)
            previous = recipes.previous_arr(terms, account, start.date(), contract_id)
            yield Row(
                "contracts",
                {
                    "contract_id": contract_id,
                    "account_id": account,
                    "start_date": start.date(),
                    "end_date": max(start.date(), (end - dt.timedelta(days=1)).date()),
                    "arr": arr_native,
                    "seats": seats,
                    "plan": _plan(subscription),
                    "currency": currency,
                },
            )
            recipes.remember_term(terms, account, start.date(), arr, contract_id)
            change = None
            if before is not None and round(arr - before, 2):
                change = arr - before  # changed within the period: an upgrade or a downgrade
                when = context.clock.now().replace(
                    microsecond=0
                )  # seen now: lists carry no change time
            elif before is None and previous is not None and round(arr - previous, 2):
                change = arr - previous  # a new period at a new price
                when = start
            if change:
                kind = "expanded" if change > 0 else "contracted"
                yield recipes.event(account, when, kind, change, detail)
            if subscription.get("status") == "canceled":
                ended = (
                    _when(subscription.get("ended_at") or subscription.get("canceled_at")) or end
                )
                yield recipes.event(account, ended, "churned", -arr, detail)

    def invoices(self, since: str | None, context: SyncContext) -> Iterator[Item]:
        params: dict[str, Any] = {}
        if since:
            start = dt.datetime.fromisoformat(since.replace("Z", "+00:00"))
            start = start if start.tzinfo else start.replace(tzinfo=dt.UTC)
            params["created"] = {
                "gte": int((start - dt.timedelta(days=INVOICE_LOOKBACK_DAYS)).timestamp())
            }
        newest = None
        for invoice in self._read("invoices", params):
            created = _when(invoice.get("created"))
            if created is not None and (newest is None or created > newest):
                newest = created
            if invoice.get("status") == "void":
                yield Delete("invoices", {"invoice_id": str(invoice["id"])})
                continue
            if invoice.get("status") == "draft":
                continue
            account = context.account_for("customer", invoice.get("customer"))
            if account is None:
                yield Unmatched(f"invoice {invoice['id']}")
                continue
            transitions = invoice.get("status_transitions") or {}
            currency = invoice.get("currency")
            yield Row(
                "invoices",
                {
                    "invoice_id": str(invoice["id"]),
                    "account_id": account,
                    "issued_at": _when(transitions.get("finalized_at")) or created,
                    "due_at": _when(invoice.get("due_date")) or created,
                    "paid_at": _when(transitions.get("paid_at")),
                    "amount": _units(invoice.get("amount_due"), currency),
                    "currency": str(currency).upper() if currency else None,
                },
            )
        if newest is not None:
            yield Cursor(newest.isoformat())


def _plan(subscription: Record) -> str | None:
    items = (subscription.get("items") or {}).get("data") or []
    if not items:
        return None
    price = items[0].get("price") or {}
    return price.get("nickname") or price.get("lookup_key") or price.get("product")


def _explain(error: Exception) -> Failure | None:
    """The stripe library's errors → Failure: an API error carries its HTTP status,
    headers and message; a connection error has no status (retried)."""
    import stripe

    if isinstance(error, stripe.APIConnectionError):
        return Failure(None, message=error.user_message or str(error))
    if isinstance(error, stripe.StripeError):
        return Failure(
            error.http_status or None, dict(error.headers or {}), error.user_message or ""
        )
    return None


def connector(api_key: str, base_url: str = "https://api.stripe.com", **options: Any) -> Connector:
    stripe = Stripe(api_key, base_url, **options)
    return Connector(
        "stripe",
        [
            Step("customers", stripe.customers),
            Step("subscriptions", stripe.subscriptions),
            Step("invoices", stripe.invoices),
        ],
        "Stripe billing",
        requests=lambda: stripe.requests,
    )
