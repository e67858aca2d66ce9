"""Build the shipped data: curate the raw research file and derive the quarterly spend history.

``data/raw/public_estimates.csv`` (raw research, copied verbatim) becomes

* ``data/sources.csv``: one row per distinct source;
* ``data/published_estimates.csv``: one row per published figure, reposts merged;
* ``data/spend_history.csv``: quarterly worldwide cloud AI spend by sector and workload, derived
  from the curated figures with Denton benchmarking, a logistic inference share (shifted in time per
  sector by published AI adoption, the spend-weighted total held on the fitted curve) and sector shares.

``docs/data.md`` explains every step and every choice.  The build is deterministic: run it twice
and the files are byte-identical (``python -m forecasting.build_data --check`` verifies that).
"""

from __future__ import annotations

import argparse
import csv
import filecmp
import hashlib
import logging
import math
import re
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from forecasting.config import REPO_ROOT, SECTORS, WORKLOADS
from forecasting.frames import SPEND_COLUMNS

logger = logging.getLogger(__name__)

DATA_DIR = REPO_ROOT / "data"
RAW = DATA_DIR / "raw" / "public_estimates.csv"
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
SHIPPED = ("raw/public_estimates.csv", "sources.csv", "published_estimates.csv", "spend_history.csv")

FIRST_PERIOD, LAST_PERIOD = "2019Q1", "2026Q3"  # last complete quarter on 2026-11-28
REGION = "worldwide"
#: Largest |published - fitted| inference share accepted at the Gartner IaaS anchors, weight 3 (see docs/data.md).
SHARE_TOLERANCE_PRIMARY = 0.04
#: Largest |published - fitted| inference share accepted at any anchor of the fit.
SHARE_TOLERANCE_ANY = 0.09
#: Years the inference-share midpoint moves per unit of adoption logit below the reference (docs/data.md 2.5).
SECTOR_SHIFT_BETA = 2.5

# ---------------------------------------------------------------------------------------------
# Curation
# ---------------------------------------------------------------------------------------------

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
    "ABI Research", "AMD", "Andreessen Horowitz", "Bain", "Bank of America", "Barclays", "Brookfield", "Citi",
    "Deloitte", "Dell'Oro", "e.Republic", "Epoch AI", "Eurostat", "Gartner", "Goldman Sachs", "IDC", "JLL",
    "McKinsey", "Menlo Ventures", "Meta Platforms", "Microsoft", "Morgan Stanley", "NVIDIA", "Synergy Research",
    "TrendForce", "UBS", "US Census Bureau",
)  # fmt: skip
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
    return hashlib.sha1("\x1f".join(parts).encode("utf-8")).hexdigest()[:n]


def _fmt(x: float) -> str:
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


def curate(rows: Sequence[dict[str, str]]) -> Curated:
    """Assign source ids, canonicalise labels and merge reposts of the same figure into one row."""
    sources: dict[str, Source] = {}
    groups: dict[tuple[str, ...], list[tuple[dict[str, str], str]]] = {}
    for row in rows:
        sid = "src-" + _hash(row["source_publisher"], row["source_title"], row["source_date"], row["source_url"], n=8)
        sources[sid] = Source(sid, row["source_publisher"], row["source_title"], row["source_date"], row["source_url"])
        metric, scope, sector = _ALIASES.get(
            (row["metric"], row["scope"], row["sector"]), (row["metric"], row["scope"], row["sector"])
        )
        unit = _UNIT_ALIASES.get(row["unit"], row["unit"])
        key: tuple[str, ...] = (
            metric,
            scope,
            sector,
            row["year"],
            _canon_period(metric, row["year"], row["period"]),
            unit,
            row["kind"],
        )
        caveat = _CAVEATS.get((row["metric"], row["source_publisher"], row["year"], row["value"]))
        if caveat:
            row = {**row, "caveat": caveat}
        groups.setdefault(key, []).append((row, sid))
    estimates: list[Estimate] = []
    dropped = 0
    for key, members in groups.items():
        clusters: list[list[tuple[dict[str, str], str]]] = []
        for member in members:  # cluster values that are the same figure at different precision
            for cl in clusters:
                if _same_figure(cl[0][0]["value"], member[0]["value"]):
                    cl.append(member)
                    break
            else:
                clusters.append([member])
        for cl in clusters:
            cl.sort(
                key=lambda m: (
                    source_rank(m[0]["source_publisher"]),
                    -_decimals(m[0]["value"]),
                    m[0]["source_date"] == "",
                    m[0]["source_date"],
                    m[1],
                )
            )
            notes = [_merge_note(cl[0][0], r, s) for r, s in cl[1:]]
            dropped += len(cl) - 1
            if len(clusters) > 1:
                others = sorted(
                    f"{c[0][0]['value']} ({c[0][0]['source_publisher']}, {c[0][0]['source_date'] or 'undated'})"
                    for c in clusters
                    if c is not cl
                )
                notes.append(
                    "differs from " + "; ".join(others) + " under the same label: kept both as separate figures"
                )
            best, sid = cl[0]
            if "caveat" in best:
                notes.insert(0, best["caveat"])
            if source_rank(best["source_publisher"]) == 3:
                notes.insert(0, "weak source (aggregator, mirror or unverified): context only")
            value = float(best["value"])
            eid = "est-" + _hash(*key, _fmt(value), sid)
            estimates.append(
                Estimate(eid, key[0], key[1], key[2], key[3], key[4], value, key[5], key[6], sid, "; ".join(notes))
            )
    estimates.sort(key=lambda e: (e.metric, e.scope, e.sector, e.year, e.period, e.kind, e.value, e.source_id))
    used = {e.source_id for e in estimates}
    kept_sources = tuple(sorted((s for s in sources.values() if s.source_id in used), key=lambda s: s.source_id))
    return Curated(kept_sources, tuple(estimates), dropped)


