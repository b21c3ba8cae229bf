"""Lifecycle and history recipes shared by the CRM and billing connectors.

- A won deal or a subscription period is a contract term of its own id: a renewal adds a
  term, it never moves an earlier term's end date (the churn model reads those dates).
- A won renewal is `renewed`, with `arr_change` = its ARR less the previous term's; when
  that is not zero, also `expanded` or `contracted` by the same amount.
- A won upsell (an expansion deal type) is `expanded` by its ARR.
- A lost renewal, or a cancelled subscription, is `churned` with the lost ARR (negative).
- A subscription whose ARR changes within a period is `expanded` / `contracted` by the change.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import text

from storage.connectors.base import Row, SyncContext

Terms = dict[str, list[tuple[dt.date, float, str]]]
"""Per account: (start, ARR in the reporting currency, contract id) of each term."""


def load_terms(context: SyncContext) -> Terms:
    """Every account's stored contract terms."""
    terms: Terms = {}
    with context.engine.connect() as connection:
        for account, start, arr, contract in connection.execute(
            text("SELECT account_id, start_date, arr, contract_id FROM contracts")
        ):
            start_date = start if isinstance(start, dt.date) else dt.date.fromisoformat(str(start))
            terms.setdefault(str(account), []).append((start_date, float(arr), str(contract)))
    return terms


def previous_arr(terms: Terms, account: str, start: dt.date, contract: str) -> float | None:
    """ARR of the account's latest term starting before `start` (not `contract` itself)."""
    earlier = [t for t in terms.get(account, []) if t[0] < start and t[2] != contract]
    return max(earlier)[1] if earlier else None


def current_arr(terms: Terms, account: str, contract: str) -> float | None:
    """The stored ARR of `contract` (None when new)."""
    return next((t[1] for t in terms.get(account, []) if t[2] == contract), None)


def remember_term(terms: Terms, account: str, start: dt.date, arr: float, contract: str) -> None:
    rows = terms.setdefault(account, [])
    rows[:] = [t for t in rows if t[2] != contract]
    rows.append((start, arr, contract))


def event(account: str, when: dt.datetime, kind: str, change: float | None, detail: str) -> Row:
    return Row(
        "lifecycle",
        {
            "account_id": account,
            "occurred_at": when,
            "kind": kind,
            "arr_change": change,
            "detail": detail,
        },
    )


@dataclass(frozen=True)
class Deal:
    """A CRM deal or opportunity, already read: amounts in the deal's currency."""

    contract_id: str
    account: str
    closed: dt.date
    amount: float
    currency: str | None
    start: dt.date
    end: dt.date
    won: bool
    lost: bool
    renewal: bool
    expansion: bool
    name: str | None
    detail: str


def deal_items(deal: Deal, context: SyncContext, terms: Terms) -> Iterator[Row]:
    """The contract term and lifecycle events of one closed deal (nothing for open ones)."""
    try:
        arr = context.mapping.to_reporting(deal.amount, deal.currency)
    except KeyError:
        arr = deal.amount  # the contract row's currency check reports the missing rate
    when = dt.datetime.combine(deal.closed, dt.time())
    before = previous_arr(terms, deal.account, deal.start, deal.contract_id)
    if deal.won:
        yield Row(
            "contracts",
            {
                "contract_id": deal.contract_id,
                "account_id": deal.account,
                "start_date": deal.start,
                "end_date": deal.end,
                "arr": deal.amount,
                "plan": deal.name,
                "currency": deal.currency,
            },
        )
        remember_term(terms, deal.account, deal.start, arr, deal.contract_id)
        if deal.renewal:
            change = arr - before if before is not None else None
            yield event(deal.account, when, "renewed", change, deal.detail)
            if change:
                kind = "expanded" if change > 0 else "contracted"
                yield event(deal.account, when, kind, change, deal.detail)
        elif deal.expansion:
            yield event(deal.account, when, "expanded", arr, deal.detail)
    elif deal.lost and deal.renewal:
        yield event(
            deal.account, when, "churned", -(before if before is not None else arr), deal.detail
        )
