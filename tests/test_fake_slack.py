"""The fake Slack server answers slack_sdk as Slack does, faults included."""

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError


def test_post_and_lookup(fake_slack):
    client = WebClient(token="xoxb-test", base_url=fake_slack.api_url)
    fake_slack.add_user("ana@example.com", "U123")
    assert client.users_lookupByEmail(email="ana@example.com")["user"]["id"] == "U123"
    response = client.chat_postMessage(
        channel="C1",
        text="hi",
        blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": "hi"}}],
    )
    assert response["ts"]
    assert fake_slack.calls_to("chat.postMessage")[0].args["blocks"][0]["type"] == "section"


def test_faults(fake_slack):
    client = WebClient(token="xoxb-test", base_url=fake_slack.api_url)
    fake_slack.fail("chat.postMessage", status=429, retry_after=3)
    with pytest.raises(SlackApiError) as error:
        client.chat_postMessage(channel="C1", text="x")
    assert error.value.response.status_code == 429
    assert error.value.response.headers["Retry-After"] == "3"
    fake_slack.fail("chat.postMessage", error="channel_not_found")
    with pytest.raises(SlackApiError):
        client.chat_postMessage(channel="C1", text="x")
    assert client.chat_postMessage(channel="C1", text="x")["ok"]
