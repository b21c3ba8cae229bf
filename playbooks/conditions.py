"""Trigger conditions: what each YAML key means and how it is evaluated (pure).

A trigger is one condition; a condition is a mapping with exactly one key naming its kind:

- score:     `band_entered`, `band`, `churn_risk_at_least`, `health_fell`
- event:     `new_account`, `milestone_overdue`, `urgent_ticket`, `champion_left`,
             `sponsor_left`, `nps_detractor`, `invoice_overdue`
- time:      `days_to_renewal`, `days_since_start`
- behaviour: `logins_down`, `stakeholder_band`, `multithreading_below_target`
- expansion: `seat_saturation`, `advanced_feature_adoption`
- filters:   `segment`, `arr`
- combinators: `all`, `any`, `not`

`match(ctx)` returns the reasons (short sentences) when the condition holds, else None.
Event conditions read `ctx.events` when the facts were loaded and fall back to the score's
signals (champion_left, nps_last, overdue_invoices, ...) when only the score is known.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeAlias, Union

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    model_validator,
)

from playbooks.account_context import AccountContext

Band = Literal["healthy", "neutral", "at_risk", "critical"]
StakeholderBand = Literal["healthy", "watch", "concern", "critical"]
Segment = Literal["enterprise", "mid_market", "smb"]
Reasons = list[str] | None


def _defaults_when_true(value: Any) -> Any:
    """`new_account: true` means "with the default parameters"."""
    return {} if value is True or value is None else value


def _one_or_many(value: Any) -> Any:
    """`band: at_risk` is shorthand for `band: [at_risk]`."""
    return [value] if isinstance(value, str) else value


DEFAULTS_WHEN_TRUE = BeforeValidator(_defaults_when_true)
ONE_OR_MANY = BeforeValidator(_one_or_many)


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Condition(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    def match(self, ctx: AccountContext) -> Reasons:
        raise NotImplementedError

    def describe(self) -> str:
        raise NotImplementedError

    def leaves(self) -> list[_Condition]:
        return [self]


# --- score ---------------------------------------------------------------------------


class BandEntered(_Condition):
    band_entered: Annotated[list[Band], ONE_OR_MANY] = Field(min_length=1)

    def match(self, ctx: AccountContext) -> Reasons:
        if ctx.band not in self.band_entered:
            return None
        if ctx.previous_band is None:
            return [f"scored {ctx.band} (first score)"]
        if ctx.previous_band in self.band_entered:
            return None
        return [f"entered {ctx.band} (was {ctx.previous_band})"]

    def describe(self) -> str:
        return f"band entered {'|'.join(self.band_entered)}"


class BandIs(_Condition):
    """The current band is one of these (a filter; `band_entered` fires on the change)."""

    band: Annotated[list[Band], ONE_OR_MANY] = Field(min_length=1)

    def match(self, ctx: AccountContext) -> Reasons:
        return [] if ctx.band in self.band else None

    def describe(self) -> str:
        return f"band {'|'.join(self.band)}"


class ChurnRiskAtLeast(_Condition):
    churn_risk_at_least: float = Field(ge=0, le=1)

    def match(self, ctx: AccountContext) -> Reasons:
        if ctx.churn_risk is None or ctx.churn_risk < self.churn_risk_at_least:
            return None
        return [f"churn risk {ctx.churn_risk:.0%} ≥ {self.churn_risk_at_least:.0%}"]

    def describe(self) -> str:
        return f"churn risk ≥ {self.churn_risk_at_least:.0%}"


class HealthFellSpec(_Spec):
    points: float = Field(gt=0, le=100)
    days: int = Field(ge=1, le=365)


class HealthFell(_Condition):
    health_fell: HealthFellSpec

    def match(self, ctx: AccountContext) -> Reasons:
        spec = self.health_fell
        if spec.days in ctx.peak_health:
            peak = ctx.peak_health[spec.days]
            if peak is None:
                return None
            fall = peak - ctx.health
        else:  # only the score row: use its own deltas for the nearest window
            delta = ctx.health_delta_7d if spec.days <= 7 else ctx.health_delta_30d
            if delta is None:
                return None
            fall = -delta
        if fall < spec.points:
            return None
        return [f"health fell {fall:.0f} points in {spec.days} days (to {ctx.health:.0f})"]

    def describe(self) -> str:
        return f"health fell ≥ {self.health_fell.points:g} in {self.health_fell.days}d"


# --- events --------------------------------------------------------------------------


class WithinDays(_Spec):
    within_days: int = Field(7, ge=0, le=365)


class NewAccount(_Condition):
    new_account: Annotated[WithinDays, DEFAULTS_WHEN_TRUE]

    def match(self, ctx: AccountContext) -> Reasons:
        days = ctx.days_since_start()
        if days is None or not 0 <= days <= self.new_account.within_days:
            return None
        return [f"new account (started {days} days ago)"]

    def describe(self) -> str:
        return f"new account ≤ {self.new_account.within_days}d"


class MilestoneSpec(_Spec):
    """Overdue from day `days` after the start; accounts past `until_day` (default
    `days` + 60) are no longer onboarding, so a missing milestone there is not news."""

    days: int = Field(ge=0, le=730)
    milestone: str | None = None  # the lifecycle `detail`; None: any milestone
    until_day: int | None = Field(None, ge=0, le=1095)

    @model_validator(mode="after")
    def _window(self) -> MilestoneSpec:
        if self.until_day is not None and self.until_day < self.days:
            raise ValueError("until_day must not be before days")
        return self

    def last_day(self) -> int:
        return self.until_day if self.until_day is not None else self.days + 60


class MilestoneOverdue(_Condition):
    milestone_overdue: MilestoneSpec

    def match(self, ctx: AccountContext) -> Reasons:
        spec = self.milestone_overdue
        days = ctx.days_since_start()
        if days is None or not spec.days <= days <= spec.last_day() or ctx.events is None:
            return None
        reached = ctx.events.milestones
        if spec.milestone is None and reached:
            return None
        if spec.milestone is not None and spec.milestone in reached:
            return None
        what = spec.milestone or "first milestone"
        return [f"{what} not reached {days} days after start (due by day {spec.days})"]

    def describe(self) -> str:
        spec = self.milestone_overdue
        return f"milestone {spec.milestone or 'any'} overdue after {spec.days}d"


class UrgentTicket(_Condition):
    urgent_ticket: Annotated[WithinDays, DEFAULTS_WHEN_TRUE]

    def match(self, ctx: AccountContext) -> Reasons:
        within = self.urgent_ticket.within_days
        if ctx.events is None:
            urgent_open = ctx.signal("urgent_open") or 0
            return [f"{urgent_open:.0f} urgent ticket(s) open"] if urgent_open > 0 else None
        opened = ctx.events.last_urgent_ticket_at
        if opened is None or opened.date() < ctx.as_of - dt.timedelta(days=within):
            return None
        return [f"urgent ticket opened {opened:%Y-%m-%d}"]

    def describe(self) -> str:
        return f"urgent ticket ≤ {self.urgent_ticket.within_days}d"


class LeftSpec(_Spec):
    within_days: int = Field(30, ge=0, le=365)


def _left(
    ctx: AccountContext, at: dt.datetime | None, signal: str, within: int, who: str
) -> Reasons:
    if ctx.events is None:
        return [f"{who} left"] if (ctx.signal(signal) or 0) > 0 else None
    if at is None or at.date() < ctx.as_of - dt.timedelta(days=within):
        return None
    return [f"{who} left on {at:%Y-%m-%d}"]


class ChampionLeft(_Condition):
    champion_left: Annotated[LeftSpec, DEFAULTS_WHEN_TRUE]

    def match(self, ctx: AccountContext) -> Reasons:
        at = ctx.events.champion_left_at if ctx.events else None
        return _left(ctx, at, "champion_left", self.champion_left.within_days, "champion")

    def describe(self) -> str:
        return f"champion left ≤ {self.champion_left.within_days}d"


class SponsorLeft(_Condition):
    sponsor_left: Annotated[LeftSpec, DEFAULTS_WHEN_TRUE]

    def match(self, ctx: AccountContext) -> Reasons:
        at = ctx.events.sponsor_left_at if ctx.events else None
        return _left(ctx, at, "sponsor_left", self.sponsor_left.within_days, "executive sponsor")

    def describe(self) -> str:
        return f"sponsor left ≤ {self.sponsor_left.within_days}d"


class NpsDetractor(_Condition):
    """An NPS response of 0-6 submitted in the last `within_days` days."""

    nps_detractor: Annotated[WithinDays, DEFAULTS_WHEN_TRUE]

    def match(self, ctx: AccountContext) -> Reasons:
        if ctx.events is None:
            nps = ctx.signal("nps_last")
            return [f"last NPS {nps:.0f} (detractor)"] if nps is not None and nps <= 6 else None
        at = ctx.events.last_detractor_at
        if at is None or at.date() < ctx.as_of - dt.timedelta(days=self.nps_detractor.within_days):
            return None
        score = ctx.events.last_detractor_score
        return [f"NPS detractor ({score:.0f}) on {at:%Y-%m-%d}"]

    def describe(self) -> str:
        return f"NPS detractor ≤ {self.nps_detractor.within_days}d"


class OverdueSpec(_Spec):
    days: int = Field(1, ge=0, le=365)


class InvoiceOverdue(_Condition):
    invoice_overdue: Annotated[OverdueSpec, DEFAULTS_WHEN_TRUE]

    def match(self, ctx: AccountContext) -> Reasons:
        if ctx.events is None:
            days = ctx.signal("days_overdue")
        elif ctx.events.oldest_overdue_due_at is None:
            days = None
        else:
            days = (ctx.as_of - ctx.events.oldest_overdue_due_at.date()).days
        if days is None or days < max(self.invoice_overdue.days, 1):
            return None
        return [f"invoice overdue {days:.0f} days"]

    def describe(self) -> str:
        return f"invoice overdue ≥ {self.invoice_overdue.days}d"


# --- time ----------------------------------------------------------------------------


class DayRange(_Spec):
    at_least: int | None = None
    at_most: int | None = None

    @model_validator(mode="after")
    def _ordered(self) -> DayRange:
        if self.at_least is None and self.at_most is None:
            raise ValueError("give at_least, at_most or both")
        if self.at_least is not None and self.at_most is not None and self.at_least > self.at_most:
            raise ValueError("at_least must not exceed at_most")
        return self

    def contains(self, days: int) -> bool:
        if self.at_least is not None and days < self.at_least:
            return False
        return not (self.at_most is not None and days > self.at_most)

    def text(self) -> str:
        if self.at_least is None:
            return f"≤ {self.at_most}"
        if self.at_most is None:
            return f"≥ {self.at_least}"
        return f"{self.at_least}–{self.at_most}"


class DaysToRenewal(_Condition):
    days_to_renewal: DayRange

    def match(self, ctx: AccountContext) -> Reasons:
        days = ctx.days_to_renewal()
        if days is None or not self.days_to_renewal.contains(days):
            return None
        return [f"renewal in {days} days"]

    def describe(self) -> str:
        return f"days to renewal {self.days_to_renewal.text()}"


class DaysSinceStart(_Condition):
    days_since_start: DayRange

    def match(self, ctx: AccountContext) -> Reasons:
        days = ctx.days_since_start()
        if days is None or not self.days_since_start.contains(days):
            return None
        return [f"customer for {days} days"]

    def describe(self) -> str:
        return f"days since start {self.days_since_start.text()}"


# --- behaviour -----------------------------------------------------------------------


class PctSpec(_Spec):
    pct: float = Field(50, gt=0, le=100)


class LoginsDown(_Condition):
    logins_down: Annotated[PctSpec, DEFAULTS_WHEN_TRUE]

    def match(self, ctx: AccountContext) -> Reasons:
        change = ctx.signal("login_change")
        if change is None:
            current, baseline = ctx.signal("logins_30d"), ctx.signal("logins_baseline_30d")
            if current is None or not baseline:
                return None
            change = current / baseline - 1
        if change > -self.logins_down.pct / 100:
            return None
        return [f"logins down {-change:.0%} against the 90-day baseline"]

    def describe(self) -> str:
        return f"logins down ≥ {self.logins_down.pct:g}%"


class StakeholderBandIn(_Condition):
    stakeholder_band: Annotated[list[StakeholderBand], ONE_OR_MANY] = Field(min_length=1)

    def match(self, ctx: AccountContext) -> Reasons:
        if ctx.stakeholder_band not in self.stakeholder_band:
            return None
        return [f"stakeholder coverage {ctx.stakeholder_band}"]

    def describe(self) -> str:
        return f"stakeholder band {'|'.join(self.stakeholder_band)}"


class GapSpec(_Spec):
    by_at_least: int = Field(1, ge=1)


class MultithreadingBelowTarget(_Condition):
    multithreading_below_target: Annotated[GapSpec, DEFAULTS_WHEN_TRUE]

    def match(self, ctx: AccountContext) -> Reasons:
        engaged = ctx.stakeholders.get("engaged_contacts")
        target = ctx.stakeholders.get("target")
        if engaged is None:
            engaged = ctx.signal("engaged_contacts_90d")
        if target is None:
            target = ctx.signal("multithreading_target")
        if engaged is None or target is None:
            return None
        if target - engaged < self.multithreading_below_target.by_at_least:
            return None
        return [f"{engaged:.0f} engaged contacts against a target of {target:.0f}"]

    def describe(self) -> str:
        return f"multithreading ≥ {self.multithreading_below_target.by_at_least} below target"


# --- expansion -----------------------------------------------------------------------


class SaturationSpec(_Spec):
    utilisation: float = Field(0.85, gt=0, le=2)
    days: int = Field(21, ge=1, le=365)


class SeatSaturation(_Condition):
    seat_saturation: Annotated[SaturationSpec, DEFAULTS_WHEN_TRUE]

    def match(self, ctx: AccountContext) -> Reasons:
        spec = self.seat_saturation
        days = ctx.signal("seat_saturation_days")
        utilisation = ctx.signal("license_utilisation")
        if days is None or days < spec.days:
            return None
        if utilisation is not None and utilisation < spec.utilisation:
            return None
        shown = f"{utilisation:.0%}" if utilisation is not None else f"≥{spec.utilisation:.0%}"
        return [f"seats at {shown} for {days:.0f} days"]

    def describe(self) -> str:
        spec = self.seat_saturation
        return f"seats ≥ {spec.utilisation:.0%} for {spec.days}d"


class AdoptionSpec(_Spec):
    at_least: float = Field(0.3, ge=0, le=1)


class AdvancedFeatureAdoption(_Condition):
    advanced_feature_adoption: Annotated[AdoptionSpec, DEFAULTS_WHEN_TRUE]

    def match(self, ctx: AccountContext) -> Reasons:
        value = ctx.signal("advanced_feature_adoption")
        if value is None or value < self.advanced_feature_adoption.at_least:
            return None
        return [f"advanced features used by {value:.0%} of active users"]

    def describe(self) -> str:
        return f"advanced adoption ≥ {self.advanced_feature_adoption.at_least:.0%}"


# --- filters -------------------------------------------------------------------------


class SegmentIn(_Condition):
    segment: Annotated[list[Segment], ONE_OR_MANY] = Field(min_length=1)

    def match(self, ctx: AccountContext) -> Reasons:
        return [] if ctx.segment in self.segment else None

    def describe(self) -> str:
        return f"segment {'|'.join(self.segment)}"


class ArrRange(_Spec):
    min: float | None = Field(None, ge=0)
    max: float | None = Field(None, ge=0)

    @model_validator(mode="after")
    def _ordered(self) -> ArrRange:
        if self.min is None and self.max is None:
            raise ValueError("give min, max or both")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError("min must not exceed max")
        return self


class ArrIn(_Condition):
    arr: ArrRange

    def match(self, ctx: AccountContext) -> Reasons:
        low, high = self.arr.min, self.arr.max
        if low is not None and ctx.arr < low:
            return None
        if high is not None and ctx.arr >= high:
            return None
        return []

    def describe(self) -> str:
        low, high = self.arr.min, self.arr.max
        if high is None:
            return f"ARR ≥ {low:,.0f}"
        if low is None:
            return f"ARR < {high:,.0f}"
        return f"ARR {low:,.0f}–{high:,.0f}"


# --- combinators ---------------------------------------------------------------------


class AllOf(_Condition):
    all: list[Condition] = Field(min_length=1)

    def match(self, ctx: AccountContext) -> Reasons:
        reasons: list[str] = []
        for condition in self.all:
            found = condition.match(ctx)
            if found is None:
                return None
            reasons.extend(found)
        return reasons

    def describe(self) -> str:
        return "all(" + ", ".join(c.describe() for c in self.all) + ")"

    def leaves(self) -> list[_Condition]:
        return [leaf for c in self.all for leaf in c.leaves()]


class AnyOf(_Condition):
    any: list[Condition] = Field(min_length=1)

    def match(self, ctx: AccountContext) -> Reasons:
        reasons: list[str] | None = None
        for condition in self.any:
            found = condition.match(ctx)
            if found is not None:
                reasons = (reasons or []) + found
        return reasons

    def describe(self) -> str:
        return "any(" + ", ".join(c.describe() for c in self.any) + ")"

    def leaves(self) -> list[_Condition]:
        return [leaf for c in self.any for leaf in c.leaves()]


class NotOf(_Condition):
    not_: Condition = Field(alias="not")

    def match(self, ctx: AccountContext) -> Reasons:
        return [] if self.not_.match(ctx) is None else None

    def describe(self) -> str:
        return f"not({self.not_.describe()})"

    def leaves(self) -> list[_Condition]:
        return self.not_.leaves()


CONDITION_TYPES: dict[str, type[_Condition]] = {
    "band_entered": BandEntered,
    "band": BandIs,
    "churn_risk_at_least": ChurnRiskAtLeast,
    "health_fell": HealthFell,
    "new_account": NewAccount,
    "milestone_overdue": MilestoneOverdue,
    "urgent_ticket": UrgentTicket,
    "champion_left": ChampionLeft,
    "sponsor_left": SponsorLeft,
    "nps_detractor": NpsDetractor,
    "invoice_overdue": InvoiceOverdue,
    "days_to_renewal": DaysToRenewal,
    "days_since_start": DaysSinceStart,
    "logins_down": LoginsDown,
    "stakeholder_band": StakeholderBandIn,
    "multithreading_below_target": MultithreadingBelowTarget,
    "seat_saturation": SeatSaturation,
    "advanced_feature_adoption": AdvancedFeatureAdoption,
    "segment": SegmentIn,
    "arr": ArrIn,
    "all": AllOf,
    "any": AnyOf,
    "not": NotOf,
}
_TAG_OF_TYPE = {cls: tag for tag, cls in CONDITION_TYPES.items()}
MULTIPLE_KEYS = "<more than one key>"


def condition_tag(value: Any) -> str | None:
    """The kind of a condition: its only key (YAML) or its class (already built)."""
    if isinstance(value, _Condition):
        return _TAG_OF_TYPE.get(type(value))
    if isinstance(value, dict):
        if len(value) == 1:
            return str(next(iter(value)))
        return MULTIPLE_KEYS if value else None
    return None


if TYPE_CHECKING:
    # The union below is built at run time, which a type checker cannot follow; to it every
    # condition is a `_Condition` (match, describe, leaves).
    Condition: TypeAlias = _Condition
else:
    Condition = Annotated[
        Union[tuple(Annotated[cls, Tag(tag)] for tag, cls in CONDITION_TYPES.items())],  # noqa: UP007
        Discriminator(condition_tag),
    ]

for _cls in (AllOf, AnyOf, NotOf):
    _cls.model_rebuild()
