"""Settings and the fixed vocabularies of the product (sectors, workloads, provenance).

Precedence for settings: field defaults < environment variables < explicit arguments (CLI flags).
"""

from __future__ import annotations

import numbers
import os
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, cast

#: Root of the source checkout (where ``data/`` and the default database live).
REPO_ROOT = Path(__file__).resolve().parent.parent

#: Environment variable that names the database file.
DB_ENV = "CROSSOVER_DB"

#: Sector ids, in display order, with their labels.  ``total`` is the sum of all sectors.
SECTORS: dict[str, str] = {
    "healthcare": "Healthcare",
    "financial_services": "Financial services",
    "retail": "Retail",
    "manufacturing": "Manufacturing",
    "technology_media": "Technology & media",
    "public_sector": "Public sector",
    "other": "Other",
}
TOTAL = "total"
TOTAL_LABEL = "Total market"


def sector_label(sector: str) -> str:
    """Display name of a sector id: its label, "Total market", or an imported id in words ('acme_corp': 'Acme corp')."""
    return TOTAL_LABEL if sector == TOTAL else SECTORS.get(sector, sector.replace("_", " ").capitalize())


#: Key of a scenario's entry that every sector inherits; reserved like ``total``, never a sector id.
ALL = "all"

WORKLOADS: tuple[str, str] = ("training", "inference")

#: Where a historical row comes from.
PROVENANCE: dict[str, str] = {
    "published": "a figure as published by its source",
    "derived": "arithmetic on published figures (sums, shares, unit conversions)",
    "modelled": "produced by a statistical model or interpolation from published figures",
    "user": "imported by a user",
}

#: The scale the refresh fits spend on. Spend compounds and its errors grow with its level, so the log
#: scale is the model's form, not a per-run guess: the engine's transform probe, left to choose, put
#: the total on the log scale by a hair (0.692 of the raw error, against a threshold of 0.7) and, with
#: one quarter less data, on the raw scale, whose 80% band reached zero spend by 2028 (docs/engine.md).
SPEND_TRANSFORM = "log"
#: Largest file `forecasting import` (and the dashboard upload) accepts, in megabytes.
IMPORT_MAX_MB = 50


def series_id(sector: str, workload: str) -> str:
    """The ``unique_id`` of one sector's workload series, e.g. ``healthcare/inference``."""
    return f"{sector}/{workload}"


def split_series_id(unique_id: str) -> tuple[str, str]:
    """Inverse of :func:`series_id`; raises ``ValueError`` for ids without a workload part."""
    sector, sep, workload = unique_id.rpartition("/")
    if not sep or workload not in WORKLOADS:
        raise ValueError(f"'{unique_id}' is not a sector/workload series id")
    return sector, workload


def sector_of(unique_id: str) -> str:
    """The sector part of any stored series id, the total's (``total/spend``) included."""
    return unique_id.partition("/")[0]


def valid_sector(sector: str) -> bool:
    """A sector id is any non-empty text without ``/`` except the reserved ``total`` and ``all``."""
    return bool(sector) and sector not in (TOTAL, ALL) and "/" not in sector


def default_db_path() -> Path:
    """``$CROSSOVER_DB`` if set, else ``crossover.duckdb`` in the source checkout (or, installed, the cwd)."""
    env = os.environ.get(DB_ENV)
    if env:
        return Path(env).expanduser()
    in_checkout = (REPO_ROOT / "pyproject.toml").is_file()
    return (REPO_ROOT if in_checkout else Path.cwd()) / "crossover.duckdb"


#: Smallest and largest value of each numeric setting, wherever it comes from (the environment, a
#: bundle manifest, code): 10^12 paths or a 100,000-quarter horizon is refused with the setting's name
#: instead of exhausting memory mid-run.
SETTING_LIMITS: dict[str, tuple[float, float]] = {
    "horizon": (1, 400),
    "n_paths": (10, 100_000),
    "seed": (0, 2**63 - 1),
    "backtest_origins": (1, 100),
    "backtest_horizon": (1, 100),
    "retention": (1, 100_000),
    "restatement_threshold": (1e-9, 1e9),
}


def setting_problem(name: str, value: object) -> str | None:
    """What is wrong with ``value`` for the setting ``name``, or None: the one rule for every setting,
    wherever it comes from (code, the environment, a bundle's manifest).

    An integer setting takes an integer, the others any real number; a bool is neither; the value must
    lie within :data:`SETTING_LIMITS` (NaN never does).
    """
    whole = isinstance(Settings.__dataclass_fields__[name].default, int)
    if isinstance(value, bool) or not isinstance(value, numbers.Integral if whole else numbers.Real):
        return f"must be {'an integer' if whole else 'a number'}, got {value!r:.40}"
    low, high = SETTING_LIMITS[name]
    if not low <= cast(float, value) <= high:  # compared as given: a float would round 2**63 down
        return f"must be {low:,} to {high:,}, got {value:,}"
    return None


