"""Scenario drivers applied to baseline sample paths (pure math, no refits).

Every driver is a *change relative to the baseline*: the forecast engine's paths already carry
history's trends, and a driver at its ``neutral`` value multiplies them by exactly 1.0.  The
equations are in ``docs/scenarios.md``; the default of each driver states its published source.
"""

from __future__ import annotations

import logging
import math
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from .config import SECTORS, TOTAL, WORKLOADS, series_id, split_series_id
from .frames import DS, UID, Y, validate_history

logger = logging.getLogger(__name__)

#: Key of the scenario entry that every sector inherits unless it overrides a driver.
ALL = "all"

#: Seed of the draws of ranged drivers wherever a scenario's answer is shown or stored (dashboard,
#: exports, refresh), so the same scenario always gives the same numbers.
SCENARIO_SEED = 0

#: Adoption elasticities: d ln(spend) / d ln(adoption).  Stated assumption: a newly adopting
#: organisation mostly *uses* models (inference); only some of them train or fine-tune.
ADOPTION_ELASTICITY = {"training": 0.5, "inference": 1.0}

#: Dollars of inference per dollar of training replaced by a pre-trained model.  Stated assumption:
#: adapting and serving a pre-trained model costs about a quarter of training one from scratch.
PRETRAINED_CONVERSION = 0.25

#: Quarters over which the pre-trained share phases in linearly (stated assumption: two years).
PRETRAINED_RAMP_QUARTERS = 8

#: Training spend is unit-elastic to compute prices (stated assumption: labs spend a budget, a
#: cheaper FLOP buys more FLOPs), so the cost driver changes inference spend only.
TRAINING_PRICE_ELASTICITY = 1.0


@dataclass(frozen=True)
class Driver:
    """One scenario input: its range, default (with source) and the value that changes nothing."""

    key: str
    label: str
    unit: str
    min: float
    max: float
    default: float
    neutral: float
    step: float
    help: str
    reason: str
    estimates: tuple[str, ...] = ()  # estimate_id rows of data/published_estimates.csv behind the reason

    def __post_init__(self) -> None:
        if not self.min <= self.neutral <= self.max or not self.min <= self.default <= self.max:
            raise ValueError(f"driver '{self.key}': default and neutral must lie in [{self.min}, {self.max}]")


