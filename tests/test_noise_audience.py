"""Whose accounts a person hears about: scope (mine / my team / all) and covers follow the
same rule in the scheduled digest, `/cs digest` and its "See all" list (one function,
`bot.digests.service.load_audiences`), through the signed endpoint and the fake Slack.

The harness's book: the CSM owns Acme Corp (A1) and 40 troubled accounts (T00–T39), the
other CSM owns Globex (B1); the manager mapping makes the boss the CSM's manager.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from sqlmodel import Session

from bot.runtime import Runtime
from bot.scheduling import jobs
from bot.settings import load_settings
from storage.models.noise import PersonPrefs
from tests.test_noise_slack import add_troubled
from tests.test_slack_commands import ask, texts
from tests.test_slack_harness import CSM, MANAGER, NOW, OTHER, Bot

pytest_plugins = ["tests.test_slack_harness"]


def set_prefs(bot: Bot, person: tuple[str, str], **fields: Any) -> None:
    email, user_id = person
    with Session(bot.engine) as session:
        row = session.get(PersonPrefs, user_id) or PersonPrefs(user_id=user_id, email=email)
        for name, value in {**fields, "updated_at": NOW}.items():
            setattr(row, name, value)
        session.add(row)
        session.commit()


def covered_setup(bot: Bot) -> None:
    """The boss sees their team; the other CSM is away, covered by the CSM."""
    add_troubled(bot, 40)
    set_prefs(bot, MANAGER, scope="team")
    set_prefs(bot, OTHER, away_until=NOW.date() + dt.timedelta(days=3), cover=CSM[0])


def digests_posted(bot: Bot) -> dict[str, dict[str, Any]]:
    """The last digest posted to each channel (a DM's channel is the person's user id)."""
    return {
        c.args["channel"]: c.args
        for c in bot.calls("chat.postMessage")
        if "need" in (c.args.get("text") or "")
    }


def my_digest(bot: Bot, person: tuple[str, str]) -> dict[str, Any]:
    answer = ask(bot, "digest", user=person[1])
    assert "digest is posted" in texts(answer), texts(answer)
    posted = bot.wait_for(lambda: digests_posted(bot).get(person[1]))
    return {"ts": "1700000100.000100", "text": posted["text"], "blocks": posted["blocks"]}


def see_all(bot: Bot, message: dict[str, Any], person: tuple[str, str]) -> set[str]:
    """Open "See all" on `message` and turn every page; the account ids listed."""
    button = next(b for b in message["blocks"] if b.get("block_id") == "digest-see-all")
    first = button["elements"][0]
    opened = len(bot.calls("views.open"))
    action = {"action_id": "digest-see-all", "block_id": "digest-see-all", "value": first["value"]}
    bot.click(action, message=message, user=person[1])
    view = bot.wait_calls("views.open", opened + 1)[opened].args["view"]
    listed: list[str] = []
    while True:
        listed += [
            b["block_id"][len("see-all-") :]
            for b in view["blocks"]
            if b["type"] == "section" and b["block_id"].startswith("see-all-")
        ]
        nav = next((b for b in view["blocks"] if b["block_id"] == "see-all-pages"), None)
        following = [e for e in (nav or {}).get("elements", []) if e["text"]["text"] == "Next →"]
        if not following:
            break
        updated = len(bot.calls("views.update"))
        click = {"type": "button", "action_id": "digest-page", "block_id": "see-all-pages", "value": following[0]["value"]}  # fmt: skip
        bot.interaction({"type": "block_actions", "user": {"id": person[1]}, "trigger_id": bot.trigger(),
                         "container": {"type": "view", "view_id": "VSEE"},
                         "view": {"id": "VSEE", "hash": "h1", "type": "modal"}, "actions": [click]})  # fmt: skip
        view = bot.wait_calls("views.update", updated + 1)[updated].args["view"]
    assert len(listed) == len(set(listed))
    total = int(first["text"]["text"].removeprefix("See all "))
    assert len(listed) == total
    return set(listed)


def test_cs_digest_and_see_all_follow_scope_and_covers(bot: Bot) -> None:
    covered_setup(bot)
    # The manager owns nothing; with scope "team" their digest is their CSM's book.
    boss = my_digest(bot, MANAGER)
    assert "Acme Corp" in texts(boss) and "Globex" not in texts(boss)
    boss_all = see_all(bot, boss, MANAGER)
    assert {"A1", *(f"T{i:02d}" for i in range(40))} <= boss_all and "B1" not in boss_all
    # The CSM covers the away CSM: Globex is in their digest's reach and in See all.
    mine = my_digest(bot, CSM)
    mine_all = see_all(bot, mine, CSM)
    assert mine_all == boss_all | {"B1"}
    # Scope back to "mine": the manager has no accounts of their own.
    set_prefs(bot, MANAGER, scope="mine")
    assert "None of your accounts" in texts(ask(bot, "digest", user=MANAGER[1]))
    # The cover's return ends it: the CSM's list is their own book again.
    set_prefs(bot, OTHER, away_until=None, cover=None)
    assert see_all(bot, my_digest(bot, CSM), CSM) == boss_all
    assert bot.check_payloads() >= 6


def test_scheduled_digest_follows_scope_and_covers(
    bot: Bot, fake_slack: Any, tmp_path: Path
) -> None:
    covered_setup(bot)
    for email, user_id in (CSM, OTHER, MANAGER):
        fake_slack.add_user(email, user_id, tz="UTC")
    managers = tmp_path / "team.csv"
    managers.write_text(f"csm_email,manager\n{CSM[0]},{MANAGER[0]}\n")
    settings = load_settings(
        database_url=bot.engine.url.render_as_string(hide_password=False),
        slack_bot_token="xoxb-test",
        slack_api_url=fake_slack.api_url,
        timezone="UTC",
        manager_mapping_file=managers,
        _env_file=None,
    )
    runtime = Runtime(settings=settings, clock=bot.clock)
    runtime.__dict__["engine"] = bot.engine
    bot.clock.set(dt.datetime.combine(NOW.date(), dt.time(10)))
    detail = jobs.digests(runtime, bot.clock)
    assert detail["queued"] >= 2, detail
    posted = digests_posted(bot)
    assert OTHER[1] not in posted  # away: no digest of their own
    boss = {"ts": "1700000100.000200", **posted[MANAGER[1]]}
    mine = {"ts": "1700000100.000300", **posted[CSM[1]]}
    assert "Acme Corp" in texts(boss) and "Globex" not in texts(boss)
    # The scheduled digest's See all lists what `/cs digest`'s does: one rule for both.
    boss_all = see_all(bot, boss, MANAGER)
    assert {"A1", *(f"T{i:02d}" for i in range(40))} <= boss_all and "B1" not in boss_all
    assert see_all(bot, mine, CSM) == boss_all | {"B1"}
