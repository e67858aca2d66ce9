"""The scenario drivers: what each one means, its range and unit, its default with its source.

A driver is a *change relative to the baseline*: the forecast engine's paths already carry
history's trends, so a driver at its ``neutral`` value changes nothing.  This module is the
catalogue (:data:`DRIVERS`) and the value types a scenario sets drivers to (:class:`DriverValue`:
a point or a range drawn per path); ``scenario.py`` applies them to sample paths.  The equations
are in ``docs/scenarios.md``.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

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
    #: When the source bounds the driver rather than pins it: the default is uniform over this range
    #: (``default`` is then its centre, the value a slider resets to).
    default_range: tuple[float, float] | None = None

    def __post_init__(self) -> None:
        if not self.min <= self.neutral <= self.max or not self.min <= self.default <= self.max:
            raise ValueError(f"driver '{self.key}': default and neutral must lie in [{self.min}, {self.max}]")
        lo, hi = self.default_range or (self.default, self.default)
        if not self.min <= lo <= self.default <= hi <= self.max:
            raise ValueError(f"driver '{self.key}': the default range must hold the default and lie in the range")

    def published(self) -> DriverValue:
        """The default as a driver value: a point, or uniform over the range the source allows."""
        if self.default_range is None:
            return point(self.default)
        return uniform(*self.default_range)


DRIVERS: tuple[Driver, ...] = (
    Driver(
        key="adoption_speed",
        label="AI adoption speed",
        unit="1/year (logistic rate)",
        min=0.1,
        max=1.5,
        default=0.48,
        neutral=0.48,
        step=0.02,
        help="How fast the share of organisations using AI climbs its S-curve.",
        reason=(
            "Eurostat: 13.5% of EU enterprises used AI in 2024 and 19.95% in 2025; a logistic curve with "
            "ceiling 0.9 through both points has rate 0.48/year."
        ),
        estimates=("est-b8eff369e4", "est-51429ea348"),
    ),
    Driver(
        key="adoption_ceiling",
        label="AI adoption ceiling",
        unit="share of organisations",
        min=0.55,
        max=1.0,
        default=0.9,
        neutral=0.9,
        step=0.01,
        help="Share of organisations in the sector that ever use AI.",
        reason=(
            "McKinsey State of AI 2025: 88% of organisations use AI in at least one function, "
            "so the ceiling is about 0.9."
        ),
        estimates=("est-c0259db162",),
    ),
    Driver(
        key="realtime_growth",
        label="Real-time processing demand",
        unit="extra inference growth per year (fraction)",
        min=-0.3,
        max=1.0,
        default=0.0,
        neutral=0.0,
        step=0.05,
        help="Extra yearly growth of inference from real-time uses (agents, streaming, personalisation).",
        reason=(
            "Stated assumption: 0. The baseline already extrapolates observed growth, including Synergy "
            "Research's 140-160% year-on-year growth of GenAI cloud services in 2025Q1."
        ),
        estimates=("est-0632c21377", "est-2d53327959"),
    ),
    Driver(
        key="edge_share",
        label="Edge offload",
        unit="share of cloud inference moved to edge by the target year",
        min=0.0,
        max=0.8,
        default=0.22,
        neutral=0.0,
        step=0.01,
        help=(
            "Share of today's cloud inference spend that moves to devices or the near edge, "
            "reached linearly by the target year."
        ),
        reason=(
            "Edge Artificial Intelligence Outlook 2030 measures inference *tasks*: 10% on-device in 2025, 50% by "
            "2030, so (0.50 - 0.10) / (1 - 0.10) = 0.44 of today's cloud tasks move. Spend moves less than "
            "tasks (devices run the small models; the cloud keeps the heavy ones) and no source measures the "
            "spend share, so 0.44 is the upper bound and 0 the lower: uniform(0, 0.44), centre 0.22."
        ),
        estimates=("est-05c8e37b9d", "est-f3f58c8b82"),
        default_range=(0.0, 0.44),
    ),
    Driver(
        key="edge_year",
        label="Edge offload target year",
        unit="calendar year",
        min=2026.0,
        max=2035.0,
        default=2030.0,
        neutral=2030.0,
        step=1.0,
        help="Year by whose first quarter the edge share is fully reached.",
        reason="Edge Artificial Intelligence Outlook 2030: the 50% figure is for 2030.",
        estimates=("est-f3f58c8b82",),
    ),
    Driver(
        key="pretrained_share",
        label="Pre-trained model proliferation",
        unit="share of would-be training replaced",
        min=0.0,
        max=0.9,
        default=0.0,
        neutral=0.0,
        step=0.01,
        help=(
            "Share of training spend replaced by adapting pre-trained models, phased in over two years; "
            f"each replaced dollar adds {PRETRAINED_CONVERSION} dollars of inference."
        ),
        reason=(
            "No published figure measures training replaced by pre-trained models, so the default is 0 (no "
            "change). Menlo Ventures' 19% (2024) and 12% (2025) are the open-source share of enterprise LLM "
            "workloads: which models run, not training skipped (closed models are pre-trained too)."
        ),
        estimates=("est-1e7364bd87", "est-2b95b35c42"),
    ),
    Driver(
        key="price_decline",
        label="Compute price decline",
        unit="fraction per year",
        min=0.0,
        max=0.7,
        default=0.30,
        neutral=0.30,
        step=0.01,
        help="Yearly decline of the price per unit of compute; spend = price x volume.",
        reason="Stanford AI Index 2025: enterprise AI hardware costs fall about 30% a year.",
        estimates=("est-a2461758d2",),
    ),
    Driver(
        key="price_elasticity",
        label="Inference demand elasticity",
        unit="-dlnV/dlnP",
        min=0.5,
        max=2.0,
        default=1.25,
        neutral=1.0,
        step=0.05,
        help="How much inference volume rises when its price falls; above 1 a price decline raises spend.",
        reason=(
            "Morgan Stanley IM: LLM token use grew *at least* 10x in 2025, while a16z (LLMflation) measures a "
            "10x/year price decline at constant capability: ln 10 / ln 10 = 1.0 is a lower bound. The upper "
            "end, 1.5 (a 10x price fall then lifts spend 3.2x), is a stated assumption: uniform(1.0, 1.5)."
        ),
        estimates=("est-ba12cbbfda", "est-b34a938f51"),
        default_range=(1.0, 1.5),
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
        if self.kind == "uniform" and not self.lo <= self.hi:
            raise ValueError(f"a uniform range needs low <= high, got [{self.lo}, {self.hi}]")
        if not self.lo <= self.mode <= self.hi:
            raise ValueError(f"a triangular value needs low <= mode <= high, got [{self.lo}, {self.mode}, {self.hi}]")

    def text(self) -> str:
        """The value as the sliders show it: ``0.4`` or ``0.3 to 0.5`` (``triangular, mode 0.4``)."""
        if not self.is_range:
            return f"{self.mode:g}"
        mode = f" (triangular, mode {self.mode:g})" if self.kind == "triangular" else ""
        return f"{self.lo:g} to {self.hi:g}{mode}"

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
        """Inverse of :meth:`to_json`; raises ``ValueError`` on anything else (a JSON null, text, a huge integer)."""
        if _is_number(raw):
            return point(float(raw))
        if isinstance(raw, Mapping) and len(raw) == 1:
            ((kind, args),) = raw.items()
            numeric = isinstance(args, (list, tuple)) and all(_is_number(a) for a in args)
            if kind == "uniform" and numeric and len(args) == 2:
                return uniform(*map(float, args))
            if kind == "triangular" and numeric and len(args) == 3:
                return triangular(*map(float, args))
        raise ValueError(f"not a driver value: {raw!r:.200}")


def _is_number(raw: object) -> bool:
    """Whether ``raw`` is a real number that fits a float (not a bool, not an integer beyond float range)."""
    if isinstance(raw, bool) or not isinstance(raw, numbers.Real):
        return False
    try:
        float(raw)
    except OverflowError:
        return False
    return True


def point(x: float) -> DriverValue:
    """A fixed driver value."""
    return DriverValue("point", x, x, x)


def uniform(lo: float, hi: float) -> DriverValue:
    """A driver value drawn uniformly from ``[lo, hi]`` per path."""
    return DriverValue("uniform", lo, (lo + hi) / 2, hi)


def triangular(lo: float, mode: float, hi: float) -> DriverValue:
    """A driver value drawn from a triangular distribution per path."""
    return DriverValue("triangular", lo, mode, hi)
