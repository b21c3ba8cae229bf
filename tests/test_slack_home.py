"""The App Home: published on app_home_opened with my accounts by risk (with a trend), my
open steps with buttons, and my last digest; a click from the Home re-publishes it."""

from __future__ import annotations

import datetime as dt
import json
import time

from sqlmodel import Session

from storage.models import OutboxMessage
from tests.test_slack_actions import element, start_run
from tests.test_slack_harness import CSM, NOW, Bot

pytest_plugins = ["tests.test_slack_harness"]


def open_home(bot: Bot, user: str = CSM[1]) -> dict:
    before = len(bot.calls("views.publish"))
    event = {
        "token": "legacy", "team_id": "T0001", "api_app_id": "A1", "type": "event_callback",
        "event_id": f"Ev{time.time_ns()}", "event_time": int(time.time()),
        "event": {"type": "app_home_opened", "user": user, "channel": "D1", "tab": "home"},
    }  # fmt: skip
    assert bot.post(json.dumps(event), content_type="application/json").status_code == 200
    call = bot.wait_calls("views.publish", before + 1)[before]
    assert call.args["user_id"] == user
    return call.args["view"]


def test_home_shows_my_accounts_steps_and_last_digest(bot: Bot) -> None:
    with Session(bot.engine) as session:
        session.add(OutboxMessage(
            idempotency_key=f"digest:{CSM[0]}:2026-06-01", kind="digest", channel=CSM[1],
            payload={"text": "2 accounts need you today", "blocks": [
                {"type": "section", "block_id": "digest-intro", "text": {"type": "mrkdwn", "text": "*2 accounts need you today*"}}]},
            status="sent", next_attempt_at=NOW, created_at=NOW, sent_at=NOW + dt.timedelta(minutes=1),
        ))  # fmt: skip
        session.commit()
    empty = open_home(bot)
    shown = json.dumps(empty, ensure_ascii=False)
    assert empty["type"] == "home"
    assert shown.index("Acme Corp") < shown.index("Acme Labs") and "Globex" not in shown
    assert "No open steps" in shown and "2 accounts need you today" in shown
    assert any(ch in shown for ch in "▁▂▃▄▅▆▇█")  # the 12-week trend

    start_run(bot)
    home = open_home(bot)
    done, block_id = element(home, "step-done")
    bot.click({"action_id": "step-done", "block_id": block_id, "value": done["value"]}, home=True)
    view = bot.wait_calls("views.open")[0].args["view"]
    bot.submit(view, {"note": {"note-input": {"type": "plain_text_input", "value": "ok"}}})
    republished = bot.wait_calls("views.publish", 3)[2].args["view"]
    assert json.dumps(republished).count('"step-done"') == json.dumps(home).count('"step-done"') - 1
    bot.check_payloads()


def test_home_for_someone_csbot_cannot_place(bot: Bot) -> None:
    view = open_home(bot, user="UGHOST")
    assert "cannot see your email" in json.dumps(view)
    bot.check_payloads()
