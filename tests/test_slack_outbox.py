"""Every message csbot shows in Slack goes through the outbox, and a click re-renders the
message it came from from the database.

End to end: signed requests to the real server, the fake Slack Web API refusing any
chat.postMessage or chat.update without an outbox key in its message metadata, and the
outbox rows checked for their channel, ts and kind.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from slack_sdk import WebClient
from sqlmodel import Session, select

from bot.alerts.service import raise_alerts
from bot.delivery.sender import deliver_pending
from bot.digests.post import queue_digests
from bot.digests.service import build_digests
from bot.leaders.messages import leaders_summary_message
from bot.leaders.service import BandChange, LeadersSummary, PlaybookResult, Retention
from bot.plays.rollup import LateStep, Rollup, rollup_message
from bot.settings import load_settings
from bot.slack.ids import ButtonValue
from storage.enums import MessageKind
from storage.models import Account, AccountScore, OutboxMessage, PlaybookStep
from tests.fakes.slack_server import OUTBOX_METHODS, outbox_key
from tests.test_slack_actions import click_button, start_run
from tests.test_slack_commands import ask
from tests.test_slack_harness import CSM, Bot

pytest_plugins = ["tests.test_slack_harness"]


def posted(bot: Bot, method: str = "chat.postMessage") -> list[dict[str, Any]]:
    return [call.args for call in bot.calls(method)]


def as_clicked(args: dict[str, Any], ts: str) -> dict[str, Any]:
    """A message csbot posted, as Slack holds it (with the ts Slack gave it)."""
    return {"ts": ts, "text": args.get("text", ""), "blocks": args["blocks"]}


def test_every_post_and_update_carries_its_outbox_key(bot: Bot) -> None:
    bot.fake.require_outbox_key = True
    # Scheduled: alerts and the daily digest, queued and delivered by the sender.
    # "everything": the noise budget lets every alert out (it is the outbox under test here).
    settings = load_settings(risk_alert_threshold=0.5, default_delivery="everything")
    client = WebClient(token="xoxb-test", base_url=bot.fake.api_url)
    with Session(bot.engine, expire_on_commit=False) as session:
        today = bot.clock.now().date()
        alerts = raise_alerts(session, as_of=today, clock=bot.clock, settings=settings, library={})
        digests = build_digests(session, today, size=8, now=bot.clock.now())
        queue_digests(session, digests, as_of=today, clock=bot.clock, settings=settings)
        session.commit()
    assert alerts, "the seeded book should raise an alert"
    deliver_pending(bot.engine, client, bot.clock)
    # Interactive: a card, `/cs digest`, a run started (its message and a reply), a click
    # (an update and a note in the thread), a refused post explained.
    ask(bot, "account Acme Corp")
    ask(bot, "digest")
    run_message = start_run(bot)
    click_button(bot, run_message, "run-close")
    bot.wait_calls("chat.update")
    bot.wait_for(lambda: [a for a in posted(bot) if "closed churn_risk_save" in json.dumps(a)])

    calls = [call for call in bot.fake.calls if call.method in OUTBOX_METHODS]
    assert len(calls) >= 8
    keys = [outbox_key(call.args) for call in calls]
    assert all(keys), [c.args.get("text") for c, k in zip(calls, keys, strict=True) if not k]
    with Session(bot.engine) as session:
        rows = {row.idempotency_key: row for row in session.exec(select(OutboxMessage))}
    for call, key in zip(calls, keys, strict=True):
        row = rows[str(key)]
        assert row.status == "sent" and row.ts and (row.posted_channel or row.channel)
        assert MessageKind(row.kind)  # a known kind, stored as its string
        assert row.payload.get("text") == call.args.get("text")
    kinds = {rows[str(key)].kind for key in keys}
    assert {"alert", "digest", "run", "note"} <= kinds
    # Answers only the person sees went through the outbox too (a response_url answer).
    replies = [row for row in rows.values() if row.payload.get("response_url")]
    assert {row.kind for row in replies} >= {"card", "reply"}
    assert all(row.status == "sent" for row in replies)
    # No post unfurls links.
    for call in bot.calls("chat.postMessage"):
        assert call.args["unfurl_links"] is False and call.args["unfurl_media"] is False


def menu_choices(message: dict[str, Any], account_id: str) -> list[str]:
    """The overflow menu's choices on `account_id`'s digest entry."""
    section = next(b for b in message["blocks"] if b.get("block_id") == f"digest-{account_id}")
    return [ButtonValue.decode(o["value"]).option or "" for o in section["accessory"]["options"]]


def choose(bot: Bot, message: dict[str, Any], account_id: str, choice: str) -> None:
    section = next(b for b in message["blocks"] if b.get("block_id") == f"digest-{account_id}")
    option = next(o for o in section["accessory"]["options"] if f'"{choice}"' in o["value"])
    action = {"type": "overflow", "action_id": "account-menu", "block_id": section["block_id"],
              "selected_option": option}  # fmt: skip
    assert bot.click(action, message=message, channel=CSM[1]).status_code == 200


def test_a_click_re_renders_the_message_with_its_buttons_in_the_new_state(bot: Bot) -> None:
    ask(bot, "digest")
    digest = posted(bot)[-1]
    ts = bot.calls("chat.postMessage")[-1].args.get("ts") or "1700000001.000100"
    message = as_clicked(digest, ts)
    assert {"snooze", "not_a_risk"} <= set(menu_choices(message, "A1"))

    # Not a risk from the overflow: the digest is re-rendered from the database in place.
    choose(bot, message, "A1", "not_a_risk")
    update = bot.wait_calls("chat.update")[0].args
    assert update["ts"] == ts and update["channel"] == CSM[1]
    marked = as_clicked(update, ts)
    assert "not_a_risk" not in menu_choices(marked, "A1")  # used: gone
    assert "snooze" in menu_choices(marked, "A1")
    assert "not_a_risk" in menu_choices(marked, "A2")  # the other account is as it was
    assert "Not a risk (<@UCSM>)" in json.dumps(update["blocks"], ensure_ascii=False)

    # Snooze from the re-rendered message: its menu names the stored message too.
    choose(bot, marked, "A1", "snooze")
    view = bot.wait_calls("views.open")[0].args["view"]
    values = {
        "snooze-reason": {"snooze-reason-input": {"type": "static_select", "selected_option": {"value": "not_a_real_risk"}}},
        "snooze-period": {"snooze-period-input": {"type": "static_select", "selected_option": {"value": "7"}}},
        "snooze-note": {"snooze-note-input": {"type": "plain_text_input", "value": ""}},
    }  # fmt: skip
    assert bot.submit(view, values).status_code == 200
    second = bot.wait_calls("chat.update", 2)[1].args
    both = as_clicked(second, ts)
    assert "snooze" not in menu_choices(both, "A1") and "not_a_risk" not in menu_choices(both, "A1")
    shown = json.dumps(second["blocks"], ensure_ascii=False)
    assert "Snoozed until Jun 08 by <@UCSM>" in shown and "marked not a risk" in shown
    with Session(bot.engine) as session:
        kinds = [
            row.kind for row in session.exec(select(OutboxMessage)) if row.payload.get("update_ts")
        ]
    assert kinds == ["digest", "digest"]  # both updates stored with the message's kind


HOSTILE = "Evil <!channel> & <https://evil.example|x>"


def shown_strings(payload: Any) -> list[str]:
    """Every string Slack would read as mrkdwn from a payload (not plain_text, which is shown
    as it is, nor values, ids or metadata)."""
    if isinstance(payload, dict) and payload.get("type") == "plain_text":
        return []
    if isinstance(payload, list):
        return [text for item in payload for text in shown_strings(item)]
    if not isinstance(payload, dict):
        return [payload] if isinstance(payload, str) else []
    skip = {"value", "block_id", "action_id", "private_metadata", "metadata", "callback_id",
            "channel", "ts", "thread_ts", "user", "response_url", "update_ts"}  # fmt: skip
    return [
        text for key, item in payload.items() if key not in skip for text in shown_strings(item)
    ]


def test_text_from_people_and_imported_data_is_escaped_in_every_message_kind(bot: Bot) -> None:
    with Session(bot.engine) as session:
        account = session.get(Account, "A1")
        assert account is not None
        account.name = f"Acme {HOSTILE}"
        session.add(account)
        for row in session.exec(select(AccountScore).where(AccountScore.account_id == "A1")):
            row.reasons = [{**row.reasons[0], "text": HOSTILE}]
            session.add(row)
        session.commit()
    settings = load_settings(risk_alert_threshold=0.5, default_delivery="everything")
    client = WebClient(token="xoxb-test", base_url=bot.fake.api_url)
    with Session(bot.engine, expire_on_commit=False) as session:
        raise_alerts(session, as_of=bot.clock.now().date(), clock=bot.clock, settings=settings,
                     library={})  # fmt: skip
        session.commit()
    deliver_pending(bot.engine, client, bot.clock)  # an alert
    ask(bot, "digest")  # a digest
    ask(bot, "account A1")  # the card
    ask(bot, "account Acme")  # several match: the choice
    message = start_run(bot, account="A1")  # a run, posted in the alert's thread
    click_button(bot, message, "step-done")
    view = bot.wait_calls("views.open")[0].args["view"]
    bot.submit(view, {"note": {"note-input": {"type": "plain_text_input", "value": HOSTILE}}})
    bot.wait_calls("chat.update")  # the run re-rendered with the note
    bot.wait_for(lambda: [a for a in posted(bot) if "marked" in json.dumps(a)])  # the thread note
    ask(bot, "my")  # my open steps
    # Layouts not reached through Slack in this test: a roll-up with an escalation and the leaders' summary.
    with Session(bot.engine) as session:
        step = session.exec(select(PlaybookStep).order_by(PlaybookStep.position)).first()
    assert step is not None
    late = LateStep(step.id or 0, "A1", f"Acme {HOSTILE}", HOSTILE, HOSTILE, HOSTILE,
                    step.due_at, 1)  # fmt: skip
    escalation = rollup_message(Rollup("boss@example.com", own={"A1": [late]}, escalated={"A1": [late]}),
                                step.due_at + dt.timedelta(days=3))  # fmt: skip
    leaders = leaders_summary_message(LeadersSummary(
        start=bot.clock.now().date(), end=bot.clock.now().date(), distribution={},
        retention=Retention(starting_arr=1.0, ending_arr=1.0, expansion=0, contraction=0, churned=0),
        band_changes=[BandChange("A1", HOSTILE, HOSTILE, "neutral", "at_risk", 65, 52, 1e5)],
        playbooks=[PlaybookResult("p", HOSTILE, 1, {"saved": 1}, 0.0)], accounts=1,
    ))  # fmt: skip

    payloads = [call.args for call in bot.fake.calls if call.method in OUTBOX_METHODS]
    payloads += [call.args for call in bot.calls("chat.postEphemeral")]
    payloads += [response.args for response in bot.responses()]
    payloads += [escalation, leaders]
    with Session(bot.engine) as session:
        kinds = {row.kind for row in session.exec(select(OutboxMessage))}
    assert {"alert", "digest", "card", "reply", "run", "note", "my-steps"} <= kinds
    strings = [text for payload in payloads for text in shown_strings(payload)]
    assert any("&lt;!channel&gt; &amp; &lt;https://evil.example|x&gt;" in s for s in strings)
    leaks = [s for s in strings if "<!channel>" in s or "<https://evil" in s]
    assert not leaks, leaks[:3]