DRIVERS: tuple[Driver, ...] = (
    Driver(
        "adoption_speed",
        "AI adoption speed",
        "1/year (logistic rate)",
        0.1,
        1.5,
        0.48,
        0.48,
        0.02,
        "How fast the share of organisations using AI climbs its S-curve.",
        "Eurostat: 13.5% of EU enterprises used AI in 2024 and 19.95% in 2025; a logistic curve with "
        "ceiling 0.9 through both points has rate 0.48/year.",
        ("est-b8eff369e4", "est-51429ea348"),
    ),
    Driver(
        "adoption_ceiling",
        "AI adoption ceiling",
        "share of organisations",
        0.55,
        1.0,
        0.9,
        0.9,
        0.01,
        "Share of organisations in the sector that ever use AI.",
        "McKinsey State of AI 2025: 88% of organisations use AI in at least one function, so the ceiling is about 0.9.",
        ("est-c0259db162",),
    ),
    Driver(
        "realtime_growth",
        "Real-time processing demand",
        "extra inference growth per year (fraction)",
        -0.3,
        1.0,
        0.0,
        0.0,
        0.05,
        "Extra yearly growth of inference from real-time uses (agents, streaming, personalisation).",
        "Stated assumption: 0. The baseline already extrapolates observed growth, including Synergy "
        "Research's 140-160% year-on-year growth of GenAI cloud services in 2025Q1.",
        ("est-0632c21377", "est-2d53327959"),
    ),
    Driver(
        "edge_share",
        "Edge offload",
        "share of cloud inference moved to edge by the target year",
        0.0,
        0.8,
        0.44,
        0.0,
        0.01,
        "Share of today's cloud inference that moves to devices or the near edge, reached linearly by the target year.",
        "Edge Artificial Intelligence Outlook 2030: 10% of inference on-device in 2025, 50% by 2030; "
        "(0.50 - 0.10) / (1 - 0.10) = 0.44 of today's cloud inference moves.",
        ("est-05c8e37b9d", "est-f3f58c8b82"),
    ),
    Driver(
        "edge_year",
        "Edge offload target year",
        "calendar year",
        2026.0,
        2035.0,
        2030.0,
        2030.0,
        1.0,
        "Year by whose first quarter the edge share is fully reached.",
        "Edge Artificial Intelligence Outlook 2030: the 50% figure is for 2030.",
        ("est-f3f58c8b82",),
    ),
    Driver(
        "pretrained_share",
        "Pre-trained model proliferation",
        "share of would-be training replaced",
        0.0,
        0.9,
        0.12,
        0.0,
        0.01,
        "Share of training spend replaced by adapting pre-trained models, phased in over two years; "
        f"each replaced dollar adds {PRETRAINED_CONVERSION} dollars of inference.",
        "Menlo Ventures: open-source models ran 19% of enterprise LLM workloads in 2024 and 12% in "
        "2025; we take 0.12 of training as replaced.",
        ("est-1e7364bd87", "est-2b95b35c42"),
    ),
    Driver(
        "price_decline",
        "Compute price decline",
        "fraction per year",
        0.0,
        0.7,
        0.30,
        0.30,
        0.01,
        "Yearly decline of the price per unit of compute; spend = price x volume.",
        "Stanford AI Index 2025: enterprise AI hardware costs fall about 30% a year.",
        ("est-a2461758d2",),
    ),
    Driver(
        "price_elasticity",
        "Inference demand elasticity",
        "-dlnV/dlnP",
        0.5,
        2.0,
        1.0,
        1.0,
        0.05,
        "How much inference volume rises when its price falls; above 1 a price decline raises spend.",
        "Morgan Stanley IM: LLM token use grew at least 10x in 2025, while a16z (LLMflation) measures "
        "a 10x/year price decline at constant capability: ln 10 / ln 10 = 1.0.",
        ("est-ba12cbbfda", "est-b34a938f51"),
    ),
)
DRIVER_BY_KEY: dict[str, Driver] = {d.key: d for d in DRIVERS}

#: Per sector: share using AI at the jump-off, where it comes from, and its estimate_id.  Worker shares
#: (Gallup) stand in for organisation shares, which no public source gives for every sector.
SECTOR_ADOPTION: dict[str, tuple[float, str, str]] = {
    "healthcare": (0.21, "Gallup: 21% of US healthcare workers used AI at work weekly, 2025Q3", "est-639f1b4013"),
    "financial_services": (0.33, "Gallup: 33% of US finance workers used AI at work weekly, 2025Q3", "est-e6a4d288b9"),
    "retail": (0.18, "Gallup: 18% of US retail workers used AI at work weekly, 2025Q3", "est-142a7e10f8"),
    "manufacturing": (0.18, "Gallup: 18% of US manufacturing workers used AI at work weekly, 2025Q3", "est-653802bac9"),
    "technology_media": (0.50, "Gallup: 50% of US technology workers used AI at work weekly, 2025Q3", "est-00b4022b10"),
    "public_sector": (
        0.43,
        "WifiTalents (statistics aggregator, a weak source; no stronger public-sector figure was found): "
        "43% of US federal agencies use or pilot GenAI, 2024",
        "est-134fbc982e",
    ),
    "other": (
        0.30,
        "Gallup: 30% of US professional-services workers used AI at work weekly, 2025Q3",
        "est-65b16c89a0",
    ),
}


