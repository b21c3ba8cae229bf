"""Who is clicking: a Slack user id mapped to the owner email accounts are filed under.

The `slack_users` table caches email ↔ user id (delivery fills it from users.lookupByEmail
and the mapping file); a caller not in it yet is looked up once with users.info and cached.
"""

from __future__ import annotations

import logging

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlmodel import Session, select

from storage.clock import Clock
from storage.models import SlackUser

logger = logging.getLogger(__name__)


def email_for_user(
    session: Session, client: WebClient | None, user_id: str, clock: Clock
) -> str | None:
    """The email of Slack user `user_id`, from the cache or users.info; None if unknown."""
    cached = session.exec(
        select(SlackUser).where(SlackUser.user_id == user_id).order_by(SlackUser.source)
    ).first()
    if cached is not None:
        return cached.email
    if client is None:
        return None
    try:
        answer = client.users_info(user=user_id)
    except SlackApiError as error:
        logger.warning("users.info %s failed: %s", user_id, error.response.get("error"))
        return None
    user = answer.get("user") or {}
    email = ((user.get("profile") or {}).get("email") or "").strip().lower()
    if not email:
        return None
    row = session.get(SlackUser, email)
    if row is None:
        row = SlackUser(email=email, source="lookup", fetched_at=clock.now())
    row.user_id = user_id
    row.tz = user.get("tz") or row.tz
    row.fetched_at = clock.now()
    session.add(row)
    session.commit()
    return email


def user_for_email(session: Session, email: str | None) -> str | None:
    """The cached Slack user id of `email` (for mentions); None when not mapped yet."""
    if not email:
        return None
    row = session.get(SlackUser, email.lower())
    return row.user_id if row else None
