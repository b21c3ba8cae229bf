"""A `CSBOT_*` variable csbot does not know is almost always a typo (CSBOT_SLACK_TOKN), and
pydantic-settings ignores it in silence, so csbot runs offline or on defaults without a word.
At start-up every command and the server name each unknown variable — from the environment
and from `.env` — with the closest real setting.
"""

from __future__ import annotations

import difflib
import sys
from collections.abc import Iterable
from pathlib import Path

# Read by csbot outside the settings model: debugging output and the test suite's database.
OTHER_NAMES = frozenset({"CSBOT_DEBUG", "CSBOT_TEST_POSTGRES_URL"})
PREFIX = "CSBOT_"


def known_names() -> frozenset[str]:
    from bot.settings import Settings

    return frozenset(f"{PREFIX}{name.upper()}" for name in Settings.model_fields) | OTHER_NAMES


def misspelt(names: Iterable[str], known: Iterable[str]) -> list[str]:
    """Pure: one line for each `CSBOT_*` name in `names` that is not in `known`, with the
    closest known name when there is one."""
    valid = sorted(set(known))
    lines = []
    for name in sorted(set(names)):
        if not name.upper().startswith(PREFIX) or name.upper() in valid:
            continue
        # Compared without the prefix every name shares, so CSBOT_QWXZ matches nothing.
        rest = {known_name.removeprefix(PREFIX): known_name for known_name in valid}
        close = difflib.get_close_matches(name.upper().removeprefix(PREFIX), rest, n=1, cutoff=0.6)
        hint = f"; did you mean {rest[close[0]]}?" if close else "; csbot ignores it"
        lines.append(f"{name} is not a csbot setting{hint}")
    return lines


def dotenv_names(path: Path = Path(".env")) -> list[str]:
    """The variable names a `.env` file sets (comments and blank lines skipped)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return []
    names = []
    for line in text.splitlines():
        line = line.strip().removeprefix("export ").strip()
        if line and not line.startswith("#") and "=" in line:
            names.append(line.split("=", 1)[0].strip())
    return names


_warned = False


def warn_misspelt(environ: Iterable[str], *, dotenv: Path = Path(".env")) -> list[str]:
    """Print (once per process, to stderr) a warning for each unknown `CSBOT_*` name."""
    global _warned
    lines = misspelt([*environ, *dotenv_names(dotenv)], known_names())
    if not _warned:
        _warned = True
        for line in lines:
            print(f"csbot: warning: {line}", file=sys.stderr)
    return lines
