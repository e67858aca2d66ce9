"""Curate the raw research file into distinct sources and published estimates.

Every raw row gets a stable source id; labels are canonicalised (aliases, fiscal periods, units);
reposts of the same figure are merged into one estimate that names what it absorbed and why; a few
single figures carry the curator's caveat.  ``docs/data.md`` section 1 explains the rules.
"""

from __future__ import annotations

import csv
import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

RAW_COLUMNS = [
    "metric",
    "scope",
    "sector",
    "year",
    "period",
    "value",
    "unit",
    "kind",
    "source_publisher",
    "source_title",
    "source_date",
    "source_url",
]

#: Publisher words that mark a secondary or weak source (ranked last when figures coincide).
_WEAK = (
    "aggregator",
    "unverified",
    "ai-generated",
    "personal research",
    "unattributed",
    "mirror",
    "snippet",
    "image description",
    "wiki",
    "reddit",
    "bing",
)
#: Firms whose own figures these are; a publisher that starts with one of them is the firm itself
#: (own release) or, with a "via"/"citing" marker, the firm's figure carried by a named outlet.
_FIRMS = (
    "ABI Research",
    "AMD",
    "Andreessen Horowitz",
    "Bain",
    "Bank of America",
    "Barclays",
    "Brookfield",
    "Citi",
    "Deloitte",
    "Dell'Oro",
    "e.Republic",
    "Epoch AI",
    "Eurostat",
    "Gartner",
    "Goldman Sachs",
    "IDC",
    "JLL",
    "McKinsey",
    "Menlo Ventures",
    "Meta Platforms",
    "Microsoft",
    "Morgan Stanley",
    "NVIDIA",
    "Synergy Research",
    "TrendForce",
    "UBS",
    "US Census Bureau",
)
#: Publisher words that mark a repost or summary of someone else's release.
_SECONDARY = ("(via", "via ", "citing", "summary", "repost", "digest", "compiling", "notes on", "(on ")

#: Label aliases: (metric, scope, sector) as found -> the canonical labels.
_ALIASES: dict[tuple[str, str, str], tuple[str, str, str]] = {
    ("nvidia_data_center_revenue", "nvidia", "nvidia_data_center"): ("nvidia_datacenter_revenue", "NVIDIA", ""),
    ("inference_share_of_ai_compute", "Inference share of all AI compute (Deloitte TMT Predictions 2026)", ""): (
        "inference_share_of_ai_compute",
        "global",
        "all_ai_compute",
    ),
    ("inference_share_of_ai_compute", "Inference share of all AI compute workloads", ""): (
        "inference_share_of_ai_compute",
        "global",
        "all_ai_compute",
    ),
    ("inference_share_of_ai_iaas_spend", "AI-optimised IaaS spending going to inference (Gartner)", ""): (
        "inference_share_of_ai_iaas_spend",
        "global",
        "cloud_ai_iaas",
    ),
    ("inference_share_of_nvidia_datacenter_revenue", "NVIDIA", ""): (
        "inference_share_of_nvidia_dc_revenue",
        "global",
        "nvidia_data_center",
    ),
}
_UNIT_ALIASES = {"share": "fraction"}
#: Curator's caveats on single figures: (metric, publisher, year, value) -> note.
_CAVEATS: dict[tuple[str, str, str, str], str] = {
    ("inference_share_of_ai_compute", "Sipoch", "2025", "0.67"): (
        "not used: Deloitte's own release gives 0.5 for 2025 and 0.67 for 2026; this repost "
        "attaches the 2026 figure to 2025"
    ),
    ("inference_share_of_nvidia_datacenter_revenue", "MarketBeat (earnings call transcript)", "2025", "0.4"): (
        "not used: the same ~40% trailing-four-quarter remark as NVIDIA's FY2025Q1 call; counted once"
    ),
    ("ai_server_spend", "Gartner (via CO/AI)", "2025", "202"): (
        "older Gartner vintage (Jan 2025); Gartner's Sep 2025 table gives 267.534"
    ),
}


@dataclass(frozen=True)
class Source:
    """One distinct source (publisher, title, date, url) and its stable id."""

    source_id: str
    publisher: str
    title: str
    source_date: str
    url: str


@dataclass(frozen=True)
class Estimate:
    """One curated published figure; ``value`` is as published, in ``unit``."""

    estimate_id: str
    metric: str
    scope: str
    sector: str
    year: str
    period: str
    value: float
    unit: str
    kind: str
    source_id: str
    note: str


