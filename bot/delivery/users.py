"""Account owners' emails → Slack users (id and time zone), cached in `slack_users`.

Order of authority: the operator's mapping file (`CSBOT_USER_MAPPING_FILE`, CSV
`email,slack_user_id[,tz]`) wins; then a fresh cached lookup; then Slack's
users.lookupByEmail (which also gives the user's tz). Users Slack does not know are cached
as `missing` for a day so 200 digests do not mean 200 failed lookups every 15 minutes.
"""

from __future__ import annotations

import csv
import datetime as dt
import threading
from dataclasses import dataclass
from pathlib import Path

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlmodel import Session

from bot.delivery.errors import classify
from bot.settings import load_settings
from storage.clock import Clock
from storage.models.delivery import SlackUser

LOOKUP_TTL = dt.timedelta(days=7)
MISSING_TTL = dt.timedelta(days=1)
NOT_FOUND_ERRORS = frozenset({"users_not_found", "user_not_found"})


class MappingFileError(ValueError):
    """A bad line in the user mapping file; the message names the file and line."""


@dataclass(frozen=True)
class MappedUser:
    user_id: str
    tz: str | None


_mapping_cache: dict[Path, tuple[float, dict[str, MappedUser]]] = {}
_mapping_lock = threading.Lock()


def load_mapping(path: Path) -> dict[str, MappedUser]:
    """Read `email,slack_user_id[,tz]` (a header row is optional); cached until the file changes."""
    import zoneinfo

    try:
        mtime = path.stat().st_mtime
    except OSError as error:
        raise MappingFileError(
            f"{path}: cannot read the user mapping file ({error.strerror})"
        ) from None
    with _mapping_lock:
        cached = _mapping_cache.get(path)
        if cached and cached[0] == mtime:
            return cached[1]
    mapping: dict[str, MappedUser] = {}
    with path.open(newline="", encoding="utf-8") as handle:
        for number, row in enumerate(csv.reader(handle), start=1):
            cells = [cell.strip() for cell in row]
            if not cells or not any(cells) or cells[0].startswith("#"):
                continue
            if number == 1 and cells[0].lower() == "email":
                continue
            if len(cells) < 2 or "@" not in cells[0] or not cells[1]:
                raise MappingFileError(
                    f"{path}, line {number}: expected email,slack_user_id[,tz], got {','.join(cells)!r}"
                )
            if cells[1][:1] not in ("U", "W"):
                raise MappingFileError(
                    f"{path}, line {number}: slack_user_id {cells[1]!r} should start with U or W"
                )
            tz = cells[2] if len(cells) > 2 and cells[2] else None
            if tz:
                try:
                    zoneinfo.ZoneInfo(tz)
                except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                    raise MappingFileError(
                        f"{path}, line {number}: unknown time zone {tz!r}"
                    ) from None
            mapping[cells[0].lower()] = MappedUser(cells[1], tz)
    with _mapping_lock:
        _mapping_cache[path] = (mtime, mapping)
    return mapping


def _configured_mapping_file() -> Path | None:
    return load_settings().user_mapping_file


def _fresh(user: SlackUser, now: dt.datetime) -> bool:
    ttl = MISSING_TTL if user.source == "missing" else LOOKUP_TTL
    return user.source == "mapping" or now - user.fetched_at < ttl


def _store(session: Session, email: str, **values: object) -> SlackUser:
    user = session.get(SlackUser, email)
    if user is None:
        user = SlackUser(email=email, **values)  # type: ignore[arg-type]
    else:
        for name, value in values.items():
            setattr(user, name, value)
    session.add(user)
    session.flush()
    return user


def _user_tz(client: WebClient, user_id: str) -> str | None:
    try:
        return client.users_info(user=user_id)["user"].get("tz")
    except SlackApiError as error:
        if (error.response.data or {}).get("error") in NOT_FOUND_ERRORS:
            return None
        raise classify(error) from error


def resolve_user(
    session: Session,
    client: WebClient | None,
    email: str,
    clock: Clock,
    *,
    mapping_file: Path | None | bool = True,
) -> SlackUser:
    """The Slack user for `email` (`user_id` None when Slack has no such user).

    `mapping_file=True` (the default) reads `CSBOT_USER_MAPPING_FILE`; pass a path, or
    None for no mapping. `client=None` works offline from the mapping and the cache.
    Raises `bot.delivery.errors.RateLimited`/`SlackUnavailable`/`TokenRevoked` when
    Slack cannot answer and nothing is cached. The caller commits.
    """
    key = email.strip().lower()
    now = clock.now()
    path = _configured_mapping_file() if mapping_file is True else mapping_file or None
    if isinstance(path, Path):
        mapped = load_mapping(path).get(key)
        if mapped is not None:
            cached = session.get(SlackUser, key)
            if (
                cached is not None
                and cached.source == "mapping"
                and cached.user_id == mapped.user_id
                and (cached.tz == mapped.tz or (mapped.tz is None and cached.tz))
            ):
                return cached
            tz = mapped.tz
            if tz is None and client is not None:
                tz = _user_tz(client, mapped.user_id)
            return _store(
                session, key, user_id=mapped.user_id, tz=tz, source="mapping", fetched_at=now
            )
    cached = session.get(SlackUser, key)
    if cached is not None and cached.source != "mapping" and _fresh(cached, now):
        return cached
    if client is None:
        return cached or SlackUser(email=key, user_id=None, source="missing", fetched_at=now)
    try:
        user = client.users_lookupByEmail(email=email.strip())["user"]
    except SlackApiError as error:
        if (error.response.data or {}).get("error") in NOT_FOUND_ERRORS:
            return _store(session, key, user_id=None, tz=None, source="missing", fetched_at=now)
        if cached is not None:
            return cached  # stale beats nothing while Slack is unavailable
        raise classify(error) from error
    except Exception as raw:
        if cached is not None:
            return cached
        raise classify(raw) from raw
    tz = user.get("tz") or (_user_tz(client, user["id"]) if user.get("id") else None)
    return _store(session, key, user_id=user["id"], tz=tz, source="lookup", fetched_at=now)


def user_time_zone(user: SlackUser | None, default: str) -> str:
    """The user's IANA time zone, or `default` (CSBOT_TIMEZONE) when unknown or invalid."""
    import zoneinfo

    if user is not None and user.tz:
        try:
            zoneinfo.ZoneInfo(user.tz)
            return user.tz
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            pass
    return default
