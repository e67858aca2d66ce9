"""Import of a user's own spend data (CSV or Parquet, long format) into the store.

One validation pass collects every problem at once, each with its row number as a spreadsheet
shows it (the header is row 1, the first data row is row 2).  Nothing is written unless the whole
file is valid; then every row lands in one transaction.  Rows that already hold the same value
are skipped, so importing the same file twice changes nothing.
"""

from __future__ import annotations

import logging
import math
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pandas as pd

from . import quarters, store
from .config import IMPORT_MAX_MB, SECTORS, TOTAL, WORKLOADS
from .errors import Problem, ValidationError

log = logging.getLogger(__name__)

REQUIRED = ("period", "sector", "workload", "spend_usd")
OPTIONAL = ("region", "source")
KEY = ("period", "sector", "region", "workload")
_FIRST_DATA_ROW = 2

_MONTH = re.compile(r"^(\d{4})-(\d{1,2})(-\d{1,2})?$")
_YEAR = re.compile(r"^\d{4}$")


@dataclass(frozen=True)
class ImportSummary:
    """What an import did: rows read, inserted, updated and left unchanged."""

    path: Path
    rows: int
    inserted: int
    updated: int
    unchanged: int
    sectors: tuple[str, ...]
    first_period: str
    last_period: str


def _sector_id(raw: str) -> str:
    """Map a sector label or id to its id; unknown sectors become a lower-case slug."""
    text = raw.strip()
    by_label = {label.lower(): key for key, label in SECTORS.items()}
    if text.lower() in by_label:
        return by_label[text.lower()]
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def parse_period(raw: str) -> tuple[str, pd.Timestamp] | None:
    """Parse a period into (frequency letter Q/M/Y, start date); None when unparseable."""
    text = str(raw).strip()
    labelled = quarters.from_label(text)
    if labelled is not None:
        return "Q", labelled.start_time
    if _YEAR.match(text):
        return "Y", pd.Timestamp(int(text), 1, 1)
    if m := _MONTH.match(text):
        try:
            day = datetime(int(m[1]), int(m[2]), int(m[3][1:]) if m[3] else 1)
        except ValueError:
            return None
        if m[3] and day.day == 1 and day.month in (1, 4, 7, 10):
            return "Q", pd.Timestamp(day)  # a quarter's first day, as our own exports write it
        if m[3] and day.day != 1:
            return None
        return "M", pd.Timestamp(day.year, day.month, 1)
    return None


def _read_raw(path: Path) -> tuple[pd.DataFrame | None, list[Problem]]:
    """Read the file as text columns; problems for size, type, encoding, emptiness."""
    if not path.is_file():
        return None, [Problem(None, None, f"{path} does not exist or is not a file")]
    size_mb = path.stat().st_size / 1e6
    if size_mb > IMPORT_MAX_MB:
        return None, [Problem(None, None, f"file is {size_mb:.1f} MB; the limit is {IMPORT_MAX_MB} MB")]
    if path.stat().st_size == 0:
        return None, [Problem(None, None, "file is empty")]
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        try:
            df = pd.read_parquet(path)
        except (OSError, ValueError) as exc:
            return None, [Problem(None, None, f"not a readable Parquet file: {exc}")]
        return df.astype(str).where(df.notna(), ""), []
    if suffix not in (".csv", ".txt"):
        return None, [Problem(None, None, f"unsupported file type '{suffix}'; use .csv or .parquet")]
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        return None, [Problem(line, None, f"not valid UTF-8 (byte {exc.start}); save the file as UTF-8")]
    if not text.strip():
        return None, [Problem(None, None, "file is empty")]
    from io import StringIO

    try:
        df = pd.read_csv(StringIO(text), dtype=str, keep_default_na=False, skipinitialspace=True)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        return None, [Problem(None, None, f"not a readable CSV file: {exc}")]
    return df, []


def _check_columns(df: pd.DataFrame) -> tuple[pd.DataFrame, list[Problem]]:
    df = df.rename(columns=lambda c: str(c).strip().lower())
    problems = [Problem(None, c, "required column is missing") for c in REQUIRED if c not in df.columns]
    allowed = set(REQUIRED) | set(OPTIONAL)
    problems += [
        Problem(None, c, f"unknown column; expected {', '.join(REQUIRED + OPTIONAL)}")
        for c in df.columns
        if c not in allowed
    ]
    if df.empty and not problems:
        problems.append(Problem(None, None, "file has a header but no data rows"))
    return df, problems


