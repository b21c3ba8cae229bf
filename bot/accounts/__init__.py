"""Accounts: the health card, a CSM's book, renewals, and the account buttons (snooze,
not a risk, assign, details)."""
