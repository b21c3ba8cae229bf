"""NPS level, trajectory and indifference from survey responses (365 days to D)."""

from __future__ import annotations

import numpy as np
from sqlalchemy import Connection, and_, case, func, select

from scoring.signals.activity import ContactActivity, contact_activity
from scoring.signals.sql import restrict, table
from scoring.signals.window import Population, Window
from storage.models import SurveyResponse

INDIFFERENT_SURVEYS = 3
INDIFFERENT_SPREAD = 1.0


def survey_signals(
    conn: Connection, win: Window, population: Population, account_ids: list[str] | None
) -> tuple[dict[str, np.ndarray], ContactActivity]:
    s = table(SurveyResponse)
    at = s.c.submitted_at
    rows = conn.execute(
        restrict(
            select(s.c.account_id, at, s.c.score)
            .where(s.c.kind == "nps", at >= win.back(365), at < win.end)
            .order_by(s.c.account_id, at, s.c.response_id),
            s.c.account_id,
            account_ids,
        )
    ).all()
    n = population.n
    out = {name: np.full(n, np.nan) for name in ("nps_last", "nps_trend", "nps_indifferent")}
    pos = population.positions([r.account_id for r in rows])
    keep = pos >= 0
    if keep.any():
        pos = pos[keep]
        score = np.array([r.score for r in rows], dtype=float)[keep]
        age = win.days_before_end([r.submitted_at for r in rows])[keep]
        # Rows arrive sorted by account then time, so each account's last row is its latest.
        last = np.r_[pos[1:] != pos[:-1], True]
        out["nps_last"][pos[last]] = score[last]
        recent = age <= 180
        recent_n, older_n = population.bincount(pos, recent), population.bincount(pos, ~recent)
        with np.errstate(divide="ignore", invalid="ignore"):
            trend = (
                population.bincount(pos, score * recent) / recent_n
                - population.bincount(pos, score * ~recent) / older_n
            )
        out["nps_trend"] = np.where((recent_n > 0) & (older_n > 0), trend, np.nan)
        counts = population.bincount(pos)
        # Position of each row counted back from its account's latest (0 = latest).
        group_end = _next_true_index(last)
        from_last = group_end - np.arange(len(pos))
        tail = from_last < INDIFFERENT_SURVEYS
        hi = np.full(n, -np.inf)
        lo = np.full(n, np.inf)
        np.maximum.at(hi, pos[tail], score[tail])
        np.minimum.at(lo, pos[tail], score[tail])
        has_any = counts > 0
        out["nps_indifferent"] = np.where(
            has_any,
            ((counts >= INDIFFERENT_SURVEYS) & (hi - lo <= INDIFFERENT_SPREAD)).astype(float),
            np.nan,
        )

    contact_rows = conn.execute(
        restrict(
            select(
                s.c.account_id,
                s.c.contact_id,
                func.max(at).label("last"),
                func.max(case((at >= win.back(30), 1), else_=0)).label("recent"),
                func.max(case((and_(at >= win.back(90), at < win.back(30)), 1), else_=0)).label(
                    "earlier"
                ),
            )
            .where(at < win.end, s.c.contact_id.is_not(None))
            .group_by(s.c.account_id, s.c.contact_id),
            s.c.account_id,
            account_ids,
        )
    ).all()
    activity = contact_activity(contact_rows, win)
    return out, activity


def _next_true_index(flags: np.ndarray) -> np.ndarray:
    """For each position, the index of the first True at or after it."""
    idx = np.where(flags, np.arange(len(flags)), len(flags))
    return np.minimum.accumulate(idx[::-1])[::-1]