@dataclass(frozen=True)
class DriverValue:
    """A driver setting: a point, ``uniform(lo, hi)`` or ``triangular(lo, mode, hi)``."""

    kind: str
    lo: float
    mode: float
    hi: float

    def __post_init__(self) -> None:
        if self.kind not in ("point", "uniform", "triangular"):
            raise ValueError(f"unknown driver value kind '{self.kind}'")
        if not all(math.isfinite(v) for v in (self.lo, self.mode, self.hi)):
            raise ValueError("driver values must be finite numbers")
        if not self.lo <= self.mode <= self.hi:
            raise ValueError(f"need lo <= mode <= hi, got {self.lo}, {self.mode}, {self.hi}")

    @property
    def is_range(self) -> bool:
        """True unless the value is a single point."""
        return self.kind != "point"

    def centre(self) -> float:
        """The value used when assumptions are held fixed: the point, midpoint or mode."""
        return (self.lo + self.hi) / 2 if self.kind == "uniform" else self.mode

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """``n`` independent draws (a constant array for a point)."""
        if self.kind == "point" or self.lo == self.hi:
            return np.full(n, self.mode)
        if self.kind == "uniform":
            return rng.uniform(self.lo, self.hi, n)
        return rng.triangular(self.lo, self.mode, self.hi, n)

    def to_json(self) -> float | dict[str, list[float]]:
        """A number for a point, else ``{"uniform": [lo, hi]}`` or ``{"triangular": [lo, mode, hi]}``."""
        if self.kind == "point":
            return self.mode
        if self.kind == "uniform":
            return {"uniform": [self.lo, self.hi]}
        return {"triangular": [self.lo, self.mode, self.hi]}

    @classmethod
    def from_json(cls, raw: Any) -> DriverValue:
        """Inverse of :meth:`to_json`; raises ``ValueError`` on anything else."""
        if isinstance(raw, (int, float)) and not isinstance(raw, bool):
            return point(float(raw))
        if isinstance(raw, Mapping) and len(raw) == 1:
            ((kind, args),) = raw.items()
            if kind == "uniform" and len(args) == 2:
                return uniform(*map(float, args))
            if kind == "triangular" and len(args) == 3:
                return triangular(*map(float, args))
        raise ValueError(f"not a driver value: {raw!r}")


def point(x: float) -> DriverValue:
    """A fixed driver value."""
    return DriverValue("point", x, x, x)


def uniform(lo: float, hi: float) -> DriverValue:
    """A driver value drawn uniformly from ``[lo, hi]`` per path."""
    return DriverValue("uniform", lo, (lo + hi) / 2, hi)


def triangular(lo: float, mode: float, hi: float) -> DriverValue:
    """A driver value drawn from a triangular distribution per path."""
    return DriverValue("triangular", lo, mode, hi)


def _freeze(values: Mapping[str, Mapping[str, DriverValue | float]]) -> Mapping[str, Mapping[str, DriverValue]]:
    out: dict[str, Mapping[str, DriverValue]] = {}
    for sector, entry in values.items():
        if sector != ALL and not _valid_sector(sector):
            raise ValueError(f"bad sector '{sector}'; expected '{ALL}' or a sector id such as {list(SECTORS)}")
        frozen: dict[str, DriverValue] = {}
        for key, value in entry.items():
            if key not in DRIVER_BY_KEY:
                raise ValueError(f"unknown driver '{key}'; expected one of {list(DRIVER_BY_KEY)}")
            v = value if isinstance(value, DriverValue) else point(float(value))
            d = DRIVER_BY_KEY[key]
            if v.lo < d.min or v.hi > d.max:
                raise ValueError(f"{sector}/{key}: {v.lo}..{v.hi} is outside [{d.min}, {d.max}] {d.unit}")
            frozen[key] = v
        out[sector] = MappingProxyType(frozen)
    return MappingProxyType(out)


