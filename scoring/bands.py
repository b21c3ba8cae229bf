"""Bands of a health score and the direction of its trend (pure functions)."""

from __future__ import annotations

from scoring.config import Bands, Trend
from storage.enums import Band


def health_band(health: float, bands: Bands) -> Band:
    """healthy ≥ bands.healthy; neutral ≥ bands.neutral; at_risk ≥ bands.at_risk; else critical."""
    if health >= bands.healthy:
        return Band.HEALTHY
    if health >= bands.neutral:
        return Band.NEUTRAL
    if health >= bands.at_risk:
        return Band.AT_RISK
    return Band.CRITICAL


def direction(delta_7d: float | None, delta_30d: float | None, trend: Trend) -> str:
    """falling when either window fell past its edge, rising when either rose past it
    (and none fell), steady otherwise or without history."""
    falling = (delta_30d is not None and delta_30d <= trend.falling_30d) or (
        delta_7d is not None and delta_7d <= trend.falling_7d
    )
    if falling:
        return "falling"
    rising = (delta_30d is not None and delta_30d >= trend.rising_30d) or (
        delta_7d is not None and delta_7d >= trend.rising_7d
    )
    return "rising" if rising else "steady"
