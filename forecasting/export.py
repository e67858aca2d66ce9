"""Writing reports as files: formula-safe CSV and Excel, Parquet, JSON, file names, and reproducible bundles.

The tables themselves are computed by :mod:`forecasting.reports` (the dashboard shows the same
ones); this module only writes them.  :func:`to_csv` and :func:`to_xlsx` neutralise text cells that
a spreadsheet would run as a formula (OWASP CSV injection): a leading ``=``, ``+``, ``-``, ``@``, tab,
CR, LF or NUL gets a single quote in front; numbers stay numbers.  A bundle holds every export plus a
``manifest.json`` (with the saved scenarios the run recorded) from which ``forecasting refresh
--from-manifest`` reproduces the run's numbers under every one of them.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
import os
import platform
import re
import shutil
from datetime import date, datetime, timezone
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import numpy as np
import pandas as pd

from . import __version__, reports, vintages
from .crossover import check_threshold
from .frames import DS, UID, Y
from .scenario import BASELINE, SCENARIO_SEED, Scenario
from .share import DEFAULT_DEFINITION

log = logging.getLogger(__name__)

KINDS = reports.KINDS
#: Leading characters a spreadsheet reads as the start of a formula (or that hide one).
RISKY_LEADS = ("=", "+", "-", "@", "\t", "\r", "\n", "\0")
#: Packages whose versions a bundle manifest records.
PACKAGES = ("numpy", "pandas", "scipy", "statsmodels", "prophet", "duckdb")
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def neutralise(value: str) -> str:
    """Prefix a single quote to text a spreadsheet would treat as a formula."""
    return "'" + value if value.startswith(RISKY_LEADS) else value


def _cell(value: object) -> object:
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NaT:
        return ""
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d") if value == value.normalize() else value.isoformat()
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, str):
        return neutralise(value)
    if isinstance(value, (float, np.floating)):
        return repr(float(value))
    return value


def to_csv(df: pd.DataFrame) -> bytes:
    """UTF-8 CSV (RFC 4180 quoting) with ISO dates, formula-neutralised text cells and headers."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")  # RFC 4180; also makes csv quote fields with a CR
    writer.writerow([neutralise(str(c)) for c in df.columns])
    for row in df.itertuples(index=False, name=None):
        writer.writerow([_cell(v) for v in row])
    return buf.getvalue().encode("utf-8")


#: File formats an export is written in, chosen by ``--format`` or the output file's extension.
FORMATS = ("csv", "parquet", "xlsx", "json")
_EXTENSIONS = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet", ".xlsx": "xlsx", ".json": "json"}


def format_for(path: Path | str | None, fmt: str | None = None) -> str:
    """The format to write: ``fmt`` when given, else by the extension of ``path`` (CSV for any other)."""
    if fmt is not None:
        value = fmt.strip().lower()
        if value not in FORMATS:
            raise ValueError(f"unknown format '{fmt}'; choose one of {', '.join(FORMATS)}")
        return value
    return _EXTENSIONS.get(Path(str(path)).suffix.lower(), "csv") if path is not None else "csv"


def to_parquet(df: pd.DataFrame) -> bytes:
    """Parquet bytes of ``df`` (no index; types kept)."""
    buf = io.BytesIO()
    df.to_parquet(buf, index=False)
    return buf.getvalue()


def to_json(df: pd.DataFrame) -> bytes:
    """A JSON array of one object per row: ISO dates (``2025-03-31`` for a column of days), ``null`` when missing."""
    days = {
        c: df[c].dt.strftime("%Y-%m-%d")
        for c in df.select_dtypes(include=["datetime"]).columns
        if (df[c].dropna() == df[c].dropna().dt.normalize()).all()
    }
    records = json.loads(df.assign(**days).to_json(orient="records", date_format="iso", date_unit="s") or "[]")
    return json.dumps(records, ensure_ascii=False).encode("utf-8") + b"\n"  # re-dumped: pandas escapes every slash


def _xlsx_cell(value: object) -> object:
    if isinstance(value, str):
        from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

        return ILLEGAL_CHARACTERS_RE.sub("", neutralise(value))  # a NUL could not be stored at all
    if isinstance(value, pd.Timestamp) and value.tzinfo is not None:
        return value.tz_convert("UTC").tz_localize(None)  # Excel has no time zones
    return value


