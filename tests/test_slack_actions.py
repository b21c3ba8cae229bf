"""Buttons and modals end to end: block_actions and view_submission payloads, signed, to
the real server. Each change goes through the playbook engine once, the message updates
in place from the database, the account's thread records it, and a double click, a
stale button or a retried submission never acts twice."""

from __future__ import annotations

import json
import threading
from typing import Any

from sqlmodel import func, select

from storage.models import AuditLog, Feedback, Outcome, PlaybookRun, PlaybookStep, Snooze
from tests.test_slack_commands import ask, texts
from tests.test_slack_harness import ADMIN, CSM, MANAGER, OTHER, Bot

pytest_plugins = ["tests.test_slack_harness"]

TS = "1700000100.000100"


def start_run(
    bot: Bot, account: str = "Acme Corp", playbook: str = "churn_risk_save"
) -> dict[str, Any]:
    """Start a playbook with `/cs` and return the run message csbot posted, as Slack holds it."""
    ask(bot, f'playbook start "{account}" {playbook}')
    posted = bot.wait_calls("chat.postMessage")[-1].args
    return {"ts": TS, "text": posted["text"], "blocks": posted["blocks"]}


def element(message: dict[str, Any], action_id: str, index: int = 0) -> tuple[dict[str, Any], str]:
    """The `index`-th element with `action_id` in `message`, and its block's id."""
    found = [
        (e, b.get("block_id", ""))
        for b in message["blocks"]
        for e in [*(b.get("elements") or []), b.get("accessory") or {}]
        if isinstance(e, dict) and e.get("action_id") == action_id
    ]
    return found[index]


def click_button(
    bot: Bot, message: dict[str, Any], action_id: str, user: str = CSM[1], **extra: Any
) -> None:
    button, block_id = element(message, action_id)
    action = {"action_id": action_id, "block_id": block_id, "value": button.get("value"), **extra}
    assert bot.click(action, message=message, user=user).status_code == 200


def note(text: str) -> dict[str, Any]:
    return {"note": {"note-input": {"type": "plain_text_input", "value": text}}}


def count(bot: Bot, model: Any, *where: Any) -> int:
    with bot.session() as session:
        return session.exec(select(func.count()).select_from(model).where(*where)).one()


def test_step_done_with_a_note_updates_the_message_and_the_thread_once(bot: Bot) -> None:
    message = start_run(bot)
    click_button(bot, message, "step-done")
    view = bot.wait_calls("views.open")[0].args["view"]
    assert view["callback_id"] == "step-note-modal"
    assert json.loads(view["private_metadata"])["ts"] == TS
    assert bot.submit(view, note("Called the sponsor")).status_code == 200
    update = bot.wait_calls("chat.update")[0].args
    assert update["channel"] == "C1" and update["ts"] == TS
    assert "Done by <@UCSM>" in texts(update) and "Called the sponsor" in texts(update)
    thread = bot.wait_for(
        lambda: [c.args for c in bot.calls("chat.postMessage") if c.args.get("thread_ts") == TS]
    )
    assert "Called the sponsor" in texts(thread[0])
    with bot.session() as session:
        step = session.exec(select(PlaybookStep).order_by(PlaybookStep.position)).first()
        assert (
            step
            and step.status == "done"
            and step.done_by == CSM[1]
            and step.note == "Called the sponsor"
        )

    # The same submission again (a retry) and a click on the stale button: nothing moves.
    bot.submit(view, note("Called the sponsor"))
    stale = bot.wait_for(
        lambda: [c.args for c in bot.calls("chat.postMessage") if "already done" in texts(c.args)]
    )
    assert stale[0]["channel"] == CSM[1]
    click_button(bot, message, "step-done")
    answer = bot.wait_for(
        lambda: [r.args for r in bot.responses() if "already done" in texts(r.args)]
    )
    assert answer[0]["response_type"] == "ephemeral"
    bot.settle()
    assert len(bot.calls("views.open")) == 1
    assert count(bot, AuditLog, AuditLog.action == "step.done") == 1
    assert bot.check_payloads() >= 6


def test_skip_needs_a_reason(bot: Bot) -> None:
    message = start_run(bot)
    click_button(bot, message, "step-skip")
    view = bot.wait_calls("views.open")[0].args["view"]
    refused = bot.submit(view, note(""))
    assert refused.json() == {
        "response_action": "errors",
        "errors": {"note": "Say why the step is skipped"},
    }
    bot.submit(view, note("Sponsor on leave"))
    bot.wait_calls("chat.update")
    assert count(bot, PlaybookStep, PlaybookStep.status == "skipped") == 1


