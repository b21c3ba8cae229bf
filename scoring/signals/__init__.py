"""Signals: named, documented measurements of every account as of a date.

`compute_signals(engine, as_of, account_ids=None) -> SignalFrame` is the entry point;
`registry.SIGNALS` defines each signal (dimension, meaning, sentence).
"""

from scoring.signals.compute import compute_signals
from scoring.signals.frame import SignalFrame
from scoring.signals.registry import SIGNAL_NAMES, SIGNALS, SignalDef

__all__ = ["SIGNALS", "SIGNAL_NAMES", "SignalDef", "SignalFrame", "compute_signals"]
