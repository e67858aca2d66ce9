"""Import of a user's own spend data (CSV or Parquet, long format) into the store, as one undoable import.

Validation streams the file once, record by record, and keeps the first :data:`MAX_PROBLEMS` problems
and a count of all of them, so a large bad file costs little memory.  Row numbers are a spreadsheet's:
the header is row 1 and every record counts, blank lines included (they are skipped, not refused).
Each cell follows the number and text policy of :mod:`forecasting.import_policy`.  Nothing is written
unless the whole file is valid and every sector it touches keeps both workloads on the same
quarters; then its rows, its record and the values they replaced land in one transaction
(:mod:`forecasting.imports` lists and undoes imports)."""

from __future__ import annotations

import csv
import logging
import math
import unicodedata
from array import array
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from dataclasses import replace as replace_
from pathlib import Path
from typing import TypeVar

import numpy as np
import pandas as pd

from . import audit, imports, quarters, store
from .config import IMPORT_MAX_MB, SECTORS, WORKLOADS
from .errors import ImportRefusedError, Problem
from .import_policy import (
    TEXT_MAX,
    control_problem,
    has_control,
    parse_period,
    period_problem,
    region_name,
    sector_and_spelling,
    spend_value,
    unknown_column,
)

log = logging.getLogger(__name__)

REQUIRED = ("period", "sector", "workload", "spend_usd")
OPTIONAL = ("region", "source")
KEY = ("period", "sector", "region", "workload")
#: Problems a report keeps (the first ones by row); the rest are only counted.
MAX_PROBLEMS = 1000
#: Distinct sectors, and distinct regions, one file may hold.
MAX_NAMES = 1000
_CACHE = 4096

_FREQ_NAMES = {"Q": "quarterly", "M": "monthly", "Y": "yearly"}


@dataclass(frozen=True)
class ImportSummary:
    """What an import did: rows read, inserted, updated and left unchanged, and its id in the store.

    ``import_id`` is None when nothing changed (nothing is recorded then); ``notes`` are warnings
    about what the next refresh will do with the data.
    """

    path: Path
    rows: int
    inserted: int
    updated: int
    unchanged: int
    sectors: tuple[str, ...]
    first_period: str
    last_period: str
    import_id: int | None = None
    notes: tuple[str, ...] = ()


class _Problems:
    """Problems found so far: the first ``cap`` kept, all of them counted."""

    def __init__(self, cap: int = MAX_PROBLEMS) -> None:
        self.kept: list[Problem] = []
        self.total = 0
        self._cap = cap

    def add(self, row: int | None, column: str | None, message: str) -> None:
        self.total += 1
        if len(self.kept) < self._cap:
            self.kept.append(Problem(row, column, message))

    def extend(self, problems: list[Problem], total: int) -> None:
        """Add problems found after the stream (already in row order) and their full count."""
        self.total += total
        self.kept = sorted(self.kept + problems, key=lambda p: p.row or 0)[: self._cap]

    def raise_if_any(self, what: str) -> None:
        if self.total:
            raise ImportRefusedError(sorted(self.kept, key=lambda p: p.row or 0), what=what, total=self.total)


# --------------------------------------------------------------------------- reading records


def _records(path: Path, problems: _Problems) -> Iterator[tuple[int, list[str]]]:
    """(spreadsheet row, fields) of every record, blank ones included; problems for unreadable files."""
    if path.suffix.lower() == ".parquet":
        yield from _parquet_records(path, problems)
        return
    n = 0
    try:
        with open(path, encoding="utf-8-sig", newline="", errors="strict") as fh:
            for n, record in enumerate(csv.reader(fh, strict=True), start=1):
                yield n, record
    except UnicodeDecodeError:
        offset, line = _first_bad_utf8(path)
        problems.add(line, None, f"not valid UTF-8 (byte {offset}); save the file as UTF-8")
    except csv.Error as exc:
        problems.add(n + 1, None, f"not a readable CSV row ({exc}); nothing after it was read")


