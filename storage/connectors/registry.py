"""Which connectors exist, which are configured, and how each is built from settings.

Settings are passed as any object with the `CSBOT_*` fields as attributes: the
`ConnectorSettings` protocol below, which bot's Settings satisfies, so this layer needs
nothing from `bot`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import Engine

from storage.clock import Clock
from storage.connectors import hubspot, salesforce, stripe, usage_files, usage_sql, zendesk
from storage.connectors.base import Connector
from storage.connectors.runner import SyncReport, run_sync
from storage.ingest.mapping import Mapping, load_mapping


class NotConfigured(Exception):
    """A source was asked for without the settings it needs; the message names them."""


class ConnectorSettings(Protocol):
    """The `CSBOT_*` settings the connectors read (bot's Settings has them all)."""

    @property
    def mapping_file(self) -> Path | None: ...
    @property
    def hubspot_token(self) -> str | None: ...
    @property
    def hubspot_api_url(self) -> str: ...
    @property
    def salesforce_instance_url(self) -> str | None: ...
    @property
    def salesforce_access_token(self) -> str | None: ...
    @property
    def salesforce_client_id(self) -> str | None: ...
    @property
    def salesforce_client_secret(self) -> str | None: ...
    @property
    def salesforce_api_version(self) -> str: ...
    @property
    def zendesk_api_url(self) -> str | None: ...
    @property
    def zendesk_email(self) -> str | None: ...
    @property
    def zendesk_token(self) -> str | None: ...
    @property
    def stripe_api_key(self) -> str | None: ...
    @property
    def stripe_api_url(self) -> str: ...
    @property
    def usage_sql_url(self) -> str | None: ...
    @property
    def usage_sql(self) -> str | None: ...
    @property
    def usage_export_dir(self) -> Path | None: ...


def _need(**values: str | Path | None) -> None:
    """NotConfigured naming every `CSBOT_*` variable of `values` that is unset."""
    missing = [f"CSBOT_{name.upper()}" for name, value in values.items() if not value]
    if missing:
        raise NotConfigured(f"set {', '.join(missing)}")


def _hubspot(settings: ConnectorSettings) -> Connector:
    _need(hubspot_token=settings.hubspot_token)

    return hubspot.connector(settings.hubspot_token or "", settings.hubspot_api_url)


def _salesforce(settings: ConnectorSettings) -> Connector:
    _need(salesforce_instance_url=settings.salesforce_instance_url)
    if not settings.salesforce_access_token:
        _need(
            salesforce_client_id=settings.salesforce_client_id,
            salesforce_client_secret=settings.salesforce_client_secret,
        )

    return salesforce.connector(
        settings.salesforce_instance_url or "",
        access_token=settings.salesforce_access_token,
        client_id=settings.salesforce_client_id,
        client_secret=settings.salesforce_client_secret,
        version=settings.salesforce_api_version,
    )


def _zendesk(settings: ConnectorSettings) -> Connector:
    _need(
        zendesk_api_url=settings.zendesk_api_url,
        zendesk_email=settings.zendesk_email,
        zendesk_token=settings.zendesk_token,
    )

    return zendesk.connector(
        settings.zendesk_api_url or "", settings.zendesk_email or "", settings.zendesk_token or ""
    )


def _stripe(settings: ConnectorSettings) -> Connector:
    _need(stripe_api_key=settings.stripe_api_key)

    return stripe.connector(settings.stripe_api_key or "", settings.stripe_api_url)


def _usage_sql(settings: ConnectorSettings) -> Connector:
    _need(usage_sql_url=settings.usage_sql_url, usage_sql=settings.usage_sql)

    return usage_sql.connector(settings.usage_sql_url or "", settings.usage_sql or "")


def _usage_files(settings: ConnectorSettings) -> Connector:
    _need(usage_export_dir=settings.usage_export_dir)

    return usage_files.connector(settings.usage_export_dir or "")


SOURCES: dict[str, Callable[[ConnectorSettings], Connector]] = {
    "hubspot": _hubspot,
    "salesforce": _salesforce,
    "zendesk": _zendesk,
    "stripe": _stripe,
    "usage-sql": _usage_sql,
    "usage-files": _usage_files,
}
"""In the order the nightly job runs them: CRMs first (they create the accounts)."""


def build(name: str, settings: ConnectorSettings) -> Connector:
    """The connector called `name`, from settings; KeyError / NotConfigured otherwise."""
    try:
        make = SOURCES[name]
    except KeyError:
        raise KeyError(f"unknown source {name!r} (expected one of: {', '.join(SOURCES)})") from None
    return make(settings)


def configured(settings: ConnectorSettings) -> list[str]:
    """The sources whose settings are all set."""
    names = []
    for name, make in SOURCES.items():
        try:
            make(settings)
        except NotConfigured:
            continue
        names.append(name)
    return names


def sync_configured(
    engine: Engine, settings: ConnectorSettings, clock: Clock | None = None
) -> dict[str, Any]:
    """The nightly job's part: sync every configured source from its cursor. A failing
    source is reported and the others still run. {} when none is configured."""
    names = configured(settings)
    if not names:
        return {}
    mapping: Mapping = load_mapping(settings.mapping_file)
    reports: dict[str, SyncReport] = {
        name: run_sync(engine, build(name, settings), mapping=mapping, clock=clock)
        for name in names
    }
    return {
        "sync": {
            name: {
                "writes": report.writes,
                "error": report.error,
                "rejected": report.problem_count,
                "unmatched": report.unmatched,
            }
            for name, report in reports.items()
        }
    }
