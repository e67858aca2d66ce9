"""Digest of everything a refresh of the shipped data produces, to show a refactor changes no number.

Builds a fresh database from ``data/``, runs ``forecasting refresh`` and the CSV exports through the
command line (the public interface, stable across refactors), and prints one SHA-256 per artefact:
forecasts, decoded sample paths, backtests and stored crossovers straight from the DuckDB file, and
each export under every preset at thresholds 1 and 2 with the run id column dropped.  Run it on two
commits on the same machine and diff the outputs::

    python benchmarks/results_digest.py > before.txt   # on the old commit
    python benchmarks/results_digest.py > after.txt    # on the new commit
    diff before.txt after.txt
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import subprocess
import sys
import tempfile
from pathlib import Path

import duckdb
import numpy as np

PRESETS = ("baseline", "published", "fast_adoption", "edge_heavy", "open_model_boom")
EXPORTS = ("forecasts", "crossover", "sensitivity")


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:16]


def _cli(db: Path, *args: str) -> None:
    subprocess.run([sys.executable, "-m", "forecasting", *args, "--db", str(db)], check=True, capture_output=True)


def _table(con: duckdb.DuckDBPyConnection, sql: str) -> str:
    rows = con.execute(sql).fetchall()
    return _sha(repr(rows).encode())


def _paths(con: duckdb.DuckDBPyConnection, run: str) -> str:
    h = hashlib.sha256()
    for uid, blob in con.execute(
        "select unique_id, paths from sample_paths where run_id = $run order by unique_id", {"run": run}
    ).fetchall():
        h.update(uid.encode())
        h.update(np.load(io.BytesIO(bytes(blob)), allow_pickle=False).astype("<f8").tobytes())
    return h.hexdigest()[:16]


def _csv_without_run(path: Path) -> str:
    rows = list(csv.reader(path.read_text(encoding="utf-8").splitlines()))
    keep = [i for i, c in enumerate(rows[0]) if c != "run_id"]
    return _sha(repr([[r[i] for i in keep] for r in rows]).encode())


def digest(folder: Path) -> list[tuple[str, str]]:
    """(artefact, hash) pairs of one fresh refresh of the shipped data in ``folder``."""
    db = folder / "crossover.duckdb"
    _cli(db, "refresh")
    out: list[tuple[str, str]] = []
    with duckdb.connect(str(db), read_only=True) as con:
        (run,) = con.execute("select run_id from forecast_runs where status = 'published'").fetchone()
        where = f"where run_id = '{run}'"  # run ids are hex from our own refresh, not user input
        out.append(("forecasts", _table(con, f"select * exclude (run_id) from forecasts {where} order by all")))
        out.append(("backtests", _table(con, f"select * exclude (run_id) from backtest_metrics {where} order by all")))
        out.append(("series_status", _table(con, f"select * exclude (run_id) from series_status {where} order by all")))
        crossover = f"select * exclude (run_id) from crossover_estimates {where} order by all"
        out.append(("crossover_estimates", _table(con, crossover)))
        out.append(("sample_paths", _paths(con, run)))
    for kind in EXPORTS:
        for scenario in PRESETS:
            for threshold in ("1", "2") if kind != "forecasts" else ("1",):
                path = folder / f"{kind}_{scenario}_{threshold}.csv"
                _cli(db, "export", kind, "--scenario", scenario, "--threshold", threshold, "-o", str(path))
                out.append((f"export {kind} {scenario} x{threshold}", _csv_without_run(path)))
    return out


def main() -> None:
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for name, value in digest(Path(tmp)):
            print(f"{name:42s} {value}")


if __name__ == "__main__":
    main()
