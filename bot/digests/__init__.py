"""Digests: each CSM's daily "accounts that need you", chosen, laid out and posted."""