class _Lookup:
    """Find curated estimates by label; every hit names its source id."""

    def __init__(self, estimates: Iterable[Estimate]) -> None:
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


# ---------------------------------------------------------------------------------------------
# Derivation: quarterly indicator, annual totals, Denton, logistic share, sector shares
# ---------------------------------------------------------------------------------------------


def _quarters(first: str, last: str) -> list[str]:
    y, q = int(first[:4]), int(first[5])
    out = []
    while True:
        label = f"{y}Q{q}"
        out.append(label)
        if label == last:
            return out
        y, q = (y + 1, 1) if q == 4 else (y, q + 1)


def _mid_year(label: str) -> float:
    """``2023Q1`` -> 2023.125, the quarter's midpoint as a decimal year."""
    return int(label[:4]) + (int(label[5]) - 0.5) / 4


def denton_pfd(indicator: np.ndarray, annual: np.ndarray, per_year: int = 4) -> np.ndarray:
    """Proportional first-difference Denton benchmarking of a quarterly indicator to annual totals.

    Minimises sum_t (x_t/i_t - x_{t-1}/i_{t-1})^2 subject to each year's quarters summing to its
    annual total, by solving the KKT system.  ``indicator`` must be positive and have
    ``per_year * len(annual)`` entries.
    """
    i = np.asarray(indicator, dtype=float)
    a = np.asarray(annual, dtype=float)
    n, m = len(i), len(a)
    if n != per_year * m or m < 1:
        raise ValueError(f"indicator has {n} periods; expected {per_year} x {m} annual totals")
    if np.any(i <= 0):
        raise ValueError("Denton PFD needs a strictly positive indicator")
    d = np.diff(np.eye(n), axis=0)  # (n-1) x n first differences of the ratio r = x / i
    c = np.kron(np.eye(m), np.ones(per_year)) * i  # annual sums of x = i * r
    kkt = np.block([[2 * d.T @ d, c.T], [c, np.zeros((m, m))]])
    rhs = np.concatenate([np.zeros(n), a])
    ratio = np.linalg.solve(kkt, rhs)[:n]
    return ratio * i


@dataclass(frozen=True)
class ShareAnchor:
    """A published (or derived-from-published) inference share used to fit the logistic curve."""

    label: str
    t: float
    share: float
    weight: float
    source_ids: tuple[str, ...]


@dataclass(frozen=True)
class Logistic:
    """Inference share s(t) = 1 / (1 + exp(-k (t - t0))), t in decimal years."""

    k: float
    t0: float

    def __call__(self, t: float | np.ndarray) -> np.ndarray:
        """The share at decimal year(s) ``t``."""
        return 1.0 / (1.0 + np.exp(-self.k * (np.asarray(t, dtype=float) - self.t0)))


