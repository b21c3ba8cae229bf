"""A fake Slack that also answers conversations.history with the messages it accepted.

The shared fake (tests/fakes/slack_server.py) answers unknown methods with `{"ok": true}`;
the sender's crash recovery reads history for its metadata key, so these tests need a
history. Messages appear once the fake has answered chat.postMessage (as in Slack).
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator
from typing import Any

from tests.fakes.slack_server import FakeSlack


class HistoryFakeSlack(FakeSlack):
    def __init__(self) -> None:
        super().__init__()
        self.posted: list[dict[str, Any]] = []
        self._history_lock = threading.Lock()

    def _answer(self, path: str, args: dict[str, Any], headers: dict[str, str]):
        status, body, extra = super()._answer(path, args, headers)
        method = path.removeprefix("/api/").strip("/")
        if method == "chat.postMessage" and status == 200 and body.get("ok"):
            with self._history_lock:
                self.posted.append(
                    {
                        "channel": args.get("channel"),
                        "ts": body["ts"],
                        "metadata": args.get("metadata"),
                    }
                )
        return status, body, extra

    def _ok(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        if method == "conversations.history":
            channel = str(args.get("channel"))
            aliases = {channel, "U" + channel[1:]} if channel.startswith("D") else {channel}
            with self._history_lock:
                messages = [
                    {"type": "message", "ts": post["ts"], "metadata": post["metadata"]}
                    for post in reversed(self.posted)
                    if post["channel"] in aliases
                ]
            return {"ok": True, "messages": messages, "has_more": False}
        return super()._ok(method, args)

    def stop(self) -> None:
        """Shut down without waiting out serve_forever's 0.5 s poll: a connection wakes it."""
        server = self._server
        if server is None:
            return
        stopper = threading.Thread(target=server.shutdown)
        stopper.start()
        while stopper.is_alive():
            with (
                contextlib.suppress(OSError),
                socket.create_connection(server.server_address[:2], timeout=0.2),
            ):
                pass
            stopper.join(0.01)
        server.server_close()

    def posts_by_key(self) -> dict[str, int]:
        """How many times each outbox key reached Slack as a posted message."""
        counts: dict[str, int] = {}
        with self._history_lock:
            for post in self.posted:
                key = ((post["metadata"] or {}).get("event_payload") or {}).get("key")
                counts[key] = counts.get(key, 0) + 1
        return counts


def running_history_slack() -> Iterator[HistoryFakeSlack]:
    """Body of the `history_slack` fixture each test module declares."""
    server = HistoryFakeSlack().start()
    yield server
    server.stop()
