"""Playbooks in Slack, from database state: starting a run (a `/cs` command, a digest
button, the start modal: one flow so every entry point checks permission, refuses
duplicates and posts the run), a run's and a step's message, my open steps.
"""

from __future__ import annotations

import datetime as dt
import difflib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from slack_sdk import WebClient
from slack_sdk.models.blocks import ContextBlock
from sqlmodel import Session, col, or_, select

from bot.accounts import service as book
from bot.plays.messages import run_actions, step_blocks, steps_list, with_run_actions
from bot.plays.messages import run_message as run_layout
from bot.plays.messages import step_message as step_layout
from bot.slack import blocks as render
from bot.slack import format as fmt
from bot.slack.deps import RenderContext, SlackDeps
from bot.slack.errors import BadInput
from bot.slack.format import escape
from bot.slack.middleware import Origin
from bot.slack.replies import account_thread
from bot.slack.send import Where, send
from storage.enums import MessageKind, Source
from storage.latest_scores import newest_scores
from storage.models import Account, PlaybookRun, PlaybookStep


def resolve_playbook(library: dict[str, Any], name: str) -> Any:
    """A playbook by exact name, or the one close match; else a BadInput naming the choices."""
    if name in library:
        return library[name]
    by_lower = {key.lower(): key for key in library}
    if name.lower() in by_lower:
        return library[by_lower[name.lower()]]
    close = difflib.get_close_matches(name.lower(), list(by_lower), n=1, cutoff=0.75)
    if close:
        return library[by_lower[close[0]]]
    known = ", ".join(f"`{key}`" for key in sorted(library)) or "none loaded"
    raise BadInput(f"No playbook named `{name}`. Known playbooks: {known}")


def suggested_names(deps: SlackDeps, session: Session, account_id: str) -> list[str]:
    """Playbook names for a start menu, the plays suggested for the account's score first."""
    names = sorted(deps.library)
    score = newest_scores(session, account_ids=[account_id]).get(account_id)
    if score is None:
        return names
    try:
        from playbooks.suggest import suggest_playbooks

        suggested = [n for n in suggest_playbooks(score, deps.library) if n in deps.library]
    except ImportError:
        suggested = []
    return suggested + [name for name in names if name not in suggested]


def start_playbook(
    deps: SlackDeps,
    session: Session,
    client: WebClient,
    *,
    account: Account,
    playbook_name: str,
    user_id: str,
    email: str | None,
    origin: Origin,
) -> tuple[PlaybookRun, bool]:
    """Start `playbook_name` on `account` unless it already runs; post the run message in
    the account's thread (or the starter's DM). Returns (run, started_now)."""
    from playbooks import engine
    from playbooks.errors import InvalidTransition

    deps.policy.check(user_id=user_id, email=email, owners=[account.owner], what=account.name)
    playbook = resolve_playbook(deps.library, playbook_name)
    name = getattr(playbook, "name", playbook_name)
    with deps.one_at_a_time(account.account_id):
        running = session.exec(
            select(PlaybookRun).where(
                PlaybookRun.account_id == account.account_id,
                PlaybookRun.playbook == name,
                PlaybookRun.status == "active",
            )
        ).first()
        if running is not None:
            return running, False
        try:
            run = engine.start_run(
                session,
                account_id=account.account_id,
                playbook=playbook,
                actor=user_id,
                source=Source.SLACK,
                clock=deps.clock,
                reason=f"started from Slack by {user_id}",
            )
            session.commit()
        except InvalidTransition:  # another process started it a moment ago
            session.rollback()
            running = session.exec(
                select(PlaybookRun).where(
                    PlaybookRun.account_id == account.account_id,
                    PlaybookRun.playbook == name,
                    PlaybookRun.status == "active",
                )
            ).first()
            if running is None:
                raise
            return running, False
    message = run_message(session, run, deps.library, deps.clock.now())
    thread = account_thread(session, origin, account.account_id)
    where = Where(channel=thread[0], thread_ts=thread[1]) if thread else Where(channel=user_id)
    send(session, client, deps.clock, kind=MessageKind.RUN, where=where, message=message,
         subject={"run_id": run.id})  # fmt: skip
    return run, True


# -- what a run, a step and my open steps show ------------------------------------------

MY_STEPS = 12


def title_of(library: Mapping[str, Any], name: str) -> str:
    playbook = library.get(name)
    return getattr(playbook, "title", None) or name.replace("_", " ")


def run_message(
    session: Session, run: PlaybookRun, library: Mapping[str, Any], now: dt.datetime
) -> dict[str, Any]:
    """A playbook run with its steps (`bot.plays.messages`) and the run's own buttons."""
    _run, steps, outcome = book.run_state(session, run)
    account = session.get(Account, run.account_id)
    message = run_layout(
        run,
        steps,
        account_name=account.name if account else run.account_id,
        playbook_title=title_of(library, run.playbook),
        now=now,
    )
    if run.status != "active":  # a closed run's open steps take no more clicks
        message = {**message, "blocks": [b for b in message["blocks"] if not is_step_actions(b)]}
    return with_run_actions(message, run_actions(run, outcome))


