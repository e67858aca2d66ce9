"""Structural sample paths: the total's level from the forecast engine, the split from the share model.

For sample path ``i``, definition ``d``, sector ``s`` and quarter ``t`` (modelled history and forecast):

    S_si(t) = T_i(t) * w_si(t)                            sector spend
    logit s_si(t) = logit s_di(t) + delta_si + c_i(t)     sector inference share
    training = S_si (1 - s_si),   inference = S_si s_si

* ``T_i`` is the modelled total of the history, then the engine's paths of that total;
* ``w_si`` are the sector weights of the modelled history, then a random walk in logs around the
  last ones (:data:`WEIGHT_SD_FLOOR`, scaled by how much the history's weights moved), renormalised;
* ``s_di`` is the share model's curve of draw ``i`` (``share.ShareDraws``);
* a sector that adopted AI earlier (``gap_s``, its adoption logit above the cross-sector mean) is
  further along the curve: its share is the total's curve at ``t + beta_i gap_s`` (``beta_i`` years
  per logit unit, drawn from :data:`BETA_RANGE`), plus a sector offset ``eps_si ~ Normal(0,
  SECTOR_NOISE)`` in logit; ``delta_si`` above stands for both;
* ``c_i(t)`` makes the spend-weighted mean of the sector shares equal the total's curve.

The total is the sum of the sectors on every path by construction, every sector moves with the one
total (so sector growth rates correlate as the history's do), and a sector shrinks only if its
weight does.  ``docs/data.md`` section 2.6 states each prior and its source.
"""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from scipy import special

from .config import SECTORS, WORKLOADS, series_id
from .drivers import SECTOR_ADOPTION
from .frames import DS, UID, Y
from .paths import SamplePaths
from .share import DEFAULT_DEFINITION, Anchor, ShareDraws, fit

#: Years the curve moves per logit unit of adoption gap: 0 (adoption says nothing about where a
#: sector's spend goes) to 1 / 0.27 = 3.7 (the slowest diffusion rate of Eurostat's AI adoption series).
BETA_RANGE = (0.0, 3.7)
#: Sd of a sector's own logit offset: Gallup counts workers using AI weekly, not where a sector's AI
#: spend goes; a quarter of the 1.5-logit spread between the top and bottom sector figures.
SECTOR_NOISE = 0.35
#: Least yearly sd of the log sector weights beyond the history (the history's own movement counts if larger).
WEIGHT_SD_FLOOR = 0.05
#: Sd of a sector's weight level in logs: IDC's sector figures are one vendor's estimates and forecasts.
LEVEL_SD = 0.2
#: Sectors whose only published weight is a lower bound (IDC 2017: "more than $1bn" each for healthcare,
#: discrete and process manufacturing): their level is the bound times 1 + |Normal(0, BOUND_SPREAD)|.
BOUND_SECTORS = ("healthcare", "manufacturing")
BOUND_SPREAD = 0.5
#: Gallup's professional-services figure (in ``other``) joins the sector figures in the cross-sector mean.
_REFERENCE_EXTRA = (0.30,)
#: Sectors whose adoption figure is not on Gallup's definition sit at the mean (gap 0).
_AT_THE_MEAN = ("public_sector", "other")


def adoption_gaps(sectors: Sequence[str]) -> np.ndarray:
    """Per sector, its adoption logit minus the mean of the Gallup sector figures (0 when not comparable)."""
    gallup = [a for s, (a, _, _) in SECTOR_ADOPTION.items() if s not in _AT_THE_MEAN]
    mean = float(np.mean(special.logit(np.array([*gallup, *_REFERENCE_EXTRA]))))
    gaps = []
    for s in sectors:
        known = s in SECTOR_ADOPTION and s not in _AT_THE_MEAN
        gaps.append(float(special.logit(SECTOR_ADOPTION[s][0])) - mean if known else 0.0)
    return np.array(gaps)