def test_double_click_on_start_playbook_in_a_digest_starts_one_run(bot: Bot) -> None:
    ask(bot, "digest")
    digest = bot.wait_calls("chat.postMessage")[0].args
    message = {"ts": TS, "text": digest["text"], "blocks": digest["blocks"]}
    starts = [
        (e, b["block_id"])
        for b in message["blocks"]
        for e in b.get("elements") or []
        if e.get("action_id") == "account-start-playbook" and '"A1"' in e["value"]
    ]
    button, block_id = starts[0]  # the entry's primary button: start the suggested play
    assert button["style"] == "primary"
    action = {
        "type": "button",
        "action_id": "account-start-playbook",
        "block_id": block_id,
        "value": button["value"],
    }
    clicks = [
        threading.Thread(target=bot.click, args=(action,), kwargs={"message": message})
        for _ in range(2)
    ]
    for click in clicks:
        click.start()
    for click in clicks:
        click.join()
    update = bot.wait_calls("chat.update")[0].args
    assert "started " in texts(update) or "started " in json.dumps(update["blocks"])
    bot.settle()
    assert count(bot, PlaybookRun) == 1
    run_posts = [c.args for c in bot.calls("chat.postMessage") if c.args.get("thread_ts") == TS]
    assert len(run_posts) == 1 and any(
        b.get("block_id", "").startswith("run:") for b in run_posts[0]["blocks"]
    )
    answer = bot.wait_for(
        lambda: [r.args for r in bot.responses() if "already running" in texts(r.args)]
    )
    assert answer
    bot.check_payloads()


def test_not_a_risk_and_snooze_record_once_and_show_who(bot: Bot) -> None:
    ask(bot, "account Acme Corp")
    card = bot.responses()[0].args
    message = {"ts": TS, "text": card["text"], "blocks": card["blocks"]}
    for _ in range(2):
        click_button(bot, message, "account-not-a-risk")
    bot.wait_for(
        lambda: [r for r in bot.responses() if "already marked not a risk" in texts(r.args)]
    )
    assert count(bot, Feedback, Feedback.label == "not_a_risk", Feedback.by == CSM[1]) == 1
    updated = bot.wait_calls("chat.update")[0].args
    assert "<@UCSM> marked not a risk" in json.dumps(updated["blocks"])

    snooze, block_id = element(message, "account-snooze")
    week = next(o for o in snooze["options"] if '"7"' in o["value"])
    action = {
        "type": "static_select",
        "action_id": "account-snooze",
        "block_id": block_id,
        "selected_option": week,
    }
    bot.click(action, message=message)
    bot.wait_for(lambda: count(bot, Snooze) == 1)
    bot.click(action, message=message)
    bot.wait_for(lambda: [r for r in bot.responses() if "already snoozed" in texts(r.args)])
    assert count(bot, Snooze) == 1
    bot.check_payloads()


def test_log_outcome_checks_arr_is_a_number(bot: Bot) -> None:
    message = start_run(bot)
    click_button(bot, message, "run-log-outcome")
    view = bot.wait_calls("views.open")[0].args["view"]
    values = {
        "outcome": {
            "outcome-input": {"type": "static_select", "selected_option": {"value": "saved"}}
        },
        "arr": {"arr-input": {"type": "plain_text_input", "value": "lots"}},
        "note": {"note-input": {"type": "plain_text_input", "value": None}},
    }
    refused = bot.submit(view, values).json()
    assert refused["response_action"] == "errors" and "arr" in refused["errors"]
    bot.settle(0.2)
    assert count(bot, Outcome) == 0
    values["arr"]["arr-input"]["value"] = "-5,000"
    assert bot.submit(view, values).status_code == 200
    bot.wait_for(lambda: count(bot, Outcome) == 1)
    with bot.session() as session:
        outcome = session.exec(select(Outcome)).one()
        assert outcome.kind == "saved" and outcome.arr_change == -5000 and outcome.by == CSM[1]
    update = bot.wait_calls("chat.update")[0].args
    assert "Outcome *saved*" in json.dumps(update["blocks"])
    bot.check_payloads()


def test_only_owner_manager_or_admin_may_change_a_run(bot: Bot) -> None:
    message = start_run(bot)
    click_button(bot, message, "step-done", user=OTHER[1])
    denied = bot.wait_for(
        lambda: [r.args for r in bot.responses() if "Only the owner" in texts(r.args)]
    )
    assert denied[0]["response_type"] == "ephemeral"
    click_button(bot, message, "run-close", user=OTHER[1])
    bot.wait_for(
        lambda: len([r for r in bot.responses() if "Only the owner" in texts(r.args)]) == 2
    )
    assert (
        bot.calls("views.open") == []
        and count(bot, PlaybookRun, PlaybookRun.status == "closed") == 0
    )

    click_button(bot, message, "run-close", user=MANAGER[1])  # the CSM's manager may
    bot.wait_for(lambda: count(bot, PlaybookRun, PlaybookRun.status == "closed") == 1)
    click_button(bot, message, "run-close", user=ADMIN)  # stale: already closed
    bot.wait_for(
        lambda: [
            r
            for r in bot.responses()
            if "closed" in texts(r.args) and "Nothing" not in texts(r.args)
        ]
    )
    assert count(bot, AuditLog, AuditLog.action == "run.closed") == 1
    bot.check_payloads()


