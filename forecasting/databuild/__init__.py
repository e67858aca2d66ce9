"""Build the shipped data: curate the raw research file and derive the quarterly spend history.

``data/raw/public_estimates.csv`` (raw research, copied verbatim) becomes

* ``data/sources.csv``: one row per distinct source;
* ``data/published_estimates.csv``: one row per published figure, reposts merged;
* ``data/spend_history.csv``: quarterly worldwide cloud AI spend by sector and workload, derived
  from the curated figures with Denton benchmarking, a logistic inference share (shifted in time per
  sector by published AI adoption, the spend-weighted total held on the fitted curve) and sector shares.

``curate`` reads and curates the raw figures, ``derive`` models the history, ``build`` writes the
files and compares them (``run`` is what ``forecasting build-data [--check]`` calls).  The build is
deterministic: run it twice and the files are byte-identical.  ``docs/data.md`` explains every step.
"""

from forecasting.databuild.build import DATA_DIR, RAW, SHIPPED, BuildSummary, build, check, run
from forecasting.databuild.curate import Curated, Estimate, Lookup, Source, curate, read_raw, source_rank
from forecasting.databuild.derive import (
    FIRST_PERIOD,
    LAST_PERIOD,
    SECTOR_SHIFT_BETA,
    SHARE_TOLERANCE_ANY,
    SHARE_TOLERANCE_PRIMARY,
    Derivation,
    Logistic,
    SectorAnchor,
    SectorShift,
    ShareAnchor,
    adoption_shifts,
    calendarise_nvidia,
    denton_pfd,
    derive,
    fit_logistic,
    history_crossovers,
    sector_inference_shares,
    sector_shares,
    spend_rows,
)

__all__ = [
    "DATA_DIR",
    "FIRST_PERIOD",
    "LAST_PERIOD",
    "RAW",
    "SECTOR_SHIFT_BETA",
    "SHARE_TOLERANCE_ANY",
    "SHARE_TOLERANCE_PRIMARY",
    "SHIPPED",
    "BuildSummary",
    "Curated",
    "Derivation",
    "Estimate",
    "Logistic",
    "Lookup",
    "SectorAnchor",
    "SectorShift",
    "ShareAnchor",
    "Source",
    "adoption_shifts",
    "build",
    "calendarise_nvidia",
    "check",
    "curate",
    "denton_pfd",
    "derive",
    "fit_logistic",
    "history_crossovers",
    "read_raw",
    "run",
    "sector_inference_shares",
    "sector_shares",
    "source_rank",
    "spend_rows",
]
