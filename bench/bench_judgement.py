"""How good is csbot's judgement on books nobody here designed? One table per run.

Usage: python bench/bench_judgement.py [--quick] [--only NAME ...] [--boot N]

Sources (each imported through csbot's importer into its own SQLite database and replayed
with `scoring.churn.backtest.run_backtest`, 90-day horizon, evaluation every 14 days,
retraining every 28):
- `churnsim`: ChurnSim's crm5 B2B CRM book (fightchurn; bench/books/churnsim.py);
- every named scenario of the demo generator (`storage.demo.SCENARIOS`);
- `demo`: the default demo book, a sanity check (its churn is a designed, deep decline).

Scorers: `rules` (1 − health/100), `model` and `usage_only` (the backtest's own retrains),
and `peer`: gradient boosting on 11 hand-made features computed here from the raw tables,
trained with the same protocol (only snapshots whose 90-day outcome was known at each
retrain date).

Printed per scorer: ROC AUC and PR AUC with 95% bootstrap intervals (resampling accounts),
precision and recall at the alert line (rules: the at-risk band, health below the neutral
line; learned scores: the model's alert threshold), median lead of alerted churns, and the
expected calibration error (learned scores only). Per source: churned ARR caught (share of
churned ARR whose account was in its CSM's digest 30-180 days before the churn; digests
replayed on the evaluation dates with csbot's attention ranking, 5 per CSM), attention
precision (digest entries whose account churned or expanded within 90 days), the alerts
raised per date against the accounts that churn within 90 days, and for ChurnSim the
ranking of the simulator's own churn probability.

Sources and seeds are split into a declared development subset (where modelling recipes
may be chosen) and an untouched subset, printed with the table. Run it under the shared
CPU lock with `nice -n 10`; the full run takes about 10-15 minutes on 2 cores, `--quick`
a few.
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import sys
import tempfile
import time
from collections import defaultdict
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.judgement_metrics import (  # noqa: E402
    attention_precision,
    bootstrap_ci,
    churned_arr_caught,
    expected_calibration_error,
    precision_recall,
    weighted_pr_auc,
    weighted_roc_auc,
)

HORIZON = 90
EVERY = 14
RETRAIN = 28
DIGEST_SIZE = 5
SCORERS = ("rules", "health", "model", "usage_only", "peer")
#: The share of alerts that should really churn (`CSBOT_ALERT_PRECISION`'s default): the
#: peer's own line is chosen for it as the model's is.
PRECISION = 0.5

#: Where modelling recipes may be chosen. Everything else the bench runs is untouched.
DEV = frozenset(
    {
        ("demo", 101),
        ("sudden_drop", 101),
        ("slow_fade", 101),
        ("support_driven", 101),
        ("seasonal", 101),
        ("churnsim", 1),
    }
)


@dataclass(frozen=True)
class Sizes:
    accounts: int
    months: int
    usage_density: float
    churnsim_customers: int
    churnsim_months: int
    boot: int


FULL = Sizes(
    accounts=250, months=24, usage_density=0.25, churnsim_customers=40, churnsim_months=24, boot=200
)
QUICK = Sizes(
    accounts=140, months=21, usage_density=0.2, churnsim_customers=20, churnsim_months=21, boot=100
)


@dataclass(frozen=True)
class Source:
    name: str
    seed: int

    @property
    def split(self) -> str:
        return "dev" if (self.name, self.seed) in DEV else "untouched"

    @property
    def label(self) -> str:
        return f"{self.name}@{self.seed}"


def scenario_names() -> list[str]:
    try:
        from storage.demo import SCENARIOS
    except ImportError:
        return []
    return list(SCENARIOS)


def sources(quick: bool, only: list[str] | None) -> list[Source]:
    if quick:
        chosen = [Source("demo", 101), Source("churnsim", 1)]
        chosen += [
            Source(n, 101) for n in ("sudden_drop", "champion_leaves") if n in scenario_names()
        ]
    else:
        chosen = [
            Source("demo", 101),
            Source("demo", 202),
            Source("churnsim", 1),
            Source("churnsim", 2),
        ]
        chosen += [Source(name, 101) for name in scenario_names()]
    if only:
        chosen = [s for s in chosen if s.name in only or s.label in only]
    return chosen


# ---------------------------------------------------------------- building the books


def build_churnsim(out_dir: str, seed: int, customers: int, months: int) -> dict[str, Any]:
    """Run in a worker process: simulate, write the contract files, return the reference."""
    from bench.books.churnsim import simulate, write_contract

    started = time.perf_counter()
    book = simulate(seed=seed, customers=customers, months=months)
    write_contract(book, Path(out_dir))
    return {
        "risk": [(f"cs-{cid:05d}", day.toordinal(), p) for cid, day, p in book.month_end_risk],
        "seconds": time.perf_counter() - started,
        "customers": len(book.customers),
    }


def build_demo(out_dir: Path, source: Source, sizes: Sizes) -> None:
    from storage.demo import generate_portfolio

    kwargs: dict[str, Any] = {}
    if source.name != "demo":
        kwargs["scenario"] = source.name
    generate_portfolio(
        out_dir,
        seed=source.seed,
        accounts=sizes.accounts,
        months=sizes.months,
        usage_density=sizes.usage_density,
        **kwargs,
    )


def import_book(data_dir: Path, db_path: Path) -> Any:
    from sqlmodel import SQLModel

    import storage.models  # noqa: F401  (registers every table)
    from storage.db import make_engine
    from storage.ingest import import_directory

    engine = make_engine(f"sqlite:///{db_path}")
    SQLModel.metadata.create_all(engine)
    import_directory(engine, data_dir)
    return engine


# ---------------------------------------------------------------- replay


@dataclass
class Replay:
    """What the backtest scored, row by row, and the frames it scored them from."""

    y: np.ndarray
    scores: dict[str, np.ndarray]
    accounts: np.ndarray
    days: np.ndarray
    frames: list[Any]
    health: list[np.ndarray]
    thresholds: dict[str, Any]  # a line, or one per row (the retrain's of that day)
    notes: list[str] = field(default_factory=list)
    #: Per evaluation day: (at-risk line, critical line, model alert line) as the latest
    #: retrain chose them (None: the configured fallback).
    lines: dict[int, tuple[float | None, float | None, float | None]] = field(default_factory=dict)


class RecordingRules:
    """The product's rules function, remembering each frame it scores (in backtest order)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.frames: list[Any] = []

    def __call__(self, frame: Any) -> np.ndarray:
        risk = np.asarray(self.inner(frame), dtype=np.float64)
        self.frames.append(frame)
        return risk


