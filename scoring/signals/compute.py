"""compute_signals: every signal of every live account as of D, aggregated in SQL.

One grouped query (or two) per source table; numpy for everything after the GROUP BY.
Only rows dated on or before D are read. On PostgreSQL the usage queries, the heaviest by
far, run on a second connection while the other sources are read and derived.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from functools import partial
from typing import Any, TypeVar

import numpy as np
from sqlalchemy import Connection, Engine

from scoring.config import SignalParams, default_config
from scoring.signals.accounts import load_population
from scoring.signals.contacts import contact_signals, fetch_contacts, multithreading_target
from scoring.signals.frame import SignalFrame
from scoring.signals.invoices import invoice_signals
from scoring.signals.registry import SIGNAL_NAMES
from scoring.signals.support import support_signals
from scoring.signals.surveys import survey_signals
from scoring.signals.touchpoints import touchpoint_signals
from scoring.signals.usage import (
    RollupRows,
    feature_signals,
    fetch_features,
    fetch_rollup,
    usage_signals,
)
from scoring.signals.window import Window
from storage.gc_pause import gc_paused

POSTGRES_WORK_MEM = "256MB"
T = TypeVar("T")


@contextmanager
def _reading(engine: Engine) -> Iterator[Connection]:
    """A connection for the signal queries (its own transaction, settings for it alone)."""
    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            # Room for the grouped scans' hash tables, so they do not spill to disk.
            conn.exec_driver_sql(f"SET LOCAL work_mem = '{POSTGRES_WORK_MEM}'")
            # The planner guesses (account_id, contact_id) groups as the product of the
            # columns' distinct counts (~25x too many), which makes partial aggregation in
            # workers look dear; their output is in fact a few rows per contact.
            conn.exec_driver_sql("SET LOCAL parallel_tuple_cost = 0.01")
            # Compiling the aggregates in every parallel worker costs more than it saves.
            conn.exec_driver_sql("SET LOCAL jit = off")
        yield conn


def _fetch_apart(engine: Engine) -> bool:
    """Whether the usage queries run on a connection of their own, beside the others.

    On PostgreSQL they are most of the server's work and the other sources most of this
    process's: overlapped, the wall time is about the larger of the two, not their sum.
    Each statement reads its own snapshot under READ COMMITTED, on one connection or two.
    """
    return engine.dialect.name == "postgresql"


def _fetched_apart(
    engine: Engine,
    fetch: Callable[[Connection, Window, SignalParams, list[str] | None], T],
    win: Window,
    params: SignalParams,
    subset: list[str] | None,
) -> T:
    with _reading(engine) as conn:
        return fetch(conn, win, params, subset)


def compute_signals(
    engine: Engine,
    as_of: dt.date,
    account_ids: list[str] | None = None,
    *,
    params: SignalParams | None = None,
) -> SignalFrame:
    """The SignalFrame of every account live as of `as_of` (or of those in `account_ids`)."""
    with gc_paused():
        return _compute(engine, as_of, account_ids, params)


def _compute(
    engine: Engine, as_of: dt.date, account_ids: list[str] | None, params: SignalParams | None
) -> SignalFrame:
    if isinstance(as_of, dt.datetime):
        as_of = as_of.date()
    params = params or default_config().signal_params
    win = Window(as_of)
    subset = None if account_ids is None else sorted(set(account_ids))
    with ExitStack() as stack:
        conn = stack.enter_context(_reading(engine))
        usage_rows: Callable[[], RollupRows]
        feature_rows: Callable[[], list[Any]]
        if _fetch_apart(engine):
            # Rollup first: its rows feed the contact signals, derived while the feature
            # query runs.
            pool = stack.enter_context(ThreadPoolExecutor(1, thread_name_prefix="csbot-usage"))
            usage_rows = pool.submit(
                _fetched_apart, engine, fetch_rollup, win, params, subset
            ).result
            feature_rows = pool.submit(
                _fetched_apart, engine, fetch_features, win, params, subset
            ).result
        else:
            usage_rows = partial(fetch_rollup, conn, win, params, subset)
            feature_rows = partial(fetch_features, conn, win, params, subset)
        population, values = load_population(conn, win, subset)
        touch, touch_contacts = touchpoint_signals(conn, win, population, subset)
        support, ticket_contacts = support_signals(conn, win, population, params, subset)
        surveys, survey_contacts = survey_signals(conn, win, population, subset)
        invoices = invoice_signals(conn, win, population, subset)
        contacts = fetch_contacts(conn, subset)
        usage, usage_contacts = usage_signals(
            usage_rows(), win, population, params, values["seats"]
        )
        stakeholders = contact_signals(
            contacts,
            win,
            population,
            params,
            [usage_contacts, touch_contacts, ticket_contacts, survey_contacts],
        )
        features = feature_signals(feature_rows(), population, params)
    for source in (usage, features, touch, support, surveys, invoices, stakeholders):
        values.update(source)
    values["multithreading_target"] = multithreading_target(values["arr"], params)
    missing = [name for name in SIGNAL_NAMES if name not in values]
    if missing:  # a registry entry without a query is a programming error
        raise RuntimeError(f"signals defined but not computed: {missing}")
    matrix = (
        np.column_stack([values[name] for name in SIGNAL_NAMES])
        if population.n
        else np.zeros((0, len(SIGNAL_NAMES)))
    )
    return SignalFrame(
        as_of=as_of,
        account_ids=population.account_ids,
        names=list(SIGNAL_NAMES),
        values=matrix.astype(np.float64),
        extras=population.extras,
    )
