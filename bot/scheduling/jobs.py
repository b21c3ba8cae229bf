"""The bodies of csbot's scheduled jobs: plain functions of (runtime, clock) → detail dict.

They know nothing of APScheduler or leases (`bot.scheduling.runner` adds those), so
`csbot run-job NAME` and tests call them directly. Each returns a small JSON-able dict of
counts for the job_runs row and the log line, never message text.
"""

from __future__ import annotations

import datetime as dt
import logging
import weakref
import zoneinfo
from collections import defaultdict
from typing import Any

from sqlmodel import Session, col, select

from bot.accounts.attention import attention_rules
from bot.alerts.service import raise_alerts
from bot.delivery.budget import Kind, due_day, record_folded, rollup_day
from bot.delivery.errors import SlackDeliveryError
from bot.delivery.prefs import all_rows, prefs_for
from bot.delivery.sender import deliver_pending, make_sender_client
from bot.delivery.users import resolve_user
from bot.digests.model import Digest
from bot.digests.post import digest_key, queue_digests
from bot.digests.service import build_digests, load_audiences
from bot.leaders.messages import leaders_summary_message
from bot.plays.rollup import queue_rollups, rollup_key, rollup_lines, rollups_to_fold
from bot.runtime import Runtime
from bot.settings import Settings
from bot.slack.send import queue_budgeted
from playbooks.engine import escalate_overdue, evaluate_triggers
from playbooks.library import load_library
from scoring.churn.snapshots import default_signals_fn
from scoring.churn.train import TrainingError, train_and_promote
from scoring.config import load_config
from scoring.service import score_portfolio
from storage.clock import Clock
from storage.connectors.registry import configured, sync_configured
from storage.data_range import data_range, outside_range
from storage.enums import MessageKind
from storage.ingest.importer import import_directory
from storage.models import Account, OutboxMessage
from storage.models.noise import DeliveryLedger

logger = logging.getLogger("csbot.scheduling")

# The days whose "digests not queued: outside the data" line was logged, per database: the
# digests job runs every few minutes, and the line says something once a day, not each run.
_SKIP_LOGGED: weakref.WeakKeyDictionary[Any, set[dt.date]] = weakref.WeakKeyDictionary()


def local_date(clock: Clock, tz: str) -> dt.date:
    """Today's date in `tz` (the date a nightly job or a digest is "for")."""
    return clock.now().replace(tzinfo=dt.UTC).astimezone(zoneinfo.ZoneInfo(tz)).date()


def outside_data(runtime: Runtime, day: dt.date) -> str | None:
    """One line when `day` is outside the imported data (`storage.data_range`), else None;
    None too when no usage was imported (there is no range to hold the day to)."""
    from storage.data_range import data_range, outside_range

    span = data_range(runtime.engine)
    return outside_range(day, span) if span is not None else None


def _client(runtime: Runtime) -> Any:
    """The sender's WebClient when Slack is configured; None offline. A runtime may carry
    its own (`slack_client`: the replay's recording sink)."""
    override = getattr(runtime, "slack_client", None)
    if override is not None:
        return override
    if not runtime.settings.slack_online:
        return None

    return make_sender_client(runtime.settings)


def _library(runtime: Runtime) -> dict[str, Any]:
    return load_library(runtime.settings.playbook_dir)


# -- the nightly pipeline ------------------------------------------------------------------
def import_data(runtime: Runtime, clock: Clock) -> dict[str, Any]:
    """Sync the configured connectors (`csbot sync`), then import the contract files in
    CSBOT_IMPORT_DIR (skipped when it is not set)."""

    synced = (
        sync_configured(runtime.engine, runtime.settings, clock)
        if configured(runtime.settings)
        else {}
    )
    directory = runtime.settings.import_dir
    if directory is None:
        return {"skipped": "CSBOT_IMPORT_DIR is not set", **synced}

    # The nightly run keeps the good rows; rejected ones land in the rejects files.
    report = import_directory(runtime.engine, directory, skip_invalid=True)
    return {
        **synced,
        "directory": str(directory),
        "files": len(report.files),
        "rejected": sum(file.rejected for file in report.files),
        "problems": report.problem_count,
    }


def score(runtime: Runtime, clock: Clock) -> dict[str, Any]:
    """Score every live account as of today (CSBOT_TIMEZONE)."""

    as_of = local_date(clock, runtime.settings.timezone)

    problem = outside_range(as_of, data_range(runtime.engine))
    if problem:  # scoring past the data reads the import's end as a collapse of usage
        logger.warning("score job skipped: %s", problem)
        return {"as_of": as_of.isoformat(), "skipped": problem}
    config = load_config(runtime.settings.scoring_config)
    scores = score_portfolio(runtime.engine, as_of, config=config, clock=clock)
    return {"as_of": as_of.isoformat(), "accounts": len(scores)}


