"""Build the shipped data: curate the raw research file and derive the quarterly spend history.

``data/raw/public_estimates.csv`` (raw research, copied verbatim) becomes

* ``data/sources.csv``: one row per distinct source;
* ``data/published_estimates.csv``: one row per published figure, reposts merged;
* ``data/spend_history.csv``: quarterly worldwide cloud AI spend by sector and workload, derived
  from the curated figures with Denton benchmarking, the share model's central inference share
  (``forecasting.share``; sectors moved along it by published AI adoption, the spend-weighted total
  held on the curve, ``forecasting.structural``) and sector shares;
* ``data/share_anchors.csv``: every published inference share the share model uses, with its
  definition, bound and publication date (``anchors``);
* ``data/raw/crossover_claims.csv``: published crossover claims, copied verbatim (shown beside the estimate).

``curate`` reads and curates the raw figures, ``derive`` models the history, ``build`` writes the
files and compares them (``run`` is what ``forecasting build-data [--check]`` calls).  The build is
deterministic: run it twice and the files are byte-identical.  ``docs/data.md`` explains every step.
"""

from forecasting.databuild.anchors import CURATED, Curation, share_anchors
from forecasting.databuild.build import DATA_DIR, RAW, SHIPPED, BuildSummary, build, check, run
from forecasting.databuild.curate import Curated, Estimate, Lookup, Source, curate, read_raw, source_rank
from forecasting.databuild.derive import (
    FIRST_PERIOD,
    LAST_PERIOD,
    Derivation,
    SectorAnchor,
    calendarise_nvidia,
    denton_pfd,
    derive,
    history_crossovers,
    history_split,
    sector_shares,
    spend_rows,
)

__all__ = [
    "DATA_DIR",
    "FIRST_PERIOD",
    "LAST_PERIOD",
    "RAW",
    "SHIPPED",
    "BuildSummary",
    "CURATED",
    "Curation",
    "Curated",
    "Derivation",
    "Estimate",
    "Lookup",
    "SectorAnchor",
    "Source",
    "build",
    "calendarise_nvidia",
    "check",
    "curate",
    "denton_pfd",
    "derive",
    "history_crossovers",
    "history_split",
    "read_raw",
    "run",
    "sector_shares",
    "share_anchors",
    "source_rank",
    "spend_rows",
]