#: Data rows an Excel sheet holds under its header row (1,048,576 rows in all).
XLSX_MAX_ROWS = 1_048_575


def check_xlsx_rows(n_rows: int) -> None:
    """``ValueError`` when ``n_rows`` rows do not fit on one Excel sheet (before the work that makes them)."""
    if n_rows > XLSX_MAX_ROWS:
        raise ValueError(
            f"an Excel sheet holds at most {XLSX_MAX_ROWS:,} rows under its header and this table has {n_rows:,}; "
            "write CSV or Parquet instead"
        )


def to_xlsx(df: pd.DataFrame, sheet: str = "data") -> bytes:
    """An Excel workbook of ``df`` on one sheet, text cells formula-neutralised as in :func:`to_csv`."""
    check_xlsx_rows(len(df))
    try:
        import openpyxl  # noqa: F401  (pandas' xlsx writer)
    except ImportError as exc:
        raise ValueError("Excel export needs openpyxl: pip install openpyxl (or the package's [excel] extra)") from exc
    safe = df.rename(columns=lambda c: _xlsx_cell(str(c)))
    for col in safe.select_dtypes(include=["object", "string"]).columns:
        safe[col] = safe[col].map(_xlsx_cell)
    for col in safe.select_dtypes(include=["datetimetz"]).columns:
        safe[col] = safe[col].dt.tz_convert("UTC").dt.tz_localize(None)
    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="openpyxl") as writer:
        safe.to_excel(writer, index=False, sheet_name=sheet)
    return buf.getvalue()


def frame_bytes(df: pd.DataFrame, fmt: str = "csv") -> bytes:
    """``df`` in one of :data:`FORMATS` (CSV and Excel formula-safe)."""
    writers = {"csv": to_csv, "parquet": to_parquet, "xlsx": to_xlsx, "json": to_json}
    return writers[format_for(None, fmt)](df)


def threshold_suffix(threshold: float = 1.0) -> str:
    """``''`` for the crossover itself (threshold 1), else ``_x<threshold>`` (``_x2``, ``_x1.5``) for file names."""
    value = check_threshold(threshold)
    return "" if value == 1.0 else f"_x{value:g}"


def filename(kind: str, run_id: str, scenario: str | None = BASELINE, threshold: float = 1.0, fmt: str = "csv") -> str:
    """``crossover_[<kind>_]<run id>[_<scenario>][_x<threshold>].<fmt>``, safe characters only, at most 100.

    No word twice: the kind ``crossover`` (and a ``crossover-`` prefix) adds nothing to the leading word;
    the scenario part is left out for the baseline and for tables no scenario changes (``scenario=None``);
    the threshold part only when it is not 1.  The dashboard's downloads and the CLI's bundles use it.
    """
    suffix = threshold_suffix(threshold)
    ext = "." + format_for(None, fmt)
    part = kind.removeprefix("crossover").lstrip("-_")
    named = "" if scenario is None or scenario == BASELINE else _name_part(scenario)
    safe = (_SAFE_NAME.sub("-", p).strip(".-") for p in ("crossover", part, run_id or "no-run", named))
    stem = "_".join(p for p in safe if p)
    return stem[: 100 - len(ext) - len(suffix)] + suffix + ext


def _name_part(name: str) -> str:
    """A scenario name for a file name: as written in ASCII, else with a short hash of the whole name.

    Letters and digits outside ASCII cannot be kept, so a name holding any gets the first 8 hex digits of
    its SHA-1 after what is left: ``高增长`` must not be named like the baseline (no part) and ``高增长-edited``
    not like a scenario called ``edited``.
    """
    if not any(ch.isalnum() and not ch.isascii() for ch in name):
        return name
    digest = hashlib.sha1(name.encode()).hexdigest()[:8]
    kept = _SAFE_NAME.sub("-", name).strip(".-")[:40]
    return f"{kept}-{digest}" if kept else digest


