"""compute_signals: every signal of every live account as of D, aggregated in SQL.

One read-only transaction; one grouped query (or two) per source table; numpy for
everything after the GROUP BY. Only rows dated on or before D are read.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
from sqlalchemy import Engine

from scoring.config import SignalParams, default_config
from scoring.signals.accounts import load_population
from scoring.signals.contacts import contact_signals, multithreading_target
from scoring.signals.frame import SignalFrame
from scoring.signals.invoices import invoice_signals
from scoring.signals.registry import SIGNAL_NAMES
from scoring.signals.support import support_signals
from scoring.signals.surveys import survey_signals
from scoring.signals.touchpoints import touchpoint_signals
from scoring.signals.usage import usage_signals
from scoring.signals.window import Window

POSTGRES_WORK_MEM = "256MB"


def compute_signals(
    engine: Engine,
    as_of: dt.date,
    account_ids: list[str] | None = None,
    *,
    params: SignalParams | None = None,
) -> SignalFrame:
    """The SignalFrame of every account live as of `as_of` (or of those in `account_ids`)."""
    if isinstance(as_of, dt.datetime):
        as_of = as_of.date()
    params = params or default_config().signal_params
    win = Window(as_of)
    subset = None if account_ids is None else sorted(set(account_ids))
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
        population, values = load_population(conn, win, subset)
        usage, usage_contacts = usage_signals(
            conn, win, population, params, values["seats"], subset
        )
        values.update(usage)
        touch, touch_contacts = touchpoint_signals(conn, win, population, subset)
        values.update(touch)
        support, ticket_contacts = support_signals(conn, win, population, params, subset)
        values.update(support)
        surveys, survey_contacts = survey_signals(conn, win, population, subset)
        values.update(surveys)
        values.update(invoice_signals(conn, win, population, subset))
        values.update(
            contact_signals(
                conn,
                win,
                population,
                params,
                [usage_contacts, touch_contacts, ticket_contacts, survey_contacts],
                subset,
            )
        )
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