@dataclass(frozen=True)
class Curated:
    """The curation result: sources, kept estimates, and how many raw rows were merged away."""

    sources: tuple[Source, ...]
    estimates: tuple[Estimate, ...]
    dropped: int


def _hash(*parts: str, n: int = 10) -> str:
    """Hex SHA-1 prefix of the parts joined by the unit separator: the stable ids."""
    return hashlib.sha1("\x1f".join(parts).encode("utf-8")).hexdigest()[:n]


def format_value(x: float) -> str:
    """Fixed float text: up to 10 significant digits, no exponent for the magnitudes we ship."""
    text = f"{x:.10g}"
    return text if "e" not in text else f"{x:.10f}".rstrip("0").rstrip(".")


def source_rank(publisher: str) -> int:
    """0 a firm's own release, 1 a firm's figure via a named outlet, 2 another outlet, 3 a weak source."""
    p = publisher.lower()
    if any(w in p for w in _WEAK):
        return 3
    firm = any(p.startswith(f.lower()) for f in _FIRMS)
    secondary = any(w in p for w in _SECONDARY)
    if firm:
        return 1 if secondary else 0
    return 2


def _canon_period(metric: str, year: str, period: str) -> str:
    """The canonical period label: NVIDIA fiscal quarters and years as ``FY2025Q1``/``FY2025``, annual as ''."""
    m = re.fullmatch(r"Q([1-4])_FY(\d{4})", period)
    if m:
        return f"FY{m.group(2)}Q{m.group(1)}"
    m = re.fullmatch(r"fiscal_year_FY(\d{4})_.*", period)
    if m:
        return f"FY{m.group(1)}"
    if period == "annual":
        period = ""
    if not period and metric == "nvidia_datacenter_revenue" and year:
        return f"FY{year}"  # NVIDIA's annual figures in the file are fiscal years
    return period


def _decimals(text: str) -> int:
    """Decimal places as written (``18.325`` -> 3)."""
    return len(text.split(".")[1]) if "." in text else 0


def _same_figure(a: str, b: str) -> bool:
    """True when two published values agree to the precision of the less precise one (18.3 vs 18.325)."""
    tol = 0.5 * 10.0 ** -min(_decimals(a), _decimals(b)) + 1e-12
    return abs(float(a) - float(b)) <= tol


def _merge_note(kept: dict[str, str], dropped: dict[str, str], dropped_id: str) -> str:
    """Say which repost was merged into the kept row, and why the kept row won."""
    if source_rank(kept["source_publisher"]) < source_rank(dropped["source_publisher"]):
        why = "the kept publisher ranks higher (own release, then firm via outlet, then outlet, then weak source)"
    elif _decimals(kept["value"]) > _decimals(dropped["value"]):
        why = "the kept value is more precise"
    else:
        why = "same rank and precision: the earliest dated source is kept"
    return f"merged repost {dropped['source_publisher']} ({dropped['value']}) [{dropped_id}]: {why}"


def read_raw(raw_csv: Path) -> list[dict[str, str]]:
    """Read the raw research file; raises ``ValueError`` naming missing columns."""
    with raw_csv.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in RAW_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise ValueError(f"{raw_csv} is missing column(s) {missing}")
        return [{k: (row[k] or "").strip() for k in RAW_COLUMNS} for row in reader]


#: A raw row (with the curator's caveat, if any, under ``"caveat"``) and the id of its source.
_Member = tuple[dict[str, str], str]


def _source_of(row: dict[str, str]) -> Source:
    """The row's source, with an id hashed from publisher, title, date and url."""
    parts = (row["source_publisher"], row["source_title"], row["source_date"], row["source_url"])
    return Source("src-" + _hash(*parts, n=8), *parts)


def _label_key(row: dict[str, str]) -> tuple[str, ...]:
    """The canonical label of a raw row: (metric, scope, sector, year, period, unit, kind)."""
    metric, scope, sector = _ALIASES.get(
        (row["metric"], row["scope"], row["sector"]), (row["metric"], row["scope"], row["sector"])
    )
    unit = _UNIT_ALIASES.get(row["unit"], row["unit"])
    return (metric, scope, sector, row["year"], _canon_period(metric, row["year"], row["period"]), unit, row["kind"])


