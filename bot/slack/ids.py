"""Every Slack `action_id` and `callback_id` csbot uses, and the small records buttons carry.

Ids are kebab case, prefixed by area (`digest-…`, `step-…`, `run-…`). A button's `value`
(at most 2000 characters) or a modal's `private_metadata` (at most 3000) carries a
`ButtonValue` as compact JSON; handlers get it back parsed, never re-parse by hand.
"""

from __future__ import annotations

import json
from enum import StrEnum

from pydantic import BaseModel, ConfigDict


class ActionId(StrEnum):
    # Digest, alert and account-card buttons
    START_PLAYBOOK = "account-start-playbook"  # static_select or button
    ASSIGN_ACCOUNT = "account-assign"
    SNOOZE = "account-snooze"  # static_select of 1, 7, 30 days
    NOT_A_RISK = "account-not-a-risk"
    DETAILS = "account-details"
    CHOOSE_ACCOUNT = "account-choose"  # ambiguous name: pick one
    # Playbook steps and runs
    STEP_DONE = "step-done"
    STEP_SKIP = "step-skip"
    STEP_ASSIGN = "step-assign"  # users_select
    RUN_LOG_OUTCOME = "run-log-outcome"
    RUN_SNOOZE = "run-snooze"
    RUN_CLOSE = "run-close"
    HOME_REFRESH = "home-refresh"


class CallbackId(StrEnum):
    STEP_NOTE = "step-note-modal"
    LOG_OUTCOME = "run-outcome-modal"
    START_PLAYBOOK = "account-start-playbook-modal"
    ASSIGN = "account-assign-modal"


class ButtonValue(BaseModel):
    """What a button or modal remembers: which account, run, step, and an option."""

    model_config = ConfigDict(extra="forbid")

    account_id: str | None = None
    run_id: int | None = None
    step_id: int | None = None
    option: str | None = None  # e.g. a snooze length in days, a playbook name
    as_of: str | None = None
    message: str | None = None  # the outbox key of the message the button sits on

    def encode(self) -> str:
        text = self.model_dump_json(exclude_none=True)
        if len(text) > 2000:
            raise ValueError("button value over Slack's 2000-character limit")
        return text

    @classmethod
    def decode(cls, text: str | None) -> ButtonValue:
        if not text:
            return cls()
        return cls.model_validate(json.loads(text))
