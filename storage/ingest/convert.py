"""Text → stored value for one contract column, one value at a time or a column at a time.

`value()` is the definition: it parses one field and raises `Invalid` with the exact
problem text. `values()` is a fast path over a whole batch column built from C-level
builtins (`map`, `set`, `in`); it accepts only what `value()` accepts and returns the same
values, and raises (anything) when it meets a value it cannot vouch for, so the caller
falls back to `value()` for that batch to find and word the problems.

Stored forms match what SQLAlchemy writes, so ORM reads and key comparisons agree:
datetimes as naive-UTC `YYYY-MM-DD HH:MM:SS.ffffff`, dates as `YYYY-MM-DD`.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections import deque
from collections.abc import Callable, Sequence
from itertools import repeat
from operator import add, attrgetter, getitem, methodcaller

from storage.clock import utc_naive
from storage.ingest.contract import Column, Kind
from storage.ingest.mapping import DEFAULT, EMAIL, Mapping

Stored = str | float | int | None

INT_MIN, INT_MAX = -(2**31) + 1, 2**31 - 1
"""Integer columns are INTEGER in PostgreSQL; values outside are refused up front."""

_fromiso = dt.datetime.fromisoformat
_tzinfo = attrgetter("tzinfo")
_stored_datetime = methodcaller("isoformat", " ", "microseconds")
_to_utc = methodcaller("astimezone", dt.UTC)
_UTC_ONLY = {dt.UTC}
_DROP_OFFSET = slice(None, -len("+00:00"))
_PLAIN_DATETIMES = re.compile(r"(?:\d{4}-\d\d-\d\d[T ](?:[01]\d|2[0-3]):[0-5]\d:[0-5]\dZ?\n)*")
_PLAIN_DATES = re.compile(r"(?:\d{4}-\d\d-\d\d\n)*")
"""Whole batch columns (joined by newlines) in the two shapes nearly every export uses."""


class Invalid(ValueError):
    """One field breaks the contract; the message is the problem text."""


def parse_datetime(text: str) -> str:
    """ISO-8601 date or datetime → stored naive-UTC text (a date alone = midnight UTC)."""
    try:
        value = _fromiso(text)
    except ValueError:
        raise Invalid(f"not an ISO-8601 date or datetime: {text!r}") from None
    if value.tzinfo is not None:
        value = utc_naive(value)
    return value.isoformat(" ", "microseconds")


def _datetime_column(texts: Sequence[str]) -> list[str]:
    """`parse_datetime` over a column, in C-level passes (`str()` of a datetime is several
    times faster than `isoformat(timespec=...)` or `replace(tzinfo=None)`)."""
    joined = "\n".join(texts) + "\n"
    if _PLAIN_DATETIMES.fullmatch(joined):  # the usual export shape: rewrite the text
        deque(map(_fromiso, texts), maxlen=0)  # still parse each one: 2025-02-30 is refused
        return (
            joined.replace("T", " ")
            .replace("Z\n", "\n")
            .replace("\n", ".000000\n")
            .split("\n")[:-1]
        )
    if _PLAIN_DATES.fullmatch(joined):
        deque(map(_fromiso, texts), maxlen=0)
        return joined.replace("\n", " 00:00:00.000000\n").split("\n")[:-1]
    parsed = list(map(_fromiso, texts))
    zones = set(map(_tzinfo, parsed))
    if None in zones:
        if len(zones) > 1:
            parsed = [utc_naive(value) for value in parsed]
        strings = list(map(str, parsed))
    else:
        utc = parsed if zones == _UTC_ONLY else map(_to_utc, parsed)
        strings = list(map(getitem, map(str, utc), repeat(_DROP_OFFSET)))
    lengths = set(map(len, strings))
    if lengths == {19}:  # no fractions: "YYYY-MM-DD HH:MM:SS"
        return list(map(add, strings, repeat(".000000")))
    if lengths == {26}:
        return strings
    return [text if len(text) == 26 else text + ".000000" for text in strings]


def parse_date(text: str) -> str:
    """ISO-8601 date (or a datetime, taken as its UTC date) → stored `YYYY-MM-DD`."""
    try:
        return dt.date.fromisoformat(text).isoformat()
    except ValueError:
        pass
    try:
        return utc_naive(_fromiso(text)).date().isoformat()
    except ValueError:
        raise Invalid(f"not an ISO-8601 date: {text!r}") from None


def parse_number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise Invalid(f"not a number: {text!r}") from None
    if not math.isfinite(value):
        raise Invalid(f"not a finite number: {text!r}")
    return value


def parse_integer(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        pass
    try:
        number = float(text)
    except ValueError:
        number = math.nan
    if not number.is_integer():
        raise Invalid(f"not an integer: {text!r}")
    return int(number)


def _bounds(column: Column) -> tuple[float, float]:
    low = column.minimum if column.minimum is not None else -math.inf
    high = column.maximum if column.maximum is not None else math.inf
    if column.kind is Kind.INTEGER:
        low, high = max(low, INT_MIN), min(high, INT_MAX)
    return low, high


def _range_problem(low: float, high: float, value: float) -> str:
    if math.isinf(low):
        return f"must be at most {high:g} (got {value:g})"
    if math.isinf(high):
        return f"must be at least {low:g} (got {value:g})"
    return f"must be between {low:g} and {high:g} (got {value:g})"


def _formatted(
    iso: Callable[[str], str], formats: Sequence[str], as_date: bool
) -> Callable[[str], str]:
    """ISO first, then the mapping's strftime formats (e.g. %d/%m/%Y)."""

    def parse(text: str) -> str:
        try:
            return iso(text)
        except Invalid as error:
            for fmt in formats:
                try:
                    value = dt.datetime.strptime(text.strip(), fmt)
                except ValueError:
                    continue
                return value.date().isoformat() if as_date else value.isoformat(" ", "microseconds")
            shown = " or ".join(formats)
            raise Invalid(f"{error} (nor in the mapping's format {shown})") from None

    return parse