def _first_bad_utf8(path: Path) -> tuple[int, int]:
    """Byte offset and line number of the first byte that is not UTF-8 (read in blocks)."""
    import codecs

    decoder = codecs.getincrementaldecoder("utf-8")()
    offset = lines = 0  # bytes and line breaks before the current block
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 16), b""):
            pending = decoder.getstate()[0]  # an incomplete character carried over from the last block
            try:
                decoder.decode(block)
            except UnicodeDecodeError as exc:
                seen = (pending + block)[: exc.start]
                return offset - len(pending) + exc.start, lines + seen.count(b"\n") + 1
            offset, lines = offset + len(block), lines + block.count(b"\n")
    return offset, lines + 1


def _parquet_records(path: Path, problems: _Problems) -> Iterator[tuple[int, list[str]]]:
    """A header record, then each row as text, read in batches (row 2 is the first row, as in a CSV)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(path)
    except (OSError, pa.ArrowException) as exc:
        problems.add(None, None, f"not a readable Parquet file: {exc}")
        return
    yield 1, list(pf.schema_arrow.names)
    n = 1
    for batch in pf.iter_batches(batch_size=50_000):
        frame = batch.to_pandas()
        text = frame.astype(str).where(frame.notna(), "")
        for values in text.itertuples(index=False, name=None):
            n += 1
            yield n, list(values)


def _header(records: Iterator[tuple[int, list[str]]], problems: _Problems) -> list[str] | None:
    """The column names of the first non-blank record, checked; None (with problems) when unusable."""
    for _, record in records:
        if any(f.strip() for f in record):
            names = [unicodedata.normalize("NFKC", f).strip().lower() for f in record]
            for c in REQUIRED:
                if c not in names:
                    problems.add(None, c, "required column is missing")
            for c in dict.fromkeys(names):
                if c == "":
                    continue  # an unnamed column (a spreadsheet's trailing one) may stay empty
                if c not in REQUIRED + OPTIONAL:
                    problems.add(None, c, unknown_column(c, REQUIRED + OPTIONAL))
                elif names.count(c) > 1:
                    problems.add(None, c, "column appears more than once")
            return None if problems.total else names
    if not problems.total:  # a file that could not be read (not UTF-8, not Parquet) is not also "empty"
        problems.add(None, None, "file is empty")
    return None


# --------------------------------------------------------------------------- checking rows


class _Rows:
    """The parsed rows, column by column in compact arrays (codes for repeated text)."""

    def __init__(self) -> None:
        self.row = array("q")
        self.period = array("q")  # nanoseconds since the epoch
        self.sector = array("q")
        self.region = array("q")
        self.workload = array("q")
        self.spend = array("d")
        self.source = array("q")
        self.codes: dict[str, dict[str, int]] = {"sector": {}, "region": {}, "source": {}}
        self.freqs: dict[str, list[int]] = {}

    def code(self, kind: str, text: str) -> int | None:
        """The code of ``text`` among ``kind``; None once a sector or region would exceed :data:`MAX_NAMES`."""
        codes = self.codes[kind]
        if text not in codes and kind != "source" and len(codes) >= MAX_NAMES:
            return None
        return codes.setdefault(text, len(codes))

    def frame(self) -> pd.DataFrame:
        """The rows typed for ``spend_history`` (row, period, sector, region, workload, spend_usd, source)."""
        names = {k: np.array(list(v), dtype=object) for k, v in self.codes.items()}

        def ints(a: array) -> np.ndarray:
            return np.frombuffer(a, dtype=np.int64) if len(a) else np.zeros(0, dtype=np.int64)

        return pd.DataFrame(
            {
                "row": ints(self.row),
                "period": pd.to_datetime(ints(self.period).astype("datetime64[ns]")),
                "sector": names["sector"][ints(self.sector)] if len(self.row) else [],
                "region": names["region"][ints(self.region)] if len(self.row) else [],
                "workload": np.array(WORKLOADS, dtype=object)[ints(self.workload)],
                "spend_usd": np.frombuffer(self.spend, dtype=float) if len(self.spend) else np.zeros(0),
                "source": names["source"][ints(self.source)] if len(self.row) else [],
            }
        )


_K = TypeVar("_K")
_V = TypeVar("_V")


def _cached(cache: dict[_K, _V], key: _K, compute: Callable[[_K], _V]) -> _V:
    """``compute(key)`` through a bounded cache (cleared when full: files repeat a few values many times)."""
    if key not in cache:
        if len(cache) >= _CACHE:
            cache.clear()
        cache[key] = compute(key)
    return cache[key]


class _Checker:
    """Checks one record at a time against the column contract and the number and text policy."""

    def __init__(self, header: list[str], problems: _Problems) -> None:
        self.header = header
        self.at = {c: header.index(c) for c in header if c}
        self.unnamed = [i for i, c in enumerate(header) if not c]
        self.problems = problems
        self.rows = _Rows()
        self._sectors: dict[str, tuple[str | ValueError, str]] = {}
        self._regions: dict[str, str | ValueError] = {}
        self._spellings: dict[str, tuple[str, int]] = {}  # sector id -> first spelling and its row
        self._periods: dict[str, tuple[str, pd.Timestamp] | None] = {}
        self._freq_counts: dict[str, int] = {}

    def record(self, n: int, record: list[str]) -> None:
        if not any(f.strip() for f in record):
            return  # a blank line (or a row of empty cells) is skipped, and still counted
        if len(record) != len(self.header):
            self.problems.add(n, None, f"row has {len(record)} fields; the header has {len(self.header)}")
            return
        if any(record[i].strip() for i in self.unnamed):
            self.problems.add(n, None, "a value in a column without a name in the header; name the column or clear it")
        get = {c: record[i] for c, i in self.at.items()}
        if has_control("".join(record)):
            clean = {c: self._control(n, c, v) for c, v in get.items()}
        else:
            clean = dict.fromkeys(get, True)
        period = self._period(n, get["period"]) if clean["period"] else None
        sector = self._sector(n, get["sector"]) if clean["sector"] else None
        region = self._region(n, get.get("region", "")) if clean.get("region", True) else None
        workload = get["workload"].strip().lower()
        if clean["workload"] and workload not in WORKLOADS:
            self.problems.add(n, "workload", f"unknown workload '{get['workload']}'; use training or inference")
        spend = spend_value(get["spend_usd"]) if clean["spend_usd"] else None
        if isinstance(spend, str):
            self.problems.add(n, "spend_usd", spend)
        source = get.get("source", "").strip()
        if len(source) > TEXT_MAX:
            self.problems.add(n, "source", f"source is {len(source)} characters long; the limit is {TEXT_MAX}")
        if period is None or sector is None or region is None or workload not in WORKLOADS:
            return
        r = self.rows
        codes = (r.code("sector", sector), r.code("region", region))
        if codes[0] is None or codes[1] is None:
            what = "sectors" if codes[0] is None else "regions"
            self.problems.add(n, what[:-1], f"more than {MAX_NAMES} distinct {what} in one file")
            return
        r.row.append(n)
        r.period.append(period.value)
        r.sector.append(codes[0])
        r.region.append(codes[1])
        r.workload.append(WORKLOADS.index(workload))
        r.spend.append(spend if isinstance(spend, float) else math.nan)
        r.source.append(r.code("source", source) or 0 if not self.problems.total else 0)

    def _control(self, n: int, column: str, value: str) -> bool:
        """False (with a problem) when a cell holds a control character."""
        problem = control_problem(column, value)
        if problem is not None:
            self.problems.add(n, column, problem)
        return problem is None

    def _period(self, n: int, raw: str) -> pd.Timestamp | None:
        parsed = _cached(self._periods, raw, parse_period)
        if parsed is None:
            self.problems.add(n, "period", period_problem(raw.strip()))
            return None
        examples = self.rows.freqs.setdefault(parsed[0], [])
        if len(examples) < 5:
            examples.append(n)
        self._freq_counts[parsed[0]] = self._freq_counts.get(parsed[0], 0) + 1
        return parsed[1]

    def _sector(self, n: int, raw: str) -> str | None:
        found, spelling = _cached(self._sectors, raw, sector_and_spelling)
        if isinstance(found, ValueError):
            self.problems.add(n, "sector", str(found))
            return None
        first = self._spellings.get(found)
        if first is None and len(self._spellings) < MAX_NAMES:
            self._spellings[found] = (spelling, n)
        elif first is not None and first[0] != spelling and found not in SECTORS:
            self.problems.add(
                n, "sector", f"'{raw.strip()}' and '{first[0]}' (row {first[1]}) would both be sector '{found}'"
            )
            return None
        return found

    def _region(self, n: int, raw: str) -> str | None:
        found = _cached(self._regions, raw, region_name)
        if isinstance(found, ValueError):
            self.problems.add(n, "region", str(found))
            return None
        return found

    def finish(self) -> None:
        """File-level checks after the last row: one frequency, quarterly, no duplicate keys."""
        counts, rows = self._freq_counts, self.rows.freqs
        if len(counts) > 1:
            text = ", ".join(f"{_FREQ_NAMES[f]} ({c} rows)" for f, c in counts.items())
            minority = min(counts, key=lambda f: counts[f])
            self.problems.add(None, "period", f"mixed frequencies: {text}; e.g. rows {rows[minority]}")
        elif counts and "Q" not in counts:
            (freq,) = counts
            self.problems.add(
                None, "period", f"periods are {_FREQ_NAMES[freq]}; spend history is quarterly (e.g. 2024Q3)"
            )
        self._duplicates()

    def _duplicates(self) -> None:
        r = self.rows
        if not r.row:
            return
        key = pd.DataFrame({"p": r.period, "s": r.sector, "g": r.region, "w": r.workload, "row": r.row})
        dup = key.duplicated(["p", "s", "g", "w"], keep=False)
        if not dup.any():
            return
        first = key[dup].groupby(["p", "s", "g", "w"])["row"].transform("min")
        later = key[dup][key[dup]["row"] != first]
        names = {k: list(v) for k, v in r.codes.items()}
        found = [
            Problem(
                int(x.row),
                None,
                f"duplicate key {quarters.label(pd.Timestamp(x.p))} {names['sector'][x.s]}/{WORKLOADS[x.w]} "
                f"({names['region'][x.g]}); also in row {f}",
            )
            for x, f in zip(later.head(MAX_PROBLEMS).itertuples(), first[later.index][:MAX_PROBLEMS], strict=True)
        ]
        self.problems.extend(found, len(later))


def validate_file(path: Path) -> pd.DataFrame:
    """Read and validate a user file in one streaming pass; returns rows typed for ``spend_history``.

    Raises :class:`~forecasting.errors.ImportRefusedError` (a ValidationError) with the first
    :data:`MAX_PROBLEMS` problems by row and the count of all of them.
    """
    path = Path(path)
    problems = _Problems()
    _check_file(path, problems)
    problems.raise_if_any(path.name)
    records = _records(path, problems)
    header = _header(records, problems)
    problems.raise_if_any(path.name)
    assert header is not None  # no problem means a header was read
    checker = _Checker(header, problems)
    for n, record in records:
        checker.record(n, record)
    checker.finish()
    if not checker.rows.row and not problems.total:
        problems.add(None, None, "file has a header but no data rows")
    problems.raise_if_any(path.name)
    return checker.rows.frame()


def _check_file(path: Path, problems: _Problems) -> None:
    """File-level refusals before reading: missing, too large, empty, of another type."""
    if not path.is_file():
        problems.add(None, None, f"{path} does not exist or is not a file")
        return
    size = path.stat().st_size
    if size / 1e6 > IMPORT_MAX_MB:
        problems.add(None, None, f"file is {size / 1e6:.1f} MB; the limit is {IMPORT_MAX_MB} MB")
    elif size == 0:
        problems.add(None, None, "file is empty")
    elif path.suffix.lower() not in (".csv", ".txt", ".parquet"):
        problems.add(None, None, f"unsupported file type '{path.suffix.lower()}'; use .csv or .parquet")


# --------------------------------------------------------------------------- writing


def import_file(
    db: Path, path: Path, *, replace: bool = False, actor: str | None = None, file_name: str | None = None
) -> ImportSummary:
    """Validate ``path`` and upsert its rows into ``db`` with provenance ``user``, all or nothing, as one import.

    Without ``replace``, a row whose key holds a shipped (non-user) value is a problem.  An import that
    changes something is recorded (``imports.list_imports``) as made by ``actor`` (default: the OS
    user) from ``file_name`` (default: the file's name).  Refused, like an invalid file, when a sector
    it touches would end with one workload on quarters the other lacks.
    """
    path = Path(path)
    name = file_name or path.name
    typed = validate_file(path)
    incoming = typed.assign(
        provenance="user", source_ids=typed["source"].where(typed["source"] != "", name), method="import"
    ).drop(columns=["source"])
    sectors = set(typed["sector"])
    with store.writer(db) as s:
        existing = s.frame("import_history_rows").rename(columns=lambda c: c if c in KEY else f"before_{c}")
        existing["period"] = existing["period"].astype("datetime64[ns]")
        merged = incoming.merge(existing, on=list(KEY), how="left")
        if not replace:
            _refuse_overwrites(merged, name)
        same = (
            (merged["before_provenance"] == "user")
            & (merged["before_spend_usd"] == merged["spend_usd"])
            & (merged["before_source_ids"] == merged["source_ids"])
        )
        changed = merged[~same]
        summary = _summary(path, typed, changed, int(same.sum()))
        if changed.empty:
            log.info("import of %s changed nothing; not recorded", name)
            return summary
        s.insert(
            "spend_history",
            changed[list(incoming.columns.drop("row"))].assign(imported_at=imports.now_utc()),
            replace=True,
        )
        problems = imports.unbalanced(s, sectors)
        if problems:
            raise ImportRefusedError(problems, what=name)
        written = changed[[*KEY, "spend_usd", "source_ids", *[c for c in merged.columns if c.startswith("before_")]]]
        import_id = imports.record(s, written, _record_of(summary, name, actor or audit.os_user(), typed))
        notes = imports.span_notes(s, sectors)
    summary = replace_(summary, import_id=import_id, notes=notes)
    log.info("imported %s as import %d: %s", name, import_id, summary)
    return summary


def _refuse_overwrites(merged: pd.DataFrame, name: str) -> None:
    """Refuse rows whose key holds a shipped (non-user) value (``--replace`` allows them)."""
    shipped = merged[merged["before_provenance"].notna() & (merged["before_provenance"] != "user")]
    if len(shipped):
        raise ImportRefusedError(
            [
                Problem(int(r.row), None, f"would overwrite a shipped {r.before_provenance} value; use --replace")
                for r in shipped.head(MAX_PROBLEMS).itertuples()
            ],
            what=name,
            total=len(shipped),
        )


def _record_of(summary: ImportSummary, name: str, actor: str, typed: pd.DataFrame) -> dict[str, object]:
    """The ``imports`` row of an import (its id and time are added when it is stored)."""
    return {
        "file_name": name,
        "row_count": summary.rows,
        "inserted": summary.inserted,
        "updated": summary.updated,
        "unchanged": summary.unchanged,
        "actor": actor,
        "sectors": ";".join(summary.sectors),
        "first_period": typed["period"].min(),
        "last_period": typed["period"].max(),
    }


def _summary(path: Path, typed: pd.DataFrame, changed: pd.DataFrame, unchanged: int) -> ImportSummary:
    updated = int(changed["before_provenance"].notna().sum())
    return ImportSummary(
        path=path,
        rows=len(typed),
        inserted=len(changed) - updated,
        updated=updated,
        unchanged=unchanged,
        sectors=tuple(sorted(typed["sector"].unique())),
        first_period=quarters.label(typed["period"].min()),
        last_period=quarters.label(typed["period"].max()),
    )
