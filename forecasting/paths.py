"""Joint sample paths of future spend: the container every scenario, crossover and fan is computed from.

The forecast engine draws, per sector, correlated sample paths of both workloads.  A refresh stores
them one series at a time (:func:`to_bytes`); a reader stacks them back into one
:class:`SamplePaths` (:func:`from_series`), which scenarios transform (``scenario.apply_scenario``)
and crossovers read (``crossover``).  The history the paths continue travels with them, so a
crossover inside history and one in the forecast come from one object.
"""

from __future__ import annotations

import io
import logging
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import cached_property, reduce

import numpy as np
import pandas as pd

from .config import SECTORS, TOTAL, WORKLOADS, series_id, split_series_id, valid_sector
from .frames import DS, UID, Y, validate_history

log = logging.getLogger(__name__)

History = tuple[np.ndarray, np.ndarray, np.ndarray]  # ds (datetime64[ns]), training, inference


def _check_periods(periods: pd.DatetimeIndex) -> None:
    months = periods.values.astype("datetime64[M]")
    starts = months.astype("datetime64[ns]") == periods.values
    steps = np.diff(months.astype(np.int64))
    if not starts.all() or (months.astype(np.int64) % 3 != 0).any() or (steps != 3).any():
        raise ValueError("periods must be consecutive quarter starts (e.g. 2026-01-01, 2026-04-01, ...)")


