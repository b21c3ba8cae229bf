"""The usage rollup read per account (PostgreSQL: contacts' sums added up in SQL, masks as
arrays) gives the same signals and activity as the rollup read per contact."""

from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy import Engine

from scoring.config import default_config
from scoring.signals.accounts import load_population
from scoring.signals.usage import _per_account, _per_contact, _rollup_query, usage_signals
from scoring.signals.window import Window
from tests.test_scoring_builders import D, build_portfolio


def test_rollup_per_account_equals_per_contact(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("array_agg is PostgreSQL's")
    build_portfolio(engine)
    win, params = Window(D), default_config().signal_params
    with engine.connect() as conn:
        population, values = load_population(conn, win, None)
        query = _rollup_query(conn, win, params)
        by_account = _per_account(conn, query)
        by_contact = _per_contact(conn, query)
    assert len(by_account.sum_accounts) < len(by_contact.sum_accounts)  # really rolled up
    got, got_activity = usage_signals(by_account, win, population, params, values["seats"])
    want, want_activity = usage_signals(by_contact, win, population, params, values["seats"])
    assert got.keys() == want.keys()
    for name in want:
        np.testing.assert_array_equal(got[name], want[name], err_msg=name)

    def people(activity):  # type: ignore[no-untyped-def]
        return sorted(
            zip(
                activity.account_ids,
                activity.contact_ids,
                activity.days_since.tolist(),
                activity.recent.tolist(),
                activity.earlier.tolist(),
                strict=True,
            )
        )

    assert people(got_activity) == people(want_activity)
