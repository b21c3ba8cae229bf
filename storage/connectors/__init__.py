"""Connectors: data in from the tools CS teams already use, mapped to the data contract.

Each connector (`hubspot`, `salesforce`, `zendesk`, `stripe`, `usage_sql`, `usage_files`)
is a list of `Step`s, one per API object, that yield contract rows, links between ids and
cursor marks; `runner.run_sync` validates and writes them through the importer (changed
rows only), stores each object's cursor once it is read to the end, and stops at the first
API failure naming the source, the object and the API's message, keeping what was written.
Connectors are data import: they sit below scoring and know nothing of Slack or `bot`.
"""

from storage.connectors.base import (
    Connector,
    Cursor,
    Delete,
    Link,
    Patch,
    Row,
    Step,
    SyncContext,
    Unmatched,
)
from storage.connectors.runner import ObjectReport, SyncReport, run_sync

__all__ = [
    "Connector",
    "Cursor",
    "Delete",
    "Link",
    "Patch",
    "ObjectReport",
    "Row",
    "Step",
    "SyncContext",
    "SyncReport",
    "Unmatched",
    "run_sync",
]
