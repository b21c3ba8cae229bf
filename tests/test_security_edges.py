"""The Slack endpoint under attack, over real HTTP: oversized, unsigned, malformed,
replayed and injected requests against csbot's real routes under uvicorn.

Each test checks the status, that nothing was acted on (no Web API call, no response_url
post, no row stored), and — with every logger at DEBUG from before the app is built —
that no log record carries the request body, its response_url, its token or a secret.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import socket
import time
from collections.abc import Iterator
from urllib.parse import urlencode

import pytest
from sqlmodel import func, select

from storage.models import Account, OutboxMessage, SeenRequest
from storage.seen_requests import first_sighting
from tests.test_slack_harness import CSM, SECRET, Bot, sign

pytest_plugins = ["tests.test_slack_harness"]

MARKER = "zebra-MARKER-4471"  # in every request body; must never reach a log record
LEGACY_TOKEN = "legacy-token-9f2c"
LIMIT = 1_000_000  # CSBOT_SLACK_MAX_BODY_BYTES default


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """Every record at DEBUG, set before `bot` builds the bolt app (request it first)."""
    caplog.set_level(logging.DEBUG)
    yield caplog


def form(bot: Bot, text: str = f"help {MARKER}") -> str:
    return urlencode(
        {
            "token": LEGACY_TOKEN, "team_id": "T0001", "channel_id": "C1", "user_id": CSM[1],
            "command": "/cs", "text": text, "api_app_id": "A1",
            "response_url": bot.fake.response_url(f"hook-{MARKER}"), "trigger_id": bot.trigger(),
        }
    )  # fmt: skip


def assert_clean_logs(logs: pytest.LogCaptureFixture, bot: Bot) -> None:
    forbidden = (MARKER, LEGACY_TOKEN, SECRET, "xoxb-test", bot.fake.base_url + "/response")
    for record in logs.records:
        shown = record.getMessage() + (record.exc_text or "")
        for secret in forbidden:
            assert secret not in shown, (record.name, record.levelname, shown[:300])


def assert_nothing_done(bot: Bot) -> None:
    bot.settle(0.3)
    assert bot.fake.calls == [] and bot.responses() == []
    with bot.session() as session:
        assert session.exec(select(func.count()).select_from(OutboxMessage)).one() == 0
        assert session.exec(select(func.count()).select_from(SeenRequest)).one() == 0


def raw_request(bot: Bot, head: dict[str, str], body: bytes, *, chunked: bool = False) -> int:
    """Send the headers and `body` (not necessarily all the declared body) on a raw socket
    and return the status the server answers with, without finishing the upload."""
    lines = ["POST /slack/events HTTP/1.1", f"Host: 127.0.0.1:{bot.server.port}"]
    lines += [f"{name}: {value}" for name, value in head.items()]
    with socket.create_connection(("127.0.0.1", bot.server.port), timeout=5) as conn:
        conn.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        step = 64 * 1024
        try:
            for start in range(0, len(body), step):
                part = body[start : start + step]
                conn.sendall(f"{len(part):x}\r\n".encode() + part + b"\r\n" if chunked else part)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered and closed before taking the rest
        answer = conn.recv(4096).decode("latin-1")
    return int(answer.split(" ", 2)[1])


def test_oversized_body_is_refused_before_it_is_read(logs, bot: Bot) -> None:
    declared = {
        "Content-Type": "application/x-www-form-urlencoded",
        "Content-Length": str(50_000_000),
        **sign("x" * 10),
    }
    started = time.monotonic()
    assert raw_request(bot, declared, b"x" * 1000) == 413  # 999,000 bytes never sent
    assert time.monotonic() - started < 2
    # No Content-Length (chunked): read in chunks and abandoned at the limit.
    big = (form(bot) + "&pad=" + "y" * (LIMIT + 100_000)).encode()
    chunked = {
        "Content-Type": "application/x-www-form-urlencoded",
        "Transfer-Encoding": "chunked",
        **sign(big.decode()),
    }
    assert raw_request(bot, chunked, big, chunked=True) == 413
    assert_nothing_done(bot)
    assert_clean_logs(logs, bot)
    assert any("413" in r.getMessage() for r in logs.records if r.name == "csbot.web.slack")


def test_unsigned_request_gets_401_without_the_body_being_read(logs, bot: Bot) -> None:
    head = {"Content-Type": "application/x-www-form-urlencoded", "Content-Length": "10000000"}
    assert raw_request(bot, head, form(bot).encode()) == 401  # answered mid-upload
    assert bot.post(form(bot), signed=False).status_code == 401
    stale = bot.post(form(bot), timestamp=int(time.time()) - 600)
    assert stale.status_code == 401
    garbage = bot.post(form(bot), headers={"X-Slack-Request-Timestamp": "soon"})
    assert garbage.status_code == 401
    assert bot.post(form(bot), secret="not-the-secret").status_code == 401
    assert_nothing_done(bot)
    assert_clean_logs(logs, bot)


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (f"payload=%7Bnot-json-{MARKER}", "application/x-www-form-urlencoded"),
        (json.dumps([MARKER]), "application/json"),
        ("{" + MARKER, "application/json"),
        ("", "application/x-www-form-urlencoded"),
        (f"payload={json.dumps([MARKER])}", "application/x-www-form-urlencoded"),
    ],
    ids=["payload-not-json", "json-array", "json-broken", "empty", "payload-array"],
)
def test_malformed_signed_body_is_400_not_500(logs, bot: Bot, body: str, content_type: str) -> None:
    response = bot.post(body, content_type=content_type)
    assert response.status_code == 400, response.text
    assert "Traceback" not in response.text and MARKER not in response.text
    assert_nothing_done(bot)
    assert_clean_logs(logs, bot)


def test_invalid_utf8_signed_body_is_400(logs, bot: Bot) -> None:
    body = b"text=\xff\xfe" + MARKER.encode()
    stamp = str(int(time.time()))
    import hashlib
    import hmac

    mac = hmac.new(SECRET.encode(), b"v0:" + stamp.encode() + b":" + body, hashlib.sha256)
    signature = "v0=" + mac.hexdigest()  # Slack's algorithm, on bytes that are not UTF-8
    response = bot.http.post(
        "/slack/events",
        content=body,
        headers={"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": signature,
                 "Content-Type": "application/x-www-form-urlencoded"},
    )  # fmt: skip
    assert response.status_code == 400
    assert_nothing_done(bot)
    assert_clean_logs(logs, bot)


def test_replayed_request_is_acknowledged_and_not_acted_on(logs, bot: Bot) -> None:
    body = form(bot, "account Acme Corp")
    headers = sign(body)  # the same signature twice: a captured request sent again
    first = bot.post(body, signed=False, headers=headers)
    assert first.status_code == 200
    bot.wait_response(1)
    for _ in range(2):
        again = bot.post(body, signed=False, headers=headers)
        assert again.status_code == 200 and again.text == ""
    bot.settle(0.5)
    assert len(bot.responses()) == 1  # acted on once
    with bot.session() as session:
        assert session.exec(select(func.count()).select_from(SeenRequest)).one() == 1
    assert_clean_logs(logs, bot)


def test_seen_signatures_are_shared_through_the_database_and_expire(engine) -> None:
    now = dt.datetime(2026, 6, 1, 9, 0)
    later = now + dt.timedelta(minutes=10)
    assert first_sighting(engine, "v0=abc", expires_at=now + dt.timedelta(minutes=6), now=now)
    # another process (a replica) with its own connection pool sees it too
    from storage.db import make_engine

    other = make_engine(engine.url.render_as_string(hide_password=False))
    try:
        assert not first_sighting(other, "v0=abc", expires_at=later, now=now)
        assert first_sighting(other, "v0=def", expires_at=later, now=now)
        # past its expiry the row is purged (its timestamp would be refused anyway)
        assert first_sighting(other, "v0=abc", expires_at=later, now=later)
    finally:
        other.dispose()


def test_injected_text_is_data_not_code(logs, bot: Bot) -> None:
    with bot.session() as session:
        before = session.exec(select(func.count()).select_from(Account)).one()
    for text in (
        "account x' OR '1'='1",
        "account Acme'; DROP TABLE accounts; --",
        "account %' UNION SELECT owner FROM accounts --",
    ):
        answer = bot.command(text)
        assert answer.status_code == 200
    bot.settle(0.6)
    with bot.session() as session:
        assert session.exec(select(func.count()).select_from(Account)).one() == before
        names = {name for name in session.exec(select(Account.name)).all()}
    assert names == {"Acme Corp", "Acme Labs", "Globex"}
    posted = [c for c in bot.fake.calls if c.method == "chat.postMessage"]
    assert posted == []  # a lookup answers the caller only, never a channel
    for response in bot.responses():  # no account leaked through a wildcard
        assert "Globex" not in json.dumps(response.args)


def test_headers_without_body_still_need_a_signature(logs, bot: Bot) -> None:
    # A retry header does not bypass the signature check.
    response = bot.post(form(bot), signed=False, headers={"X-Slack-Retry-Num": "1"})
    assert response.status_code == 401
    assert_nothing_done(bot)
