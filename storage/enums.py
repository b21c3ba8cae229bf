"""The small closed vocabularies every layer shares, as `StrEnum`s stored as plain strings.

They live at the bottom (`storage`) so scoring, playbooks and the bot name a band, a run's
status or a message's kind the same way. A `StrEnum` member *is* its string: it is written
to and compared with the string columns as they are (no migration), and `Band("at_risk")`
turns a stored value back into a member.
"""

from __future__ import annotations

from enum import StrEnum


class Band(StrEnum):
    """An account's health band (`scoring.bands`)."""

    HEALTHY = "healthy"
    NEUTRAL = "neutral"
    AT_RISK = "at_risk"
    CRITICAL = "critical"


class StakeholderBand(StrEnum):
    HEALTHY = "healthy"
    WATCH = "watch"
    CONCERN = "concern"
    CRITICAL = "critical"


class RunStatus(StrEnum):
    """A playbook run: active until its steps are all done (completed) or it is closed."""

    ACTIVE = "active"
    COMPLETED = "completed"
    CLOSED = "closed"


class StepStatus(StrEnum):
    OPEN = "open"
    DONE = "done"
    SKIPPED = "skipped"


class OutcomeKind(StrEnum):
    """What a CSM logs when a play ends."""

    SAVED = "saved"
    CHURNED = "churned"
    RENEWED = "renewed"
    EXPANDED = "expanded"
    CONTRACTED = "contracted"
    NO_ACTION_NEEDED = "no_action_needed"


class OutboxStatus(StrEnum):
    """An outbox row: pending → sending (an attempt in flight) → sent | failed."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


class MessageKind(StrEnum):
    """What an outbox message shows. A click on one re-renders it with the renderer
    registered for its kind (`bot.app.rerender`)."""

    DIGEST = "digest"  # a CSM's daily digest (one row per part)
    ALERT = "alert"  # an account crossed a risk or expansion threshold
    ESCALATION = "escalation"  # a playbook step slipped and moved up a tier
    LEADERS = "leaders"  # the leaders' portfolio summary
    RUN = "run"  # a playbook run with its steps and buttons
    CARD = "card"  # an account's health card
    MY_STEPS = "my-steps"  # `/cs my`: my open steps
    NOTE = "note"  # "<@U> did X" in an account's thread
    REPLY = "reply"  # any other answer to a person: a notice, a list, help
    REMINDERS = "reminders"  # a person's daily roll-up of overdue steps and escalations


class AlertKind(StrEnum):
    """What an alert is about (`bot.alerts.detect`)."""

    BAND = "band"  # the health band fell into at risk or critical
    RISK = "risk"  # churn risk crossed the alert line
    STAKEHOLDER = "stakeholder"  # a key role went quiet or left
    EXPANSION = "expansion"  # expansion likelihood crossed its line


class FeedbackKind(StrEnum):
    """A label people give a churn prediction (`scoring.churn.feedback`)."""

    NOT_A_RISK = "not_a_risk"
    SAVED = "saved"
    CHURNED = "churned"


class Source(StrEnum):
    """Where a change came from, as the audit log and feedback record it."""

    SLACK = "slack"
    CLI = "cli"
    SCHEDULER = "scheduler"
    HTTP = "http"


class SnoozeReason(StrEnum):
    """Why an account was snoozed (a fixed list, so reasons can be counted)."""

    WORKING_ON_IT = "working_on_it"
    KNOWN_ISSUE = "known_issue"
    NOT_A_REAL_RISK = "not_a_real_risk"
    CUSTOMER_ON_HOLIDAY = "customer_on_holiday"
    OTHER = "other"


class VoteKind(StrEnum):
    """What a useful / not useful vote is about."""

    DIGEST = "digest"
    ALERT = "alert"


class Scope(StrEnum):
    """Whose accounts a person's digest and App Home show."""

    MINE = "mine"
    TEAM = "team"  # a manager's CSMs
    ALL = "all"  # leaders


class Delivery(StrEnum):
    """How much a person is sent besides the App Home."""

    DIGEST = "digest"  # the digest only
    CRITICAL = "critical"  # the digest plus critical crossings
    EVERYTHING = "everything"
