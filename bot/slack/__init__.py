"""The Slack core every domain stands on: building the bolt app (`app`), the middleware that
parses a click once, typed errors, action and callback ids, who is clicking (`identity`),
who may act (`permissions`), Block Kit pieces (`blocks`), text formatting and escaping
(`format`), Slack's limits, and answering after an interaction (`replies`).

Nothing here knows a digest, an account or a playbook: those are the domains above
(`bot.digests`, `bot.accounts`, `bot.plays`, …), composed into one app by `bot.app`.
"""
