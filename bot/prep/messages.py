"""How preparation looks in Slack: the account brief, the QBR draft message, the drafts
held for review, the weekly voice-of-the-customer post. Pure: data in, Block Kit out.

Every text that came from people or imported data (account and contact names, verbatims,
ticket subjects, email drafts, theme labels) is escaped for mrkdwn, so a customer's words
cannot mention a channel or render a link; every payload is built from `slack_sdk.models`
objects and stays under Slack's 50 blocks.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    SectionBlock,
    UserSelectElement,
)

from bot.delivery.limits import MAX_HEADER_TEXT, MAX_SECTION_TEXT
from bot.slack.blocks import button, mrkdwn, payload
from bot.slack.format import band_emoji, band_label, escape, money, percent, truncate, who
from bot.slack.ids import ActionId, ButtonValue
from playbooks.prep.brief import ROLE_ORDER, Brief
from playbooks.prep.facts import tone_word

MAX_PEOPLE = 8
MAX_TICKETS = 5
MAX_VERBATIMS = 3
MAX_STEPS = 6
MAX_DRAFTS = 10  # four blocks each: 40 + header and context stay under 50
MAX_THEMES = 8  # three blocks each
DRAFT_PREVIEW = 600


def _section(text: str) -> SectionBlock:
    return SectionBlock(text=mrkdwn(truncate(text, MAX_SECTION_TEXT)))


def _context(text: str) -> ContextBlock:
    return ContextBlock(elements=[mrkdwn(truncate(text, MAX_SECTION_TEXT))])


def _num(value: Any, digits: int = 0) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return "–"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return str(value)


def _ratio(value: Any) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return "–"
    return percent(float(value))


def _signed(value: float | None) -> str:
    return "–" if value is None else f"{value:+.0f}"


def _role(role: str | None) -> str:
    return (role or "contact").replace("_", " ")


# -- the account brief ---------------------------------------------------------------------
def brief_blocks(brief: Brief) -> list[Block]:
    """The brief's sections (no buttons): health, usage, people, support, surveys, renewal,
    playbooks, expansion, next steps. About 12 blocks whatever the account's history."""
    f, s, fc = brief.facts, brief.facts.score, brief.forecast
    name = escape(f.name)
    blocks: list[Block] = [
        HeaderBlock(text=truncate(f"Brief: {f.name}", MAX_HEADER_TEXT)),
        _context(
            f"{escape(f.segment or 'no segment')} · owner {who(f.owner)} · as of {f.as_of}"
            + ("" if f.score_stored else " · score computed now (not stored)")
        ),
    ]
    health = (
        f"*Health* {band_emoji(s.band)} *{s.health:.0f}* ({band_label(s.band)}), {s.direction}; "
        f"{_signed(s.health_delta_7d)} in 7 days, {_signed(s.health_delta_30d)} in 30 days; "
        f"churn risk {_ratio(s.churn_risk)}"
    )
    reasons = [r for r in s.reasons if r.get("impact", 0) < 0][:3]
    reasons += [r for r in s.reasons if r.get("impact", 0) > 0][:2]
    lines = [
        f"{'↓' if r.get('impact', 0) < 0 else '↑'} {escape(str(r.get('text', '')))}"
        for r in reasons
    ]
    blocks.append(_section("\n".join([health, *lines])))
    sig = f.signals
    blocks.append(
        _section(
            "*Usage and adoption*\n"
            f"Logins {_num(sig.get('logins_30d'))} in 30 days against its own baseline of "
            f"{_num(sig.get('logins_baseline_30d'))}\n"
            f"Active users {_num(sig.get('active_users_30d'))} of {_num(sig.get('seats'))} "
            f"licences ({_ratio(sig.get('license_utilisation'))})\n"
            f"Features used {_num(sig.get('feature_breadth_30d'))}; advanced features "
            f"{_ratio(sig.get('advanced_feature_adoption'))}"
        )
    )
    people = sorted(
        f.people, key=lambda p: ROLE_ORDER.index(p.role) if p.role in ROLE_ORDER else 99
    )
    person_lines = []
    for p in people[:MAX_PEOPLE]:
        if p.left_at is not None:
            state = f"left {p.left_at}"
        elif p.last_active is None:
            state = "no activity in a year"
        else:
            state = f"last active {p.last_active}" + (
                f" · *silent {p.silent_days} days*" if p.silent else ""
            )
        person_lines.append(f"• {_role(p.role)}: {escape(p.name or p.contact_id)} — {state}")
    if len(people) > MAX_PEOPLE:
        person_lines.append(f"…and {len(people) - MAX_PEOPLE} more")
    blocks.append(_section("*Stakeholders*\n" + ("\n".join(person_lines) or "No contacts.")))
    support = [
        f"*Support* {f.tickets_90d} tickets in 90 days, {len(f.open_tickets)} open; "
        f"CSAT {_num(sig.get('csat_avg'), 1)}"
    ]
    support += [
        f"• {escape(t.ticket_id)} ({escape(t.priority or 'normal')}, {t.age_days} days, "
        f"{tone_word(t.tone)}): {escape(t.subject)}"
        for t in f.open_tickets[:MAX_TICKETS]
    ]
    blocks.append(_section("\n".join(support)))
    surveys = ["*Surveys*"]
    for kind, scores in sorted(f.survey_scores.items()):
        surveys.append(
            f"{escape(kind.upper())}: latest {scores[0]:.0f}, mean "
            f"{sum(scores) / len(scores):.1f} over {len(scores)} in a year"
        )
    surveys += [
        f"> {escape(v.comment)} — {escape(v.kind.upper())} {v.score:.0f}, {v.submitted_at}"
        for v in f.verbatims[:MAX_VERBATIMS]
    ]
    blocks.append(_section("\n".join(surveys) if len(surveys) > 1 else "*Surveys* none in a year"))
    renewal = f"*Renewal* ARR {money(s.arr)}; renews {s.renewal_date or '–'}"
    if s.renewal_date:
        renewal += f" ({(s.renewal_date - f.as_of).days} days)"
    if fc is not None:
        renewal += (
            f"\nForecast {fc.p_renew:.0%} likely to renew ({escape(fc.source)}); expected "
            f"renewal ARR {money(fc.expected_arr)} (expansion {money(fc.expected_expansion)}, "
            f"contraction {money(fc.expected_contraction)}, churn {money(fc.expected_churn)})"
        )
    else:
        renewal += "\nNo renewal in the next 180 days."
    blocks.append(_section(renewal))
    runs = [
        f"• {escape(r.title or r.playbook)} (since {r.started_at}): "
        + (f"last done {escape(r.last_done)}" if r.last_done else "nothing done yet")
        + (f"; next {escape(r.next_open)} due {r.next_due}" if r.next_open else "; no open steps")
        for r in f.runs[:MAX_STEPS]
    ]
    blocks.append(_section("*Playbooks*\n" + ("\n".join(runs) or "No active playbook runs.")))
    expansion = [f"*Expansion* score {s.expansion:.2f}"]
    expansion += [f"• {escape(str(r.get('text', '')))}" for r in (s.expansion_reasons or [])[:3]]
    blocks.append(_section("\n".join(expansion)))
    steps = [f"{i}. {escape(step)}" for i, step in enumerate(brief.next_steps[:MAX_STEPS], 1)]
    blocks.append(_section("*Suggested next steps*\n" + ("\n".join(steps) or "Nothing pressing.")))
    blocks.append(
        _context(
            f"{len(brief.figures)} figures, each from csbot's database · "
            f"`csbot brief {escape(f.account_id)} --format json` lists every source · {name}"
        )
    )
    return blocks


