"""Derive the quarterly spend history from the curated published figures.

The total: NVIDIA data-center revenue, calendarised and extended, is the quarterly indicator;
Gartner's AI-optimised IaaS spend (and a 2024-ratio backcast before it) gives the annual totals;
proportional Denton benchmarking spreads them over the quarters.  The split: a logistic inference
share fitted to published shares, shifted in time per sector by published AI adoption (the
spend-weighted total held on the curve), and sector shares interpolated between IDC anchors.
``docs/data.md`` section 2 explains every step.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from forecasting.config import SECTORS, WORKLOADS
from forecasting.databuild.curate import Estimate, Lookup

FIRST_PERIOD, LAST_PERIOD = "2019Q1", "2026Q3"  # last complete quarter on 2026-11-28
REGION = "worldwide"
#: Largest |published - fitted| inference share accepted at the Gartner IaaS anchors, weight 3 (see docs/data.md).
SHARE_TOLERANCE_PRIMARY = 0.04
#: Largest |published - fitted| inference share accepted at any anchor of the fit.
SHARE_TOLERANCE_ANY = 0.09
#: Years the inference-share midpoint moves per unit of adoption logit below the reference (docs/data.md 2.5).
SECTOR_SHIFT_BETA = 2.5


def _quarters(first: str, last: str) -> list[str]:
    """Quarter labels from ``first`` through ``last`` inclusive (``2019Q1`` ... ``2026Q3``)."""
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


def _nvidia_fiscal(lk: Lookup) -> tuple[dict[str, float], list[str], dict[str, str]]:
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


def _share_anchors(lk: Lookup) -> tuple[ShareAnchor, ...]:
    """The published inference shares the logistic curve is fitted to, with their weights (docs/data.md 2.4)."""
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


def _sector_anchors(lk: Lookup) -> tuple[SectorAnchor, ...]:
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
    """log(p / (1 - p))."""
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


def _sector_shifts(lk: Lookup) -> tuple[SectorShift, ...]:
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


def _indicator(fiscal: dict[str, float], years: Sequence[int]) -> list[float]:
    """Calendarised NVIDIA DC revenue for every quarter of ``years``, from FIRST_PERIOD.

    Beyond the last fiscal quarter in the file (calendar 2025Q4), the indicator is extended at its
    mean quarterly growth over the last four quarters.
    """
    observed = _quarters(FIRST_PERIOD, "2025Q4")
    ind = calendarise_nvidia(fiscal, observed)
    g = (ind[-1] / ind[-5]) ** 0.25
    return ind + [ind[-1] * g ** (h + 1) for h in range(4 * len(years) - len(observed))]


def _annual_totals(
    indicator_by_year: dict[int, float], published: dict[int, float]
) -> tuple[dict[int, float], dict[int, str]]:
    """Each year's total and kind: the published figure, or before 2024 the indicator at the 2024 ratio.

    ``published`` must include 2024; the result holds the years of ``indicator_by_year``.
    """
    ratio_2024 = published[2024] / indicator_by_year[2024]
    totals: dict[int, float] = {}
    kinds: dict[int, str] = {}
    for y in indicator_by_year:
        if y in published:
            totals[y], kinds[y] = published[y], "published"
        else:  # before 2024: cloud AI spend moves with NVIDIA DC revenue at the 2024 ratio
            totals[y], kinds[y] = ratio_2024 * indicator_by_year[y], "modelled"
    return totals, kinds


def derive(estimates: Sequence[Estimate]) -> Derivation:
    """Quarterly total cloud AI spend (usd_billion), the inference-share curve and sector share anchors."""
    lk = Lookup(estimates)
    fiscal, nv_ids, _ = _nvidia_fiscal(lk)
    years = list(range(int(FIRST_PERIOD[:4]), int(LAST_PERIOD[:4]) + 1))
    ind = _indicator(fiscal, years)
    ann_ind = {y: sum(ind[4 * k : 4 * k + 4]) for k, y in enumerate(years)}
    gartner = {y: lk.one("ai_optimized_iaas_spend", "global", "cloud_ai_iaas", y, "") for y in (2024, 2025, 2026)}
    totals, kinds = _annual_totals(ann_ind, {y: e.value for y, e in gartner.items()})
    total_q = denton_pfd(np.array(ind), np.array([totals[y] for y in years]))
    anchors = _share_anchors(lk)
    total_ids = tuple(sorted(set(nv_ids) | {e.source_id for e in gartner.values()}))
    return Derivation(
        tuple(_quarters(f"{years[0]}Q1", f"{years[-1]}Q4")),
        tuple(ind),
        totals,
        kinds,
        tuple(float(v) for v in total_q),
        fit_logistic(anchors),
        anchors,
        _sector_anchors(lk),
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
    """The ``method`` text of a history row in ``year``: how its total was benchmarked and split."""
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