@dataclass(frozen=True)
class Scenario:
    """Named driver settings: an ``'all'`` entry plus per-sector overrides; unset drivers are neutral."""

    name: str
    description: str = ""
    author: str = ""
    values: Mapping[str, Mapping[str, DriverValue]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise ValueError("a scenario needs a non-empty name")
        object.__setattr__(self, "values", _freeze(self.values))

    def __reduce__(self) -> tuple[Any, ...]:
        # Read-only mapping proxies do not pickle; rebuild from the JSON form (Streamlit caches pickle).
        return (Scenario.from_dict, (self.to_dict(),))

    def value_for(self, sector: str, key: str) -> DriverValue:
        """The sector's own value, else the ``'all'`` value, else the driver's neutral point."""
        for entry in (self.values.get(sector, {}), self.values.get(ALL, {})):
            if key in entry:
                return entry[key]
        return point(DRIVER_BY_KEY[key].neutral)

    def with_value(self, sector: str, key: str, value: DriverValue | float) -> Scenario:
        """A copy with one driver set for ``sector`` (or ``'all'``)."""
        values = {s: dict(e) for s, e in self.values.items()}
        values.setdefault(sector, {})[key] = value if isinstance(value, DriverValue) else point(value)
        return replace(self, values=values)

    def centred(self) -> Scenario:
        """A copy with every range replaced by its centre (assumptions held fixed)."""
        values = {s: {k: point(v.centre()) for k, v in e.items()} for s, e in self.values.items()}
        return replace(self, values=values)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe dict; :meth:`from_dict` reads it back."""
        return {
            "name": self.name,
            "description": self.description,
            "author": self.author,
            "values": {s: {k: v.to_json() for k, v in e.items()} for s, e in self.values.items()},
        }

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Scenario:
        """Build a scenario from :meth:`to_dict` output; raises ``ValueError`` on bad input."""
        if not isinstance(raw, Mapping) or "name" not in raw:
            raise ValueError("scenario dict needs a 'name'")
        if not isinstance(raw.get("values") or {}, Mapping) or not all(
            isinstance(e, Mapping) for e in (raw.get("values") or {}).values()
        ):
            raise ValueError("scenario 'values' must map sector -> {driver: value}")
        values = {
            str(s): {str(k): DriverValue.from_json(v) for k, v in e.items()}
            for s, e in (raw.get("values") or {}).items()
        }
        return cls(str(raw["name"]), str(raw.get("description", "")), str(raw.get("author", "")), values)


def _defaults() -> dict[str, DriverValue]:
    return {d.key: point(d.default) for d in DRIVERS}


PRESETS: dict[str, Scenario] = {
    s.name: s
    for s in (
        Scenario("baseline", "Every driver at its neutral value: reproduces the forecast engine's paths.", "crossover"),
        Scenario(
            "published",
            "Every driver at its published-figure default (see each driver's reason).",
            "crossover",
            {ALL: _defaults()},
        ),
        Scenario(
            "fast_adoption",
            "McKinsey: GenAI use went from 33% of organisations (2023) to 65-71% (2024), a logistic "
            "rate near 1.4/year, about three times Eurostat's pace for AI overall; we centre on 1.0.",
            "crossover",
            {
                ALL: {
                    "adoption_speed": triangular(0.7, 1.0, 1.4),
                    "adoption_ceiling": point(0.95),
                    "realtime_growth": uniform(0.0, 0.2),
                }
            },
        ),
        Scenario(
            "edge_heavy",
            "Gartner (via MaxOS): 75% of enterprise data processed outside data centres and cloud "
            "by 2025; 40-60% of cloud inference moves to devices by 2029.",
            "crossover",
            {ALL: {"edge_share": uniform(0.4, 0.6), "edge_year": point(2029.0)}},
        ),
        Scenario(
            "open_model_boom",
            "a16z/OpenRouter: open-weight models reached 33% of tokens by end-2025 and enterprises "
            "target a 50/50 open/closed split; a third of training is replaced and prices fall faster.",
            "crossover",
            {
                ALL: {
                    "pretrained_share": triangular(0.2, 0.35, 0.5),
                    "price_decline": point(0.45),
                    "price_elasticity": point(1.2),
                }
            },
        ),
    )
}


@dataclass(frozen=True, eq=False)  # arrays and frames have no single truth value; compare by identity
class Baseline:
    """Joint sample paths of future spend per sector and workload, plus the observed history."""

    sectors: tuple[str, ...]
    periods: pd.DatetimeIndex
    paths: np.ndarray  # (n_paths, n_sectors, 2, H), USD, [:, :, 0] training, [:, :, 1] inference
    history: pd.DataFrame

    def __post_init__(self) -> None:
        object.__setattr__(self, "sectors", tuple(self.sectors))
        bad = [s for s in self.sectors if not _valid_sector(s)]
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
        months = self.periods.values.astype("datetime64[M]")
        starts = months.astype("datetime64[ns]") == self.periods.values
        if (
            not starts.all()
            or (months.astype(np.int64) % 3 != 0).any()
            or (np.diff(months.astype(np.int64)) != 3).any()
        ):
            raise ValueError("periods must be consecutive quarter starts (e.g. 2026-01-01, 2026-04-01, ...)")

    @classmethod
    def from_paths(cls, paths: Mapping[str, np.ndarray], periods: pd.DatetimeIndex, history: pd.DataFrame) -> Baseline:
        """Stack the engine's ``{'<sector>/<workload>': (n_paths, H)}`` arrays into a baseline."""
        found = {}
        for key in paths:
            try:
                found[key] = split_series_id(key)[0]
            except ValueError:
                found[key] = ""
        unknown = sorted(k for k, sector in found.items() if not _valid_sector(sector))
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
        return cls(sectors, pd.DatetimeIndex(periods), stacked, history)

    @property
    def n_paths(self) -> int:
        """Number of joint sample paths."""
        return int(self.paths.shape[0])

    @cached_property
    def history_arrays(self) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """Per sector: (ds as datetime64[ns], training, inference) on quarters where both are observed."""
        empty = (np.array([], dtype="datetime64[ns]"), np.array([]), np.array([]))
        if len(self.history) == 0:
            return {s: empty for s in self.sectors}
        hist = validate_history(self.history)
        out: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
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

    def subset(self, sectors: tuple[str, ...]) -> Baseline:
        """The same baseline restricted to some of its sectors (their paths, in the order given)."""
        missing = [s for s in sectors if s not in self.sectors]
        if missing:
            raise ValueError(f"sectors {missing} are not in the baseline ({list(self.sectors)})")
        new = replace(self, sectors=tuple(sectors), paths=self.paths[:, [self.sectors.index(s) for s in sectors]])
        if "history_arrays" in self.__dict__:
            new.__dict__["history_arrays"] = {s: self.__dict__["history_arrays"][s] for s in sectors}
        return new

    def with_paths(self, paths: np.ndarray) -> Baseline:
        """A new baseline with other paths, sharing this one's history (and its parsed arrays)."""
        new = replace(self, paths=paths)
        if "history_arrays" in self.__dict__:
            new.__dict__["history_arrays"] = self.__dict__["history_arrays"]
        return new


_SECTOR_IDS = {s: i for i, s in enumerate(SECTORS)}


def _valid_sector(sector: str) -> bool:
    """A sector id is any non-empty slug except the reserved ``total`` and ``all``."""
    return bool(sector) and sector not in (TOTAL, ALL) and "/" not in sector


def _sector_stream(sector: str) -> int:
    """A stable random-stream id per sector: its config position, or a CRC of an imported sector's id."""
    return _SECTOR_IDS.get(sector, 1000 + zlib.crc32(sector.encode()))


def years_ahead(periods: pd.DatetimeIndex) -> np.ndarray:
    """Years from the jump-off quarter (the one before ``periods[0]``) to each period: 0.25, 0.5, ..."""
    return (np.arange(len(periods)) + 1) / 4.0


def _jump_off_year(periods: pd.DatetimeIndex) -> float:
    first = periods[0]
    return first.year + (first.quarter - 1) / 4 - 0.25


def _logistic(a0: float, ceiling: np.ndarray | float, speed: np.ndarray | float, tau: np.ndarray) -> np.ndarray:
    return ceiling / (1.0 + (ceiling / a0 - 1.0) * np.exp(-speed * tau))


@dataclass(frozen=True)
class DriverEffects:
    """Each driver's factor per path and period (arrays broadcastable to ``(n_paths, H)``)."""

    adoption: np.ndarray  # adoption(scenario) / adoption(baseline)
    realtime: np.ndarray  # (1 + g) ** years
    cost: np.ndarray  # inference price-volume factor
    pretrained: np.ndarray  # share of would-be training replaced, in [0, 1]
    cloud: np.ndarray  # share of inference still in the cloud, in [0, 1]

    @property
    def training(self) -> np.ndarray:
        """Factor on baseline training spend."""
        return self.adoption ** ADOPTION_ELASTICITY["training"] * (1.0 - self.pretrained)

    @property
    def inference(self) -> np.ndarray:
        """Factor on baseline inference spend."""
        return self.adoption ** ADOPTION_ELASTICITY["inference"] * self.realtime * self.cloud * self.cost

    @property
    def conversion(self) -> np.ndarray:
        """Inference added per dollar of baseline training (replaced training served as inference)."""
        return (
            PRETRAINED_CONVERSION
            * self.pretrained
            * self.adoption ** ADOPTION_ELASTICITY["training"]
            * (self.cloud * self.cost)
        )


def driver_effects(sector: str, v: Mapping[str, np.ndarray | float], periods: pd.DatetimeIndex) -> DriverEffects:
    """Factors of every driver for one sector, given one value (or one per path) of each driver key."""
    tau = years_ahead(periods)[None, :]
    a0 = SECTOR_ADOPTION.get(sector, SECTOR_ADOPTION["other"])[0]  # imported sectors: the 'other' figure
    neutral = {key: np.float64(DRIVER_BY_KEY[key].neutral) for key in DRIVER_BY_KEY}
    base = _logistic(a0, neutral["adoption_ceiling"], neutral["adoption_speed"], tau)
    adoption = _logistic(a0, v["adoption_ceiling"], v["adoption_speed"], tau) / base
    realtime = (1.0 + np.asarray(v["realtime_growth"])) ** tau
    # Replace the baseline's embedded price-volume term (1 - d0)^((1 - eta0) t) by the scenario's.
    log_cost = (1.0 - np.asarray(v["price_elasticity"])) * np.log1p(-np.asarray(v["price_decline"])) - (
        1.0 - neutral["price_elasticity"]
    ) * np.log1p(-neutral["price_decline"])
    cost = np.exp(tau * log_cost)
    ramp = np.minimum(1.0, (np.arange(len(periods)) + 1) / PRETRAINED_RAMP_QUARTERS)[None, :]
    pretrained = np.asarray(v["pretrained_share"]) * ramp
    edge_tau = np.asarray(v["edge_year"]) - _jump_off_year(periods)
    edge_ramp = np.where(edge_tau > 0, np.minimum(1.0, tau / np.maximum(edge_tau, 1e-9)), 1.0)
    cloud = 1.0 - np.asarray(v["edge_share"]) * edge_ramp
    return DriverEffects(adoption, realtime, cost, pretrained, cloud)


def _draw_values(scenario: Scenario, sectors: tuple[str, ...], n: int, seed: int) -> dict[str, dict[str, np.ndarray]]:
    """Per sector and driver, an (n, 1) array: one assumption set per path; inherited ranges are shared.

    Each (driver, sector) range has its own random stream keyed by ``seed`` and fixed ids, so a
    sector's draws do not depend on which other sectors the baseline holds.
    """
    if seed < 0:
        raise ValueError(f"seed must be >= 0, got {seed}")
    all_id = len(_SECTOR_IDS)
    out: dict[str, dict[str, np.ndarray]] = {s: {} for s in sectors}
    for i, d in enumerate(DRIVERS):
        shared = scenario.values.get(ALL, {}).get(d.key)
        shared_draw = None
        if shared is not None and shared.is_range:
            shared_draw = shared.sample(np.random.default_rng([seed, i, all_id]), n)[:, None]
        for s in sectors:
            own = scenario.values.get(s, {}).get(d.key)
            value = own if own is not None else scenario.value_for(s, d.key)
            if own is None and shared_draw is not None:
                out[s][d.key] = shared_draw
            elif value.is_range:
                out[s][d.key] = value.sample(np.random.default_rng([seed, i, _sector_stream(s)]), n)[:, None]
            else:
                out[s][d.key] = np.full((1, 1), value.mode)
    return out


def apply_scenario(baseline: Baseline, scenario: Scenario, n_draws: int | None = None, seed: int = 0) -> Baseline:
    """Scenario paths as a NEW baseline; ranged drivers get one draw per path (inputs never mutated).

    Args:
        n_draws: number of output paths; ``None`` keeps one per baseline path, otherwise baseline
            paths are reused in turn (path ``i`` pairs baseline path ``i % n_paths`` with draw ``i``).
    """
    n = baseline.n_paths if n_draws is None else int(n_draws)
    if n < 1:
        raise ValueError(f"n_draws must be >= 1, got {n_draws}")
    src = baseline.paths if n == baseline.n_paths else baseline.paths[np.arange(n) % baseline.n_paths]
    draws = _draw_values(scenario, baseline.sectors, n, seed)
    out = np.empty_like(src, dtype=float)
    for j, s in enumerate(baseline.sectors):
        fx = driver_effects(s, draws[s], baseline.periods)
        base_t, base_i = src[:, j, 0, :], src[:, j, 1, :]
        out[:, j, 0, :] = base_t * fx.training
        out[:, j, 1, :] = base_i * fx.inference + base_t * fx.conversion
    return baseline.with_paths(out)
