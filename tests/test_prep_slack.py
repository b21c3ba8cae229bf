"""Preparation in Slack through the real HTTP endpoint, requests signed as Slack signs them,
and the fake Slack Web API: `/cs brief` and Share in channel, `/cs qbr` and the scheduled
QBR draft with its Markdown file (files_upload_v2), the Log QBR modal creating owned
steps, drafts held for review (Edit, Mark sent logging a touchpoint), the weekly VoC post
with Route to…, the forecast in the leaders' summary, the budget kinds and the jobs."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlmodel import Session, select

from bot.delivery.budget import Decision, Kind, Spent, decide
from bot.delivery.prefs import Prefs
from bot.runtime import Runtime
from bot.scheduling import jobs, registry
from bot.settings import load_settings
from storage.models import (
    Contact,
    MessageDraft,
    OutboxMessage,
    PlaybookRun,
    PlaybookStep,
    QbrDraft,
    QbrLog,
    SurveyResponse,
    Touchpoint,
    VocThemeOwner,
)
from storage.models.noise import DeliveryLedger
from tests.test_slack_commands import ask, texts
from tests.test_slack_harness import CSM, NOW, OTHER, Bot

pytest_plugins = ["tests.test_slack_harness"]

NASTY = "<!channel> Eve & <https://evil.example|click>"
NASTY_ESCAPED = "&lt;!channel&gt; Eve &amp; &lt;https://evil.example|click&gt;"


def fetch(bot: Bot, query: Any) -> list[Any]:
    with bot.session() as session:
        return list(session.exec(query).all())


def runtime_for(bot: Bot, **settings: Any) -> Runtime:
    """A runtime whose jobs deliver to the fake Slack, on the bot's database."""
    for email, user_id in (CSM, OTHER):
        bot.fake.add_user(email, user_id, tz="UTC")
    runtime = Runtime(
        settings=load_settings(
            database_url=bot.engine.url.render_as_string(hide_password=False),
            slack_bot_token="xoxb-test",
            slack_api_url=bot.fake.api_url,
            timezone="UTC",
            **settings,
        ),
        clock=bot.clock,
    )
    runtime.__dict__["engine"] = bot.engine
    return runtime


def posted(bot: Bot, word: str) -> dict[str, Any]:
    found = [c.args for c in bot.calls("chat.postMessage") if word in (c.args.get("text") or "")]
    assert found, f"no message with {word!r}"
    return found[-1]


def button(message: dict[str, Any], action_id: str) -> dict[str, Any]:
    for block in message["blocks"]:
        for element in block.get("elements") or []:
            if element.get("action_id") == action_id:
                return {"action_id": action_id, "block_id": block.get("block_id", "b"), **element}
    raise AssertionError(f"no {action_id} button")


def add_people_and_verbatims(bot: Bot) -> None:
    with Session(bot.engine) as session:
        session.add(Contact(contact_id="P1", account_id="A1", name=NASTY, role="champion"))
        session.add(
            SurveyResponse(
                response_id="S1",
                account_id="A1",
                kind="nps",
                score=3,
                submitted_at=NOW - dt.timedelta(days=5),
                comment="Export is broken <@U999> & <!here> fix it",
            )  # fmt: skip
        )
        session.commit()


# -- /cs brief -----------------------------------------------------------------------------------
def test_brief_is_ephemeral_escaped_and_shared_through_the_outbox(bot: Bot) -> None:
    bot.fake.require_outbox_key = True
    add_people_and_verbatims(bot)
    brief = ask(bot, "brief Acme Corp")
    assert len(brief["blocks"]) <= 50
    shown = texts(brief)
    assert "Brief: Acme Corp" in shown and "Suggested next steps" in shown
    assert NASTY_ESCAPED in shown and "&lt;@U999&gt; &amp; &lt;!here&gt;" in shown
    assert "<!channel>" not in json.dumps(brief) and "<!here>" not in json.dumps(brief)
    share = button(brief, "brief-share")
    message = {"ts": "1700000001.000100", **brief}
    assert bot.click(share, message=message, ephemeral=True).status_code == 200
    bot.wait_for(lambda: any("Brief" in (c.args.get("text") or "")
                             for c in bot.calls("chat.postMessage")))  # fmt: skip
    shared = posted(bot, "Brief: Acme Corp")
    assert shared["channel"] == "C1" and "Shared by <@UCSM>" in texts(shared)
    assert "brief-share" not in json.dumps(shared["blocks"])  # no Share button in the channel
    bot.wait_for(lambda: any("Shared the brief" in json.dumps(r.args) for r in bot.responses()))
    rows = fetch(bot, select(OutboxMessage).where(OutboxMessage.kind == "brief"))
    assert len(rows) == 1 and rows[0].status == "sent"
    assert bot.check_payloads() >= 2


