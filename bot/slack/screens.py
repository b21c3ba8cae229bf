"""What each interaction shows, from database state: the data comes from `bot.digest`
loaders and the layout from `bot.messages` (one place per message kind); this module
only joins the two and adds the run-level buttons the Slack app owns.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from bot.slack import book, render
from storage.models import Account, AccountScore, PlaybookRun, PlaybookStep

MY_STEPS = 12


def title_of(library: Mapping[str, Any], name: str) -> str:
    playbook = library.get(name)
    return getattr(playbook, "title", None) or name.replace("_", " ")


def latest_as_of(session: Session) -> dt.date | None:
    return session.exec(select(func.max(AccountScore.as_of))).one()


def account_card(session: Session, account: Account, library: Mapping[str, Any]) -> dict[str, Any]:
    """The health card (`bot.messages.account_card`), or a line when never scored."""
    from bot.digest.cards import load_account_card
    from bot.messages.account_card import account_card_message

    card = load_account_card(session, account.account_id, library=library)
    if card is None:
        return render.notice(f"*{account.name}* (`{account.account_id}`) has not been scored yet.")
    return account_card_message(card)


def run_message(
    session: Session, run: PlaybookRun, library: Mapping[str, Any], now: dt.datetime
) -> dict[str, Any]:
    """A playbook run with its steps (`bot.messages.steps`) and the run's own buttons."""
    from bot.messages.steps import run_message as steps_message

    _run, steps, outcome = book.run_state(session, run)
    account = session.get(Account, run.account_id)
    message = steps_message(
        run,
        steps,
        account_name=account.name if account else run.account_id,
        playbook_title=title_of(library, run.playbook),
        now=now,
    )
    if run.status != "active":  # a closed run's open steps take no more clicks
        message = {**message, "blocks": [b for b in message["blocks"] if not is_step_actions(b)]}
    return render.with_run_actions(message, render.run_actions(run, outcome))


def is_step_actions(block: dict[str, Any]) -> bool:
    return block.get("type") == "actions" and any(
        str(element.get("action_id", "")).startswith("step-")
        for element in block.get("elements") or []
    )


def status_message(
    session: Session, account: Account, library: Mapping[str, Any], now: dt.datetime
) -> dict[str, Any]:
    """`/cs playbook status`: the latest run in full, earlier ones in a line each."""
    runs = session.exec(
        select(PlaybookRun)
        .where(PlaybookRun.account_id == account.account_id)
        .order_by(col(PlaybookRun.status) != "active", col(PlaybookRun.started_at).desc())
    ).all()
    if not runs:
        return render.notice(
            f"No playbook runs on {account.name} yet. Start one with `/cs playbook start`."
        )
    message = run_message(session, runs[0], library, now)
    if len(runs) > 1:
        earlier = " · ".join(
            f"{title_of(library, run.playbook)} ({run.status}, {render.when(run.started_at.date())})"
            for run in runs[1:6]
        )
        from slack_sdk.models.blocks import ContextBlock

        line = ContextBlock(
            block_id="runs-earlier", elements=[render.mrkdwn(f"Earlier: {earlier}")]
        )
        message = render.with_run_actions(message, [line])
    return message


def my_steps_message(
    session: Session, email: str, user_id: str, library: Mapping[str, Any], now: dt.datetime
) -> dict[str, Any]:
    """`/cs my`: my open steps by due date, each with its buttons."""
    from slack_sdk.models.blocks import ContextBlock

    from bot.digest.home import open_steps
    from bot.messages.steps import step_blocks

    found = open_steps(session, [email, user_id], library)
    if not found:
        return render.notice("You have no open playbook steps.")
    groups = []
    for item in found[:MY_STEPS]:
        about = ContextBlock(
            block_id=f"my-step-{item.step.id}-about",
            elements=[render.mrkdwn(f"*{item.account_name}* · {item.playbook_title}")],
        )
        groups.append([block.to_dict() for block in (about, *step_blocks(item.step, now=now))])
    return render.steps_list(f"Your open steps ({len(found)})", groups, len(found) - len(groups))


def home_view(
    session: Session,
    email: str | None,
    user_id: str,
    library: Mapping[str, Any],
    now: dt.datetime,
    *,
    size: int,
    tz: str | None = None,
) -> dict[str, Any]:
    """The App Home (`bot.messages.home`) for `email`; a short note when csbot cannot
    place the user."""
    from bot.digest.home import load_home
    from bot.messages.home import home_view as render_home

    if not email:
        text = (
            "csbot cannot see your email, so it does not know your accounts. "
            "Ask an admin to add you to the user mapping file."
        )
        return {"type": "home", "blocks": render.notice(text)["blocks"]}
    home = load_home(
        session,
        book.owner_spelling(session, email),
        as_of=latest_as_of(session),
        user_id=user_id,
        library=library,
        size=size,
        now=now,
    )
    return render_home(home, tz=tz, now=now)


def step_message(
    session: Session, step_id: int, library: Mapping[str, Any], now: dt.datetime
) -> dict[str, Any] | None:
    """One step's own message (a reminder or escalation, `bot.messages.steps`)."""
    from bot.messages.steps import step_message as render_step

    step = session.get(PlaybookStep, step_id)
    run = session.get(PlaybookRun, step.run_id) if step else None
    if step is None or run is None:
        return None
    account = session.get(Account, run.account_id)
    return render_step(
        step,
        account_name=account.name if account else run.account_id,
        playbook_title=title_of(library, run.playbook),
        now=now,
    )
