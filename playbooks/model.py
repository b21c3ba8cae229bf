"""A playbook as data: the pydantic models every YAML file is validated against."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from playbooks.conditions import Condition, HealthFell
from playbooks.templates import template_problems

Stage = Literal["crawl", "walk", "run"]
StepKind = Literal["message", "task", "meeting", "escalation"]
OwnerRole = Literal["csm", "manager", "exec_sponsor", "ae"]
Anchor = Literal["start", "renewal"]
NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]{1,63}$")

# Escalation tiers: a slipped step moves one tier up per grace period.
TIERS = ("csm", "manager", "executive")
ROLE_TIER = {"csm": 0, "ae": 0, "manager": 1, "exec_sponsor": 2}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Step(_Strict):
    title: str = Field(min_length=3, max_length=200)
    day: int = Field(ge=-730, le=730)
    anchor: Anchor | None = None  # None: the playbook's anchor
    kind: StepKind
    owner_role: OwnerRole
    instructions: str = Field(min_length=10)
    message: str | None = None  # a draft for a person to send, with $account fields

    @field_validator("message")
    @classmethod
    def _valid_template(cls, value: str | None) -> str | None:
        if value is not None:
            problems = template_problems(value)
            if problems:
                raise ValueError(problems[0])
        return value


class Metric(_Strict):
    name: str = Field(min_length=3)
    target: str = Field(min_length=1)


class Playbook(_Strict):
    name: str
    title: str = Field(min_length=3, max_length=120)
    stage: Stage
    objective: str = Field(min_length=10)
    trigger: Condition | None = None  # None: started by hand only
    anchor: Anchor = "start"
    steps: list[Step] = Field(min_length=1)
    metrics: list[Metric] = Field(min_length=1)
    exit: list[str] = Field(min_length=1)
    owner_role: OwnerRole
    cooldown_days: int = Field(ge=0, le=1095)
    priority: int = Field(50, ge=0, le=100)  # suggestion order: higher first
    pitfalls: list[str] = Field(default_factory=list)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not NAME_PATTERN.match(value):
            raise ValueError("must be lower-case letters, digits and _ (2-64), starting a-z")
        return value

    def problems(self) -> list[tuple[str, str]]:
        """Checks across fields, as (key path, problem); the loader reports them like
        schema errors."""
        found = []
        for index, step in enumerate(self.steps):
            if self.step_anchor(step) == "start" and step.day < 0:
                found.append(
                    (
                        f"steps[{index}].day",
                        f"{step.day} is before the run starts; negative days need anchor: renewal",
                    )
                )
        return found

    def step_anchor(self, step: Step) -> Anchor:
        return step.anchor or self.anchor

    def uses_renewal(self) -> bool:
        return any(self.step_anchor(step) == "renewal" for step in self.steps)

    def health_windows(self) -> set[int]:
        """Look-back windows (days) the trigger's `health_fell` conditions need."""

        if self.trigger is None:
            return set()
        return {
            leaf.health_fell.days for leaf in self.trigger.leaves() if isinstance(leaf, HealthFell)
        }
