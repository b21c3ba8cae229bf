"""A person's own settings modal (App Home "Settings" button and `/cs settings`): scope,
delivery, digest time and days, quiet hours (in their Slack time zone), away until a date
with a named cover. `parse_submission` is pure and names the field of any bad value;
`save_prefs` writes the `person_prefs` row.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from slack_sdk.models.blocks import (
    CheckboxesElement,
    ContextBlock,
    DatePickerElement,
    InputBlock,
    MarkdownTextObject,
    Option,
    StaticSelectElement,
    TimePickerElement,
    UserSelectElement,
)
from slack_sdk.models.views import View
from sqlmodel import Session

from bot.delivery.prefs import Prefs
from bot.hours import DAY_NAMES, format_days
from bot.slack.ids import CallbackId
from storage.enums import Delivery, Scope
from storage.models.noise import PersonPrefs

SCOPE = ("prefs-scope", "prefs-scope-input")
DELIVERY = ("prefs-delivery", "prefs-delivery-input")
DIGEST_TIME = ("prefs-digest-time", "prefs-digest-time-input")
DAYS = ("prefs-days", "prefs-days-input")
QUIET_START = ("prefs-quiet-start", "prefs-quiet-start-input")
QUIET_END = ("prefs-quiet-end", "prefs-quiet-end-input")
AWAY = ("prefs-away", "prefs-away-input")
COVER = ("prefs-cover", "prefs-cover-input")

SCOPE_LABELS: dict[str, str] = {
    Scope.MINE: "My accounts",
    Scope.TEAM: "My team's (managers)",
    Scope.ALL: "All (leaders)",
}
DELIVERY_LABELS: dict[str, str] = {
    Delivery.DIGEST: "Digest only",
    Delivery.CRITICAL: "Digest plus critical alerts",
    Delivery.EVERYTHING: "Everything (within the daily budget)",
}
DAY_LABELS = dict(zip(DAY_NAMES, ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"), strict=True))


class PrefsError(ValueError):
    """A bad submission; `field` is the input block to flag in the modal."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def _options(labels: dict[str, str]) -> list[Option]:
    return [Option(text=text, value=value) for value, text in labels.items()]


def _chosen(labels: dict[str, str], value: str) -> Option:
    return Option(text=labels[value], value=value)


def _quiet_picker(field: tuple[str, str], label: str, at: dt.time | None) -> InputBlock:
    """One end of the quiet hours: an optional time picker, empty when none is set."""
    return InputBlock(
        block_id=field[0],
        label=label,
        optional=True,
        element=TimePickerElement(
            action_id=field[1], initial_time=at.strftime("%H:%M") if at is not None else None
        ),
    )


def prefs_modal(
    prefs: Prefs, *, tz: str, scopes: tuple[str, ...], cover_user: str | None
) -> dict[str, Any]:
    """The modal, filled with the person's current settings. `scopes` are the ones they may
    choose (team for managers, all for admins)."""
    scope_labels = {s: SCOPE_LABELS[s] for s in scopes}
    days = [
        Option(text=DAY_LABELS[DAY_NAMES[d]], value=DAY_NAMES[d]) for d in sorted(prefs.digest_days)
    ]
    quiet = prefs.quiet
    blocks: list[Any] = [
        ContextBlock(
            elements=[MarkdownTextObject(text=f"Times are in your Slack time zone, *{tz}*.")]
        ),
        InputBlock(
            block_id=SCOPE[0],
            label="Accounts in my digest",
            element=StaticSelectElement(
                action_id=SCOPE[1],
                options=_options(scope_labels),
                initial_option=_chosen(
                    scope_labels, prefs.scope if prefs.scope in scopes else Scope.MINE
                ),
            ),
        ),
        InputBlock(
            block_id=DELIVERY[0],
            label="What reaches me",
            element=StaticSelectElement(
                action_id=DELIVERY[1],
                options=_options(DELIVERY_LABELS),
                initial_option=_chosen(DELIVERY_LABELS, prefs.delivery),
            ),
        ),
        InputBlock(
            block_id=DIGEST_TIME[0],
            label="Digest time",
            element=TimePickerElement(
                action_id=DIGEST_TIME[1], initial_time=prefs.digest_time.strftime("%H:%M")
            ),
        ),
        InputBlock(
            block_id=DAYS[0],
            label="Digest days",
            element=CheckboxesElement(
                action_id=DAYS[1],
                options=[Option(text=DAY_LABELS[name], value=name) for name in DAY_NAMES],
                initial_options=days or None,
            ),
        ),
        _quiet_picker(QUIET_START, "Quiet from", quiet[0] if quiet else None),
        _quiet_picker(QUIET_END, "Quiet until", quiet[1] if quiet else None),
        InputBlock(
            block_id=AWAY[0],
            label="Away until (inclusive)",
            optional=True,
            element=DatePickerElement(
                action_id=AWAY[1],
                initial_date=prefs.away_until.isoformat() if prefs.away_until else None,
            ),
        ),
        InputBlock(
            block_id=COVER[0],
            label="Cover while I am away (gets my accounts in their digest)",
            optional=True,
            element=UserSelectElement(action_id=COVER[1], initial_user=cover_user),
        ),
    ]
    return View(
        type="modal",
        callback_id=CallbackId.PERSON_SETTINGS,
        title="My csbot settings",
        submit="Save",
        close="Cancel",
        blocks=blocks,
    ).to_dict()


