"""Model adapters, one per family, registered by name in :data:`MODELS`.

Adding a model is one :class:`Model` subclass and one line in :data:`MODELS`.
"""

from __future__ import annotations

from forecasting.models.arima import ARIMA
from forecasting.models.base import Model, ModelForecast, PointForecast
from forecasting.models.benchmarks import Drift, Naive, SeasonalNaive
from forecasting.models.dotm import DynamicTheta
from forecasting.models.ets import ETS
from forecasting.models.prophet import Prophet, ProphetLogistic
from forecasting.models.theta import Theta

MODELS: dict[str, type[Model]] = {
    "naive": Naive,
    "snaive": SeasonalNaive,
    "drift": Drift,
    "ets": ETS,
    "arima": ARIMA,
    "theta": Theta,
    "dotm": DynamicTheta,
    "prophet": Prophet,
    "prophet_logistic": ProphetLogistic,
}

#: Models the engine tries when the caller names none. Prophet is registered but not a default:
#: on M3 (docs/engine.md) adding it to the combination lost accuracy on both sets and doubled the time.
DEFAULT_MODELS: tuple[str, ...] = ("naive", "snaive", "drift", "ets", "arima", "theta", "dotm")


def get_model(name: str) -> Model:
    """An adapter instance by registered name; ``ValueError`` names the known ones."""
    try:
        return MODELS[name]()
    except KeyError:
        raise ValueError(f"unknown model '{name}'; known models: {sorted(MODELS)}") from None


__all__ = ["DEFAULT_MODELS", "MODELS", "Model", "ModelForecast", "PointForecast", "get_model"]
