"""What every listener needs, built once per bolt app: runtime, policy, playbook library.

Listeners get it through a closure at registration, so nothing reads globals and tests can
build two apps side by side.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from sqlmodel import Session

from bot.runtime import Runtime
from bot.slack.permissions import Policy, policy_from_settings
from storage.clock import Clock


@dataclass
class SlackDeps:
    runtime: Runtime
    policy: Policy = field(default_factory=Policy)
    _locks: dict[str, threading.Lock] = field(default_factory=dict)
    _guard: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def build(cls, runtime: Runtime) -> SlackDeps:
        return cls(runtime=runtime, policy=policy_from_settings(runtime.settings))

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
        from playbooks.library import load_library

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
