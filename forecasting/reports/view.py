"""A *view*: one stored run under one scenario at one crossover threshold, the input of every report.

The CLI, the dashboard and the exports build a :class:`View` and read tables off it, so a number
is computed by one function whichever face shows it.  A view applies its scenario to the run's
sample paths once (with :data:`~forecasting.scenario.SCENARIO_SEED`, so the same scenario always
gives the same numbers) and estimates the crossovers once.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from .. import vintages
from ..crossover import Crossover, check_threshold, crossover_distribution
from ..paths import SamplePaths
from ..scenario import BASELINE, Scenario, paths_under
from ..scenario_store import load_scenario


@dataclass(frozen=True, eq=False)
class View:
    """A run read under ``scenario``, with crossovers when inference reaches ``threshold`` x training."""

    run: vintages.RunData
    scenario: Scenario
    threshold: float = 1.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "threshold", check_threshold(self.threshold))

    @property
    def is_baseline(self) -> bool:
        """True when the scenario moves no driver: the run's own paths."""
        return not any(self.scenario.values.values())

    @cached_property
    def paths(self) -> SamplePaths:
        """The run's sample paths under the scenario (``ValueError`` if the run has none)."""
        return paths_under(self.run.require_paths(), self.scenario)

    @cached_property
    def crossovers(self) -> dict[str, Crossover]:
        """Crossover distribution per sector and for the total, under the scenario and threshold."""
        return crossover_distribution(self.paths, threshold=self.threshold)

    def at(self, scenario: Scenario) -> View:
        """The same run and threshold under another scenario (the run is not reloaded)."""
        return View(self.run, scenario, self.threshold)


def open_view(db: Path, run_id: str = vintages.LATEST, scenario: str = BASELINE, threshold: float = 1.0) -> View:
    """Load run ``run_id`` (or the latest) and the saved scenario ``scenario`` into a :class:`View`."""
    threshold = check_threshold(threshold)
    return View(vintages.load_run(Path(db), run_id), load_scenario(Path(db), scenario), threshold)
