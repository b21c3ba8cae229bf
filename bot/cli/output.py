"""Terminal output shared by the commands: consoles sized for 80 columns, and line output
that stops quietly when the reader goes away (`csbot score --format jsonl | head`)."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console

NARROW = 80
WIDE = 160


def make_console(*, wide: bool = False, stderr: bool = False) -> Console:
    """A console for tables: the terminal's width (or COLUMNS), else 80 columns when
    output is piped (160 with `--wide`)."""
    from rich.console import Console

    console = Console(stderr=stderr)
    if (console.is_terminal or os.environ.get("COLUMNS")) and not wide:
        return console
    return Console(stderr=stderr, width=WIDE if wide else NARROW)


def write_lines(lines: Iterable[str]) -> bool:
    """Write each line to stdout; False (and no error) when the reader closed the pipe.

    After a broken pipe stdout is pointed at /dev/null, so Python's final flush at exit
    does not fail a second time (the recipe in the `signal` module's documentation)."""
    try:
        for line in lines:
            sys.stdout.write(line + "\n")
        sys.stdout.flush()
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return False
    return True
