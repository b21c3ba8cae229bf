"""Every csbot table, importable from one place.

- `contract`: the entities of the data-import contract (what a CS team sends us).
- `scores`: what scoring produces (scores with reasons, alerts, snoozes, feedback).
- `playbook_runs`: playbook runs, their steps and outcomes.
- `delivery`: the outbox, Slack user mapping, scheduler leases and job runs.
- `ml`: trained churn models.
- `audit`: the audit log of every change people and jobs make.
- `noise`: people's delivery preferences, the noise budget's ledger, usefulness votes.
- `prep`: drafts held for review, QBR drafts and logs, VoC routing, writer calls.
- `sync`: connectors' cursors and the links between other systems' ids and accounts.
- `requests`: signatures of Slack requests already seen (replay protection).
"""

from storage.models.audit import AuditLog
from storage.models.contract import (
    Account,
    Contact,
    Contract,
    Invoice,
    LifecycleEvent,
    SurveyResponse,
    Ticket,
    Touchpoint,
    UsageEvent,
)
from storage.models.delivery import JobLease, JobRun, OutboxMessage, SlackUser
from storage.models.ml import ModelVersion
from storage.models.noise import DeliveryLedger, PersonPrefs, UsefulnessVote
from storage.models.playbook_runs import Outcome, PlaybookRun, PlaybookStep
from storage.models.prep import MessageDraft, QbrDraft, QbrLog, VocThemeOwner, WriterCall
from storage.models.requests import SeenRequest
from storage.models.scores import AccountScore, Alert, Feedback, Snooze
from storage.models.sync import SyncCursor, SyncLink

__all__ = [
    "Account",
    "AccountScore",
    "Alert",
    "AuditLog",
    "Contact",
    "Contract",
    "DeliveryLedger",
    "Feedback",
    "Invoice",
    "JobLease",
    "JobRun",
    "LifecycleEvent",
    "ModelVersion",
    "SeenRequest",
    "Outcome",
    "OutboxMessage",
    "PlaybookRun",
    "PersonPrefs",
    "PlaybookStep",
    "SlackUser",
    "Snooze",
    "SurveyResponse",
    "SyncCursor",
    "SyncLink",
    "Ticket",
    "Touchpoint",
    "UsageEvent",
    "UsefulnessVote",
    "MessageDraft",
    "QbrDraft",
    "QbrLog",
    "VocThemeOwner",
    "WriterCall",
]
