"""A Slack Web API stand-in that records instead of sending: the replay's delivery sink.

It answers the few calls csbot's jobs and sender make (users.lookupByEmail, users.info,
chat.postMessage, chat.update, conversations.open/history) the way Slack would, so the
real jobs, budget, outbox and sender run unchanged, and keeps every message it was given.
Users it has no record of get a stable made-up id and CSBOT_TIMEZONE.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
from dataclasses import dataclass, field
from typing import Any

from storage.clock import Clock


@dataclass(frozen=True)
class Posted:
    at: dt.datetime
    channel: str
    key: str | None
    text: str
    update: bool = False


@dataclass
class RecordingSlack:
    clock: Clock
    default_tz: str = "UTC"
    users: dict[str, tuple[str, str | None]] = field(default_factory=dict)  # email → (id, tz)
    posted: list[Posted] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _user(self, email: str) -> tuple[str, str]:
        key = email.strip().lower()
        if key not in self.users:
            digest = hashlib.sha1(key.encode()).hexdigest()[:9].upper()
            self.users[key] = (f"U{digest}", None)
        user_id, tz = self.users[key]
        return user_id, tz or self.default_tz

    def users_lookupByEmail(self, *, email: str, **_: Any) -> dict[str, Any]:  # noqa: N802 - Slack's name
        user_id, tz = self._user(email)
        return {"ok": True, "user": {"id": user_id, "tz": tz, "profile": {"email": email}}}

    def users_info(self, *, user: str, **_: Any) -> dict[str, Any]:
        for email, (user_id, tz) in self.users.items():
            if user_id == user:
                return {
                    "ok": True,
                    "user": {"id": user, "tz": tz or self.default_tz, "profile": {"email": email}},
                }
        return {"ok": True, "user": {"id": user, "tz": self.default_tz, "profile": {}}}

    def chat_postMessage(self, *, channel: str, text: str = "", **kwargs: Any) -> dict[str, Any]:  # noqa: N802
        metadata = kwargs.get("metadata") or {}
        key = (metadata.get("event_payload") or {}).get("key")
        with self._lock:
            self.posted.append(Posted(self.clock.now(), channel, key, text))
            ts = f"{len(self.posted)}.000100"
        return {"ok": True, "channel": channel, "ts": ts}

    def chat_update(self, *, channel: str, ts: str, text: str = "", **_: Any) -> dict[str, Any]:
        with self._lock:
            self.posted.append(Posted(self.clock.now(), channel, None, text, update=True))
        return {"ok": True, "channel": channel, "ts": ts}

    def conversations_open(self, *, users: str, **_: Any) -> dict[str, Any]:
        return {"ok": True, "channel": {"id": f"D{users}"}}

    def conversations_history(self, **_: Any) -> dict[str, Any]:
        return {"ok": True, "messages": [], "response_metadata": {}}

    def files_upload_v2(self, *, channel: str, **_: Any) -> dict[str, Any]:
        """A QBR draft's file, in its message's thread: not a message of its own."""
        return {"ok": True, "files": [{"id": "FREPLAY"}]}
