"""The rejects file of `--skip-invalid`: every refused line, its line number and reasons.

A CSV source's rejects are CSV with the source's own header after `line` and `problems`
(so they can be fixed and re-imported); a JSON Lines source's rejects are JSON Lines of
`{"line": …, "problems": […], "record": "<the line as read>"}`. The file is created only
when something is rejected.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import IO

from storage.ingest.validate import Rejected


class RejectsFile:
    def __init__(self, path: Path, *, fmt: str, header: Sequence[str]) -> None:
        self.path = path
        self.format = fmt
        self.header = tuple(header)
        self.count = 0
        self._handle: IO[str] | None = None
        self._csv: csv._writer | None = None  # type: ignore[name-defined]

    def _open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._handle = open(self.path, "w", encoding="utf-8", newline="")  # noqa: SIM115
        if self.format == "csv":
            self._csv = csv.writer(self._handle)
            self._csv.writerow(["line", "problems", *self.header])

    def write(self, rejected: Iterable[Rejected]) -> None:
        for item in rejected:
            if self._handle is None:
                self._open()
            assert self._handle is not None
            reasons = [f"{p.column}: {p.message}" for p in item.problems]
            if self._csv is not None:
                fields = list(item.raw) if isinstance(item.raw, list) else [item.raw or ""]
                self._csv.writerow([item.line, "; ".join(reasons), *fields])
            else:
                raw = (
                    item.raw.decode("utf-8", "replace") if isinstance(item.raw, bytes) else item.raw
                )
                record = {"line": item.line, "problems": reasons, "record": raw}
                self._handle.write(json.dumps(record, ensure_ascii=False) + "\n")
            self.count += 1

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None