def run_replay(engine: Any) -> Replay:
    from scoring.churn.backtest import default_rules_fn, run_backtest
    from scoring.churn.config import TrainingConfig
    from scoring.service import resolve_config

    cfg = TrainingConfig(snapshot_every_days=EVERY)
    recorder = RecordingRules(default_rules_fn())
    result = run_backtest(
        engine, cfg=cfg, every_days=EVERY, retrain_days=RETRAIN, rules_fn=recorder
    )
    frames = recorder.frames
    accounts = np.concatenate([np.asarray(f.account_ids, dtype=object) for f in frames])
    days = np.concatenate([np.full(len(f.account_ids), f.as_of.toordinal()) for f in frames])
    y = np.asarray(result.y, dtype=np.int64)
    if y.size != accounts.size:
        raise RuntimeError(f"backtest rows ({y.size}) and recorded frames ({accounts.size}) differ")
    health = [100.0 * (1.0 - np.asarray(recorder.inner(f), dtype=np.float64)) for f in frames]
    neutral = float(resolve_config(None).bands.neutral)
    thresholds = {"rules": 1.0 - neutral / 100.0 + 1e-9}
    notes = []
    for row in ("model", "usage_only", "learned_health"):
        own = (result.metrics.get(row) or {}).get("threshold")
        thresholds[row] = float(own) if own is not None else float(cfg.alert_threshold)
    notes += sorted(
        {
            f"{row}: {info[row]['note']}"
            for info in result.retrains
            for row in ("model", "usage_only")
            if isinstance(info.get(row), dict) and info[row].get("note")
        }
    )
    lines: dict[int, tuple[float | None, float | None, float | None]] = {}
    retrains = sorted(result.retrains, key=lambda info: info["date"])
    for day in sorted({int(d) for d in days.tolist()}):
        latest = [r for r in retrains if dt.date.fromisoformat(r["date"]).toordinal() <= day]
        if not latest:
            continue
        health_info = latest[-1].get("health") or {}
        model_info = latest[-1].get("model") or {}
        lines[day] = (
            health_info.get("at_risk_line"),
            health_info.get("critical_line"),
            model_info.get("alert_threshold"),
        )
    scores = {row: np.asarray(result.scores[row], dtype=np.float64) for row in result.scores}
    scores["health"] = scores.pop("learned_health")
    thresholds.pop("learned_health")
    # Per row, the line the product used that day (what `csbot train` chose at the latest
    # retrain): health at its at-risk line, the model at its alert threshold.
    chosen = [lines.get(int(d), (None,) * 3)[0] for d in days.tolist()]
    at_risk = np.array([neutral if c is None else float(c) for c in chosen], dtype=np.float64)
    thresholds["health"] = np.nextafter(1.0 - at_risk / 100.0, np.inf)
    alert = [lines.get(int(d), (None,) * 3)[2] for d in days.tolist()]
    thresholds["model"] = np.array(
        [cfg.alert_threshold if a is None else float(a) for a in alert], dtype=np.float64
    )
    return Replay(
        lines=lines,
        y=y,
        scores=scores,
        accounts=accounts,
        days=days,
        frames=frames,
        health=health,
        thresholds=thresholds,
        notes=notes,
    )


