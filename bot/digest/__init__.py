"""The read side of the Slack surface: who needs to hear about which accounts today.

`select` builds each CSM's digest from stored scores (pure ranking separate from the
query), `cards`, `home` and `leaders` load what the other message kinds show, and `post`
queues digests in the outbox.
"""