def _check_rows(df: pd.DataFrame) -> tuple[pd.DataFrame, list[Problem]]:
    """Parse every row; returns the typed frame and every row-level problem."""
    problems: list[Problem] = []
    records = []
    freqs: dict[str, list[int]] = {}
    for i, row in enumerate(df.to_dict("records")):
        n = i + _FIRST_DATA_ROW
        parsed = parse_period(row["period"])
        if parsed is None:
            problems.append(Problem(n, "period", f"cannot parse '{row['period']}' (use e.g. 2024Q3)"))
        else:
            freqs.setdefault(parsed[0], []).append(n)
        sector = _sector_id(row["sector"])
        if not sector:
            problems.append(Problem(n, "sector", "sector is empty"))
        elif sector == TOTAL:
            problems.append(Problem(n, "sector", "'total' is computed as the sum of sectors; do not import it"))
        workload = str(row["workload"]).strip().lower()
        if workload not in WORKLOADS:
            problems.append(Problem(n, "workload", f"unknown workload '{row['workload']}'; use training or inference"))
        spend = _parse_spend(row["spend_usd"], n, problems)
        region = str(row.get("region", "") or "").strip() or "worldwide"
        source = str(row.get("source", "") or "").strip()
        records.append((n, parsed[1] if parsed else None, sector, region, workload, spend, source))
    if len(freqs) > 1:
        counts = ", ".join(f"{_FREQ_NAMES[f]} ({len(rows)} rows)" for f, rows in freqs.items())
        minority = min(freqs.values(), key=len)
        problems.append(Problem(None, "period", f"mixed frequencies: {counts}; e.g. rows {minority[:5]}"))
    elif freqs and "Q" not in freqs:
        (freq,) = freqs
        problems.append(
            Problem(None, "period", f"periods are {_FREQ_NAMES[freq]}; spend history is quarterly (e.g. 2024Q3)")
        )
    typed = pd.DataFrame(records, columns=["row", "period", "sector", "region", "workload", "spend_usd", "source"])
    dupes = typed[typed["period"].notna()].groupby(list(KEY), dropna=False)["row"].agg(list)
    for key, rows in dupes.items():
        if len(rows) > 1:
            label = f"{quarters.label(key[0])} {key[1]}/{key[3]} ({key[2]})"
            problems.extend(Problem(r, None, f"duplicate key {label}; also in row {rows[0]}") for r in rows[1:])
    return typed, problems


_FREQ_NAMES = {"Q": "quarterly", "M": "monthly", "Y": "yearly"}


def _parse_spend(raw: object, n: int, problems: list[Problem]) -> float | None:
    text = str(raw).strip().replace(",", "")
    try:
        value = float(text)
    except ValueError:
        problems.append(Problem(n, "spend_usd", f"'{raw}' is not a number"))
        return None
    if math.isnan(value):
        problems.append(Problem(n, "spend_usd", "spend is NaN"))
    elif math.isinf(value):
        problems.append(Problem(n, "spend_usd", "spend is infinite"))
    elif value < 0:
        problems.append(Problem(n, "spend_usd", f"spend {value:g} is negative"))
    else:
        return value
    return None


def validate_file(path: Path) -> pd.DataFrame:
    """Read and validate a user file; returns rows typed for ``spend_history`` or raises ValidationError."""
    path = Path(path)
    raw, problems = _read_raw(path)
    if raw is None:
        raise ValidationError(problems, what=path.name)
    df, problems = _check_columns(raw)
    if problems:
        raise ValidationError(problems, what=path.name)
    typed, problems = _check_rows(df)
    if problems:
        raise ValidationError(sorted(problems, key=lambda p: p.row or 0), what=path.name)
    return typed


def import_file(db: Path, path: Path, *, replace: bool = False) -> ImportSummary:
    """Validate ``path`` and upsert its rows into ``db`` with provenance ``user``, all or nothing.

    Without ``replace``, a row whose key holds a shipped (non-user) value is a validation problem.
    """
    path = Path(path)
    typed = validate_file(path)
    incoming = pd.DataFrame(
        {
            "period": typed["period"].astype("datetime64[ns]"),
            "sector": typed["sector"],
            "region": typed["region"],
            "workload": typed["workload"],
            "spend_usd": typed["spend_usd"].astype(float),
            "provenance": "user",
            "source_ids": typed["source"].where(typed["source"] != "", path.name),
            "method": "import",
        }
    )
    with store.writer(db) as s:
        existing = s.frame("history_keys")
        existing["period"] = existing["period"].astype("datetime64[ns]")
        merged = incoming.assign(row=typed["row"]).merge(existing, on=list(KEY), how="left", suffixes=("", "_old"))
        shipped = merged[merged["provenance_old"].notna() & (merged["provenance_old"] != "user")]
        if len(shipped) and not replace:
            raise ValidationError(
                [
                    Problem(int(r.row), None, f"would overwrite a shipped {r.provenance_old} value; use --replace")
                    for r in shipped.itertuples()
                ],
                what=path.name,
            )
        same = (
            (merged["provenance_old"] == "user")
            & (merged["spend_usd_old"] == merged["spend_usd"])
            & (merged["source_ids_old"] == merged["source_ids"])
        )
        changed = merged.loc[~same, list(incoming.columns)].assign(
            imported_at=pd.Timestamp.now(tz="UTC").tz_localize(None)
        )
        s.insert("spend_history", changed, replace=True)
    updated = int(merged.loc[~same, "provenance_old"].notna().sum())
    periods = typed["period"].sort_values()
    summary = ImportSummary(
        path=path,
        rows=len(typed),
        inserted=len(changed) - updated,
        updated=updated,
        unchanged=int(same.sum()),
        sectors=tuple(sorted(typed["sector"].unique())),
        first_period=quarters.label(periods.iloc[0]),
        last_period=quarters.label(periods.iloc[-1]),
    )
    log.info("imported %s: %s", path, summary)
    return summary