# -- QBR ------------------------------------------------------------------------------------------
def qbr_on_demand(bot: Bot) -> dict[str, Any]:
    answer = ask(bot, "qbr A1 2026-06-08")
    assert "in your DM" in texts(answer)
    bot.wait_calls("files.completeUploadExternal")
    return posted(bot, "QBR draft for Acme Corp")


def test_qbr_draft_goes_to_the_dm_with_its_markdown_file(bot: Bot) -> None:
    bot.fake.require_outbox_key = True
    message = qbr_on_demand(bot)
    assert message["channel"] == CSM[1]
    assert "Jun 08" in texts(message) and button(message, "qbr-log")
    (draft,) = fetch(bot, select(QbrDraft))
    (upload,) = bot.fake.uploaded()
    assert upload["content"] == draft.markdown and upload["filename"] == "qbr-A1-2026-06-08.md"
    (post_row,) = fetch(bot, select(OutboxMessage).where(OutboxMessage.kind == "qbr"))
    assert upload["thread_ts"] == post_row.ts  # in the QBR message's thread
    (file_row,) = fetch(bot, select(OutboxMessage).where(OutboxMessage.kind == "qbr-file"))
    assert file_row.status == "sent"
    assert bot.check_payloads() >= 1


def test_log_qbr_modal_turns_action_items_into_owned_steps(bot: Bot) -> None:
    message = qbr_on_demand(bot)
    (row,) = fetch(bot, select(OutboxMessage).where(OutboxMessage.kind == "qbr"))
    clicked = {"ts": row.ts, **message}
    bot.click(button(message, "qbr-log"), message=clicked, channel=CSM[1])
    (opened,) = bot.wait_calls("views.open")
    view = opened.args["view"]
    assert view["callback_id"] == "qbr-log-modal"
    values: dict[str, dict[str, Any]] = {
        "held-on": {"held-on-input": {"type": "datepicker", "selected_date": "2026-06-08"}},
        "outcomes": {
            "outcomes-input": {"type": "plain_text_input", "value": "Agreed <b>goals</b>"}
        },
        "action-1-title": {"title-input": {"type": "plain_text_input", "value": "Roll out SSO"}},
        "action-1-owner": {"owner-input": {"type": "users_select", "selected_user": OTHER[1]}},
        "action-1-due": {"due-input": {"type": "datepicker", "selected_date": "2026-06-30"}},
        "action-2-title": {"title-input": {"type": "plain_text_input", "value": "No owner"}},
    }
    refused = bot.submit(view, values)
    assert refused.json()["response_action"] == "errors"
    assert set(refused.json()["errors"]) == {"action-2-owner", "action-2-due"}
    assert not fetch(bot, select(QbrLog))
    values["action-2-title"] = {"title-input": {"type": "plain_text_input", "value": ""}}
    assert bot.submit(view, values).status_code == 200
    bot.wait_for(lambda: fetch(bot, select(QbrLog)), message="QBR logged")
    (log,) = fetch(bot, select(QbrLog))
    assert log.logged_by == CSM[1] and log.held_on == dt.date(2026, 6, 8)
    (step,) = fetch(bot, select(PlaybookStep))
    assert step.title == "Roll out SSO" and step.owner == OTHER[0]
    assert step.due_at is not None and step.due_at.date() == dt.date(2026, 6, 30)
    (run,) = fetch(bot, select(PlaybookRun))
    assert run.playbook == "qbr_actions" and run.account_id == "A1"
    updated = bot.wait_calls("chat.update")[-1].args
    assert "Logged by <@UCSM>" in texts(updated) and "qbr-log" not in json.dumps(updated)
    assert bot.check_payloads() >= 3


def test_scheduled_qbr_draft_a_week_out_passes_the_budget(bot: Bot) -> None:
    with Session(bot.engine) as session:
        session.add(Touchpoint(touchpoint_id="QN", account_id="A1",
                               occurred_at=NOW + dt.timedelta(days=6), kind="qbr"))  # fmt: skip
        session.commit()
    detail = jobs.qbr_drafts(runtime_for(bot), bot.clock)
    assert detail.get("queued") == 1, detail
    assert detail["drafted"] == 1 and detail["queued"] == 1 and detail["sent"] == 2
    message = posted(bot, "QBR draft for Acme Corp")
    assert message["channel"] == CSM[1]
    (upload,) = bot.fake.uploaded()
    assert upload["filename"] == "qbr-A1-2026-06-07.md"
    (ledger,) = fetch(bot, select(DeliveryLedger))
    assert (ledger.kind, ledger.decision, ledger.recipient) == ("qbr", "sent", CSM[0])
    again = jobs.qbr_drafts(runtime_for(bot), bot.clock)
    assert again["drafted"] == 0 and len(bot.calls("files.completeUploadExternal")) == 1


