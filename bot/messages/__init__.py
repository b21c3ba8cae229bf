"""Slack message layouts, one module per message kind, all built from slack_sdk.models blocks.

Every layout is a pure function of plain data (dataclasses from `bot.digest.model`, or
storage rows) and returns `{"text": …, "blocks": […]}` (or a view for the App Home), so the
same payload can be validated in tests (`bot.messages.limits.validate_message`), queued in
the outbox and re-rendered after a click.
"""
