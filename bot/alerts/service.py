"""Raise alerts after a scoring run: remember what was said, say each thing once.

The `alerts` table is the memory: one row per (account, kind, state). A row is *open*
while the account stays in that state, and cleared when the state changes, so the same
state can alert again later (the row is re-opened; its unique key stays). While an account
is snoozed nothing fires for it; when a snooze ends and the state still holds, the alert
is repeated once. Messages go through the outbox under
`alert:<account>:<kind>:<state>:<date the alert opened>`, so re-running the job the same
day never posts twice, and a later re-opening is a new message.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import TypeAdapter
from sqlmodel import Session, select

from bot.accounts.attention import attention_rules, reasons_today
from bot.accounts.ranking import DEFAULT_EXPANSION_THRESHOLD, AttentionRules
from bot.accounts.service import account_state, default_suggester, playbook_choices
from bot.alerts.detect import AlertCandidate, alert_states, candidates_for, ranking_agrees
from bot.alerts.messages import alert_message, alert_rule
from bot.delivery.recipients import mapping_file_of, recipient
from bot.settings import Settings
from bot.slack.deps import RenderContext
from bot.slack.send import queue_budgeted
from playbooks.library import load_library
from storage.clock import Clock
from storage.enums import AlertKind, Band, MessageKind
from storage.latest_scores import newest_scores
from storage.models import Account, AccountScore, Alert, OutboxMessage, Snooze

logger = logging.getLogger("csbot.alerts")

CANDIDATES = TypeAdapter(AlertCandidate)


@dataclass
class AlertPlan:
    """What to do for one run: alerts to open (or re-open) and open alerts to clear."""

    fire: list[AlertCandidate] = field(default_factory=list)
    clear: list[Alert] = field(default_factory=list)


def plan_alerts(
    current: Iterable[AccountScore],
    previous: Mapping[str, AccountScore],
    open_alerts: Mapping[str, list[Alert]],
    *,
    snoozed: set[str],
    snooze_ended: Mapping[str, dt.datetime],
    risk_threshold: float,
    expansion_threshold: float = DEFAULT_EXPANSION_THRESHOLD,
    rules: AttentionRules | None = None,
) -> AlertPlan:
    """Pure: compare today's states with the open alerts and the attention ranking.

    An open alert whose state no longer holds is cleared. A state with no open alert fires
    (unless the account is snoozed) only when the one attention ranking
    (`bot.accounts.attention.reasons_today`, at the same thresholds) gives the account that
    reason today; the alert then carries the ranking's "why today" line, and alerts come
    in the ranking's order (the most valuable first, so the noise budget lets those
    through). A state whose open alert predates a snooze that has since ended fires again.
    `rules` (by default the two thresholds with the other rules' defaults) is what the
    ranking is asked with; the caller passes `attention_rules`, as every screen does.
    """
    plan = AlertPlan()
    current = list(current)
    if rules is None:
        rules = AttentionRules(
            risk_threshold=risk_threshold, expansion_threshold=expansion_threshold
        )
    ranking: dict[str, tuple[int, tuple[str, ...], list[str]]] = {}
    for day in sorted({score.as_of for score in current}):
        ranking.update(reasons_today([s for s in current if s.as_of == day], day, rules))
    for score in sorted(
        current, key=lambda s: (ranking.get(s.account_id, (len(ranking),))[0], s.account_id)
    ):
        listed = ranking.get(score.account_id)
        states = alert_states(
            score, risk_threshold=risk_threshold, expansion_threshold=expansion_threshold
        )
        before = previous.get(score.account_id)
        before_states = alert_states(
            before, risk_threshold=risk_threshold, expansion_threshold=expansion_threshold
        )
        open_by_kind = {alert.kind: alert for alert in open_alerts.get(score.account_id, [])}
        due: dict[str, str | None] = {}
        for kind, alert in open_by_kind.items():
            if states.get(kind) != alert.state:
                plan.clear.append(alert)
        for kind, state in states.items():
            if state is None or score.account_id in snoozed:
                continue
            if not ranking_agrees(kind, state, listed[1] if listed else None):
                continue
            said = open_by_kind.get(kind)
            if said is not None and said.state == state:
                ended = snooze_ended.get(score.account_id)
                if ended is None or ended <= said.created_at:
                    continue
            due[kind] = state
        why = "; ".join(listed[2]) if listed and listed[2] else None
        plan.fire.extend(
            dataclasses.replace(candidate, why_today=why)
            for candidate in candidates_for(score, due, before, before_states)
        )
    return plan


def _scores_on(session: Session, as_of: dt.date) -> list[tuple[AccountScore, str, str | None]]:
    rows = session.exec(
        select(AccountScore, Account.name, Account.owner)
        .join(Account, Account.account_id == AccountScore.account_id)  # type: ignore[arg-type]
        .where(AccountScore.as_of == as_of)
    ).all()
    return [(score, name, owner) for score, name, owner in rows]


def _snoozes(session: Session, now: dt.datetime) -> tuple[set[str], dict[str, dt.datetime]]:
    active: set[str] = set()
    ended: dict[str, dt.datetime] = {}
    for account_id, until in session.exec(select(Snooze.account_id, Snooze.until)).all():
        if until > now:
            active.add(account_id)
        elif account_id not in ended or until > ended[account_id]:
            ended[account_id] = until
    return active, ended


def is_urgent(candidate: AlertCandidate) -> bool:
    """What cannot wait for the digest: an account crossing into critical."""
    return candidate.kind == AlertKind.BAND and candidate.state == Band.CRITICAL


def alert_key(candidate: AlertCandidate, opened: dt.date) -> str:
    return f"alert:{candidate.account_id}:{candidate.kind}:{candidate.state}:{opened.isoformat()}"


def raise_alerts(
    session: Session,
    *,
    as_of: dt.date,
    clock: Clock,
    settings: Settings,
    client: Any = None,
    library: Mapping[str, Any] | None = None,
) -> list[OutboxMessage]:
    """Open, clear and queue alerts for the scores of `as_of`; return the queued messages.

    The caller commits. `client` is used to look owners up in Slack (None: the cache and
    the mapping file only). An alert whose owner has no Slack user while no channel is
    configured is logged and not recorded, so it fires once the owner can be reached.
    `library` defaults to the configured playbook library (for the Start playbook menu).
    """
    now = clock.now()
    rules = attention_rules(session, settings)
    rows = _scores_on(session, as_of)
    if not rows:
        return []
    info = {score.account_id: (name, owner) for score, name, owner in rows}
    open_alerts: dict[str, list[Alert]] = defaultdict(list)
    known: dict[tuple[str, str, str], Alert] = {}
    for alert in session.exec(select(Alert)).all():
        if alert.account_id not in info:
            continue
        known[(alert.account_id, alert.kind, alert.state)] = alert
        if alert.cleared_at is None:
            open_alerts[alert.account_id].append(alert)
    snoozed, ended = _snoozes(session, now)
    plan = plan_alerts(
        [score for score, _n, _o in rows],
        newest_scores(session, before=as_of),
        open_alerts,
        snoozed=snoozed,
        snooze_ended=ended,
        risk_threshold=rules.risk_threshold,
        expansion_threshold=rules.expansion_threshold,
        rules=rules,
    )
    for alert in plan.clear:
        alert.cleared_at = now
        session.add(alert)
    session.flush()
    scores = {score.account_id: score for score, _n, _o in rows}
    if library is None:
        library = load_library(settings.playbook_dir)
    choices = playbook_choices(library)
    suggest = default_suggester() if library else None
    channel_setting = settings.alert_channel or settings.digest_channel
    queued: list[OutboxMessage] = []
    for candidate in plan.fire:
        name, owner = info[candidate.account_id]
        score = scores[candidate.account_id]
        channel, mention = recipient(
            session,
            owner,
            channel=channel_setting,
            client=client,
            clock=clock,
            mapping_file=mapping_file_of(settings),
        )
        if not channel:
            # Not recorded either, so it fires once the owner can be reached.
            logger.warning(
                "alert for %s (%s %s) not raised: no Slack user for owner %r and no channel set",
                candidate.account_id,
                candidate.kind,
                candidate.state,
                owner,
            )
            continue
        record = {
            "title": candidate.title,
            "reasons": list(candidate.reasons),
            "previous_state": candidate.previous_state,
        }
        existing = known.get((candidate.account_id, candidate.kind, candidate.state))
        if existing is None:
            alert = Alert(
                account_id=candidate.account_id,
                kind=candidate.kind,
                state=candidate.state,
                as_of=as_of,
                created_at=now,
                payload=record,
            )
        else:  # said before, cleared since (or repeated after a snooze): open it again
            alert = existing
            alert.as_of, alert.created_at, alert.cleared_at = as_of, now, None
            alert.payload = record
        session.add(alert)
        suggested: list[str] = list(suggest(score, library)) if suggest and library else []
        payload = alert_message(
            candidate,
            name=name,
            score=score,
            playbooks=choices,
            suggested=suggested,
            mention=mention,
        )
        subject = {
            "candidate": CANDIDATES.dump_python(candidate, mode="json"),
            "as_of": score.as_of.isoformat(),
            "suggested": suggested,
            "mention": mention,
        }
        queued.extend(
            queue_budgeted(
                session,
                kind=MessageKind.ALERT,
                recipient=owner or channel,
                key=alert_key(candidate, as_of),
                channel=channel,
                message=payload,
                clock=clock,
                settings=settings,
                urgent=is_urgent(candidate),
                subject=subject,
                account_id=candidate.account_id,
                items=[{"account_id": candidate.account_id, "rule": alert_rule(candidate)}],
            )
        )
    session.flush()
    return queued


def render_alert(
    session: Session, subject: Mapping[str, Any], context: RenderContext
) -> dict[str, Any] | None:
    """An alert as stored (what crossed, on which day's score), its buttons and activity
    drawn from current state."""
    candidate = CANDIDATES.validate_python(subject.get("candidate") or {})
    as_of = dt.date.fromisoformat(str(subject.get("as_of")))
    score = session.exec(
        select(AccountScore).where(
            AccountScore.account_id == candidate.account_id, AccountScore.as_of == as_of
        )
    ).first()
    account = session.get(Account, candidate.account_id)
    if score is None or account is None:
        return None
    state = account_state(
        session,
        candidate.account_id,
        now=context.now,
        since=context.since,
        library=context.library,
    )
    return alert_message(
        candidate,
        name=account.name,
        score=score,
        playbooks=playbook_choices(context.library),
        suggested=list(subject.get("suggested") or []),
        mention=subject.get("mention"),
        state=state,
    )
