"""The README's commands tables against the real registries: every `csbot` command and
subcommand (walked from the Typer app) and every `/cs` subcommand (the slash command's own
help list) has a row, and no row names a command that does not exist.

A row's first cell may name several forms: `csbot outbox [--failed]`, `csbot outbox retry`
or `csbot playbooks list \\| validate DIR \\| report` (a bare word after `|` continues the
group before it).
"""

from __future__ import annotations

import re
from pathlib import Path

import typer

from bot.app.command_parse import USAGE
from bot.cli import app

README = Path(__file__).resolve().parents[1] / "README.md"
WORD = re.compile(r"[a-z][a-z0-9-]*$")


def first_cells(prefix: str) -> list[str]:
    """The first cell of every README table row whose first cell starts with `prefix`."""
    cells = []
    for line in README.read_text(encoding="utf-8").splitlines():
        if not line.startswith("| `"):
            continue
        raw = re.split(r"(?<!\\)\|", line)[1].strip()
        if raw.startswith(f"`{prefix}"):  # not a header such as "`/cs` command"
            cells.append(raw.replace("\\|", "|").replace("`", ""))
    return cells


def command_path(words: list[str]) -> tuple[str, ...]:
    """The command words of a form: up to its first argument or option."""
    path = []
    for word in words:
        if not WORD.match(word):
            break
        path.append(word)
    return tuple(path)


def documented(prefix: str) -> set[tuple[str, ...]]:
    """Every command path the README's rows name after `prefix` ("csbot " or "/cs ")."""
    found: set[tuple[str, ...]] = set()
    for cell in first_cells(prefix):
        group: tuple[str, ...] = ()
        for form in re.split(r"[|,]", cell):
            words = form.split()
            if not words:
                continue
            if form.strip().startswith(prefix):
                path = command_path(form.strip()[len(prefix) :].split())
                group = path[:1]
            else:
                more = command_path(words)
                path = group + more if more else ()
            if path:
                found.add(path)
    return found


def cli_commands() -> set[tuple[str, ...]]:
    """Every visible command of `csbot`: top-level ones, each group's subcommands, and a group
    itself when it runs without one (`csbot outbox`)."""
    root = typer.main.get_command(app)
    found: set[tuple[str, ...]] = set()
    for name, command in root.commands.items():  # type: ignore[attr-defined]
        if command.hidden:
            continue
        subcommands = getattr(command, "commands", None)
        if not subcommands or getattr(command, "invoke_without_command", False):
            found.add((name,))
        for sub, inner in (subcommands or {}).items():
            if not inner.hidden:
                found.add((name, sub))
    return found


def slash_commands() -> set[tuple[str, ...]]:
    return {command_path(form.split()) for form, _meaning in USAGE}


def test_every_cli_command_has_a_readme_row() -> None:
    commands = cli_commands()
    assert ("playbooks", "validate") in commands and ("score",) in commands  # the walk works
    rows = documented("csbot ")
    missing = sorted(" ".join(path) for path in commands - rows)
    assert not missing, f"README commands table has no row for: csbot {', csbot '.join(missing)}"
    stale = sorted(" ".join(path) for path in rows - commands)
    assert not stale, f"README names commands that do not exist: {stale}"


def test_every_slash_command_has_a_readme_row() -> None:
    commands = slash_commands()
    assert ("account",) in commands and ("playbook", "start") in commands
    rows = documented("/cs ")
    missing = sorted(" ".join(path) for path in commands - rows)
    assert not missing, f"README /cs table has no row for: /cs {', /cs '.join(missing)}"
    stale = sorted(" ".join(path) for path in rows - commands)
    assert not stale, f"README names /cs commands that do not exist: {stale}"


def test_the_row_reader_understands_every_form() -> None:
    assert command_path(["playbooks", "validate", "DIR"]) == ("playbooks", "validate")
    assert command_path(["outbox", "[--failed]"]) == ("outbox",)
    assert command_path(["account", "<name>"]) == ("account",)
