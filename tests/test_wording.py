"""What people read, pinned: each sentence that once read wrong is rendered here from the real
message builders (or the real server) and checked word for word, its Block Kit with
slack_sdk.models.

The slips: "Account `None` no longer exists"; steps numbered from 0; "escalated to the CS
executive" when only the CSM was told; "silent, silent 103 days"; "snoozed until Dec 11
Dec 04 14:44 UTC"; "assigned … to X" once per run; playbook file names instead of titles;
`/cs account Macy's` failing on the apostrophe; an echoed command not escaped; a click
rewriting a digest's fallback text.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlmodel import Session

from bot.accounts.actions import state_text
from bot.accounts.messages import stakeholder_lines
from bot.accounts.service import AccountState, Activity, account_activity
from bot.alerts.detect import _reasons
from bot.app.command_parse import AccountCard, PlaybookStart, Usage, parse
from bot.delivery.limits import validate_message
from bot.plays.messages import run_message, step_message
from bot.slack.ids import ButtonValue
from playbooks import engine as play_engine
from playbooks.library import load_library
from storage.clock import FixedClock
from storage.models import Account, AccountScore, PlaybookRun, PlaybookStep
from tests.test_slack_commands import ask, texts
from tests.test_slack_harness import CSM, NOW, OTHER, Bot

pytest_plugins = ["tests.test_slack_harness"]

TS = "1700000100.000100"


def _step(position: int, **extra: Any) -> PlaybookStep:
    values: dict[str, Any] = {
        "id": 10 + position,
        "run_id": 1,
        "position": position,
        "title": f"Step {position}",
        "kind": "task",
        "owner_role": "csm",
        "owner": "UCSM",
        "due_at": NOW + dt.timedelta(days=position),
        "status": "open",
        "escalation_tier": 0,
    }
    values.update(extra)
    return PlaybookStep(**values)


def _checked(message: dict[str, Any]) -> str:
    validate_message(message)
    return texts(message)


# -- steps are numbered from 1 ---------------------------------------------------------------


def test_steps_are_numbered_from_one_in_a_run_and_alone() -> None:
    steps = [_step(0), _step(1), _step(2)]
    run = PlaybookRun(
        id=1, account_id="A1", playbook="churn_risk_save", status="active",
        started_at=NOW, started_by="UCSM", owner="csm@example.com",
    )  # fmt: skip
    shown = _checked(run_message(run, steps, account_name="Acme", playbook_title="Churn-risk save"))
    assert "*1. Step 0*" in shown and "*3. Step 2*" in shown
    assert "*0." not in shown
    alone = _checked(step_message(steps[0], account_name="Acme", playbook_title="Churn-risk save"))
    assert "*1. Step 0*" in alone and "*0." not in alone


# -- stakeholders: the silence said once ------------------------------------------------------


def test_a_silent_contact_reads_silent_for_n_days_once() -> None:
    roles = {
        "champion": {"state": "silent", "contact": "Ann Lee", "silent_days": 103},
        "executive_sponsor": {"state": "left", "contact": "Bo", "silent_days": 40},
        "decision_maker": {"state": "missing", "contact": None, "silent_days": 300},
    }
    lines = stakeholder_lines({"roles": roles})
    assert any(line.endswith("Ann Lee — silent for 103 days") for line in lines), lines
    assert any("left, last heard from 40 days ago" in line for line in lines), lines
    assert any(line.endswith("nobody — missing") for line in lines), lines
    assert not any("silent, silent" in line for line in lines)
    score = AccountScore(account_id="A1", as_of=NOW.date(), health=20, band="critical",
                         stakeholders={"roles": roles})  # fmt: skip
    reasons = _reasons("stakeholder", score)
    assert "champion Ann Lee: silent for 103 days" in reasons
    assert not any("silent, silent" in reason for reason in reasons)


# -- activity: when in brackets, each thing once, titles not file names -------------------------


def test_snoozed_until_is_not_run_into_when_it_was_done() -> None:
    state = AccountState(
        activity=(Activity(dt.datetime(2026, 12, 4, 14, 44), "UCSM", "snoozed until Dec 11"),)
    )
    said = state_text(state) or ""
    assert said == "<@UCSM> snoozed until Dec 11 (Dec 04 14:44 UTC)"


def test_assigning_three_runs_is_one_line_with_a_mention(session: Session) -> None:
    clock = FixedClock(NOW)
    session.add(Account(account_id="A1", name="Acme Corp", segment="smb", owner=CSM[0]))
    session.commit()
    library = load_library()
    runs = []
    for name in ("churn_risk_save", "onboarding_first_value", "multithreading"):
        runs.append(play_engine.start_run(session, account_id="A1", playbook=library[name],
                                          actor="UCSM", source="slack", clock=clock))  # fmt: skip
    session.commit()
    for run in runs:  # what the Assign modal does for the account's open plays
        play_engine.assign(session, owner=OTHER[1], actor="UCSM", source="slack", clock=clock,
                           run_id=run.id or 0)  # fmt: skip
    session.commit()
    activity = account_activity(session, "A1", NOW - dt.timedelta(days=1), library)
    said = state_text(AccountState(activity=tuple(activity))) or ""
    assert said.count("assigned the open plays to") == 1, said
    assert "assigned the open plays to <@UOTHER>" in said
    assert "started Churn-risk save" in said and "churn_risk_save" not in said


# -- /cs: apostrophes, escaped echoes, titles -------------------------------------------------


def test_apostrophes_and_quotes_in_names() -> None:
    assert parse("account Macy's") == AccountCard("Macy's")
    assert parse("account O'Brien & Co") == AccountCard("O'Brien & Co")
    assert parse("playbook start 'Macy's Inc' renewal") == PlaybookStart("Macy's Inc", "renewal")
    assert parse("playbook start “Acme Corp” renewal") == PlaybookStart("Acme Corp", "renewal")
    assert parse('account "Acme') == AccountCard('"Acme')  # never "No closing quotation"
    assert isinstance(parse("frobnicate"), Usage)


def test_cs_account_macys_shows_its_card(bot: Bot) -> None:
    with bot.session() as session:
        session.add(Account(account_id="M1", name="Macy's", owner=CSM[0], segment="smb"))
        session.commit()
    answer = ask(bot, "account Macy's")
    shown = texts(answer)
    assert "Macy&#x27;s" in shown or "Macy's" in shown
    assert "closing quotation" not in shown and "No account matches" not in shown
    bot.check_payloads()


def test_an_unknown_command_is_echoed_escaped(bot: Bot) -> None:
    acked = bot.command("<!channel>")  # a usage problem is the ack's own body
    assert acked.status_code == 200
    answer = acked.json()
    validate_message({"text": answer["text"], "blocks": answer["blocks"]})
    shown = json.dumps(answer)
    assert "&lt;!channel&gt;" in shown and "<!channel>" not in shown
    missing = ask(bot, "account <!here> & co")
    assert "<!here>" not in json.dumps(missing)
    bot.check_payloads()


def test_people_read_playbook_titles(bot: Bot) -> None:
    started = texts(ask(bot, 'playbook start "Acme Corp" churn_risk_save'))
    assert "Churn-risk save" in started and "churn_risk_save" not in started
    again = texts(ask(bot, 'playbook start "Acme Corp" churn_risk_save'))
    assert "Churn-risk save is already running" in again
    unknown = texts(ask(bot, 'playbook start "Acme Corp" <b>nope'))
    assert "<b>" not in unknown and "`churn_risk_save` (Churn-risk save)" in unknown
    bot.check_payloads()


# -- clicks ---------------------------------------------------------------------------------


def test_a_button_without_an_account_never_says_none(bot: Bot) -> None:
    for value, expected in (
        (ButtonValue(option="7"), "no longer points at an account"),
        (ButtonValue(account_id="<!channel>", option="7"), "&lt;!channel&gt;"),
    ):
        action = {"type": "button", "action_id": "account-not-a-risk", "block_id": "b",
                  "value": value.encode()}  # fmt: skip
        before = len(bot.responses())
        bot.click(action, message={"ts": TS, "text": "x", "blocks": []})
        said = bot.wait_for(
            lambda before=before, expected=expected: [
                texts(r.args) for r in bot.responses()[before:] if expected in texts(r.args)
            ]
        )
        assert "None" not in said[0] and "<!channel>" not in said[0]


def test_a_click_keeps_the_digests_fallback_text(bot: Bot) -> None:
    ask(bot, "digest")
    digest = bot.wait_calls("chat.postMessage")[0].args
    assert "Acme Corp" in digest["text"]
    message = {"ts": TS, "text": digest["text"], "blocks": digest["blocks"]}
    menu, block_id = next(
        (b["accessory"], b["block_id"])
        for b in message["blocks"]
        if (b.get("accessory") or {}).get("action_id") == "account-menu"
        and b["block_id"] == "digest-A1"
    )
    choice = next(o for o in menu["options"] if '"not_a_risk"' in o["value"])
    action = {"type": "overflow", "action_id": "account-menu", "block_id": block_id,
              "selected_option": choice}  # fmt: skip
    assert bot.click(action, message=message).status_code == 200
    update = bot.wait_calls("chat.update")[0].args
    assert update["text"] == digest["text"]
    assert "marked not a risk" in json.dumps(update["blocks"])
    bot.check_payloads()


# -- the terminal digest ---------------------------------------------------------------------


def test_the_terminal_digest_says_the_band_once() -> None:
    from rich.console import Console

    from bot.digests.model import DigestItem
    from bot.digests.terminal import item_text

    item = DigestItem(account_id="A1", name="Acme", arr=7100.0, health=19.0, band="critical",
                      priority=1.0, why=("critical", "falling_fast", "high_churn_risk"),
                      reasons=("Logins down 75%",), health_delta_30d=-29.0, churn_risk=0.53)  # fmt: skip
    console = Console(width=80, record=True, color_system=None)
    console.print(item_text(1, item, {}))
    shown = console.export_text()
    assert "Health 19 critical" in shown
    assert shown.count("critical") == 1, shown
    assert "falling fast · high churn risk" in shown
