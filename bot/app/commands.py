"""The `/cs` slash command: parse in the ack (help answers at once), work in a lazy
listener, answer ephemerally through the response_url (through the outbox, like every
message). Choosing among several matching accounts is part of the command too.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient
from slack_sdk.models.blocks import Block, SectionBlock
from sqlmodel import Session

from bot.accounts import cards
from bot.accounts import messages as account_messages
from bot.accounts import service as book
from bot.accounts.attention import attention_rules
from bot.app.command_parse import (
    USAGE,
    AccountBrief,
    AccountCard,
    Book,
    Command,
    MySteps,
    OpenSettings,
    PlaybookList,
    PlaybookStart,
    PlaybookStatus,
    PostDigest,
    QbrDraftFor,
    Renewals,
    Usage,
    parse,
)
from bot.app.prefs import open_prefs
from bot.digests.messages import digest_messages
from bot.digests.service import build_digests, digest_subject, load_audiences
from bot.plays import messages as play_messages
from bot.plays import service as plays
from bot.prep import service as prep
from bot.slack import blocks as render
from bot.slack import format as fmt
from bot.slack.deps import SlackDeps
from bot.slack.errors import BadInput, UnknownAccount
from bot.slack.format import escape
from bot.slack.identity import email_for_user
from bot.slack.ids import ActionId
from bot.slack.interaction import Interaction, on
from bot.slack.middleware import Origin
from bot.slack.replies import answer, answer_where, guarded
from bot.slack.send import Where, send
from storage.enums import MessageKind
from storage.models import Account

COMMAND = "/cs"


@dataclass(frozen=True)
class Answer:
    """What a command answers with, and what the message is stored as (so a click on it
    can re-render it)."""

    message: dict[str, Any]
    kind: MessageKind = MessageKind.REPLY
    subject: dict[str, Any] = field(default_factory=dict)


def register(app: App, deps: SlackDeps) -> None:
    def acknowledge(ack: Ack, body: dict[str, Any]) -> None:
        command = parse(body.get("text"))
        if isinstance(command, Usage):
            ack(response_type="ephemeral", **usage_message(command.problem))
        else:
            ack()

    def respond_to(body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
        command = parse(body.get("text"))
        if isinstance(command, Usage):
            return
        with deps.session() as session:
            reply = run_command(deps, session, client, command, body)
            if reply is not None:
                answer(deps, session, client, answer_where(body), reply.message,
                       kind=reply.kind, subject=reply.subject)  # fmt: skip

    app.command(COMMAND)(ack=acknowledge, lazy=[guarded(deps, respond_to)])

    @on(app, deps, ActionId.CHOOSE_ACCOUNT)
    def account_choose(it: Interaction) -> None:
        """One of several matching accounts chosen: do what the command asked."""
        account = it.account()
        option = it.value.option or "card"
        if option.startswith("start:"):
            run, started = plays.start_playbook(it.deps, it.session, it.client, account=account,
                                                playbook_name=option[6:], user_id=it.user,
                                                email=it.email, origin=Origin(
                                                    response_url=it.origin.response_url,
                                                    ephemeral=True))  # fmt: skip
            verb = "Started" if started else "Already running:"
            title = plays.title_of(it.deps.library, run.playbook)
            text = f"{verb} {escape(title)} on {escape(account.name)} (run {run.id})."
            return it.say(render.notice(text), replace=True)
        if option == "brief":
            as_of = it.deps.clock.now().date()
            return it.say(
                prep.brief_answer(it.deps.runtime.engine, account, as_of, it.deps.library),
                replace=True,
            )
        if option.startswith("qbr"):
            meeting = option[4:] or None
            return it.say(qbr_answer(it.deps, it.session, it.client, account, meeting, it.user),
                          replace=True)  # fmt: skip
        if option == "status":
            reply = status_answer(it.deps, it.session, account)
        else:
            reply = card_answer(it.deps, it.session, account)
        return it.say(reply.message, kind=reply.kind, subject=reply.subject, replace=True)


def card_answer(deps: SlackDeps, session: Session, account: Account) -> Answer:
    message = cards.account_card(session, account, deps.library, deps.clock.now())
    return Answer(message, MessageKind.CARD, {"account_id": account.account_id})


def status_answer(deps: SlackDeps, session: Session, account: Account) -> Answer:
    message, run_id = plays.status_message(session, account, deps.library, deps.clock.now())
    if run_id is None:
        return Answer(message)
    return Answer(message, MessageKind.RUN, {"run_id": run_id})


def find_one(session: Session, query: str, then: str) -> Account | dict[str, Any]:
    """The one account `query` names, or a choice message when several match."""
    found = book.find_accounts(session, query)
    if not found:
        raise UnknownAccount(
            f"No account matches `{escape(query)}`. Try part of its name or its id."
        )
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
    deps: SlackDeps, session: Session, client: WebClient, command: Command, body: dict[str, Any]
) -> Answer | None:
    """One `/cs` command → the answer."""
    user_id = body["user_id"]
    email = email_for_user(session, client, user_id, deps.clock)
    today = deps.clock.now().date()
    match command:
        case AccountCard(query):
            found = find_one(session, query, then="card")
            if isinstance(found, dict):
                return Answer(found)
            return card_answer(deps, session, found)
        case Book(kind):
            views = book.my_book(session, require_email(email))
            if kind == "risk":
                return Answer(account_messages.book_message(
                    "Your accounts by risk",
                    book.rank_by_risk(views, attention_rules(session, deps.runtime.settings)),
                    "None of your accounts has a score yet.",
                ))  # fmt: skip
            return Answer(account_messages.book_message(
                "Your expansion candidates",
                book.rank_by_expansion(views),
                "No expansion candidates in your book right now.",
            ))  # fmt: skip
        case Renewals(days):
            rows = book.renewals(session, require_email(email), today, days)
            return Answer(account_messages.renewals_message(days, rows, today))
        case PlaybookList():
            return Answer(
                play_messages.playbook_list(deps.library[n] for n in sorted(deps.library))
            )
        case PlaybookStart(account_query, playbook):
            found = find_one(session, account_query, then=f"start:{playbook}")
            if isinstance(found, dict):
                return Answer(found)
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
                return Answer(render.notice(
                    f"{escape(plays.title_of(deps.library, run.playbook))} is already running on "
                    f"{escape(found.name)} (run {run.id}, "
                    f"started by {fmt.who(run.started_by)} {fmt.when(run.started_at)})."
                ))  # fmt: skip
            return Answer(render.notice(
                f"Started {escape(plays.title_of(deps.library, run.playbook))} on "
                f"{escape(found.name)} (run {run.id}); "
                "its steps are posted in the account's thread."
            ))  # fmt: skip
        case PlaybookStatus(account_query):
            found = find_one(session, account_query, then="status")
            if isinstance(found, dict):
                return Answer(found)
            return status_answer(deps, session, found)
        case MySteps():
            mine = require_email(email)
            message = plays.my_steps_message(session, mine, user_id, deps.library, deps.clock.now())
            return Answer(message, MessageKind.MY_STEPS, {"email": mine, "user_id": user_id})
        case PostDigest():
            return Answer(post_my_digest(deps, session, client, user_id, require_email(email)))
        case AccountBrief(query):
            found = find_one(session, query, then="brief")
            if isinstance(found, dict):
                return Answer(found)
            return Answer(prep.brief_answer(deps.runtime.engine, found, today, deps.library))
        case QbrDraftFor(query, meeting):
            found = find_one(session, query, then=f"qbr:{meeting or ''}")
            if isinstance(found, dict):
                return Answer(found)
            return Answer(qbr_answer(deps, session, client, found, meeting, user_id))
        case OpenSettings():
            open_prefs(deps, client, user_id, body["trigger_id"])
            return None
    return Answer(usage_message())


def qbr_answer(
    deps: SlackDeps,
    session: Session,
    client: WebClient,
    account: Account,
    meeting: str | None,
    user_id: str,
) -> dict[str, Any]:
    """Draft the account's QBR (on `meeting`, else the next one on the calendar, else
    today) and send it to the person's DM with the Markdown file."""
    from playbooks.prep.qbr import next_qbr, store_qbr_draft

    today = deps.clock.now().date()
    day = (
        dt.date.fromisoformat(meeting) if meeting else next_qbr(session, account.account_id, today)
    )
    draft = store_qbr_draft(deps.runtime.engine, session, account.account_id, today, day,
                            source="on_demand", actor=user_id, clock=deps.clock)  # fmt: skip
    session.commit()
    prep.send_qbr(session, client, deps.clock, draft, user_id)
    return render.notice(
        f"The QBR draft for {escape(account.name)} ({day:%b %d}) is in your DM with csbot, "
        "with the Markdown file in its thread."
    )