def fit_logistic(anchors: Sequence[ShareAnchor]) -> Logistic:
    """Weighted least squares of logit(share) on time; closed form, so the fit is deterministic."""
    if len(anchors) < 2:
        raise ValueError("need at least two share anchors")
    t = np.array([a.t for a in anchors])
    y = np.array([math.log(a.share / (1 - a.share)) for a in anchors])
    w = np.sqrt(np.array([a.weight for a in anchors]))
    x = np.column_stack([np.ones_like(t), t - 2024.0])
    (b0, b1), *_ = np.linalg.lstsq(x * w[:, None], y * w, rcond=None)
    return Logistic(k=float(b1), t0=float(2024.0 - b0 / b1))


@dataclass(frozen=True)
class SectorAnchor:
    """A sector's published share of worldwide AI spend in one calendar year."""

    sector: str
    year: int
    share: float
    source_ids: tuple[str, ...]


@dataclass(frozen=True)
class SectorShift:
    """A sector's published adoption rate (None: no comparable figure) and its midpoint shift in years."""

    sector: str
    adoption: float | None
    delta: float
    source_ids: tuple[str, ...]


@dataclass(frozen=True)
class Derivation:
    """Everything the spend history is built from, kept for the tests and the docs."""

    quarters: tuple[str, ...]
    indicator: tuple[float, ...]  # calendarised NVIDIA data-center revenue, usd_billion, with modelled fills
    annual_totals: dict[int, float]  # usd_billion, one per calendar year
    annual_kind: dict[int, str]  # "published" (Gartner figure) or "modelled" (ratio backcast)
    total_q: tuple[float, ...]  # usd_billion per quarter after Denton
    logistic: Logistic
    share_anchors: tuple[ShareAnchor, ...]
    sector_anchors: tuple[SectorAnchor, ...]
    indicator_source_ids: tuple[str, ...]
    total_source_ids: tuple[str, ...]
    sector_shifts: tuple[SectorShift, ...]


def _nvidia_fiscal(lk: _Lookup) -> tuple[dict[str, float], list[str], dict[str, str]]:
    """NVIDIA DC revenue by fiscal quarter FY2019Q4..FY2026Q4, filling the two gaps; returns notes."""
    values: dict[str, float] = {}
    sids: list[str] = []
    fills: dict[str, str] = {}
    labels = ["FY2019Q4"] + [f"FY{y}Q{q}" for y in range(2020, 2027) for q in range(1, 5)]
    for label in labels:
        try:
            e = lk.one("nvidia_datacenter_revenue", "NVIDIA", "", label[2:6], label, kind="actual")
        except ValueError:
            continue
        values[label] = e.value
        sids.append(e.source_id)
    # FY2020Q1: the fiscal-year total minus the three published quarters (derived arithmetic).
    fy20 = lk.one("nvidia_datacenter_revenue", "NVIDIA", "", 2020, "FY2020", kind="actual")
    values["FY2020Q1"] = fy20.value - sum(values[f"FY2020Q{q}"] for q in (2, 3, 4))
    sids.append(fy20.source_id)
    fills["FY2020Q1"] = "FY2020 total minus Q2-Q4"
    # FY2022Q1: no fiscal-year total in the file; geometric mean of the neighbouring quarters (modelled).
    values["FY2022Q1"] = math.sqrt(values["FY2021Q4"] * values["FY2022Q2"])
    fills["FY2022Q1"] = "geometric mean of FY2021Q4 and FY2022Q2"
    missing = [lab for lab in labels if lab not in values]
    if missing:
        raise ValueError(f"NVIDIA data-center revenue missing for {missing}")
    return values, sids, fills


def calendarise_nvidia(fiscal: dict[str, float], quarters: Sequence[str]) -> list[float]:
    """Calendar quarter = 1/3 of the fiscal quarter ending in its first month + 2/3 of the next one.

    NVIDIA's fiscal quarter FY(Y)Qk runs roughly Feb-Apr, May-Jul, Aug-Oct, Nov-Jan of calendar
    year Y-1, so it starts in calendar quarter (Y-1)Qk; calendar Jan-Mar takes January from FQ4.
    """
    out = []
    for label in quarters:
        y, q = int(label[:4]), int(label[5])
        cur = f"FY{y + 1}Q{q}"
        prev = f"FY{y + 1}Q{q - 1}" if q > 1 else f"FY{y}Q4"
        if cur not in fiscal or prev not in fiscal:
            raise ValueError(f"no NVIDIA fiscal quarters to calendarise {label}")
        out.append(fiscal[prev] / 3 + 2 * fiscal[cur] / 3)
    return out