@dataclass(frozen=True, eq=False)  # arrays and frames have no single truth value; compare by identity
class SamplePaths:
    """Joint sample paths of future spend per sector and workload, plus the history they continue."""

    sectors: tuple[str, ...]
    periods: pd.DatetimeIndex
    paths: np.ndarray  # (n_paths, n_sectors, 2, H), USD, [:, :, 0] training, [:, :, 1] inference
    history: pd.DataFrame  # unique_id, ds, y
    #: Per-path modelled history (n_paths, n_sectors, 2, n_back), NaN where a sector has no value; None
    #: when the history is one observed value per quarter (then ``history`` is all there is).
    back: np.ndarray | None = None
    back_periods: pd.DatetimeIndex | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "sectors", tuple(self.sectors))
        bad = [s for s in self.sectors if not valid_sector(s)]
        if bad or len(set(self.sectors)) != len(self.sectors):
            raise ValueError(f"sectors must be distinct sector ids (not '{TOTAL}'); bad: {bad or self.sectors}")
        p = self.paths
        if p.ndim != 4 or p.shape[1:] != (len(self.sectors), 2, len(self.periods)) or p.shape[0] < 1:
            raise ValueError(
                f"paths must have shape (n_paths, {len(self.sectors)}, 2, {len(self.periods)}), got {p.shape}"
            )
        if not np.isfinite(p).all() or (p < 0).any():
            raise ValueError("paths must be finite and >= 0 (USD)")
        object.__setattr__(self, "periods", pd.DatetimeIndex(self.periods))
        _check_periods(self.periods)
        if self.back is not None:
            self._check_back()

    def _check_back(self) -> None:
        back, periods = self.back, self.back_periods
        if back is None or periods is None or len(periods) == 0:
            raise ValueError("per-path history needs its periods")
        periods = pd.DatetimeIndex(periods)
        object.__setattr__(self, "back_periods", periods)
        if back.shape != (self.n_paths, len(self.sectors), 2, len(periods)):
            raise ValueError(f"per-path history must have shape {(self.n_paths, len(self.sectors), 2, len(periods))}")
        _check_periods(pd.DatetimeIndex([*periods, self.periods[0]]))

    @property
    def n_paths(self) -> int:
        """Number of joint sample paths."""
        return int(self.paths.shape[0])

    @cached_property
    def history_arrays(self) -> dict[str, History]:
        """Per sector: (ds as datetime64[ns], training, inference) on quarters where both are observed."""
        empty: History = (np.array([], dtype="datetime64[ns]"), np.array([]), np.array([]))
        if len(self.history) == 0:
            return {s: empty for s in self.sectors}
        hist = validate_history(self.history)
        out: dict[str, History] = {}
        for s in self.sectors:
            t = hist[hist[UID] == series_id(s, "training")].set_index(DS)[Y]
            i = hist[hist[UID] == series_id(s, "inference")].set_index(DS)[Y]
            both = pd.concat([t, i], axis=1, join="inner").sort_index()
            both = both[both.index < self.periods[0]].dropna()
            out[s] = (
                both.index.values.astype("datetime64[ns]"),
                both.iloc[:, 0].to_numpy(float),
                both.iloc[:, 1].to_numpy(float),
            )
        return out

    def history_of(self, sector: str) -> History:
        """(ds, training, inference) of a sector or of the total (:meth:`total_history_sectors`' sum)."""
        arrays = self.history_arrays
        if sector != TOTAL:
            return arrays[sector]
        kept = [arrays[s] for s in self.total_history_sectors()]
        common = reduce(np.intersect1d, [a[0] for a in kept]) if kept else np.array([], "M8[ns]")
        train = np.zeros(len(common))
        infer = np.zeros(len(common))
        for ds, t, i in kept:
            pos = np.searchsorted(ds, common)
            train += t[pos]
            infer += i[pos]
        return common, train, infer

    def total_history_sectors(self) -> tuple[str, ...]:
        """The sectors the total's observed history sums, on the quarters they all have.

        A sector whose history is so short that it would cut the total's (an imported sector with one
        recent quarter) is left out of the total's history, not allowed to shorten it; its forecast
        still counts in the total's paths. Until 2026-12-02, $14 of spend imported for one quarter cut
        the total's history to that quarter and moved its crossover P50 by 4 quarters.
        """
        kept = {s: a[0] for s, a in self.history_arrays.items() if len(a[0])}
        while len(kept) > 1:
            span = len(reduce(np.intersect1d, list(kept.values())))
            shortest = min(kept, key=lambda s: (len(kept[s]), s))
            others = [ds for s, ds in kept.items() if s != shortest]
            if len(reduce(np.intersect1d, others)) <= span:
                break
            del kept[shortest]
        return tuple(kept)

    def back_of(self, sector: str) -> np.ndarray:
        """(n_paths, 2, n_back) per-path history of a sector, or the total's.

        The total's sums, on each quarter, the sectors observed in it (a sector that starts later adds
        nothing before its first quarter); it is NaN only where no sector is.
        """
        if self.back is None:
            raise ValueError("these paths carry no per-path history")
        if sector == TOTAL:
            seen = np.isfinite(self.back).any(axis=1)
            return np.where(seen, np.nansum(self.back, axis=1), np.nan)
        return self.back[:, self.sectors.index(sector)]

    def of(self, sector: str) -> np.ndarray:
        """(n_paths, 2, H) paths of a sector, or of the total summed path by path."""
        if sector == TOTAL:
            return self.paths.sum(axis=1)
        if sector not in self.sectors:
            raise ValueError(f"sector '{sector}' is not in the paths ({list(self.sectors)})")
        return self.paths[:, self.sectors.index(sector)]

    def subset(self, sectors: tuple[str, ...]) -> SamplePaths:
        """The same paths restricted to some of the sectors (in the order given)."""
        missing = [s for s in sectors if s not in self.sectors]
        if missing:
            raise ValueError(f"sectors {missing} are not in the paths ({list(self.sectors)})")
        idx = [self.sectors.index(s) for s in sectors]
        back = None if self.back is None else self.back[:, idx]
        new = replace(self, sectors=tuple(sectors), paths=self.paths[:, idx], back=back)
        if "history_arrays" in self.__dict__:
            new.__dict__["history_arrays"] = {s: self.__dict__["history_arrays"][s] for s in sectors}
        return new

    def with_paths(self, paths: np.ndarray) -> SamplePaths:
        """New forecast paths over the same sectors, periods and history (sharing its parsed arrays).

        The per-path history stays: a scenario changes the future only.  With fewer or more paths,
        path ``i`` keeps the history of path ``i % n_paths``.
        """
        back = self.back
        if back is not None and paths.shape[0] != back.shape[0]:
            back = back[np.arange(paths.shape[0]) % back.shape[0]]
        new = replace(self, paths=paths, back=back)
        if "history_arrays" in self.__dict__:
            new.__dict__["history_arrays"] = self.__dict__["history_arrays"]
        return new


