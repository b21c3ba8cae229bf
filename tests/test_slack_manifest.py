"""manifest.yml is a valid Slack app manifest (Slack's published JSON Schema) and holds
what the code uses: the slash command, every event listened to, every scope called for."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest
import yaml

from bot.app.commands import COMMAND
from bot.slack.app import BOT_SCOPES
from bot.web.slack import EVENTS_PATH

ROOT = Path(__file__).resolve().parents[1]
# Slack's published manifest schema (MIT, slackapi/manifest-schema), vendored from
# ../shared/slack so the test runs in any checkout.
SCHEMA = ROOT / "tests" / "data" / "slack" / "manifest.schema.1.0.0.json"
# Web API method (as slack_sdk spells it) → the bot scope it needs (None: no scope).
METHOD_SCOPES = {
    "chat_postMessage": "chat:write",
    "chat_postEphemeral": "chat:write",
    "chat_update": "chat:write",
    "chat_getPermalink": None,
    "users_info": "users:read",
    "users_lookupByEmail": "users:read.email",
    "conversations_open": "im:write",
    "conversations_history": "im:history",
    "views_open": None,
    "views_publish": None,
    "views_update": None,
    "views_push": None,
    "auth_test": None,
    "files_upload_v2": "files:write",
}


@pytest.fixture(scope="module")
def manifest() -> dict:
    return yaml.safe_load((ROOT / "manifest.yml").read_text())


def validator() -> jsonschema.Validator:
    schema = json.loads(SCHEMA.read_text())
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def test_manifest_validates_against_slacks_schema(manifest: dict) -> None:
    errors = sorted(validator().iter_errors(manifest), key=str)
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors]


def test_schema_catches_a_broken_manifest(manifest: dict) -> None:
    broken = json.loads(json.dumps(manifest))
    broken["features"]["slash_commands"][0]["command"] = "cs without slash"
    broken["settings"]["interactivity"]["is_enabled"] = "yes"
    assert list(validator().iter_errors(broken))


def code() -> str:
    return "\n".join(path.read_text() for path in sorted((ROOT / "bot").rglob("*.py")))


def test_command_events_and_urls_are_in_the_manifest(manifest: dict) -> None:
    commands = {c["command"] for c in manifest["features"]["slash_commands"]}
    assert commands == {COMMAND}
    events = set(re.findall(r"app\.event\(\"([a-z_]+)\"\)", code()))
    assert events and events <= set(manifest["settings"]["event_subscriptions"]["bot_events"])
    assert manifest["features"]["app_home"]["home_tab_enabled"] is True
    assert manifest["settings"]["interactivity"]["is_enabled"] is True
    urls = [
        manifest["settings"]["interactivity"]["request_url"],
        manifest["settings"]["event_subscriptions"]["request_url"],
        *(c["url"] for c in manifest["features"]["slash_commands"]),
    ]
    assert all(url.endswith(EVENTS_PATH) for url in urls)


def test_every_web_api_call_has_its_scope(manifest: dict) -> None:
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    called = set(
        re.findall(r"\.((?:chat|users|conversations|views|auth|files)_[A-Za-z]+)\(", code())
    )
    assert called, "no Web API calls found"
    unknown = called - METHOD_SCOPES.keys()
    assert not unknown, f"add these methods' scopes to METHOD_SCOPES and manifest.yml: {unknown}"
    needed = {METHOD_SCOPES[method] for method in called} - {None}
    assert "commands" in scopes
    assert needed <= scopes, f"missing scopes: {needed - scopes}"
    assert set(BOT_SCOPES) == scopes  # the OAuth install asks for exactly these