def alerts(runtime: Runtime, clock: Clock) -> dict[str, Any]:
    """Queue risk and expansion alerts for today's scores, then deliver."""

    as_of = local_date(clock, runtime.settings.timezone)
    client = _client(runtime)
    with Session(runtime.engine, expire_on_commit=False) as session:
        rows = raise_alerts(
            session, as_of=as_of, clock=clock, settings=runtime.settings, client=client
        )
        session.commit()
    detail: dict[str, Any] = {"as_of": as_of.isoformat(), "queued": len(rows)}
    detail.update(_deliver(runtime, clock, client))
    return detail


def triggers(runtime: Runtime, clock: Clock) -> dict[str, Any]:
    """Start the playbook runs whose triggers fire on today's scores."""

    as_of = local_date(clock, runtime.settings.timezone)
    problem = outside_data(runtime, as_of)
    if problem:
        logger.warning("triggers job skipped: %s", problem)
        return {"as_of": as_of.isoformat(), "skipped": problem}
    with Session(runtime.engine, expire_on_commit=False) as session:
        runs = evaluate_triggers(session, as_of=as_of, library=_library(runtime), clock=clock)
        session.commit()
    return {"as_of": as_of.isoformat(), "started": len(runs)}


def nightly(runtime: Runtime, clock: Clock) -> dict[str, Any]:
    """Import (if configured), score, alert, evaluate triggers — in that order, because
    each step needs the one before; one job so a slow import delays rather than races."""
    return {
        "import": import_data(runtime, clock),
        "score": score(runtime, clock),
        "alerts": alerts(runtime, clock),
        "triggers": triggers(runtime, clock),
    }


# -- weekly ----------------------------------------------------------------------------------
def retrain(runtime: Runtime, clock: Clock) -> dict[str, Any]:
    """Train a challenger churn model on everything known today, Slack feedback included;
    the registry promotes it only if it beats the active model on its validation window.

    Without enough history (no churn yet, a new install) it reports why and changes
    nothing, so the job is safe to schedule from day one.
    """

    as_of = local_date(clock, runtime.settings.timezone)
    problem = outside_data(runtime, as_of)
    if problem:  # training past the data would learn the import's end as churn
        logger.warning("retrain job skipped: %s", problem)
        return {"as_of": as_of.isoformat(), "skipped": problem}
    try:
        report = train_and_promote(
            runtime.engine,
            as_of,
            clock,
            cfg=runtime.settings.churn_training(),
            signals_fn=default_signals_fn(runtime.settings.scoring_config),
            scoring_config=runtime.settings.scoring_config,
        )
    except TrainingError as error:
        return {"as_of": as_of.isoformat(), "skipped": str(error)}
    return {
        "as_of": as_of.isoformat(),
        "version": report.version,
        "promoted": report.promoted,
        "rows": report.outcome.n_rows,
    }


# -- hourly ----------------------------------------------------------------------------------
def reminders(runtime: Runtime, clock: Clock) -> dict[str, Any]:
    """Escalate slipped playbook steps (CSM → manager → executive), then queue each
    person's daily roll-up once their digest time has passed (`bot.plays.rollup`): one
    message a person a day, never one per step."""

    client = _client(runtime)
    now = clock.now()
    with Session(runtime.engine, expire_on_commit=False) as session:
        escalations = escalate_overdue(
            session, clock=clock, grace_hours=runtime.settings.escalation_grace_hours
        )
        counts = queue_rollups(
            session,
            clock=clock,
            settings=runtime.settings,
            client=client,
            due=lambda who: rollup_day(session, who, now, runtime.settings),
        )
        session.commit()
    detail: dict[str, Any] = {"escalated": len(escalations), "rollups": counts}
    detail.update(_deliver(runtime, clock, client))
    return detail


