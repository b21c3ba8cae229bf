"""The leaders' portfolio summary: health distribution, retention, band changes, plays."""
