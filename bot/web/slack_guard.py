"""What `POST /slack/events` checks before bolt sees a request, cheapest first.

1. The signature headers are present and the timestamp is within five minutes: else 401,
   without reading the body.
2. The body is no larger than CSBOT_SLACK_MAX_BODY_BYTES: a larger Content-Length is
   refused at once, and the stream is read in chunks and abandoned at the limit (413) —
   a 50 MB body never sits in memory.
3. The signature matches the raw bytes (Slack's v0 HMAC-SHA256, compared in constant
   time): else 401. Nothing has been parsed yet. (slack_sdk's `SignatureVerifier`
   decodes the body as UTF-8 first and raises on other bytes; the HMAC is the same.)
4. The body parses as Slack sends it (a form, a form with a JSON `payload`, or JSON):
   else 400 — never a 500 from deep inside bolt.
5. The signature was not seen before (`storage.seen_requests`, in the database so every
   replica shares it): a replay is acknowledged with an empty 200 and not acted on.

Refusals are logged with the reason and the client address, never the body or headers.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from storage.seen_requests import first_sighting

logger = logging.getLogger("csbot.web.slack")

SIGNATURE_WINDOW_SECONDS = 300
"""Slack's rule: a request whose timestamp is more than five minutes off is refused."""


class BodyTooLarge(Exception):
    pass


async def read_limited(request: Request, limit: int) -> bytes:
    """The body, read chunk by chunk; `BodyTooLarge` as soon as it passes `limit` bytes
    (a declared Content-Length over the limit is refused before reading anything)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def parse_slack_body(body: bytes, content_type: str | None) -> dict[str, Any]:
    """The body as bolt will read it; ValueError when it is not what Slack sends."""
    text = body.decode("utf-8")  # UnicodeDecodeError is a ValueError
    if not text:
        raise ValueError("empty body")
    media = (content_type or "").split(";")[0].strip().lower()
    if media == "application/json" or text.startswith("{"):
        parsed = json.loads(text)
    else:
        form = dict(parse_qsl(text, keep_blank_values=True))
        parsed = json.loads(form["payload"]) if "payload" in form else form
    if not isinstance(parsed, dict) or not parsed:
        raise ValueError("not a Slack payload")
    return parsed


def _refuse(status: int, reason: str, request: Request) -> Response:
    client = request.client.host if request.client else "?"
    logger.warning("slack request refused: %s %s (from %s)", status, reason, client)
    return JSONResponse({"error": reason}, status_code=status)


@dataclass
class SlackRequestGuard:
    """Steps 1-5 of the module docstring. `engine` None: no replay store (tests of the
    guard alone); `now` is injectable for tests of the timestamp window."""

    signing_secret: str
    max_body_bytes: int
    engine: Any = None
    now: Any = time.time

    def __post_init__(self) -> None:
        self._key = self.signing_secret.encode()

    def signature_matches(self, body: bytes, timestamp: str, signature: str) -> bool:
        """Slack's v0 signature of exactly these bytes."""
        base = b"v0:" + timestamp.encode() + b":" + body
        expected = "v0=" + hmac.new(self._key, base, hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected.encode(), signature.encode("utf-8", "replace"))

    async def admit(self, request: Request) -> bytes | Response:
        """The verified raw body, or the response that refuses the request."""
        timestamp = request.headers.get("x-slack-request-timestamp", "")
        signature = request.headers.get("x-slack-signature", "")
        if not timestamp or not signature:
            return _refuse(401, "unsigned request", request)
        if not timestamp.isdigit() or abs(self.now() - int(timestamp)) > SIGNATURE_WINDOW_SECONDS:
            return _refuse(401, "stale or invalid timestamp", request)
        try:
            body = await read_limited(request, self.max_body_bytes)
        except BodyTooLarge:
            return _refuse(413, f"body over {self.max_body_bytes} bytes", request)
        if not self.signature_matches(body, timestamp, signature):
            return _refuse(401, "invalid signature", request)
        try:
            parse_slack_body(body, request.headers.get("content-type"))
        except (ValueError, KeyError):
            return _refuse(400, "malformed body", request)
        if self.engine is not None and not await run_in_threadpool(
            self._first_sighting, signature, int(timestamp)
        ):
            logger.info("slack request replayed: acknowledged, not acted on")
            return Response(status_code=200)
        return body

    def _first_sighting(self, signature: str, timestamp: int) -> bool:
        now = dt.datetime.fromtimestamp(self.now(), dt.UTC).replace(tzinfo=None)
        expires = dt.datetime.fromtimestamp(
            timestamp + SIGNATURE_WINDOW_SECONDS + 60, dt.UTC
        ).replace(tzinfo=None)
        return first_sighting(self.engine, signature, expires_at=expires, now=now)
