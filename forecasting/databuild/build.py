"""Write the shipped data files, compare them with a fresh build, and the one entry point.

``run`` is what ``forecasting build-data [--check]`` calls: it rebuilds ``data/`` from
``data/raw/public_estimates.csv``, or rebuilds into a temporary directory and reports every
shipped file that differs.  The build is deterministic, so a current ``data/`` always passes.
"""

from __future__ import annotations

import csv
import filecmp
import logging
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from forecasting import share
from forecasting.databuild.anchors import ANCHOR_COLUMNS, anchor_rows
from forecasting.databuild.curate import Curated, Estimate, curate, format_value, read_raw
from forecasting.databuild.derive import derive, history_crossovers, spend_rows
from forecasting.frames import SPEND_COLUMNS
from forecasting.store import DATA_DIR

logger = logging.getLogger(__name__)

# DATA_DIR (from store): data/ in a checkout, the packaged copy when installed, so --check works in both.
RAW = DATA_DIR / "raw" / "public_estimates.csv"
#: Published crossover claims, copied verbatim from the research folder (``docs/data.md`` section 4).
CLAIMS = DATA_DIR / "raw" / "crossover_claims.csv"
SOURCE_COLUMNS = ["source_id", "publisher", "title", "source_date", "url"]
ESTIMATE_COLUMNS = [
    "estimate_id",
    "metric",
    "scope",
    "sector",
    "year",
    "period",
    "value",
    "unit",
    "kind",
    "source_id",
    "note",
]
SHIPPED = (
    "raw/public_estimates.csv",
    "raw/crossover_claims.csv",
    "sources.csv",
    "published_estimates.csv",
    "share_anchors.csv",
    "spend_history.csv",
)


@dataclass(frozen=True)
class BuildSummary:
    """What a build wrote."""

    out_dir: Path
    raw_rows: int
    sources: int
    estimates: int
    merged_reposts: int
    history_rows: int
    first_period: str
    last_period: str
    share_anchors: int
    crossing_p50: float  # median year the total's inference share reaches one half (default definition)


def _write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[str]]) -> None:
    """Write a CSV with Unix line endings, creating the folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)


def _estimate_row(e: Estimate) -> list[str]:
    """One ``published_estimates.csv`` row, in ESTIMATE_COLUMNS order."""
    return [
        e.estimate_id,
        e.metric,
        e.scope,
        e.sector,
        e.year,
        e.period,
        format_value(e.value),
        e.unit,
        e.kind,
        e.source_id,
        e.note,
    ]


def _write_curated(raw_csv: Path, cur: Curated, out_dir: Path) -> None:
    """Copy the raw file verbatim (unless it already is the target) and write sources and estimates."""
    for source, name in ((raw_csv, "public_estimates.csv"), (raw_csv.with_name(CLAIMS.name), CLAIMS.name)):
        target = out_dir / "raw" / name
        if target.resolve() != source.resolve() and source.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(source.read_bytes())
    _write_csv(
        out_dir / "sources.csv",
        SOURCE_COLUMNS,
        ([s.source_id, s.publisher, s.title, s.source_date, s.url] for s in cur.sources),
    )
    _write_csv(out_dir / "published_estimates.csv", ESTIMATE_COLUMNS, (_estimate_row(e) for e in cur.estimates))


def build(raw_csv: Path = RAW, out_dir: Path = DATA_DIR) -> BuildSummary:
    """Curate ``raw_csv`` and write every shipped data file under ``out_dir`` deterministically."""
    rows = read_raw(raw_csv)
    cur = curate(rows)
    d = derive(cur.estimates)
    _write_curated(raw_csv, cur, out_dir)
    history = spend_rows(d)
    _write_csv(out_dir / "spend_history.csv", SPEND_COLUMNS, history)
    _write_csv(out_dir / "share_anchors.csv", ANCHOR_COLUMNS, anchor_rows(d.share_anchors, format_value))
    logger.info("first quarter with inference >= training: %s", history_crossovers(history))
    logger.info(
        "built %d estimates from %d raw rows and %d history rows into %s",
        len(cur.estimates),
        len(rows),
        len(history),
        out_dir,
    )
    return BuildSummary(
        out_dir,
        len(rows),
        len(cur.sources),
        len(cur.estimates),
        cur.dropped,
        len(history),
        history[0][0],
        history[-1][0],
        len(d.share_anchors),
        float(np.median(share.crossing_year(d.draws, share.DEFAULT_DEFINITION))),
    )


def check(raw_csv: Path = RAW, data_dir: Path = DATA_DIR) -> list[str]:
    """Rebuild into a temporary directory; return the shipped files that differ from ``data_dir``."""
    with tempfile.TemporaryDirectory() as tmp:
        build(raw_csv, Path(tmp))
        return [
            name
            for name in SHIPPED
            if not (data_dir / name).exists() or not filecmp.cmp(Path(tmp) / name, data_dir / name, shallow=False)
        ]


def run(check_only: bool = False, raw_csv: Path = RAW, out_dir: Path = DATA_DIR) -> int:
    """Rebuild ``out_dir`` from ``raw_csv``, or with ``check_only`` just verify it; the exit code (1: stale files).

    This is what ``forecasting build-data [--check]`` runs; every stale file is logged as an error.
    """
    if check_only:
        stale = check(raw_csv, out_dir)
        for name in stale:
            logger.error("%s differs from a fresh build; run forecasting build-data", name)
        return 1 if stale else 0
    build(raw_csv, out_dir)
    return 0
