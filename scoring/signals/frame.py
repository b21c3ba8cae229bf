"""SignalFrame: the signal matrix of a portfolio as of one date (accounts × signals)."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass
class SignalFrame:
    """Signals of every live account as of `as_of`; NaN means "no data".

    `extras` carries per-account non-numeric context aligned with `account_ids`
    (segment, owner, renewal date, the contact behind each key role) for scoring and
    explanations; the model reads only `values`.
    """

    as_of: dt.date
    account_ids: list[str]
    names: list[str]
    values: np.ndarray
    extras: dict[str, list[Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._column_index = {name: i for i, name in enumerate(self.names)}
        self._row_index = {account_id: i for i, account_id in enumerate(self.account_ids)}

    def column(self, name: str) -> np.ndarray:
        """The values of one signal for every account (a view, aligned with account_ids)."""
        try:
            return self.values[:, self._column_index[name]]
        except KeyError:
            raise KeyError(f"unknown signal {name!r}") from None

    def index_of(self, account_id: str) -> int:
        return self._row_index[account_id]

    def row(self, account_id: str) -> dict[str, float | None]:
        """One account's signals as plain floats, None where there is no data (JSON-safe)."""
        values = self.values[self._row_index[account_id]]
        return {name: _plain(value) for name, value in zip(self.names, values, strict=True)}

    def rows(self) -> list[dict[str, float | None]]:
        """Every account's `row`, in `account_ids` order (converted in one pass: scoring
        takes every row of 10,000 accounts)."""
        plain = self.values.astype(object)
        plain[np.isnan(self.values)] = None
        return [dict(zip(self.names, values, strict=True)) for values in plain.tolist()]

    def extra(self, key: str, account_id: str) -> Any:
        column = self.extras.get(key)
        return None if column is None else column[self._row_index[account_id]]

    def __len__(self) -> int:
        return len(self.account_ids)


def _plain(value: float) -> float | None:
    value = float(value)
    return None if math.isnan(value) else value
