"""Multi-workspace installs: with a client id and secret, /slack/install starts Slack's
OAuth flow, the redirect stores the installation in our database (slack_sdk's SQLAlchemy
store), and requests from that workspace are then authorised with its bot token. Socket
Mode refuses to start without an app token."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from sqlalchemy import Engine, inspect
from starlette.applications import Starlette

from bot.app.bolt import create_bolt_app
from bot.app.socket import socket_mode_handler
from bot.runtime import Runtime
from bot.settings import load_settings
from bot.slack.app import BOT_SCOPES, SlackConfigError
from bot.web.slack import slack_routes
from storage.clock import FixedClock
from tests.fakes.slack_server import FakeSlack
from tests.test_slack_harness import NOW, SECRET, UvicornThread, sign


class OAuthFakeSlack(FakeSlack):
    """The fake Web API, also answering oauth.v2.access as Slack does for a bot install."""

    def _ok(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        if method == "oauth.v2.access":
            assert args.get("code") == "the-code"
            return {
                "ok": True, "access_token": "xoxb-installed", "token_type": "bot",
                "scope": ",".join(BOT_SCOPES), "bot_user_id": "UBOT", "app_id": "A1",
                "team": {"id": "T0001", "name": "Test"}, "enterprise": None,
                "authed_user": {"id": "UINSTALLER"}, "is_enterprise_install": False,
            }  # fmt: skip
        return super()._ok(method, args)


@pytest.fixture
def oauth_slack():
    server = OAuthFakeSlack().start()
    yield server
    server.stop()


def oauth_runtime(engine: Engine, api_url: str) -> Runtime:
    settings = load_settings(
        database_url=engine.url.render_as_string(hide_password=False),
        slack_signing_secret=SECRET,
        slack_bot_token=None,
        slack_client_id="111.222",
        slack_client_secret="client-secret",
        slack_api_url=api_url,
    )
    runtime = Runtime(settings=settings, clock=FixedClock(NOW))
    runtime.__dict__["engine"] = engine
    return runtime


def test_install_redirect_store_and_authorise(engine: Engine, oauth_slack: OAuthFakeSlack) -> None:
    runtime = oauth_runtime(engine, oauth_slack.api_url)
    app = create_bolt_app(runtime)
    paths = {route.path for route in slack_routes(app, runtime)}
    assert paths == {"/slack/events", "/slack/install", "/slack/oauth_redirect"}
    tables = set(inspect(engine).get_table_names())
    assert {"slack_installations", "slack_bots", "slack_oauth_states"} <= tables

    with UvicornThread(Starlette(routes=slack_routes(app, runtime))) as server:
        http = httpx.Client(base_url=server.url, timeout=10)
        page = http.get("/slack/install")
        assert page.status_code == 200
        link = re.search(r'href="(https://slack.com/oauth/v2/authorize\?[^"]+)"', page.text)
        assert link, page.text[:500]
        query = parse_qs(urlparse(link.group(1).replace("&amp;", "&")).query)
        assert query["client_id"] == ["111.222"] and set(query["scope"][0].split(",")) == set(
            BOT_SCOPES
        )
        state = query["state"][0]

        forged = http.get("/slack/oauth_redirect", params={"code": "the-code", "state": "forged"})
        assert forged.status_code >= 400  # a state csbot did not issue is refused
        cookie = page.headers["set-cookie"].split(";")[0]
        done = http.get("/slack/oauth_redirect", params={"code": "the-code", "state": state},
                        headers={"Cookie": cookie})  # fmt: skip
        assert done.status_code == 200, done.text[:300]
        installation = app.installation_store.find_installation(enterprise_id=None, team_id="T0001")
        assert installation is not None and installation.bot_token == "xoxb-installed"

        body = "command=%2Fcs&text=help&user_id=UCSM&team_id=T0001&channel_id=C1"
        answer = http.post("/slack/events", content=body.encode(), headers={
            "Content-Type": "application/x-www-form-urlencoded", **sign(body)})  # fmt: skip
        assert answer.status_code == 200 and "csbot commands" in answer.text
        http.close()


def test_config_errors_name_the_variable(engine: Engine, fake_slack: Any) -> None:
    settings = load_settings(
        slack_signing_secret=None, slack_bot_token="xoxb-x", slack_api_url=fake_slack.api_url
    )
    runtime = Runtime(settings=settings)
    runtime.__dict__["engine"] = engine
    with pytest.raises(SlackConfigError, match="CSBOT_SLACK_SIGNING_SECRET"):
        create_bolt_app(runtime)
    with pytest.raises(SlackConfigError, match="CSBOT_SLACK_APP_TOKEN"):
        socket_mode_handler(runtime)
    runtime.settings = load_settings(
        slack_app_token="xapp-1", slack_bot_token="xoxb-x", slack_api_url=fake_slack.api_url
    )
    handler = socket_mode_handler(runtime)  # built, not connected
    assert handler.client.web_client.base_url == fake_slack.api_url
