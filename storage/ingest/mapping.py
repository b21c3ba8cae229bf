"""The mapping file: how other systems' values, ids, owners, formats and currencies map to
the data contract. One YAML file (CSBOT_MAPPING_FILE), read by `csbot ingest`, `csbot sync`
and the nightly import; every problem in it is reported as `file:line: problem`.

```yaml
reporting_currency: USD
rates: {EUR: 1.08, GBP: 1.27}           # 1 unit of the currency, in the reporting currency
values:                                   # case-insensitive: "Enterprise" and "ENTERPRISE" alike
  accounts.segment: {Enterprise: enterprise, Mid-Market: mid_market, SMB: smb}
  contacts.role: {Economic Buyer: decision_maker, Champion: champion}
  touchpoints.kind: {Call: call, Meeting: meeting}
  satisfaction: {good: 5, bad: 1}         # Zendesk's good/bad → a 1-5 CSAT
formats: {date: "%d/%m/%Y", datetime: "%d/%m/%Y %H:%M", thousands: ",", decimal: ".",
          encoding: cp1252}
owners: {field: csm_owner, fallback: [hubspot_owner_id], emails: {"41629779": "ana@example.com"}}
match: {domains: true, accounts: {"zendesk:360001": "5123"}}
hubspot: {role_property: csm_role}
```

The loader keeps each value's line (yaml's composed nodes carry marks) so a pydantic error
on `owners.emails` is reported at the line that wrote it.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping as MappingABC
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
)

from storage.ingest.contract import ENTITIES, Kind

SATISFACTION = "satisfaction"
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class MappingError(Exception):
    """The mapping file is wrong; each line of the message is `file:line: problem`."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


# Per-entry checks sit on the entry (not on the whole dict), so an error's location, and so
# its line, is the entry's own.
def _email(value: str) -> str:
    if not EMAIL.match(value):
        raise ValueError(f"not an email address: {value!r}")
    return value.strip().lower()


def _currency_code(value: str) -> str:
    if not re.fullmatch(r"[A-Za-z]{3}", value):
        raise ValueError(f"not an ISO 4217 currency code: {value!r}")
    return value.upper()


def _rate(value: float) -> float:
    if not value > 0:
        raise ValueError(f"a rate must be positive (got {value})")
    return value


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Formats(_Strict):
    """How dates and numbers are written in files (and in APIs that give text)."""

    date: str | None = None
    datetime: str | None = None
    thousands: str = ""
    decimal: str = "."
    encoding: str = "utf-8"

    @field_validator("date", "datetime")
    @classmethod
    def _strftime(cls, value: str | None) -> str | None:
        if value is not None and "%" not in value:
            raise ValueError(f"not a strftime format (e.g. %d/%m/%Y): {value!r}")
        return value

    @field_validator("encoding")
    @classmethod
    def _codec(cls, value: str) -> str:
        import codecs

        try:
            codecs.lookup(value)
        except LookupError:
            raise ValueError(f"unknown encoding {value!r}") from None
        return value

    @field_validator("thousands", "decimal")
    @classmethod
    def _separator(cls, value: str) -> str:
        if len(value) > 1 or value.isalnum():
            raise ValueError(f"a separator is one non-alphanumeric character (got {value!r})")
        return value


class Owners(_Strict):
    """Which CRM field holds the CSM (the record owner is often the account executive),
    fields tried after it, and user id → email overrides."""

    field: str | None = None
    fallback: list[str] = Field(default_factory=list)
    emails: dict[str, Annotated[str, AfterValidator(_email)]] = Field(default_factory=dict)


class Match(_Strict):
    """Matching records of other systems to accounts: by email domain (the CRM account's
    domain), and explicit `SOURCE:ID` → account id pairs."""

    domains: bool = True
    accounts: dict[str, str] = Field(default_factory=dict)


class HubSpotOptions(_Strict):
    role_property: str | None = "hs_buying_role"
    segment_property: str | None = None
    plan_property: str | None = None
    expansion_types: list[str] = Field(default_factory=lambda: ["upsell", "expansion"])
    start_property: str | None = None
    end_property: str | None = None
    term_months: int = 12
    won_stages: list[str] = Field(default_factory=lambda: ["closedwon"])
    lost_stages: list[str] = Field(default_factory=lambda: ["closedlost"])
    renewal_types: list[str] = Field(default_factory=lambda: ["existingbusiness", "renewal"])