def brief_message(
    brief: Brief, *, share: ButtonValue | None = None, shared_by: str | None = None
) -> dict[str, Any]:
    """The brief as a message: with a "Share in channel" button when `share` is given (the
    ephemeral answer to `/cs brief`), or saying who shared it (the channel copy)."""
    blocks = brief_blocks(brief)
    if share is not None:
        blocks.append(
            ActionsBlock(elements=[button("Share in channel", ActionId.BRIEF_SHARE, share)])
        )
    if shared_by:
        blocks.append(_context(f"Shared by {who(shared_by)}"))
    f = brief.facts
    text = f"Brief: {escape(f.name)} — health {f.score.health:.0f} ({band_label(f.score.band)})"
    return payload(text, blocks)


# -- the QBR draft -------------------------------------------------------------------------
@dataclass(frozen=True)
class QbrView:
    """What the QBR message shows: the stored draft and, once held, its log."""

    draft_id: int
    account_id: str
    account_name: str
    meeting: dt.date
    figures: int
    markdown: str
    logged_by: str | None = None
    logged_at: dt.datetime | None = None
    actions: int = 0


def qbr_filename(view: QbrView) -> str:
    safe = "".join(c if c.isalnum() or c in "-_" else "-" for c in view.account_id)
    return f"qbr-{safe}-{view.meeting.isoformat()}.md"


