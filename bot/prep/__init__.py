"""Preparation in Slack: briefs, QBR drafts, drafts held for review, voice of the customer."""
