"""Import a contract directory, or one entity's JSON Lines, into the database.

Files go in dependency order (accounts first, whatever order they were named in); each
file is one transaction: all of it or, when it holds a bad row, none of it — unless
`skip_invalid`, which commits the good rows and writes the rest to a rejects file.
Memory stays flat in file size: rows flow through in batches.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine, text

from storage.gc_pause import gc_paused
from storage.ingest.contract import ENTITIES, FORMATS, REQUIRED_FILES, Entity, entity_named
from storage.ingest.mapping import DEFAULT, Mapping, MappingError, load_mapping
from storage.ingest.problems import ROW, ContractViolation, Problem
from storage.ingest.readers import JsonLinesSource, Source, open_source
from storage.ingest.rejects import RejectsFile
from storage.ingest.validate import BatchValidator
from storage.ingest.writers import make_writer

MAPPING_FILE = "mapping.yml"
"""A mapping file an export directory may carry for itself."""

MAX_KEPT_PROBLEMS = 1_000
"""Problems kept per file for display; `problem_count` always has the full count."""


@dataclass(frozen=True)
class ProgressUpdate:
    file: str
    rows: int
    bytes_done: int
    bytes_total: int | None
    done: bool = False


FileProgress = Callable[[ProgressUpdate], None]
"""Told about one file: at its start, after each batch, and when it is done."""

Progress = Callable[[float, float], None]
"""Told `(bytes done, bytes total)` over every file of an import."""


@dataclass
class FileReport:
    """What happened to one file. `committed` is False when the file was refused."""

    entity: str
    file: str
    read: int = 0
    inserted: int = 0
    updated: int = 0
    rejected: int = 0
    seconds: float = 0.0
    committed: bool = False
    problems: list[Problem] = field(default_factory=list)
    problem_count: int = 0
    warnings: list[str] = field(default_factory=list)
    rejects_path: Path | None = None

    def add_problems(self, problems: Iterable[Problem]) -> None:
        for problem in problems:
            self.problem_count += 1
            if len(self.problems) < MAX_KEPT_PROBLEMS:
                self.problems.append(problem)

    def as_dict(self) -> dict[str, object]:
        return {
            "entity": self.entity,
            "file": self.file,
            "read": self.read,
            "inserted": self.inserted,
            "updated": self.updated,
            "rejected": self.rejected,
            "seconds": round(self.seconds, 3),
            "committed": self.committed,
            "warnings": list(self.warnings),
            "problem_count": self.problem_count,
            "problems": [problem.as_dict() for problem in self.problems],
        }


@dataclass
class ImportReport:
    """Every file's report, plus problems and warnings about the directory itself."""

    directory: Path
    files: list[FileReport] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def problem_count(self) -> int:
        return len(self.problems) + sum(report.problem_count for report in self.files)

    @property
    def ok(self) -> bool:
        return self.problem_count == 0

    def all_problems(self) -> list[Problem]:
        """Directory problems, then each file's kept problems, in import order."""
        return [*self.problems, *(p for report in self.files for p in report.problems)]

    def all_warnings(self) -> list[str]:
        return [*self.warnings, *(w for report in self.files for w in report.warnings)]


def _mapping_problem(line: str) -> Problem:
    """`file:line: problem` from a MappingError as a Problem (the file named as given)."""
    found = re.match(r"^(.*?):(\d+): (.*)$", line)
    if found is None:
        return Problem(MAPPING_FILE, 0, ROW, line)
    return Problem(Path(found[1]).name, int(found[2]), "mapping", found[3])


def load_account_ids(engine: Engine) -> set[str]:
    """Known account ids (the accounts table is small: one row per customer)."""
    with engine.connect() as connection:
        return set(connection.execute(text("SELECT account_id FROM accounts")).scalars())


