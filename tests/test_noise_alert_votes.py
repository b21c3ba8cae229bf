"""👍 / 👎 on an alert (not only on digest entries): stored with the rule that produced the
alert, and reported per rule and per CSM by `csbot alerts report` and the leaders' summary,
through the signed endpoint and the fake Slack server."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from slack_sdk import WebClient
from sqlmodel import Session, select
from typer.testing import CliRunner

from bot.alerts.service import raise_alerts
from bot.delivery.sender import deliver_pending
from bot.settings import load_settings
from storage.models.noise import UsefulnessVote
from tests.test_slack_commands import texts
from tests.test_slack_harness import CSM, NOW, Bot

pytest_plugins = ["tests.test_slack_harness"]


def post_alerts(bot: Bot) -> list[dict[str, Any]]:
    settings = load_settings(risk_alert_threshold=0.5, default_delivery="everything")
    with Session(bot.engine, expire_on_commit=False) as session:
        queued = raise_alerts(
            session, as_of=NOW.date(), clock=bot.clock, settings=settings, library={}
        )
        session.commit()
    assert queued, "the seeded book raises an alert"
    deliver_pending(bot.engine, WebClient(token="xoxb-test", base_url=bot.fake.api_url), bot.clock)
    return [
        {"ts": f"1700000200.{n:06d}", "text": c.args["text"], "blocks": c.args["blocks"]}
        for n, c in enumerate(bot.calls("chat.postMessage"))
        if any(b.get("block_id") == "alert-votes" for b in c.args.get("blocks") or [])
    ]


def test_alert_votes_are_stored_with_the_rule_and_reported(bot: Bot, monkeypatch) -> None:
    alerts = post_alerts(bot)
    assert alerts and bot.check_payloads() >= len(alerts)
    message = alerts[0]
    row = next(b for b in message["blocks"] if b["block_id"] == "alert-votes")
    useful = next(e for e in row["elements"] if e["action_id"] == "vote-useful")
    bot.click({"action_id": "vote-useful", "block_id": row["block_id"], "value": useful["value"]},
              message=message)  # fmt: skip
    bot.wait_for(lambda: [r for r in bot.responses() if "noted as useful" in texts(r.args)])
    with bot.session() as session:
        vote = session.exec(select(UsefulnessVote)).one()
    assert (vote.kind, vote.account_id, vote.csm, vote.useful) == ("alert", "A1", CSM[0], True)
    rule = f"alert:{vote.rule}"
    assert vote.rule.split(":")[0] in ("band", "risk", "stakeholder")

    from bot.cli import app
    from bot.leaders.messages import leaders_summary_message
    from tests.test_noise_replay import stamp_head

    with bot.session() as session:
        summary = json.dumps(leaders_summary_message(session, as_of=NOW.date()))
    assert rule in summary and "useful 100% of 1" in summary
    stamp_head(bot.engine)
    monkeypatch.setenv("CSBOT_DATABASE_URL", bot.engine.url.render_as_string(hide_password=False))
    until = (NOW.date() + dt.timedelta(days=1)).isoformat()
    result = CliRunner().invoke(
        app, ["alerts", "report", "--format", "json", "--until", until, "--weeks", "1"]
    )
    assert result.exit_code == 0, result.output
    shown = json.loads(result.output)
    line = next(r for r in shown["by_rule"] if r["key"] == rule)
    assert line["sent"] >= 1 and (line["useful"], line["useful_rate"]) == (1, 1.0)
    assert line["per_week"] == line["sent"]  # a one-week report
    assert next(r for r in shown["by_csm"] if r["key"] == CSM[0])["useful"] == 1
