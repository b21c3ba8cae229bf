"""`forecast_renewals`: every renewal in the next 180 days and the quarter's GRR and NRR.

Where each renewal's probability comes from (its `source`):
- "churn model": the account's stored score as of the date carries the active churn
  model's risk and the renewal falls within the model's horizon; p = 1 − risk (the
  model's probabilities are calibrated when it is trained);
- otherwise the renewal rates of past renewals (`scoring.forecast.rates`) for the
  account's segment and health band as of the date ("segment×band"), its segment alone
  ("segment") or the whole book ("book"), whichever has history.
History starts where the activity data starts (the first usage event): before it, a book
usually holds only the accounts that stayed, and their renewals would flatter the rates.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sqlalchemy import Engine, func, select
from sqlmodel import Session, col

from scoring.config import ConfigSource
from scoring.forecast.rates import (
    UNKNOWN,
    LabelledRenewal,
    RenewalRates,
    expected_change,
    fit_rates,
)
from scoring.forecast.renewals import (
    ContractRow,
    EventRow,
    Renewal,
    live_contracts,
    quarter_label,
    quarter_of,
    renewal_points,
    upcoming,
)
from scoring.forecast.simulate import Retention, simulate_retention
from storage.models import Account, AccountScore, Contract, LifecycleEvent, UsageEvent

HORIZON_DAYS = 180
DEFAULT_CHURN_HORIZON = 90  # when risks are stored but no model row says its horizon
SNAPSHOT_LEAD_DAYS = 180  # a renewal takes the band of the latest snapshot this close before it

BandsFn = Callable[[dt.date], dict[str, str]]


@dataclass(frozen=True, slots=True)
class Book:
    """The contract history of the book, read once and sliced by date in memory."""

    contracts: list[ContractRow]
    events: list[EventRow]
    segments: dict[str, str]
    names: dict[str, str]
    history_start: dt.date | None
    data_end: dt.date | None


@dataclass(frozen=True, slots=True)
class RenewalForecast:
    account_id: str
    name: str
    segment: str
    renewal_date: dt.date
    arr: float
    p_renew: float
    source: str
    band: str
    expected_arr: float  # p × ARR × mean new/old ratio of past renewals
    expected_expansion: float
    expected_contraction: float
    expected_churn: float  # (1 − p) × ARR

    def to_json(self) -> dict[str, Any]:
        return {
            "account_id": self.account_id,
            "name": self.name,
            "segment": self.segment,
            "renewal_date": self.renewal_date.isoformat(),
            "arr": self.arr,
            "p_renew": round(self.p_renew, 4),
            "source": self.source,
            "band": self.band,
            "expected_arr": round(self.expected_arr, 2),
            "expected_expansion": round(self.expected_expansion, 2),
            "expected_contraction": round(self.expected_contraction, 2),
            "expected_churn": round(self.expected_churn, 2),
        }


@dataclass
class Forecast:
    as_of: dt.date
    quarter: str
    quarter_start: dt.date
    quarter_end: dt.date
    renewals: list[RenewalForecast]
    renewing: Retention  # GRR/NRR of the ARR renewing this quarter
    portfolio: Retention  # GRR/NRR of the whole book's ARR over the quarter
    history: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of.isoformat(),
            "quarter": self.quarter,
            "quarter_start": self.quarter_start.isoformat(),
            "quarter_end": self.quarter_end.isoformat(),
            "renewing": self.renewing.to_json(),
            "portfolio": self.portfolio.to_json(),
            "history": self.history,
            "renewals": [r.to_json() for r in self.renewals],
        }


def load_book(engine: Engine) -> Book:
    """Contracts, churn/renewal/expansion events, segments and names of every account."""
    with Session(engine) as session:
        contracts = [
            ContractRow(cid, aid, start, end, float(arr))
            for cid, aid, start, end, arr in session.execute(
                select(
                    col(Contract.contract_id),
                    col(Contract.account_id),
                    col(Contract.start_date),
                    col(Contract.end_date),
                    col(Contract.arr),
                )
            )
        ]
        events = [
            EventRow(aid, when.date(), kind)
            for aid, when, kind in session.execute(
                select(
                    col(LifecycleEvent.account_id),
                    col(LifecycleEvent.occurred_at),
                    col(LifecycleEvent.kind),
                ).where(col(LifecycleEvent.kind).in_(("churned", "renewed", "expanded")))
            )
        ]
        segments: dict[str, str] = {}
        names: dict[str, str] = {}
        for aid, name, segment in session.execute(
            select(col(Account.account_id), col(Account.name), col(Account.segment))
        ):
            segments[aid] = segment or UNKNOWN
            names[aid] = name
        first, last = session.execute(
            select(func.min(UsageEvent.timestamp), func.max(UsageEvent.timestamp))
        ).one()
    return Book(
        contracts,
        events,
        segments,
        names,
        first.date() if first else None,
        last.date() if last else None,
    )


def stored_or_computed_bands(engine: Engine, config: ConfigSource = None) -> BandsFn:
    """Health band per account as of a date: the stored scores of that date when there
    are any, else health computed from the signals as of the date (not stored). Cached."""
    cache: dict[dt.date, dict[str, str]] = {}

    def bands(day: dt.date) -> dict[str, str]:
        if day in cache:
            return cache[day]
        with Session(engine) as session:
            stored = dict(
                session.execute(
                    select(col(AccountScore.account_id), col(AccountScore.band)).where(
                        col(AccountScore.as_of) == day
                    )
                ).all()
            )
        if not stored:
            from scoring.bands import health_band
            from scoring.service import frame_health, resolve_config
            from scoring.signals import compute_signals

            cfg = resolve_config(config)
            frame = compute_signals(engine, day, params=cfg.signal_params)
            result = frame_health(frame, cfg)
            stored = {
                aid: health_band(float(h), cfg.bands)
                for aid, h in zip(frame.account_ids, result.health.tolist(), strict=True)
            }
        cache[day] = stored
        return stored

    return bands


def snapshot_dates(history_start: dt.date, until: dt.date) -> list[dt.date]:
    """Quarter starts from a month after the history starts, up to `until` (inclusive)."""
    day = quarter_of(history_start + dt.timedelta(days=30))[1] + dt.timedelta(days=1)
    dates = []
    while day <= until:
        dates.append(day)
        day = quarter_of(day)[1] + dt.timedelta(days=1)
    return dates


def labelled_history(book: Book, known_by: dt.date, bands: BandsFn) -> list[LabelledRenewal]:
    """Settled renewals dated from the history start to `known_by`, each with its segment and
    the health band at the latest quarter-start snapshot before it."""
    if book.history_start is None:
        return []
    points = [
        p
        for p in renewal_points(book.contracts, book.events, known_by)
        if p.settled and book.history_start <= p.renewal_date < known_by
    ]
    snaps = snapshot_dates(book.history_start, known_by)
    labelled = []
    for point in points:
        before = [s for s in snaps if s <= point.renewal_date]
        band = UNKNOWN
        if before and (point.renewal_date - before[-1]).days <= SNAPSHOT_LEAD_DAYS:
            band = bands(before[-1]).get(point.account_id, UNKNOWN)
        labelled.append(LabelledRenewal(point, book.segments.get(point.account_id, UNKNOWN), band))
    return labelled


def _churn_risks(engine: Engine, as_of: dt.date) -> tuple[dict[str, float], int]:
    """The stored churn risk of each account as of `as_of` (latest score within 7 days),
    and the model's horizon in days."""
    with Session(engine) as session:
        latest = session.execute(
            select(func.max(AccountScore.as_of)).where(
                col(AccountScore.as_of) <= as_of,
                col(AccountScore.as_of) >= as_of - dt.timedelta(days=7),
            )
        ).scalar()
        if latest is None:
            return {}, 0
        rows = session.execute(
            select(col(AccountScore.account_id), col(AccountScore.churn_risk)).where(
                col(AccountScore.as_of) == latest, col(AccountScore.churn_risk).is_not(None)
            )
        ).all()
        from storage.models import ModelVersion

        horizon = session.execute(
            select(col(ModelVersion.horizon_days)).where(col(ModelVersion.active).is_(True))
        ).scalar()
    return {aid: float(risk) for aid, risk in rows}, int(horizon or DEFAULT_CHURN_HORIZON)


