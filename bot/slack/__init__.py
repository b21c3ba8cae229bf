"""csbot's Slack app: the bolt app, its listeners (the `/cs` command, buttons, modals, the
App Home) and the adapters that serve it over HTTP or Socket Mode.

Handlers stay thin: parse what Slack sent, call a service, render with `bot.messages` or
`bot.slack.render`, answer. Typed errors raised anywhere become one ephemeral line.
"""