@dataclass(frozen=True)
class Settings:
    """Forecast settings; each field's ``metadata['help']`` is its one-line description."""

    horizon: int = field(default=16, metadata={"help": "Quarters to forecast past the last observed one."})
    n_paths: int = field(default=1000, metadata={"help": "Joint sample paths kept per sector for crossover."})
    seed: int = field(default=20261128, metadata={"help": "Seed for every random draw of a run."})
    backtest_origins: int = field(default=4, metadata={"help": "Rolling origins in the backtest."})
    backtest_horizon: int = field(default=4, metadata={"help": "Steps ahead scored at each backtest origin."})
    retention: int = field(default=20, metadata={"help": "Forecast runs kept; older ones are pruned."})
    restatement_threshold: float = field(
        default=0.25, metadata={"help": "Largest relative change of a past value a refresh accepts."}
    )

    def __post_init__(self) -> None:
        for f in fields(self):
            problem = setting_problem(f.name, getattr(self, f.name))
            if problem:
                raise ValueError(f"setting {f.name} (CROSSOVER_{f.name.upper()}) {problem}")

    def run_config(self, models: Sequence[str] | None) -> dict[str, object]:
        """The stored config of a run fitted with these settings: every setting, the model list (None = the
        engine's default), the frequency and the scale spend is fitted on."""
        chosen = None if models is None else list(models)
        return {**asdict(self), "models": chosen, "freq": "Q", "transform": SPEND_TRANSFORM}

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        """Defaults, then ``CROSSOVER_<FIELD>`` environment variables, then non-None overrides."""
        values: dict[str, Any] = {}
        for f in fields(cls):
            name = f"CROSSOVER_{f.name.upper()}"
            raw = os.environ.get(name)
            if raw is not None:
                kind: Callable[[str], Any] = int if isinstance(f.default, int) else float
                try:
                    values[f.name] = kind(raw)
                except ValueError:
                    expected = "an integer" if kind is int else "a number"
                    raise ValueError(f"{name} must be {expected}, got '{raw}'") from None
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)


#: Who may use a shared dashboard: ``local`` (one user, every change allowed), ``oidc`` (Streamlit's
#: own login against an OpenID Connect provider) or ``proxy`` (a trusted reverse proxy's header).
AUTH_MODES = ("local", "oidc", "proxy")
#: Roles from least to most: viewers read; editors also save, copy and delete scenarios and import
#: or undo imports; admins also start a refresh (forecasting.auth.ACTIONS says which role each change needs).
ROLES = ("viewer", "editor", "admin")


def _role_map(text: str) -> tuple[tuple[str, str], ...]:
    """Parse ``alice@x=admin,bob@x=editor`` into (lower-cased user, role) pairs; ValueError on bad entries."""
    pairs = []
    for entry in filter(None, (e.strip() for e in text.split(","))):
        user, sep, role = (part.strip() for part in entry.partition("="))
        if not sep or not user or role not in ROLES:
            raise ValueError(f"CROSSOVER_ROLES entry '{entry}' must be USER=ROLE with ROLE one of {', '.join(ROLES)}")
        pairs.append((user.lower(), role))
    return tuple(pairs)


@dataclass(frozen=True)
class AuthSettings:
    """Login settings of the dashboard; each field's ``metadata['help']`` is its one-line description."""

    mode: str = field(default="local", metadata={"help": "CROSSOVER_AUTH: local, oidc or proxy."})
    roles: tuple[tuple[str, str], ...] = field(
        default=(), metadata={"help": "CROSSOVER_ROLES: USER=ROLE pairs, comma-separated (users are e-mails)."}
    )
    default_role: str = field(
        default="viewer", metadata={"help": "CROSSOVER_DEFAULT_ROLE: the role of a signed-in user not listed."}
    )
    proxy_header: str = field(
        default="X-Forwarded-Email",
        metadata={"help": "CROSSOVER_PROXY_HEADER: the header a trusted proxy puts the user's e-mail in."},
    )

    def __post_init__(self) -> None:
        if self.mode not in AUTH_MODES:
            raise ValueError(f"CROSSOVER_AUTH must be one of {', '.join(AUTH_MODES)}, got '{self.mode}'")
        if self.default_role not in ROLES:
            raise ValueError(f"CROSSOVER_DEFAULT_ROLE must be one of {', '.join(ROLES)}, got '{self.default_role}'")
        if not self.proxy_header.strip():
            raise ValueError("CROSSOVER_PROXY_HEADER must name a header")

    @classmethod
    def from_env(cls) -> AuthSettings:
        """Defaults, then the ``CROSSOVER_AUTH``, ``_ROLES``, ``_DEFAULT_ROLE`` and ``_PROXY_HEADER`` variables."""
        env = os.environ
        return cls(
            mode=env.get("CROSSOVER_AUTH", "local").strip().lower() or "local",
            roles=_role_map(env.get("CROSSOVER_ROLES", "")),
            default_role=env.get("CROSSOVER_DEFAULT_ROLE", "viewer").strip().lower(),
            proxy_header=env.get("CROSSOVER_PROXY_HEADER", "X-Forwarded-Email"),
        )

    def role_of(self, user: str) -> str:
        """The role of a signed-in user: the one listed for them (case-insensitive), else the default."""
        return dict(self.roles).get(user.strip().lower(), self.default_role)
