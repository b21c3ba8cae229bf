"""What every listener needs, built once per bolt app: runtime, policy, playbook library.

Listeners get it through a closure at registration, so nothing reads globals and tests can
build two apps side by side.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

from sqlmodel import Session

from bot.runtime import Runtime
from bot.slack.permissions import Policy, policy_from_settings
from playbooks.library import load_library
from storage.clock import Clock
from storage.enums import MessageKind

if TYPE_CHECKING:
    from slack_sdk import WebClient


@dataclass(frozen=True)
class RenderContext:
    """What a renderer may need besides the database: the playbook library, the time, and
    since when people's actions count as new on this message."""

    library: Mapping[str, Any]
    now: dt.datetime
    since: dt.datetime


# (session, the row's stored subject, context) -> the message, or None: leave it as it is.
Renderer = Callable[[Session, Mapping[str, Any], RenderContext], dict[str, Any] | None]


@dataclass
class SlackDeps:
    runtime: Runtime
    policy: Policy = field(default_factory=Policy)
    # Given by the composition (`bot.app.bolt`): the renderer of each message kind, and how
    # to re-publish a user's App Home after a click made there.
    renderers: Mapping[MessageKind, Renderer] = field(default_factory=dict)
    home: Callable[[SlackDeps, WebClient, str], None] | None = None
    _locks: dict[str, threading.Lock] = field(default_factory=dict)
    _guard: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def build(
        cls,
        runtime: Runtime,
        renderers: Mapping[MessageKind, Renderer] | None = None,
        home: Callable[[SlackDeps, WebClient, str], None] | None = None,
    ) -> SlackDeps:
        return cls(
            runtime=runtime,
            policy=policy_from_settings(runtime.settings),
            renderers=dict(renderers or {}),
            home=home,
        )

    @property
    def clock(self) -> Clock:
        return self.runtime.clock

    @contextmanager
    def session(self) -> Iterator[Session]:
        with Session(self.runtime.engine, expire_on_commit=False) as session:
            yield session

    @cached_property
    def library(self) -> dict[str, Any]:
        """The playbook library, loaded on first use (built-ins plus CSBOT_PLAYBOOK_DIR)."""

        return load_library(self.runtime.settings.playbook_dir)

    @contextmanager
    def one_at_a_time(self, key: str) -> Iterator[None]:
        """Serialise this process's handling of one account, so a double click's two
        requests see each other's writes (the engine's conditional updates guard across
        processes)."""
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            yield
