"""Persistence for csbot: SQLModel tables, engines and sessions, migrations, data import.

The bottom layer: nothing here imports `scoring`, `playbooks` or `bot`.
"""
