"""The import contract's files and their columns, in the order the contract lists them.

The demo writes exactly these headers so its output is a worked example of the contract
(docs/data-contract.md) and imports with no warnings.
"""

from __future__ import annotations

CONTRACT_COLUMNS: dict[str, tuple[str, ...]] = {
    "accounts": ("account_id", "name", "segment", "industry", "owner", "created_at", "plan"),
    "contracts": ("contract_id", "account_id", "start_date", "end_date", "arr", "seats", "plan"),
    "contacts": ("contact_id", "account_id", "name", "email", "role", "left_at"),
    "usage": ("account_id", "contact_id", "timestamp", "event", "quantity"),
    "tickets": (
        "ticket_id",
        "account_id",
        "contact_id",
        "opened_at",
        "closed_at",
        "priority",
        "subject",
        "body",
        "csat",
    ),
    "surveys": (
        "response_id",
        "account_id",
        "contact_id",
        "submitted_at",
        "kind",
        "score",
        "comment",
    ),
    "touchpoints": ("touchpoint_id", "account_id", "contact_id", "occurred_at", "kind", "status"),
    "invoices": ("invoice_id", "account_id", "issued_at", "due_at", "paid_at", "amount"),
    "lifecycle": ("account_id", "occurred_at", "kind", "arr_change", "detail"),
}

FILES: tuple[str, ...] = tuple(CONTRACT_COLUMNS)
