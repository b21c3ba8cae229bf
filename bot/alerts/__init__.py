"""Alerts: an account crossed a risk or expansion threshold; tell its owner once.

`detect` holds the pure rules (which states deserve an alert); `service` remembers what was
already said in the `alerts` table and queues messages in the outbox.
"""