def stack(paths: Mapping[str, np.ndarray], periods: pd.DatetimeIndex, history: pd.DataFrame) -> SamplePaths:
    """Stack the engine's ``{'<sector>/<workload>': (n_paths, H)}`` arrays into one :class:`SamplePaths`."""
    found = {}
    for key in paths:
        try:
            found[key] = split_series_id(key)[0]
        except ValueError:
            found[key] = ""
    unknown = sorted(k for k, sector in found.items() if not valid_sector(sector))
    if unknown:
        raise ValueError(f"unknown series {unknown}; expected '<sector>/<workload>' ids")
    named = set(found.values())
    sectors = tuple(s for s in SECTORS if s in named) + tuple(sorted(named - set(SECTORS)))
    missing = [series_id(s, w) for s in sectors for w in WORKLOADS if series_id(s, w) not in paths]
    if missing:
        raise ValueError(f"paths lack series {missing}; each sector needs both workloads")
    stacked = np.stack(
        [np.stack([np.asarray(paths[series_id(s, w)], dtype=float) for w in WORKLOADS], axis=1) for s in sectors],
        axis=1,
    )
    return SamplePaths(sectors, pd.DatetimeIndex(periods), stacked, history)


def from_series(
    paths: Mapping[str, np.ndarray], future_ds: Mapping[str, pd.DatetimeIndex], history: pd.DataFrame
) -> SamplePaths | None:
    """The :class:`SamplePaths` of every sector with both workloads on the periods most series forecast.

    Sectors missing a workload or forecasting other periods are left out (logged); ``None`` when no
    sector qualifies.
    """
    if not future_ds:
        return None
    common = Counter(tuple(ix) for ix in future_ds.values()).most_common(1)[0][0]
    sectors: list[str] = []
    for uid in sorted(paths):
        try:
            sector, _ = split_series_id(uid)
        except ValueError:
            continue
        if sector != TOTAL and sector not in sectors:
            sectors.append(sector)
    kept: dict[str, np.ndarray] = {}
    for sector in sectors:
        ids = [series_id(sector, w) for w in WORKLOADS]
        if all(u in paths and tuple(future_ds[u]) == common for u in ids):
            kept.update({u: paths[u] for u in ids})
        else:
            why = _why_left_out(ids, paths, future_ds, common)
            log.warning("sector %s left out of the sample paths: %s", sector, why)
    if not kept:
        return None
    sectors_kept = {split_series_id(u)[0] for u in kept}
    hist = history[history[UID].map(lambda u: u.rpartition("/")[0] in sectors_kept)]
    try:
        return stack(kept, pd.DatetimeIndex(common), hist[[UID, DS, Y]])
    except ValueError as exc:
        log.warning("no sample paths for crossover: %s", exc)
        return None


def _why_left_out(
    ids: list[str], paths: Mapping[str, np.ndarray], future_ds: Mapping[str, pd.DatetimeIndex], common: tuple
) -> str:
    """Which of a sector's workload series has no paths, or starts its forecast elsewhere than the others."""
    missing = [u for u in ids if u not in paths]
    if missing:
        return f"{', '.join(missing)} has no forecast"
    odd = [u for u in ids if tuple(future_ds[u]) != common]
    start, usual = pd.Timestamp(future_ds[odd[0]][0]), pd.Timestamp(common[0])
    return (
        f"{' and '.join(odd)} forecast from {start:%Y-%m-%d}, most series from {usual:%Y-%m-%d} "
        "(the sector's history ends in another period)"
    )


def to_bytes(paths: np.ndarray) -> bytes:
    """One series' (n_paths, horizon) float array as ``np.save`` bytes (the ``sample_paths`` blob)."""
    buf = io.BytesIO()
    np.save(buf, np.asarray(paths, dtype=float), allow_pickle=False)
    return buf.getvalue()


def from_bytes(blob: bytes) -> np.ndarray:
    """Inverse of :func:`to_bytes`."""
    return np.load(io.BytesIO(bytes(blob)), allow_pickle=False)
