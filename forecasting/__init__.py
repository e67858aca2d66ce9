"""Crossover: forecast cloud AI spend by sector and workload, and when inference overtakes training."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("crossover")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.1.0+source"