def qbr_message(view: QbrView, mention: str | None = None) -> dict[str, Any]:
    """The QBR draft for its CSM: the four sections' headings, the file in the thread, and
    "Log QBR" until the meeting is logged."""
    name = escape(view.account_name)
    headings = [line[3:] for line in view.markdown.splitlines() if line.startswith("## ")]
    lead = f"{who(mention)} " if mention else ""
    blocks: list[Block] = [
        HeaderBlock(text=truncate(f"QBR draft: {view.account_name}", MAX_HEADER_TEXT)),
        _section(
            f"{lead}The QBR with *{name}* is on *{view.meeting:%a %b %d}*. A draft is in the "
            f"thread as a Markdown file ({view.figures} figures, each from csbot's data):\n"
            + "\n".join(f"• {escape(h)}" for h in headings[:6])
        ),
    ]
    if view.logged_by:
        blocks.append(
            _context(
                f"✅ Logged by {who(view.logged_by)} {view.logged_at:%b %d}: "
                f"{view.actions} action item{'s' if view.actions != 1 else ''} became steps"
                if view.logged_at
                else f"✅ Logged by {who(view.logged_by)}"
            )
        )
    else:
        value = ButtonValue(account_id=view.account_id, as_of=view.meeting.isoformat(),
                            option=str(view.draft_id))  # fmt: skip
        blocks.append(
            ActionsBlock(elements=[button("Log QBR", ActionId.QBR_LOG, value, "primary")])
        )
        blocks.append(
            _context("After the meeting: log its outcomes and action items (owners, due dates).")
        )
    text = f"QBR draft for {name} ({view.meeting:%b %d})"
    return payload(text, blocks)


# -- drafts held for review ------------------------------------------------------------------
@dataclass(frozen=True)
class DraftView:
    draft_id: int
    account_id: str
    account_name: str
    subject: str
    body: str
    status: str
    written_by: str
    edited_by: str | None = None
    reviewed_by: str | None = None
    sent_by: str | None = None
    sent_at: dt.datetime | None = None


