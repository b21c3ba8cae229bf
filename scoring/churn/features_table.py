"""Bring your own features: train and evaluate on any tabular churn file (CSV).

For teams whose features already live in a warehouse. Numeric columns (every non-blank
value parses as a number) are median-imputed with missing indicators and scaled; the rest
are one-hot encoded (unknown categories ignored). The label column accepts Yes/No, 1/0 and
true/false. With no time column, the held-out split is a stratified random 25%; both
candidates are calibrated (sigmoid, 3-fold) and reported with the same metrics as
`csbot train`, and the better one on PR AUC is named.
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
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler
from threadpoolctl import threadpool_limits

from scoring.churn.metrics import evaluate

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
    return FeatureTable(path, [header[j] for j in feature_at], numeric, X, y, ids)


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
    n_train: int
    n_test: int
    positive_share: float
    numeric: list[str]
    categorical: list[str]
    metrics: dict[str, dict[str, float | None]]
    chosen: str


def train_feature_table(
    table: FeatureTable, *, threshold: float = 0.5, test_size: float = 0.25, random_state: int = 0
) -> FeatureTableReport:
    """Fit each calibrated candidate on 75% of the rows; metrics on the held-out 25%."""
    idx = np.arange(table.y.size)
    train_idx, test_idx = train_test_split(
        idx, test_size=test_size, stratify=table.y, random_state=random_state
    )
    metrics: dict[str, dict[str, float | None]] = {}
    for name, pipeline in candidates(table, random_state).items():
        model = CalibratedClassifierCV(pipeline, method="sigmoid", cv=3, ensemble=False)
        with threadpool_limits(limits=1, user_api="openmp"):  # see pipelines.fit_calibrated
            model.fit(table.X[train_idx], table.y[train_idx])
            risk = model.predict_proba(table.X[test_idx])[:, 1]
        metrics[name] = evaluate(table.y[test_idx], risk, threshold=threshold, horizon_days=0)
    chosen = max(metrics, key=lambda name: metrics[name]["pr_auc"] or 0.0)
    return FeatureTableReport(
        path=table.path,
        n_rows=int(table.y.size),
        n_train=int(train_idx.size),
        n_test=int(test_idx.size),
        positive_share=float(table.y.mean()),
        numeric=[c for c, n in zip(table.columns, table.numeric, strict=True) if n],
        categorical=[c for c, n in zip(table.columns, table.numeric, strict=True) if not n],
        metrics=metrics,
        chosen=chosen,
    )
