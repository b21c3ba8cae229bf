"""What is wrong with imported data, said as `file:line: column: problem`.

Every check in the importer reports a `Problem`; a caller that must refuse the data
raises `ContractViolation` carrying them, so the CLI and the HTTP endpoint can show the
same lines.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

ROW = "row"
"""The column named in problems about a whole line (malformed CSV, invalid JSON)."""


@dataclass(frozen=True)
class Problem:
    """One problem in one line of one file (line 0 = the file as a whole)."""

    file: str
    line: int
    column: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.column}: {self.message}"

    def as_dict(self) -> dict[str, object]:
        return {
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "problem": self.message,
        }


class ContractViolation(Exception):
    """Data that breaks the contract; `problems` says where and how (perhaps truncated:
    `problem_count` is the full count)."""

    def __init__(self, problems: Sequence[Problem], problem_count: int | None = None) -> None:
        self.problems = list(problems)
        self.problem_count = len(self.problems) if problem_count is None else problem_count
        first = str(self.problems[0]) if self.problems else "invalid data"
        more = self.problem_count - 1
        super().__init__(first + (f" (and {more} more problems)" if more > 0 else ""))