def drafts_message(drafts: Sequence[DraftView], mention: str | None = None) -> dict[str, Any]:
    """Emails playbook steps propose, for the CSM to edit and send from their own mail;
    csbot never sends them. Edit and Mark sent while a draft is open; who sent it after."""
    shown = list(drafts)[:MAX_DRAFTS]
    lead = f"{who(mention)} " if mention else ""
    open_count = sum(1 for d in drafts if d.status == "draft")
    blocks: list[Block] = [
        _section(
            f"{lead}*{open_count} email draft{'s' if open_count != 1 else ''} to review* — "
            "csbot never sends them: edit, send from your own mail, then mark sent."
        )
    ]
    for d in shown:
        blocks.append(DividerBlock())
        body = truncate(d.body, DRAFT_PREVIEW)
        quoted = "\n".join(f"> {escape(line)}" if line else ">" for line in body.splitlines())
        blocks.append(
            _section(f"*{escape(d.account_name)}* · {escape(d.subject)}\n{quoted or '> (empty)'}")
        )
        value = ButtonValue(account_id=d.account_id, option=str(d.draft_id))
        if d.status == "draft":
            blocks.append(
                ActionsBlock(
                    elements=[
                        button("Edit", ActionId.DRAFT_EDIT, value),
                        button("Mark sent", ActionId.DRAFT_SENT, value, "primary"),
                    ]
                )
            )
            note = f"written by {escape(d.written_by)}"
            if d.edited_by:
                note += f" · edited by {who(d.edited_by)}"
            blocks.append(_context(note))
        elif d.status == "sent":
            sent = f" {d.sent_at:%b %d %H:%M} UTC" if d.sent_at else ""
            blocks.append(
                _context(
                    f"✉️ Sent by {who(d.sent_by)}{sent} · reviewed by {who(d.reviewed_by)} · "
                    "logged as a touchpoint"
                )  # fmt: skip
            )
        else:
            blocks.append(_context(f"{escape(d.status)} by {who(d.reviewed_by)}"))
    if len(drafts) > MAX_DRAFTS:
        blocks.append(_context(f"…and {len(drafts) - MAX_DRAFTS} more in the next message."))
    text = f"{open_count} email draft{'s' if open_count != 1 else ''} to review"
    return payload(text, blocks)


# -- voice of the customer --------------------------------------------------------------------
def voc_message(report: Mapping[str, Any], owners: Mapping[str, str]) -> dict[str, Any]:
    """The week's themes (`VocReport.to_json()`), each with its owner (routed terms in
    `owners`) and a "Route to…" picker; every label and verbatim escaped."""
    themes = list(report.get("themes") or [])[:MAX_THEMES]
    blocks: list[Block] = [
        HeaderBlock(text="Voice of the customer"),
        _context(
            f"{report['from']} – {report['to']} · {report['documents']} survey comments and "
            "ticket subjects, grouped into themes"
        ),
    ]
    routed: set[str] = set()
    for theme in themes:
        trend = theme.get("trend")
        trend_text = "new" if trend is None else f"{trend:+.0%} vs the period before"
        owner = _owner(theme.get("terms") or [], owners) or theme.get("owner")
        tiers = ", ".join(
            f"{escape(k)} {money(v)}" for k, v in (theme.get("arr_by_tier") or {}).items()
        )
        examples = "\n".join(f"> {escape(str(e))}" for e in (theme.get("examples") or [])[:3])
        blocks.append(
            _section(
                f"*{escape(str(theme['label']))}* — {theme['volume']} ({trend_text}), tone "
                f"{theme['tone']:+.2f}, {theme['accounts']} accounts, ARR {money(theme['arr'])}"
                + (f" ({tiers})" if tiers else "")
                + (f"\nOwner: {who(owner)}" if owner else "")
                + (f"\n{examples}" if examples else "")
            )
        )
        term = str((theme.get("terms") or [theme["label"]])[0])[:64]
        if term in routed:  # one picker a term (block ids are unique in a message)
            continue
        routed.add(term)
        blocks.append(
            ActionsBlock(
                block_id=ButtonValue(option=term).encode()[:255],
                elements=[UserSelectElement(action_id=ActionId.VOC_ROUTE, placeholder="Route to…")],
            )
        )
    if not themes:
        blocks.append(_section("No survey comments or ticket subjects in the period."))
    text = f"Voice of the customer {report['from']} – {report['to']}: {len(themes)} themes"
    return payload(text, blocks)


def _owner(terms: Sequence[str], owners: Mapping[str, str]) -> str | None:
    for term in terms:
        for word in [term, *str(term).split()]:
            if word in owners:
                return owners[word]
    return None
