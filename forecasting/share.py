"""The inference share of AI spend: S-curves fitted to every published anchor of every definition.

Published figures on "how much of AI goes to inference" measure different things: Gartner's
cloud AI infrastructure spend, all AI compute (Deloitte), accelerator or data-centre revenue
(NVIDIA, AMD), data-centre workloads or capacity (JLL, Barclays).  They share one adoption story
but not one level, so one curve is fitted to all of them with an offset per definition:

    logit s_d(t) = logit F(t; k, t0) + o_d

where ``F`` is a logistic curve ``1 / (1 + exp(-k (t - t0)))`` or a Gompertz curve
``exp(-exp(-k (t - t0)))`` (both fitted; weighted by their evidence), ``t`` is the decimal year and
``o_d`` the definition's offset.  An anchor is a point (``logit value ~ Normal(mu, sigma)``) or a
bound ("more than 65% by 2029" adds ``log P(mu > logit 0.65)``), never a bound read as a point.

Each definition's anchors scatter around its curve with their own noise ``sigma_d`` (a definition
whose sources disagree among themselves does not widen another's).  The posterior of
``(log k, t0, o_1..o_D, log sigma_1..sigma_D)`` under the priors of :data:`PRIORS` is
approximated by a Student-t around its mode (Laplace) and corrected by importance resampling, so
draws follow the exact posterior wherever the proposal covers it; the same importance weights
estimate each family's marginal likelihood (its evidence).  Why not a bootstrap: with a dozen
anchors over four definitions, resampling anchors drops whole definitions and leaves the curve
unidentified in most resamples.  Why not an MCMC library: the posterior has six dimensions and is
smooth, the importance sampler runs in a fraction of a second, is deterministic for a seed, and reports its
effective sample size, so a poor fit shows instead of hiding.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import optimize, special, stats

log = logging.getLogger(__name__)

#: The definitions a published share can measure, as the crossover-claims file names them.
DEFINITIONS: dict[str, str] = {
    "cloud_ai_infrastructure_spend": "Cloud AI infrastructure spend (Gartner's AI-optimised IaaS)",
    "ai_compute": "All AI compute",
    "accelerator_or_dc_revenue": "AI accelerator or data-centre hardware revenue",
    "ai_dc_workloads_or_capacity": "AI data-centre workloads, deployed accelerators or capacity",
}
#: The definition the product answers by default: cloud AI spend by workload, as its history is built.
DEFAULT_DEFINITION = "cloud_ai_infrastructure_spend"
#: S-curve families, in the order their draws are numbered.
FAMILIES = ("logistic", "gompertz")
#: What an anchor states about the share.
BOUNDS = ("point", "lower", "upper")


@dataclass(frozen=True)
class Prior:
    """A normal prior on one (transformed) parameter, with the reason for it."""

    mean: float
    sd: float
    reason: str


#: Priors of the share model (docs/data.md section 2.4 gives their sources).
PRIORS: dict[str, Prior] = {
    "log_k": Prior(
        math.log(0.4),
        0.6,
        "Eurostat's share of EU enterprises using AI rose 0.27-0.53 logit a year (2021-2025); a median "
        "steepness of 0.4/year with a factor-1.8 spread covers 0.12-1.3/year at two sd.",
    ),
    "t0": Prior(
        2026.0,
        5.0,
        "Weak: the curve's centre anywhere from about 2016 to 2036 at two sd; the anchors decide.",
    ),
    "offset": Prior(
        0.0,
        0.6,
        "Definitions differ by up to about half a logit where they overlap (2026: Deloitte's 0.667 of "
        "compute against Gartner's 0.55 of IaaS spend is 0.49 logit); 0.6 allows twice that at two sd.",
    ),
    "log_sigma": Prior(
        math.log(0.25),
        0.5,
        "Published shares are rounded (thirds, tenths, 'about 40%'): +/-0.05 near 0.5 is +/-0.2 logit.",
    ),
}
#: Sd of the soft constraint that the definition offsets average zero (the curve is their mean).
OFFSET_MEAN_SD = 0.05
#: Proposal draws per family for importance sampling, and the Student-t degrees of freedom.
PROPOSALS, PROPOSAL_DF, PROPOSAL_SCALE = 6000, 5, 1.3


@dataclass(frozen=True)
class Anchor:
    """One published statement about the inference share under one definition."""

    definition: str
    t: float  # decimal year the share refers to (mid-year for a calendar year)
    value: float  # share in (0, 1)
    bound: str = "point"  # point, lower ("more than"), upper ("less than")
    ref: str = ""  # estimate or claim id
    published: str = ""  # ISO date the figure was published

    @property
    def published_on(self) -> pd.Timestamp | None:
        """When the figure was public: a month or year counts from its last day; ``None`` if undated."""
        return publication_date(self.published)

    def __post_init__(self) -> None:
        if self.definition not in DEFINITIONS:
            raise ValueError(f"unknown definition '{self.definition}'; expected one of {list(DEFINITIONS)}")
        if self.bound not in BOUNDS:
            raise ValueError(f"bound must be one of {BOUNDS}, got '{self.bound}'")
        if not 0 < self.value < 1:
            raise ValueError(f"a share anchor must lie strictly between 0 and 1, got {self.value}")


def publication_date(text: str) -> pd.Timestamp | None:
    """``2025-10-14`` as is, ``2025-10`` as 2025-10-31, ``2025`` as 2025-12-31, empty as ``None``.

    A figure known only by month (or year) counts as public from its last day, so an estimate
    replayed as of an earlier date never sees it too soon.
    """
    text = str(text or "").strip()
    if not text:
        return None
    if len(text) == 4:
        return pd.Timestamp(int(text), 12, 31)
    if len(text) == 7:
        return (pd.Timestamp(text + "-01") + pd.offsets.MonthEnd(0)).normalize()
    return pd.Timestamp(text).normalize()


def logit_curve(family: np.ndarray | int, k: np.ndarray, t0: np.ndarray, t: np.ndarray) -> np.ndarray:
    """``logit F(t)`` for each draw (rows) and time (columns); ``family`` 0 logistic, 1 Gompertz.

    ``t`` is one time axis shared by all draws, or an array that broadcasts against
    ``(draws, ..., times)`` when every draw has its own times (a sector moved along the curve).
    """
    t = np.asarray(t, dtype=float)
    k, t0, family = np.asarray(k), np.asarray(t0), np.asarray(family)
    if t.ndim == 1:
        t = t[None, :]
    extra = t.ndim - 1
    x = _trail(k, extra) * (t - _trail(t0, extra))
    e = np.exp(-np.clip(x, -50.0, 50.0))
    gompertz = -e - np.log(-np.expm1(-np.maximum(e, 1e-300)))
    return np.where(_trail(family, extra) == 1, gompertz, x)


def _trail(a: np.ndarray, m: int) -> np.ndarray:
    """``a`` with ``m`` trailing axes of length one (to broadcast per-draw values over times)."""
    return a.reshape(a.shape + (1,) * m)


@dataclass(frozen=True)
class _Problem:
    """Anchors as arrays, for a vectorised log posterior."""

    definitions: tuple[str, ...]
    d: np.ndarray  # definition index per anchor
    t: np.ndarray
    y: np.ndarray  # logit of the value
    bound: np.ndarray  # 0 point, 1 lower, 2 upper

    @classmethod
    def of(cls, anchors: Sequence[Anchor], definitions: tuple[str, ...]) -> _Problem:
        index = {d: i for i, d in enumerate(definitions)}
        return cls(
            definitions,
            np.array([index[a.definition] for a in anchors], dtype=int),
            np.array([a.t for a in anchors], dtype=float),
            special.logit(np.array([a.value for a in anchors], dtype=float)),
            np.array([BOUNDS.index(a.bound) for a in anchors], dtype=int),
        )

    @property
    def dim(self) -> int:
        return 2 + 2 * len(self.definitions)

    def log_posterior(self, family: int, theta: np.ndarray) -> np.ndarray:
        """Log posterior (up to a constant) for rows of ``theta = (log k, t0, offsets..., log sigmas...)``."""
        theta = np.atleast_2d(theta)
        n_def = len(self.definitions)
        log_k, t0 = theta[:, 0], theta[:, 1]
        offsets, log_sigma = theta[:, 2 : 2 + n_def], theta[:, 2 + n_def :]
        k, sigma = np.exp(log_k), np.exp(log_sigma)
        lp = _log_normal(log_k, PRIORS["log_k"]) + _log_normal(t0, PRIORS["t0"])
        lp += _log_normal(log_sigma, PRIORS["log_sigma"]).sum(axis=1)
        lp += _log_normal(offsets, PRIORS["offset"]).sum(axis=1)
        lp += stats.norm.logpdf(offsets.mean(axis=1), 0.0, OFFSET_MEAN_SD)
        if len(self.t):
            mu = logit_curve(np.full(len(k), family), k, t0, self.t) + offsets[:, self.d]
            sd = sigma[:, self.d]
            z = (self.y[None, :] - mu) / sd
            point = -0.5 * z**2 - np.log(sd) - 0.5 * math.log(2 * math.pi)
            lower = special.log_ndtr(-z)  # P(mu > y): the share exceeds the bound
            upper = special.log_ndtr(z)
            lp += np.where(self.bound == 0, point, np.where(self.bound == 1, lower, upper)).sum(axis=1)
        return lp


def _log_normal(x: np.ndarray, prior: Prior) -> np.ndarray:
    return stats.norm.logpdf(x, prior.mean, prior.sd)


@dataclass(frozen=True)
class FamilyFit:
    """One family's posterior: its mode, its log evidence and the importance sampler's health."""

    family: str
    mode: np.ndarray
    log_evidence: float
    ess: float  # effective sample size of the importance weights
    weight: float = 0.0  # posterior probability of the family (set across families)


@dataclass(frozen=True, eq=False)
class ShareDraws:
    """Posterior draws of the share curves: one row per sample path."""

    definitions: tuple[str, ...]
    family: np.ndarray  # (n,) 0 logistic, 1 Gompertz
    k: np.ndarray
    t0: np.ndarray
    offsets: np.ndarray  # (n, D)
    sigma: np.ndarray  # (n, D) noise sd of one anchor around its definition's curve, in logit
    fits: tuple[FamilyFit, ...] = field(default=())
    anchors: tuple[Anchor, ...] = field(default=())

    @property
    def n(self) -> int:
        """Number of draws."""
        return int(self.k.shape[0])

    def logit(self, definition: str, t: np.ndarray) -> np.ndarray:
        """``logit s_d(t)`` per draw: ``t`` is one time axis, or per-draw times of shape (n, ..., T)."""
        if definition not in self.definitions:
            raise ValueError(f"no draws for definition '{definition}'; have {list(self.definitions)}")
        t = np.asarray(t, dtype=float)
        offset = self.offsets[:, self.definitions.index(definition)]
        return logit_curve(self.family, self.k, self.t0, t) + _trail(offset, max(t.ndim - 1, 1))

    def share(self, definition: str, t: np.ndarray) -> np.ndarray:
        """The inference share ``s_d(t)`` per draw and time."""
        return special.expit(self.logit(definition, t))

    def to_arrays(self) -> dict[str, np.ndarray]:
        """The draws as plain arrays (what a run stores)."""
        return {"family": self.family, "k": self.k, "t0": self.t0, "offsets": self.offsets, "sigma": self.sigma}

    @classmethod
    def from_arrays(cls, definitions: Sequence[str], arrays: dict[str, np.ndarray]) -> ShareDraws:
        """Inverse of :meth:`to_arrays`."""
        return cls(
            tuple(definitions),
            np.asarray(arrays["family"], dtype=int),
            np.asarray(arrays["k"], dtype=float),
            np.asarray(arrays["t0"], dtype=float),
            np.asarray(arrays["offsets"], dtype=float),
            np.asarray(arrays["sigma"], dtype=float),
        )


def _mode(problem: _Problem, family: int) -> tuple[np.ndarray, np.ndarray]:
    """Posterior mode (best of a few starts) and the covariance of the Laplace approximation."""

    def neg(theta: np.ndarray) -> float:
        return -float(problem.log_posterior(family, theta)[0])

    starts = [
        np.r_[
            PRIORS["log_k"].mean,
            t0,
            np.zeros(len(problem.definitions)),
            np.full(len(problem.definitions), PRIORS["log_sigma"].mean),
        ]
        for t0 in (2022.0, 2026.0, 2030.0)
    ]
    best = min((optimize.minimize(neg, s, method="BFGS") for s in starts), key=lambda r: r.fun)
    return best.x, _covariance(neg, best.x)


def _covariance(f: Callable[[np.ndarray], float], x: np.ndarray, h: float = 1e-4) -> np.ndarray:
    """Inverse of the numerical Hessian of ``f`` at ``x``, made positive definite."""
    n = len(x)
    hess = np.empty((n, n))
    for i in range(n):
        for j in range(i, n):
            ei, ej = np.eye(n)[i] * h, np.eye(n)[j] * h
            value = f(x + ei + ej) - f(x + ei - ej) - f(x - ei + ej) + f(x - ei - ej)
            hess[i, j] = hess[j, i] = value / (4 * h * h)
    w, v = np.linalg.eigh((hess + hess.T) / 2)
    return (v / np.maximum(w, 1e-6)) @ v.T


def _importance(
    problem: _Problem, family: int, mode: np.ndarray, cov: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, float]:
    """Proposals from a Student-t around the mode, their log weights, and the log evidence."""
    dim = len(mode)
    scale = cov * PROPOSAL_SCALE**2
    proposal = stats.multivariate_t(loc=mode, shape=scale, df=PROPOSAL_DF, seed=rng)
    theta = np.asarray(proposal.rvs(size=PROPOSALS)).reshape(PROPOSALS, dim)
    log_w = problem.log_posterior(family, theta) - proposal.logpdf(theta)
    log_w = np.where(np.isfinite(log_w), log_w, -np.inf)
    log_evidence = float(special.logsumexp(log_w) - math.log(PROPOSALS))
    return theta, log_w, log_evidence


def _resample(log_w: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """Systematic resampling: ``n`` indices with frequencies proportional to the weights."""
    w = np.exp(log_w - log_w.max())
    cum = np.cumsum(w / w.sum())
    return np.minimum(np.searchsorted(cum, (rng.random() + np.arange(n)) / n), len(w) - 1)


def _allocate(weights: np.ndarray, n: int) -> np.ndarray:
    """Largest-remainder split of ``n`` draws by ``weights``."""
    raw = weights * n
    counts = np.floor(raw).astype(int)
    for i in np.argsort(-(raw - counts), kind="stable")[: n - counts.sum()]:
        counts[i] += 1
    return counts


def fit(
    anchors: Sequence[Anchor], n: int, seed: int = 0, definitions: Sequence[str] = tuple(DEFINITIONS)
) -> ShareDraws:
    """Posterior draws of the share curves given ``anchors`` (any number, even none: then the priors).

    Deterministic for a seed.  Each family is fitted separately; draws are split between the
    families by their posterior probabilities (equal prior odds times the evidence ratio).
    """
    if n < 1:
        raise ValueError(f"need at least one draw, got {n}")
    problem = _Problem.of(anchors, tuple(definitions))
    rng = np.random.default_rng([seed, 7193])
    parts, fits = [], []
    for family in range(len(FAMILIES)):
        mode, cov = _mode(problem, family)
        theta, log_w, log_z = _importance(problem, family, mode, cov, rng)
        w = np.exp(log_w - log_w.max())
        ess = float(w.sum() ** 2 / (w**2).sum())
        parts.append((theta, log_w))
        fits.append(FamilyFit(FAMILIES[family], mode, log_z, ess))
    evidence = np.array([f.log_evidence for f in fits])
    weights = np.exp(evidence - special.logsumexp(evidence))
    fits = [FamilyFit(f.family, f.mode, f.log_evidence, f.ess, float(w)) for f, w in zip(fits, weights, strict=True)]
    counts = _allocate(weights, n)
    rows, families = [], []
    for family, ((theta, log_w), count) in enumerate(zip(parts, counts, strict=True)):
        if count:
            rows.append(theta[_resample(log_w, int(count), rng)])
            families.append(np.full(int(count), family))
    draws = np.concatenate(rows)
    order = rng.permutation(n)  # mix the families across path numbers
    draws, family_of = draws[order], np.concatenate(families)[order]
    for f in fits:
        log.info("share model %s: weight %.3f, ESS %.0f of %d", f.family, f.weight, f.ess, PROPOSALS)
    return ShareDraws(
        tuple(definitions),
        family_of,
        np.exp(draws[:, 0]),
        draws[:, 1],
        draws[:, 2 : 2 + len(definitions)],
        np.exp(draws[:, 2 + len(definitions) :]),
        tuple(fits),
        tuple(anchors),
    )


def crossing_year(draws: ShareDraws, definition: str, level: float = 0.5) -> np.ndarray:
    """Per draw, the decimal year the share curve of ``definition`` reaches ``level`` (closed form)."""
    target = special.logit(level) - draws.offsets[:, draws.definitions.index(definition)]
    logistic = draws.t0 + target / draws.k
    # Gompertz: logit F = y  <=>  F = expit(y)  <=>  k (t - t0) = -log(-log expit(y))
    gompertz = draws.t0 - np.log(-np.log(special.expit(target))) / draws.k
    return np.where(draws.family == 1, gompertz, logistic)