def _state(body: dict[str, Any], field: tuple[str, str]) -> dict[str, Any]:
    values = ((body.get("view") or {}).get("state") or {}).get("values") or {}
    return (values.get(field[0]) or {}).get(field[1]) or {}


def parse_submission(
    body: dict[str, Any], *, scopes: tuple[str, ...], today: dt.date
) -> dict[str, Any]:
    """Pure: the submitted modal → PersonPrefs column values (cover is a Slack user id)."""
    scope = (_state(body, SCOPE).get("selected_option") or {}).get("value") or Scope.MINE
    if scope not in scopes:
        raise PrefsError(
            SCOPE[0], f"“{SCOPE_LABELS.get(scope, scope)}” is for managers and leaders"
        )
    delivery = (_state(body, DELIVERY).get("selected_option") or {}).get(
        "value"
    ) or Delivery.CRITICAL
    if delivery not in DELIVERY_LABELS:
        raise PrefsError(DELIVERY[0], "Choose what reaches you")
    digest_time = _state(body, DIGEST_TIME).get("selected_time")
    chosen = [o.get("value") for o in _state(body, DAYS).get("selected_options") or []]
    if not chosen:
        raise PrefsError(DAYS[0], "Choose at least one day")
    start = _state(body, QUIET_START).get("selected_time")
    end = _state(body, QUIET_END).get("selected_time")
    if bool(start) != bool(end):
        raise PrefsError(
            QUIET_END[0] if start else QUIET_START[0],
            "Give both ends of your quiet hours, or neither",
        )
    if start and start == end:
        raise PrefsError(QUIET_END[0], "Quiet hours must end at another time than they start")
    away_text = _state(body, AWAY).get("selected_date")
    away = dt.date.fromisoformat(away_text) if away_text else None
    if away is not None and away < today:
        raise PrefsError(AWAY[0], "That date has passed")
    cover = _state(body, COVER).get("selected_user")
    if away is not None and not cover:
        raise PrefsError(COVER[0], "Name who covers your accounts while you are away")
    return {
        "scope": scope,
        "delivery": delivery,
        "digest_time": digest_time,
        "digest_days": format_days(frozenset(DAY_NAMES.index(day) for day in chosen)),
        "quiet_start": start or "",  # "" means: no quiet hours (None: the default)
        "quiet_end": end or "",
        "away_until": away,
        "cover": cover,
    }


def save_prefs(
    session: Session, *, user_id: str, email: str | None, values: dict[str, Any], now: dt.datetime
) -> PersonPrefs:
    """Create or update the person's row; `values["cover"]` must be an email by now. The
    caller commits."""
    row = session.get(PersonPrefs, user_id) or PersonPrefs(user_id=user_id, updated_at=now)
    row.email = email.lower() if email else row.email
    for name, value in values.items():
        setattr(row, name, value)
    row.updated_at = now
    session.add(row)
    session.flush()
    return row
