"""Message drafts in steps: `string.Template` text filled with the account's fields.

Drafts are for a person to review and send (csbot never messages a customer itself), so a
value we do not know renders as a visible placeholder such as `[champion name]`.
"""

from __future__ import annotations

from string import Template

TEMPLATE_FIELDS: dict[str, str] = {
    "account_name": "the account's name",
    "account_id": "the account's id",
    "segment": "enterprise, mid_market or smb",
    "csm": "the account owner (CSM)",
    "arr": "annual recurring revenue, formatted",
    "renewal_date": "the next renewal date",
    "days_to_renewal": "days until the renewal",
    "health": "health score 0-100",
    "band": "health band",
    "churn_risk": "churn risk as a percentage",
    "top_reason": "the first reason behind the score",
    "champion_name": "the champion's name",
    "sponsor_name": "the executive sponsor's name",
    "playbook_title": "the playbook's title",
}


def template_problems(text: str) -> list[str]:
    """Why `text` is not a usable template (empty when it is)."""
    template = Template(text)
    if not template.is_valid():
        return ["invalid placeholder (write $field or ${field}; $$ for a dollar sign)"]
    unknown = sorted(set(template.get_identifiers()) - TEMPLATE_FIELDS.keys())
    if unknown:
        known = ", ".join(TEMPLATE_FIELDS)
        return [f"unknown field(s) {', '.join(unknown)} (known: {known})"]
    return []


def render(text: str, values: dict[str, object | None]) -> str:
    """Fill a validated template; unknown values become `[field name]` for a person to fill."""
    filled = {
        name: (f"[{name.replace('_', ' ')}]" if values.get(name) in (None, "") else values[name])
        for name in TEMPLATE_FIELDS
    }
    return Template(text).substitute(filled)