# -- digests -----------------------------------------------------------------------------------
def due_digest_owners(
    session: Session, runtime: Runtime, clock: Clock, client: Any
) -> dict[dt.date, list[str]]:
    """People whose digest is due and not queued (nor held) yet, grouped by their local
    date: owners of accounts and anyone who set preferences (a manager with scope "team",
    a leader with "all", a cover). Due means their local time has passed their digest time
    (theirs, else CSBOT_DIGEST_TIME) on one of their digest days, and they are not away.

    A person's time zone is Slack's (users.info / lookupByEmail) unless every digest goes
    to one channel (CSBOT_DIGEST_CHANNEL), when CSBOT_TIMEZONE is used for all.
    """

    settings = runtime.settings
    owners = session.exec(
        select(Account.owner).where(col(Account.owner).is_not(None)).distinct()
    ).all()
    people = {o.lower() for o in owners if o}
    people |= {row.email.lower() for row in all_rows(session) if row.email}
    now = clock.now()
    from bot.plays.rollup import rollup_readers  # managers hearing of escalated steps

    people |= rollup_readers(session, now=now, settings=settings)
    due: dict[dt.date, list[str]] = defaultdict(list)
    for person in sorted(people):
        if not settings.digest_channel:
            try:
                resolve_user(
                    session, client, person, clock, mapping_file=settings.user_mapping_file
                )
            except SlackDeliveryError as error:
                logger.warning("digest: time zone of %s unknown (%s)", person, error.code)
        if settings.digest_channel:
            day = due_day_in(settings.timezone, person, session, now, settings)
        else:
            day = due_day(session, person, now, settings)
        if day is not None:
            due[day].append(person)
    keys = {digest_key(p, day): (day, p) for day, people_ in due.items() for p in people_}
    if keys:
        decided = set(
            session.exec(select(DeliveryLedger.key).where(col(DeliveryLedger.key).in_(list(keys))))
        ) | set(
            session.exec(
                select(OutboxMessage.idempotency_key).where(
                    col(OutboxMessage.idempotency_key).in_(list(keys))
                )
            )
        )
        due = defaultdict(list)
        for key, (day, person) in keys.items():
            if key not in decided:
                due[day].append(person)
    return dict(due)


def due_day_in(
    tz: str, person: str, session: Session, now: dt.datetime, settings: Settings
) -> dt.date | None:
    """`due_day` with the time zone forced (everyone's digest in one channel)."""

    prefs = prefs_for(session, person, settings)
    moment = now.replace(tzinfo=dt.UTC).astimezone(zoneinfo.ZoneInfo(tz))
    if moment.time().replace(tzinfo=None) < prefs.digest_time:
        return None
    if moment.weekday() not in prefs.digest_days or prefs.away_on(moment.date()):
        return None
    return moment.date()


def fold_rollups(
    session: Session,
    built: list[Any],
    owners: list[str],
    *,
    as_of: dt.date,
    clock: Clock,
    settings: Settings,
) -> list[Any]:
    """The digests with each person's reminders roll-up inside (a digest for someone with
    only a roll-up, too), each roll-up noted as folded so the `reminders` job does not send
    it as a second message on a digest day."""
    from dataclasses import replace

    now = clock.now()
    rollups = rollups_to_fold(session, people=owners, now=now, settings=settings)
    if not rollups:
        return built
    by_owner = {digest.owner: digest for digest in built}
    out = list(built)
    for who, rollup in sorted(rollups.items()):
        key = rollup_key(who, as_of)
        if session.exec(select(DeliveryLedger.id).where(DeliveryLedger.key == key)).first():
            continue  # already sent on its own (or folded) today
        lines = rollup_lines(rollup, now)
        digest = by_owner.get(who)
        if digest is None:
            out.append(Digest(owner=who, as_of=as_of, reminders=lines))
        else:
            out[out.index(digest)] = replace(digest, reminders=lines)
        items = [{"account_id": a, "rule": "overdue_step"} for a in rollup.own] + [
            {"account_id": a, "rule": "escalation"} for a in rollup.escalated
        ]
        record_folded(session, key=key, recipient=who, kind=Kind.REMINDERS, day=as_of,
                      now=now, items=items)  # fmt: skip
    return out


def _log_skip_once(runtime: Runtime, as_of: dt.date, problem: str) -> None:
    """Warn that `as_of`'s digests are not queued the first time a run meets it; later
    runs that day say it at debug level (the job's detail still carries it each run)."""
    logged = _SKIP_LOGGED.setdefault(runtime.engine, set())
    if as_of in logged:
        logger.debug("digests for %s not queued: %s", as_of, problem)
        return
    logger.warning("digests for %s not queued: %s", as_of, problem)
    logged.intersection_update({d for d in logged if d > as_of - dt.timedelta(days=7)})
    logged.add(as_of)