def is_step_actions(block: dict[str, Any]) -> bool:
    return block.get("type") == "actions" and any(
        str(element.get("action_id", "")).startswith("step-")
        for element in block.get("elements") or []
    )


def status_message(
    session: Session, account: Account, library: Mapping[str, Any], now: dt.datetime
) -> tuple[dict[str, Any], int | None]:
    """`/cs playbook status`: the latest run in full (its id returned with the message),
    earlier ones in a line each."""
    runs = session.exec(
        select(PlaybookRun)
        .where(PlaybookRun.account_id == account.account_id)
        .order_by(col(PlaybookRun.status) != "active", col(PlaybookRun.started_at).desc())
    ).all()
    if not runs:
        return render.notice(
            f"No playbook runs on {escape(account.name)} yet. Start one with `/cs playbook start`."
        ), None
    message = run_message(session, runs[0], library, now)
    if len(runs) > 1:
        earlier = " · ".join(
            f"{escape(title_of(library, run.playbook))} ({run.status}, {fmt.when(run.started_at.date())})"
            for run in runs[1:6]
        )
        line = ContextBlock(
            block_id="runs-earlier", elements=[render.mrkdwn(f"Earlier: {earlier}")]
        )
        message = with_run_actions(message, [line])
    return message, runs[0].id


def my_steps_message(
    session: Session, email: str, user_id: str, library: Mapping[str, Any], now: dt.datetime
) -> dict[str, Any]:
    """`/cs my`: my open steps by due date, each with its buttons."""
    found = open_steps(session, [email, user_id], library)
    if not found:
        return render.notice("You have no open playbook steps.")
    groups = []
    for item in found[:MY_STEPS]:
        about = ContextBlock(
            block_id=f"my-step-{item.step.id}-about",
            elements=[
                render.mrkdwn(f"*{escape(item.account_name)}* · {escape(item.playbook_title)}")
            ],
        )
        groups.append([block.to_dict() for block in (about, *step_blocks(item.step, now=now))])
    return steps_list(f"Your open steps ({len(found)})", groups, len(found) - len(groups))


def step_message(
    session: Session, step_id: int, library: Mapping[str, Any], now: dt.datetime
) -> dict[str, Any] | None:
    """One step's own message (a reminder or escalation, `bot.plays.messages`)."""
    step = session.get(PlaybookStep, step_id)
    run = session.get(PlaybookRun, step.run_id) if step else None
    if step is None or run is None:
        return None
    account = session.get(Account, run.account_id)
    return step_layout(
        step,
        account_name=account.name if account else run.account_id,
        playbook_title=title_of(library, run.playbook),
        now=now,
    )


@dataclass(frozen=True)
class OpenStep:
    step: PlaybookStep
    run: PlaybookRun
    account_name: str
    playbook_title: str


def open_steps(
    session: Session, identities: list[str], library: Mapping[str, Any] | None = None
) -> list[OpenStep]:
    """Open steps of active runs owned by one of `identities` (email, Slack id): the step's
    own owner, or the run's owner when the step has none. Soonest due first."""
    rows = session.exec(
        select(PlaybookStep, PlaybookRun, Account.name)
        .join(PlaybookRun, col(PlaybookRun.id) == col(PlaybookStep.run_id))
        .join(Account, col(Account.account_id) == col(PlaybookRun.account_id))
        .where(
            PlaybookStep.status == "open",
            PlaybookRun.status == "active",
            or_(
                col(PlaybookStep.owner).in_(identities),
                (col(PlaybookStep.owner).is_(None)) & (col(PlaybookRun.owner).in_(identities)),
            ),
        )
        .order_by(col(PlaybookStep.due_at), col(PlaybookStep.id))
    ).all()
    found = []
    for step, run, name in rows:
        playbook = (library or {}).get(run.playbook)
        title = getattr(playbook, "title", None) or run.playbook.replace("_", " ")
        found.append(OpenStep(step, run, name, title))
    return found


# -- renderers: a stored message of each kind, from current state ------------------------------


def render_run(
    session: Session, subject: Mapping[str, Any], context: RenderContext
) -> dict[str, Any] | None:
    """A run message stored with `{"run_id"}`."""
    run = session.get(PlaybookRun, int(subject.get("run_id") or 0))
    return run_message(session, run, context.library, context.now) if run else None


def render_step(
    session: Session, subject: Mapping[str, Any], context: RenderContext
) -> dict[str, Any] | None:
    """A step's reminder or escalation stored with `{"step_id"}`: the step as it is now."""
    return step_message(session, int(subject.get("step_id") or 0), context.library, context.now)


def render_my_steps(
    session: Session, subject: Mapping[str, Any], context: RenderContext
) -> dict[str, Any] | None:
    """`/cs my` stored with `{"email", "user_id"}`: their open steps now."""
    email, user_id = subject.get("email"), subject.get("user_id")
    if not email or not user_id:
        return None
    return my_steps_message(session, str(email), str(user_id), context.library, context.now)
