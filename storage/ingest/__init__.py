"""Import of the data contract (docs/data-contract.md): files, HTTP bodies, API pulls.

- `contract`: the contract as data (files, columns, types, enums, keys).
- `readers`, `convert`, `validate`: streaming reads, parsing and checks → problems.
- `writers`: bulk idempotent upserts (SQLite executemany, PostgreSQL COPY + merge).
- `importer`: `import_directory` and `import_rows`, with per-file reports.
- `connectors`: pulling contract rows from a paginated REST API.
"""

from storage.ingest.contract import ENTITIES, Column, Entity, Kind, entity_named
from storage.ingest.importer import (
    FileReport,
    ImportReport,
    ProgressUpdate,
    import_directory,
    import_rows,
)
from storage.ingest.problems import ContractViolation, Problem

__all__ = [
    "ENTITIES",
    "Column",
    "ContractViolation",
    "Entity",
    "FileReport",
    "ImportReport",
    "Kind",
    "Problem",
    "ProgressUpdate",
    "entity_named",
    "import_directory",
    "import_rows",
]
