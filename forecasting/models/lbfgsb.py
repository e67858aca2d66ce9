"""L-BFGS-B for the models' small likelihoods: scipy's own routine, driven without ``minimize``'s wrapper.

ETS and ARIMA minimise functions of two to seven parameters that return their value and gradient
together. ``scipy.optimize.minimize(..., method="L-BFGS-B")`` spends a fifth to a quarter of such a
fit in its wrapper (a ``ScalarFunction`` with memoisation, array-API conversions and a result object)
rather than in the likelihood. :func:`minimize_lbfgsb` drives the same compiled ``setulb`` routine
with the same start, bounds, settings and iteration rules, so it returns the same point to the bit.

The loop follows ``scipy.optimize._lbfgsb_py._minimize_lbfgsb``, which is the same in scipy 1.15,
1.16 and 1.17 (read in each; 1.15 replaced the Fortran routine with C and changed its arguments).
On any other scipy, :func:`minimize_lbfgsb` calls ``minimize`` itself.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import scipy
from scipy import optimize

#: scipy versions (major, minor) whose ``_minimize_lbfgsb`` loop this module reproduces.
DIRECT_VERSIONS = frozenset({(1, 15), (1, 16), (1, 17)})

#: ``minimize``'s L-BFGS-B defaults: history size, ``ftol``, ``gtol``, ``maxls`` and ``maxfun``.
_MAXCOR, _FTOL, _GTOL, _MAXLS, _MAXFUN = 10, 2.220446049250313e-09, 1e-05, 20, 15000

#: ``setulb``'s task codes: evaluate f and g at x; a new iteration; stop (with a reason code).
_FG, _NEW_X, _STOP = 3, 1, 5

FunAndGrad = Callable[[np.ndarray], tuple[float, np.ndarray]]


def _scipy_version() -> tuple[int, int]:
    major, minor = scipy.__version__.split(".")[:2]
    return int(major), int("".join(ch for ch in minor if ch.isdigit()) or 0)


def direct_available() -> bool:
    """Whether this scipy's L-BFGS-B loop is the one :func:`minimize_lbfgsb` reproduces."""
    return _scipy_version() in DIRECT_VERSIONS


def _start_and_bounds(
    x0: np.ndarray, bounds: Sequence[tuple[float | None, float | None]] | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The start (clipped into the box, as ``minimize`` does) and ``setulb``'s bound arrays: the lower and
    upper values and each parameter's kind (0 free, 1 lower only, 2 both, 3 upper only)."""
    x = np.array(np.asarray(x0, dtype=float).ravel(), dtype=np.float64)
    n = x.size
    low, high, kind = np.zeros(n), np.zeros(n), np.zeros(n, np.int32)
    if bounds is None:
        return x, low, high, kind
    if len(bounds) != n:
        raise ValueError("length of x0 != length of bounds")
    lo = np.array([-np.inf if b[0] is None else b[0] for b in bounds], dtype=float)
    hi = np.array([np.inf if b[1] is None else b[1] for b in bounds], dtype=float)
    if (lo > hi).any():
        raise ValueError("LBFGSB - one of the lower bounds is greater than an upper bound.")
    has_lo, has_hi = ~np.isinf(lo), ~np.isinf(hi)
    low[has_lo], high[has_hi] = lo[has_lo], hi[has_hi]
    kind[:] = np.where(has_lo, np.where(has_hi, 2, 1), np.where(has_hi, 3, 0))
    return np.clip(x, lo, hi), low, high, kind


def minimize_lbfgsb(
    fun_and_grad: FunAndGrad,
    x0: np.ndarray,
    bounds: Sequence[tuple[float | None, float | None]] | None = None,
    maxiter: int = 15000,
) -> np.ndarray:
    """The minimiser ``optimize.minimize(fun_and_grad, x0, jac=True, method="L-BFGS-B", bounds=bounds,
    options={"maxiter": maxiter}).x`` returns, to the bit, found without ``minimize``'s wrapper.

    ``fun_and_grad`` returns the value (a float) and the gradient at a point; it gets a copy of the
    point. A bound of None is no bound on that side.
    """
    if not direct_available():
        res = optimize.minimize(
            fun_and_grad, x0, jac=True, method="L-BFGS-B", bounds=bounds, options={"maxiter": maxiter}
        )
        return np.asarray(res.x)
    from scipy.optimize import _lbfgsb  # the compiled routine (private; its arguments are checked above)

    x, low, high, kind = _start_and_bounds(x0, bounds)
    n = x.size
    # minimize evaluates the start before its loop and then only at a point that differs from the
    # last one evaluated; so does this, which keeps the count of evaluations (and maxfun's stop) the same.
    seen_x = x.copy()
    seen = fun_and_grad(x.copy())
    evaluations, iterations = 1, 0
    m = _MAXCOR
    wa = np.zeros(2 * m * n + 5 * n + 11 * m * m + 8 * m)
    iwa, task, ln_task = np.zeros(3 * n, np.int32), np.zeros(2, np.int32), np.zeros(2, np.int32)
    lsave, isave, dsave = np.zeros(4, np.int32), np.zeros(44, np.int32), np.zeros(29)
    factr = _FTOL / np.finfo(float).eps
    f: float | np.ndarray = np.array(0.0)
    g = np.zeros(n)
    while True:
        g = g.astype(np.float64)  # a copy: setulb writes into it, and the last evaluation is kept
        _lbfgsb.setulb(m, x, low, high, kind, f, g, factr, _GTOL, wa, iwa, task, lsave, isave, dsave, _MAXLS, ln_task)
        if task[0] == _FG:
            if not np.array_equal(x, seen_x):
                seen_x, seen = x.copy(), fun_and_grad(x.copy())
                evaluations += 1
            f, g = seen
        elif task[0] == _NEW_X:
            iterations += 1
            if iterations >= maxiter:
                task[0], task[1] = _STOP, 504
            elif evaluations > _MAXFUN:
                task[0], task[1] = _STOP, 502
        else:
            return x