def write_file(path: Path | str, data: bytes) -> None:
    """Write ``data`` to the file ``path`` whole or not at all, through a sibling copy renamed over it.

    A full disk or an interrupt leaves no truncated file, and an earlier file of that name as it was;
    the error names ``path``.  A device or pipe (``/dev/null``) is written in place; a symbolic link's
    target is replaced, not the link.
    """
    path = Path(path)
    if path.exists() and not path.is_file():
        path.write_bytes(data)
        return
    target = path.resolve() if path.is_symlink() else path
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, target)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise OSError(exc.errno, exc.strerror, str(path)) from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_export(
    db: Path,
    kind: str,
    output: Path,
    run_id: str = vintages.LATEST,
    scenario: str = BASELINE,
    threshold: float = 1.0,
    definition: str = DEFAULT_DEFINITION,
    fmt: str | None = None,
) -> int:
    """Write the table ``kind`` of a run under a saved scenario to ``output``; returns the number of data rows.

    ``fmt`` is one of :data:`FORMATS`; by default the extension of ``output`` decides (CSV for any other).
    """
    if kind not in KINDS:
        raise ValueError(f"unknown export kind '{kind}'; choose one of {list(KINDS)}")
    df = reports.table(kind, reports.open_view(Path(db), run_id, scenario, threshold, definition))
    write_file(output, frame_bytes(df, format_for(output, fmt)))
    log.info("export event=written kind=%s rows=%d path=%s", kind, len(df), output)
    return len(df)


def _versions() -> dict[str, str]:
    found = {"python": platform.python_version(), "crossover": __version__}
    for name in PACKAGES:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = "not installed"
    return found


def manifest(
    run: vintages.RunData, scenario: str, threshold: float = 1.0, applied: Scenario | None = None
) -> dict[str, object]:
    """What a bundle records: run id, fingerprint, settings, models, versions and the history as used.

    ``scenarios`` holds the saved scenarios the run recorded, with ``applied`` (the scenario the
    bundle's files were computed under, as it was applied) in place of, or beside, its recorded
    namesake: a scenario saved or edited after the run is then re-run as the files show it.
    """
    config = dict(run.info.config)
    scenarios = dict(run.scenarios) | ({applied.name: applied} if applied is not None else {})
    history = run.history.sort_values([UID, DS])
    return {
        "format": "crossover-bundle/1",
        "run_id": run.run_id,
        "created_at": run.info.created_at.isoformat(),
        "exported_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "data_fingerprint": run.info.data_fingerprint,
        "code_version": run.info.code_version,
        "scenario": scenario,
        "threshold": threshold,
        "seed": run.info.seed,
        "scenario_seed": SCENARIO_SEED,
        "settings": {k: v for k, v in config.items() if k not in ("models", "freq")},
        "models": config.get("models"),
        "packages": _versions(),
        "scenarios": [scenarios[name].to_dict() for name in sorted(scenarios)],
        "history": {
            "columns": [UID, DS, Y],
            "rows": [
                [u, f"{d:%Y-%m-%d}", float(y)] for u, d, y in zip(history[UID], history[DS], history[Y], strict=True)
            ],
        },
    }


def write_bundle(
    db: Path,
    directory: Path,
    run_id: str = vintages.LATEST,
    scenario: str = BASELINE,
    threshold: float = 1.0,
    fmt: str = "csv",
) -> dict[str, Path]:
    """Write every export of a run (in ``fmt``) plus ``manifest.json`` into ``directory``; returns kind -> path.

    ``threshold`` applies to the crossover and sensitivity files, whose names then carry it.  Each file
    is written whole (:func:`write_file`); a bundle that fails half-way removes the folder it created.
    """
    view = reports.open_view(Path(db), run_id, scenario, threshold)
    run = view.run
    directory = Path(directory)
    created = not directory.exists()
    directory.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    try:
        for kind in KINDS:
            kind_view = view if kind in reports.THRESHOLD_KINDS else reports.View(run, view.scenario)
            written[kind] = directory / filename(kind, run.run_id, scenario, kind_view.threshold, fmt)
            write_file(written[kind], frame_bytes(reports.table(kind, kind_view), fmt))
        written["manifest"] = directory / "manifest.json"
        text = json.dumps(manifest(run, scenario, threshold, view.scenario), indent=1) + "\n"
        write_file(written["manifest"], text.encode("utf-8"))
    except BaseException:
        if created:
            shutil.rmtree(directory, ignore_errors=True)
        raise
    log.info("export event=bundle run=%s scenario=%s files=%d dir=%s", run.run_id, scenario, len(written), directory)
    return written
