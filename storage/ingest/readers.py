"""Streaming readers for `NAME.csv` and `NAME.jsonl`: batches of raw rows, never a whole file.

A reader maps the source's layout onto the entity's columns (`positions`), numbers every
row with the line it starts on, and reports what it cannot read as a row (a malformed CSV
line, a line that is not a JSON object) as a `BadLine`. Problems with the file as a whole
(a missing required column, bytes that are not UTF-8) go to `file_problems` and refuse
the file.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections import deque
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Protocol

from storage.ingest.contract import Entity
from storage.ingest.problems import ROW, Problem

BATCH_ROWS = 20_000


@dataclass(frozen=True)
class BadLine:
    """A line that could not be read as a row; `raw` is what the rejects file keeps."""

    line: int
    column: str
    message: str
    raw: object


@dataclass
class Batch:
    """Up to BATCH_ROWS rows as read. `rows[i]` holds raw text fields in the source's
    layout (see `Source.positions`); `raws[i]` is what a rejects file would keep."""

    lines: list[int]
    rows: list[Sequence[str]]
    raws: Sequence[object]
    bad: list[BadLine] = field(default_factory=list)
    bytes_done: int = 0


class Source(Protocol):
    name: str
    format: str
    positions: tuple[int | None, ...]
    header: tuple[str, ...]
    warnings: list[str]
    file_problems: list[Problem]
    bytes_total: int | None

    def batches(self) -> Iterator[Batch]: ...


def _header_problems(
    name: str, entity: Entity, header: Sequence[str]
) -> tuple[list[Problem], list[str]]:
    problems = [
        Problem(name, 1, column, "required column missing from the header")
        for column in entity.required
        if column not in header
    ]
    seen: set[str] = set()
    for column in header:
        if column in seen:
            problems.append(Problem(name, 1, column, "column appears more than once"))
        seen.add(column)
    unknown = [column for column in header if column not in entity.read_names]
    warnings = [f"{name}:1: unknown columns ignored: {', '.join(unknown)}"] if unknown else []
    return problems, warnings


class NotUtf8(Exception):
    """A line not in the file's encoding: the file cannot be read past it."""

    def __init__(self, line: int, error: UnicodeDecodeError, encoding: str = "utf-8") -> None:
        self.line = line
        name = "UTF-8" if encoding.replace("-", "").lower() == "utf8" else encoding
        hint = "" if name != "UTF-8" else " (declare another in the mapping's formats.encoding)"
        super().__init__(f"not valid {name} ({error.reason}){hint}; the rest of the file is unread")


