"""Churn prediction: a trained, calibrated, back-tested model beside the rule-based score.

Modules, one job each:
- `config`: the knobs of training (horizon, snapshot cadence, split shares, feedback weights).
- `snapshots`: the weekly snapshot grid and the stacked signal vectors of live accounts.
- `labels`: churn events from the lifecycle table and the label of each snapshot; how
  feedback people give in Slack changes the next training (see `labels.apply_feedback`).
- `pipelines`: the scikit-learn candidates (regularised logistic regression, histogram
  gradient boosting) and their calibration on held-out accounts.
- `train`: the time-based split, candidate comparison and the final model.
- `registry`: stored model versions and the champion/challenger promotion rule.
- `reasons`: per-account reasons (probability change when a signal is set to its baseline).
- `apply`: `churn_predictions(session, frame)`, what `scoring.service` calls nightly.
- `feedback`: `record_feedback(...)`, what Slack handlers call.
- `metrics`: pure evaluation metrics (ROC/PR AUC, decile and threshold precision/recall,
  Brier, lead time).
- `backtest`: replays history comparing rules, the model and a usage-only model.
- `features_table`: "bring your own features" training from a CSV file.
- `plots`: the backtest's calibration and score-distribution PNGs.
- `synthetic`: snapshot histories with a known churn process (tests, `bench/bench_train.py`).
- `artefact`: the pickled model (pipeline, feature order, baselines) stored per version.

Feedback (`feedback.record_feedback`) is used by the next training: `churned` adds a churn
label, `saved` drops the snapshots of the 90 days before the save (their outcome was caused
by the intervention), `not_a_risk` weighs nearby non-churn snapshots 3× (`labels`).
"""
