"""Replay past quarters: the forecast made at each quarter's start against what happened,
beside a naive forecast (the previous quarter's GRR as known at the quarter's start).

The forecast here uses history rates only (segment and health band): the churn model
active today was trained on data after those quarters began, so using it would leak.
GRR and NRR are of the ARR up for renewal in the quarter (accounts live at its start).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine

from scoring.forecast.renewals import (
    SETTLE_DAYS,
    live_contracts,
    quarter_label,
    quarter_of,
    renewal_points,
    retention,
)
from scoring.forecast.service import (
    BandsFn,
    Book,
    forecast_renewals,
    load_book,
    snapshot_dates,
    stored_or_computed_bands,
)


class ForecastBacktestError(Exception):
    """Not enough history to replay any quarter."""


@dataclass(frozen=True, slots=True)
class QuarterResult:
    quarter: str
    start: dt.date
    renewals: int
    base_arr: float
    actual_grr: float | None
    forecast_grr: float | None
    interval: tuple[float | None, float | None]
    naive_grr: float | None
    actual_nrr: float | None
    forecast_nrr: float | None

    @property
    def error(self) -> float | None:
        if self.actual_grr is None or self.forecast_grr is None:
            return None
        return self.forecast_grr - self.actual_grr

    @property
    def naive_error(self) -> float | None:
        if self.actual_grr is None or self.naive_grr is None:
            return None
        return self.naive_grr - self.actual_grr

    def to_json(self) -> dict[str, Any]:
        return {
            "quarter": self.quarter,
            "renewals": self.renewals,
            "base_arr": self.base_arr,
            "actual_grr": self.actual_grr,
            "forecast_grr": self.forecast_grr,
            "forecast_grr_interval": list(self.interval),
            "naive_grr": self.naive_grr,
            "error": self.error,
            "naive_error": self.naive_error,
            "actual_nrr": self.actual_nrr,
            "forecast_nrr": self.forecast_nrr,
        }


@dataclass
class ForecastBacktest:
    quarters: list[QuarterResult]

    def mae(self, naive: bool = False) -> float | None:
        errors = [q.naive_error if naive else q.error for q in self.quarters]
        values = [abs(e) for e in errors if e is not None]
        return sum(values) / len(values) if values else None

    def to_json(self) -> dict[str, Any]:
        return {
            "quarters": [q.to_json() for q in self.quarters],
            "grr_mae": self.mae(),
            "naive_grr_mae": self.mae(naive=True),
        }


def _cohort(book: Book, start: dt.date, end: dt.date, known_by: dt.date) -> list:
    """Renewal points in [start, end] of accounts live at `start`, outcomes as of `known_by`."""
    live = {c.contract_id for c in live_contracts(book.contracts, book.events, start)}
    return [
        p
        for p in renewal_points(book.contracts, book.events, known_by)
        if start <= p.renewal_date <= end and p.contract_id in live
    ]


def backtest_forecast(
    engine: Engine,
    *,
    start: dt.date | None = None,
    end: dt.date | None = None,
    min_history_days: int = 90,
    bands: BandsFn | None = None,
    book: Book | None = None,
) -> ForecastBacktest:
    """One row per calendar quarter whose outcomes are known and that has history before it."""
    book = book or load_book(engine)
    if book.history_start is None or book.data_end is None:
        raise ForecastBacktestError("no usage history: nothing to replay")
    bands = bands or stored_or_computed_bands(engine)
    first = start or book.history_start + dt.timedelta(days=min_history_days)
    quarters = [
        q
        for q in snapshot_dates(book.history_start, book.data_end)
        if q >= first and (end is None or q <= end)
    ]
    results = []
    for q_start in quarters:
        q_end = quarter_of(q_start)[1]
        if q_end + dt.timedelta(days=SETTLE_DAYS) > book.data_end:
            continue  # outcomes not all known yet
        forecast = forecast_renewals(
            engine, q_start, use_churn_model=False, bands=bands, book=book, simulations=2000
        )
        actual = _cohort(book, q_start, q_end, book.data_end)
        grr, nrr, base = retention(actual)
        prev_start = quarter_of(q_start - dt.timedelta(days=1))[0]
        naive, _, _ = retention(_cohort(book, prev_start, q_start - dt.timedelta(days=1), q_start))
        results.append(
            QuarterResult(
                quarter=quarter_label(q_start),
                start=q_start,
                renewals=len(actual),
                base_arr=base,
                actual_grr=grr,
                forecast_grr=forecast.renewing.grr,
                interval=(forecast.renewing.grr_low, forecast.renewing.grr_high),
                naive_grr=naive,
                actual_nrr=nrr,
                forecast_nrr=forecast.renewing.nrr,
            )
        )
    if not results:
        raise ForecastBacktestError(
            "no quarter has both history before it and settled outcomes after it"
        )
    return ForecastBacktest(results)
