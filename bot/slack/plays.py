"""Starting a playbook from Slack (a `/cs` command, a digest button, the start modal):
one flow so every entry point checks permission, refuses duplicates and posts the run.
"""

from __future__ import annotations

import difflib
from typing import Any

from slack_sdk import WebClient
from sqlmodel import Session, select

from bot.ids import ButtonValue
from bot.slack import book, screens
from bot.slack.deps import SlackDeps
from bot.slack.errors import BadInput
from bot.slack.middleware import Origin
from bot.slack.replies import account_thread, refresh_origin
from storage.models import Account, PlaybookRun


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
    score = book.latest_scores(session, [account_id]).get(account_id)
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
    respond: Any = None,
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
                source="slack",
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
    message = screens.run_message(session, run, deps.library, deps.clock.now())
    thread = account_thread(session, origin, account.account_id)
    if thread is not None:
        client.chat_postMessage(channel=thread[0], thread_ts=thread[1], **message)
    else:
        client.chat_postMessage(channel=user_id, **message)
    refresh_origin(
        session,
        client,
        origin,
        ButtonValue(account_id=account.account_id),
        library=deps.library,
        now=deps.clock.now(),
        respond=respond,
    )
    return run, True