# ---------------------------------------------------------------- the plain peer


class RawBook:
    """The raw tables as numpy arrays, for the peer's hand-made features."""

    def __init__(self, engine: Any) -> None:
        from sqlalchemy import text

        with engine.connect() as conn:

            def rows(sql: str) -> list[tuple[Any, ...]]:
                return [tuple(r) for r in conn.execute(text(sql))]

            accounts = rows("SELECT account_id, created_at FROM accounts")
            self.ids = [a for a, _ in accounts]
            self.index = {a: i for i, a in enumerate(self.ids)}
            self.created = np.array([_ordinal(c) for _, c in accounts], dtype=np.int64)
            usage = rows("SELECT account_id, contact_id, timestamp, event, quantity FROM usage")
            contacts: dict[str, int] = {}
            self.u_acc = np.array([self.index[r[0]] for r in usage], dtype=np.int64)
            self.u_contact = np.array(
                [contacts.setdefault(r[1], len(contacts)) if r[1] else -1 for r in usage],
                dtype=np.int64,
            )
            self.u_day = np.array([_ordinal(r[2]) for r in usage], dtype=np.int64)
            self.u_login = np.array([r[3] == "login" for r in usage], dtype=bool)
            self.u_qty = np.array([float(r[4] or 1.0) for r in usage])
            tickets = rows("SELECT account_id, opened_at FROM tickets")
            self.t_acc = np.array([self.index[r[0]] for r in tickets], dtype=np.int64)
            self.t_day = np.array([_ordinal(r[1]) for r in tickets], dtype=np.int64)
            invoices = rows("SELECT account_id, due_at, paid_at FROM invoices")
            self.i_acc = np.array([self.index[r[0]] for r in invoices], dtype=np.int64)
            self.i_due = np.array([_ordinal(r[1]) for r in invoices], dtype=np.int64)
            self.i_paid = np.array(
                [_ordinal(r[2]) if r[2] is not None else 10**9 for r in invoices], dtype=np.int64
            )
            contracts = rows("SELECT account_id, start_date, end_date, arr FROM contracts")
            self.k_acc = np.array([self.index[r[0]] for r in contracts], dtype=np.int64)
            self.k_start = np.array([_ordinal(r[1]) for r in contracts], dtype=np.int64)
            self.k_end = np.array([_ordinal(r[2]) for r in contracts], dtype=np.int64)
            self.k_arr = np.array([float(r[3]) for r in contracts])
            nps = rows(
                "SELECT account_id, submitted_at, score FROM surveys WHERE kind = 'nps' "
                "ORDER BY submitted_at"
            )
            self.n_acc = np.array([self.index[r[0]] for r in nps], dtype=np.int64)
            self.n_day = np.array([_ordinal(r[1]) for r in nps], dtype=np.int64)
            self.n_score = np.array([float(r[2]) for r in nps])
            life = rows("SELECT account_id, occurred_at, kind, arr_change FROM lifecycle")
        self.churns: dict[str, list[tuple[int, float]]] = defaultdict(list)
        self.outcomes: dict[str, list[int]] = defaultdict(list)
        for account, when, kind, change in life:
            if kind in ("churned", "expanded"):
                self.outcomes[account].append(_ordinal(when))
            if kind == "churned":
                self.churns[account].append((_ordinal(when), abs(float(change or 0.0))))
        self.first_day = int(self.u_day.min()) if self.u_day.size else 0
        self.last_day = int(self.u_day.max()) if self.u_day.size else 0

    def features(self, day: int) -> np.ndarray:
        """11 features of every account as of `day` (data before `day` only)."""
        n = len(self.ids)
        w30 = (self.u_day >= day - 30) & (self.u_day < day)
        w90 = (self.u_day >= day - 90) & (self.u_day < day - 30)
        logins = np.bincount(self.u_acc[w30 & self.u_login], self.u_qty[w30 & self.u_login], n)
        before = np.bincount(self.u_acc[w90 & self.u_login], self.u_qty[w90 & self.u_login], n) / 2
        events = np.bincount(self.u_acc[w30 & ~self.u_login], self.u_qty[w30 & ~self.u_login], n)
        events_before = (
            np.bincount(self.u_acc[w90 & ~self.u_login], self.u_qty[w90 & ~self.u_login], n) / 2
        )
        people = w30 & (self.u_contact >= 0)
        pairs = np.unique(self.u_acc[people] * 10_000_000 + self.u_contact[people])
        users = np.bincount(pairs // 10_000_000, minlength=n).astype(float)
        tickets = np.bincount(
            self.t_acc[(self.t_day >= day - 30) & (self.t_day < day)], minlength=n
        )
        overdue = np.bincount(
            self.i_acc[(self.i_due < day) & (self.i_paid >= day)], minlength=n
        ).astype(float)
        live = (self.k_start <= day) & (self.k_end >= day)
        renewal = np.full(n, np.nan)
        arr = np.full(n, np.nan)
        order = np.argsort(self.k_end[live])
        renewal[self.k_acc[live][order]] = (self.k_end[live] - day)[order]
        arr[self.k_acc[live][order]] = self.k_arr[live][order]
        nps = np.full(n, np.nan)
        seen = self.n_day < day
        nps[self.n_acc[seen]] = self.n_score[seen]  # rows are in date order: the last wins
        return np.column_stack(
            [
                np.log1p(logins),
                np.log1p(logins) - np.log1p(before),
                np.log1p(events),
                np.log1p(events) - np.log1p(events_before),
                users,
                tickets.astype(float),
                overdue,
                renewal,
                np.log1p(arr),
                (day - self.created).astype(float),
                nps,
            ]
        )

    def next_churn(self, account: str, day: int) -> int | None:
        later = [c for c, _ in self.churns.get(account, ()) if c >= day]
        return min(later) if later else None

    def live(self, day: int) -> np.ndarray:
        """Accounts that exist on `day` and had not churned before it."""
        alive = self.created <= day
        for account, events in self.churns.items():
            if any(c < day for c, _ in events):
                alive[self.index[account]] = False
        return alive


def _ordinal(value: Any) -> int:
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if isinstance(value, dt.datetime):
        return value.date().toordinal()
    return value.toordinal()


def _peer_model() -> Any:
    from sklearn.ensemble import HistGradientBoostingClassifier

    return HistGradientBoostingClassifier(
        max_iter=150,
        learning_rate=0.05,
        max_leaf_nodes=15,
        min_samples_leaf=40,
        random_state=0,
    )


def peer_line(x: np.ndarray, y: np.ndarray, groups: np.ndarray) -> float | None:
    """The peer's own alert line, chosen as the product chooses the model's: on
    predictions it did not fit (2-fold, grouped by account), the most permissive line with
    PRECISION (None: no line reaches it)."""
    from sklearn.model_selection import GroupKFold

    from scoring.churn.thresholds import threshold_for_precision

    held = np.full(y.size, np.nan)
    for fit, out in GroupKFold(n_splits=2).split(x, y, groups):
        if not (5 <= y[fit].sum() < fit.size):
            return None
        held[out] = _peer_model().fit(x[fit], y[fit]).predict_proba(x[out])[:, 1]
    return threshold_for_precision(y, held, PRECISION)


def peer_scores(
    book: RawBook, accounts: np.ndarray, days: np.ndarray
) -> tuple[np.ndarray, np.ndarray, str]:
    """Gradient boosting on the hand-made features, retrained every RETRAIN days on the
    snapshots whose outcome was known by then; scores the backtest's own rows, and the
    line of each row (the peer's own, chosen at each retrain; 0.5 when none is reached)."""
    eval_days = sorted(set(days.tolist()))
    grid = list(range(book.first_day + 90, eval_days[-1] - HORIZON + 1, EVERY))
    cache: dict[int, np.ndarray] = {}

    def feats(day: int) -> np.ndarray:
        if day not in cache:
            cache[day] = book.features(day)
        return cache[day]

    def labelled(day: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        alive = np.flatnonzero(book.live(day))
        labels = np.array(
            [
                int((c := book.next_churn(book.ids[i], day)) is not None and c - day <= HORIZON)
                for i in alive
            ]
        )
        return feats(day)[alive], labels, alive

    out = np.full(days.size, np.nan)
    lines = np.full(days.size, 0.5)
    model: Any = None
    keep = np.ones(11, dtype=bool)
    base = 0.0
    line: float | None = None
    last = None
    note = ""
    for day in eval_days:
        if last is None or day - last >= RETRAIN:
            last = day
            train_days = [d for d in grid if d + HORIZON <= day]
            parts = [labelled(d) for d in train_days]
            if parts:
                x = np.vstack([p[0] for p in parts])
                y = np.concatenate([p[1] for p in parts])
                groups = np.concatenate([p[2] for p in parts])
            else:
                x, y, groups = np.empty((0, 11)), np.empty(0), np.empty(0)
            if y.size and 5 <= y.sum() < y.size:
                # a source the book lacks (no surveys, no invoices) is an all-empty column
                keep = ~np.all(np.isnan(x), axis=0)
                model = _peer_model().fit(x[:, keep], y)
                line = peer_line(x[:, keep], y, groups)
            else:
                model, base, line = None, float(y.mean()) if y.size else 0.0, None
                note = "peer: too few churned rows at some retrains (predicted the base rate)"
        rows = np.flatnonzero(days == day)
        index = np.array([book.index[a] for a in accounts[rows]])
        x = feats(day)[index]
        out[rows] = model.predict_proba(x[:, keep])[:, 1] if model is not None else base
        lines[rows] = 0.5 if line is None else line
    return out, lines, note


# ---------------------------------------------------------------- the digest, replayed


@dataclass(frozen=True)
class Facts:
    account_id: str
    as_of: dt.date
    health: float
    band: str
    health_delta_30d: float | None
    direction: str
    churn_risk: float | None
    expansion: float
    stakeholder_band: str
    renewal_date: dt.date | None
    arr: float


def replay_digests(replay: Replay) -> list[tuple[str, int]]:
    """(account, day) of every digest entry: on each evaluation date, csbot's one attention
    ranking (`scoring.attention.rank_attention`), top DIGEST_SIZE per CSM, from the health
    the product would use that day (learned or the YAML's, `health` row) in the bands at
    the lines the latest retrain chose, and the backtest model's churn risk at its line."""
    from scoring.attention import AttentionSettings, rank_attention
    from scoring.bands import health_band
    from scoring.learned_health import lines_to_bands
    from scoring.service import resolve_config

    config = resolve_config(None)
    entries: list[tuple[str, int]] = []
    health_by_day: dict[int, dict[str, float]] = {}
    offset = 0
    for frame in replay.frames:
        day = frame.as_of.toordinal()
        n = len(frame.account_ids)
        risk = replay.scores["model"][offset : offset + n]
        health = 100.0 * (1.0 - replay.scores["health"][offset : offset + n])
        offset += n
        at_risk, critical, alert = replay.lines.get(day, (None, None, None))
        bands = lines_to_bands(config.bands, at_risk, critical)
        knobs = AttentionSettings(
            per_csm=DIGEST_SIZE, alert_threshold=0.5 if alert is None else float(alert)
        )
        current = dict(zip(frame.account_ids, health.tolist(), strict=True))
        health_by_day[day] = current
        earlier = health_by_day.get(day - 28, {})
        owners = frame.extras.get("owner", [""] * n)
        renewals = frame.extras.get("renewal_date", [None] * n)
        arr = frame.column("arr") if "arr" in frame.names else np.zeros(n)
        facts = []
        for i, account in enumerate(frame.account_ids):
            delta = current[account] - earlier[account] if account in earlier else None
            facts.append(
                Facts(
                    account_id=account,
                    as_of=frame.as_of,
                    health=current[account],
                    band=health_band(current[account], bands),
                    health_delta_30d=delta,
                    direction="falling"
                    if delta is not None and delta <= config.trend.falling_30d
                    else "steady",
                    churn_risk=float(risk[i]),
                    expansion=0.0,
                    stakeholder_band="healthy",
                    renewal_date=renewals[i],
                    arr=0.0 if math.isnan(arr[i]) else float(arr[i]),
                )
            )
        by_owner: dict[str, list[Facts]] = defaultdict(list)
        for fact, owner in zip(facts, owners, strict=True):
            by_owner[owner or ""].append(fact)
        for group in by_owner.values():
            ranked = rank_attention(group, frame.as_of, knobs)
            entries += [(row[0].account_id, day) for row in ranked[:DIGEST_SIZE]]
    return entries


# ---------------------------------------------------------------- one source


@dataclass
class SourceResult:
    source: Source
    rows: dict[str, dict[str, Any]] = field(default_factory=dict)
    facts: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    error: str | None = None


def judge_source(
    source: Source, engine: Any, boot: int, reference: dict[str, Any] | None
) -> SourceResult:
    from scoring.churn.metrics import median_lead_days

    out = SourceResult(source)
    replay = run_replay(engine)
    book = RawBook(engine)
    peer, peer_lines, note = peer_scores(book, replay.accounts, replay.days)
    replay.scores["peer"] = peer
    replay.thresholds["peer"] = peer_lines
    out.notes += replay.notes + ([note] if note else [])
    y, accounts, days = replay.y, replay.accounts, replay.days
    churn_next = np.array(
        [
            book.next_churn(a, d) or -1
            for a, d in zip(accounts.tolist(), days.tolist(), strict=True)
        ],
        dtype=np.int64,
    )
    for row in SCORERS:
        s = replay.scores.get(row)
        if s is None:
            continue
        flagged = s >= replay.thresholds[row]
        precision, recall = precision_recall(y, flagged)
        roc = weighted_roc_auc(y, s, np.ones(y.size)) if 0 < y.sum() < y.size else None
        pr = weighted_pr_auc(y, s, np.ones(y.size)) if 0 < y.sum() < y.size else None
        out.rows[row] = {
            "roc": roc,
            "roc_ci": bootstrap_ci(y, s, accounts, weighted_roc_auc, n_boot=boot),
            "pr": pr,
            "pr_ci": bootstrap_ci(y, s, accounts, weighted_pr_auc, n_boot=boot),
            "precision": precision,
            "recall": recall,
            "lead": median_lead_days(
                accounts, days, s, churn_next, replay.thresholds[row], HORIZON
            ),
            "ece": None if row in ("rules", "health") else expected_calibration_error(y, s),
            "alerts_per_date": float(flagged.sum()) / max(1, len(set(days.tolist()))),
        }
    n_dates = len(set(days.tolist()))
    entries = replay_digests(replay)
    first, last = int(days.min()), int(days.max())
    churns = {}
    for account, events in book.churns.items():
        for churn, arr in events:
            if first + 30 <= churn <= last + 30:
                churns[account] = (churn, arr)
    out.facts = {
        "accounts": len(set(accounts.tolist())),
        "churned": len({a for a, yy in zip(accounts, y, strict=True) if yy}),
        "base_rate": float(y.mean()),
        "churners_per_date": float(y.sum()) / max(1, n_dates),
        "dates": n_dates,
        "arr_caught": churned_arr_caught(entries, churns),
        "attention_precision": attention_precision(entries, book.outcomes),
        "entries_per_date": len(entries) / max(1, n_dates),
    }
    if reference is not None:
        out.facts["simulator_auc"] = simulator_auc(reference["risk"], accounts, days, y)
    return out


def simulator_auc(
    risk: list[tuple[str, int, float]], accounts: np.ndarray, days: np.ndarray, y: np.ndarray
) -> float | None:
    """ROC AUC of the simulator's own latest month-end churn probability on the backtest rows."""
    by_account: dict[str, list[tuple[int, float]]] = defaultdict(list)
    for account, day, p in risk:
        by_account[account].append((day, p))
    scores = np.full(y.size, np.nan)
    for i, (account, day) in enumerate(zip(accounts.tolist(), days.tolist(), strict=True)):
        known = [p for d, p in sorted(by_account.get(account, ())) if d <= day]
        scores[i] = known[-1] if known else np.nan
    ok = ~np.isnan(scores)
    if not (0 < y[ok].sum() < ok.sum()):
        return None
    return weighted_roc_auc(y[ok], scores[ok], np.ones(int(ok.sum())))


# ---------------------------------------------------------------- printing


def _f(value: float | None, digits: int = 3) -> str:
    return (
        "n/a"
        if value is None or (isinstance(value, float) and math.isnan(value))
        else f"{value:.{digits}f}"
    )


def _ci(value: float | None, ci: tuple[float, float] | None) -> str:
    if value is None:
        return "n/a"
    return f"{value:.3f} [{ci[0]:.2f}-{ci[1]:.2f}]" if ci else f"{value:.3f} [n/a]"


def print_table(results: list[SourceResult]) -> None:
    head = f"{'source':<22} {'split':<9} {'scorer':<10} {'ROC AUC [95% CI]':<22} {'PR AUC [95% CI]':<22} {'prec':>5} {'recall':>6} {'lead':>5} {'ECE':>6} {'alerts/d':>8}"
    print(head)
    print("-" * len(head))
    for result in results:
        name = result.source.label
        if result.error:
            print(f"{name:<22} {result.source.split:<9} n/a: {result.error}")
            continue
        for row in SCORERS:
            m = result.rows.get(row)
            if m is None:
                continue
            lead = "n/a" if m["lead"] is None else f"{m['lead']:.0f}"
            print(
                f"{name:<22} {result.source.split:<9} {row:<10} {_ci(m['roc'], m['roc_ci']):<22} "
                f"{_ci(m['pr'], m['pr_ci']):<22} {_f(m['precision'], 2):>5} {_f(m['recall'], 2):>6} "
                f"{lead:>5} {_f(m['ece']):>6} {m['alerts_per_date']:>8.1f}"
            )
            name = ""
    print()
    head = f"{'source':<22} {'accounts':>8} {'churned':>7} {'base':>6} {'churn/d':>7} {'ARR caught':>10} {'attn prec':>9} {'digest/d':>8} {'sim AUC':>7}"
    print(head)
    print("-" * len(head))
    for result in results:
        if result.error:
            continue
        f = result.facts
        print(
            f"{result.source.label:<22} {f['accounts']:>8} {f['churned']:>7} {f['base_rate']:>6.3f} "
            f"{f['churners_per_date']:>7.1f} {_f(f['arr_caught'], 2):>10} {_f(f['attention_precision'], 2):>9} "
            f"{f['entries_per_date']:>8.1f} {_f(f.get('simulator_auc')):>7}"
        )
    notes = sorted({f"{r.source.label}: {n}" for r in results for n in r.notes})
    if notes:
        print("\nNotes:")
        for note in notes:
            print(f"  {note}")


# ---------------------------------------------------------------- Telco, cross-validated


def telco_cv(path: Path, folds: int = 5) -> list[tuple[str, float, float]]:
    """5-fold stratified cross-validated ROC AUC (mean, spread) on a feature table such as
    IBM's Telco churn file: csbot's own `--features` candidates (uncalibrated pipelines of
    `scoring.churn.features_table.candidates`) and a plain logistic regression on the same
    preprocessing without class weights. `csbot train --features` reports one 75/25 split.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from sklearn.pipeline import Pipeline

    from scoring.churn.features_table import candidates, preprocessor, read_feature_table

    table = read_feature_table(path, "Churn", id_column="customerID")
    models = dict(candidates(table))
    models["plain logistic regression"] = Pipeline(
        [("prepare", preprocessor(table)), ("model", LogisticRegression(max_iter=2000))]
    )
    split = StratifiedKFold(n_splits=folds, shuffle=True, random_state=0)
    out = []
    for name, model in models.items():
        scores = cross_val_score(model, table.X, table.y, cv=split, scoring="roc_auc")
        out.append((name, float(scores.mean()), float(scores.std())))
    return out


# ---------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few sources, smaller books")
    parser.add_argument("--only", nargs="*", help="source names (or NAME@SEED) to run")
    parser.add_argument("--boot", type=int, help="bootstrap resamples (default 200, quick 100)")
    parser.add_argument("--keep", type=Path, help="keep the generated books and databases here")
    parser.add_argument(
        "--telco", type=Path, help="a Telco-style churn CSV (label Churn, id customerID): 5-fold CV"
    )
    args = parser.parse_args(argv)
    if args.telco is not None and not args.telco.is_file():
        print(f"bench_judgement: --telco {args.telco}: no such file", file=sys.stderr)
        return 2
    sizes = QUICK if args.quick else FULL
    boot = args.boot or sizes.boot
    chosen = sources(args.quick, args.only)
    if not chosen:
        print("bench_judgement: no source to run (check --only)", file=sys.stderr)
        return 2
    dev = sorted(s.label for s in chosen if s.split == "dev")
    untouched = sorted(s.label for s in chosen if s.split == "untouched")
    print(f"development subset (recipes may be tuned here): {', '.join(dev) or 'none'}")
    print(f"untouched subset (report only): {', '.join(untouched) or 'none'}")
    if not scenario_names():
        print(
            "note: this csbot has no demo scenarios (storage.demo.SCENARIOS); only demo and churnsim run"
        )
    started = time.perf_counter()
    work = Path(args.keep or tempfile.mkdtemp(prefix="bench-judgement-"))
    work.mkdir(parents=True, exist_ok=True)
    results: list[SourceResult] = []
    pool = ProcessPoolExecutor(max_workers=1)
    pending: dict[Source, Future[dict[str, Any]]] = {}
    try:
        import fightchurn.churnsim.churnsim  # noqa: F401
        import omegaconf  # noqa: F401

        import bench.books.churnsim  # noqa: F401

        have_sim = True
    except ImportError as error:
        have_sim = False
        sim_missing = f"ChurnSim not installed ({error.name}): pip install --no-deps fightchurn"
    for source in chosen:
        if source.name == "churnsim" and have_sim:
            pending[source] = pool.submit(
                build_churnsim,
                str(work / source.label),
                source.seed,
                sizes.churnsim_customers,
                sizes.churnsim_months,
            )
    try:
        for source in [s for s in chosen if s.name != "churnsim"] + [
            s for s in chosen if s.name == "churnsim"
        ]:
            t0 = time.perf_counter()
            data_dir = work / source.label
            reference = None
            try:
                if source.name == "churnsim":
                    if not have_sim:
                        results.append(SourceResult(source, error=sim_missing))
                        continue
                    reference = pending[source].result()
                else:
                    build_demo(data_dir, source, sizes)
                engine = import_book(data_dir, work / f"{source.label}.db")
                result = judge_source(source, engine, boot, reference)
                engine.dispose()
            except Exception as error:  # one broken source must not sink the table
                result = SourceResult(source, error=f"{type(error).__name__}: {error}"[:160])
            results.append(result)
            print(
                f"  {source.label}: {time.perf_counter() - t0:.0f} s", file=sys.stderr, flush=True
            )
    finally:
        pool.shutdown(cancel_futures=True)
    print()
    print_table(results)
    if args.telco is not None:
        print(f"\n{args.telco.name}, 5-fold stratified cross-validation, ROC AUC mean ± sd:")
        for name, mean, spread in telco_cv(args.telco):
            print(f"  {name:<28} {mean:.3f} ± {spread:.3f}")
    print(f"\n{len(results)} sources in {time.perf_counter() - started:.0f} s (books in {work})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
