"""Running a connector: read each object from its cursor, write what changed, store the
cursor.

Rows are buffered per entity and written through the importer's validation and
changed-only upserts in batches of `FLUSH_ROWS`, each batch its own transaction, so a
failure half-way keeps what was written; the object's cursor is stored only once the object
has been read to the end, so the next sync re-reads from the old cursor and writes only what
is missing (keys make a re-read harmless, `only_changed` makes it free). Invalid records are
skipped and reported (an API record with an unknown account should not stop a sync).
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, select, text, update

from storage.clock import Clock, SystemClock
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
from storage.ingest.connectors import SourceError
from storage.ingest.contract import ENTITIES
from storage.ingest.importer import import_source
from storage.ingest.mapping import DEFAULT
from storage.ingest.mapping import Mapping as MappingFile
from storage.ingest.problems import Problem
from storage.ingest.readers import RowsSource

logger = logging.getLogger("csbot.sync")

FLUSH_ROWS = 20_000
MAX_KEPT_PROBLEMS = 200
MAX_NAMED_UNMATCHED = 50
"""Records matching no account are all counted; this many are named per object."""


@dataclass
class ObjectReport:
    """One object of one sync: records read, rows written (changed only), skipped."""

    object: str
    read: int = 0
    inserted: int = 0
    updated: int = 0
    deleted: int = 0
    rejected: int = 0
    links: int = 0
    unmatched: int = 0
    unmatched_records: list[str] = field(default_factory=list)
    """The first MAX_NAMED_UNMATCHED records that matched no account ("deal 9001")."""
    cursor: str | None = None
    done: bool = False
    seconds: float = 0.0

    @property
    def writes(self) -> int:
        return self.inserted + self.updated + self.deleted + self.links


@dataclass
class SyncReport:
    source: str
    dry_run: bool = False
    objects: list[ObjectReport] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    problem_count: int = 0
    error: str | None = None
    requests: int = 0
    seconds: float = 0.0

    @property
    def writes(self) -> int:
        return sum(report.writes for report in self.objects)

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def unmatched(self) -> int:
        return sum(report.unmatched for report in self.objects)

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "dry_run": self.dry_run,
            "error": self.error,
            "writes": self.writes,
            "requests": self.requests,
            "seconds": round(self.seconds, 3),
            "problem_count": self.problem_count,
            "unmatched": self.unmatched,
            "objects": [
                {
                    "object": o.object,
                    "read": o.read,
                    "inserted": o.inserted,
                    "updated": o.updated,
                    "deleted": o.deleted,
                    "links": o.links,
                    "rejected": o.rejected,
                    "unmatched": o.unmatched,
                    "unmatched_records": o.unmatched_records,
                    "done": o.done,
                }
                for o in self.objects
            ],
        }


def stored_cursors(engine: Engine, source: str) -> dict[str, str]:
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT object, cursor FROM sync_cursors WHERE source = :source"),
            {"source": source},
        )
        return {str(name): str(value) for name, value in rows}


def _store_cursor(
    engine: Engine, source: str, name: str, value: str, records: int, clock: Clock
) -> None:
    with engine.begin() as connection:
        params = {
            "source": source,
            "object": name,
            "cursor": value,
            "records": records,
            "at": clock.now(),
        }
        changed = connection.execute(
            text(
                "UPDATE sync_cursors SET cursor = :cursor, synced_at = :at, records = :records "
                "WHERE source = :source AND object = :object"
            ),
            params,
        ).rowcount
        if not changed:
            connection.execute(
                text(
                    "INSERT INTO sync_cursors (source, object, cursor, synced_at, records) "
                    "VALUES (:source, :object, :cursor, :at, :records)"
                ),
                params,
            )


class _Writer:
    """Buffers one object's items and writes them in batches."""

    def __init__(
        self, context: SyncContext, report: ObjectReport, sync: SyncReport, dry_run: bool
    ) -> None:
        self.context = context
        self.report = report
        self.sync = sync
        self.dry_run = dry_run
        self.rows: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
        self.deletes: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
        self.links: dict[tuple[str, str], Link] = {}
        self.patches: dict[str, list[Patch]] = defaultdict(list)
        self.buffered = 0
        self.numbered = 0

    def add(self, item: Row | Delete | Patch | Link) -> None:
        if isinstance(item, Row):
            self.rows[item.entity].append(item.values)
        elif isinstance(item, Patch):
            self.patches[item.entity].append(item)
        elif isinstance(item, Delete):
            self.deletes[item.entity].append(item.key)
        else:
            self.links[(item.kind, item.external_id)] = item
        self.context.remember(item)
        self.buffered += 1
        if self.buffered >= FLUSH_ROWS:
            self.flush()

    def flush(self) -> None:
        self._write_links()
        for entity in ENTITIES.values():  # dependency order: accounts first
            rows = self.rows.pop(entity.name, None)
            if rows:
                self._write_rows(entity.name, rows)
            keys = self.deletes.pop(entity.name, None)
            if keys:
                self._delete(entity.name, keys)
            patches = self.patches.pop(entity.name, None)
            if patches:
                self._patch(entity.name, patches)
        self.buffered = 0

    def _write_rows(self, entity_name: str, rows: list[Mapping[str, Any]]) -> None:
        entity = ENTITIES[entity_name]
        name = f"{self.context.source} {self.report.object}"
        source = RowsSource(name, entity, rows, first_line=self.numbered + 1)
        self.numbered += len(rows)
        written = import_source(
            self.context.engine,
            entity,
            source,
            self.context.accounts,
            skip_invalid=True,
            mapping=self.context.mapping,
            only_changed=True,
            dry_run=self.dry_run,
        )
        self.report.inserted += written.inserted
        self.report.updated += written.updated
        self.report.rejected += written.rejected
        for problem in written.problems:
            self.sync.problem_count += 1
            if len(self.sync.problems) < MAX_KEPT_PROBLEMS:
                self.sync.problems.append(problem)

    def _delete(self, entity_name: str, keys: list[Mapping[str, Any]]) -> None:
        entity = ENTITIES[entity_name]
        names = sorted(keys[0])
        where = " AND ".join(f'"{column}" = :{column}' for column in names)
        with self.context.engine.connect() as connection:
            deleted = 0
            for key in keys:
                result = connection.execute(
                    text(f'DELETE FROM "{entity.table_name}" WHERE {where}'), dict(key)
                )
                deleted += result.rowcount
            if self.dry_run:
                connection.rollback()
            else:
                connection.commit()
        self.report.deleted += deleted

    def _patch(self, entity_name: str, patches: list[Patch]) -> None:
        """Set the patched columns of rows whose values differ (read first, so an unchanged
        row costs no write); values are Python values (naive-UTC datetimes)."""
        table = ENTITIES[entity_name].table.__table__  # type: ignore[attr-defined]
        changed = 0
        with self.context.engine.connect() as connection:
            for patch in patches:
                where = [table.c[c] == v for c, v in patch.key.items()]
                columns = [table.c[c] for c in patch.values]
                current = connection.execute(select(*columns).where(*where)).first()
                if current is None or tuple(current) == tuple(patch.values.values()):
                    continue
                connection.execute(update(table).where(*where).values(dict(patch.values)))
                changed += 1
            if self.dry_run:
                connection.rollback()
            else:
                connection.commit()
        self.report.updated += changed

    def _write_links(self) -> None:
        if not self.links:
            return
        links, self.links = list(self.links.values()), {}
        source = self.context.source
        with self.context.engine.connect() as connection:
            existing = {
                (kind, external): (account, contact)
                for kind, external, account, contact in connection.execute(
                    text(
                        "SELECT kind, external_id, account_id, contact_id FROM sync_links "
                        "WHERE source = :source"
                    ),
                    {"source": source},
                )
            }
            new, changed = [], []
            for link in links:
                values = {
                    "source": source,
                    "kind": link.kind,
                    "external_id": link.external_id,
                    "account_id": link.account_id,
                    "contact_id": link.contact_id,
                }
                was = existing.get((link.kind, link.external_id))
                if was is None:
                    new.append(values)
                elif was != (link.account_id, link.contact_id):
                    changed.append(values)
            if new:
                connection.execute(
                    text(
                        "INSERT INTO sync_links (source, kind, external_id, account_id, contact_id) "
                        "VALUES (:source, :kind, :external_id, :account_id, :contact_id)"
                    ),
                    new,
                )
            if changed:
                connection.execute(
                    text(
                        "UPDATE sync_links SET account_id = :account_id, contact_id = :contact_id "
                        "WHERE source = :source AND kind = :kind AND external_id = :external_id"
                    ),
                    changed,
                )
            if self.dry_run:
                connection.rollback()
            else:
                connection.commit()
        self.report.links += len(new) + len(changed)


