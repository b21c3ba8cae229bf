"""`csbot voc`: voice-of-the-customer themes (filled in below)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add `csbot voc` to the csbot app (defined with the VoC module)."""
