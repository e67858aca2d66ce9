"""The directly driven L-BFGS-B against ``scipy.optimize.minimize``: the same point to the bit, after the
same number of evaluations, with and without bounds and when the iteration limit stops it."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from scipy import optimize

from forecasting.models import lbfgsb

Bounds = list[tuple[float | None, float | None]] | None


def _rosenbrock(x: np.ndarray) -> tuple[float, np.ndarray]:
    return float(optimize.rosen(x)), optimize.rosen_der(x)


def _bowl(x: np.ndarray) -> tuple[float, np.ndarray]:
    # A tilted quadratic with a cosine ripple: its optimum lies outside the boxes used below.
    centre = np.arange(1.0, x.size + 1)
    return float(np.sum((x - centre) ** 2 * (1 + np.arange(x.size))) + np.cos(x).sum()), (
        2 * (x - centre) * (1 + np.arange(x.size)) - np.sin(x)
    )


def _forward(f: Callable[[np.ndarray], float]) -> Callable[[np.ndarray], tuple[float, np.ndarray]]:
    # Forward differences as the models write them: a gradient that is not exact, as in the fits.
    def fg(x: np.ndarray) -> tuple[float, np.ndarray]:
        f0 = f(x)
        return f0, np.array([(f(x + h) - f0) / 1e-8 for h in 1e-8 * np.eye(x.size)])

    return fg


CASES: list[tuple[str, Callable[[np.ndarray], tuple[float, np.ndarray]], list[float], Bounds, int]] = [
    ("rosenbrock, free", _rosenbrock, [-1.2, 1.0, 0.5], None, 15000),
    ("rosenbrock, stopped by maxiter", _rosenbrock, [-1.2, 1.0, 0.5], None, 4),
    (
        "bowl, box with active bounds",
        _bowl,
        [0.5, 0.5, 0.5, 0.5],
        [(0.0, 1.5), (0.0, 1.5), (-1.0, 2.5), (0.0, 9.0)],
        200,
    ),
    ("bowl, start outside the box", _bowl, [5.0, -3.0], [(0.0, 1.5), (0.0, 1.5)], 200),
    ("bowl, one-sided bounds", _bowl, [0.0, 0.0, 0.0], [(None, 0.5), (1.9, None), (None, None)], 200),
    (
        "forward differences, fixed-width box",
        _forward(lambda v: float(np.sum(np.sin(3 * v) + v**2))),
        [0.3, -0.2],
        [(-1.0, 1.0), (0.1, 0.1)],
        200,
    ),
]


def _counted(
    fg: Callable[[np.ndarray], tuple[float, np.ndarray]],
) -> tuple[Callable[[np.ndarray], tuple[float, np.ndarray]], list[int]]:
    calls = [0]

    def wrapped(x: np.ndarray) -> tuple[float, np.ndarray]:
        calls[0] += 1
        return fg(x)

    return wrapped, calls


@pytest.mark.skipif(not lbfgsb.direct_available(), reason="this scipy's L-BFGS-B loop is not the one reproduced")
@pytest.mark.parametrize(("fg", "x0", "bounds", "maxiter"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_the_direct_loop_lands_where_minimize_does_after_as_many_evaluations(
    fg: Callable[[np.ndarray], tuple[float, np.ndarray]],
    x0: list[float],
    bounds: Bounds,
    maxiter: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    theirs, their_calls = _counted(fg)
    expected = optimize.minimize(
        theirs, np.array(x0), jac=True, method="L-BFGS-B", bounds=bounds, options={"maxiter": maxiter}
    ).x

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the direct loop called scipy.optimize.minimize")

    monkeypatch.setattr(lbfgsb.optimize, "minimize", refuse)
    ours, our_calls = _counted(fg)
    got = lbfgsb.minimize_lbfgsb(ours, np.array(x0), bounds, maxiter)
    assert np.array_equal(got, expected)
    assert our_calls == their_calls


def test_another_scipy_gets_minimize_itself(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lbfgsb, "DIRECT_VERSIONS", frozenset())
    assert not lbfgsb.direct_available()
    _, fg, x0, bounds, maxiter = CASES[2]
    expected = optimize.minimize(
        fg, np.array(x0), jac=True, method="L-BFGS-B", bounds=bounds, options={"maxiter": maxiter}
    ).x
    assert np.array_equal(lbfgsb.minimize_lbfgsb(fg, np.array(x0), bounds, maxiter), expected)


def test_crossed_bounds_are_refused_as_minimize_refuses_them() -> None:
    with pytest.raises(ValueError, match="lower bounds is greater"):
        lbfgsb.minimize_lbfgsb(_bowl, np.zeros(2), [(0.0, 1.0), (2.0, 1.0)])
