"""The Slack app under test: csbot's real routes under uvicorn on 127.0.0.1, requests
signed exactly as Slack signs them, and the fake Slack Web API catching what csbot sends.

Not a test module of its own: the `test_slack_*` modules import its fixtures.
"""

from __future__ import annotations

import datetime as dt
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
import uvicorn
from slack_sdk.signature import SignatureVerifier
from sqlalchemy import Engine
from sqlmodel import Session
from starlette.applications import Starlette

from bot.app.bolt import create_bolt_app
from bot.delivery.limits import validate_message
from bot.runtime import Runtime
from bot.settings import load_settings
from bot.web.slack import slack_routes
from storage.clock import FixedClock
from storage.models import Account, AccountScore, Contract, SlackUser
from tests.polling import wait_until

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
CSM = ("csm@example.com", "UCSM")
OTHER = ("other@example.com", "UOTHER")
MANAGER = ("boss@example.com", "UBOSS")
ADMIN = "UADMIN"
NOW = dt.datetime(2026, 6, 1, 9, 0)
PAYLOAD_METHODS = ("chat.postMessage", "chat.update", "chat.postEphemeral")
VIEW_METHODS = ("views.open", "views.publish", "views.update")


class UvicornThread:
    """A real uvicorn server on a free loopback port, in a background thread."""

    def __init__(self, app: Any) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        config = uvicorn.Config(app, log_level="warning", lifespan="off", access_log=False)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True
        )

    def __enter__(self) -> UvicornThread:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=5)
        self.sock.close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def sign(body: str, timestamp: int | None = None, secret: str = SECRET) -> dict[str, str]:
    """The two headers Slack adds to every request (signature v0)."""
    stamp = str(timestamp if timestamp is not None else int(time.time()))
    signature = SignatureVerifier(secret).generate_signature(timestamp=stamp, body=body)
    return {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": signature}


class SlackUser_:  # noqa: N801 - a test actor, not the table
    def __init__(self, email: str, user_id: str) -> None:
        self.email, self.id = email, user_id


class Bot:
    """csbot serving on loopback, plus ways to talk to it as Slack does."""

    def __init__(self, server: UvicornThread, fake: Any, engine: Engine, clock: FixedClock) -> None:
        self.server, self.fake, self.engine, self.clock = server, fake, engine, clock
        self.http = httpx.Client(base_url=server.url, timeout=10)
        self._trigger = 0

    # -- sending -----------------------------------------------------------------------------
    def post(self, body: str, content_type: str = "application/x-www-form-urlencoded",
             headers: dict[str, str] | None = None, signed: bool = True, **sign_args: Any) -> httpx.Response:  # fmt: skip
        all_headers = {"Content-Type": content_type, **(sign(body, **sign_args) if signed else {})}
        all_headers.update(headers or {})
        return self.http.post("/slack/events", content=body.encode(), headers=all_headers)

    def command(
        self, text: str, user: str = CSM[1], channel: str = "C1", **kwargs: Any
    ) -> httpx.Response:
        form = {
            "token": "legacy", "team_id": "T0001", "team_domain": "test", "channel_id": channel,
            "channel_name": "cs", "user_id": user, "user_name": user.lower(), "command": "/cs",
            "text": text, "api_app_id": "A1", "is_enterprise_install": "false",
            "response_url": self.fake.response_url(f"cmd-{user}"), "trigger_id": self.trigger(),
        }  # fmt: skip
        return self.post(urlencode(form), **kwargs)

    def trigger(self) -> str:
        self._trigger += 1
        return f"trigger.{self._trigger}"

    def interaction(self, payload: dict[str, Any], **kwargs: Any) -> httpx.Response:
        base = {
            "team": {"id": "T0001"},
            "api_app_id": "A1",
            "token": "legacy",
            "is_enterprise_install": False,
        }
        return self.post(urlencode({"payload": json.dumps({**base, **payload})}), **kwargs)

    def click(self, action: dict[str, Any], *, user: str = CSM[1], message: dict[str, Any] | None = None,
              channel: str = "C1", ephemeral: bool = False, home: bool = False, **kwargs: Any) -> httpx.Response:  # fmt: skip
        """A block_actions payload for `action` on `message` (a message csbot posted)."""
        payload: dict[str, Any] = {
            "type": "block_actions",
            "user": {"id": user, "username": user.lower(), "team_id": "T0001"},
            "trigger_id": self.trigger(),
            "response_url": self.fake.response_url(f"act-{user}"),
            "actions": [{"type": "button", "action_ts": f"{time.time():.6f}", **action}],
        }
        if home:  # Home tab clicks carry no response_url
            payload.pop("response_url")
            payload["container"] = {"type": "view", "view_id": "VHOME"}
            payload["view"] = {"id": "VHOME", "type": "home", "blocks": []}
        elif message is not None:
            payload["container"] = {
                "type": "message",
                "message_ts": message["ts"],
                "channel_id": channel,
                "is_ephemeral": ephemeral,
            }
            payload["channel"] = {"id": channel, "name": "cs"}
            payload["message"] = {
                "type": "message",
                "ts": message["ts"],
                "text": message.get("text", ""),
                "blocks": message.get("blocks", []),
            }
        return self.interaction(payload, **kwargs)

    def submit(
        self,
        view: dict[str, Any],
        values: dict[str, dict[str, Any]],
        user: str = CSM[1],
        **kwargs: Any,
    ) -> httpx.Response:
        """A view_submission of modal `view` (as csbot opened it) with `values` filled in."""
        payload = {
            "type": "view_submission",
            "user": {"id": user, "username": user.lower(), "team_id": "T0001"},
            "trigger_id": self.trigger(),
            "view": {**view, "id": "VMODAL", "state": {"values": values}},
        }
        return self.interaction(payload, **kwargs)

    # -- observing ---------------------------------------------------------------------------
    def wait_for(self, what: Callable[[], Any], timeout: float = 8.0, message: str = "") -> Any:
        return wait_until(what, timeout, message)

    def calls(self, method: str) -> list[Any]:
        return self.fake.calls_to(method)

    def wait_calls(self, method: str, count: int = 1) -> list[Any]:
        return self.wait_for(
            lambda: (c := self.calls(method)) and len(c) >= count and c, message=f"{count} {method}"
        )

    def responses(self) -> list[Any]:
        with self.fake._lock:
            return list(self.fake.responses)

    def wait_response(self, count: int = 1) -> list[Any]:
        return self.wait_for(
            lambda: (r := self.responses()) and len(r) >= count and r, message=f"{count} responses"
        )

    def settle(self, seconds: float = 0.4) -> None:
        """Give background work a moment to do what it must not do (act twice)."""
        time.sleep(seconds)

    def session(self) -> Session:
        return Session(self.engine, expire_on_commit=False)

    def check_payloads(self) -> int:
        """Every Block Kit payload csbot sent, checked with slack_sdk.models and the limits."""
        checked = 0
        for call in self.fake.calls:
            if call.method in PAYLOAD_METHODS and call.args.get("blocks") is not None:
                validate_message({"text": call.args.get("text"), "blocks": call.args["blocks"]})
                checked += 1
            if call.method in VIEW_METHODS:
                validate_message(call.args["view"])
                checked += 1
        for response in self.responses():
            if response.args.get("blocks") is not None:
                validate_message(
                    {"text": response.args.get("text"), "blocks": response.args["blocks"]}
                )
                checked += 1
        return checked


def seed(engine: Engine, clock: FixedClock) -> None:
    """A small book: two accounts owned by the CSM, one by someone else, with scores."""
    today = clock.now().date()
    with Session(engine) as session:
        session.add_all([
            Account(account_id="A1", name="Acme Corp", owner=CSM[0], segment="enterprise"),
            Account(account_id="A2", name="Acme Labs", owner=CSM[0], segment="smb"),
            Account(account_id="B1", name="Globex", owner=OTHER[0], segment="mid_market"),
            Contract(contract_id="K1", account_id="A1", start_date=today - dt.timedelta(days=300), end_date=today + dt.timedelta(days=65), arr=120_000),
            Contract(contract_id="K2", account_id="A2", start_date=today - dt.timedelta(days=100), end_date=today + dt.timedelta(days=265), arr=30_000),
            Contract(contract_id="K3", account_id="B1", start_date=today - dt.timedelta(days=100), end_date=today + dt.timedelta(days=20), arr=50_000),
        ])  # fmt: skip
        for account_id, health, risk, expansion in (
            ("A1", 42.0, 0.61, 0.0),
            ("A2", 81.0, 0.08, 0.7),
            ("B1", 55.0, 0.4, 0.0),
        ):
            for weeks_ago in (4, 0):
                session.add(AccountScore(
                    account_id=account_id, as_of=today - dt.timedelta(days=7 * weeks_ago),
                    health=health + 3 * weeks_ago, band="at_risk" if health < 60 else "healthy",
                    health_delta_30d=-3.0 * 4 if weeks_ago == 0 else None,
                    direction="falling", churn_risk=risk, expansion=expansion, arr=120_000,
                    renewal_date=today + dt.timedelta(days=65),
                    reasons=[{"signal": "login_change", "value": -0.46, "baseline": 31.0, "direction": "down",
                              "impact": -9.0, "text": "Logins down 46% against the 90-day baseline (31 → 17 a week)"}],
                ))  # fmt: skip
        for email, user_id in (CSM, OTHER, MANAGER):
            session.add(
                SlackUser(email=email, user_id=user_id, source="mapping", fetched_at=clock.now())
            )
        session.commit()


@pytest.fixture
def bot(engine: Engine, fake_slack: Any, tmp_path: Any) -> Iterator[Bot]:
    clock = FixedClock(NOW)
    seed(engine, clock)
    managers = tmp_path / "managers.csv"
    managers.write_text(f"csm_email,manager\n{CSM[0]},{MANAGER[0]}\n")
    settings = load_settings(
        database_url=engine.url.render_as_string(hide_password=False),
        slack_signing_secret=SECRET,
        slack_bot_token="xoxb-test",
        slack_api_url=fake_slack.api_url,
        admins=[ADMIN],
    )
    # CSBOT_MANAGER_MAPPING_FILE (asked of the lead); set directly until Settings has it.
    object.__setattr__(settings, "manager_mapping_file", managers)
    runtime = Runtime(settings=settings, clock=clock)
    runtime.__dict__["engine"] = engine  # the fixture's database, already migrated
    app = create_bolt_app(runtime)
    with UvicornThread(Starlette(routes=slack_routes(app, runtime))) as server:
        client = Bot(server, fake_slack, engine, clock)
        yield client
        client.http.close()
