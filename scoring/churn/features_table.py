"""Bring your own features: train and evaluate on any tabular churn file (CSV).

For teams whose features already live in a warehouse. Numeric columns (every non-blank
value parses as a number) are median-imputed with missing indicators and scaled; the rest
are one-hot encoded (unknown categories ignored). The label column accepts Yes/No, 1/0 and
true/false. A column whose values are all different (an id, a row number, a name) is
never a feature: it is dropped with a warning. With no time column, each candidate is
judged by stratified 5-fold cross-validation: calibrated (sigmoid, 3-fold) on four folds,
scored on the fifth, and reported as the mean and spread (standard deviation) over the
folds of the same metrics as `csbot train`; the better one on mean PR AUC is named. A
table too small for that (fewer than `MIN_PER_CLASS` rows of either class) is refused in
one line.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler
from threadpoolctl import threadpool_limits

from scoring.churn.metrics import evaluate

FOLDS = 5
MIN_PER_CLASS = 10  # each of 5 training folds then holds ≥ 8, enough for a 3-fold calibration
TRUE_LABELS = {"yes", "1", "true", "y", "1.0"}
FALSE_LABELS = {"no", "0", "false", "n", "0.0"}


class FeatureTableError(ValueError):
    """A problem with the file; the message names the file, line and column."""


@dataclass
class FeatureTable:
    path: Path
    columns: list[str]  # feature columns, in file order
    numeric: list[bool]
    X: np.ndarray  # object array: floats (NaN for blank) in numeric columns, str or None otherwise
    y: np.ndarray
    ids: list[str] | None
    #: Columns dropped because every row has its own value (an id): never features.
    dropped: list[str] | None = None


def _parse_float(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def read_feature_table(path: Path, label: str, id_column: str | None = None) -> FeatureTable:
    """Read `path`; fail naming the file, line and column on a missing column or bad label."""
    try:
        handle = path.open(newline="", encoding="utf-8-sig")
    except OSError as error:
        raise FeatureTableError(f"{path}: cannot read ({error.strerror})") from None
    with handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if not header:
            raise FeatureTableError(f"{path}: empty file (no header line)")
        header = [name.strip() for name in header]
        for wanted, option in ((label, "--label"), (id_column, "--id")):
            if wanted is not None and wanted not in header:
                raise FeatureTableError(
                    f"{path}: no column {wanted!r} (given by {option}); columns are: {', '.join(header)}"
                )
        rows = []
        for line_no, row in enumerate(reader, start=2):
            if not row or all(not cell.strip() for cell in row):
                continue
            if len(row) != len(header):
                raise FeatureTableError(
                    f"{path} line {line_no}: {len(row)} values for {len(header)} columns"
                )
            rows.append((line_no, [cell.strip() for cell in row]))
    if not rows:
        raise FeatureTableError(f"{path}: no data rows")
    label_at = header.index(label)
    id_at = header.index(id_column) if id_column else None
    y = np.empty(len(rows), dtype=np.int64)
    for i, (line_no, row) in enumerate(rows):
        value = row[label_at].lower()
        if value in TRUE_LABELS:
            y[i] = 1
        elif value in FALSE_LABELS:
            y[i] = 0
        else:
            raise FeatureTableError(
                f"{path} line {line_no}: column {label!r} has {row[label_at]!r}; "
                "expected Yes/No, 1/0 or true/false"
            )
    feature_at = [j for j in range(len(header)) if j not in (label_at, id_at)]
    dropped = [header[j] for j in feature_at if _unique_per_row([row[j] for _, row in rows])]
    feature_at = [j for j in feature_at if header[j] not in dropped]
    if not feature_at:
        raise FeatureTableError(f"{path}: no feature columns besides the label and id")
    X = np.empty((len(rows), len(feature_at)), dtype=object)
    numeric = []
    for k, j in enumerate(feature_at):
        cells = [row[j] for _, row in rows]
        parsed = [_parse_float(cell) if cell else None for cell in cells]
        is_numeric = all(p is not None for p, c in zip(parsed, cells, strict=True) if c)
        numeric.append(is_numeric)
        if is_numeric:
            X[:, k] = [np.nan if p is None else p for p in parsed]
        else:
            X[:, k] = [cell if cell else None for cell in cells]
    if len(np.unique(y)) < 2:
        raise FeatureTableError(
            f"{path}: column {label!r} has only one class; need churned and not"
        )
    ids = [row[id_at] for _, row in rows] if id_at is not None else None
    positives, negatives = int(y.sum()), int(y.size - y.sum())
    if min(positives, negatives) < MIN_PER_CLASS:
        raise FeatureTableError(
            f"{path}: too small to cross-validate: {y.size} rows, {positives} churned and "
            f"{negatives} not; need at least {MIN_PER_CLASS} of each"
        )
    return FeatureTable(path, [header[j] for j in feature_at], numeric, X, y, ids, dropped)


def _unique_per_row(cells: list[str]) -> bool:
    """Every row has a value and no two are alike, and the values are not measurements
    (text, or whole numbers): an id. Continuous numbers that happen to differ are kept."""
    if len(cells) < 3 or any(not cell for cell in cells) or len(set(cells)) < len(cells):
        return False
    parsed = [_parse_float(cell) for cell in cells]
    if any(p is None for p in parsed):
        return True
    return all(float(p).is_integer() for p in parsed if p is not None)


def _to_float(values: np.ndarray) -> np.ndarray:
    return np.asarray(values, dtype=np.float64)


def _missing_as_category(values: np.ndarray) -> np.ndarray:
    out = np.asarray(values, dtype=object).copy()
    missing = np.array([v is None for v in out.ravel().tolist()], dtype=bool).reshape(out.shape)
    out[missing] = "(missing)"
    return out.astype(str)


def preprocessor(table: FeatureTable) -> ColumnTransformer:
    num = [j for j, is_num in enumerate(table.numeric) if is_num]
    cat = [j for j, is_num in enumerate(table.numeric) if not is_num]
    numeric = Pipeline(
        [
            ("float", FunctionTransformer(_to_float)),
            ("impute", SimpleImputer(strategy="median", add_indicator=True)),
            ("scale", StandardScaler()),
        ]
    )
    categorical = Pipeline(
        [
            ("missing", FunctionTransformer(_missing_as_category)),
            ("onehot", OneHotEncoder(handle_unknown="ignore", sparse_output=False)),
        ]
    )
    return ColumnTransformer([("num", numeric, num), ("cat", categorical, cat)])


def candidates(table: FeatureTable, random_state: int = 0) -> dict[str, Pipeline]:
    return {
        "logistic_regression": Pipeline(
            [
                ("prepare", preprocessor(table)),
                ("model", LogisticRegression(C=1.0, class_weight="balanced", max_iter=2000)),
            ]
        ),
        "hist_gradient_boosting": Pipeline(
            [
                ("prepare", preprocessor(table)),
                (
                    "model",
                    HistGradientBoostingClassifier(
                        learning_rate=0.05,
                        max_iter=200,
                        max_leaf_nodes=15,
                        min_samples_leaf=20,
                        l2_regularization=1.0,
                        class_weight="balanced",
                        early_stopping=False,
                        random_state=random_state,
                    ),
                ),
            ]
        ),
    }


@dataclass
class FeatureTableReport:
    path: Path
    n_rows: int
    n_train: int  # rows each fold trains on (about 4/5)
    n_test: int  # rows each fold holds out (about 1/5)
    positive_share: float
    numeric: list[str]
    categorical: list[str]
    metrics: dict[str, dict[str, float | None]]  # mean over the folds
    chosen: str
    spread: dict[str, dict[str, float | None]] | None = None  # standard deviation over folds
    folds: int = FOLDS
    dropped: list[str] | None = None


def train_feature_table(
    table: FeatureTable, *, threshold: float = 0.5, folds: int = FOLDS, random_state: int = 0
) -> FeatureTableReport:
    """Stratified `folds`-fold cross-validation of each calibrated candidate: mean and
    standard deviation of every metric over the folds."""
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=random_state)
    splits = list(splitter.split(np.zeros((table.y.size, 1)), table.y))
    metrics: dict[str, dict[str, float | None]] = {}
    spread: dict[str, dict[str, float | None]] = {}
    for name, pipeline in candidates(table, random_state).items():
        per_fold = []
        for train_idx, test_idx in splits:
            model = CalibratedClassifierCV(pipeline, method="sigmoid", cv=3, ensemble=False)
            with threadpool_limits(limits=1, user_api="openmp"):  # see pipelines.fit_calibrated
                model.fit(table.X[train_idx], table.y[train_idx])
                risk = model.predict_proba(table.X[test_idx])[:, 1]
            per_fold.append(evaluate(table.y[test_idx], risk, threshold=threshold, horizon_days=0))
        metrics[name], spread[name] = {}, {}
        for key in per_fold[0]:
            values = [float(v) for m in per_fold if (v := m[key]) is not None]
            metrics[name][key] = float(np.mean(values)) if values else None
            spread[name][key] = float(np.std(values)) if values else None
    chosen = max(metrics, key=lambda name: metrics[name]["pr_auc"] or 0.0)
    return FeatureTableReport(
        path=table.path,
        n_rows=int(table.y.size),
        n_train=int(np.mean([len(a) for a, _ in splits])),
        n_test=int(np.mean([len(b) for _, b in splits])),
        positive_share=float(table.y.mean()),
        numeric=[c for c, n in zip(table.columns, table.numeric, strict=True) if n],
        categorical=[c for c, n in zip(table.columns, table.numeric, strict=True) if not n],
        metrics=metrics,
        chosen=chosen,
        spread=spread,
        folds=folds,
        dropped=table.dropped,
    )
