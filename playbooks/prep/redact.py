"""Placeholders for people's names and emails before text leaves csbot, restored after.

A `Redactor` is built from the people csbot knows (contacts, the CSM); every email
address (known or not, by pattern) and every known full name — and, for a known person,
their first and last names on their own — become `[PERSON_n]` / `[EMAIL_n]`. Longer
strings are replaced first so "Ana Lima" never leaves as "[PERSON_1] Lima".
"""

from __future__ import annotations

import re
from collections.abc import Iterable

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
PLACEHOLDER = re.compile(r"\[(?:PERSON|EMAIL)_\d+\]")


class Redactor:
    def __init__(self, names: Iterable[str | None] = (), emails: Iterable[str | None] = ()):
        self._forward: dict[str, str] = {}
        self._back: dict[str, str] = {}
        unique = sorted({n.strip() for n in names if n and n.strip()}, key=len, reverse=True)
        for people, name in enumerate(unique, 1):
            token = f"[PERSON_{people}]"
            self._add(name, token)
            for part in name.split():
                if len(part) >= 3 and part not in self._forward:
                    self._forward[part] = token  # restores to the full name
        self._emails = 0
        for email in {e.strip() for e in emails if e and e.strip()}:
            self._email_token(email)
        self._pattern: re.Pattern[str] | None = None

    def _add(self, value: str, token: str) -> None:
        self._forward[value] = token
        self._back.setdefault(token, value)

    def _email_token(self, email: str) -> str:
        if email not in self._forward:
            self._emails += 1
            self._add(email, f"[EMAIL_{self._emails}]")
            self._pattern = None
        return self._forward[email]

    def _names(self) -> re.Pattern[str] | None:
        keys = [k for k in self._forward if "@" not in k]
        if not keys:
            return None
        if self._pattern is None:
            alternatives = "|".join(re.escape(k) for k in sorted(keys, key=len, reverse=True))
            self._pattern = re.compile(rf"\b(?:{alternatives})\b")
        return self._pattern

    def redact(self, text: str) -> str:
        text = EMAIL.sub(lambda m: self._email_token(m.group(0)), text)
        pattern = self._names()
        return pattern.sub(lambda m: self._forward[m.group(0)], text) if pattern else text

    def restore(self, text: str) -> str:
        return PLACEHOLDER.sub(lambda m: self._back.get(m.group(0), m.group(0)), text)

    def unknown_placeholders(self, text: str) -> list[str]:
        """Placeholders in `text` this redactor never issued (a model inventing one)."""
        return [m for m in PLACEHOLDER.findall(text) if m not in self._back]
