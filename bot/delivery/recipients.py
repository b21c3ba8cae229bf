"""Where a CSM's messages go: a configured channel (mentioning them) or their DM.

Owners are emails in the data; `bot.delivery.users.resolve_user` maps them to Slack users
(users.lookupByEmail, cached; an explicit mapping file overrides).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlmodel import Session

from bot.settings import Settings
from storage.clock import Clock


def recipient(
    session: Session,
    owner: str | None,
    *,
    channel: str | None,
    client: Any,
    clock: Clock,
    mapping_file: Path | None | bool = True,
) -> tuple[str | None, str | None]:
    """(channel to post in, Slack user to mention).

    With `channel` set: that channel, mentioning the owner when they have a Slack user.
    Without: the owner's DM (a user id is a valid `channel` for chat.postMessage), no
    mention; (None, None) when the owner has no Slack user.
    """
    user_id = None
    if owner:
        from bot.delivery.users import resolve_user

        user_id = resolve_user(session, client, owner, clock, mapping_file=mapping_file).user_id
    if channel:
        return channel, user_id
    return user_id, None


def mapping_file_of(settings: Settings) -> Path | None:
    """The user mapping file from settings (None: none configured)."""
    return settings.user_mapping_file
