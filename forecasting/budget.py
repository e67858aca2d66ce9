"""The uncertainty budget: how much each source of uncertainty adds to a crossover's P10-P90 width.

Five sources can widen the band of crossover dates:

* ``share_curve``: the share model's curve (its family, steepness, centre and noise);
* ``definition``: the offset that maps the other definitions' anchors onto the chosen one;
* ``total_level``: the forecast engine's paths of spend (the total's, and any statistical sector's);
* ``sector_split``: sector weights, the adoption lag and each sector's own offset;
* ``scenario``: the ranges of the scenario's drivers.

Each source is either drawn (as in the full model) or held at its centre.  The width with a set of
sources drawn is ``v(set)``; a source's share of the budget is its Shapley value, the average over
every order of adding sources of how much adding it widens the band.  The shares add up exactly to
the full width (``v(all) - v(none)``, and ``v(none) = 0``); a negative share means the source, with
the others drawn, narrows the band (sources can offset each other).  Widths are in quarters, with a
path that does not cross within the horizon counted at the horizon's end (the width is then a lower
bound, flagged ``censored``).  The budget uses the first :data:`BUDGET_PATHS` paths: they are
exchangeable, and 32 rebuilds of every path would take seconds.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import replace

import numpy as np
import pandas as pd

from .config import TOTAL
from .crossover import crossing_quarters
from .paths import SamplePaths
from .scenario import Scenario, paths_under
from .share import ShareDraws
from .structural import SplitDraws, Structure, attach

SOURCES = ("share_curve", "definition", "total_level", "sector_split", "scenario")
#: Paths the budget rebuilds per combination of sources (a subsample of the run's).
BUDGET_PATHS = 400
BUDGET_COLUMNS = ["sector", "width_quarters", "censored", *(f"{s}_quarters" for s in SOURCES)]


def _central_draws(draws: ShareDraws, vary_curve: bool, vary_definition: bool) -> ShareDraws:
    """The draws with the curve and/or the definition offsets held at their centre."""
    n = draws.n
    out = draws
    if not vary_curve:
        family = int(np.bincount(draws.family).argmax())
        mine = draws.family == family
        out = replace(
            out,
            family=np.full(n, family),
            k=np.full(n, np.median(draws.k[mine])),
            t0=np.full(n, np.median(draws.t0[mine])),
            sigma=np.broadcast_to(np.median(draws.sigma, 0), draws.sigma.shape),
        )
    if not vary_definition:
        out = replace(out, offsets=np.broadcast_to(np.median(draws.offsets, axis=0), draws.offsets.shape).copy())
    return out


def _median_paths(values: np.ndarray) -> np.ndarray:
    return np.broadcast_to(np.median(values, axis=0), values.shape).copy()


def _subsample(paths: SamplePaths, structure: Structure | None, n: int) -> tuple[SamplePaths, Structure | None]:
    keep = slice(0, min(n, paths.n_paths))
    sub = paths.with_paths(paths.paths[keep])
    if structure is None:
        return sub, None
    d, s = structure.draws, structure.split
    draws = replace(d, family=d.family[keep], k=d.k[keep], t0=d.t0[keep], offsets=d.offsets[keep], sigma=d.sigma[keep])
    split = replace(s, beta=s.beta[keep], eps=s.eps[keep], shocks=s.shocks[keep], level=s.level[keep])
    return sub, replace(structure, total=structure.total[keep], draws=draws, split=split)


def _build(
    paths: SamplePaths, structure: Structure | None, definition: str, scenario: Scenario, varying: frozenset[str]
) -> SamplePaths:
    """The paths with the sources outside ``varying`` held at their centre."""
    base = paths if "total_level" in varying else paths.with_paths(_median_paths(paths.paths))
    if structure is not None:
        st = replace(
            structure,
            total=structure.total if "total_level" in varying else _median_paths(structure.total),
            draws=_central_draws(structure.draws, "share_curve" in varying, "definition" in varying),
            split=structure.split
            if "sector_split" in varying
            else SplitDraws.centre(base.n_paths, len(structure.sectors)),
        )
        base = attach(base, st, definition)
    return paths_under(base, scenario if "scenario" in varying else scenario.centred())


def _width(paths: SamplePaths, sector: str, threshold: float) -> tuple[float, bool]:
    q, _ = crossing_quarters(paths, sector, threshold=threshold)
    h = float(len(paths.periods))
    c = np.minimum(q, h)
    p10, p90 = np.quantile(c, [0.1, 0.9], method="inverted_cdf")
    return float(p90 - p10), bool(p90 >= h)


def budget(
    paths: SamplePaths,
    structure: Structure | None,
    definition: str,
    scenario: Scenario,
    threshold: float = 1.0,
    n_paths: int = BUDGET_PATHS,
) -> pd.DataFrame:
    """The uncertainty budget of every sector's and the total's crossover: :data:`BUDGET_COLUMNS`."""
    paths, structure = _subsample(paths, structure, n_paths)
    units = (*paths.sectors, TOTAL)
    widths: dict[frozenset[str], dict[str, tuple[float, bool]]] = {}
    for r in range(len(SOURCES) + 1):
        for combo in itertools.combinations(SOURCES, r):
            varying = frozenset(combo)
            built = _build(paths, structure, definition, scenario, varying) if varying else None
            widths[varying] = {u: (0.0, False) if built is None else _width(built, u, threshold) for u in units}
    n = len(SOURCES)
    rows = []
    for u in units:
        shares = {}
        for j in SOURCES:
            others = [s for s in SOURCES if s != j]
            total = 0.0
            for r in range(n):
                weight = math.factorial(r) * math.factorial(n - r - 1) / math.factorial(n)
                for combo in itertools.combinations(others, r):
                    v = frozenset(combo)
                    total += weight * (widths[v | {j}][u][0] - widths[v][u][0])
            shares[f"{j}_quarters"] = round(total, 2)
        full, censored = widths[frozenset(SOURCES)][u]
        rows.append({"sector": u, "width_quarters": round(full, 2), "censored": censored, **shares})
    return pd.DataFrame(rows, columns=BUDGET_COLUMNS)
