"""Every message kind, rendered from plain data and checked with slack_sdk.models and
Slack's limits (`validate_message`)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from rich.console import Console

from bot.accounts.messages import account_card_message
from bot.accounts.model import AccountCard, PlaybookChoice, RunSummary
from bot.alerts.detect import detect_alerts
from bot.alerts.messages import alert_message
from bot.delivery.limits import MessageLimitError, validate_message
from bot.digests.messages import digest_message, digest_messages
from bot.digests.model import Digest, DigestItem, ExpansionItem
from bot.digests.terminal import print_digest
from bot.home.messages import home_view
from bot.home.service import HomeData
from bot.leaders.messages import leaders_summary_message
from bot.leaders.service import BandChange, LeadersSummary, PlaybookResult, Retention
from bot.plays.messages import run_message, step_message
from bot.plays.service import OpenStep
from bot.slack.ids import ActionId, ButtonValue
from storage.models import AccountScore, PlaybookRun, PlaybookStep

AS_OF = dt.date(2026, 6, 1)
PLAYBOOKS = [
    PlaybookChoice("churn_risk_save", "Churn-risk save"),
    PlaybookChoice("renewal", "Renewal"),
    PlaybookChoice("multithreading", "Multithreading the relationship"),
]


def item(i: int, **values: Any) -> DigestItem:
    defaults: dict[str, Any] = {
        "account_id": f"acc-{i:03d}",
        "name": f"Account {i} & Sons",
        "arr": 120_000.0 + i,
        "health": 38.0,
        "band": "critical",
        "priority": 100.0 - i,
        "why": ("critical", "falling_fast"),
        "reasons": (
            "Logins down 46% against the 90-day baseline (31 → 17 a week)",
            "Executive sponsor silent 52 days",
            "2 urgent tickets open for 9 days",
        ),
        "health_delta_30d": -18.0,
        "churn_risk": 0.64,
        "days_to_renewal": 74,
        "suggested_playbooks": ("churn_risk_save",),
        "weekly_health": (80.0, 78, 75, 70, 66, 60, 55, 50, 45, 42, 40, 38),
        "sparkline": "██▇▆▆▅▄▃▂▂▁▁",
    }
    defaults.update(values)
    return DigestItem(**defaults)


def digest(count: int, total: int | None = None, **values: Any) -> Digest:
    expansion = [
        ExpansionItem(
            account_id=f"exp-{i}",
            name=f"Grower {i}",
            arr=300_000.0,
            expansion=0.8,
            health=88.0,
            band="healthy",
            priority=3.0,
            signals=("Seats 97% used for 40 days", "Advanced features used by 45% of users"),
            days_to_renewal=200,
        )
        for i in range(3)
    ]
    defaults: dict[str, Any] = {
        "owner": "dana@x.io",
        "as_of": AS_OF,
        "items": [item(i) for i in range(count)],
        "total_needing": total if total is not None else count,
        "expansion": expansion,
        "total_expansion": 3,
        "playbooks": PLAYBOOKS,
        "accounts_in_book": 120,
    }
    defaults.update(values)
    return Digest(**defaults)


def block_ids_of(message: dict[str, Any]) -> list[str]:
    return [b.get("block_id", "") for b in message["blocks"]]


def actions_of(message: dict[str, Any]) -> list[dict[str, Any]]:
    return [e for b in message["blocks"] if b["type"] == "actions" for e in b["elements"]]


def test_digest_message_has_header_accounts_one_menu_and_expansion() -> None:
    message = validate_message(digest_message(digest(3)))
    blocks = message["blocks"]
    assert blocks[0] == {
        "type": "header",
        "block_id": "digest-header",
        "text": {"type": "plain_text", "text": "3 accounts need you today", "emoji": True},
    }
    section = next(b for b in blocks if b.get("block_id") == "digest-acc-000")
    text = section["text"]["text"]
    for expected in ("*Account 0 &amp; Sons*", "$120k ARR", "renews in 74 days", "*38*", "↓18"):
        assert expected in text
    assert "churn risk 64%" in text and "██▇▆▆▅▄▃▂▂▁▁" in text
    assert "Logins down 46%" in text and "Churn-risk save" in text
    menu = section["accessory"]
    assert menu["type"] == "overflow" and menu["action_id"] == ActionId.ACCOUNT_MENU
    assert [ButtonValue.decode(o["value"]).option for o in menu["options"]] == [
        "start",
        "assign",
        "snooze",
        "not_a_risk",
        "details",
    ]
    assert {ButtonValue.decode(o["value"]).account_id for o in menu["options"]} == {"acc-000"}
    actions = blocks[blocks.index(section) + 1]
    primary, useful, not_useful = actions["elements"]
    assert primary["style"] == "primary" and primary["action_id"] == ActionId.START_PLAYBOOK
    assert primary["text"]["text"] == "Start Churn-risk save"
    assert ButtonValue.decode(primary["value"]).option == "churn_risk_save"
    assert (useful["action_id"], not_useful["action_id"]) == (
        ActionId.VOTE_USEFUL,
        ActionId.VOTE_NOT_USEFUL,
    )
    value = ButtonValue.decode(useful["value"])
    assert (value.account_id, value.as_of, value.option) == (
        "acc-000",
        "2026-06-01",
        "digest|critical",
    )
    assert any(b.get("block_id") == "expansion-exp-0" for b in blocks)
    assert (
        "Seats 97% used"
        in next(b for b in blocks if b.get("block_id") == "expansion-exp-0")["text"]["text"]
    )
    # the notification text is mrkdwn too: names in it are escaped
    assert message["text"].startswith("3 accounts need you today: Account 0 &amp; Sons (critical")


def test_a_40_account_digest_is_one_phone_sized_message_with_see_all() -> None:
    big = digest(40)
    messages = digest_messages(big)
    assert len(messages) == 1
    single = validate_message(messages[0])
    assert len(single["blocks"]) <= 20
    shown = [b for b in block_ids_of(single) if b.startswith("digest-acc-") and "-actions" not in b]
    assert len(shown) == 8  # as many as 20 blocks hold; the digest job passes at most 5
    see_all = next(b for b in single["blocks"] if b.get("block_id") == "digest-see-all")
    button = see_all["elements"][0]
    assert button["action_id"] == ActionId.DIGEST_SEE_ALL and button["text"]["text"] == "See all 40"


def test_digest_hidden_accounts_open_see_all() -> None:
    messages = digest_messages(digest(5, total=12))
    assert len(messages) == 1
    ids = block_ids_of(messages[0])
    assert "digest-see-all" in ids and len(messages[0]["blocks"]) <= 20
    assert messages[0]["blocks"][0]["text"]["text"] == "12 accounts need you today"


def test_each_sentence_once_and_the_band_not_repeated_as_a_tag() -> None:
    twice = item(
        1,
        reasons=(
            "3 urgent tickets in 30 days, 2 still open",
            "3 urgent tickets in 30 days, 2 still open",
        ),
    )
    text = digest_message(digest(0, items=[twice], total_needing=1))["blocks"][2]["text"]["text"]
    assert text.count("3 urgent tickets in 30 days") == 1
    assert "_critical" not in text  # the health line already says "(critical)"


def test_digest_survives_long_text_and_no_playbook_library() -> None:
    long = item(
        1,
        name="N" * 400,
        reasons=("R" * 5000, "S" * 100),
        suggested_playbooks=(),
    )
    message = validate_message(
        digest_message(digest(0, items=[long], total_needing=1, playbooks=[]))
    )
    actions = actions_of(message)
    assert [e["action_id"] for e in actions] == [
        ActionId.DETAILS,
        ActionId.VOTE_USEFUL,
        ActionId.VOTE_NOT_USEFUL,
    ]
    empty = validate_message(digest_message(digest(0, expansion=[], total_expansion=0)))
    assert empty["blocks"][0]["text"]["text"] == "No account needs you today"


def test_validate_message_reports_what_slack_would_reject() -> None:
    ok = digest_message(digest(1))
    too_many = {"text": "x", "blocks": [{"type": "divider"}] * 51}
    with pytest.raises(MessageLimitError, match="51 blocks"):
        validate_message(too_many)
    header = {
        "text": "x",
        "blocks": [{"type": "header", "text": {"type": "plain_text", "text": "h" * 151}}],
    }
    with pytest.raises(MessageLimitError, match="150"):
        validate_message(header)
    button = {
        "text": "x",
        "blocks": [
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "action_id": "a",
                        "text": {"type": "plain_text", "text": "b" * 76},
                    }
                ],
            }
        ],
    }
    with pytest.raises(MessageLimitError, match="75"):
        validate_message(button)
    section = {
        "text": "x",
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "s" * 3001}}],
    }
    with pytest.raises(MessageLimitError, match="3000"):
        validate_message(section)
    with pytest.raises(MessageLimitError, match="fallback"):
        validate_message({"blocks": ok["blocks"]})
    with pytest.raises(MessageLimitError, match="repeated block_id"):
        validate_message({"text": "x", "blocks": [ok["blocks"][0], ok["blocks"][0]]})
    with pytest.raises(MessageLimitError, match="unknown block type"):
        validate_message({"text": "x", "blocks": [{"type": "marquee"}]})
    with pytest.raises(MessageLimitError, match="101 blocks"):
        validate_message({"type": "home", "blocks": [{"type": "divider"}] * 101})


def test_account_card() -> None:
    card = AccountCard(
        account_id="acc-1",
        name="Acme Corp",
        as_of=AS_OF,
        health=52.0,
        band="at_risk",
        arr=240_000.0,
        owner="dana@x.io",
        health_delta_7d=-3.0,
        health_delta_30d=-14.0,
        churn_risk=0.41,
        expansion=0.1,
        stakeholder_band="concern",
        renewal_date=AS_OF + dt.timedelta(days=74),
        days_to_renewal=74,
        reasons=("Logins down 46%", "Sponsor silent 52 days"),
        stakeholders={
            "band": "concern",
            "roles": {
                "executive_sponsor": {"contact": "Ana Ruiz", "silent_days": 52, "state": "silent"},
                "champion": {"contact": "Bo Li", "silent_days": 3, "state": "active"},
                "decision_maker": {"contact": None, "silent_days": None, "state": "missing"},
            },
            "engaged_contacts": 2,
            "target": 5,
        },
        sparkline="▇▇▆▆▅▅▄▄▃▃▂▂",
        model_version="churn-2026-05-01",
        runs=[
            RunSummary(
                7,
                "churn_risk_save",
                "Churn-risk save",
                dt.datetime(2026, 5, 20),
                3,
                6,
                "Call the executive sponsor",
                dt.datetime(2026, 6, 3, 17),
            )
        ],
        suggested_playbooks=("renewal",),
        playbooks=PLAYBOOKS,
    )
    message = validate_message(account_card_message(card))
    flat = str(message["blocks"])
    for expected in (
        "Acme Corp",
        "*52* at risk",
        "↓14 in 30 days",
        "41%",
        "$240k",
        "renews in 74 days",
        "executive sponsor: Ana Ruiz — silent for 52 days",
        "2 engaged contacts of a target of 5",
        "Churn-risk save* — 3 of 6 steps open; next: Call the executive sponsor, due Jun 03",
        "Sponsor silent 52 days",
        "churn-2026-05-01",
    ):
        assert expected in flat, expected
    assert ActionId.DETAILS not in [e["action_id"] for e in actions_of(message)]


def score(**values: Any) -> AccountScore:
    defaults: dict[str, Any] = {
        "account_id": "acc-1",
        "as_of": AS_OF,
        "health": 35.0,
        "band": "critical",
        "health_delta_30d": -20.0,
        "arr": 90_000.0,
        "churn_risk": 0.7,
        "renewal_date": AS_OF + dt.timedelta(days=30),
        "reasons": [{"signal": "login_change", "impact": -10.0, "text": "Logins down 60%"}],
    }
    defaults.update(values)
    return AccountScore(**defaults)


def test_alert_message() -> None:
    previous = score(band="neutral", health=62.0, churn_risk=0.2)
    current = score()
    candidates = detect_alerts(previous, current, risk_threshold=0.5)
    assert [c.kind for c in candidates] == ["band", "risk"]
    band = candidates[0]
    message = validate_message(
        alert_message(
            band,
            name="Acme <Corp>",
            score=current,
            playbooks=PLAYBOOKS,
            suggested=["churn_risk_save"],
            mention="U123",
        )
    )
    text = message["blocks"][0]["text"]["text"]
    assert text.startswith(
        "<@U123> 🚨 *Acme &lt;Corp&gt;* entered critical (was neutral): health 35"
    )
    assert "renews in 30 days" in text and "churn risk 70%" in text
    assert "Logins down 60%" in message["blocks"][1]["elements"][0]["text"]
    assert message["text"] == "Acme &lt;Corp&gt; entered critical (was neutral): health 35"
    expansion = detect_alerts(
        None,
        score(
            band="healthy",
            health=85.0,
            churn_risk=0.1,
            expansion=0.9,
            expansion_reasons=[{"text": "Seats 97% used"}],
        ),
        risk_threshold=0.5,
    )
    message = validate_message(alert_message(expansion[0], name="Acme", score=current))
    assert ActionId.NOT_A_RISK not in [e["action_id"] for e in actions_of(message)]


def step(position: int, **values: Any) -> PlaybookStep:
    defaults: dict[str, Any] = {
        "id": 100 + position,
        "run_id": 7,
        "position": position,
        "title": f"Step {position}: call the sponsor",
        "kind": "task",
        "owner_role": "csm",
        "owner": "dana@x.io",
        "instructions": "Book 30 minutes with the sponsor; bring the usage chart." * 3,
        "due_at": dt.datetime(2026, 6, 3, 17, 0),
    }
    defaults.update(values)
    return PlaybookStep(**defaults)


RUN = PlaybookRun(
    id=7,
    account_id="acc-1",
    playbook="churn_risk_save",
    started_at=dt.datetime(2026, 5, 30, 6),
    started_by="scheduler",
    trigger_reason="entered critical",
)


def test_step_message_open_then_done_shows_who_and_when() -> None:
    open_step = step(1)
    message = validate_message(
        step_message(
            open_step,
            account_name="Acme",
            playbook_title="Churn-risk save",
            now=dt.datetime(2026, 6, 4),
        )
    )
    elements = actions_of(message)
    assert [e["action_id"] for e in elements] == [
        ActionId.STEP_DONE,
        ActionId.STEP_SKIP,
        ActionId.STEP_ASSIGN,
    ]
    value = ButtonValue.decode(elements[0]["value"])
    assert (value.step_id, value.run_id) == (101, 7)
    assert "overdue since Jun 03" in str(message["blocks"])
    done = step(1, status="done", done_by="U1", done_at=dt.datetime(2026, 6, 3, 9, 12))
    message = validate_message(
        step_message(done, account_name="Acme", playbook_title="Churn-risk save")
    )
    assert actions_of(message) == []
    assert message["blocks"][-1]["elements"][0]["text"] == "✅ Done by <@U1> at 09:12"
    skipped = step(
        1, status="skipped", done_by="U2", done_at=dt.datetime(2026, 6, 3, 13, 5), note="Not needed"
    )
    message = validate_message(
        step_message(
            skipped, account_name="Acme", playbook_title="Churn-risk save", tz="Europe/Paris"
        )
    )
    assert (
        message["blocks"][-1]["elements"][0]["text"] == "⏭️ Skipped by <@U2> at 15:05 — “Not needed”"
    )


def test_run_message_stays_within_limits_for_a_long_playbook() -> None:
    steps = [
        step(
            i, status="done" if i < 3 else "open", done_by="U1", done_at=dt.datetime(2026, 6, 1, 9)
        )
        for i in range(1, 31)
    ]
    message = validate_message(
        run_message(RUN, steps, account_name="Acme", playbook_title="Churn-risk save")
    )
    assert len(message["blocks"]) <= 50
    assert "more steps — see the App Home" in message["blocks"][-1]["elements"][0]["text"]
    assert "2 of 30 steps closed" in message["text"]


def test_leaders_summary() -> None:
    summary = LeadersSummary(
        start=dt.date(2026, 5, 1),
        end=AS_OF,
        distribution={
            "healthy": (120, 6e6),
            "neutral": (60, 2e6),
            "at_risk": (15, 9e5),
            "critical": (5, 3e5),
        },
        retention=Retention(
            starting_arr=1e7, ending_arr=1.02e7, expansion=5e5, contraction=1e5, churned=2e5
        ),
        band_changes=[
            BandChange(f"a{i}", f"Account {i}", "dana@x.io", "neutral", "at_risk", 65, 52, 1e5)
            for i in range(14)
        ]
        + [BandChange("b", "Better", None, "at_risk", "healthy", 50, 82, 5e4)],
        playbooks=[
            PlaybookResult(
                "churn_risk_save", "Churn-risk save", 12, {"saved": 4, "churned": 1}, -2e4
            )
        ],
        accounts=200,
    )
    message = validate_message(leaders_summary_message(summary))
    flat = str(message["blocks"])
    for expected in ("NRR 102.0%", "GRR 97.0%"):
        assert expected in message["text"]
    for expected in (
        "120 accounts · $6.0M (65% of ARR)",
        "*Net revenue retention* 102.0%",
        "*Moved to a worse band (14)*",
        "…and 4 more",
        "*Improved (1)*",
        "12 started; outcomes: 1 churned, 4 saved · ARR −$20k",
    ):
        assert expected in flat, expected


def test_home_view_within_100_blocks() -> None:
    steps = [OpenStep(step(i), RUN, "Acme", "Churn-risk save") for i in range(1, 11)]
    home = HomeData(
        owner="dana@x.io",
        as_of=AS_OF,
        accounts=[item(i) for i in range(15)],
        accounts_total=40,
        steps=steps,
        steps_total=14,
        digest=digest(20, total=25),
        digest_posted_at=dt.datetime(2026, 6, 1, 12, 30),
    )
    view = validate_message(home_view(home))
    assert view["type"] == "home" and len(view["blocks"]) <= 100
    flat = str(view["blocks"])
    for expected in (
        "25 more, lower risk",
        "4 more — `/cs my`",
        "5 more need you",
        "25 accounts need you today",
        "posted Jun 01 12:30 UTC",
        "Grower 0",
    ):
        assert expected in flat, expected
    ids = [e["action_id"] for e in actions_of(view)]
    assert ids.count(ActionId.STEP_DONE) == 10 and ActionId.HOME_REFRESH in ids
    empty = validate_message(home_view(HomeData(owner="x@y.z", as_of=None)))
    assert "No scores yet" in str(empty["blocks"])


def test_terminal_digest_is_readable() -> None:
    console = Console(record=True, width=120)
    print_digest(digest(2, total=4), console)
    out = console.export_text()
    for expected in (
        "dana@x.io",
        "4 accounts need you today",
        "Account 0 & Sons",
        "$120k ARR",
        "renews in 74 days",
        "Health 38 critical ↓18 in 30 days",
        "churn risk 64%",
        "██▇▆▆▅▄▃▂▂▁▁",
        "• Logins down 46%",
        "Suggested: Churn-risk save",
        "2 more — see the App Home",
        "Expansion candidates (3)",
        "Grower 0",
    ):
        assert expected in out, expected


def test_an_entry_says_in_one_line_why_health_and_churn_risk_disagree() -> None:
    odd = item(
        1,
        band="neutral",
        health=63.0,
        churn_risk=0.93,
        disagreement="Health 63 looks fine, but churn risk is 93%: <!channel> logins down 46%",
    )
    text = digest_message(digest(0, items=[odd], total_needing=1))["blocks"][2]["text"]["text"]
    assert "⚖ Health 63 looks fine, but churn risk is 93%" in text
    assert "<!channel>" not in text and "&lt;!channel&gt;" in text  # escaped, not a mention
    console = Console(width=80, record=True)
    print_digest(digest(0, items=[odd], total_needing=1), console)
    assert "churn risk is 93%" in console.export_text()


def test_the_disagreement_line_comes_from_scoring_when_health_and_risk_disagree() -> None:
    from scoring.attention import AttentionSettings, disagreement_line

    calm = {"band": "neutral", "health": 63.0, "churn_risk": 0.93}
    agree = {"band": "at_risk", "health": 45.0, "churn_risk": 0.7}
    line = disagreement_line(calm, AttentionSettings())
    assert line is not None and line.startswith("Health 63 looks fine, but churn risk is 93%")
    assert disagreement_line(agree, AttentionSettings()) is None