class SalesforceOptions(_Strict):
    role_field: str | None = None
    segment_field: str | None = None
    currency_field: str | None = None
    term_months: int = 12
    renewal_types: list[str] = Field(default_factory=lambda: ["Existing Business", "Renewal"])
    expansion_types: list[str] = Field(default_factory=lambda: ["Upsell", "Expansion"])
    contract_arr_field: str | None = None
    """The Contract field holding its ARR (Contract has no standard amount). When set,
    Contracts are the contract terms and Opportunities give only lifecycle events."""
    contract_statuses: list[str] = Field(
        default_factory=lambda: ["Activated", "Expired", "Terminated"]
    )
    """Contract `StatusCode`s that were real terms (drafts and approvals are not)."""


class ZendeskOptions(_Strict):
    external_id_is_account: bool = True


class StripeOptions(_Strict):
    account_metadata_key: str = "csbot_account_id"


class UsageOptions(_Strict):
    account_property: str = "account_id"
    contact_property: str | None = None


class Mapping(_Strict):
    reporting_currency: str = "USD"
    rates: dict[
        Annotated[str, AfterValidator(_currency_code)], Annotated[float, AfterValidator(_rate)]
    ] = Field(default_factory=dict)
    values: dict[str, dict[str, str | int]] = Field(default_factory=dict)
    formats: Formats = Field(default_factory=Formats)
    owners: Owners = Field(default_factory=Owners)
    match: Match = Field(default_factory=Match)
    hubspot: HubSpotOptions = Field(default_factory=HubSpotOptions)
    salesforce: SalesforceOptions = Field(default_factory=SalesforceOptions)
    zendesk: ZendeskOptions = Field(default_factory=ZendeskOptions)
    stripe: StripeOptions = Field(default_factory=StripeOptions)
    usage: UsageOptions = Field(default_factory=UsageOptions)

    @field_validator("reporting_currency")
    @classmethod
    def _currency(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Za-z]{3}", value):
            raise ValueError(f"not an ISO 4217 currency code: {value!r}")
        return value.upper()

    # -- what the importer and connectors ask ---------------------------------------
    def aliases(self, entity: str, column: str) -> dict[str, str]:
        """Lower-cased source value → contract value for one enum column."""
        spec = ENTITIES[entity]
        choices = next(c.choices for c in spec.columns if c.name == column)
        out = {choice.lower(): choice for choice in choices}
        out.update(
            {
                k.strip().lower(): str(v)
                for k, v in self.values.get(f"{entity}.{column}", {}).items()
            }
        )
        return out

    def satisfaction(self, value: object) -> int | None:
        """A satisfaction rating (e.g. Zendesk's good/bad, or a number) → 1-5, or None."""
        if value is None or value == "":
            return None
        scale = {k.strip().lower(): int(v) for k, v in self.values.get(SATISFACTION, {}).items()}
        scale = {"good": 5, "bad": 1, **scale}
        text = str(value).strip().lower()
        if text in scale:
            return scale[text]
        try:
            number = int(float(text))
        except ValueError:
            return None
        return number if 1 <= number <= 5 else None

    def to_reporting(self, amount: float, currency: str | None) -> float:
        """`amount` in `currency` → the reporting currency; KeyError when no rate is known."""
        code = (currency or self.reporting_currency).strip().upper()
        if code in ("", self.reporting_currency):
            return amount
        return amount * self.rates[code]

    def owner_email(self, record: MappingABC[str, Any], owners: MappingABC[str, str]) -> str | None:
        """The CSM's email for a CRM record: the `owners.field` first, then the fallbacks;
        a user id is resolved through the overrides, then `owners` (the CRM's user list)."""
        for name in (
            [self.owners.field, *self.owners.fallback]
            if self.owners.field
            else self.owners.fallback
        ):
            value = record.get(name) if name else None
            if value in (None, ""):
                continue
            text = str(value).strip()
            email = self.owners.emails.get(text) or owners.get(text)
            if email is None and EMAIL.match(text):
                email = text
            if email:
                return email.strip().lower()
        return None


DEFAULT = Mapping()


# -- loading with line numbers --------------------------------------------------------
@dataclass
class _Located:
    value: Any
    lines: dict[tuple[str, ...], int]


_CONSTRUCTOR = yaml.SafeLoader("")
"""Builds a scalar node's value (int, float, bool, str) as yaml.safe_load would."""


def _to_python(node: yaml.Node, path: tuple[str, ...], lines: dict[tuple[str, ...], int]) -> Any:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = str(key_node.value)
            lines[(*path, key)] = key_node.start_mark.line + 1
            out[key] = _to_python(value_node, (*path, key), lines)
            lines[(*path, key)] = key_node.start_mark.line + 1
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_to_python(item, (*path, str(i)), lines) for i, item in enumerate(node.value)]
    return _CONSTRUCTOR.construct_object(node, deep=True)


