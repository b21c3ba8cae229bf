"""Where a playbook change may come from: the engine records who, when, what and from where
(slack, cli or scheduler) with `storage.audit.audit`, after `check_source`."""

from __future__ import annotations

from playbooks.errors import PlaybookError
from storage.enums import Source

SOURCES = (Source.SLACK, Source.CLI, Source.SCHEDULER)


def check_source(source: str) -> None:
    if source not in SOURCES:
        raise PlaybookError(f"unknown source {source!r}; one of {', '.join(SOURCES)}")