def _why_skipped(name: str, expected: set[str]) -> str | None:
    """Why a file that looks like data is not imported, said so it can be fixed (None for
    files that are clearly something else, e.g. a database next to the exports)."""
    stem = name.partition(".")[0].lower()
    if name.lower() in expected:
        return f"not imported: file names are lower case ({name.lower()})"
    if f"{stem}.csv" in expected:
        return f"not imported: only .csv and .jsonl are read (rename it {stem}.csv or {stem}.jsonl)"
    if name.lower().endswith((".csv", ".jsonl")):
        return "not a contract file, ignored"
    return None


def discover(directory: Path) -> tuple[list[tuple[Entity, Path]], list[str]]:
    """Contract files in `directory`, in dependency order, and a warning naming every other
    file that looks like data: another case (contracts.CSV), another extension
    (contacts.txt, usage.csv.bak), any other .csv or .jsonl."""
    found: list[tuple[Entity, Path]] = []
    expected: set[str] = set()
    for entity in ENTITIES.values():
        for fmt in FORMATS:
            path = directory / f"{entity.name}.{fmt}"
            expected.add(path.name)
            if path.is_file():
                found.append((entity, path))
    warnings = []
    for path in sorted(directory.iterdir()):
        if path.is_file() and not path.name.startswith(".") and path.name not in expected:
            why = _why_skipped(path.name, expected)
            if why is not None:
                warnings.append(f"{path.name}: {why}")
    return found, warnings


def import_directory(
    engine: Engine,
    path: Path | str,
    *,
    skip_invalid: bool = False,
    rejects_dir: Path | str | None = None,
    progress: Progress | None = None,
    file_progress: FileProgress | None = None,
    mapping: Mapping | None = None,
) -> ImportReport:
    """Import every contract file in `path`. Problems are in the report (nothing raised
    for bad rows); NotADirectoryError if `path` is not a directory.

    `progress(done, total)` follows bytes over the whole import; `file_progress` gets a
    `ProgressUpdate` per file and batch (the CLI draws one bar per large file).

    `mapping` (docs/mapping.md) says how the files' values, dates, numbers, currencies and
    encoding read; without one, a `mapping.yml` in the directory is used when present."""
    directory = Path(path)
    if not directory.is_dir():
        raise NotADirectoryError(f"{directory}: not a directory")
    report = ImportReport(directory)
    if mapping is None:
        try:
            mapping = load_mapping(
                directory / MAPPING_FILE if (directory / MAPPING_FILE).is_file() else None
            )
        except MappingError as error:
            report.problems.extend(_mapping_problem(text) for text in error.problems)
            return report
    found, report.warnings = discover(directory)
    if not found:
        names = ", ".join(f"{name}.csv" for name in ENTITIES)
        report.problems.append(Problem(str(directory), 0, ROW, f"no contract files ({names})"))
        return report
    known_accounts = load_account_ids(engine)
    present = {entity.name for entity, _ in found}
    for name in REQUIRED_FILES:
        if name not in present and not known_accounts:
            problem = f"required file missing ({name}.csv or {name}.jsonl)"
            report.problems.append(Problem(f"{name}.csv", 0, ROW, problem))
    rejects_root = Path(rejects_dir) if rejects_dir is not None else directory / "rejects"
    total = float(sum(file.stat().st_size for _, file in found))
    finished = 0.0

    def on_update(update: ProgressUpdate) -> None:
        if file_progress is not None:
            file_progress(update)
        if progress is not None:
            progress(finished + update.bytes_done, total)

    if progress is not None:
        progress(0.0, total)
    for entity, file in found:
        source = open_source(file, entity, encoding=mapping.formats.encoding)
        rejects = None
        if skip_invalid:
            rejects_path = rejects_root / f"{file.stem}.rejects{file.suffix}"
            rejects = RejectsFile(rejects_path, fmt=source.format, header=source.header)
        report.files.append(
            import_source(
                engine,
                entity,
                source,
                known_accounts,
                rejects=rejects,
                progress=on_update,
                mapping=mapping,
            )
        )
        finished += file.stat().st_size
    return report


