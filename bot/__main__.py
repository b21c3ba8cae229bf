"""`python -m bot` is `csbot`."""

from bot.cli import main

main()