def _run_step(
    step: Step,
    since: str | None,
    context: SyncContext,
    report: ObjectReport,
    sync: SyncReport,
    dry_run: bool,
) -> str | None:
    """Read one object, writing as it goes; its last cursor mark (None if none came)."""
    writer = _Writer(context, report, sync, dry_run)
    cursor = None
    try:
        for item in step.read(since, context):
            if isinstance(item, Cursor):
                cursor = item.value
                continue
            if isinstance(item, Unmatched):
                report.unmatched += 1
                if len(report.unmatched_records) < MAX_NAMED_UNMATCHED:
                    report.unmatched_records.append(item.record)
                continue
            if isinstance(item, Row):
                report.read += 1
            writer.add(item)
    finally:
        writer.flush()  # what was read before a failure is kept
    return cursor


def run_sync(
    engine: Engine,
    connector: Connector,
    *,
    since: str | None = None,
    dry_run: bool = False,
    mapping: MappingFile = DEFAULT,
    clock: Clock | None = None,
    only: Iterable[str] | None = None,
) -> SyncReport:
    """Sync every object of `connector` (or those named in `only`) from its stored cursor,
    or from `since` when given. Never raises for an API failure: the report's `error`
    names the source, object and the API's message; earlier objects stay synced."""
    clock = clock or SystemClock()
    started = time.perf_counter()
    report = SyncReport(connector.source, dry_run)
    context = SyncContext.load(engine, connector.source, mapping, clock)
    cursors = stored_cursors(engine, connector.source)
    wanted = set(only) if only is not None else None
    for step in connector.steps:
        if wanted is not None and step.object not in wanted:
            continue
        object_report = ObjectReport(step.object)
        report.objects.append(object_report)
        step_started = time.perf_counter()
        start = since if since is not None else cursors.get(step.object)
        try:
            cursor = _run_step(step, start, context, object_report, report, dry_run)
        except SourceError as error:
            report.error = f"{connector.source}: {step.object}: {error}"
            logger.warning("sync failed: %s", report.error)
            break
        finally:
            object_report.seconds = time.perf_counter() - step_started
        object_report.done = True
        object_report.cursor = cursor
        if cursor is not None and not dry_run:
            _store_cursor(engine, connector.source, step.object, cursor, object_report.read, clock)
    report.requests = connector.requests()
    report.seconds = time.perf_counter() - started
    return report
