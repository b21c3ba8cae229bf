"""Raw batches → stored rows and rejected lines with their problems.

Each batch first takes the column-at-a-time fast path (see convert.py); only a batch that
holds a problem is re-read row by row, which finds and words every problem exactly.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from storage.ingest.contract import CURRENCY, Entity
from storage.ingest.convert import ColumnConverter, Invalid, Stored
from storage.ingest.mapping import DEFAULT, Mapping
from storage.ingest.problems import Problem
from storage.ingest.readers import Batch

Row = tuple[Stored, ...]


@dataclass(frozen=True)
class Rejected:
    """One line refused, with every problem found in it and what was read."""

    line: int
    problems: tuple[Problem, ...]
    raw: object


class BatchValidator:
    """Validates batches of one source against one entity."""

    def __init__(
        self,
        entity: Entity,
        source_name: str,
        positions: Sequence[int | None],
        known_accounts: set[str],
        mapping: Mapping = DEFAULT,
    ) -> None:
        self.entity = entity
        self.source_name = source_name
        width = len(entity.columns)
        self.positions = tuple(positions)[:width]
        extra = tuple(positions)[width:]
        self.currency_position = extra[0] if extra else None
        self.money = [entity.column_names.index(name) for name in entity.money]
        self.mapping = mapping
        self.converters = [
            ColumnConverter(column, known_accounts, mapping, entity.name)
            for column in entity.columns
        ]

    def validate(self, batch: Batch) -> tuple[list[Row], list[Rejected]]:
        rejected = [
            Rejected(
                bad.line, (Problem(self.source_name, bad.line, bad.column, bad.message),), bad.raw
            )
            for bad in batch.bad
        ]
        try:
            good = self._fast(batch.rows)
        except (Invalid, ValueError, TypeError):
            good, problems = self._slow(batch)
            rejected.extend(problems)
        else:
            if self.entity.row_check is not None:
                good, problems = self._row_checks(batch, good)
                rejected.extend(problems)
        rejected.sort(key=lambda item: item.line)
        return good, rejected

    def _rate(self, text: str) -> float:
        """The rate of a row's `currency` to the reporting currency; Invalid when unknown."""
        code = text.strip().upper()
        if code in ("", self.mapping.reporting_currency):
            return 1.0
        rate = self.mapping.rates.get(code)
        if rate is None:
            reporting = self.mapping.reporting_currency
            raise Invalid(
                f"no rate for {code}: add it to `rates` in the mapping file "
                f"({reporting} per 1 {code})"
            )
        return rate

    def _in_reporting_currency(self, values: list[Stored], rate: float) -> None:
        if rate != 1.0:
            for i in self.money:
                if isinstance(values[i], float):
                    values[i] = values[i] * rate  # type: ignore[operator]

    def _fast(self, rows: Sequence[Sequence[str]]) -> list[Row]:
        if not rows:
            return []
        columns = list(zip(*rows))  # noqa: B905 (the readers check widths)
        converted = [
            converter.values(columns[position])
            if position is not None
            else [converter.column.default] * len(rows)
            for converter, position in zip(self.converters, self.positions, strict=True)
        ]
        if self.currency_position is not None:
            rates = list(map(self._rate, columns[self.currency_position]))
            for i in self.money:
                converted[i] = [
                    value * rate if isinstance(value, float) else value
                    for value, rate in zip(converted[i], rates, strict=True)
                ]
        return list(zip(*converted, strict=True))

    def _row_checks(self, batch: Batch, good: list[Row]) -> tuple[list[Row], list[Rejected]]:
        check, names = self.entity.row_check, self.entity.column_names
        assert check is not None
        kept: list[Row] = []
        rejected: list[Rejected] = []
        for line, raw, row in zip(batch.lines, batch.raws, good, strict=True):
            found = check(dict(zip(names, row, strict=True)))
            if found is None:
                kept.append(row)
            else:
                problem = Problem(self.source_name, line, found[0], found[1])
                rejected.append(Rejected(line, (problem,), raw))
        return kept, rejected

    def _slow(self, batch: Batch) -> tuple[list[Row], list[Rejected]]:
        good: list[Row] = []
        rejected: list[Rejected] = []
        pairs = list(zip(self.converters, self.positions, strict=True))
        check, names = self.entity.row_check, self.entity.column_names
        for line, row, raw in zip(batch.lines, batch.rows, batch.raws, strict=True):
            values: list[Stored] = []
            problems: list[Problem] = []
            for converter, position in pairs:
                try:
                    values.append(converter.value(row[position] if position is not None else ""))
                except Invalid as error:
                    problems.append(
                        Problem(self.source_name, line, converter.column.name, str(error))
                    )
            if not problems and self.currency_position is not None:
                try:
                    self._in_reporting_currency(values, self._rate(row[self.currency_position]))
                except Invalid as error:
                    problems.append(Problem(self.source_name, line, CURRENCY, str(error)))
            if not problems and check is not None:
                found = check(dict(zip(names, values, strict=True)))
                if found is not None:
                    problems.append(Problem(self.source_name, line, found[0], found[1]))
            if problems:
                rejected.append(Rejected(line, tuple(problems), raw))
            else:
                good.append(tuple(values))
        return good, rejected
