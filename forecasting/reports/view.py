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
from ..config import TOTAL
from ..crossover import Crossover, check_threshold, crossover_distribution
from ..paths import SamplePaths
from ..scenario import BASELINE, Scenario, paths_under
from ..scenario_store import load_scenario
from ..share import DEFAULT_DEFINITION, DEFINITIONS

#: What ``--definition`` takes for "every definition the run answers".
ALL_DEFINITIONS = "all"


@dataclass(frozen=True, eq=False)
class View:
    """A run read under ``scenario``, with crossovers when inference reaches ``threshold`` x training."""

    run: vintages.RunData
    scenario: Scenario
    threshold: float = 1.0
    definition: str = DEFAULT_DEFINITION  # what the inference share measures (``share.DEFINITIONS``)
    all_definitions: bool = False  # tables that can (the crossover table) show every definition of the run

    def __post_init__(self) -> None:
        object.__setattr__(self, "threshold", check_threshold(self.threshold))
        if self.definition not in DEFINITIONS:
            raise ValueError(f"unknown definition '{self.definition}'; choose one of {list(DEFINITIONS)}")

    @property
    def is_baseline(self) -> bool:
        """True when the scenario moves no driver: the run's own paths."""
        return not any(self.scenario.values.values())

    @cached_property
    def paths(self) -> SamplePaths:
        """The run's sample paths under the scenario (``ValueError`` if the run has none)."""
        return paths_under(self.run.paths_for(self.definition), self.scenario)

    @cached_property
    def crossovers(self) -> dict[str, Crossover]:
        """Crossover distribution per sector and for the total, under the scenario and threshold."""
        return crossover_distribution(self.paths, threshold=self.threshold)

    def at(self, scenario: Scenario) -> View:
        """The same run, threshold and definition under another scenario (the run is not reloaded)."""
        return View(self.run, scenario, self.threshold, self.definition, self.all_definitions)

    def under(self, definition: str) -> View:
        """The same run, scenario and threshold under another definition."""
        return View(self.run, self.scenario, self.threshold, definition)

    @property
    def definitions(self) -> tuple[str, ...]:
        """The definitions a table of this view covers: the run's every one, or the chosen one."""
        return self.run.definitions if self.all_definitions else (self.definition,)

    def model_of(self, sector: str) -> str:
        """Which model made a sector's numbers: ``structural``, ``statistical``, or both for the total.

        ``naive fallback`` for a sector the engine forecast as a random walk (a series of under six
        quarters, or one no model could fit): its crossover odds rest on that walk's spread.
        """
        structure = self.run.structure
        covered = set(structure.sectors) if structure is not None else set()
        if sector != TOTAL:
            if sector in covered:
                return "structural"
            return "naive fallback" if sector in self.run.fallback_sectors() else "statistical"
        sectors = set(self.run.require_paths().sectors)
        return "structural" if sectors <= covered else ("statistical" if not covered else "structural+statistical")


def open_view(
    db: Path,
    run_id: str = vintages.LATEST,
    scenario: str = BASELINE,
    threshold: float = 1.0,
    definition: str = DEFAULT_DEFINITION,
) -> View:
    """Load run ``run_id`` (or the latest) and the saved scenario ``scenario`` into a :class:`View`.

    ``definition`` may be ``all``: the crossover table then covers every definition the run answers.
    """
    threshold = check_threshold(threshold)
    for what, name in (("run", run_id), ("scenario", scenario)):
        if not isinstance(name, str):  # a number reached the database as a query value it cannot cast
            raise ValueError(f"{what} must be a name (text), not {name!r:.100}")
    if definition != ALL_DEFINITIONS and definition not in DEFINITIONS:
        raise ValueError(f"unknown definition '{definition}'; choose one of {[*DEFINITIONS, ALL_DEFINITIONS]}")
    run, scn = vintages.load_run(Path(db), run_id), load_scenario(Path(db), scenario)
    if definition == ALL_DEFINITIONS:
        return View(run, scn, threshold, DEFAULT_DEFINITION, all_definitions=True)
    return View(run, scn, threshold, definition)