def _group(rows: Iterable[dict[str, str]]) -> tuple[dict[str, Source], dict[tuple[str, ...], list[_Member]]]:
    """Every distinct source by id, and the raw rows grouped by canonical label (in file order)."""
    sources: dict[str, Source] = {}
    groups: dict[tuple[str, ...], list[_Member]] = {}
    for row in rows:
        source = _source_of(row)
        sources[source.source_id] = source
        caveat = _CAVEATS.get((row["metric"], row["source_publisher"], row["year"], row["value"]))
        if caveat:
            row = {**row, "caveat": caveat}
        groups.setdefault(_label_key(row), []).append((row, source.source_id))
    return sources, groups


def _clusters(members: Iterable[_Member]) -> list[list[_Member]]:
    """Cluster one label's rows whose values are the same figure at different precision (first come, first kept)."""
    clusters: list[list[_Member]] = []
    for member in members:
        for cl in clusters:
            if _same_figure(cl[0][0]["value"], member[0]["value"]):
                cl.append(member)
                break
        else:
            clusters.append([member])
    return clusters


def _preference(member: _Member) -> tuple[int, int, bool, str, str]:
    """Sort key of a cluster: best rank, then most decimals, then the earliest dated source, then source id."""
    row, sid = member
    return (
        source_rank(row["source_publisher"]),
        -_decimals(row["value"]),
        row["source_date"] == "",
        row["source_date"],
        sid,
    )


def _resolve(key: tuple[str, ...], cl: list[_Member], clusters: Sequence[list[_Member]]) -> Estimate:
    """Sort ``cl`` best first (in place) and make its kept row the estimate, noting merges, rivals and caveats.

    The rival clusters are named by their first row, so a rival sorted earlier shows its best row.
    """
    cl.sort(key=_preference)
    notes = [_merge_note(cl[0][0], r, s) for r, s in cl[1:]]
    if len(clusters) > 1:
        others = sorted(
            f"{c[0][0]['value']} ({c[0][0]['source_publisher']}, {c[0][0]['source_date'] or 'undated'})"
            for c in clusters
            if c is not cl
        )
        notes.append("differs from " + "; ".join(others) + " under the same label: kept both as separate figures")
    best, sid = cl[0]
    if "caveat" in best:
        notes.insert(0, best["caveat"])
    if source_rank(best["source_publisher"]) == 3:
        notes.insert(0, "weak source (aggregator, mirror or unverified): context only")
    value = float(best["value"])
    eid = "est-" + _hash(*key, format_value(value), sid)
    return Estimate(eid, key[0], key[1], key[2], key[3], key[4], value, key[5], key[6], sid, "; ".join(notes))


def curate(rows: Sequence[dict[str, str]]) -> Curated:
    """Assign source ids, canonicalise labels and merge reposts of the same figure into one row."""
    sources, groups = _group(rows)
    estimates: list[Estimate] = []
    dropped = 0
    for key, members in groups.items():
        clusters = _clusters(members)
        for cl in clusters:
            estimates.append(_resolve(key, cl, clusters))
            dropped += len(cl) - 1
    estimates.sort(key=lambda e: (e.metric, e.scope, e.sector, e.year, e.period, e.kind, e.value, e.source_id))
    used = {e.source_id for e in estimates}
    kept_sources = tuple(sorted((s for s in sources.values() if s.source_id in used), key=lambda s: s.source_id))
    return Curated(kept_sources, tuple(estimates), dropped)


class Lookup:
    """Find curated estimates by label; every hit names its source id."""

    def __init__(self, estimates: Iterable[Estimate]) -> None:
        """Keep the curated estimates; the set is small, so each lookup scans all of them."""
        self.estimates = tuple(estimates)

    def one(
        self,
        metric: str,
        scope: str,
        sector: str,
        year: int | str,
        period: str = "",
        kind: str | None = None,
        unit: str | None = None,
    ) -> Estimate:
        """The one usable estimate with these labels (``kind``/``unit`` None: any); ``ValueError`` unless exactly one.

        Estimates whose note starts with "not used" are never returned.
        """
        hits = [
            e
            for e in self.estimates
            if (e.metric, e.scope, e.sector, e.year, e.period) == (metric, scope, sector, str(year), period)
            and (kind is None or e.kind == kind)
            and (unit is None or e.unit == unit)
            and not e.note.startswith("not used")
        ]
        if len(hits) != 1:
            raise ValueError(f"expected one estimate for {metric}/{scope}/{sector}/{year}/{period}, found {len(hits)}")
        return hits[0]