def post_my_digest(
    deps: SlackDeps, session: Session, client: WebClient, user_id: str, email: str
) -> dict[str, Any]:
    """Build the caller's digest for the latest scores and post it to them now (every part,
    through the outbox, mentioning them)."""
    as_of = cards.latest_as_of(session)
    if as_of is None:
        return render.notice("No scores yet: run `csbot score` first.")
    settings = deps.runtime.settings
    digests = build_digests(
        session,
        as_of,
        size=settings.digest_size,
        library=deps.library,
        now=deps.clock.now(),
        audience=load_audiences(session, settings, {email: as_of}),
        rules=attention_rules(session, settings),
    )
    mine = [digest for digest in digests if not digest.is_empty]
    if not mine:
        return render.notice(f"None of your accounts needs you as of {as_of:%b %d}.")
    channel = deps.runtime.settings.digest_channel or user_id
    for part, message in enumerate(digest_messages(mine[0], mention=user_id), start=1):
        subject = digest_subject(mine[0], mention=user_id, part=part)
        send(session, client, deps.clock, kind=MessageKind.DIGEST, where=Where(channel=channel),
             message=message, subject=subject)  # fmt: skip
    where = f" in <#{channel}>." if channel != user_id else " in your DM with csbot."
    return render.notice("Your digest is posted" + where)


def usage_message(problem: str | None = None) -> dict[str, Any]:
    lines = "\n".join(f"`/cs {form}` — {meaning}" for form, meaning in USAGE)
    blocks: list[Block] = []
    problem = escape(problem) if problem else None  # it may quote what was typed
    if problem:
        blocks.append(SectionBlock(text=render.mrkdwn(f":warning: {problem}")))
    blocks.append(SectionBlock(text=render.mrkdwn(f"*csbot commands*\n{lines}")))
    return render.payload(f"{problem + ' — ' if problem else ''}csbot commands: /cs help", blocks)