def forecast_renewals(
    engine: Engine,
    as_of: dt.date,
    *,
    horizon_days: int = HORIZON_DAYS,
    use_churn_model: bool = True,
    bands: BandsFn | None = None,
    book: Book | None = None,
    simulations: int = 4000,
) -> Forecast:
    """Forecast every renewal in [as_of, as_of + horizon_days] and the quarter's retention."""
    book = book or load_book(engine)
    bands = bands or stored_or_computed_bands(engine)
    history = labelled_history(book, as_of, bands)
    rates = fit_rates(history)
    risks, model_horizon = _churn_risks(engine, as_of) if use_churn_model else ({}, 0)
    today_bands = bands(as_of) if book.history_start and as_of >= book.history_start else {}
    items = [
        _forecast_one(c, book, rates, today_bands, risks, model_horizon, as_of)
        for c in upcoming(book.contracts, book.events, as_of, horizon_days)
    ]
    q_start, q_end = quarter_of(as_of)
    renewing, portfolio = _quarter(book, rates, items, q_start, q_end, as_of, simulations)
    return Forecast(
        as_of=as_of,
        quarter=quarter_label(q_start),
        quarter_start=q_start,
        quarter_end=q_end,
        renewals=items,
        renewing=renewing,
        portfolio=portfolio,
        history={
            "from": book.history_start.isoformat() if book.history_start else None,
            "settled_renewals": rates.n_book,
            "book_renewal_rate": round(rates.book, 4),
            "segment_rates": {k: [round(v[0], 4), v[1]] for k, v in rates.segment.items()},
            "churn_model_accounts": len(risks),
        },
    )


