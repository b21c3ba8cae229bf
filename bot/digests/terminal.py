"""The digest in a terminal (rich): what `csbot demo` and `csbot digest` print.

Same content as the Slack digest — names, ARR, renewal, health and its 30-day change,
band, churn risk, the top reasons, the suggested playbook, the 12-week sparkline and the
expansion candidates — laid out for reading in a terminal.
"""

from __future__ import annotations

from rich.console import Console, Group
from rich.panel import Panel
from rich.text import Text

from bot.digests.messages import headline
from bot.digests.model import WHY_LABELS, Digest, DigestItem, ExpansionItem
from bot.slack.format import band_label, change, money, percent, playbook_title, renewal
from storage.enums import Band

BAND_STYLES: dict[str, str] = {
    Band.HEALTHY: "green",
    Band.NEUTRAL: "yellow",
    Band.AT_RISK: "dark_orange",
    Band.CRITICAL: "bold red",
}


def _change_text(delta: float | None) -> Text:
    moved = change(delta)
    if not moved:
        return Text("no 30-day history", style="dim")
    style = "red" if moved.startswith("↓") else "green" if moved.startswith("↑") else "dim"
    return Text(f"{moved} in 30 days", style=style)


def item_text(number: int, item: DigestItem, titles: dict[str, str]) -> Text:
    band_style = BAND_STYLES.get(item.band, "")
    text = Text()
    text.append(f"{number:>2}. ", style="dim")
    text.append("● ", style=band_style)
    text.append(item.name, style="bold")
    text.append(f"  {money(item.arr)} ARR")
    if item.days_to_renewal is not None:
        text.append(f" · {renewal(item.days_to_renewal)}")
    text.append("\n    Health ")
    text.append(f"{item.health:.0f} {band_label(item.band)}", style=band_style)
    text.append(" ")
    text.append_text(_change_text(item.health_delta_30d))
    text.append(f" · churn risk {percent(item.churn_risk)}")
    if item.sparkline:
        text.append("  ")
        text.append(item.sparkline, style="cyan")
    why = [WHY_LABELS.get(w, w) for w in item.why if w != item.band]  # the band is shown above
    if why:
        text.append("\n    " + " · ".join(why), style="italic dim")
    if item.disagreement:
        text.append(f"\n    ⚖ {item.disagreement}", style="yellow")
    for reason in item.reasons:
        text.append(f"\n    • {reason}")
    if item.suggested_playbooks:
        plays = ", ".join(playbook_title(n, titles) for n in item.suggested_playbooks[:3])
        text.append("\n    → Suggested: ", style="dim")
        text.append(plays, style="magenta")
    return text


def expansion_text(item: ExpansionItem) -> Text:
    text = Text("    ▲ ", style="green")
    text.append(item.name, style="bold")
    text.append(
        f"  {money(item.arr)} ARR · expansion {percent(item.expansion)} · health {item.health:.0f}"
    )
    if item.days_to_renewal is not None:
        text.append(f" · {renewal(item.days_to_renewal)}")
    for signal in item.signals:
        text.append(f"\n      • {signal}")
    return text


def digest_renderable(digest: Digest) -> Panel:
    titles = {choice.name: choice.title for choice in digest.playbooks}
    parts: list[Text] = []
    for number, item in enumerate(digest.items, start=1):
        parts.append(item_text(number, item, titles))
    if not digest.items:
        parts.append(Text("Nothing needs you today.", style="green"))
    if digest.hidden:
        parts.append(Text(f"    {digest.hidden} more — see the App Home", style="dim"))
    if digest.expansion:
        parts.append(Text(f"Expansion candidates ({digest.total_expansion})", style="bold green"))
        parts.extend(expansion_text(item) for item in digest.expansion)
    body: list[Text] = []
    for part in parts:
        body.extend([part, Text("")])
    return Panel(
        Group(*body[:-1]),
        title=f"[bold]{digest.owner}[/] — {headline(digest)}",
        subtitle=(
            f"as of {digest.as_of} · {digest.accounts_in_book} "
            f"account{'s' if digest.accounts_in_book != 1 else ''} in book"
        ),
        title_align="left",
        subtitle_align="right",
    )


def print_digest(digest: Digest, console: Console) -> None:
    """Print one CSM's digest."""
    console.print(digest_renderable(digest))
