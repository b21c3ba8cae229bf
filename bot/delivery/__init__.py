"""Delivery to Slack: the outbox every message passes through, its sender, user lookups.

Nothing posts to Slack directly: callers `enqueue` a message under an idempotency key and
the sender delivers it, so a restart, a retry or a second replica never posts it twice.
"""
