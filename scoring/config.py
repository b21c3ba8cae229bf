"""Scoring configuration: shipped defaults (scoring/defaults.yml), optionally overridden
by a team's YAML file (CSBOT_SCORING_CONFIG), validated with errors that name the file
and the key at fault.

An override file only lists what it changes; mappings merge key by key with the defaults.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

DEFAULTS_PATH = Path(__file__).with_name("defaults.yml")
HEALTH_DIMENSIONS = ("engagement", "relationship", "support", "contract")


class ConfigError(Exception):
    """A bad scoring configuration, in one line naming the file and key."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ArrTier(_Strict):
    arr_from: float = Field(ge=0)
    target: int = Field(ge=1)


class SignalParams(_Strict):
    """What the SQL needs to know about the product and the team's conventions."""

    login_events: list[str]
    core_features: list[str]
    advanced_features: list[str]
    urgent_priorities: list[str]
    seat_saturation_ratio: float = Field(gt=0, le=1.5)
    silence_cap_days: int = Field(gt=0)
    multithreading_targets: list[ArrTier] = Field(min_length=1)


class Normalise(_Strict):
    """Linear map of a signal to 0..1 goodness: `bad` → 0, `good` → 1, clipped.

    `bad` may be above `good` (for signals where more is worse, such as silent days).
    `missing` is the goodness used when the signal has no data (default: neutral 0.5).
    """

    weight: float = Field(ge=0)
    bad: float
    good: float
    missing: float | None = Field(default=None, ge=0, le=1)

    @model_validator(mode="after")
    def _distinct_edges(self) -> Normalise:
        if self.bad == self.good:
            raise ValueError("bad and good must differ")
        return self


class SignalOverride(_Strict):
    weight: float | None = Field(default=None, ge=0)
    bad: float | None = None
    good: float | None = None
    missing: float | None = Field(default=None, ge=0, le=1)


class SegmentOverride(_Strict):
    dimensions: dict[str, float] = Field(default_factory=dict)
    signals: dict[str, SignalOverride] = Field(default_factory=dict)


class Bands(_Strict):
    healthy: float
    neutral: float
    at_risk: float

    @model_validator(mode="after")
    def _ordered(self) -> Bands:
        if not self.healthy > self.neutral > self.at_risk:
            raise ValueError("thresholds must satisfy healthy > neutral > at_risk")
        return self


class Trend(_Strict):
    falling_30d: float = Field(lt=0)
    rising_30d: float = Field(gt=0)
    falling_7d: float = Field(lt=0)
    rising_7d: float = Field(gt=0)


class Attention(_Strict):
    trajectory_weight: float = Field(ge=0)
    arr_reference: float = Field(gt=0)
    churn_weight: float = Field(ge=0, le=1)


class Stakeholders(_Strict):
    key_roles: list[str]
    critical_roles: list[str]
    severe_roles: list[str]
    declining_days: int = Field(gt=0)
    silent_days: int = Field(gt=0)
    severe_silent_days: int = Field(gt=0)


class ExpansionSignal(_Strict):
    weight: float = Field(ge=0)
    bad: float
    good: float


class Expansion(_Strict):
    signals: dict[str, ExpansionSignal]
    health_floor: float = Field(ge=0, le=100)
    below_floor_factor: float = Field(ge=0, le=1)


class LimitedHistory(_Strict):
    min_tenure_days: int = Field(ge=0)
    min_active_days_90d: int = Field(ge=0)


class ScoringConfig(_Strict):
    neutral_point: Literal[50] = 50
    signal_params: SignalParams
    dimensions: dict[str, float]
    signals: dict[str, Normalise]
    segments: dict[str, SegmentOverride] = Field(default_factory=dict)
    bands: Bands
    trend: Trend
    attention: Attention
    stakeholders: Stakeholders
    expansion: Expansion
    limited_history: LimitedHistory

    @model_validator(mode="after")
    def _known_names(self) -> ScoringConfig:
        from scoring.signals.registry import SIGNALS  # here: scoring.signals imports this module

        for name in list(self.signals) + list(self.expansion.signals):
            if name not in SIGNALS:
                raise ValueError(f"unknown signal {name!r}")
        for dimension in self.dimensions:
            if dimension not in HEALTH_DIMENSIONS:
                raise ValueError(f"unknown dimension {dimension!r} (one of {HEALTH_DIMENSIONS})")
        for name, definition in self.signals.items():
            if definition.weight and SIGNALS[name].dimension not in self.dimensions:
                raise ValueError(
                    f"signal {name!r} is in dimension {SIGNALS[name].dimension!r}, which has no weight"
                )
        for segment, override in self.segments.items():
            for name in override.signals:
                if name not in self.signals:
                    raise ValueError(f"segments.{segment}: signal {name!r} is not a health signal")
            for dimension in override.dimensions:
                if dimension not in self.dimensions:
                    raise ValueError(f"segments.{segment}: unknown dimension {dimension!r}")
        return self

    def for_segment(self, segment: str | None) -> tuple[dict[str, float], dict[str, Normalise]]:
        """Dimension weights and signal normalisations with the segment's overrides applied."""
        dimensions = dict(self.dimensions)
        signals = dict(self.signals)
        override = self.segments.get(segment or "")
        if override:
            dimensions.update(override.dimensions)
            for name, change in override.signals.items():
                merged = signals[name].model_dump() | change.model_dump(exclude_none=True)
                signals[name] = Normalise(**merged)
        return dimensions, signals


def _merge(base: Any, override: Any) -> Any:
    if isinstance(base, dict) and isinstance(override, dict):
        merged = dict(base)
        for key, value in override.items():
            merged[key] = _merge(base.get(key), value) if key in base else value
        return merged
    return override


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        raise ConfigError(f"{path}:{where} not valid YAML: {error}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level")
    return data


def load_config(path: Path | str | None = None) -> ScoringConfig:
    """The shipped defaults, merged with the YAML file at `path` when given."""
    data = _read_yaml(DEFAULTS_PATH)
    source = DEFAULTS_PATH
    if path is not None:
        source = Path(path)
        data = _merge(data, _read_yaml(source))
    try:
        return ScoringConfig.model_validate(data)
    except ValidationError as error:
        problems = []
        for problem in error.errors():
            key = ".".join(str(part) for part in problem["loc"]) or "(top level)"
            problems.append(f"{key}: {problem['msg'].removeprefix('Value error, ')}")
        raise ConfigError(f"{source}: " + "; ".join(problems)) from None


_DEFAULT: ScoringConfig | None = None


#: What callers may pass as a scoring configuration: the config itself, its YAML path, or
#: None for the shipped defaults (see `resolve_config`).
ConfigSource = ScoringConfig | Path | str | None


def resolve_config(config: ConfigSource) -> ScoringConfig:
    """A ScoringConfig from itself, a YAML path, or None (the shipped defaults)."""
    if config is None:
        return default_config()
    if isinstance(config, ScoringConfig):
        return config
    return load_config(config)


def default_config() -> ScoringConfig:
    """The shipped defaults, loaded once."""
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = load_config()
    return _DEFAULT
