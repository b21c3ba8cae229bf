"""Whose accounts each person's digest covers: their scope, and the people they cover for.

- scope "mine": the accounts the person owns;
- scope "team": theirs plus those of the CSMs who report to them (CSBOT_MANAGER_MAPPING_FILE,
  matched by the manager's email or Slack id);
- scope "all": every owned account (for leaders);
- and, whatever the scope, the accounts of anyone away today who named them as cover.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping

from bot.delivery.prefs import Prefs
from storage.enums import Scope


def audiences(
    people: Mapping[str, Prefs],
    owners: Iterable[str],
    managers: Mapping[str, frozenset[str]],
    user_ids: Mapping[str, str | None],
    day_of: Mapping[str, dt.date],
) -> dict[str, set[str]]:
    """Pure: viewer email → owner emails their digest covers, for each viewer in `day_of`
    (the people whose digest is due, with their local date). `people` holds the stored
    preferences by email (missing: defaults); `user_ids` maps emails to Slack ids."""
    all_owners = {owner.lower() for owner in owners}
    covers: dict[str, set[str]] = {}
    for email, prefs in people.items():
        if prefs.cover and prefs.away_until is not None:
            covers.setdefault(prefs.cover.lower(), set()).add(email.lower())
    result: dict[str, set[str]] = {}
    for viewer, day in day_of.items():
        me = viewer.lower()
        prefs = people.get(me, Prefs())
        covered = {me} & all_owners
        if prefs.scope == Scope.ALL:
            covered = set(all_owners)
        elif prefs.scope == Scope.TEAM:
            names = {me, (user_ids.get(me) or "").lower()} - {""}
            covered |= {
                csm for csm, bosses in managers.items() if names & {b.lower() for b in bosses}
            }
            covered &= all_owners
        for away in covers.get(me, set()):
            if people[away].away_on(day):
                covered |= {away} & all_owners
        if covered:
            result[me] = covered
    return result
