"""Writing drafts: the template by default (no network); optionally a rewrite by an
OpenAI-compatible chat-completions endpoint.

The endpoint receives only the facts given (the brief's, as short "label: value" lines)
and the template text, with people's names and emails replaced by placeholders
(`playbooks.prep.redact`); placeholders are restored in the answer. Every call is logged
in `writer_calls` (account, purpose, model, tokens, status; never the content) and any
failure — a timeout, an HTTP error after the retries, an unparseable answer, an invented
placeholder — falls back to the template text.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from sqlalchemy import Engine

from playbooks.prep.redact import Redactor
from storage.clock import Clock
from storage.db import session_scope
from storage.models import WriterCall

log = logging.getLogger(__name__)

SYSTEM_PROMPT = (
    "You rewrite a customer-success manager's draft email in a natural, warm, concise "
    "voice. Use only the facts given; do not invent numbers, names or commitments. Keep "
    "every placeholder like [PERSON_1] or [EMAIL_1] exactly as written. Reply with the "
    "email body only."
)


@dataclass(frozen=True)
class WriterConfig:
    url: str | None = None  # base URL, e.g. http://127.0.0.1:8000/v1
    model: str = "gpt-4o-mini"
    api_key: str | None = None
    timeout_seconds: float = 20.0
    retries: int = 2
    log_content: bool = False  # log the redacted prompt and answer at DEBUG

    @property
    def enabled(self) -> bool:
        return bool(self.url)


@dataclass(frozen=True)
class WriteRequest:
    account_id: str
    purpose: str
    template_text: str
    facts: dict[str, str] = field(default_factory=dict)
    names: tuple[str, ...] = ()
    emails: tuple[str, ...] = ()


@dataclass(frozen=True)
class Written:
    text: str
    written_by: str  # "template" or the model's name


class WriterFailed(Exception):
    pass


class Writer:
    """`write(request)`: the template, or the endpoint's rewrite when one is configured."""

    def __init__(
        self,
        config: WriterConfig,
        engine: Engine | None = None,
        clock: Clock | None = None,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.config = config
        self.engine = engine
        self.clock = clock
        self._transport = transport
        self._sleep = sleep

    def write(self, request: WriteRequest) -> Written:
        if not self.config.enabled:
            return Written(request.template_text, "template")
        started = time.perf_counter()
        usage: dict[str, Any] = {}
        try:
            text, usage = self._rewrite(request)
            status, error = "ok", None
        except WriterFailed as failure:
            text, status, error = request.template_text, "fallback", str(failure)[:256]
            log.warning(
                "writer fell back to the template for %s (%s): %s",
                request.account_id,
                request.purpose,
                error,
            )
        self._log(request, status, error, usage, int((time.perf_counter() - started) * 1000))
        return Written(text, self.config.model if status == "ok" else "template")

    def _rewrite(self, request: WriteRequest) -> tuple[str, dict[str, Any]]:
        redactor = Redactor(request.names, request.emails)
        facts = "\n".join(f"- {k}: {redactor.redact(v)}" for k, v in request.facts.items())
        prompt = (
            f"Purpose: {request.purpose}\nFacts:\n{facts or '- (none)'}\n\n"
            f"Draft:\n{redactor.redact(request.template_text)}"
        )
        if self.config.log_content:
            log.debug("writer prompt for %s: %s", request.account_id, prompt)
        body = {
            "model": self.config.model,
            "messages": [
                {"role": "system", "content": SYSTEM_PROMPT},
                {"role": "user", "content": prompt},
            ],
            "temperature": 0.4,
        }
        data = self._post(body)
        try:
            answer = data["choices"][0]["message"]["content"]
        except (KeyError, IndexError, TypeError) as error:
            raise WriterFailed(f"unexpected answer shape: {error!r}") from None
        if not isinstance(answer, str) or not answer.strip():
            raise WriterFailed("empty answer")
        invented = redactor.unknown_placeholders(answer)
        if invented:
            raise WriterFailed(f"answer has unknown placeholders {invented}")
        usage = data.get("usage") if isinstance(data.get("usage"), dict) else {}
        return redactor.restore(answer.strip()), usage or {}

    def _post(self, body: dict[str, Any]) -> dict[str, Any]:
        headers = {"Content-Type": "application/json"}
        if self.config.api_key:
            headers["Authorization"] = f"Bearer {self.config.api_key}"
        url = (self.config.url or "").rstrip("/") + "/chat/completions"
        last: Exception | None = None
        with httpx.Client(
            timeout=httpx.Timeout(self.config.timeout_seconds), transport=self._transport
        ) as client:
            for attempt in range(self.config.retries + 1):
                try:
                    response = client.post(url, json=body, headers=headers)
                    if response.status_code == 429 or response.status_code >= 500:
                        raise WriterFailed(f"HTTP {response.status_code}")
                    if response.status_code >= 400:
                        raise WriterFailed(f"HTTP {response.status_code} (not retried)") from None
                    data = response.json()
                    if not isinstance(data, dict):
                        raise WriterFailed("answer is not a JSON object")
                    return data
                except WriterFailed as error:
                    if "not retried" in str(error):
                        raise
                    last = error
                except (httpx.HTTPError, ValueError) as error:
                    last = WriterFailed(f"{type(error).__name__}: {error}")
                if attempt < self.config.retries:
                    self._sleep(min(0.5 * 2**attempt, 4.0))
        raise WriterFailed(str(last) if last else "no answer")

    def _log(
        self, request: WriteRequest, status: str, error: str | None, usage: dict[str, Any], ms: int
    ) -> None:
        log.info(
            "writer call account=%s purpose=%s model=%s status=%s tokens=%s/%s",
            request.account_id,
            request.purpose,
            self.config.model,
            status,
            usage.get("prompt_tokens"),
            usage.get("completion_tokens"),
        )
        if self.engine is None or self.clock is None:
            return
        with session_scope(self.engine) as session:
            session.add(
                WriterCall(
                    at=self.clock.now(),
                    account_id=request.account_id,
                    purpose=request.purpose,
                    model=self.config.model,
                    status=status,
                    error=error,
                    prompt_tokens=_int(usage.get("prompt_tokens")),
                    completion_tokens=_int(usage.get("completion_tokens")),
                    duration_ms=ms,
                )
            )


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) else None
