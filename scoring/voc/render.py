"""The VoC report as Slack mrkdwn text: every verbatim and label escaped (& < >)."""

from __future__ import annotations

from scoring.voc.service import VocReport


def escape_mrkdwn(text: str) -> str:
    """Slack's three control characters, so customer text cannot mention or link."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def report_mrkdwn(report: VocReport, limit: int = 8) -> str:
    lines = [f"*Voice of the customer* {report.start} – {report.end}: {report.documents} comments"]
    for view in report.themes[:limit]:
        t = view.theme
        trend = "new" if t.trend is None else f"{t.trend:+.0%}"
        owner = f" · owner {escape_mrkdwn(view.owner)}" if view.owner else ""
        lines.append(
            f"\n*{escape_mrkdwn(t.label)}* — {t.volume} ({trend} vs before), tone {t.tone:+.2f}, "
            f"{len(t.accounts)} accounts, ARR {view.arr:,.0f}{owner}"
        )
        lines += [f"> {escape_mrkdwn(example)}" for example in t.examples]
    return "\n".join(lines)
