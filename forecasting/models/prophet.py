"""Prophet adapter for yearly, quarterly, monthly, weekly and daily data: MAP fit, one seasonal term."""

from __future__ import annotations

import logging
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from forecasting.errors import MissingExtraError
from forecasting.models.base import Model, PointForecast, residual_sd

_FREQ_BY_SEASON = {1: "YS", 4: "QS", 12: "MS", 52: "W", 7: "D"}


def _import_prophet() -> Any:
    try:
        from prophet import Prophet
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise MissingExtraError(
            "the 'prophet' model needs the prophet extra: pip install 'crossover-forecasting[prophet]'"
        ) from exc
    # cmdstanpy logs every optimisation at INFO; keep the run quiet.
    for name in ("cmdstanpy", "prophet", "prophet.models"):
        logging.getLogger(name).setLevel(logging.ERROR)
    return Prophet


class Prophet(Model):
    """Prophet with linear growth; yearly seasonality only for sub-annual data with 2+ years."""

    name = "prophet"
    min_length = 6
    # Each fit spawns a CmdStan process (~0.3 s), so the backtest spends only two origins on it.
    max_origins = 2
    growth: ClassVar[str] = "linear"
    #: Capacity for logistic growth in model units (None: estimated from the data).
    cap: ClassVar[float | None] = None

    def fit_predict(self, y: np.ndarray, horizon: int, season: int, spec: Any = None) -> PointForecast:
        """Fit Prophet by MAP (no MCMC, no Prophet sampling) on synthetic dates of the right step."""
        prophet_cls = _import_prophet()
        freq = _FREQ_BY_SEASON.get(season, "YS")
        ds = pd.date_range("2000-01-01", periods=len(y) + horizon, freq=freq)
        df = pd.DataFrame({"ds": ds[: len(y)], "y": y})
        yearly: bool | int = {4: 2, 12: 6, 52: 10}.get(season, False)
        weekly = season == 7 and len(y) >= 14
        if season > 1 and len(y) < 2 * season:
            yearly = False
        model = prophet_cls(
            growth=self.growth,
            yearly_seasonality=yearly,
            weekly_seasonality=weekly,
            daily_seasonality=False,
            uncertainty_samples=0,
            mcmc_samples=0,
        )
        future = pd.DataFrame({"ds": ds})
        if self.growth == "logistic":
            cap, floor = self._capacity(y)
            df["cap"], df["floor"] = cap, floor
            future["cap"], future["floor"] = cap, floor
        model.fit(df, algorithm="LBFGS")
        pred = model.predict(future)["yhat"].to_numpy(dtype=float)
        s = residual_sd(y - pred[: len(y)], dof=2)
        k = np.arange(1, horizon + 1)
        # Prophet's own bands need sampling; we give a random-walk-shaped sd that the
        # engine's calibration rescales from backtest errors.
        return PointForecast(pred[len(y) :], s * np.sqrt(k))

    def _capacity(self, y: np.ndarray) -> tuple[float, float]:
        lo, hi = float(np.min(y)), float(np.max(y))
        span = max(hi - lo, abs(hi) * 0.1, 1e-9)
        cap = self.cap if self.cap is not None else hi + span
        return cap, lo - span


class ProphetLogistic(Prophet):
    """Prophet with logistic growth toward a capacity (given as ``cap`` or estimated as max + range)."""

    name = "prophet_logistic"
    growth = "logistic"
