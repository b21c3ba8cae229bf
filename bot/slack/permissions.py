"""Who may change a playbook run or act on an account: its owner, their manager, an admin.

Pure: the policy is built once from settings (admins are Slack user ids; managers come
from a CSV of `csm_email,manager` where manager is an email or a Slack user id) and then
answers from plain values, so it is tested without Slack or a database.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from bot.settings import Settings
from bot.slack.errors import PermissionDenied


@dataclass(frozen=True)
class Policy:
    admins: frozenset[str] = frozenset()
    managers: Mapping[str, frozenset[str]] = field(default_factory=dict)

    def may_change(self, *, user_id: str, email: str | None, owners: Iterable[str | None]) -> bool:
        if user_id in self.admins:
            return True
        owned = {owner.lower() for owner in owners if owner}
        me = {user_id, (email or "").lower()} - {""}
        if owned & me:
            return True
        return any(me & self.managers.get(owner, frozenset()) for owner in owned)

    def check(
        self, *, user_id: str, email: str | None, owners: Iterable[str | None], what: str
    ) -> None:
        """Raise PermissionDenied (with who may) unless the caller may change `what`."""
        named = [owner for owner in owners if owner]
        if not self.may_change(user_id=user_id, email=email, owners=named):
            who = ", ".join(sorted(set(named))) or "nobody yet"
            raise PermissionDenied(
                f"Only the owner of {what} ({who}), their manager or a csbot admin can change it."
            )


def load_managers(path: Path | None) -> dict[str, frozenset[str]]:
    """`csm_email,manager` rows (a header row is allowed); a bad row names file and line."""
    if path is None:
        return {}
    managers: dict[str, set[str]] = {}
    with path.open(newline="", encoding="utf-8") as handle:
        for number, row in enumerate(csv.reader(handle), start=1):
            if not row or row[0].strip().startswith("#"):
                continue
            if len(row) < 2 or "@" not in row[0]:
                if number == 1:
                    continue  # header
                raise ValueError(f"{path}:{number}: expected 'csm_email,manager'")
            csm, manager = row[0].strip().lower(), row[1].strip()
            managers.setdefault(csm, set()).add(manager.lower() if "@" in manager else manager)
    return {csm: frozenset(found) for csm, found in managers.items()}


def policy_from_settings(settings: Settings) -> Policy:
    """Admins from CSBOT_ADMINS; managers from CSBOT_MANAGER_MAPPING_FILE when it exists."""
    return Policy(
        admins=frozenset(settings.admins), managers=load_managers(settings.manager_mapping_file)
    )
