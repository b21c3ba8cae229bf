"""Every csbot setting, read once from `CSBOT_*` environment variables or a `.env` file.

Only `bot` reads settings; the packages below it take plain arguments (a URL, a path, a
threshold), so they stay testable without an environment.
"""

from __future__ import annotations

import datetime as dt
import logging
import zoneinfo
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.hours import parse_days, parse_span
from scoring.churn.config import TrainingConfig
from storage.db import DatabaseUrlError, normalise_url
from storage.enums import Delivery

if TYPE_CHECKING:
    from playbooks.prep.writer import WriterConfig

DEFAULT_DATABASE_URL = "sqlite:///csbot.db"

logger = logging.getLogger("csbot.settings")


class Settings(BaseSettings):
    """csbot's configuration; the README's configuration table lists the same names."""

    model_config = SettingsConfigDict(
        env_prefix="CSBOT_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    database_url: str = Field(DEFAULT_DATABASE_URL, description="SQLAlchemy URL of the database")
    slack_bot_token: str | None = Field(None, description="Bot token (xoxb-…); offline without it")
    slack_signing_secret: str | None = Field(None, description="Signing secret of the Slack app")
    slack_app_token: str | None = Field(
        None, description="App-level token (xapp-…) for Socket Mode"
    )
    slack_api_url: str = Field(
        "https://slack.com/api/", description="Base URL of the Slack Web API"
    )
    slack_client_id: str | None = Field(None, description="OAuth client id (multi-workspace)")
    slack_client_secret: str | None = Field(None, description="OAuth client secret")
    host: str = Field("0.0.0.0", description="Address `csbot serve` listens on")
    port: Annotated[int, Field(ge=1, le=65535)] = Field(
        3000, description="Port `csbot serve` listens on"
    )
    ingest_token: str | None = Field(None, description="Bearer token for POST /ingest/{entity}")
    ingest_max_bytes: Annotated[int, Field(gt=0)] = Field(
        50_000_000, description="Largest HTTP ingest body accepted"
    )
    import_dir: Path | None = Field(None, description="Directory the nightly import reads")
    timezone: str = Field("UTC", description="Default time zone for digests")
    digest_time: dt.time = Field(dt.time(8, 30), description="Local time of the daily digest")
    digest_channel: str | None = Field(
        None, description="Post every CSM's digest in this channel instead of by DM"
    )
    digest_size: Annotated[int, Field(ge=1, le=8)] = Field(
        5,
        description="Accounts shown per digest (and by the attention ranking); 'See all' lists the rest",
    )
    leaders_channel: str | None = Field(None, description="Channel for the leaders' summary")
    alert_channel: str | None = Field(
        None,
        description="Post alerts here instead of to the owner (default: digest channel, else DM)",
    )
    manager_mapping_file: Path | None = Field(
        None,
        description="CSV csm_email,manager (email or Slack id): managers may change their CSMs' runs",
    )
    playbook_dir: Path | None = Field(None, description="Extra or overriding playbooks (YAML)")
    scoring_config: Path | None = Field(None, description="Weights and thresholds YAML override")
    user_mapping_file: Path | None = Field(None, description="CSV email,slack_user_id overrides")
    admins: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="Comma-separated Slack user ids allowed to change any run"
    )
    risk_alert_threshold: Annotated[float, Field(ge=0, le=1)] = Field(
        0.5,
        description="Churn risk at which an alert is raised when the active model has no "
        "line chosen on held-out history",
    )
    expansion_alert_threshold: Annotated[float, Field(ge=0, le=1)] = Field(
        0.6, description="Expansion likelihood at which an expansion alert is raised"
    )
    churn_horizon_days: Annotated[int, Field(gt=0)] = Field(90, description="Churn label horizon")
    escalation_grace_hours: Annotated[float, Field(ge=0)] = Field(
        48, description="Grace after a step's due date before it escalates"
    )
    log_level: str = Field("INFO", description="Logging level")
    realtime_per_day: Annotated[int, Field(ge=0, le=10)] = Field(
        2,
        description="Noise budget: messages a person may get a day besides the digest "
        "(critical crossings, escalations, the reminders roll-up); the rest waits",
    )
    default_delivery: str = Field(
        "critical",
        description="Delivery for people who chose none: digest, critical (digest plus "
        "critical) or everything",
    )
    quiet_hours: str = Field(
        "20:00-07:00",
        description="Default quiet hours (each person's local time, HH:MM-HH:MM; empty: none)",
    )
    digest_days: str = Field(
        "mon,tue,wed,thu,fri", description="Default digest days (comma-separated mon…sun)"
    )
    alert_precision: Annotated[float, Field(gt=0, le=1)] = Field(
        0.5,
        description="Share of at-risk alerts that should really churn: sets the model's alert "
        "threshold and the health at-risk line from held-out history",
    )
    critical_precision: Annotated[float, Field(gt=0, le=1)] = Field(
        0.7, description="The same for the critical health line"
    )
    learned_health_min_churned: Annotated[int, Field(ge=1)] = Field(
        20, description="Churned accounts in history needed before health weights are learned"
    )
    attention_per_csm: Annotated[int, Field(ge=1, le=8)] | None = Field(
        None,
        description="Deprecated alias of CSBOT_DIGEST_SIZE (used, with a warning, when "
        "CSBOT_DIGEST_SIZE is not set)",
    )
    writer_url: str | None = Field(
        None, description="OpenAI-compatible base URL that rewrites drafts (off without it)"
    )
    writer_model: str = Field("gpt-4o-mini", description="Model name sent to the writer endpoint")
    writer_api_key: str | None = Field(None, description="Bearer key for the writer endpoint")
    writer_timeout_seconds: Annotated[float, Field(gt=0)] = Field(
        20.0, description="Timeout of one writer call"
    )
    writer_retries: Annotated[int, Field(ge=0, le=5)] = Field(
        2, description="Retries of a failed writer call before the template is used"
    )
    writer_log_content: bool = Field(
        False, description="Log the (redacted) prompts and answers at DEBUG"
    )
    voc_channel: str | None = Field(
        None, description="Product channel for the weekly voice-of-the-customer themes"
    )
    # -- connectors (`csbot sync`, docs/sources/) ------------------------------------------
    mapping_file: Path | None = Field(
        None, description="Mapping YAML: value maps, id matching, owners, formats, currencies"
    )
    hubspot_token: str | None = Field(None, description="HubSpot private app token")
    hubspot_api_url: str = Field("https://api.hubapi.com", description="HubSpot API base URL")
    salesforce_instance_url: str | None = Field(
        None, description="Salesforce instance URL (https://yourorg.my.salesforce.com)"
    )
    salesforce_access_token: str | None = Field(None, description="Salesforce OAuth access token")
    salesforce_client_id: str | None = Field(
        None, description="Salesforce connected app consumer key (client credentials flow)"
    )
    salesforce_client_secret: str | None = Field(
        None, description="Salesforce connected app consumer secret"
    )
    salesforce_api_version: str = Field("60.0", description="Salesforce REST API version")
    zendesk_api_url: str | None = Field(
        None, description="Zendesk API base URL (https://yoursubdomain.zendesk.com)"
    )
    zendesk_email: str | None = Field(None, description="Zendesk agent email for the API token")
    zendesk_token: str | None = Field(None, description="Zendesk API token")
    stripe_api_key: str | None = Field(None, description="Stripe restricted key (read-only)")
    stripe_api_url: str = Field("https://api.stripe.com", description="Stripe API base URL")
    usage_sql_url: str | None = Field(
        None, description="SQLAlchemy URL of the warehouse holding product usage"
    )
    usage_sql: str | None = Field(
        None, description="Query returning account, contact, day, event, quantity (:since bound)"
    )
    usage_export_dir: Path | None = Field(
        None, description="Directory of Segment, Mixpanel or Amplitude export files"
    )
    slack_max_body_bytes: Annotated[int, Field(gt=0)] = Field(
        1_000_000, description="Largest Slack request body accepted (413 beyond, before reading)"
    )
    falling_fast_points: Annotated[float, Field(gt=0)] = Field(
        10.0, description="30-day health fall (points) that makes an account need attention"
    )
    renewal_window_days: Annotated[int, Field(gt=0)] = Field(
        90, description="Days before a renewal when an at-risk account needs attention"
    )

    @model_validator(mode="after")
    def _digest_size_alias(self) -> Settings:
        """CSBOT_DIGEST_SIZE is the one digest-size setting; the older
        CSBOT_ATTENTION_PER_CSM still works where it is the only one set."""
        if self.attention_per_csm is None:
            return self
        if "digest_size" in self.model_fields_set:
            if self.digest_size != self.attention_per_csm:
                logger.warning(
                    "CSBOT_ATTENTION_PER_CSM is deprecated and ignored: CSBOT_DIGEST_SIZE=%d "
                    "sets the digest size",
                    self.digest_size,
                )
            else:
                logger.warning("CSBOT_ATTENTION_PER_CSM is deprecated: CSBOT_DIGEST_SIZE is enough")
        else:
            logger.warning(
                "CSBOT_ATTENTION_PER_CSM is deprecated: use CSBOT_DIGEST_SIZE=%d instead",
                self.attention_per_csm,
            )
            self.digest_size = self.attention_per_csm
        return self

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as error:
            raise ValueError(f"unknown time zone {value!r}") from error
        return value

    @field_validator("default_delivery")
    @classmethod
    def _delivery(cls, value: str) -> str:
        if value not in tuple(Delivery):
            raise ValueError("must be one of digest, critical, everything")
        return value

    @field_validator("quiet_hours")
    @classmethod
    def _quiet_hours(cls, value: str) -> str:
        parse_span(value)
        return value

    @field_validator("digest_days")
    @classmethod
    def _digest_days(cls, value: str) -> str:
        parse_days(value)
        return value

    @field_validator("admins", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("slack_api_url")
    @classmethod
    def _api_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value if value.endswith("/") else value + "/"

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        """`postgres://…` becomes `postgresql+psycopg://…`; other schemes are refused here."""

        try:
            return normalise_url(value).render_as_string(hide_password=False)
        except DatabaseUrlError as error:
            raise ValueError(str(error)) from None

    @field_validator("log_level")
    @classmethod
    def _log_level(cls, value: str) -> str:
        upper = value.upper()
        if upper not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError("must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL")
        return upper

    def churn_training(
        self, horizon_days: int | None = None, snapshot_every_days: int = 7
    ) -> TrainingConfig:
        """The churn `TrainingConfig` these settings ask for (CSBOT_CHURN_HORIZON_DAYS and
        CSBOT_RISK_ALERT_THRESHOLD), shared by `csbot train`, `csbot backtest` and the
        weekly retrain job."""
        return TrainingConfig(
            horizon_days=horizon_days or self.churn_horizon_days,
            alert_threshold=self.risk_alert_threshold,
            snapshot_every_days=snapshot_every_days,
            alert_precision=self.alert_precision,
            critical_precision=self.critical_precision,
            learned_health_min_churned=self.learned_health_min_churned,
        )

    def writer_config(self) -> WriterConfig:
        """The draft writer's settings (CSBOT_WRITER_*); templates only without a URL."""
        # deferred: the writer's package (httpx, the prep facts) loads only when drafts are made
        from playbooks.prep.writer import WriterConfig

        return WriterConfig(
            url=self.writer_url,
            model=self.writer_model,
            api_key=self.writer_api_key,
            timeout_seconds=self.writer_timeout_seconds,
            retries=self.writer_retries,
            log_content=self.writer_log_content,
        )

    @property
    def slack_online(self) -> bool:
        """True when csbot can talk to Slack; otherwise it shows what it would post."""
        return bool(self.slack_bot_token)


class SettingsError(Exception):
    """A bad setting, described in one line that names the variable."""


def describe_validation_error(error: ValidationError) -> str:
    """`CSBOT_PORT: Input should be a valid integer (got 'abc')`, one line per problem."""
    lines = []
    for problem in error.errors():
        field = ".".join(str(part) for part in problem["loc"]) or "settings"
        variable = f"CSBOT_{field.upper()}"
        message = problem["msg"].removeprefix("Value error, ")
        got = problem.get("input")
        suffix = f" (got {got!r})" if isinstance(got, str | int | float) else ""
        lines.append(f"{variable}: {message}{suffix}")
    return "; ".join(lines)


def load_settings(**overrides: object) -> Settings:
    """Read the settings; raise `SettingsError` with a one-line message if any is invalid."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as error:
        raise SettingsError(describe_validation_error(error)) from None


EXAMPLES: dict[str, str] = {
    "database_url": "postgresql+psycopg://csbot@db:5432/csbot",
    "slack_bot_token": "xoxb-…",
    "slack_signing_secret": "8f14e45f…",
    "slack_app_token": "xapp-…",
    "slack_api_url": "https://slack-gov.com/api/",
    "host": "127.0.0.1",
    "port": "8080",
    "ingest_token": "a long random string",
    "import_dir": "/data/csbot/inbox",
    "timezone": "America/New_York",
    "digest_time": "07:45",
    "digest_channel": "C0123CSDIGEST",
    "leaders_channel": "C0123CSLEADS",
    "playbook_dir": "/etc/csbot/playbooks",
    "scoring_config": "/etc/csbot/scoring.yml",
    "user_mapping_file": "/etc/csbot/users.csv",
    "admins": "U012AB3CD,U045EF6GH",
    "alert_channel": "C0123CSALERTS",
    "manager_mapping_file": "/etc/csbot/managers.csv",
    "quiet_hours": "19:00-08:00",
    "digest_days": "mon,wed,fri",
    "writer_url": "http://127.0.0.1:8000/v1",
    "voc_channel": "C0123PRODUCT",
}


def settings_table_markdown() -> str:
    """The README's configuration table, generated from the model so the two never drift."""
    rows = ["| variable | default | example | what it is |", "| --- | --- | --- | --- |"]
    for name, info in Settings.model_fields.items():
        default = info.get_default(call_default_factory=True)
        shown = "" if default in (None, []) else str(default)
        example = EXAMPLES.get(name, "")
        rows.append(
            f"| `CSBOT_{name.upper()}` | {f'`{shown}`' if shown else '—'} | "
            f"{f'`{example}`' if example else ''} | {info.description or ''} |"
        )
    return "\n".join(rows)


if __name__ == "__main__":  # pragma: no cover - `python -m bot.settings` prints the table
    print(settings_table_markdown())
