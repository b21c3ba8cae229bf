"""The Slack app composed from the domains: the bolt app with every domain's listeners
(`bolt`), the `/cs` command (`commands`, `command_parse`), buttons and modals (`actions`),
re-rendering the message a click came from (`refresh`), and Socket Mode (`socket`)."""
