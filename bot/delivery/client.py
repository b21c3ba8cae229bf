"""The one place a Slack `WebClient` is built, so every call goes to `CSBOT_SLACK_API_URL`.

GovSlack (`https://slack-gov.com/api/`) and companies with an outbound gateway need every
Web API call — the bolt app's, the sender's, OAuth's, lookups — to use the configured URL.
"""

from __future__ import annotations

from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import ConnectionErrorRetryHandler

from bot.settings import Settings

DEFAULT_TIMEOUT_SECONDS = 10


def make_web_client(settings: Settings, token: str | None = None, **kwargs: object) -> WebClient:
    """A WebClient for the configured API URL. Retries of 429/5xx are the sender's job
    (it honours Retry-After and keeps per-channel pace), so only connection errors are
    retried here."""
    return WebClient(
        token=token or settings.slack_bot_token,
        base_url=settings.slack_api_url,
        timeout=kwargs.pop("timeout", DEFAULT_TIMEOUT_SECONDS),  # type: ignore[arg-type]
        retry_handlers=[ConnectionErrorRetryHandler(max_retry_count=1)],
        **kwargs,  # type: ignore[arg-type]
    )
