"""Every setting is read from CSBOT_* and a bad value names the variable in one line."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import pytest

from bot.settings import Settings, SettingsError, load_settings

GOOD = {
    "CSBOT_DATABASE_URL": (
        "postgresql+psycopg://u@db:5432/cs",
        "database_url",
        "postgresql+psycopg://u@db:5432/cs",
    ),
    "CSBOT_SLACK_BOT_TOKEN": ("xoxb-1", "slack_bot_token", "xoxb-1"),
    "CSBOT_SLACK_SIGNING_SECRET": ("s3cret", "slack_signing_secret", "s3cret"),
    "CSBOT_SLACK_APP_TOKEN": ("xapp-1", "slack_app_token", "xapp-1"),
    "CSBOT_SLACK_API_URL": (
        "https://slack-gov.com/api",
        "slack_api_url",
        "https://slack-gov.com/api/",
    ),
    "CSBOT_HOST": ("127.0.0.1", "host", "127.0.0.1"),
    "CSBOT_PORT": ("8080", "port", 8080),
    "CSBOT_INGEST_TOKEN": ("tok", "ingest_token", "tok"),
    "CSBOT_TIMEZONE": ("Europe/Paris", "timezone", "Europe/Paris"),
    "CSBOT_PLAYBOOK_DIR": ("/etc/csbot/playbooks", "playbook_dir", Path("/etc/csbot/playbooks")),
    "CSBOT_LEADERS_CHANNEL": ("C0LEADERS", "leaders_channel", "C0LEADERS"),
    "CSBOT_DIGEST_TIME": ("07:45", "digest_time", dt.time(7, 45)),
    "CSBOT_ADMINS": ("U1, U2", "admins", ["U1", "U2"]),
    "CSBOT_RISK_ALERT_THRESHOLD": ("0.7", "risk_alert_threshold", 0.7),
}

BAD = {
    "CSBOT_PORT": "seventy",
    "CSBOT_TIMEZONE": "Mars/Olympus",
    "CSBOT_DIGEST_TIME": "25:99",
    "CSBOT_SLACK_API_URL": "slack.com/api",
    "CSBOT_DATABASE_URL": "not a url",
    "CSBOT_RISK_ALERT_THRESHOLD": "2",
    "CSBOT_LOG_LEVEL": "loud",
}


@pytest.fixture(autouse=True)
def clean_env(monkeypatch, tmp_path):
    for name in list(__import__("os").environ):
        if name.startswith("CSBOT_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)  # no stray .env


def test_defaults():
    settings = load_settings()
    assert settings.database_url == "sqlite:///csbot.db"
    assert settings.slack_api_url == "https://slack.com/api/"
    assert (settings.host, settings.port) == ("0.0.0.0", 3000)
    assert settings.digest_time == dt.time(8, 30)
    assert settings.timezone == "UTC"
    assert not settings.slack_online


@pytest.mark.parametrize("variable", sorted(GOOD))
def test_each_setting_is_read(monkeypatch, variable):
    raw, field, expected = GOOD[variable]
    monkeypatch.setenv(variable, raw)
    assert getattr(load_settings(), field) == expected


@pytest.mark.parametrize("variable", sorted(BAD))
def test_bad_value_names_the_variable(monkeypatch, variable):
    monkeypatch.setenv(variable, BAD[variable])
    with pytest.raises(SettingsError) as error:
        load_settings()
    message = str(error.value)
    assert message.startswith(f"{variable}: ")
    assert "\n" not in message


def test_dotenv_file_is_read(tmp_path):
    (tmp_path / ".env").write_text("CSBOT_PORT=4000\nCSBOT_LEADERS_CHANNEL=C9\n")
    settings = Settings()
    assert settings.port == 4000 and settings.leaders_channel == "C9"


def test_cli_reports_bad_setting_in_one_line_without_traceback(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "CSBOT_PORT": "seventy", "HOME": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-m", "bot", "db", "current"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "csbot: invalid setting: CSBOT_PORT: Input should be a valid integer, unable to parse "
        "string as an integer (got 'seventy')"
    ]
    assert "Traceback" not in result.stderr


def test_readme_lists_every_setting():
    readme = (Path(__file__).parent.parent / "README.md").read_text()
    missing = [
        f"CSBOT_{name.upper()}"
        for name in Settings.model_fields
        if f"`CSBOT_{name.upper()}`" not in readme
    ]
    assert not missing, (
        f"README's configuration table lacks {missing}; run `python -m bot.settings`"
    )


def test_digest_size_is_the_one_setting_and_the_old_name_an_alias(monkeypatch, caplog):
    """CSBOT_DIGEST_SIZE sets the size; CSBOT_ATTENTION_PER_CSM alone still does, with a
    deprecation warning; with both, CSBOT_DIGEST_SIZE wins (and the old name is flagged)."""
    import logging

    for name in ("CSBOT_DIGEST_SIZE", "CSBOT_ATTENTION_PER_CSM"):
        monkeypatch.delenv(name, raising=False)
    caplog.set_level(logging.WARNING, logger="csbot.settings")
    assert Settings(_env_file=None).digest_size == 5
    assert not caplog.records
    monkeypatch.setenv("CSBOT_DIGEST_SIZE", "3")
    assert Settings(_env_file=None).digest_size == 3
    assert not caplog.records
    monkeypatch.delenv("CSBOT_DIGEST_SIZE")
    monkeypatch.setenv("CSBOT_ATTENTION_PER_CSM", "4")
    assert Settings(_env_file=None).digest_size == 4
    assert "deprecated" in caplog.text and "CSBOT_DIGEST_SIZE=4" in caplog.text
    caplog.clear()
    monkeypatch.setenv("CSBOT_DIGEST_SIZE", "2")
    assert Settings(_env_file=None).digest_size == 2
    assert "ignored" in caplog.text
