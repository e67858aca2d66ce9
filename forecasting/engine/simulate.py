"""Stage 5, joint paths: correlated sample paths for the series of each group.

Series sharing a group key are drawn together: the correlation of their de-seasonalised first
differences (on the model scale, aligned by date, made positive definite) correlates one set of
standard normals per path, accumulated over steps like a random walk and rescaled to unit variance,
then mapped through each series' calibrated quantile function. Every path's marginal at every step
matches the published intervals; seeds come from :func:`stable_seed`, so paths are identical across
runs, processes and executors.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

import numpy as np
import pandas as pd
from scipy import stats

from forecasting.engine.calibrate import P_GRID, CalibratedForecast
from forecasting.engine.prepare import Calendar, PreparedSeries, from_model_scale, keep_nonnegative, to_model_scale


def stable_seed(seed: int, key: str) -> int:
    """A 32-bit seed from the run seed and a key, stable across processes (unlike ``hash``)."""
    digest = int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "little")
    return int(np.random.SeedSequence([seed, digest]).generate_state(1)[0])


def innovations(y: np.ndarray, transform: str, season: int) -> np.ndarray:
    """First differences of ``y`` on the model scale, less their season means (or their mean)."""
    d = np.diff(to_model_scale(y, transform))
    if season > 1 and len(d) >= 2 * season:
        pos = np.arange(len(d)) % season
        means = np.array([d[pos == s].mean() for s in range(season)])
        return d - means[pos]
    return d - d.mean() if len(d) else d


def residual_correlation(residuals: Mapping[str, pd.Series], min_overlap: int = 8) -> np.ndarray:
    """Correlation of aligned residual series (0 where fewer than ``min_overlap`` shared dates), made PSD."""
    keys = list(residuals)
    frame = pd.DataFrame({k: residuals[k] for k in keys})
    corr = frame.corr(min_periods=min_overlap).reindex(index=keys, columns=keys).to_numpy(dtype=float)
    corr = np.nan_to_num(corr, nan=0.0)
    np.fill_diagonal(corr, 1.0)
    vals, vecs = np.linalg.eigh(corr)
    corr = (vecs * np.clip(vals, 1e-6, None)) @ vecs.T
    d = np.sqrt(np.diag(corr))
    return corr / np.outer(d, d)


def joint_normals(corr: np.ndarray, n_paths: int, horizon: int, seed: int) -> np.ndarray:
    """(n_series, n_paths, horizon) N(0,1) draws, correlated across series and random-walk-like over steps."""
    rng = np.random.default_rng(seed)
    chol = np.linalg.cholesky(corr)
    eps = rng.standard_normal((n_paths, horizon, len(corr))) @ chol.T
    w = np.cumsum(eps, axis=1) / np.sqrt(np.arange(1, horizon + 1))[None, :, None]
    return np.moveaxis(w, 2, 0)


def group_members(uids: list[str], groups: Mapping[str, str]) -> dict[str, list[str]]:
    """Series ids by group key, in id order; a series without a group is a group of its own."""
    members: dict[str, list[str]] = {}
    for uid in sorted(uids):
        members.setdefault(groups.get(uid, f"\x00{uid}"), []).append(uid)
    return members


def group_correlation(series: list[PreparedSeries], transforms: list[str], calendar: Calendar) -> np.ndarray:
    """Correlation of the innovations of a group's series, aligned on their dates (1x1 for one series)."""
    if len(series) == 1:
        return np.ones((1, 1))
    resid = {}
    for p, transform in zip(series, transforms, strict=True):
        r = innovations(p.y, transform, calendar.season)
        # Aligned on the periods' ordinals: the series of a group share the frequency.
        last = int(calendar.ordinals(pd.DatetimeIndex([p.last]))[0])
        resid[p.uid] = pd.Series(r, index=last + np.arange(-len(r) + 1, 1))
    return residual_correlation(resid)


def joint_paths(
    series: Mapping[str, PreparedSeries],
    forecasts: Mapping[str, CalibratedForecast],
    groups: Mapping[str, str],
    calendar: Calendar,
    n_paths: int,
    seed: int,
) -> dict[str, np.ndarray]:
    """(n_paths, horizon) sample paths in original units for each series of ``forecasts``, drawn group by group.

    ``groups`` maps an id to its group key; the group's draws are seeded by ``stable_seed(seed, key)``.
    """
    paths: dict[str, np.ndarray] = {}
    for key, uids in sorted(group_members(list(forecasts), groups).items()):
        members = [series[uid] for uid in uids]
        corr = group_correlation(members, [forecasts[uid].choice.transform for uid in uids], calendar)
        horizon = len(forecasts[uids[0]].choice.mean)
        u = stats.norm.cdf(joint_normals(corr, n_paths, horizon, stable_seed(seed, key)))
        for i, uid in enumerate(uids):
            paths[uid] = _paths_of(forecasts[uid], u[i], series[uid].y)
    return paths


def _paths_of(forecast: CalibratedForecast, u: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Map uniforms ``u`` (n_paths, horizon) through a series' calibrated quantiles, in original units."""
    c, dev = forecast.choice, forecast.dev
    z = np.empty(u.shape)
    for k in range(u.shape[1]):
        z[:, k] = c.mean[k] + np.interp(u[:, k], P_GRID, dev[k])
    return keep_nonnegative(from_model_scale(z, c.transform), y)