def _share_anchors(lk: _Lookup) -> tuple[ShareAnchor, ...]:
    dl = [
        lk.one("inference_share_of_ai_compute", "global", "all_ai_compute", y, "", kind=k)
        for y, k in ((2023, "actual"), (2025, "actual"), (2026, "forecast"))
    ]
    nv = lk.one("inference_share_of_nvidia_dc_revenue", "global", "nvidia_data_center", 2024, "trailing_4q_to_Q1FY2025")
    inf25 = lk.one("ai_optimized_iaas_inference_spend", "global", "cloud_ai_iaas_inference", 2025, "")
    tot25 = lk.one("ai_optimized_iaas_spend", "global", "cloud_ai_iaas", 2025, "")
    g26 = lk.one("inference_share_of_ai_iaas_spend", "global", "cloud_ai_iaas", 2026, "", unit="fraction")
    return (
        ShareAnchor("Deloitte inference share of AI compute 2023", 2023.5, dl[0].value, 1.0, (dl[0].source_id,)),
        # May 2023 - Apr 2024 (NVIDIA FY2025Q1 trailing four quarters): midpoint early Nov 2023.
        ShareAnchor(
            "NVIDIA inference share of DC revenue, trailing 4Q to FY2025Q1", 2023.83, nv.value, 1.0, (nv.source_id,)
        ),
        ShareAnchor("Deloitte inference share of AI compute 2025", 2025.5, dl[1].value, 1.0, (dl[1].source_id,)),
        ShareAnchor(
            "Gartner AI-optimised IaaS inference share 2025 (9.2/18.3)",
            2025.5,
            inf25.value / tot25.value,
            3.0,
            (inf25.source_id, tot25.source_id),
        ),
        ShareAnchor("Deloitte inference share of AI compute 2026", 2026.5, dl[2].value, 1.0, (dl[2].source_id,)),
        ShareAnchor("Gartner AI-optimised IaaS inference share 2026", 2026.5, g26.value, 3.0, (g26.source_id,)),
    )


_IDC17, _IDC = "Worldwide cognitive/AI systems (IDC)", "Worldwide (IDC)"
#: Sector anchors: (sector id, year, IDC scope, IDC sector labels summed). See docs/data.md for the mapping.
_SECTOR_SPEC: tuple[tuple[str, int, str, tuple[str, ...]], ...] = (
    ("financial_services", 2017, _IDC17, ("banking",)),
    ("financial_services", 2019, _IDC, ("banking",)),
    ("financial_services", 2024, _IDC, ("banking",)),
    ("retail", 2017, _IDC17, ("retail",)),
    ("retail", 2019, _IDC, ("retail",)),
    ("retail", 2024, _IDC, ("retail",)),
    ("manufacturing", 2017, _IDC17, ("discrete manufacturing", "process manufacturing")),
    ("healthcare", 2017, _IDC17, ("healthcare",)),
    ("technology_media", 2024, _IDC, ("software & information services",)),
)


def _sector_anchors(lk: _Lookup) -> tuple[SectorAnchor, ...]:
    """Published sector shares of worldwide AI spend, mapped onto the product's sector ids."""
    totals = {
        2017: lk.one("ai_spend_total", _IDC17, "all", 2017, ""),
        2019: lk.one("ai_spend_total", _IDC, "all", 2019, ""),
        2024: lk.one("ai_spend_total", _IDC, "all", 2024, "", kind="actual"),
        2025: lk.one("worldwide_ai_spend", "global", "all_ai_idc_def", 2025, ""),
    }

    def share(sector: str, year: int, parts: list[Estimate]) -> SectorAnchor:
        ids = tuple(sorted({p.source_id for p in parts} | {totals[year].source_id}))
        return SectorAnchor(sector, year, sum(p.value for p in parts) / totals[year].value, ids)

    out = [
        share(sector, year, [lk.one("ai_spend_by_sector", scope, lab, year, "", unit="usd_billion") for lab in labels])
        for sector, year, scope, labels in _SECTOR_SPEC
    ]
    # No worldwide IDC government share exists: a vendor's government AI market over IDC's total (weak).
    gov = "AI in government & public services market (Future Market Insights)"
    out.append(share("public_sector", 2025, [lk.one("ai_spend_by_sector", gov, "public sector", 2025, "")]))
    return tuple(out)