def _separated(
    parse: Callable[[str], Stored], thousands: str, decimal: str
) -> Callable[[str], Stored]:
    """Numbers written with the mapping's separators: `1.234,5` with thousands "." and
    decimal ",". Only used when the mapping names them."""

    def normalise(text: str) -> Stored:
        plain = text.strip().replace(thousands, "") if thousands else text.strip()
        return parse(plain.replace(decimal, ".") if decimal != "." else plain)

    return normalise


def _owner(text: str) -> str:
    email = text.strip().lower()
    if email and not EMAIL.match(email):
        raise Invalid(
            f"not an email address: {text!r} (owners are matched to Slack users by email)"
        )
    return email


_SHAPES: dict[str, Callable[[str], str]] = {
    "owner": _owner,
    "email": lambda text: text.strip().lower(),
    "name": str.strip,
}


class ColumnConverter:
    """Parses and checks one column; `known_accounts` is read at call time (it grows as
    the accounts file of the same import is loaded). `mapping` adds date and number
    formats and value aliases (enums always match case-insensitively)."""

    def __init__(
        self,
        column: Column,
        known_accounts: set[str],
        mapping: Mapping = DEFAULT,
        entity: str = "",
    ) -> None:
        self.column = column
        self.known_accounts = known_accounts
        self._low, self._high = _bounds(column)
        self._ranged = not (math.isinf(self._low) and math.isinf(self._high))
        self._choices = frozenset(column.choices)
        formats = mapping.formats
        dates = [f for f in (formats.date, formats.datetime) if f]
        times = [f for f in (formats.datetime, formats.date) if f]
        parsers: dict[Kind, Callable[[str], Stored]] = {
            Kind.DATETIME: _formatted(parse_datetime, times, False) if times else parse_datetime,
            Kind.DATE: _formatted(parse_date, dates, True) if dates else parse_date,
            Kind.NUMBER: parse_number,
            Kind.INTEGER: parse_integer,
        }
        if formats.thousands or formats.decimal != ".":
            for kind in (Kind.NUMBER, Kind.INTEGER):
                parsers[kind] = _separated(parsers[kind], formats.thousands, formats.decimal)
        self._parse = parsers.get(column.kind)
        self._shape = _SHAPES.get(column.shape)
        self._aliases: dict[str, str] = {}
        if column.kind is Kind.ENUM:
            self._aliases = {choice.lower(): choice for choice in column.choices}
            self._aliases.update(
                {
                    str(key).strip().lower(): str(value)
                    for key, value in mapping.values.get(f"{entity}.{column.name}", {}).items()
                }
            )

    # -- the definition -------------------------------------------------------------
    def value(self, text: str) -> Stored:
        column = self.column
        if self._shape is not None:
            text = self._shape(text)
        if text == "":
            if column.required:
                raise Invalid("missing required value")
            return column.default
        if self._parse is not None:
            parsed = self._parse(text)
            if self._ranged and not self._low <= parsed <= self._high:  # type: ignore[operator]
                raise Invalid(_range_problem(self._low, self._high, parsed))  # type: ignore[arg-type]
            return parsed
        if column.max_length is not None and len(text) > column.max_length:
            raise Invalid(f"longer than {column.max_length} characters")
        if column.kind is Kind.ENUM and text not in self._choices:
            text = self._aliases.get(text.strip().lower(), text)
        if column.kind is Kind.ENUM and text not in self._choices:
            raise Invalid(f"unknown value {text!r} (expected one of: {', '.join(column.choices)})")
        if column.references_account and text not in self.known_accounts:
            raise Invalid(f"unknown account {text!r}")
        return text

    # -- the fast path --------------------------------------------------------------
    def values(self, texts: Sequence[str]) -> list[Stored]:
        """The whole column at once; raises on anything it does not vouch for."""
        column = self.column
        has_empty = "" in texts
        if has_empty and column.required:
            raise Invalid("missing required value")
        kind = column.kind
        if self._shape is not None:
            texts = list(map(self._shape, texts))  # a bad owner raises: row by row then
            has_empty = "" in texts
            if has_empty and column.required:
                raise Invalid("missing required value")
        if kind is Kind.TEXT or kind is Kind.ENUM:
            if column.max_length is not None and max(map(len, texts)) > column.max_length:
                raise Invalid("too long")
            if kind is Kind.ENUM and not self._choices.union(("",) if has_empty else ()).issuperset(
                texts
            ):
                raise Invalid("unknown value")
            if column.references_account and not self.known_accounts.issuperset(texts):
                raise Invalid("unknown account")
            if not has_empty or column.default == "":
                return list(texts)
            default = column.default
            return [text if text else default for text in texts]
        if has_empty or self._ranged:
            return [self.value(text) for text in texts]
        if kind is Kind.DATETIME:
            return list(_datetime_column(texts))
        if kind is Kind.NUMBER:
            numbers = list(map(float, texts))
            if not all(map(math.isfinite, numbers)):
                raise Invalid("not finite")
            return numbers  # type: ignore[return-value]
        return [self.value(text) for text in texts]
