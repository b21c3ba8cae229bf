"""Which jobs exist, when each runs, and how a missed run is treated.

Misfire grace and coalescing, chosen per job:
- nightly (02:00, CSBOT_TIMEZONE): grace 6 h — a scheduler down at 02:00 and back by
  08:00 still scores before the morning digests; later than that the run is skipped
  (the next night covers it). coalesce: several missed nights → one run, since scoring as
  of today supersedes the missed days.
- digests (every 15 minutes): grace 10 min, coalesce. The job catches up by itself (it
  queues every digest whose local time has passed and is not queued yet), so a missed tick
  costs nothing and a backlog of ticks must not run N times.
- reminders (hourly at :05): grace 30 min, coalesce: escalation is computed from the
  current time, so one run after an outage does the work of all missed ones.
- leaders (Mondays 08:00, CSBOT_TIMEZONE): grace 12 h, coalesce: a late summary the same
  day is still useful; the outbox key `leaders:<ISO week>` keeps it to one per week.
- retrain (Sundays 04:00, CSBOT_TIMEZONE): grace 24 h, coalesce: a challenger trained a
  day late is as good; the registry's champion/challenger rule decides whether it serves.
- deliver (every 20 s): grace 20 s, coalesce: only "now" matters for draining the outbox.
Every job has max_instances=1 in a process; across replicas the lease in `runner` rules.

`slot` names the occurrence a run serves (a date, an hour, an ISO week): a replica that
was waiting for the lease, or a scheduler started late, skips an occurrence that another
process already finished.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.scheduling import jobs
from bot.settings import Settings

JobFunc = Callable[[Any, Any], dict[str, Any]]


def _local(now: dt.datetime, tz: str) -> dt.datetime:
    return now.replace(tzinfo=dt.UTC).astimezone(zoneinfo.ZoneInfo(tz))


def daily_slot(now: dt.datetime, settings: Settings) -> str:
    return _local(now, settings.timezone).date().isoformat()


def hourly_slot(now: dt.datetime, settings: Settings) -> str:
    return now.strftime("%Y-%m-%dT%H")


def quarter_hour_slot(now: dt.datetime, settings: Settings) -> str:
    return now.replace(minute=now.minute - now.minute % 15).strftime("%Y-%m-%dT%H:%M")


def weekly_slot(now: dt.datetime, settings: Settings) -> str:
    year, week, _ = _local(now, settings.timezone).date().isocalendar()
    return f"{year}-W{week:02d}"


@dataclass(frozen=True)
class JobSpec:
    name: str
    func: JobFunc
    description: str
    trigger: Callable[[Any], BaseTrigger] | None  # None: only `csbot run-job`
    misfire_grace_seconds: int = 60
    coalesce: bool = True
    slot: Callable[[dt.datetime, Any], str] | None = None
    #: Wait for a live holder to finish (then skip if it finished this slot; take over if
    #: it died). False for frequent jobs: the next tick will do.
    wait_for_holder: bool = True
    max_wait_seconds: float = 3 * 3600


JOBS: dict[str, JobSpec] = {}


def register(spec: JobSpec) -> JobSpec:
    JOBS[spec.name] = spec
    return spec


def get(name: str) -> JobSpec:
    try:
        return JOBS[name]
    except KeyError:
        raise KeyError(f"no job named {name!r}; jobs: {', '.join(sorted(JOBS))}") from None


register(
    JobSpec(
        "nightly",
        jobs.nightly,
        "import (CSBOT_IMPORT_DIR), score, alert, evaluate playbook triggers",
        lambda s: CronTrigger(hour=2, minute=0, timezone=s.timezone),
        misfire_grace_seconds=6 * 3600,
        slot=daily_slot,
    )
)
register(
    JobSpec(
        "digests",
        jobs.digests,
        "queue each CSM's digest once their local CSBOT_DIGEST_TIME has passed; deliver",
        lambda s: CronTrigger(minute="*/15", timezone="UTC"),
        misfire_grace_seconds=600,
        slot=quarter_hour_slot,
        wait_for_holder=False,
    )
)
register(
    JobSpec(
        "reminders",
        jobs.reminders,
        "escalate slipped playbook steps and queue the notices",
        lambda s: CronTrigger(minute=5, timezone="UTC"),
        misfire_grace_seconds=1800,
        slot=hourly_slot,
        max_wait_seconds=1800,
    )
)
register(
    JobSpec(
        "leaders",
        jobs.leaders,
        "the weekly leaders' summary in CSBOT_LEADERS_CHANNEL",
        lambda s: CronTrigger(day_of_week="mon", hour=8, minute=0, timezone=s.timezone),
        misfire_grace_seconds=12 * 3600,
        slot=weekly_slot,
    )
)
register(
    JobSpec(
        "retrain",
        jobs.retrain,
        "train a challenger churn model (feedback included); promote it only if it wins",
        lambda s: CronTrigger(day_of_week="sun", hour=4, minute=0, timezone=s.timezone),
        misfire_grace_seconds=24 * 3600,
        slot=weekly_slot,
    )
)
register(
    JobSpec(
        "deliver",
        jobs.deliver,
        "deliver due outbox messages (retries included)",
        lambda s: IntervalTrigger(seconds=20),
        misfire_grace_seconds=20,
        wait_for_holder=False,
    )
)
# Steps of the nightly job, runnable alone with `csbot run-job`.
register(JobSpec("import", jobs.import_data, "import CSBOT_IMPORT_DIR", None, slot=daily_slot))
register(
    JobSpec("score", jobs.score, "score every live account as of today", None, slot=daily_slot)
)
register(
    JobSpec(
        "alerts",
        jobs.alerts,
        "queue risk/expansion alerts for today's scores",
        None,
        slot=daily_slot,
    )
)
register(
    JobSpec(
        "triggers", jobs.triggers, "start playbook runs whose triggers fire", None, slot=daily_slot
    )
)
