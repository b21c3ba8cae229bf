"""Which connectors exist, which are configured, and how each is built from settings.

Settings are passed as any object with the `CSBOT_*` fields as attributes (bot's Settings),
so this layer needs nothing from `bot`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine

from storage.clock import Clock
from storage.connectors.base import Connector
from storage.connectors.runner import SyncReport, run_sync
from storage.ingest.mapping import Mapping, load_mapping


class NotConfigured(Exception):
    """A source was asked for without the settings it needs; the message names them."""


def _need(settings: Any, *names: str) -> None:
    missing = [f"CSBOT_{name.upper()}" for name in names if not getattr(settings, name, None)]
    if missing:
        raise NotConfigured(f"set {', '.join(missing)}")


def _hubspot(settings: Any) -> Connector:
    _need(settings, "hubspot_token")
    from storage.connectors import hubspot

    return hubspot.connector(settings.hubspot_token, settings.hubspot_api_url)


def _salesforce(settings: Any) -> Connector:
    _need(settings, "salesforce_instance_url")
    if not settings.salesforce_access_token:
        _need(settings, "salesforce_client_id", "salesforce_client_secret")
    from storage.connectors import salesforce

    return salesforce.connector(
        settings.salesforce_instance_url,
        access_token=settings.salesforce_access_token,
        client_id=settings.salesforce_client_id,
        client_secret=settings.salesforce_client_secret,
        version=settings.salesforce_api_version,
    )


def _zendesk(settings: Any) -> Connector:
    _need(settings, "zendesk_api_url", "zendesk_email", "zendesk_token")
    from storage.connectors import zendesk

    return zendesk.connector(
        settings.zendesk_api_url, settings.zendesk_email, settings.zendesk_token
    )


def _stripe(settings: Any) -> Connector:
    _need(settings, "stripe_api_key")
    from storage.connectors import stripe

    return stripe.connector(settings.stripe_api_key, settings.stripe_api_url)


def _usage_sql(settings: Any) -> Connector:
    _need(settings, "usage_sql_url", "usage_sql")
    from storage.connectors import usage_sql

    return usage_sql.connector(settings.usage_sql_url, settings.usage_sql)


def _usage_files(settings: Any) -> Connector:
    _need(settings, "usage_export_dir")
    from storage.connectors import usage_files

    return usage_files.connector(settings.usage_export_dir)


SOURCES: dict[str, Callable[[Any], Connector]] = {
    "hubspot": _hubspot,
    "salesforce": _salesforce,
    "zendesk": _zendesk,
    "stripe": _stripe,
    "usage-sql": _usage_sql,
    "usage-files": _usage_files,
}
"""In the order the nightly job runs them: CRMs first (they create the accounts)."""


def build(name: str, settings: Any) -> Connector:
    """The connector called `name`, from settings; KeyError / NotConfigured otherwise."""
    try:
        make = SOURCES[name]
    except KeyError:
        raise KeyError(f"unknown source {name!r} (expected one of: {', '.join(SOURCES)})") from None
    return make(settings)


def configured(settings: Any) -> list[str]:
    """The sources whose settings are all set."""
    names = []
    for name, make in SOURCES.items():
        try:
            make(settings)
        except NotConfigured:
            continue
        names.append(name)
    return names


def sync_configured(engine: Engine, settings: Any, clock: Clock | None = None) -> dict[str, Any]:
    """The nightly job's part: sync every configured source from its cursor. A failing
    source is reported and the others still run. {} when none is configured."""
    names = configured(settings)
    if not names:
        return {}
    mapping: Mapping = load_mapping(getattr(settings, "mapping_file", None))
    reports: dict[str, SyncReport] = {
        name: run_sync(engine, build(name, settings), mapping=mapping, clock=clock)
        for name in names
    }
    return {
        "sync": {
            name: {"writes": report.writes, "error": report.error, "rejected": report.problem_count}
            for name, report in reports.items()
        }
    }
