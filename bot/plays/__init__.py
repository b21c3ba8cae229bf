"""Playbooks in Slack: starting runs, their step messages and buttons, reminders and
escalations."""
