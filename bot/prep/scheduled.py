"""The preparation jobs' bodies (wrapped by `bot.scheduling.jobs`): QBR drafts a week out,
drafts held for review, the weekly voice-of-the-customer post. Each returns counts only.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlmodel import Session

from bot.prep.service import queue_review_drafts, queue_upcoming_qbrs, queue_voc
from bot.runtime import Runtime
from storage.clock import Clock

QBR_DAYS_AHEAD = 7


def qbr_drafts(runtime: Runtime, clock: Clock, client: Any, day: dt.date) -> dict[str, Any]:
    """Draft every QBR on the calendar a week out (a future `qbr` touchpoint or a QBR
    meeting step) and queue each to its account's owner with the draft as a file."""
    from playbooks.prep.qbr import prepare_upcoming_qbrs

    drafts = prepare_upcoming_qbrs(runtime.engine, clock, days_ahead=QBR_DAYS_AHEAD)
    with Session(runtime.engine, expire_on_commit=False) as session:
        drafts = [session.merge(draft) for draft in drafts]
        counts = queue_upcoming_qbrs(session, drafts, clock=clock, settings=runtime.settings,
                                     client=client)  # fmt: skip
        session.commit()
    return {"as_of": day.isoformat(), "drafted": len(drafts), **counts}


def review_drafts(runtime: Runtime, clock: Clock, client: Any, day: dt.date) -> dict[str, Any]:
    """Propose drafts for open message steps (templates, or the writer when configured),
    then show each person the drafts they have not seen yet."""
    from playbooks.prep.drafts import propose_drafts
    from playbooks.prep.writer import Writer

    settings = runtime.settings
    with Session(runtime.engine, expire_on_commit=False) as session:
        writer = Writer(settings.writer_config(), runtime.engine, clock)
        created = propose_drafts(session, clock=clock, writer=writer)
        session.commit()
        counts = queue_review_drafts(session, clock=clock, settings=settings, client=client,
                                     day=day)  # fmt: skip
        session.commit()
    return {"as_of": day.isoformat(), "proposed": len(created), **counts}


def voc(runtime: Runtime, clock: Clock, day: dt.date) -> dict[str, Any]:
    """The themes of the 90 days to `day` in CSBOT_VOC_CHANNEL, once per ISO week."""
    channel = runtime.settings.voc_channel
    if not channel:
        return {"skipped": "CSBOT_VOC_CHANNEL is not set"}
    from scoring.voc.service import voc_report

    report = voc_report(runtime.engine, end=day)
    year, week, _ = day.isocalendar()
    key = f"voc:{year}-W{week:02d}"
    with Session(runtime.engine, expire_on_commit=False) as session:
        queue_voc(session, report.to_json(), channel=channel, key=key, clock=clock,
                  settings=runtime.settings)  # fmt: skip
        session.commit()
    return {"as_of": day.isoformat(), "key": key, "themes": len(report.themes)}