def _compose(text: str, name: str) -> _Located:
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        problem = getattr(error, "problem", None) or str(error)
        raise MappingError([f"{name}:{line}: not valid YAML: {problem}"]) from None
    lines: dict[tuple[str, ...], int] = {}
    if node is None:
        return _Located({}, {(): 1})
    return _Located(_to_python(node, (), lines), lines)


def _line(lines: dict[tuple[str, ...], int], path: tuple[str, ...]) -> int:
    while path and path not in lines:
        path = path[:-1]
    return lines.get(path, 1)


def _path(lines: dict[tuple[str, ...], int], loc: tuple[int | str, ...]) -> tuple[str, ...]:
    """A pydantic error location as a path in the file: without the parts pydantic adds
    that are not keys (`[key]` for a dict key's own error, a union member's type name)."""
    path: tuple[str, ...] = ()
    for part in map(str, loc):
        if (*path, part) in lines or not (part == "[key]" or part in _TAGS or "[" in part):
            path = (*path, part)
    return path


_TAGS = frozenset({"str", "int", "float", "bool"})


def _semantic_problems(mapping: Mapping) -> list[tuple[tuple[str, ...], str]]:
    """Checks pydantic cannot express: value maps name enum columns and map to their values."""
    problems: list[tuple[tuple[str, ...], str]] = []
    for target, table in mapping.values.items():
        if target == SATISFACTION:
            for source, score in table.items():
                if not (isinstance(score, int) and 1 <= score <= 5):
                    problems.append(
                        (("values", target, source), f"a satisfaction score is 1-5 (got {score!r})")
                    )
            continue
        entity_name, _, column_name = target.partition(".")
        entity = ENTITIES.get(entity_name)
        column = (
            next((c for c in entity.columns if c.name == column_name), None) if entity else None
        )
        if column is None or column.kind is not Kind.ENUM:
            enums = [
                f"{e.name}.{c.name}"
                for e in ENTITIES.values()
                for c in e.columns
                if c.kind is Kind.ENUM
            ]
            problems.append(
                (
                    ("values", target),
                    f"not a value list: {target!r} (expected one of: {', '.join(enums)}, {SATISFACTION})",
                )
            )
            continue
        for source, value in table.items():
            if str(value) not in column.choices:
                problems.append(
                    (
                        ("values", target, source),
                        f"{source!r} maps to {value!r}, not one of: {', '.join(column.choices)}",
                    )
                )
    for code in mapping.rates:
        if code == mapping.reporting_currency:
            problems.append((("rates", code), "the reporting currency needs no rate"))
    return problems


def parse_mapping(text: str, name: str = "mapping.yml") -> Mapping:
    """Validate mapping YAML; MappingError with every problem as `name:line: problem`."""
    located = _compose(text, name)
    if not isinstance(located.value, dict):
        raise MappingError([f"{name}:1: the mapping file must be a YAML mapping (key: value)"])
    try:
        mapping = Mapping.model_validate(located.value)
    except ValidationError as error:
        found: list[tuple[int, str]] = []
        for item in error.errors():
            path = _path(located.lines, item["loc"])
            message = item["msg"].removeprefix("Value error, ")
            if item["type"] == "extra_forbidden":
                message = f"unknown key {path[-1]!r}"
            line = _line(located.lines, path)
            where = f"{name}:{line}: {'.'.join(path)}: "
            if found and found[-1][1].startswith(where):  # a union's members, one per type
                found[-1] = (line, f"{found[-1][1]}; {message}")
            else:
                found.append((line, f"{where}{message}"))
        raise MappingError([text for _, text in sorted(found, key=lambda item: item[0])]) from None
    semantic = _semantic_problems(mapping)
    if semantic:
        raise MappingError(
            [
                f"{name}:{_line(located.lines, path)}: {'.'.join(path)}: {message}"
                for path, message in semantic
            ]
        )
    return mapping


def load_mapping(path: Path | str | None) -> Mapping:
    """The mapping in `path` (the defaults when None); MappingError when it is wrong."""
    if path is None:
        return DEFAULT
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as error:
        raise MappingError([f"{file}:0: cannot read the mapping file: {error.strerror}"]) from None
    return parse_mapping(text, str(file))


def parse_with_format(text: str, fmt: str) -> dt.datetime:
    return dt.datetime.strptime(text.strip(), fmt)
