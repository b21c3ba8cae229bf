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
    # Quiet by design (issue 13): one overflow per entry, votes, see-all pages, settings
    ACCOUNT_MENU = "account-menu"  # overflow: start, assign, snooze, not a risk, details
    VOTE_USEFUL = "vote-useful"
    VOTE_NOT_USEFUL = "vote-not-useful"
    DIGEST_SEE_ALL = "digest-see-all"
    DIGEST_PAGE = "digest-page"  # next in the see-all modal
    DIGEST_PAGE_BACK = "digest-page-back"  # previous (a block's action ids must differ)
    HOME_SETTINGS = "home-settings"
    # Prepared for every conversation: briefs, QBR drafts, drafts held for review, VoC
    BRIEF_SHARE = "brief-share"  # the ephemeral brief, posted in the channel
    QBR_LOG = "qbr-log"  # opens the Log QBR modal
    DRAFT_EDIT = "draft-edit"  # opens the draft's edit modal
    DRAFT_SENT = "draft-sent"  # the person sent it from their own mail
    VOC_ROUTE = "voc-route"  # users_select: route a theme to an owner


class CallbackId(StrEnum):
    STEP_NOTE = "step-note-modal"
    LOG_OUTCOME = "run-outcome-modal"
    START_PLAYBOOK = "account-start-playbook-modal"
    ASSIGN = "account-assign-modal"
    SNOOZE_REASON = "account-snooze-modal"
    PERSON_SETTINGS = "person-settings-modal"
    DIGEST_ALL = "digest-all-modal"
    QBR_LOG = "qbr-log-modal"
    DRAFT_EDIT = "draft-edit-modal"


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