def import_rows(
    engine: Engine,
    entity: str,
    lines: Iterable[str | bytes],
    *,
    skip_invalid: bool = False,
    source_name: str | None = None,
    mapping: Mapping = DEFAULT,
) -> FileReport:
    """Import JSON Lines of one entity (the HTTP endpoint, connectors). Raises
    ContractViolation when a line is bad, unless `skip_invalid` (then the rejected lines'
    problems are in the report); KeyError for an unknown entity."""
    spec = entity_named(entity)
    source = JsonLinesSource(source_name or f"{spec.name}.jsonl", spec, lines)
    report = import_source(
        engine, spec, source, load_account_ids(engine), skip_invalid=skip_invalid, mapping=mapping
    )
    if not report.committed:
        raise ContractViolation(report.problems, report.problem_count)
    return report


def import_source(
    engine: Engine,
    entity: Entity,
    source: Source,
    known_accounts: set[str],
    *,
    skip_invalid: bool | None = None,
    rejects: RejectsFile | None = None,
    progress: FileProgress | None = None,
    mapping: Mapping = DEFAULT,
    only_changed: bool = False,
    dry_run: bool = False,
) -> FileReport:
    """Validate and upsert one source in one transaction. Rows are skipped (not fatal)
    when `skip_invalid` (default: when a rejects file is given). `only_changed` rewrites
    (and counts) only rows that differ; `dry_run` counts what would be written and rolls
    back."""
    skip = rejects is not None if skip_invalid is None else skip_invalid
    started = time.perf_counter()
    report = FileReport(entity.name, source.name)
    validator = BatchValidator(entity, source.name, source.positions, known_accounts, mapping)
    account_index = entity.column_names.index("account_id") if entity.name == "accounts" else None
    new_accounts: list[str] = []

    def tell(bytes_done: int, done: bool = False) -> None:
        if progress is not None:
            update = ProgressUpdate(source.name, report.read, bytes_done, source.bytes_total, done)
            progress(update)

    tell(0)
    failed = bool(source.file_problems)
    with gc_paused(), engine.connect() as connection:
        transaction = connection.begin()
        try:
            writer = make_writer(connection, entity, only_changed=only_changed)
            try:
                for batch in source.batches():
                    good, rejected = validator.validate(batch)
                    report.read += len(batch.rows) + len(batch.bad)
                    if rejected:
                        report.rejected += len(rejected)
                        report.add_problems(p for item in rejected for p in item.problems)
                        if not skip:
                            failed = True
                        elif rejects is not None:
                            rejects.write(rejected)
                    if not failed and good:
                        writer.write(good)
                        if account_index is not None:
                            new_accounts.extend(str(row[account_index]) for row in good)
                    tell(batch.bytes_done)
                report.add_problems(source.file_problems)
                failed = failed or bool(source.file_problems)
                if not failed:
                    writer.finish()  # waits for queued batches; raises a database error
            finally:
                writer.close()  # before the connection is used again, on every path
                if rejects is not None:
                    rejects.close()
            if failed or dry_run:
                transaction.rollback()
            else:
                transaction.commit()
        except BaseException:
            if transaction.is_active:
                transaction.rollback()
            raise
    report.warnings.extend(source.warnings)
    if failed:
        report.rejected = report.read if source.file_problems else report.rejected
        if report.read:
            bad = report.rejected if not source.file_problems else 0
            why = f"{bad} bad row{'s' if bad != 1 else ''}" if bad else "the problems below"
            report.warnings.append(
                f"{source.name}: refused whole: {report.read:,} row{'s' if report.read != 1 else ''} "
                f"not imported because of {why} (--skip-invalid imports the good ones)"
            )
    else:
        report.committed = True
        report.inserted, report.updated = writer.inserted, writer.updated
        known_accounts.update(new_accounts)
    if rejects is not None and rejects.count:
        report.rejects_path = rejects.path
    report.seconds = time.perf_counter() - started
    tell(source.bytes_total or 0, done=True)
    return report
