"""`csbot --help` lists every command with a one-line description."""

from __future__ import annotations

from typer.main import get_command
from typer.testing import CliRunner

from bot.cli import app

EXPECTED = {
    "demo", "db", "ingest", "score", "train", "backtest", "models", "playbooks",
    "digest", "serve", "jobs", "run-job", "outbox",
}  # fmt: skip


def test_every_command_is_listed_with_a_description():
    group = get_command(app)
    commands = group.commands  # type: ignore[attr-defined]
    assert set(commands) >= EXPECTED
    for name, command in commands.items():
        assert (command.get_short_help_str(limit=200) or "").strip(), f"{name} has no help"
    result = CliRunner().invoke(app, ["--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    for name in EXPECTED:
        assert f" {name} " in result.output