def test_assign_a_step_with_the_user_picker(bot: Bot) -> None:
    message = start_run(bot)
    picker, block_id = element(message, "step-assign")
    action = {
        "type": "users_select",
        "action_id": "step-assign",
        "block_id": block_id,
        "selected_user": OTHER[1],
    }
    bot.click(action, message=message)
    bot.wait_for(lambda: count(bot, PlaybookStep, PlaybookStep.owner == OTHER[0]) == 1)
    update = bot.wait_calls("chat.update")[0].args
    assert "other@example.com" in json.dumps(update["blocks"]) or "<@UOTHER>" in json.dumps(
        update["blocks"]
    )
    bot.check_payloads()


def test_assign_an_account_from_the_digest_menu_once(bot: Bot) -> None:
    start_run(bot)
    ask(bot, "digest")
    digest = [c.args for c in bot.calls("chat.postMessage") if c.args.get("channel") == CSM[1]][-1]
    message = {"ts": TS, "text": digest["text"], "blocks": digest["blocks"]}
    menu, block_id = next(
        (b["accessory"], b["block_id"])
        for b in message["blocks"]
        if (b.get("accessory") or {}).get("action_id") == "account-menu"
        and b["block_id"] == "digest-A1"
    )
    assign = next(o for o in menu["options"] if '"assign"' in o["value"])
    action = {
        "type": "overflow",
        "action_id": "account-menu",
        "block_id": block_id,
        "selected_option": assign,
    }
    bot.click(action, message=message)
    view = bot.wait_calls("views.open")[0].args["view"]
    assert view["callback_id"] == "account-assign-modal"
    chosen = {"assignee": {"assignee-input": {"type": "users_select", "selected_user": OTHER[1]}}}
    bot.submit(view, chosen)
    bot.wait_for(lambda: count(bot, PlaybookRun, PlaybookRun.owner == OTHER[0]) == 1)
    # `/cs digest` posts outside the outbox, so after a modal there is no stored copy to
    # redraw (the digest job's digests have one); the account's thread records the change.
    bot.submit(view, chosen)
    bot.wait_for(
        lambda: [c for c in bot.calls("chat.postMessage") if "already assigned" in texts(c.args)]
    )
    assert count(bot, AuditLog, AuditLog.action == "run.assigned") == 1
    bot.check_payloads()


def test_done_from_my_steps_list_redraws_the_list(bot: Bot) -> None:
    start_run(bot)
    mine = ask(bot, "my")
    steps_before = json.dumps(mine["blocks"]).count('"step-done"')
    message = {"ts": TS, "text": mine["text"], "blocks": mine["blocks"]}
    done, block_id = element(message, "step-done")
    bot.click({"action_id": "step-done", "block_id": block_id, "value": done["value"]},
              message=message, ephemeral=True)  # fmt: skip
    view = bot.wait_calls("views.open")[0].args["view"]
    # the modal remembers the list's stored message, so it is redrawn after the submission
    assert json.loads(view["private_metadata"])["message"].startswith("my-steps:")
    bot.submit(view, note("done"))
    redrawn = bot.wait_for(
        lambda: [r.args for r in bot.responses() if r.args.get("replace_original")]
    )
    assert json.dumps(redrawn[0]["blocks"]).count('"step-done"') == steps_before - 1
    assert bot.calls("chat.update") == []  # an ephemeral list is replaced through its response_url
    bot.check_payloads()


def test_closing_a_run_redraws_it_without_buttons(bot: Bot) -> None:
    message = start_run(bot)
    click_button(bot, message, "run-close")
    update = bot.wait_calls("chat.update")[0].args
    ids = [b.get("block_id", "") for b in update["blocks"]]
    assert not any(i.startswith("run:") for i in ids) and "run-closed:1" in " ".join(ids)
    assert '"step-done"' not in json.dumps(update["blocks"])
    thread = bot.wait_for(
        lambda: [c.args for c in bot.calls("chat.postMessage") if c.args.get("thread_ts") == TS]
    )
    assert "closed Churn-risk save" in texts(thread[0])
    bot.check_payloads()


def test_a_rate_limited_update_is_retried_and_a_refused_post_is_explained(bot: Bot) -> None:
    message = start_run(bot)
    bot.fake.fail("chat.update", status=429, retry_after=1)
    click_button(bot, message, "run-close")
    updates = bot.wait_calls("chat.update", 2)
    assert updates[1].at - updates[0].at >= 0.9  # waited for Retry-After, then landed
    # Closing also posts a note in the run's thread; let it land before the next post is
    # refused, or the refusal would fall on the note instead of on the new run's message.
    bot.wait_for(
        lambda: [c for c in bot.calls("chat.postMessage") if c.args.get("thread_ts") == TS]
    )
    bot.fake.fail("chat.postMessage", error="channel_not_found")
    ask(bot, "playbook start Acme Labs renewal")
    assert count(bot, PlaybookRun, PlaybookRun.account_id == "A2") == 1  # the change is kept
    explained = bot.wait_for(
        lambda: [r for r in bot.responses() if "channel_not_found" in texts(r.args)]
    )
    assert "saved" in texts(explained[0].args)
