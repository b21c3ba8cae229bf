"""Backtest figures as PNG files: a calibration plot and the score distributions."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, never a display

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.calibration import calibration_curve  # noqa: E402

from scoring.churn.backtest import ROWS, BacktestResult  # noqa: E402


def write_plots(result: BacktestResult, directory: Path, *, threshold: float) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    paths = [directory / "calibration.png", directory / "score_distribution.png"]

    fig, ax = plt.subplots(figsize=(6, 6))
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey", label="perfectly calibrated")
    for row in ROWS:
        observed, predicted = calibration_curve(
            result.y, result.scores[row], n_bins=10, strategy="quantile"
        )
        ax.plot(predicted, observed, marker="o", label=row)
    ax.set_xlabel("predicted churn risk")
    ax.set_ylabel(f"observed churn share within the horizon ({result.start} – {result.end})")
    ax.set_title("Calibration (quantile bins)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(paths[0], dpi=110)
    plt.close(fig)

    fig, axes = plt.subplots(1, len(ROWS), figsize=(5 * len(ROWS), 4), sharey=False)
    bins = np.linspace(0, 1, 41)
    for ax, row in zip(axes, ROWS, strict=True):
        scores = result.scores[row]
        ax.hist(scores[result.y == 0], bins=bins, alpha=0.6, density=True, label="stayed")
        ax.hist(scores[result.y == 1], bins=bins, alpha=0.6, density=True, label="churned")
        ax.axvline(threshold, color="black", linestyle=":", label="alert threshold")
        ax.set_title(row)
        ax.set_xlabel("risk")
    axes[0].set_ylabel("density")
    axes[0].legend()
    fig.tight_layout()
    fig.savefig(paths[1], dpi=110)
    plt.close(fig)
    return paths
