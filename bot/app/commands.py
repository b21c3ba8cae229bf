"""The `/cs` slash command: parse in the ack (help answers at once), work in a lazy
listener, answer ephemerally through the response_url.
"""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient
from slack_sdk.models.blocks import Block, SectionBlock
from sqlmodel import Session

from bot.accounts import cards
from bot.accounts import messages as account_messages
from bot.accounts import service as book
from bot.app.command_parse import (
    USAGE,
    AccountCard,
    Book,
    Command,
    MySteps,
    OpenSettings,
    PlaybookList,
    PlaybookStart,
    PlaybookStatus,
    PostDigest,
    Renewals,
    Usage,
    parse,
)
from bot.plays import messages as play_messages
from bot.plays import service as plays
from bot.slack import blocks as render
from bot.slack.deps import SlackDeps
from bot.slack.errors import BadInput, UnknownAccount
from bot.slack.identity import email_for_user
from bot.slack.middleware import Origin
from bot.slack.replies import guarded
from storage.models import Account

COMMAND = "/cs"


def register(app: App, deps: SlackDeps) -> None:
    def acknowledge(ack: Ack, body: dict[str, Any]) -> None:
        command = parse(body.get("text"))
        if isinstance(command, Usage):
            ack(response_type="ephemeral", **usage_message(command.problem))
        else:
            ack()

    @guarded
    def answer(
        body: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext
    ) -> None:
        command = parse(body.get("text"))
        if isinstance(command, Usage):
            return
        with deps.session() as session:
            message = run_command(deps, session, client, command, body, respond)
        if message is not None:
            respond(response_type="ephemeral", replace_original=False, **message)

    app.command(COMMAND)(ack=acknowledge, lazy=[answer])


def find_one(session: Session, query: str, then: str) -> Account | dict[str, Any]:
    """The one account `query` names, or a choice message when several match."""
    found = book.find_accounts(session, query)
    if not found:
        raise UnknownAccount(f"No account matches `{query}`. Try part of its name or its id.")
    if len(found) > 1:
        return account_messages.choose_account(query, found, then=then)
    return found[0]


def require_email(email: str | None) -> str:
    if not email:
        raise BadInput(
            "csbot does not know which accounts are yours: your Slack profile has no email "
            "it can see. Ask an admin to add you to the user mapping file."
        )
    return email


def run_command(
    deps: SlackDeps,
    session: Session,
    client: WebClient,
    command: Command,
    body: dict[str, Any],
    respond: Respond,
) -> dict[str, Any] | None:
    """One `/cs` command → the message to answer with (None when already answered)."""
    user_id = body["user_id"]
    email = email_for_user(session, client, user_id, deps.clock)
    today = deps.clock.now().date()
    match command:
        case AccountCard(query):
            found = find_one(session, query, then="card")
            if isinstance(found, dict):
                return found
            return cards.account_card(session, found, deps.library, deps.clock.now())
        case Book(kind):
            views = book.my_book(session, require_email(email))
            if kind == "risk":
                return account_messages.book_message(
                    "Your accounts by risk",
                    book.rank_by_risk(views),
                    "None of your accounts has a score yet.",
                )
            return account_messages.book_message(
                "Your expansion candidates",
                book.rank_by_expansion(views),
                "No expansion candidates in your book right now.",
            )
        case Renewals(days):
            rows = book.renewals(session, require_email(email), today, days)
            return account_messages.renewals_message(days, rows, today)
        case PlaybookList():
            return play_messages.playbook_list(deps.library[name] for name in sorted(deps.library))
        case PlaybookStart(account_query, playbook):
            found = find_one(session, account_query, then=f"start:{playbook}")
            if isinstance(found, dict):
                return found
            origin = Origin(
                channel=body.get("channel_id"),
                response_url=body.get("response_url"),
                ephemeral=True,
            )
            run, started = plays.start_playbook(
                deps, session, client, account=found, playbook_name=playbook,
                user_id=user_id, email=email, origin=origin,
            )  # fmt: skip
            if not started:
                return render.notice(
                    f"{run.playbook} is already running on {found.name} (run {run.id}, "
                    f"started by {render.who(run.started_by)} {render.when(run.started_at)})."
                )
            return render.notice(
                f"Started {run.playbook} on {found.name} (run {run.id}); its steps are posted in the account's thread."
            )
        case PlaybookStatus(account_query):
            found = find_one(session, account_query, then="status")
            if isinstance(found, dict):
                return found
            return plays.status_message(session, found, deps.library, deps.clock.now())
        case MySteps():
            return plays.my_steps_message(
                session, require_email(email), user_id, deps.library, deps.clock.now()
            )
        case PostDigest():
            return post_my_digest(deps, session, client, user_id, require_email(email))
        case OpenSettings():
            from bot.app.prefs import open_prefs

            open_prefs(deps, client, user_id, body["trigger_id"])
            return None
    return usage_message()


def post_my_digest(
    deps: SlackDeps, session: Session, client: WebClient, user_id: str, email: str
) -> dict[str, Any]:
    """Build the caller's digest for the latest scores and post it to them now (every part)."""
    from bot.digests.messages import digest_messages
    from bot.digests.service import build_digests

    as_of = cards.latest_as_of(session)
    if as_of is None:
        return render.notice("No scores yet: run `csbot score` first.")
    digests = build_digests(
        session,
        as_of,
        size=deps.runtime.settings.digest_size,
        library=deps.library,
        owners=[book.owner_spelling(session, email)],
        now=deps.clock.now(),
    )
    mine = [digest for digest in digests if not digest.is_empty]
    if not mine:
        return render.notice(f"None of your accounts needs you as of {as_of:%b %d}.")
    channel = deps.runtime.settings.digest_channel or user_id
    for message in digest_messages(mine[0], mention=f"<@{user_id}>"):
        client.chat_postMessage(channel=channel, **message)
    where = f" in <#{channel}>." if channel != user_id else " in your DM with csbot."
    return render.notice("Your digest is posted" + where)


def usage_message(problem: str | None = None) -> dict[str, Any]:
    lines = "\n".join(f"`/cs {form}` — {meaning}" for form, meaning in USAGE)
    blocks: list[Block] = []
    if problem:
        blocks.append(SectionBlock(text=render.mrkdwn(f":warning: {problem}")))
    blocks.append(SectionBlock(text=render.mrkdwn(f"*csbot commands*\n{lines}")))
    return render.payload(f"{problem + ' — ' if problem else ''}csbot commands: /cs help", blocks)
