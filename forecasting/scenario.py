"""Scenarios: named driver settings, the presets, and their application to sample paths (pure math).

A :class:`Scenario` sets drivers (``drivers.py``) for all sectors or one; :func:`apply_scenario`
turns the engine's sample paths into the paths under the scenario, without refitting anything.
Every driver is a change relative to the *baseline*, the scenario that sets no driver: at their
``neutral`` values the factors are exactly 1.0.  The equations are in ``docs/scenarios.md``.
"""

from __future__ import annotations

import logging
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from .config import ALL, SECTORS, valid_sector
from .drivers import (
    ADOPTION_ELASTICITY,
    DRIVER_BY_KEY,
    DRIVERS,
    PRETRAINED_CONVERSION,
    PRETRAINED_RAMP_QUARTERS,
    SECTOR_ADOPTION,
    DriverValue,
    point,
    triangular,
    uniform,
)
from .paths import SamplePaths

logger = logging.getLogger(__name__)

#: The scenario that moves no driver: the engine's own paths.  The refresh stores crossovers under it.
BASELINE = "baseline"

#: Seed of the draws of ranged drivers wherever a scenario's answer is shown or stored (dashboard,
#: exports, refresh), so the same scenario always gives the same numbers.
SCENARIO_SEED = 0


def _freeze(values: Mapping[str, Mapping[str, DriverValue | float]]) -> Mapping[str, Mapping[str, DriverValue]]:
    out: dict[str, Mapping[str, DriverValue]] = {}
    for sector, entry in values.items():
        if sector != ALL and not valid_sector(sector):
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
        unknown = sorted(str(k) for k in raw if k not in SCENARIO_KEYS)
        if unknown:  # a misspelt 'values' would otherwise save a scenario with every driver neutral
            raise ValueError(f"unknown key '{unknown[0]}' in a scenario; expected {', '.join(SCENARIO_KEYS)}")
        if not isinstance(raw.get("values") or {}, Mapping) or not all(
            isinstance(e, Mapping) for e in (raw.get("values") or {}).values()
        ):
            raise ValueError("scenario 'values' must map sector -> {driver: value}")
        values = {
            str(s): {str(k): _driver_value(s, k, v) for k, v in e.items()} for s, e in (raw.get("values") or {}).items()
        }
        for key in ("name", "description", "author"):
            if (key == "name" or raw.get(key) is not None) and not isinstance(raw[key], str):
                raise ValueError(f"a scenario's '{key}' must be text, not {raw[key]!r:.100}")
        text = {k: raw.get(k) or "" for k in ("description", "author")}  # null: none given
        return cls(raw["name"], text["description"], text["author"], values)


#: The keys of a scenario's JSON form (:meth:`Scenario.to_dict`), in its order.
SCENARIO_KEYS = ("name", "description", "author", "values")


def _driver_value(sector: object, key: object, raw: object) -> DriverValue:
    """One driver value of a scenario's JSON, its errors prefixed with where it stands (``all/edge_share: ...``)."""
    try:
        return DriverValue.from_json(raw)
    except ValueError as exc:
        raise ValueError(f"{sector}/{key}: {exc}") from None


def _defaults() -> dict[str, DriverValue]:
    return {d.key: d.published() for d in DRIVERS}


PRESETS: dict[str, Scenario] = {
    s.name: s
    for s in (
        Scenario(BASELINE, "Every driver at its neutral value: reproduces the forecast engine's paths.", "crossover"),
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
            "A stated assumption, not a published figure: 40-60% of today's cloud inference spend moves to "
            "devices by 2029, above the Edge AI Outlook's task share (at most 0.44 by 2030). Gartner's '75% of "
            "enterprise data processed outside data centres by 2025' is about data, not inference spend.",
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


_SECTOR_IDS = {s: i for i, s in enumerate(SECTORS)}


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


def apply_scenario(baseline: SamplePaths, scenario: Scenario, n_draws: int | None = None, seed: int = 0) -> SamplePaths:
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


def paths_under(paths: SamplePaths, scenario: Scenario) -> SamplePaths:
    """The paths under ``scenario`` as every face shows and stores them: :data:`SCENARIO_SEED` draws.

    A scenario that moves no driver multiplies every path by exactly 1.0, so the paths are
    returned as they are.
    """
    if not any(scenario.values.values()):
        return paths
    return apply_scenario(paths, scenario, seed=SCENARIO_SEED)
