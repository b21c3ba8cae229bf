"""Read playbook YAML files into `Playbook`s, reporting every problem as
`file:line: key path: problem` — `renewal.yml:31: steps #3.owner_role: must be one of …`,
list items counted from 1 — (YAML syntax errors with their line and column)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError
from pydantic_core import ErrorDetails

from playbooks.conditions import CONDITION_TYPES, MULTIPLE_KEYS
from playbooks.errors import PlaybookFormatError
from playbooks.model import Playbook

YAML_SUFFIXES = (".yml", ".yaml")
_KNOWN_CONDITIONS = ", ".join(CONDITION_TYPES)


def playbook_files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.iterdir() if p.suffix in YAML_SUFFIXES and p.is_file())


def parse_playbook(text: str, filename: str) -> Playbook:
    """Validate one file's text; raise PlaybookFormatError listing every problem."""
    try:
        data = yaml.safe_load(text)
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"{filename}:{mark.line + 1}:{mark.column + 1}" if mark else filename
        problem = getattr(error, "problem", None) or str(error)
        context = getattr(error, "context", None)
        detail = f"{context}, {problem}" if context else problem
        raise PlaybookFormatError([f"{where}: YAML syntax error: {detail}"]) from None
    if not isinstance(data, dict):
        raise PlaybookFormatError([f"{filename}: must hold one mapping of playbook keys"])
    try:
        playbook = Playbook.model_validate(data)
    except ValidationError as error:
        problems = []
        for item in error.errors(include_url=False):
            parts = _clean_loc(item["loc"])
            line = _line_of(root, parts)
            where = f"{filename}:{line}" if line else filename
            problems.append(f"{where}: {_path(parts) or '(top level)'}: {_message(item)}")
        raise PlaybookFormatError(problems) from None
    cross = playbook.problems()
    if cross:
        raise PlaybookFormatError(
            [
                f"{filename}:{_line_of(root, _split(p)) or '?'}: {_path(_split(p))}: {m}"
                for p, m in cross
            ]
        )
    return playbook


def load_file(path: Path) -> Playbook:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise PlaybookFormatError([f"{path.name}: cannot read: {error}"]) from None
    return parse_playbook(text, path.name)


def load_dir(directory: Path) -> dict[str, Playbook]:
    """Every playbook in `directory` by name; all files' problems raised together."""
    if not directory.is_dir():
        raise PlaybookFormatError([f"{directory}: not a directory"])
    playbooks: dict[str, Playbook] = {}
    origin: dict[str, str] = {}
    problems: list[str] = []
    for path in playbook_files(directory):
        try:
            playbook = load_file(path)
        except PlaybookFormatError as error:
            problems.extend(error.problems)
            continue
        if playbook.name in playbooks:
            problems.append(
                f"{path.name}: name: {playbook.name!r} is already defined in {origin[playbook.name]}"
            )
            continue
        playbooks[playbook.name] = playbook
        origin[playbook.name] = path.name
    if problems:
        raise PlaybookFormatError(problems)
    return playbooks


def _clean_loc(loc: tuple[Any, ...]) -> list[str | int]:
    """Drop the union tags pydantic inserts (`any.any.0` → `any[0]`)."""
    parts: list[str | int] = []
    for part in loc:
        if parts and part == parts[-1] and part in CONDITION_TYPES:
            continue
        if part == "not_":
            part = "not"
        parts.append(part)
    return parts


def _path(parts: list[str | int]) -> str:
    """The key path as people count: `steps #3.owner_role` is the third step's owner role
    (list items numbered from 1, as a person reads the file)."""
    out = ""
    for part in parts:
        out += f" #{part + 1}" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _split(path: str) -> list[str | int]:
    parts: list[str | int] = []
    for chunk in path.replace("[", ".[").split("."):
        if chunk.startswith("["):
            parts.append(int(chunk[1:-1]))
        elif chunk:
            parts.append(chunk)
    return parts


def _line_of(node: yaml.Node | None, parts: list[str | int]) -> int | None:
    """The line of the deepest YAML node on `parts` (1-based)."""
    if node is None:
        return None
    line = node.start_mark.line + 1
    for part in parts:
        child = None
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if key.value == str(part):
                    child = value
                    break
        elif (
            isinstance(node, yaml.SequenceNode)
            and isinstance(part, int)
            and 0 <= part < len(node.value)
        ):
            child = node.value[part]
        if child is None:
            break
        node = child
        line = node.start_mark.line + 1
    return line


def _message(item: ErrorDetails) -> str:
    kind, ctx, value = item["type"], item.get("ctx") or {}, item.get("input")
    got = f" (got {value!r})" if isinstance(value, str | int | float | bool) else ""
    if kind == "literal_error":
        expected = ctx.get("expected", "").replace("'", "").replace(" or ", ", ")
        return f"must be one of {expected}{got}"
    if kind == "missing":
        return "required"
    if kind == "extra_forbidden":
        return "unknown key"
    if kind == "union_tag_invalid":
        if ctx.get("tag") == MULTIPLE_KEYS:
            keys = ", ".join(map(str, value)) if isinstance(value, dict) else ""
            return f"a condition has exactly one key (got {keys}); wrap several in all: or any:"
        return f"unknown condition {ctx.get('tag')!r}; expected one of {_KNOWN_CONDITIONS}"
    if kind == "union_tag_not_found":
        return f"a condition is a mapping with one key, one of {_KNOWN_CONDITIONS}{got}"
    message = str(item["msg"]).removeprefix("Value error, ")
    return f"{message[0].lower()}{message[1:]}{got}" if message else kind
