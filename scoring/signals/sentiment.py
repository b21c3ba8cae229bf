"""Tone of ticket and survey text with VADER (a lexicon model), cached by text hash.

The churn model scores ~80 weekly as-of dates in a row and most texts recur between
them, so each distinct text is scored once per process.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

import numpy as np
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

_ANALYZER: SentimentIntensityAnalyzer | None = None
_CACHE: dict[bytes, float] = {}
_CACHE_LIMIT = 500_000


def compound(text: str) -> float:
    """VADER's compound score of `text`, from −1 (negative) to 1 (positive)."""
    global _ANALYZER
    key = hashlib.blake2b(text.encode("utf-8"), digest_size=16).digest()
    cached = _CACHE.get(key)
    if cached is not None:
        return cached
    if _ANALYZER is None:
        _ANALYZER = SentimentIntensityAnalyzer()
    score = float(_ANALYZER.polarity_scores(text)["compound"])
    if len(_CACHE) >= _CACHE_LIMIT:
        _CACHE.clear()
    _CACHE[key] = score
    return score


def compounds(texts: Iterable[str]) -> np.ndarray:
    return np.fromiter((compound(text) for text in texts), dtype=float)
