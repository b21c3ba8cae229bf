"""The learned health score: recovers known weights, stays additive and monotone, and is
chosen only with enough churned accounts."""

from __future__ import annotations

import numpy as np
import pytest

from scoring.config import default_config
from scoring.health_model import bands_with, choose_health
from scoring.learned_health import fit_learned_health, lines_to_bands

CFG = default_config()
NAMES = ["login_change", "license_utilisation", "nps_last", "sentiment"]
TRUE = np.array([0.5, 0.3, 0.2, 0.0])


def _book(n: int, seed: int, strength: float = 8.0) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Signals uniform between their YAML edges; churn from a logistic on the YAML's
    linear goodness with weights TRUE (sentiment carries nothing)."""
    rng = np.random.default_rng(seed)
    columns, goods = {}, []
    for name in NAMES:
        norm = CFG.signals[name]
        low, high = sorted((norm.bad, norm.good))
        x = rng.uniform(low, high, n)
        columns[name] = x
        goods.append((x - norm.bad) / (norm.good - norm.bad))
    logit = -2.5 + strength * ((0.5 - np.column_stack(goods)) @ TRUE)
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(np.int64)
    return columns, y


@pytest.mark.parametrize("shapes", [False, True])
def test_learned_weights_recover_known_weights(shapes: bool) -> None:
    columns, y = _book(20_000, seed=0)
    model = fit_learned_health(columns, y, CFG, shapes=shapes)
    learned = dict(zip(model.signals, model.weights, strict=True))
    for name, want in zip(NAMES, TRUE, strict=True):
        assert learned[name] == pytest.approx(want, abs=0.03 if not shapes else 0.07), name
    assert model.weights.sum() == pytest.approx(1.0)
    others = [name for name in model.signals if name not in NAMES]
    assert all(learned[name] == 0 for name in others)  # signals with no data get no weight


def test_learned_health_is_additive_monotone_and_neutral_on_missing() -> None:
    columns, y = _book(5_000, seed=1)
    model = fit_learned_health(columns, y, CFG)
    result = model.scores(columns, y.size)
    assert np.allclose(result.impacts.sum(axis=1), result.health - 50)
    assert (result.health >= 0).all() and (result.health <= 100).all()
    # more logins (login_change up) never lowers health, all else equal
    grid = np.linspace(-0.6, 0.0, 13)
    probe = {name: np.full(grid.size, np.median(columns[name])) for name in NAMES}
    probe["login_change"] = grid
    assert (np.diff(model.scores(probe, grid.size).health) >= -1e-9).all()
    # an account with no data at all sits at the neutral point
    empty = {name: np.full(1, np.nan) for name in NAMES}
    assert model.scores(empty, 1).health[0] == 50.0
    # learned health ranks churn better than chance on its own rows
    assert np.corrcoef(result.health, y)[0, 1] < -0.2


def test_learned_only_with_enough_churned_accounts_and_lines_chosen() -> None:
    columns, y = _book(4_000, seed=2)
    groups = np.array([f"acc-{i // 8}" for i in range(y.size)], dtype=object)
    churned = len(set(groups[y == 1].tolist()))
    learned = choose_health(
        columns,
        y,
        groups,
        CFG,
        min_churned=20,
        at_risk_precision=0.3,
        critical_precision=0.5,
    )
    assert learned.kind == "learned" and learned.n_churned == churned
    assert learned.metrics["roc_auc_learned"] > 0.7
    assert learned.at_risk_line is not None and learned.critical_line is not None
    assert learned.critical_line <= learned.at_risk_line
    bands = bands_with(learned, CFG)
    assert bands.healthy > bands.neutral > bands.at_risk
    rules = choose_health(
        columns,
        y,
        groups,
        CFG,
        min_churned=churned + 1,
        at_risk_precision=0.3,
        critical_precision=0.5,
    )
    assert rules.kind == "rules" and rules.learned is None
    assert f"{churned + 1} needed" in rules.note


def test_lines_fall_back_to_the_configured_bands() -> None:
    assert lines_to_bands(CFG.bands, None, None) == CFG.bands
    bands = lines_to_bands(CFG.bands, 85.0, 30.0)
    assert bands.neutral == 85.0 and bands.at_risk == 30.0 and bands.healthy > 85.0


def test_learned_health_honours_segment_overrides() -> None:
    """A segment that zeroes a signal's weight drops it from learned health too; a
    segment without overrides scores as the base weights do; impacts still add up."""
    from scoring.config import ScoringConfig

    data = CFG.model_dump()
    data["segments"] = {
        "smb": {"signals": {"login_change": {"weight": 0}}},
        "enterprise": {"signals": {"license_utilisation": {"weight": 6}}},
    }
    cfg = ScoringConfig(**data)
    columns, y = _book(5_000, seed=3)
    model = fit_learned_health(columns, y, cfg)
    n = y.size
    plain = model.scores(columns, n)
    smb = model.scores(columns, n, ["smb"] * n, cfg)
    ent = model.scores(columns, n, ["enterprise"] * n, cfg)
    other = model.scores(columns, n, ["mid_market"] * n, cfg)
    names = model.signals
    login, licence = names.index("login_change"), names.index("license_utilisation")
    assert np.allclose(other.health, plain.health)  # no override: the learned weights
    assert np.allclose(smb.impacts[:, login], 0.0)  # weight 0 in the segment: dropped
    assert not np.allclose(plain.impacts[:, login], 0.0)
    assert not np.allclose(smb.health, plain.health)
    # licence utilisation's share grows with the segment's weight (4x the base's 1.5)
    share = np.abs(ent.impacts[:, licence]).mean() / np.abs(plain.impacts[:, licence]).mean()
    assert share > 1.5
    for result in (smb, ent, other):
        assert np.allclose(result.impacts.sum(axis=1), result.health - 50)
    mixed = model.scores(columns, n, (["smb", "enterprise", None] * n)[:n], cfg)
    assert mixed.health[0] == pytest.approx(smb.health[0])
    assert mixed.health[1] == pytest.approx(ent.health[1])
    assert mixed.health[2] == pytest.approx(plain.health[2])


def test_without_a_line_for_the_precision_the_fallback_flags_no_more_than_churn() -> None:
    """A book whose churn nothing predicts (ChurnSim-like): no health line reaches the
    precision, and the 60 fallback would flag most accounts; the line is lowered so the
    at-risk band holds no more accounts than churn."""
    from scoring.churn.thresholds import capped_line, health_line_for_rate

    rng = np.random.default_rng(5)
    health = rng.uniform(30, 90, 2_000)
    y = (rng.random(2_000) < 0.06).astype(np.int64)  # random churn, 6%
    line = health_line_for_rate(y, health)
    assert (health < line).sum() <= y.sum() < (health <= line).sum() + 1
    assert capped_line(None, 60.0, y, health) == line < 60.0
    assert capped_line(55.0, 60.0, y, health) == 55.0  # a line for the precision stays
    assert capped_line(None, 10.0, y, health) is None  # the fallback already flags fewer
    assert health_line_for_rate(np.zeros(10), health[:10]) == 0.0
    groups = np.array([f"acc-{i // 4}" for i in range(y.size)], dtype=object)
    columns = {"login_change": (health - 90) / 100, "nps_last": rng.uniform(0, 10, y.size)}
    for choice in (
        choose_health(columns, y, groups, CFG, min_churned=10_000, at_risk_precision=0.9,
                      critical_precision=0.95),
        choose_health(columns, y, groups, CFG, min_churned=20, at_risk_precision=0.9,
                      critical_precision=0.95),
    ):  # fmt: skip
        bands = bands_with(choice, CFG)
        assert bands.neutral < 60.0
        assert bands.at_risk < bands.neutral
