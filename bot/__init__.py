"""The Slack app, scheduler jobs, delivery, CLI and settings: the only package that imports Slack."""