@dataclass(frozen=True, eq=False)
class SplitDraws:
    """Per path: the adoption lag, each sector's own offset and the sector-weight shocks."""

    beta: np.ndarray  # (n,)
    eps: np.ndarray  # (n, S)
    shocks: np.ndarray  # (n, S) standard normals of the weights' random walk
    level: np.ndarray  # (n, S) multiplier of each sector's weight, history and forecast
    weight_sd: float  # yearly sd of the log weights beyond the history

    @classmethod
    def draw(cls, sectors: Sequence[str], n: int, weight_sd: float, seed: int) -> SplitDraws:
        """Draws for ``n`` paths (deterministic for a seed)."""
        rng = np.random.default_rng([seed, 4411])
        size = (n, len(sectors))
        beta, eps, shocks = rng.uniform(*BETA_RANGE, n), rng.normal(0.0, SECTOR_NOISE, size), rng.standard_normal(size)
        point, bound = np.exp(rng.normal(0.0, LEVEL_SD, size)), 1 + np.abs(rng.normal(0.0, BOUND_SPREAD, size))
        on_bound = np.array([s in BOUND_SECTORS for s in sectors])
        return cls(beta, eps, shocks, np.where(on_bound[None, :], bound, point), float(weight_sd))

    @classmethod
    def centre(cls, n: int, n_sectors: int) -> SplitDraws:
        """``n`` paths at the prior median adoption lag, with no sector noise, shocks or level change."""
        zeros = np.zeros((n, n_sectors))
        return cls(np.full(n, sum(BETA_RANGE) / 2), zeros, zeros, np.ones((n, n_sectors)), 0.0)

    def to_arrays(self) -> dict[str, np.ndarray]:
        """Plain arrays (what a run stores)."""
        return {
            "beta": self.beta,
            "eps": self.eps,
            "shocks": self.shocks,
            "level": self.level,
            "weight_sd": np.array([self.weight_sd]),
        }

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> SplitDraws:
        """Inverse of :meth:`to_arrays`."""
        return cls(arrays["beta"], arrays["eps"], arrays["shocks"], arrays["level"], float(arrays["weight_sd"][0]))


def mid_year(periods: pd.DatetimeIndex) -> np.ndarray:
    """Each quarter's midpoint as a decimal year (2023Q1 -> 2023.125)."""
    return np.asarray(periods.year + (periods.quarter - 0.5) / 4, dtype=float)


def history_weight_sd(spend: np.ndarray) -> float:
    """Yearly sd of the log sector weights over the last three years of history, floored."""
    weights = spend / spend.sum(axis=0, keepdims=True)
    logw = np.log(np.maximum(weights[:, -13:], 1e-12))
    yearly = logw[:, 4:] - logw[:, :-4]
    sd = float(np.std(yearly)) if yearly.size else 0.0
    return max(sd, WEIGHT_SD_FLOOR)


def calibrate_offset(weights: np.ndarray, logits: np.ndarray, target: np.ndarray, steps: int = 12) -> np.ndarray:
    """``c`` with ``sum_s w_s expit(logit_s + c) = target`` (Newton; sectors on axis -2, last axis time)."""
    c = np.zeros(target.shape)
    for _ in range(steps):
        s = special.expit(logits + c[..., None, :])
        f = (weights * s).sum(axis=-2) - target
        df = (weights * s * (1 - s)).sum(axis=-2)
        c = np.clip(c - f / np.maximum(df, 1e-12), -30.0, 30.0)
    return c


def sector_shares(
    draws: ShareDraws, split: SplitDraws, definition: str, gaps: np.ndarray, weights: np.ndarray, t: np.ndarray
) -> np.ndarray:
    """``s_si(t)``, shape (n, S, len(t)): sector inference shares that average to the total's curve."""
    total = draws.logit(definition, t)  # (n, T)
    lead = split.beta[:, None] * gaps[None, :]  # (n, S) years a sector is ahead on the curve
    logits = draws.logit(definition, t[None, None, :] + lead[:, :, None]) + split.eps[:, :, None]
    c = calibrate_offset(weights, logits, special.expit(total))
    return special.expit(logits + c[:, None, :])


