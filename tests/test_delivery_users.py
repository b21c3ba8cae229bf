"""Owner email → Slack user: mapping file first, then the cache, then users.lookupByEmail."""

from __future__ import annotations

import datetime as dt

import pytest
from slack_sdk import WebClient

from bot.delivery.errors import SlackUnavailable
from bot.delivery.users import MappingFileError, load_mapping, resolve_user, user_time_zone
from tests.test_delivery_fake import running_history_slack


@pytest.fixture
def slack():
    """The fake Slack Web API (stops without the shared fixture's 0.5 s poll)."""
    yield from running_history_slack()


def client(slack) -> WebClient:
    return WebClient(token="xoxb-t", base_url=slack.api_url)


def test_lookup_is_cached_with_tz_and_refreshed_after_a_week(session, slack, clock):
    slack.add_user("Dana@X.io", "U100", tz="Europe/Berlin")
    user = resolve_user(session, client(slack), "dana@x.io", clock, mapping_file=None)
    assert (user.email, user.user_id, user.tz, user.source) == (
        "dana@x.io",
        "U100",
        "Europe/Berlin",
        "lookup",
    )
    session.commit()
    clock.advance(days=6)
    resolve_user(session, client(slack), "DANA@x.io", clock, mapping_file=None)
    assert len(slack.calls_to("users.lookupByEmail")) == 1
    clock.advance(days=2)
    resolve_user(session, client(slack), "dana@x.io", clock, mapping_file=None)
    assert len(slack.calls_to("users.lookupByEmail")) == 2


def test_unknown_users_are_cached_as_missing_for_a_day(session, slack, clock):
    user = resolve_user(session, client(slack), "ghost@x.io", clock, mapping_file=None)
    assert (user.user_id, user.source) == (None, "missing")
    session.commit()
    resolve_user(session, client(slack), "ghost@x.io", clock, mapping_file=None)
    assert len(slack.calls_to("users.lookupByEmail")) == 1
    slack.add_user("ghost@x.io", "U777")
    clock.advance(days=1, seconds=1)
    assert (
        resolve_user(session, client(slack), "ghost@x.io", clock, mapping_file=None).user_id
        == "U777"
    )


def test_mapping_file_overrides_and_users_info_fills_the_tz(session, slack, clock, tmp_path):
    slack.add_user("eli@x.io", "U200", tz="Asia/Tokyo")
    slack.add_user("fay@x.io", "U300", tz="America/Chicago")
    mapping = tmp_path / "users.csv"
    mapping.write_text("email,slack_user_id,tz\neli@x.io,U999,Europe/Paris\nfay@x.io,U300\n")
    eli = resolve_user(session, client(slack), "eli@x.io", clock, mapping_file=mapping)
    fay = resolve_user(session, client(slack), "fay@x.io", clock, mapping_file=mapping)
    assert (eli.user_id, eli.tz, eli.source) == ("U999", "Europe/Paris", "mapping")
    assert (fay.user_id, fay.tz, fay.source) == ("U300", "America/Chicago", "mapping")
    assert slack.calls_to("users.lookupByEmail") == []
    assert [call.args["user"] for call in slack.calls_to("users.info")] == ["U300"]


def test_mapping_comes_from_the_setting_by_default(session, slack, clock, tmp_path, monkeypatch):
    mapping = tmp_path / "users.csv"
    mapping.write_text("gus@x.io,U555\n")
    monkeypatch.setenv("CSBOT_USER_MAPPING_FILE", str(mapping))
    assert resolve_user(session, None, "gus@x.io", clock).user_id == "U555"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            "email,slack_user_id\nnot-an-email,U1\n",
            r"users.csv, line 2: expected email,slack_user_id",
        ),
        ("a@x.io,bob\n", r"line 1: slack_user_id 'bob' should start with U or W"),
        ("a@x.io,U1,Mars/Olympus\n", r"line 1: unknown time zone 'Mars/Olympus'"),
    ],
)
def test_bad_mapping_lines_are_named(tmp_path, content, message):
    path = tmp_path / "users.csv"
    path.write_text(content)
    with pytest.raises(MappingFileError, match=message):
        load_mapping(path)


def test_offline_and_slack_down(session, slack, clock):
    assert resolve_user(session, None, "hal@x.io", clock, mapping_file=None).user_id is None
    slack.fail("users.lookupByEmail", status=503)
    with pytest.raises(SlackUnavailable):
        resolve_user(session, client(slack), "hal@x.io", clock, mapping_file=None)
    slack.add_user("hal@x.io", "U42", tz="Europe/Oslo")
    cached = resolve_user(session, client(slack), "hal@x.io", clock, mapping_file=None)
    session.commit()
    clock.advance(days=30)
    slack.fail("users.lookupByEmail", status=503)
    stale = resolve_user(session, client(slack), "hal@x.io", clock, mapping_file=None)
    assert stale.user_id == cached.user_id == "U42"  # stale beats nothing while Slack is down
    assert user_time_zone(stale, "UTC") == "Europe/Oslo"
    assert user_time_zone(None, "America/Denver") == "America/Denver"
    assert stale.fetched_at == clock.now() - dt.timedelta(days=30)
