"""Renewal forecast: each renewal's odds and expected ARR, and the quarter's GRR and NRR.

- `renewals`: the renewal points in contract history and their outcomes (pure).
- `rates`: renewal odds and ARR change learned from history by segment and health band (pure).
- `simulate`: the portfolio's retention with an interval, by Monte Carlo over accounts (pure).
- `service`: reads the database and puts the pieces together (`forecast_renewals`).
- `backtest`: replays past quarters against what happened and a naive forecast.
"""