_GALLUP = "US workers using AI at work weekly, Q3 2025 (Gallup)"
#: Our sector id -> Gallup's sector label.  Gallup's "professional services" belongs to ``other`` and
#: only enters the reference; ``public_sector`` and ``other`` have no comparable figure (docs/data.md 2.5).
_ADOPTION_SPEC: dict[str, str] = {
    "technology_media": "technology",
    "financial_services": "finance",
    "healthcare": "healthcare",
    "retail": "retail",
    "manufacturing": "manufacturing",
}
_ADOPTION_REFERENCE_ONLY = ("professional services",)


def _logit(p: float) -> float:
    return math.log(p / (1.0 - p))


def adoption_shifts(
    adoption: dict[str, float], reference: Sequence[float], beta: float = SECTOR_SHIFT_BETA
) -> dict[str, float]:
    """Midpoint shift (years) per sector: -beta * (logit(a_s) - mean logit of ``reference``).

    Args:
        adoption: sector -> adoption rate as a fraction in (0, 1).
        reference: the adoption rates whose mean logit is the zero point (a sector there gets 0).
        beta: years per logit unit; must be >= 0.
    """
    rates = list(adoption.values()) + list(reference)
    if not reference or beta < 0 or any(not 0.0 < a < 1.0 for a in rates):
        raise ValueError("adoption rates must lie in (0, 1), reference must be non-empty and beta >= 0")
    ref = sum(_logit(a) for a in reference) / len(reference)
    return {s: -beta * (_logit(a) - ref) for s, a in adoption.items()}


def _sector_shifts(lk: _Lookup) -> tuple[SectorShift, ...]:
    """Per-sector shifts from Gallup's Q3 2025 weekly AI use at work; sectors without a figure get 0."""
    hits = {
        label: lk.one("ai_adoption_rate", _GALLUP, label, 2025, "2025Q3")
        for label in (*_ADOPTION_SPEC.values(), *_ADOPTION_REFERENCE_ONLY)
    }
    shifts = adoption_shifts(
        {sector: hits[label].value for sector, label in _ADOPTION_SPEC.items()}, [e.value for e in hits.values()]
    )
    ids = tuple(sorted({e.source_id for e in hits.values()}))
    return tuple(
        SectorShift(s, hits[_ADOPTION_SPEC[s]].value, shifts[s], ids)
        if s in _ADOPTION_SPEC
        else SectorShift(s, None, 0.0, ids)
        for s in SECTORS
    )


def _bisect(f: Callable[[float], float], lo: float, hi: float) -> float:
    """Root of an increasing ``f`` on [lo, hi], to the last floating-point bit (deterministic, no scipy)."""
    if not f(lo) < 0.0 < f(hi):
        raise ValueError(f"no sign change of the root function on [{lo}, {hi}]")
    while True:
        mid = 0.5 * (lo + hi)
        if mid in (lo, hi):
            return mid
        if f(mid) < 0.0:
            lo = mid
        else:
            hi = mid


def sector_inference_shares(
    logistic: Logistic, deltas: dict[str, float], weights: dict[str, float], t: float
) -> dict[str, float]:
    """Each sector's inference share at ``t``, with the spend-weighted mean equal to ``logistic(t)``.

    Sector s follows logit s_s = k (t - t0 - delta_s) + c, and the common offset c is found by
    bisection so that sum_s weights[s] * s_s = logistic(t); the weighted share rises strictly with c,
    so the root is unique.  ``weights`` are spend shares summing to 1 over the sectors of ``deltas``.
    """
    if set(weights) != set(deltas) or any(w < 0 for w in weights.values()):
        raise ValueError("weights and deltas must name the same sectors, with non-negative weights")
    if abs(sum(weights.values()) - 1.0) > 1e-9:
        raise ValueError(f"sector weights must sum to 1, got {sum(weights.values())}")
    names = sorted(deltas)
    base = np.array([logistic.k * (t - logistic.t0 - deltas[s]) for s in names])
    w = np.array([weights[s] for s in names])
    target = float(logistic(t))

    def excess(c: float) -> float:
        return float(w @ (1.0 / (1.0 + np.exp(-(base + c))))) - target

    c = _bisect(excess, -50.0, 50.0)
    return {s: float(1.0 / (1.0 + np.exp(-(b + c)))) for s, b in zip(names, base, strict=True)}


