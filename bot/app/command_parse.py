"""Parse the text after `/cs` into a typed command; pure, so every form is tested plainly.

Anything unknown or malformed becomes `Usage(problem=...)`, which renders as the help with
the problem named first — never an exception reaching Slack.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

DEFAULT_RENEWAL_DAYS = 90
MAX_RENEWAL_DAYS = 730

USAGE = [
    ("help", "this help"),
    ("account <name or id>", "an account's health card"),
    ("risk", "my accounts, riskiest first"),
    ("expansion", "my expansion candidates"),
    ("renewals [days]", f"my renewals in the next N days (default {DEFAULT_RENEWAL_DAYS})"),
    ("playbook list", "the playbook library"),
    ("playbook start <account> <playbook>", "start a playbook on an account"),
    ("playbook status <account>", "an account's playbook runs and steps"),
    ("my", "my open steps by due date"),
    ("digest", "post my digest now"),
    ("settings", "what reaches me and when: scope, delivery, digest time, quiet hours, away"),
    ("brief <account>", "an account brief before a conversation (only you see it; share it)"),
    ("qbr <account> [YYYY-MM-DD]", "a QBR draft in your DM with the Markdown file"),
]


@dataclass(frozen=True)
class Usage:
    problem: str | None = None


@dataclass(frozen=True)
class AccountCard:
    query: str


@dataclass(frozen=True)
class Book:
    kind: str  # "risk" | "expansion"


@dataclass(frozen=True)
class Renewals:
    days: int = DEFAULT_RENEWAL_DAYS


@dataclass(frozen=True)
class PlaybookList:
    pass


@dataclass(frozen=True)
class PlaybookStart:
    account: str
    playbook: str


@dataclass(frozen=True)
class PlaybookStatus:
    account: str


@dataclass(frozen=True)
class MySteps:
    pass


@dataclass(frozen=True)
class PostDigest:
    pass


@dataclass(frozen=True)
class OpenSettings:
    pass


@dataclass(frozen=True)
class AccountBrief:
    query: str


@dataclass(frozen=True)
class QbrDraftFor:
    query: str
    meeting: str | None = None  # YYYY-MM-DD; default: the next QBR on the calendar, else today


Command = (
    Usage
    | AccountCard
    | Book
    | Renewals
    | PlaybookList
    | PlaybookStart
    | PlaybookStatus
    | MySteps
    | PostDigest
    | OpenSettings
    | AccountBrief
    | QbrDraftFor
)


# A word is a quoted run ("Acme Corp", 'Macy's Inc', or Slack's curly “Acme Corp”) from a
# quote that opens a word to one that ends a word, or a run of non-space characters. A
# quote inside a word (Macy's, O'Brien) is part of it; a quote never closed is kept as typed.
_WORD = re.compile(r"""(?<!\S)(?:"(.+?)"|'(.+?)'|“(.+?)”|‘(.+?)’)(?!\S)|(\S+)""")


def split_words(text: str | None) -> list[str]:
    """`/cs` text → words; never fails (no "No closing quotation" for `account Macy's`)."""
    words = []
    for match in _WORD.finditer(text or ""):
        quoted = next((group for group in match.groups()[:4] if group is not None), None)
        words.append(quoted if quoted is not None else match.group(5))
    return [word for word in words if word]


def parse(text: str | None) -> Command:
    """`/cs` text → command. Quotes group words: `playbook start "Acme Corp" churn_save`."""
    words = split_words(text)
    if not words or words[0].lower() in ("help", "-h", "--help", "?"):
        return Usage()
    verb, rest = words[0].lower(), words[1:]
    if verb == "account":
        return AccountCard(" ".join(rest)) if rest else Usage("`account` needs a name or id")
    if verb in ("risk", "expansion"):
        return Book(verb) if not rest else Usage(f"`{verb}` takes no arguments")
    if verb == "renewals":
        return _renewals(rest)
    if verb == "playbook":
        return _playbook(rest)
    if verb == "my":
        return MySteps() if not rest else Usage("`my` takes no arguments")
    if verb == "digest":
        return PostDigest() if not rest else Usage("`digest` takes no arguments")
    if verb == "settings":
        return OpenSettings() if not rest else Usage("`settings` takes no arguments")
    if verb == "brief":
        return AccountBrief(" ".join(rest)) if rest else Usage("`brief` needs a name or id")
    if verb == "qbr":
        return _qbr(rest)
    return Usage(f"unknown command `{words[0]}`")


def _qbr(rest: list[str]) -> Command:
    if not rest:
        return Usage("`qbr` needs an account, e.g. `qbr Acme 2026-06-15`")
    if len(rest) > 1 and len(rest[-1]) == 10 and rest[-1][4] == "-" and rest[-1][7] == "-":
        try:
            dt.date.fromisoformat(rest[-1])
        except ValueError:
            return Usage(f"`{rest[-1]}` is not a date (YYYY-MM-DD)")
        return QbrDraftFor(" ".join(rest[:-1]), rest[-1])
    return QbrDraftFor(" ".join(rest))


def _renewals(rest: list[str]) -> Command:
    if not rest:
        return Renewals()
    if len(rest) > 1 or not rest[0].isdigit():
        return Usage("`renewals` takes a number of days, e.g. `renewals 60`")
    days = int(rest[0])
    if not 1 <= days <= MAX_RENEWAL_DAYS:
        return Usage(f"`renewals` days must be between 1 and {MAX_RENEWAL_DAYS}")
    return Renewals(days)


def _playbook(rest: list[str]) -> Command:
    if not rest:
        return Usage("`playbook` needs `list`, `start` or `status`")
    sub, args = rest[0].lower(), rest[1:]
    if sub == "list":
        return PlaybookList() if not args else Usage("`playbook list` takes no arguments")
    if sub == "start":
        if len(args) < 2:
            return Usage("`playbook start` needs an account and a playbook name")
        return PlaybookStart(account=" ".join(args[:-1]), playbook=args[-1])
    if sub == "status":
        return (
            PlaybookStatus(" ".join(args)) if args else Usage("`playbook status` needs an account")
        )
    return Usage(f"unknown playbook command `{rest[0]}`")
