"""`python -m forecasting` runs the command-line interface."""

from .cli import main

main()