# -- drafts held for review ----------------------------------------------------------------------
def add_message_step(bot: Bot) -> None:
    with Session(bot.engine) as session:
        run = PlaybookRun(account_id="A1", playbook="onboarding", status="active",
                          started_at=NOW, started_by="csbot", source="scheduler",
                          owner=CSM[0])  # fmt: skip
        session.add(run)
        session.flush()
        session.add(
            PlaybookStep(
                run_id=run.id or 0,
                position=1,
                title="Send check-in email",
                kind="message",
                owner_role="csm",
                owner=CSM[0],
                message="Hi <!everyone>, checking in on Acme & co.",
                due_at=NOW + dt.timedelta(days=2),
            )  # fmt: skip
        )
        session.commit()


def test_drafts_are_reviewed_edited_and_marked_sent_never_sent(bot: Bot) -> None:
    add_message_step(bot)
    detail = jobs.review_drafts(runtime_for(bot), bot.clock)
    assert detail["proposed"] == 1 and detail["queued"] == 1
    message = posted(bot, "email draft")
    assert message["channel"] == CSM[1]
    assert "Hi &lt;!everyone&gt;, checking in on Acme &amp; co." in texts(message)
    assert "<!everyone>" not in json.dumps(message)
    (row,) = fetch(bot, select(OutboxMessage).where(OutboxMessage.kind == "drafts"))
    clicked = {"ts": row.ts, **message}
    bot.click(button(message, "draft-edit"), message=clicked, channel=CSM[1])
    (opened,) = bot.wait_calls("views.open")
    view = opened.args["view"]
    assert view["callback_id"] == "draft-edit-modal"
    values = {
        "subject": {"subject-input": {"type": "plain_text_input", "value": "Checking in"}},
        "body": {"body-input": {"type": "plain_text_input", "value": "Hello <@U1>, all well?"}},
    }
    assert bot.submit(view, values).status_code == 200
    bot.wait_for(lambda: fetch(bot, select(MessageDraft))[0].edited_by == CSM[1])
    updated = bot.wait_calls("chat.update")[-1].args
    assert "Hello &lt;@U1&gt;, all well?" in texts(updated)
    bot.click(button(message, "draft-sent"), message=clicked, channel=CSM[1])
    bot.wait_for(lambda: fetch(bot, select(MessageDraft))[0].status == "sent")
    (draft,) = fetch(bot, select(MessageDraft))
    assert draft.sent_by == CSM[1] and draft.reviewed_by == CSM[1]
    (touchpoint,) = fetch(bot, select(Touchpoint).where(Touchpoint.kind == "email_out"))
    assert touchpoint.touchpoint_id == draft.touchpoint_id and touchpoint.account_id == "A1"
    bot.wait_for(lambda: "Sent by <@UCSM>" in texts(bot.calls("chat.update")[-1].args))
    # A second click (a stale button) logs nothing more.
    bot.click(button(message, "draft-sent"), message=clicked, channel=CSM[1])
    bot.wait_for(lambda: any("already marked sent" in json.dumps(r.args) for r in bot.responses()))
    assert len(fetch(bot, select(Touchpoint).where(Touchpoint.kind == "email_out"))) == 1
    # csbot never emails: every call went to Slack, and no drafts message came again.
    assert jobs.review_drafts(runtime_for(bot), bot.clock)["proposed"] == 0
    assert len([c for c in bot.calls("chat.postMessage") if "draft" in c.args["text"]]) == 1
    assert bot.check_payloads() >= 3


# -- voice of the customer -----------------------------------------------------------------------
def add_comments(bot: Bot) -> None:
    topics = [
        "export to csv fails with an error <!here>",
        "csv export is too slow & times out",
        "billing invoice shows the wrong amount",
        "invoice billing address cannot be changed",
    ]
    with Session(bot.engine) as session:
        for i in range(24):
            session.add(
                SurveyResponse(
                    response_id=f"V{i}",
                    account_id=("A1", "A2", "B1")[i % 3],
                    kind="csat",
                    score=2 + i % 3,
                    submitted_at=NOW - dt.timedelta(days=1 + i),
                    comment=topics[i % 4],
                )  # fmt: skip
            )
        session.commit()