class CsvSource:
    """`NAME.csv`: UTF-8 (a BOM is allowed) or the declared encoding, a header row,
    RFC 4180 quoting."""

    format = "csv"

    def __init__(
        self, path: Path, entity: Entity, *, batch_rows: int = BATCH_ROWS, encoding: str = "utf-8"
    ) -> None:
        self.name = path.name
        self.encoding = encoding
        self.entity = entity
        self.batch_rows = batch_rows
        self.bytes_total: int | None = path.stat().st_size
        self.warnings: list[str] = []
        self.file_problems: list[Problem] = []
        self._file: IO[bytes] = open(path, "rb")  # noqa: SIM115
        self._recent: deque[str] = deque(maxlen=256)
        self._reader = csv.reader(self._decoded_lines(), strict=True)
        self.header: tuple[str, ...] = ()
        self.positions: tuple[int | None, ...] = ()
        try:
            first = next(self._reader, None)
        except NotUtf8 as error:
            self.file_problems.append(Problem(self.name, error.line, ROW, str(error)))
            return
        except csv.Error as error:
            problem = f"malformed CSV header: {error}"
            self.file_problems.append(Problem(self.name, 1, ROW, problem))
            return
        if first is None:
            self.file_problems.append(Problem(self.name, 1, ROW, "empty file: no header row"))
            return
        self.header = tuple(column.strip() for column in first)
        problems, self.warnings = _header_problems(self.name, entity, self.header)
        self.file_problems.extend(problems)
        index = {column: i for i, column in enumerate(self.header)}
        self.positions = tuple(index.get(column) for column in entity.read_names)

    def _decoded_lines(self) -> Iterator[str]:
        """Physical lines, decoded one at a time (so a bad byte is reported at its line),
        the last few kept so a malformed record can go to the rejects file."""
        keep = self._recent.append
        utf8 = self.encoding.replace("-", "").lower() in ("utf8", "utf8sig")
        first, rest = ("utf-8-sig", "utf-8") if utf8 else (self.encoding, self.encoding)
        for number, raw in enumerate(self._file, start=1):
            try:
                line = raw.decode(first if number == 1 else rest)
            except UnicodeDecodeError as error:
                raise NotUtf8(number, error, self.encoding) from None
            keep(line)
            yield line

    def _raw_text(self, start: int, end: int) -> str:
        count = max(1, min(end - start + 1, len(self._recent)))
        return "".join(list(self._recent)[-count:])

    def _bytes_done(self) -> int:
        try:
            return self._file.tell()
        except (OSError, ValueError):
            return 0

    def batches(self) -> Iterator[Batch]:
        if self.file_problems:
            self._file.close()
            return
        reader, width, size = self._reader, len(self.header), self.batch_rows
        rows: list[Sequence[str]] = []
        lines: list[int] = []
        bad: list[BadLine] = []
        last = reader.line_num
        try:
            while True:
                try:
                    for row in reader:
                        start = last + 1
                        last = reader.line_num
                        if len(row) == width:
                            rows.append(row)
                            lines.append(start)
                            if len(rows) >= size:
                                yield Batch(lines, rows, rows, bad, self._bytes_done())
                                rows, lines, bad = [], [], []
                        elif row:
                            message = (
                                f"malformed CSV line: expected {width} fields, found {len(row)}"
                            )
                            bad.append(BadLine(start, ROW, message, row))
                    break
                except csv.Error as error:
                    start, last = last + 1, reader.line_num
                    raw = self._raw_text(start, last)
                    bad.append(BadLine(start, ROW, f"malformed CSV line: {error}", raw))
                except NotUtf8 as error:
                    self.file_problems.append(Problem(self.name, error.line, ROW, str(error)))
                    break
            if rows or bad:
                yield Batch(lines, rows, rows, bad, self._bytes_done())
        finally:
            self._file.close()


