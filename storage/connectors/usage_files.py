"""Product usage from analytics export files: Segment, Mixpanel and Amplitude.

Every `*.json`, `*.jsonl` or `*.ndjson` file (gzip allowed: `*.gz`) in CSBOT_USAGE_EXPORT_DIR
holds one event per line, in any of the three exports' shapes:

- Segment: `{"type": "track", "event", "timestamp", "userId", "context": {"groupId"}}`
  (`group_id`/the mapping's `usage.account_property` in `properties` also work);
- Mixpanel: `{"event", "properties": {"time" (epoch seconds), "distinct_id", <account>}}`;
- Amplitude: `{"event_type", "event_time", "user_id", "groups": {<account property>},
  "event_properties", "user_properties"}`.

Each event becomes one usage row (quantity 1) keyed by its time, so re-reading a file is
harmless. The cursor is the newest file modification time read: a nightly sync reads only
files that arrived or changed since.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import IO, Any

from storage.connectors.base import Connector, Cursor, Item, Row, Step, SyncContext, iso
from storage.ingest.connectors import SourceError

SUFFIXES = (".json", ".jsonl", ".ndjson", ".gz")


def _open(path: Path) -> IO[str]:
    if path.suffix == ".gz":
        return gzip.open(path, "rt", encoding="utf-8")
    return open(path, encoding="utf-8")  # noqa: SIM115


def _first(*values: Any) -> Any:
    return next((v for v in values if v not in (None, "")), None)


def event_fields(
    record: Mapping[str, Any], account_property: str, contact_property: str | None
) -> tuple[Any, Any, Any, Any] | None:
    """(account, contact, time, event) of one exported event in any of the three shapes."""
    props = record.get("properties") or {}
    if "event_type" in record:  # Amplitude
        groups = record.get("groups") or {}
        user_props = record.get("user_properties") or {}
        event_props = record.get("event_properties") or {}
        account = _first(
            groups.get(account_property),
            event_props.get(account_property),
            user_props.get(account_property),
        )
        if isinstance(account, list):
            account = account[0] if account else None
        contact = _first(
            event_props.get(contact_property) if contact_property else None, record.get("user_id")
        )
        return account, contact, record.get("event_time"), record.get("event_type")
    if "type" in record or "userId" in record or "anonymousId" in record:  # Segment
        if record.get("type", "track") != "track":
            return None
        context = record.get("context") or {}
        account = _first(context.get("groupId"), props.get(account_property), props.get("group_id"))
        contact = _first(
            props.get(contact_property) if contact_property else None, record.get("userId")
        )
        return (
            account,
            contact,
            _first(record.get("timestamp"), record.get("sentAt")),
            record.get("event"),
        )
    if "event" in record and "time" in props:  # Mixpanel
        account = props.get(account_property)
        contact = _first(
            props.get(contact_property) if contact_property else None,
            props.get("$user_id"),
            props.get("distinct_id"),
        )
        return account, contact, props.get("time"), record.get("event")
    return None


class UsageFiles:
    def __init__(self, directory: Path | str) -> None:
        self.directory = Path(directory)
        self.requests = 0

    def usage(self, since: str | None, context: SyncContext) -> Iterator[Item]:
        if not self.directory.is_dir():
            raise SourceError(f"{self.directory}: not a directory")
        after = float(since) if since else 0.0
        options = context.mapping.usage
        files = sorted(
            p
            for p in self.directory.iterdir()
            if p.is_file() and p.name.lower().endswith(SUFFIXES) and p.stat().st_mtime > after
        )
        newest = after
        for path in files:
            self.requests += 1
            newest = max(newest, path.stat().st_mtime)
            with _open(path) as handle:
                for number, line in enumerate(handle, start=1):
                    if not line.strip():
                        continue
                    try:
                        record = json.loads(line)
                    except json.JSONDecodeError as error:
                        raise SourceError(
                            f"{path.name}:{number}: not valid JSON: {error.msg}"
                        ) from None
                    fields = (
                        event_fields(record, options.account_property, options.contact_property)
                        if isinstance(record, dict)
                        else None
                    )
                    if fields is None or fields[0] in (None, "") or not fields[3]:
                        continue
                    account, contact, when, event = fields
                    account = str(account)
                    if account not in context.accounts:
                        account = (
                            context.account_for("account", account)
                            or context.account_for_domain(account)
                            or account
                        )
                    yield Row(
                        "usage",
                        {
                            "account_id": account,
                            "contact_id": "" if contact is None else str(contact),
                            "timestamp": iso(when),
                            "event": str(event),
                            "quantity": 1.0,
                        },
                    )
        if files:
            yield Cursor(repr(newest))


def connector(directory: Path | str) -> Connector:
    source = UsageFiles(directory)
    return Connector(
        "usage-files",
        [Step("usage", source.usage)],
        "analytics exports",
        requests=lambda: source.requests,
    )
