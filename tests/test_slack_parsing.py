"""The pure parts of the Slack app: `/cs` parsing, permissions, modal values, button records."""

from __future__ import annotations

import pytest

from bot.app import command_parse as cp
from bot.plays.views import parse_arr
from bot.slack.ids import ButtonValue
from bot.slack.middleware import ModalMetadata, parse_button
from bot.slack.permissions import Policy, load_managers
from bot.slack.send import stamp


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", cp.Usage()),
        ("help", cp.Usage()),
        ("account Acme Corp", cp.AccountCard("Acme Corp")),
        ("RISK", cp.Book("risk")),
        ("expansion", cp.Book("expansion")),
        ("renewals", cp.Renewals(90)),
        ("renewals 30", cp.Renewals(30)),
        ("playbook list", cp.PlaybookList()),
        (
            'playbook start "Acme Corp" churn_risk_save',
            cp.PlaybookStart("Acme Corp", "churn_risk_save"),
        ),
        ("playbook start Acme Corp renewal", cp.PlaybookStart("Acme Corp", "renewal")),
        ("playbook status Acme", cp.PlaybookStatus("Acme")),
        ("my", cp.MySteps()),
        ("digest", cp.PostDigest()),
    ],
)
def test_parse(text: str, expected: cp.Command) -> None:
    assert cp.parse(text) == expected


@pytest.mark.parametrize(
    "text",
    ["nope", "account", "risk now", "renewals 0", "renewals 9999", "renewals x", "playbook",
     "playbook start Acme", "playbook status", "playbook fly", "my steps"],
)  # fmt: skip
def test_bad_input_is_usage_with_the_problem(text: str) -> None:
    parsed = cp.parse(text)
    assert isinstance(parsed, cp.Usage) and parsed.problem


def test_permissions(tmp_path) -> None:
    managers = tmp_path / "m.csv"
    managers.write_text("csm_email,manager\ncsm@x.com,boss@x.com\ncsm@x.com,UVP\n")
    policy = Policy(admins=frozenset({"UADMIN"}), managers=load_managers(managers))
    owners = ["CSM@x.com"]
    assert policy.may_change(user_id="U1", email="csm@x.com", owners=owners)
    assert policy.may_change(user_id="U2", email="boss@x.com", owners=owners)
    assert policy.may_change(user_id="UVP", email=None, owners=owners)
    assert policy.may_change(user_id="UADMIN", email=None, owners=owners)
    assert not policy.may_change(user_id="U3", email="peer@x.com", owners=owners)
    assert not policy.may_change(user_id="U3", email=None, owners=[None])
    bad = tmp_path / "bad.csv"
    bad.write_text("csm_email,manager\nnot-an-email\n")
    with pytest.raises(ValueError, match="bad.csv:2"):
        load_managers(bad)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("", None),
        (None, None),
        ("12000", 12000.0),
        ("-5,000", -5000.0),
        ("$7.5k", 7500.0),
        ("1.2m", 1_200_000.0),
    ],
)
def test_parse_arr(text: str | None, value: float | None) -> None:
    assert parse_arr(text) == value


@pytest.mark.parametrize("text", ["lots", "12 dollars", "nan", "inf", "--3"])
def test_parse_arr_refuses(text: str) -> None:
    with pytest.raises(ValueError):
        parse_arr(text)


def test_parse_button_from_value_option_block_id_and_metadata() -> None:
    value = ButtonValue(account_id="A1", step_id=3)
    body = {"type": "block_actions", "actions": [{"value": value.encode()}],
            "container": {"channel_id": "C1", "message_ts": "1.2"}, "message": {"ts": "1.2", "blocks": []}}  # fmt: skip
    parsed, origin = parse_button(body)
    assert parsed == value and origin.channel == "C1" and origin.ts == "1.2" and origin.updatable
    body["actions"] = [{"selected_option": {"value": ButtonValue(option="7").encode()}}]
    assert parse_button(body)[0].option == "7"
    body["actions"] = [{"selected_user": "U9", "block_id": value.encode()}]
    assert parse_button(body)[0] == value
    body["actions"] = [{"value": "not json", "block_id": "plain"}]
    assert parse_button(body)[0] == ButtonValue()
    meta = ModalMetadata(run_id=4, channel="C1", ts="9.9", option="done")
    parsed, origin = parse_button(
        {"type": "view_submission", "view": {"private_metadata": meta.encode()}}
    )
    assert (
        parsed.run_id == 4 and parsed.option == "done" and origin.ts == "9.9" and origin.updatable
    )


def test_stamping_names_the_message_in_every_button_value() -> None:
    blocks = [
        {"type": "section", "block_id": "a", "accessory": {"type": "button", "value": '{"account_id":"A1"}'}},
        {
            "type": "actions",
            "block_id": '{"account_id":"A1"}',
            "elements": [
                {"type": "static_select", "options": [{"value": '{"account_id":"A1","option":"7"}'}]},
                {"type": "button", "value": "plain text, not a record"},
            ],
        },
        {"type": "context", "block_id": '{"not":"a button"}', "elements": []},
    ]  # fmt: skip
    stamped = stamp(blocks, "digest:abc")
    assert ButtonValue.decode(stamped[0]["accessory"]["value"]).message == "digest:abc"
    assert ButtonValue.decode(stamped[1]["block_id"]).message == "digest:abc"
    option = stamped[1]["elements"][0]["options"][0]["value"]
    assert ButtonValue.decode(option) == ButtonValue(
        account_id="A1", option="7", message="digest:abc"
    )
    assert stamped[1]["elements"][1]["value"] == "plain text, not a record"
    assert stamped[2]["block_id"] == '{"not":"a button"}'  # only an actions block's id is a record
    assert blocks[0]["accessory"]["value"] == '{"account_id":"A1"}'  # the input is not changed
    long_key = "x" * 300  # a block id over Slack's 255 characters is left as it was
    assert stamp(blocks, long_key)[1]["block_id"] == '{"account_id":"A1"}'