def _as_text(value: object) -> str | None:
    """A JSON scalar as contract text; None for a list or object."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return None


class JsonLinesSource:
    """`NAME.jsonl` or an HTTP body: one JSON object per line, the contract's keys."""

    format = "jsonl"

    def __init__(
        self,
        name: str,
        entity: Entity,
        lines: Iterable[str | bytes],
        *,
        bytes_total: int | None = None,
        batch_rows: int = BATCH_ROWS,
        on_close: Iterable[IO[bytes]] = (),
    ) -> None:
        self.name = name
        self.entity = entity
        self.bytes_total = bytes_total
        self.batch_rows = batch_rows
        self.header = entity.read_names
        self.positions: tuple[int | None, ...] = tuple(range(len(entity.read_names)))
        self.warnings: list[str] = []
        self.file_problems: list[Problem] = []
        self._lines = lines
        self._on_close = list(on_close)

    @classmethod
    def open(cls, path: Path, entity: Entity, *, batch_rows: int = BATCH_ROWS) -> JsonLinesSource:
        handle = open(path, "rb")  # noqa: SIM115
        return cls(
            path.name,
            entity,
            handle,
            bytes_total=path.stat().st_size,
            batch_rows=batch_rows,
            on_close=[handle],
        )

    def _bytes_done(self) -> int:
        for handle in self._on_close:
            try:
                return handle.tell()
            except (OSError, ValueError):
                return 0
        return 0

    def batches(self) -> Iterator[Batch]:
        columns = self.entity.read_names
        known = set(columns)
        unknown: dict[str, None] = {}
        rows: list[Sequence[str]] = []
        lines: list[int] = []
        raws: list[object] = []
        bad: list[BadLine] = []
        try:
            for number, line in enumerate(self._lines, start=1):
                if isinstance(line, bytes):
                    try:
                        text = line.decode("utf-8-sig" if number == 1 else "utf-8")
                    except UnicodeDecodeError as error:
                        bad.append(BadLine(number, ROW, f"not valid UTF-8 ({error.reason})", line))
                        continue
                else:
                    text = line
                text = text.strip()
                if not text:
                    continue
                try:
                    record = json.loads(text)
                except json.JSONDecodeError as error:
                    bad.append(BadLine(number, ROW, f"not valid JSON: {error.msg}", text))
                    continue
                if not isinstance(record, dict):
                    bad.append(BadLine(number, ROW, "not a JSON object", text))
                    continue
                row = [_as_text(record.get(column)) for column in columns]
                if None in row:
                    for column, value in zip(columns, row, strict=True):
                        if value is None:
                            bad.append(
                                BadLine(number, column, "expected a string, number or null", text)
                            )
                            break
                    continue
                if not known.issuperset(record):
                    unknown.update(dict.fromkeys(key for key in record if key not in known))
                rows.append(row)  # type: ignore[arg-type]
                lines.append(number)
                raws.append(text)
                if len(rows) >= self.batch_rows:
                    yield Batch(lines, rows, raws, bad, self._bytes_done())
                    rows, lines, raws, bad = [], [], [], []
            if rows or bad:
                yield Batch(lines, rows, raws, bad, self._bytes_done())
        finally:
            for handle in self._on_close:
                handle.close()
        if unknown:
            self.warnings.append(f"{self.name}: unknown keys ignored: {', '.join(unknown)}")


def open_source(
    path: Path, entity: Entity, *, batch_rows: int = BATCH_ROWS, encoding: str = "utf-8"
) -> Source:
    """The reader for `path` by its extension (`.csv` or `.jsonl`, always UTF-8)."""
    if path.suffix == ".csv":
        return CsvSource(path, entity, batch_rows=batch_rows, encoding=encoding)
    if path.suffix == ".jsonl":
        return JsonLinesSource.open(path, entity, batch_rows=batch_rows)
    raise ValueError(f"{path.name}: not a .csv or .jsonl file")


class RowsSource:
    """Rows a program holds (a connector's mapped records): mappings of contract columns to
    values, numbered from `first_line`, in one batch per call of `batches`."""

    format = "jsonl"

    def __init__(
        self, name: str, entity: Entity, rows: Sequence[Mapping[str, object]], first_line: int = 1
    ) -> None:
        self.name = name
        self.entity = entity
        self.header = entity.read_names
        self.positions: tuple[int | None, ...] = tuple(range(len(entity.read_names)))
        self.warnings: list[str] = []
        self.file_problems: list[Problem] = []
        self.bytes_total: int | None = None
        self._rows = rows
        self._first = first_line

    def batches(self) -> Iterator[Batch]:
        columns = self.entity.read_names
        rows: list[Sequence[str]] = []
        lines: list[int] = []
        raws: list[object] = []
        bad: list[BadLine] = []
        for number, record in enumerate(self._rows, start=self._first):
            row = [_value_text(record.get(column)) for column in columns]
            rows.append(row)
            lines.append(number)
            raws.append(record)
            if len(rows) >= BATCH_ROWS:
                yield Batch(lines, rows, raws, bad)
                rows, lines, raws = [], [], []
        if rows:
            yield Batch(lines, rows, raws, bad)


def _value_text(value: object) -> str:
    """A mapped value as contract text: dates ISO, None empty, numbers as Python writes them."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    text = _as_text(value)
    return text if text is not None else str(value)
