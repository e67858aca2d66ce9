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
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from forecasting import share, structural
from forecasting.config import SECTORS, WORKLOADS
from forecasting.databuild.anchors import Curation, share_anchors
from forecasting.databuild.curate import Estimate, Lookup
from forecasting.drivers import SECTOR_ADOPTION
from forecasting.share import Anchor, ShareDraws

FIRST_PERIOD, LAST_PERIOD = "2019Q1", "2026Q3"  # last complete quarter on 2026-11-28
REGION = "worldwide"
#: Year-on-year growth NVIDIA stated with its FY2023Q1 data-center revenue (3.75, "up 83%"): fills FY2022Q1.
FY2023Q1_YOY_GROWTH = 0.83
#: Draws of the share model behind the history's central split, and their seed (fixed: the build is deterministic).
CENTRAL_DRAWS, SHARE_SEED = 2000, 20261128


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
class SectorAnchor:
    """A sector's published share of worldwide AI spend in one calendar year."""

    sector: str
    year: int
    share: float
    source_ids: tuple[str, ...]


@dataclass(frozen=True)
class Derivation:
    """Everything the spend history is built from, kept for the tests and the docs."""

    quarters: tuple[str, ...]
    indicator: tuple[float, ...]  # calendarised NVIDIA data-center revenue, usd_billion, with modelled fills
    annual_totals: dict[int, float]  # usd_billion, one per calendar year
    annual_kind: dict[int, str]  # "published" (Gartner figure) or "modelled" (ratio backcast)
    total_q: tuple[float, ...]  # usd_billion per quarter after Denton
    share_anchors: tuple[tuple[Curation, Anchor], ...]
    draws: ShareDraws  # the share model's posterior (structural.py builds the split from it)
    sector_anchors: tuple[SectorAnchor, ...]
    indicator_source_ids: tuple[str, ...]
    total_source_ids: tuple[str, ...]
    adoption_source_ids: tuple[str, ...]
    share_source_ids: tuple[str, ...]


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
    # FY2022Q1: NVIDIA's FY2023Q1 release states data-center revenue of 3.75 "up 83% year on year"
    # (derived arithmetic: 3.75 / 1.83 = 2.049); a geometric mean of the neighbours gave 2.122, 3.6% high.
    values["FY2022Q1"] = values["FY2023Q1"] / (1 + FY2023Q1_YOY_GROWTH)
    fills["FY2022Q1"] = "FY2023Q1 divided by 1.83 (its stated year-on-year growth)"
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
    anchors = tuple(share_anchors(estimates))
    draws = share.fit([a for _, a in anchors], CENTRAL_DRAWS, seed=SHARE_SEED)
    total_ids = tuple(sorted(set(nv_ids) | {e.source_id for e in gartner.values()}))
    by_id = {e.estimate_id: e for e in estimates}
    adoption_ids = tuple(sorted({by_id[e].source_id for _, _, e in SECTOR_ADOPTION.values()}))
    share_ids = tuple(sorted({by_id[i].source_id for c, _ in anchors for i in (c.num, c.den) if i}))
    return Derivation(
        tuple(_quarters(f"{years[0]}Q1", f"{years[-1]}Q4")),
        tuple(ind),
        totals,
        kinds,
        tuple(float(v) for v in total_q),
        anchors,
        draws,
        _sector_anchors(lk),
        tuple(sorted(set(nv_ids))),
        total_ids,
        adoption_ids,
        share_ids,
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
    base = "denton-pfd(nvidia-dc)+share-model(central)+sector-lag(adoption)+sector-share"
    if d.annual_kind[year] == "modelled":
        return "ratio-backcast+" + base
    if year > 2025:
        return base.replace("nvidia-dc", "nvidia-dc-extrapolated")
    return base


def history_split(d: Derivation) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per history quarter: sector spend weights (S, T), the total's inference share (T,) and the sectors' (S, T).

    The split is the structural model's centre (``structural.central_shares``), so the modelled
    history and the refresh's sample paths come from one model.
    """
    labels = _quarters(FIRST_PERIOD, LAST_PERIOD)
    weights = np.array([[sector_shares(d.sector_anchors, _mid_year(q))[s] for q in labels] for s in SECTORS])
    t = np.array([_mid_year(q) for q in labels])
    gaps = structural.adoption_gaps(tuple(SECTORS))
    total, sectors = structural.central_shares(d.draws, share.DEFAULT_DEFINITION, gaps, weights, t)
    return weights, total, sectors


def spend_rows(d: Derivation) -> list[list[str]]:
    """The ``data/spend_history.csv`` rows (without header), sorted by period, sector, workload."""
    # A named sector's share depends on its own anchors; "other" (the remainder) depends on all of them.
    sector_ids = {
        s: sorted({i for a in d.sector_anchors if s in (a.sector, "other") for i in a.source_ids}) for s in SECTORS
    }
    weights, total_share, sector_share = history_split(d)
    names = list(SECTORS)
    rows: list[list[str]] = []
    for k, label in enumerate(_quarters(FIRST_PERIOD, LAST_PERIOD)):
        total = round(d.total_q[k] * 1e9)
        inference = round(total * float(total_share[k]))
        # Each workload is split by the sectors' spend on it, so workloads and sectors both add up exactly.
        split = {
            "inference": [weights[j, k] * sector_share[j, k] for j in range(len(names))],
            "training": [weights[j, k] * (1.0 - sector_share[j, k]) for j in range(len(names))],
        }
        amounts = {"training": total - inference, "inference": inference}
        ids_all = set(d.total_source_ids) | set(d.share_source_ids) | set(d.adoption_source_ids)
        for workload in WORKLOADS:
            parts = _largest_remainder(amounts[workload], split[workload])
            for sector, usd in zip(names, parts, strict=True):
                ids = sorted(ids_all | set(sector_ids[sector]))
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
