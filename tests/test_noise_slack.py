"""Quiet by design through the real HTTP endpoint, with requests signed as Slack signs them:
the phone-sized digest and its paginated "See all", snooze with a reason, 👍 / 👎 stored
and reported, and each person's settings from `/cs settings`."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlmodel import Session, select
from typer.testing import CliRunner

from bot.accounts.votes import usefulness_report
from storage.models import Account, AccountScore, Feedback, Snooze
from storage.models.noise import PersonPrefs, UsefulnessVote
from tests.test_slack_commands import ask, texts
from tests.test_slack_harness import CSM, MANAGER, NOW, Bot

pytest_plugins = ["tests.test_slack_harness"]

TS = "1700000100.000100"


def fetch(bot: Bot, query: Any) -> list[Any]:
    """Rows of `query`, in a session closed at once (an open one would block teardown)."""
    with bot.session() as session:
        return list(session.exec(query).all())


def add_troubled(bot: Bot, count: int) -> None:
    today = NOW.date()
    with Session(bot.engine) as session:
        for i in range(count):
            session.add(Account(account_id=f"T{i:02d}", name=f"Troubled {i:02d}", owner=CSM[0]))
            session.add(
                AccountScore(
                    account_id=f"T{i:02d}",
                    as_of=today,
                    health=40.0 + i % 7,
                    band="at_risk",
                    health_delta_30d=-15.0,
                    direction="falling",
                    churn_risk=0.55,
                    arr=20_000.0 + i,
                    reasons=[
                        {
                            "signal": "tickets",
                            "impact": -5.0,
                            "text": "3 urgent tickets in 30 days, 2 still open",
                        },
                        {
                            "signal": "tickets_open",
                            "impact": -4.0,
                            "text": "3 urgent tickets in 30 days, 2 still open",
                        },
                    ],
                )  # fmt: skip
            )
        session.commit()


def my_digest(bot: Bot) -> dict[str, Any]:
    ask(bot, "digest")
    posted = [c.args for c in bot.calls("chat.postMessage") if "need" in (c.args.get("text") or "")]
    return {"ts": TS, "text": posted[-1]["text"], "blocks": posted[-1]["blocks"]}


def overflow(bot: Bot, message: dict[str, Any], account_id: str, choice: str) -> None:
    section = next(b for b in message["blocks"] if b.get("block_id") == f"digest-{account_id}")
    option = next(o for o in section["accessory"]["options"] if f'"{choice}"' in o["value"])
    action = {"type": "overflow", "action_id": "account-menu", "block_id": section["block_id"], "selected_option": option}  # fmt: skip
    assert bot.click(action, message=message).status_code == 200


def test_digest_fits_a_phone_and_see_all_lists_every_account(bot: Bot) -> None:
    add_troubled(bot, 40)
    message = my_digest(bot)
    blocks = message["blocks"]
    assert len(blocks) <= 20
    entries = [
        b
        for b in blocks
        if b.get("block_id", "").startswith("digest-")
        and b.get("accessory", {}).get("type") == "overflow"
    ]
    assert len(entries) == 5  # CSBOT_DIGEST_SIZE's default
    for entry in entries:
        assert entry["text"]["text"].count("3 urgent tickets in 30 days, 2 still open") <= 1
    see_all = next(b for b in blocks if b.get("block_id") == "digest-see-all")["elements"][0]
    total = int(see_all["text"]["text"].removeprefix("See all "))
    assert total >= 41  # 40 troubled, Acme Corp, and any other of the CSM's that qualifies

    action = {"type": "button", "action_id": "digest-see-all", "block_id": "digest-see-all", "value": see_all["value"]}  # fmt: skip
    bot.click(action, message=message)
    view = bot.wait_calls("views.open")[0].args["view"]
    listed: list[str] = []
    for page in range(1, 4):
        ids = [b["block_id"][len("see-all-"):] for b in view["blocks"] if b["block_id"].startswith("see-all-") and b["type"] == "section"]  # fmt: skip
        listed += ids
        about = view["blocks"][0]["elements"][0]["text"]
        assert f"page {page} of 3" in about
        nav = next((b for b in view["blocks"] if b["block_id"] == "see-all-pages"), None)
        if page == 3:
            assert nav is not None and [e["text"]["text"] for e in nav["elements"]] == [
                "← Previous"
            ]
            break
        following = next(e for e in nav["elements"] if e["text"]["text"] == "Next →")
        click = {"type": "button", "action_id": "digest-page", "block_id": "see-all-pages", "value": following["value"]}  # fmt: skip
        payload_view = {"id": "VSEE", "hash": "h1", "type": "modal"}
        bot.interaction({"type": "block_actions", "user": {"id": CSM[1]}, "trigger_id": bot.trigger(),
                         "container": {"type": "view", "view_id": "VSEE"}, "view": payload_view,
                         "actions": [click]})  # fmt: skip
        view = bot.wait_calls("views.update", page)[page - 1].args["view"]
    assert len(listed) == len(set(listed)) == total
    assert {f"T{i:02d}" for i in range(40)} | {"A1"} <= set(listed)
    assert bot.check_payloads() >= 4


def test_snooze_with_a_reason_silences_shows_and_feeds_the_model(bot: Bot) -> None:
    message = my_digest(bot)
    overflow(bot, message, "A1", "snooze")
    view = bot.wait_calls("views.open")[0].args["view"]
    assert view["callback_id"] == "account-snooze-modal"
    values = {
        "snooze-reason": {"snooze-reason-input": {"type": "static_select", "selected_option": {"value": "other"}}},
        "snooze-period": {"snooze-period-input": {"type": "static_select", "selected_option": {"value": "14"}}},
        "snooze-note": {"snooze-note-input": {"type": "plain_text_input", "value": ""}},
    }  # fmt: skip
    refused = bot.submit(view, values)
    assert refused.json()["response_action"] == "errors"  # "other" needs a note
    values["snooze-reason"]["snooze-reason-input"]["selected_option"]["value"] = "not_a_real_risk"
    assert bot.submit(view, values).status_code == 200
    bot.wait_for(lambda: fetch(bot, select(Snooze)))
    with bot.session() as session:
        snooze = session.exec(select(Snooze)).one()
        assert snooze.reason == "not_a_real_risk" and snooze.until == NOW + dt.timedelta(days=14)
        assert (
            session.exec(select(Feedback).where(Feedback.label == "not_a_risk")).one().by == CSM[1]
        )
    card = ask(bot, "account Acme Corp")
    assert "Snoozed until Jun 15" in texts(card) and "not a real risk" in texts(card)
    # Snoozed: the account leaves the digest.
    again = my_digest(bot)
    assert not any(b.get("block_id") == "digest-A1" for b in again["blocks"])


def test_useful_votes_are_stored_with_their_rule_and_reported(bot: Bot, monkeypatch) -> None:
    message = my_digest(bot)
    row = next(b for b in message["blocks"] if b.get("block_id") == "digest-A1-actions")
    for action_id in ("vote-useful", "vote-not-useful"):
        button = next(e for e in row["elements"] if e["action_id"] == action_id)
        bot.click(
            {"action_id": action_id, "block_id": row["block_id"], "value": button["value"]},
            message=message,
        )
        bot.wait_for(lambda: [r for r in bot.responses() if "noted as" in texts(r.args)])
    bot.wait_for(lambda: (v := fetch(bot, select(UsefulnessVote))) and not v[0].useful)
    with bot.session() as session:
        vote = session.exec(select(UsefulnessVote)).one()
        assert (vote.kind, vote.rule, vote.account_id, vote.csm) == (
            "digest",
            "at_risk",
            "A1",
            CSM[0],
        )
        report = usefulness_report(
            session, since=NOW.date() - dt.timedelta(days=27), until=NOW.date()
        )
        from bot.leaders.messages import leaders_summary_message

        summary = json.dumps(leaders_summary_message(session, as_of=NOW.date()))
    assert "digest:at_risk" in summary and "useful 0% of 1" in summary and CSM[0] in summary
    line = next(s for s in report.by_rule if s.key == "digest:at_risk")
    assert (line.useful, line.not_useful, line.useful_rate) == (0, 1, 0.0)
    assert next(s for s in report.by_csm if s.key == CSM[0]).not_useful == 1

    from bot.cli import app
    from tests.test_noise_replay import stamp_head

    stamp_head(bot.engine)
    monkeypatch.setenv("CSBOT_DATABASE_URL", bot.engine.url.render_as_string(hide_password=False))
    result = CliRunner().invoke(
        app, ["alerts", "report", "--format", "json", "--until", "2026-06-01"]
    )
    assert result.exit_code == 0, result.output
    shown = json.loads(result.output)
    assert any(r["key"] == "digest:at_risk" and r["not_useful"] == 1 for r in shown["by_rule"])


def test_settings_modal_saves_per_user_and_names_bad_fields(bot: Bot) -> None:
    ask_settings = bot.command("settings", user=MANAGER[1])
    assert ask_settings.status_code == 200
    view = bot.wait_calls("views.open")[0].args["view"]
    assert view["callback_id"] == "person-settings-modal"
    scopes = next(b for b in view["blocks"] if b.get("block_id") == "prefs-scope")["element"][
        "options"
    ]
    assert [o["value"] for o in scopes] == ["mine", "team"]  # a manager, not an admin

    def values(**change: Any) -> dict[str, Any]:
        base = {
            "prefs-scope": {"prefs-scope-input": {"type": "static_select", "selected_option": {"value": "team"}}},
            "prefs-delivery": {"prefs-delivery-input": {"type": "static_select", "selected_option": {"value": "digest"}}},
            "prefs-digest-time": {"prefs-digest-time-input": {"type": "timepicker", "selected_time": "07:45"}},
            "prefs-days": {"prefs-days-input": {"type": "checkboxes", "selected_options": [{"value": "mon"}, {"value": "thu"}]}},
            "prefs-quiet-start": {"prefs-quiet-start-input": {"type": "timepicker", "selected_time": "19:00"}},
            "prefs-quiet-end": {"prefs-quiet-end-input": {"type": "timepicker", "selected_time": "08:00"}},
            "prefs-away": {"prefs-away-input": {"type": "datepicker", "selected_date": "2026-06-10"}},
            "prefs-cover": {"prefs-cover-input": {"type": "users_select", "selected_user": None}},
        }  # fmt: skip
        base.update(change)
        return base

    refused = bot.submit(view, values(), user=MANAGER[1])
    assert refused.json() == {"response_action": "errors", "errors": {"prefs-cover": "Name who covers your accounts while you are away"}}  # fmt: skip
    chosen = values(
        **{"prefs-cover": {"prefs-cover-input": {"type": "users_select", "selected_user": CSM[1]}}}
    )
    assert bot.submit(view, chosen, user=MANAGER[1]).status_code == 200
    bot.wait_for(lambda: fetch(bot, select(PersonPrefs).where(PersonPrefs.user_id == MANAGER[1])))
    with bot.session() as session:
        row = session.get(PersonPrefs, MANAGER[1])
        assert row is not None
        assert (row.email, row.scope, row.delivery, row.digest_time, row.digest_days) == (
            MANAGER[0],
            "team",
            "digest",
            "07:45",
            "mon,thu",
        )
        assert (row.quiet_start, row.quiet_end, row.away_until, row.cover) == ("19:00", "08:00", dt.date(2026, 6, 10), CSM[0])  # fmt: skip
    home = bot.wait_calls("views.publish")[-1].args["view"]
    assert any(
        e.get("action_id") == "home-settings"
        for b in home["blocks"]
        for e in b.get("elements") or []
    )