def sector_shares(anchors: Sequence[SectorAnchor], t: float) -> dict[str, float]:
    """Each named sector's share at decimal year ``t``: linear between anchor years, flat beyond; other = rest."""
    out: dict[str, float] = {}
    for sector in SECTORS:
        if sector == "other":
            continue
        pts = sorted((a.year + 0.5, a.share) for a in anchors if a.sector == sector)
        if not pts:
            raise ValueError(f"no share anchor for sector '{sector}'")
        out[sector] = float(np.interp(t, [p[0] for p in pts], [p[1] for p in pts]))
    out["other"] = 1.0 - sum(out.values())
    if out["other"] <= 0:
        raise ValueError(f"named sector shares exceed 1 at {t}")
    return out


def derive(estimates: Sequence[Estimate]) -> Derivation:
    """Quarterly total cloud AI spend (usd_billion), the inference-share curve and sector share anchors."""
    lk = _Lookup(estimates)
    fiscal, nv_ids, _ = _nvidia_fiscal(lk)
    years = list(range(int(FIRST_PERIOD[:4]), int(LAST_PERIOD[:4]) + 1))
    quarters = _quarters(f"{years[0]}Q1", f"{years[-1]}Q4")
    observed = _quarters(FIRST_PERIOD, "2025Q4")
    ind = calendarise_nvidia(fiscal, observed)
    # Beyond the last fiscal quarter in the file, extend the indicator at its mean growth of the last four quarters.
    g = (ind[-1] / ind[-5]) ** 0.25
    ind += [ind[-1] * g ** (h + 1) for h in range(len(quarters) - len(observed))]
    ann_ind = {y: sum(ind[4 * k : 4 * k + 4]) for k, y in enumerate(years)}
    gartner = {y: lk.one("ai_optimized_iaas_spend", "global", "cloud_ai_iaas", y, "") for y in (2024, 2025, 2026)}
    totals: dict[int, float] = {}
    kinds: dict[int, str] = {}
    ratio_2024 = gartner[2024].value / ann_ind[2024]
    for y in years:
        if y in gartner:
            totals[y], kinds[y] = gartner[y].value, "published"
        else:  # before 2024: cloud AI spend moves with NVIDIA DC revenue at the 2024 ratio
            totals[y], kinds[y] = ratio_2024 * ann_ind[y], "modelled"
    total_q = denton_pfd(np.array(ind), np.array([totals[y] for y in years]))
    anchors = _share_anchors(lk)
    sec = _sector_anchors(lk)
    total_ids = tuple(sorted(set(nv_ids) | {e.source_id for e in gartner.values()}))
    return Derivation(
        tuple(quarters),
        tuple(ind),
        totals,
        kinds,
        tuple(float(v) for v in total_q),
        fit_logistic(anchors),
        anchors,
        sec,
        tuple(sorted(set(nv_ids))),
        total_ids,
        _sector_shifts(lk),
    )


def _largest_remainder(total: int, weights: Sequence[float]) -> list[int]:
    """Split an integer ``total`` in proportion to ``weights`` so the parts sum exactly (Hamilton's method)."""
    raw = [total * w / sum(weights) for w in weights]
    parts = [math.floor(r) for r in raw]
    order = sorted(range(len(raw)), key=lambda k: (-(raw[k] - parts[k]), k))
    for k in order[: total - sum(parts)]:
        parts[k] += 1
    return parts


def _method(year: int, d: Derivation) -> str:
    base = "denton-pfd(nvidia-dc)+logistic-share+sector-shift(adoption)+sector-share"
    if d.annual_kind[year] == "modelled":
        return "ratio-backcast+" + base
    if year > 2025:
        return base.replace("nvidia-dc", "nvidia-dc-extrapolated")
    return base