def test_weekly_voc_post_is_escaped_and_a_theme_can_be_routed(bot: Bot) -> None:
    add_comments(bot)
    runtime = runtime_for(bot, voc_channel="CPRODUCT")
    detail = jobs.voc(runtime, bot.clock)
    assert detail["themes"] >= 1 and detail["sent"] == 1
    message = posted(bot, "Voice of the customer")
    assert message["channel"] == "CPRODUCT"
    assert "<!here>" not in json.dumps(message) and "&amp;" in texts(message)
    route = next(b for b in message["blocks"] if b["type"] == "actions")
    term = json.loads(route["block_id"])["option"]
    (row,) = fetch(bot, select(OutboxMessage).where(OutboxMessage.kind == "voc"))
    action = {"type": "users_select", "action_id": "voc-route", "block_id": route["block_id"],
              "selected_user": OTHER[1]}  # fmt: skip
    bot.click(action, message={"ts": row.ts, **message}, channel="CPRODUCT")
    bot.wait_for(lambda: fetch(bot, select(VocThemeOwner)), message="theme routed")
    (owner,) = fetch(bot, select(VocThemeOwner))
    assert owner.term == term and owner.owner == OTHER[1] and owner.set_by == CSM[1]
    updated = bot.wait_calls("chat.update")[-1].args
    assert f"Owner: <@{OTHER[1]}>" in texts(updated)
    assert jobs.voc(runtime, bot.clock)["key"] == detail["key"]  # once a week
    assert len(bot.calls("chat.postMessage")) == 1
    assert bot.check_payloads() >= 2


def test_voc_job_is_skipped_without_a_channel(bot: Bot) -> None:
    assert "skipped" in jobs.voc(runtime_for(bot), bot.clock)


# -- leaders, budget, jobs -----------------------------------------------------------------------
def test_leaders_summary_shows_the_quarters_forecast_with_its_interval(bot: Bot) -> None:
    from bot.delivery.limits import validate_message
    from bot.leaders.messages import leaders_summary_message

    with bot.session() as session:
        message = leaders_summary_message(session, as_of=NOW.date())
    validate_message(message)
    (block,) = [b for b in message["blocks"] if b.get("block_id") == "leaders-forecast"]
    text = block["text"]["text"]
    assert "Forecast for" in text and "GRR" in text and "NRR" in text
    assert "Globex" in text or "Acme" in text  # the least likely renewals


def test_prep_kinds_spend_no_realtime_budget_but_respect_away_and_quiet_hours() -> None:
    prefs = Prefs()
    noon = dt.datetime(2026, 6, 2, 12, 0, tzinfo=dt.UTC)
    spent = Spent(digests=1, realtime=5)
    for kind in (Kind.QBR, Kind.DRAFTS):
        verdict = decide(kind, urgent=False, prefs=prefs, spent=spent, local_now=noon,
                         realtime_per_day=2)  # fmt: skip
        assert verdict.decision is Decision.SENT
        away = Prefs(away_until=noon.date())
        assert decide(kind, urgent=False, prefs=away, spent=spent, local_now=noon,
                      realtime_per_day=2).decision is Decision.HELD  # fmt: skip
        quiet = Prefs(quiet=(dt.time(11), dt.time(13)))
        deferred = decide(kind, urgent=False, prefs=quiet, spent=spent, local_now=noon,
                          realtime_per_day=2)  # fmt: skip
        assert deferred.decision is Decision.DEFERRED and deferred.not_before is not None
    assert decide(Kind.VOC, urgent=False, prefs=prefs, spent=spent, local_now=noon,
                  realtime_per_day=2).decision is Decision.SENT  # fmt: skip


def test_prep_jobs_are_registered_with_triggers() -> None:
    for name in ("qbr-drafts", "drafts", "voc"):
        spec = registry.get(name)
        assert spec.trigger is not None and spec.coalesce and spec.misfire_grace_seconds > 0
        assert spec.slot is not None
    assert registry.get("voc").slot is registry.weekly_slot


def test_fake_slack_refuses_a_file_never_uploaded(fake_slack: Any) -> None:
    from slack_sdk import WebClient
    from slack_sdk.errors import SlackApiError

    client = WebClient(token="xoxb-test", base_url=fake_slack.api_url)
    got = client.files_getUploadURLExternal(filename="a.md", length=3)
    try:
        client.files_completeUploadExternal(files=[{"id": got["file_id"], "title": "a"}])
    except SlackApiError as error:
        assert error.response["error"] == "file_not_found"
    else:  # pragma: no cover - the fake must refuse
        raise AssertionError("completeUploadExternal accepted a file never uploaded")
    done = client.files_upload_v2(channel="C1", content="abc", filename="b.md", title="b")
    assert done["file"]["id"] and fake_slack.uploaded()[0]["content"] == "abc"