def digests(runtime: Runtime, clock: Clock) -> dict[str, Any]:
    """Queue today's digest for every person whose local digest time has passed (the
    outbox key `digest:<email>:<date>` makes it once a day; the noise budget decides),
    then deliver."""

    client = _client(runtime)
    settings = runtime.settings
    queued = 0
    due_count = 0
    skipped: list[str] = []
    with Session(runtime.engine, expire_on_commit=False) as session:
        due = due_digest_owners(session, runtime, clock, client)
        session.commit()  # user lookups are cached even if nothing is due
        library = _library(runtime) if due else None
        for as_of, owners in sorted(due.items()):
            due_count += len(owners)
            problem = outside_data(runtime, as_of)
            if problem:  # yesterday's scores would read as today's
                _log_skip_once(runtime, as_of, problem)
                skipped.append(problem)
                continue
            audience = load_audiences(session, settings, dict.fromkeys(owners, as_of))
            built = build_digests(
                session,
                as_of,
                size=settings.digest_size,
                library=library,
                now=clock.now(),
                audience=audience,
                rules=attention_rules(session, settings),
            )
            built = fold_rollups(
                session, built, owners, as_of=as_of, clock=clock, settings=settings
            )
            rows = queue_digests(
                session, built, as_of=as_of, clock=clock, settings=settings, client=client
            )
            session.commit()
            queued += len(rows)
    detail: dict[str, Any] = {"due": due_count, "queued": queued}
    if skipped:
        detail["skipped"] = "; ".join(dict.fromkeys(skipped))
    detail.update(_deliver(runtime, clock, client))
    return detail


# -- weekly ------------------------------------------------------------------------------------
def leaders(runtime: Runtime, clock: Clock) -> dict[str, Any]:
    """Queue the weekly leaders' summary in CSBOT_LEADERS_CHANNEL (once per ISO week)."""
    channel = runtime.settings.leaders_channel
    if not channel:
        return {"skipped": "CSBOT_LEADERS_CHANNEL is not set"}

    as_of = local_date(clock, runtime.settings.timezone)
    year, week, _ = as_of.isocalendar()
    client = _client(runtime)
    with Session(runtime.engine, expire_on_commit=False) as session:
        payload = leaders_summary_message(session, as_of=as_of, library=_library(runtime))
        key = f"leaders:{year}-W{week:02d}"
        queue_budgeted(
            session,
            kind=MessageKind.LEADERS,
            recipient=channel,
            key=key,
            channel=channel,
            message=payload,
            clock=clock,
            settings=runtime.settings,
        )
        session.commit()
    detail: dict[str, Any] = {"as_of": as_of.isoformat(), "key": key}
    detail.update(_deliver(runtime, clock, client))
    return detail


# -- the outbox --------------------------------------------------------------------------------
def deliver(runtime: Runtime, clock: Clock) -> dict[str, Any]:
    """Deliver whatever is due in the outbox (retries, and messages queued by the CLI)."""
    return _deliver(runtime, clock, _client(runtime))


def _deliver(runtime: Runtime, clock: Clock, client: Any) -> dict[str, Any]:
    if client is None:
        return {"delivery": "offline (CSBOT_SLACK_BOT_TOKEN is not set)"}

    stats = deliver_pending(runtime.engine, client, clock)
    return {
        "sent": stats.sent + stats.reconciled,
        "retried": stats.retried,
        "failed": stats.failed,
        **({"halted": stats.halted} if stats.halted else {}),
    }


# -- preparation (bot.prep) ----------------------------------------------------------------------
def qbr_drafts(runtime: Runtime, clock: Clock) -> dict[str, Any]:
    """Draft the QBRs a week out and queue each to its CSM with the file; deliver."""
    from bot.prep.scheduled import qbr_drafts as queue_qbrs

    client = _client(runtime)
    detail = queue_qbrs(runtime, clock, client, local_date(clock, runtime.settings.timezone))
    detail.update(_deliver(runtime, clock, client))
    return detail


def review_drafts(runtime: Runtime, clock: Clock) -> dict[str, Any]:
    """Propose email drafts for open message steps; show each CSM theirs to review; deliver."""
    from bot.prep.scheduled import review_drafts as queue_drafts

    client = _client(runtime)
    detail = queue_drafts(runtime, clock, client, local_date(clock, runtime.settings.timezone))
    detail.update(_deliver(runtime, clock, client))
    return detail


def voc(runtime: Runtime, clock: Clock) -> dict[str, Any]:
    """The week's voice-of-the-customer themes in CSBOT_VOC_CHANNEL; deliver."""
    from bot.prep.scheduled import voc as queue_voc

    detail = queue_voc(runtime, clock, local_date(clock, runtime.settings.timezone))
    if "skipped" not in detail:
        detail.update(_deliver(runtime, clock, _client(runtime)))
    return detail
