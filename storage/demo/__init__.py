"""A realistic synthetic book of business, written in the import contract.

`generate_portfolio(out_dir, seed=..., accounts=..., end=..., months=...)` writes the
contract's CSV files (accounts, contracts, contacts, usage, tickets, surveys, touchpoints,
invoices, lifecycle) for the demo, the tests and the benchmarks. The same seed always
gives byte-identical files. `python -m storage.demo OUT_DIR` does the same from a shell.
"""

from storage.demo.columns import CONTRACT_COLUMNS, FILES
from storage.demo.generate import PortfolioSummary, generate_portfolio
from storage.demo.scenarios import SCENARIOS, Scenario
from storage.demo.vocab import ACCOUNT_LEVEL_FEATURES, ADVANCED_FEATURES, CORE_FEATURES

__all__ = [
    "ACCOUNT_LEVEL_FEATURES",
    "ADVANCED_FEATURES",
    "CONTRACT_COLUMNS",
    "CORE_FEATURES",
    "FILES",
    "PortfolioSummary",
    "SCENARIOS",
    "Scenario",
    "generate_portfolio",
]