def spend_rows(d: Derivation) -> list[list[str]]:
    """The ``data/spend_history.csv`` rows (without header), sorted by period, sector, workload."""
    share_ids = sorted({s for a in d.share_anchors for s in a.source_ids})
    # Through the common offset every sector's inference share depends on every adoption figure.
    shift_ids = sorted({i for sh in d.sector_shifts for i in sh.source_ids})
    deltas = {sh.sector: sh.delta for sh in d.sector_shifts}
    # A named sector's share depends on its own anchors; "other" (the remainder) depends on all of them.
    sector_ids = {
        s: sorted({i for a in d.sector_anchors if s in (a.sector, "other") for i in a.source_ids}) for s in SECTORS
    }
    names = list(SECTORS)
    rows: list[list[str]] = []
    for k, label in enumerate(_quarters(FIRST_PERIOD, LAST_PERIOD)):
        t = _mid_year(label)
        total = round(d.total_q[k] * 1e9)
        inference = round(total * float(d.logistic(t)))
        shares = sector_shares(d.sector_anchors, t)
        inf_share = sector_inference_shares(d.logistic, deltas, shares, t)
        # Each workload is split by the sectors' spend on it, so workloads and sectors both add up exactly.
        weights = {
            "inference": [shares[s] * inf_share[s] for s in names],
            "training": [shares[s] * (1.0 - inf_share[s]) for s in names],
        }
        amounts = {"training": total - inference, "inference": inference}
        for workload in WORKLOADS:
            parts = _largest_remainder(amounts[workload], weights[workload])
            for sector, usd in zip(names, parts, strict=True):
                ids = sorted(set(d.total_source_ids) | set(share_ids) | set(shift_ids) | set(sector_ids[sector]))
                rows.append(
                    [label, sector, REGION, workload, str(usd), "modelled", ";".join(ids), _method(int(label[:4]), d)]
                )
    rows.sort(key=lambda r: (r[0], r[1], r[3]))
    return rows


def history_crossovers(rows: Iterable[Sequence[str]]) -> dict[str, str | None]:
    """First quarter in which each sector's inference spend is at least its training spend (None: not yet)."""
    spend: dict[tuple[str, str], dict[str, int]] = {}
    for r in rows:
        spend.setdefault((r[0], r[1]), {})[r[3]] = int(r[4])
    out: dict[str, str | None] = dict.fromkeys(sorted({sector for _, sector in spend}))
    for (period, sector), w in sorted(spend.items()):
        if out[sector] is None and w["inference"] >= w["training"]:
            out[sector] = period
    return out


# ---------------------------------------------------------------------------------------------
# Writing and the entry point
# ---------------------------------------------------------------------------------------------


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
    logistic_k: float
    logistic_t0: float


def _write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)


def build(raw_csv: Path = RAW, out_dir: Path = DATA_DIR) -> BuildSummary:
    """Curate ``raw_csv`` and write every shipped data file under ``out_dir`` deterministically."""
    raw_bytes = raw_csv.read_bytes()
    rows = read_raw(raw_csv)
    cur = curate(rows)
    d = derive(cur.estimates)
    raw_out = out_dir / "raw" / "public_estimates.csv"
    if raw_out.resolve() != raw_csv.resolve():
        raw_out.parent.mkdir(parents=True, exist_ok=True)
        raw_out.write_bytes(raw_bytes)
    _write_csv(
        out_dir / "sources.csv",
        SOURCE_COLUMNS,
        ([s.source_id, s.publisher, s.title, s.source_date, s.url] for s in cur.sources),
    )
    _write_csv(
        out_dir / "published_estimates.csv",
        ESTIMATE_COLUMNS,
        (
            [
                e.estimate_id,
                e.metric,
                e.scope,
                e.sector,
                e.year,
                e.period,
                _fmt(e.value),
                e.unit,
                e.kind,
                e.source_id,
                e.note,
            ]
            for e in cur.estimates
        ),
    )
    history = spend_rows(d)
    _write_csv(out_dir / "spend_history.csv", SPEND_COLUMNS, history)
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
        d.logistic.k,
        d.logistic.t0,
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


def main(argv: list[str] | None = None) -> int:
    """``python -m forecasting.build_data [--check]``: rebuild the shipped data, or verify it is current."""
    parser = argparse.ArgumentParser(prog="python -m forecasting.build_data", description=main.__doc__)
    parser.add_argument("--check", action="store_true", help="rebuild into a temp dir; exit 1 if anything differs")
    parser.add_argument("--raw", type=Path, default=RAW, help="raw research CSV")
    parser.add_argument("--out", type=Path, default=DATA_DIR, help="output data directory")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if args.check:
        stale = check(args.raw, args.out)
        for name in stale:
            logger.error("%s differs from a fresh build; run python -m forecasting.build_data", name)
        return 1 if stale else 0
    build(args.raw, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
