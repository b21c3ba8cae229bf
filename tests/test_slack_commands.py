"""`/cs` end to end: signed slash commands to the real server; answers land on the
response_url (fake Slack), every payload checked with slack_sdk.models and the limits."""

from __future__ import annotations

from typing import Any

from sqlmodel import select

from storage.models import AuditLog, PlaybookRun, SlackUser
from tests.test_slack_harness import CSM, OTHER, Bot

pytest_plugins = ["tests.test_slack_harness"]


def ask(bot: Bot, text: str, user: str = CSM[1]) -> dict[str, Any]:
    """Send `/cs text`, wait for the ephemeral answer, return it."""
    before = len(bot.responses())
    response = bot.command(text, user=user)
    assert response.status_code == 200, response.text
    answer = bot.wait_response(before + 1)[before].args
    assert answer["response_type"] == "ephemeral"
    return answer


def texts(message: dict[str, Any]) -> str:
    """All the visible text of a message, for assertions."""
    found = [message.get("text") or ""]
    for block in message.get("blocks") or []:
        found.append(str((block.get("text") or {}).get("text", "")))
        found += [
            str(e.get("text", "")) for e in block.get("elements") or [] if isinstance(e, dict)
        ]
    return "\n".join(found)


def test_account_card_by_name_id_and_typo(bot: Bot) -> None:
    card = ask(bot, "account Acme Corp")
    assert "Acme Corp" in texts(card) and "health 42" in texts(card)
    assert "Logins down 46%" in texts(card)
    assert "Globex" in texts(ask(bot, "account B1"))
    assert "Globex" in texts(ask(bot, "account Globx"))  # fuzzy match
    assert "No account matches `Zzzz`" in texts(ask(bot, "account Zzzz"))
    assert bot.check_payloads() >= 4


def test_ambiguous_name_offers_a_choice_then_shows_the_card(bot: Bot) -> None:
    choice = ask(bot, "account acme")
    buttons = [b["accessory"] for b in choice["blocks"] if b.get("accessory")]
    assert len(buttons) == 2 and {b["action_id"] for b in buttons} == {"account-choose"}
    labs = next(b for b in buttons if '"A2"' in b["value"])
    bot.click({"action_id": "account-choose", "value": labs["value"], "block_id": "x"},
              message={"ts": "1.0", "blocks": choice["blocks"]}, ephemeral=True)  # fmt: skip
    card = bot.wait_response(2)[1].args
    assert card["replace_original"] is True and "Acme Labs" in texts(card)
    bot.check_payloads()


def test_risk_expansion_and_renewals_show_my_book_only(bot: Bot) -> None:
    risk = texts(ask(bot, "risk"))
    assert risk.index("Acme Corp") < risk.index("Acme Labs") and "Globex" not in risk
    expansion = texts(ask(bot, "expansion"))
    assert "Acme Labs" in expansion and "Acme Corp" not in expansion
    soon = texts(ask(bot, "renewals"))
    assert "Acme Corp" in soon and "in 65 d" in soon and "Acme Labs" not in soon
    assert "Globex" not in soon  # renews in 20 days, but it is not mine
    later = texts(ask(bot, "renewals 300"))
    assert "Acme Corp" in later and "Acme Labs" in later
    assert "Globex" in texts(ask(bot, "risk", user=OTHER[1]))
    bot.check_payloads()


def test_caller_email_is_looked_up_once_and_cached(bot: Bot) -> None:
    bot.fake.add_user("new@example.com", "UNEW")
    assert "None of your accounts has a score yet" in texts(ask(bot, "risk", user="UNEW"))
    with bot.session() as session:
        row = session.get(SlackUser, "new@example.com")
        assert row is not None and row.user_id == "UNEW" and row.tz == "America/New_York"
    ask(bot, "risk", user="UNEW")
    assert len(bot.calls("users.info")) == 1
    unknown = texts(ask(bot, "risk", user="UGHOST"))
    assert "does not know which accounts are yours" in unknown


def test_playbook_list_start_status_and_my_steps(bot: Bot) -> None:
    assert "churn_risk_save" in texts(ask(bot, "playbook list"))
    started = texts(ask(bot, 'playbook start "Acme Corp" churn_risk_save'))
    assert "Started Churn-risk save on Acme Corp" in started
    posted = bot.wait_calls("chat.postMessage")[0].args
    assert posted["channel"] == CSM[1]  # no thread for the account yet: the starter's DM
    assert any(b.get("block_id", "").startswith("run:") for b in posted["blocks"])
    again = texts(ask(bot, "playbook start acme corp churn_risk_save"))
    assert "already running" in again
    with bot.session() as session:
        runs = session.exec(select(PlaybookRun)).all()
        assert len(runs) == 1 and runs[0].started_by == CSM[1] and runs[0].source == "slack"
    status = texts(ask(bot, "playbook status Acme Corp"))
    assert "Churn-risk save · Acme Corp" in status and "due" in status
    mine = ask(bot, "my")
    assert "Your open steps" in texts(mine)
    assert any(
        e["action_id"] == "step-done"
        for b in mine["blocks"]
        for e in b.get("elements", [])
        if isinstance(e, dict) and "action_id" in e
    )
    assert bot.check_payloads() >= 5


def test_only_owner_manager_or_admin_may_start_a_playbook(bot: Bot) -> None:
    denied = texts(ask(bot, "playbook start Globex churn_risk_save"))  # CSM does not own Globex
    assert "Only the owner of Globex (other@example.com)" in denied
    assert "No playbook named `nope`" in texts(
        ask(bot, "playbook start Globex nope", user=OTHER[1])
    )
    with bot.session() as session:
        assert session.exec(select(PlaybookRun)).all() == []
        assert session.exec(select(AuditLog)).all() == []
    from tests.test_slack_harness import ADMIN, MANAGER

    assert "Started" in texts(ask(bot, "playbook start Acme Corp renewal", user=MANAGER[1]))
    assert "Started" in texts(ask(bot, "playbook start Globex renewal", user=ADMIN))


def test_digest_command_posts_my_digest_now(bot: Bot) -> None:
    answer = texts(ask(bot, "digest"))
    assert "Your digest is posted in your DM" in answer
    digest = bot.wait_calls("chat.postMessage")[0].args
    assert digest["channel"] == CSM[1] and "Acme Corp" in str(digest["blocks"])
    assert "Globex" not in str(digest["blocks"])
    bot.check_payloads()
