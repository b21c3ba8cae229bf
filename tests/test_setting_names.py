"""A typo'd `CSBOT_*` variable is named at start-up with the closest real setting, from the
environment and from `.env`; real settings and other variables pass in silence."""

from __future__ import annotations

import subprocess
from pathlib import Path

from bot.setting_names import dotenv_names, known_names, misspelt
from tests.test_cli_no_traceback import CSBOT, base_env, data_db


def test_unknown_names_get_the_closest_setting() -> None:
    known = known_names()
    assert "CSBOT_SLACK_BOT_TOKEN" in known and "CSBOT_DEBUG" in known
    lines = misspelt(
        ["CSBOT_SLACK_TOKN", "CSBOT_DATABSE_URL", "CSBOT_DATABASE_URL", "csbot_port", "HOME",
         "CSBOT_QWXZ"],
        known,
    )  # fmt: skip
    assert lines == [
        "CSBOT_DATABSE_URL is not a csbot setting; did you mean CSBOT_DATABASE_URL?",
        "CSBOT_QWXZ is not a csbot setting; csbot ignores it",
        "CSBOT_SLACK_TOKN is not a csbot setting; did you mean CSBOT_SLACK_BOT_TOKEN?",
    ]


def test_dotenv_names(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text("# comment\n\nexport CSBOT_PORT=1\nCSBOT_SLAK_SIGNING_SECRET = x\n")
    assert dotenv_names(env) == ["CSBOT_PORT", "CSBOT_SLAK_SIGNING_SECRET"]
    assert dotenv_names(tmp_path / "none") == []


def test_a_command_warns_once_and_still_runs(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("CSBOT_SLAK_SIGNING_SECRET=x\n")
    env = base_env(tmp_path, CSBOT_DATABASE_URL=data_db(tmp_path), CSBOT_SLACK_TOKN="xoxb-1")
    done = subprocess.run([CSBOT, "models"], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr
    warnings = [line for line in done.stderr.splitlines() if line.startswith("csbot: warning:")]
    assert warnings == [
        "csbot: warning: CSBOT_SLACK_TOKN is not a csbot setting; "
        "did you mean CSBOT_SLACK_BOT_TOKEN?",
        "csbot: warning: CSBOT_SLAK_SIGNING_SECRET is not a csbot setting; "
        "did you mean CSBOT_SLACK_SIGNING_SECRET?",
    ]
