"""The knobs of churn training, in one place, with the defaults the issue asks for."""

from __future__ import annotations

from dataclasses import dataclass, field

#: The signals the usage-only baseline model sees (logins and feature breadth alone).
USAGE_ONLY_FEATURES = ("logins_30d", "logins_baseline_30d", "login_change", "feature_breadth_30d")


@dataclass(frozen=True)
class TrainingConfig:
    """How the training set is built and split.

    - `horizon_days`: a snapshot is labelled 1 when the account churned within this many days
      after it; only snapshots whose outcome window closed by the cut-off are used.
    - `snapshot_every_days`: cadence of the snapshot grid (weekly by default). The grid is
      anchored on a fixed Monday so the same dates come back for every cut-off (and the
      backtest can reuse signal frames).
    - `warmup_days`: no snapshot before this many days of data exist (baselines need 90 days).
    - `validation_share` / `min_validation_days`: the latest labelled snapshot dates form the
      validation window; training uses only snapshots whose outcome window closed before the
      validation window starts (a purge gap of one horizon), so validation is truly later.
    - `stack_folds` / `calibration_share`: how the calibration (and stacking) step gets
      predictions the model did not fit: out of fold over account folds (the default), or
      on one held-out share of accounts.
    - feedback: see `labels.apply_feedback`.
    """

    horizon_days: int = 90
    snapshot_every_days: int = 7
    warmup_days: int = 90
    validation_share: float = 0.25
    min_validation_days: int = 56
    calibration_share: float = 0.2
    min_positive_rows: int = 5
    #: Fallback alert threshold, used when no line reaches `alert_precision` on held-out
    #: predictions (`thresholds.threshold_for_precision`).
    alert_threshold: float = 0.5
    #: The share of alerts that should really churn; the alert threshold is chosen for it.
    alert_precision: float | None = 0.5
    #: The same for the critical health line (the at-risk line uses `alert_precision`).
    critical_precision: float | None = 0.7
    #: Churned accounts the labelled history must hold before health weights are learned.
    learned_health_min_churned: int = 20
    #: Folds of the account-grouped cross-validation used when history is too short for a
    #: time-based validation.
    cv_folds: int = 5
    selection_metric: str = "pr_auc"
    not_a_risk_weight: float = 3.0
    feedback_window_days: int = 30
    random_state: int = 0
    openmp_threads: int | None = 1
    #: Add each trajectory signal's change over 28 and 84 days (snapshots.with_trajectory).
    trajectory: bool = True
    algorithms: tuple[str, ...] = ("logistic_regression", "hist_gradient_boosting")
    #: Stack on the rule-based health (snapshots.RULE_HEALTH): calibrate with
    #: pipelines.AnchoredCalibration when the feature set holds `anchor_feature`.
    anchor_feature: str | None = "rule_health"
    stack_anchor: bool = True
    #: 2 or more: cross-fit the calibration/stacking step on this many account folds
    #: (pipelines.CrossFittedStack); 0: one calibration hold-out of `calibration_share`
    #: (pipelines.AnchoredCalibration). Two folds cost about what one hold-out does.
    stack_folds: int = 2
    features: tuple[str, ...] | None = None
    exclude_features: tuple[str, ...] = field(default_factory=tuple)