def _forecast_one(
    contract: ContractRow,
    book: Book,
    rates: RenewalRates,
    bands: dict[str, str],
    risks: dict[str, float],
    model_horizon: int,
    as_of: dt.date,
) -> RenewalForecast:
    aid = contract.account_id
    segment = book.segments.get(aid, UNKNOWN)
    band = bands.get(aid, UNKNOWN)
    if aid in risks and (contract.end - as_of).days <= model_horizon:
        p, source = 1.0 - risks[aid], "churn model"
    else:
        odds = rates.odds(segment, band)
        p, source = odds.p_renew, odds.source
    mean, expansion, contraction = expected_change(rates.ratios(segment))
    return RenewalForecast(
        account_id=aid,
        name=book.names.get(aid, aid),
        segment=segment,
        renewal_date=contract.end,
        arr=contract.arr,
        p_renew=p,
        source=source,
        band=band,
        expected_arr=p * contract.arr * mean,
        expected_expansion=p * contract.arr * expansion,
        expected_contraction=p * contract.arr * contraction,
        expected_churn=(1.0 - p) * contract.arr,
    )


def _quarter(
    book: Book,
    rates: RenewalRates,
    items: list[RenewalForecast],
    q_start: dt.date,
    q_end: dt.date,
    as_of: dt.date,
    simulations: int,
) -> tuple[Retention, Retention]:
    """Retention of the quarter containing `as_of`: renewals still ahead are simulated,
    those between the quarter start and `as_of` enter with what happened."""
    ahead = [r for r in items if r.renewal_date <= q_end]
    settled: list[Renewal] = [
        p
        for p in renewal_points(book.contracts, book.events, as_of)
        if q_start <= p.renewal_date < as_of and p.settled
    ]
    arr = np.array([r.arr for r in ahead], dtype=float)
    p = np.array([r.p_renew for r in ahead], dtype=float)
    pools = [rates.ratios(r.segment) for r in ahead]
    kept = sum(min(s.new_arr or 0.0, s.arr) for s in settled)
    net = sum(s.new_arr or 0.0 for s in settled)
    base = sum(s.arr for s in settled)
    renewing = simulate_retention(
        arr,
        p,
        pools,
        settled_kept=kept,
        settled_net=net,
        settled_base=base,
        simulations=simulations,
    )
    live = live_contracts(book.contracts, book.events, q_start)
    ahead_ids = {r.account_id for r in ahead} | {s.account_id for s in settled}
    untouched = sum(c.arr for c in live if c.account_id not in ahead_ids)
    portfolio = simulate_retention(
        arr,
        p,
        pools,
        settled_kept=kept,
        settled_net=net,
        settled_base=base,
        extra_base=untouched,
        simulations=simulations,
    )
    return renewing, portfolio


def stored_bands(engine: Engine) -> BandsFn:
    """Health bands from stored scores only (nothing computed): quick, for one account's view."""
    cache: dict[dt.date, dict[str, str]] = {}

    def bands(day: dt.date) -> dict[str, str]:
        if day not in cache:
            with Session(engine) as session:
                cache[day] = dict(
                    session.execute(
                        select(col(AccountScore.account_id), col(AccountScore.band)).where(
                            col(AccountScore.as_of) == day
                        )
                    ).all()
                )
        return cache[day]

    return bands


def forecast_account(engine: Engine, account_id: str, as_of: dt.date) -> RenewalForecast | None:
    """The forecast of one account's next renewal within the horizon (None when none is due):
    rates from stored bands only, so it takes a fraction of a second."""
    book = load_book(engine)
    bands = stored_bands(engine)
    rates = fit_rates(labelled_history(book, as_of, bands))
    risks, model_horizon = _churn_risks(engine, as_of)
    for contract in upcoming(book.contracts, book.events, as_of, HORIZON_DAYS):
        if contract.account_id == account_id:
            return _forecast_one(contract, book, rates, bands(as_of), risks, model_horizon, as_of)
    return None