def central_shares(
    draws: ShareDraws, definition: str, gaps: np.ndarray, weights: np.ndarray, t: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The modelled history's split: the total's median curve and sector shares averaging to it.

    Sector shares are the median over draws at the prior median adoption lag and no sector noise,
    moved by one common logit offset per quarter so that their spend-weighted mean (``weights``,
    shape (S, T)) equals the median total share.  Returns ``(total (T,), sectors (S, T))``.
    """
    middle = SplitDraws.centre(draws.n, len(gaps))
    sectors = np.median(sector_shares(draws, middle, definition, gaps, weights[None], t), axis=0)
    total = np.median(draws.share(definition, t), axis=0)
    logits = special.logit(np.clip(sectors, 1e-12, 1 - 1e-12))
    c = calibrate_offset(weights, logits, total)
    return total, special.expit(logits + c[None, :])


def path_weights(weights: np.ndarray, split: SplitDraws) -> np.ndarray:
    """History weights (S, T) per path: each sector's level drawn, renormalised: (n, S, T)."""
    w = weights[None] * split.level[:, :, None]
    return w / w.sum(axis=1, keepdims=True)


def future_weights(last: np.ndarray, split: SplitDraws, horizon: int) -> np.ndarray:
    """Sector weights per path beyond the history, from each path's last ones (n, S): (n, S, H), columns sum to 1."""
    years = np.sqrt((np.arange(horizon) + 1) / 4.0)
    logw = np.log(last)[:, :, None] + split.weight_sd * split.shocks[:, :, None] * years[None, None, :]
    w = np.exp(logw - logw.max(axis=1, keepdims=True))
    return w / w.sum(axis=1, keepdims=True)


@dataclass(frozen=True, eq=False)
class Structure:
    """Everything the structural paths are built from (the history is one modelled value per quarter)."""

    sectors: tuple[str, ...]
    back_periods: pd.DatetimeIndex
    spend: np.ndarray  # (S, n_back) modelled sector spend (training + inference) per history quarter
    periods: pd.DatetimeIndex
    total: np.ndarray  # (n, H) the engine's paths of the total
    draws: ShareDraws
    split: SplitDraws

    def build(self, definition: str) -> tuple[np.ndarray, np.ndarray]:
        """``(back, future)``: per-path spend, shapes (n, S, 2, n_back) and (n, S, 2, H), USD."""
        gaps = adoption_gaps(self.sectors)
        total_hist = self.spend.sum(axis=0)
        hist_w = path_weights(self.spend / total_hist[None, :], self.split)
        back_s = sector_shares(self.draws, self.split, definition, gaps, hist_w, mid_year(self.back_periods))
        fut_w = future_weights(hist_w[:, :, -1], self.split, len(self.periods))
        fut_s = sector_shares(self.draws, self.split, definition, gaps, fut_w, mid_year(self.periods))
        back_spend = total_hist[None, None, :] * hist_w
        fut_spend = self.total[:, None, :] * fut_w
        back = np.stack([back_spend * (1 - back_s), back_spend * back_s], axis=2)
        future = np.stack([fut_spend * (1 - fut_s), fut_spend * fut_s], axis=2)
        return back, future


def structural_sectors(sectors: Sequence[str]) -> tuple[str, ...]:
    """The sectors the structural model covers, in display order: the configured ones."""
    return tuple(s for s in SECTORS if s in set(sectors))


# --------------------------------------------------------------------------- runs: plan, complete, store, attach

#: Id of the one series the engine fits for the structural sectors: their total spend, both workloads.
TOTAL_SERIES = "total/spend"
#: Model name of the structural sector series in the forecasts and status tables.
MODEL = "structural"


@dataclass(frozen=True)
class Plan:
    """Which sectors the structural model covers and what the engine fits (their total, and the rest)."""

    sectors: tuple[str, ...]
    engine_history: pd.DataFrame  # unique_id, ds, y: the statistical sectors' series plus TOTAL_SERIES
    back_periods: pd.DatetimeIndex
    spend: np.ndarray  # (S, n_back) modelled spend of each structural sector


def plan(history: pd.DataFrame, user_sectors: set[str], has_anchors: bool) -> Plan:
    """Split the history between the structural model and the statistical engine.

    A sector is structural when the database holds share anchors, the sector is one of the shipped
    sectors and none of its rows were imported by a user; everything else keeps the engine.
    """
    parts = history[UID].str.rpartition("/")
    sectors = structural_sectors(sorted(set(parts[0]) - user_sectors)) if has_anchors else ()
    mine = parts[0].isin(sectors)
    if not sectors:
        return Plan((), history, pd.DatetimeIndex([]), np.zeros((0, 0)))
    spend = history[mine].assign(sector=parts[0][mine]).pivot_table(index="sector", columns=DS, values=Y, aggfunc="sum")
    counts = history[mine].groupby(DS)[UID].nunique()
    complete = counts.index[counts == 2 * len(sectors)]
    spend = spend.loc[list(sectors), sorted(complete)]
    total = pd.DataFrame({UID: TOTAL_SERIES, DS: spend.columns, Y: spend.sum(axis=0).to_numpy()})
    engine = pd.concat([history[~mine], total], ignore_index=True).sort_values([UID, DS], ignore_index=True)
    return Plan(tuple(sectors), engine, pd.DatetimeIndex(spend.columns), spend.to_numpy(float))


def anchors_of(frame: pd.DataFrame) -> list[Anchor]:
    """Share anchors as stored (``share_anchors_all``)."""
    return [
        Anchor(str(r.definition), float(r.t), float(r.value), str(r.bound), str(r.anchor_id), str(r.published))
        for r in frame.itertuples(index=False)
    ]


def structure_for(
    p: Plan, anchors: Sequence[Anchor], total: np.ndarray, periods: pd.DatetimeIndex, seed: int
) -> Structure:
    """Fit the share model and draw the split for the planned sectors, one draw per path of ``total``."""
    n = total.shape[0]
    draws = fit(anchors, n, seed=seed)
    split = SplitDraws.draw(p.sectors, n, history_weight_sd(p.spend), seed)
    return Structure(p.sectors, p.back_periods, p.spend, periods, total, draws, split)


def sector_series(structure: Structure, definition: str = DEFAULT_DEFINITION) -> dict[str, np.ndarray]:
    """Per ``sector/workload`` id, the structural future paths (n, H) under ``definition``."""
    _, future = structure.build(definition)
    return {
        series_id(s, w): future[:, j, i, :] for j, s in enumerate(structure.sectors) for i, w in enumerate(WORKLOADS)
    }


def forecast_rows(paths: dict[str, np.ndarray], periods: pd.DatetimeIndex) -> pd.DataFrame:
    """Forecast rows (FORECAST_COLUMNS) of structural series: the paths' median and central 80%/95% ranges."""
    rows = []
    for uid, p in sorted(paths.items()):
        q = np.quantile(p, [0.5, 0.1, 0.9, 0.025, 0.975], axis=0)
        rows.append(
            pd.DataFrame(
                {
                    UID: uid,
                    DS: periods,
                    "model": MODEL,
                    "yhat": q[0],
                    "yhat_lower_80": q[1],
                    "yhat_upper_80": q[2],
                    "yhat_lower_95": q[3],
                    "yhat_upper_95": q[4],
                }
            )
        )
    return pd.concat(rows, ignore_index=True)


def to_store(structure: Structure) -> tuple[str, bytes]:
    """``(meta_json, blob)`` of a run's ``run_structural`` row: the draws, no pickle."""
    meta = {
        "version": 1,
        "sectors": list(structure.sectors),
        "definitions": list(structure.draws.definitions),
        "total_series": TOTAL_SERIES,
        "fits": [
            {"family": f.family, "weight": f.weight, "ess": f.ess, "log_evidence": f.log_evidence}
            for f in structure.draws.fits
        ],
        "anchors": [a.ref for a in structure.draws.anchors],
    }
    buf = io.BytesIO()
    arrays = {f"share_{k}": v for k, v in structure.draws.to_arrays().items()}
    arrays.update({f"split_{k}": v for k, v in structure.split.to_arrays().items()})
    np.savez(buf, allow_pickle=False, **arrays)
    return json.dumps(meta, sort_keys=True), buf.getvalue()


def from_store(
    meta_json: str, blob: bytes, history: pd.DataFrame, total: np.ndarray, periods: pd.DatetimeIndex
) -> Structure:
    """Rebuild a run's :class:`Structure` from its stored draws, the history it saw and the total's paths."""
    meta = json.loads(meta_json)
    with np.load(io.BytesIO(bytes(blob)), allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    draws = ShareDraws.from_arrays(meta["definitions"], {k[6:]: v for k, v in arrays.items() if k.startswith("share_")})
    split = SplitDraws.from_arrays({k[6:]: v for k, v in arrays.items() if k.startswith("split_")})
    p = plan(history, set(), True)
    if p.sectors != tuple(meta["sectors"]):
        raise ValueError(f"stored structural sectors {meta['sectors']} do not match the run's history {p.sectors}")
    return Structure(p.sectors, p.back_periods, p.spend, periods, total, draws, split)


def attach(paths: SamplePaths, structure: Structure, definition: str = DEFAULT_DEFINITION) -> SamplePaths:
    """``paths`` with the structural sectors' paths under ``definition`` and every sector's per-path history.

    Statistical sectors keep their paths; their per-path history is the observed one on every path.
    """
    back, future = structure.build(definition)
    n = paths.n_paths
    grid = structure.back_periods
    full_back = np.full((n, len(paths.sectors), 2, len(grid)), np.nan)
    new = paths.paths.copy()
    for j, s in enumerate(paths.sectors):
        if s in structure.sectors:
            k = structure.sectors.index(s)
            full_back[:, j] = back[:, k]
            new[:, j] = future[:, k]
            continue
        ds, train, infer = paths.history_of(s)
        pos = grid.get_indexer(pd.DatetimeIndex(ds))
        keep = pos >= 0
        full_back[:, j, 0, pos[keep]] = train[keep]
        full_back[:, j, 1, pos[keep]] = infer[keep]
    return replace(paths, paths=new, back=full_back, back_periods=grid)
