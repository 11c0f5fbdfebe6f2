r"""Predicted customer lifetime value: a purchase model times a spend model, discounted.

For each month *k* of the horizon, the expected purchases in that month (the
difference of the purchase model's cumulative expectation at the month's end and
start) are valued at the Gamma-Gamma expected average transaction value, times the
gross margin, and discounted to today:

.. math::

    \mathrm{CLV} = m \, E[Z] \sum_{k=1}^{H}
    \frac{E[Y(k\tau)] - E[Y((k-1)\tau)]}{(1 + d_m)^{k}},
    \qquad d_m = (1 + d)^{1/12} - 1

with τ the length of a month in the model's time unit (30.4375 days = 4.348 weeks),
*d* the yearly discount rate and *H* the horizon in months (a fractional last month
counts in part). This is the discounted-cash-flow approach of Fader, Hardie & Lee
(2005, "RFM and CLV", section 4) with monthly steps, as in lifetimes'
``customer_lifetime_value``.

**Time units are checked, not assumed.** The horizon is always in months and is
converted to the model's unit; customer data in another unit than the model's is
refused. Mixing them (fitting in weeks, predicting "in days") is the documented way
to inflate CLV fourfold.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from clvxl.errors import InputError, ModelError
from clvxl.models import bgnbd, gammagamma, mbgnbd, model_info, module_of, paretonbd
from clvxl.models._mle import pattern_index
from clvxl.units import DAYS_PER_MONTH, TimeUnit, parse_unit

__all__ = ["FittedModels", "discounted_purchases", "predict_customers", "predicted_clv"]


@dataclass(frozen=True)
class FittedModels:
    """The purchase model and the spend model behind the predictions."""

    purchase: bgnbd.BetaGeoModel | mbgnbd.ModifiedBetaGeoModel | paretonbd.ParetoNBDModel
    spend: gammagamma.GammaGammaModel

    def parameter_table(self) -> pd.DataFrame:
        """Parameters, standard errors and fit statistics as rows (the Model sheet).

        Returns
        -------
        DataFrame
            Columns ``model``, ``parameter``, ``value``, ``stderr``.
        """
        rows = []
        for model in (self.purchase, self.spend):
            for name, value in model.params.items():
                rows.append((model.name, name, value, model.stderr.get(name, np.nan)))
            rows.append((model.name, "log-likelihood", model.loglik, np.nan))
            rows.append((model.name, "customers", model.n, np.nan))
            rows.append((model.name, "distinct patterns", model.patterns, np.nan))
        return pd.DataFrame(rows, columns=["model", "parameter", "value", "stderr"])


def predicted_clv(
    purchase,
    spend: gammagamma.GammaGammaModel,
    frequency,
    recency,
    T,
    monetary,
    horizon_months: float = 12.0,
    discount_rate: float = 0.10,
    margin: float = 1.0,
    unit: str | TimeUnit | None = None,
) -> np.ndarray:
    """Discounted CLV over ``horizon_months`` for each customer.

    Parameters
    ----------
    purchase : BetaGeoModel or ParetoNBDModel
        Fitted purchase model; its ``time_unit`` is the unit of ``recency`` and ``T``.
    spend : GammaGammaModel
        Fitted spend model.
    frequency, recency, T, monetary : array-like
        The customers' summary.
    horizon_months : float
        Horizon in months.
    discount_rate : float
        Yearly discount rate (0.10 = 10 % a year).
    margin : float
        Gross margin applied to spend.
    unit : str, optional
        The unit of ``recency`` and ``T``. When given it must be the model's.

    Returns
    -------
    ndarray

    Examples
    --------
    >>> p = bgnbd.BetaGeoModel(r=0.243, alpha=4.414, a=0.793, b=2.426, time_unit="weeks")
    >>> s = gammagamma.GammaGammaModel(p=6.25, q=3.74, v=15.44)
    >>> np.round(predicted_clv(p, s, [2], [30.43], [38.86], [22.35], 12, 0.10), 2).tolist()
    [36.75]
    >>> predicted_clv(p, s, [2], [30.43], [38.86], [22.35], unit="days")
    Traceback (most recent call last):
    ...
    clvxl.errors.InputError: the purchase model was fitted in weeks but the customer data is in days; ...
    """
    _check_horizon(purchase, unit, horizon_months, discount_rate)
    value = gammagamma.expected_avg_value(spend, frequency, monetary)
    # Purchase predictions depend on (x, t_x, T) only: compute them once per pattern.
    x, t_x, big_t = (np.atleast_1d(np.asarray(v, dtype=float)) for v in (frequency, recency, T))
    keys, inverse = pattern_index({"x": x, "t_x": t_x, "T": big_t})
    discounted = discounted_purchases(
        purchase, keys["x"], keys["t_x"], keys["T"], horizon_months, discount_rate
    )
    return margin * value * discounted[inverse]


def _check_horizon(purchase, unit, horizon_months: float, discount_rate: float) -> None:
    """Refuse customer data in another unit than the model's, and impossible settings."""
    model_unit = purchase.time_unit
    if unit is not None and parse_unit(unit) != model_unit:
        raise InputError(
            f"the purchase model was fitted in {model_unit} but the customer data is in "
            f"{parse_unit(unit)}; summarise the customers in {model_unit} (mixing units "
            "inflates or deflates CLV several times over)"
        )
    if not (np.isfinite(horizon_months) and horizon_months > 0):
        raise InputError(f"horizon_months must be above 0, got {horizon_months}")
    if not (0 <= discount_rate < 1):
        raise InputError(
            f"discount_rate must be between 0 and 1 (a yearly rate), got {discount_rate}"
        )


def discounted_purchases(
    purchase, frequency, recency, T, horizon_months: float, discount_rate: float
) -> np.ndarray:
    """Expected purchases month by month over the horizon, each discounted to today.

    Both models' expectation is P(alive | x, t_x, T) times the expectation of an active
    customer, which depends on (x, T) alone; the monthly sum runs once per distinct
    (x, T) pair and is multiplied by P(alive) once at the end.
    """
    module = module_of(purchase)
    month = DAYS_PER_MONTH / purchase.time_unit.days
    monthly_discount = (1 + discount_rate) ** (1 / 12) - 1
    x, t_x, big_t = (np.atleast_1d(np.asarray(v, dtype=float)) for v in (frequency, recency, T))
    pairs, pair_of = pattern_index({"x": x, "T": big_t})
    total = np.zeros(len(pairs["x"]))
    previous = np.zeros(len(pairs["x"]))
    for k in range(1, int(np.ceil(horizon_months)) + 1):
        months = min(float(k), horizon_months)
        cumulative = module.expected_purchases_if_alive(
            purchase, months * month, pairs["x"], pairs["T"]
        )
        total += (cumulative - previous) / (1 + monthly_discount) ** months
        previous = cumulative
    return module.p_alive(purchase, x, t_x, big_t) * total[pair_of]


def _fit_models(
    keys: dict[str, np.ndarray],
    counts: np.ndarray,
    x: np.ndarray,
    z: np.ndarray,
    unit: TimeUnit,
    model: str,
) -> FittedModels:
    """Both models: the purchase model on the (x, t_x, T) patterns ``keys`` with their
    customer ``counts``, Gamma-Gamma on each customer's ``x`` and ``z``."""
    purchase = model_info(model, "purchase").module.fit(
        keys["x"], keys["t_x"], keys["T"], weights=counts, time_unit=unit
    )
    return FittedModels(purchase, gammagamma.fit(x, z))


def predict_customers(
    table: pd.DataFrame,
    unit: str | TimeUnit,
    horizon_months: float = 12.0,
    discount_rate: float = 0.10,
    margin: float = 1.0,
    model: str = "bgnbd",
) -> tuple[pd.DataFrame, FittedModels]:
    """Fit the models on a customer summary and predict every customer.

    The customers are grouped into their distinct (x, t_x, T) patterns once: the
    purchase model is fitted on the patterns, weighted by their customers, and every
    purchase prediction (P(alive), expected purchases, the discounted purchases of
    :func:`clv`) is computed once per pattern.

    Parameters
    ----------
    table : DataFrame
        ``frequency``, ``recency``, ``T``, ``monetary`` per customer (in ``unit``).
    unit : str or TimeUnit
        The unit of ``recency`` and ``T``.
    horizon_months, discount_rate, margin : float
        See :func:`clv`.
    model : str
        A purchase model of :data:`clvxl.models.PURCHASE_MODELS`.
        The purchase model.

    Returns
    -------
    (DataFrame, FittedModels)
        Columns ``p_alive``, ``expected_purchases`` (over the horizon),
        ``expected_avg_value``, ``clv``, aligned with ``table``.
    """
    unit = parse_unit(unit)
    x, t_x, big_t, z = (
        table[c].to_numpy(dtype=float) for c in ("frequency", "recency", "T", "monetary")
    )
    keys, inverse = pattern_index({"x": x, "t_x": t_x, "T": big_t})
    models = _fit_models(keys, np.bincount(inverse), x, z, unit, model)
    _check_horizon(models.purchase, unit, horizon_months, discount_rate)
    module = module_of(models.purchase)
    px, pt_x, pbig_t = keys["x"], keys["t_x"], keys["T"]
    horizon = horizon_months * DAYS_PER_MONTH / unit.days
    with np.errstate(all="ignore"):  # non-finite results are checked below, and said in words
        value = gammagamma.expected_avg_value(models.spend, x, z)
        discounted = discounted_purchases(
            models.purchase, px, pt_x, pbig_t, horizon_months, discount_rate
        )
        out = pd.DataFrame(
            {
                "p_alive": module.p_alive(models.purchase, px, pt_x, pbig_t)[inverse],
                "expected_purchases": module.expected_purchases(
                    models.purchase, horizon, px, pt_x, pbig_t
                )[inverse],
                "expected_avg_value": value,
                "clv": margin * value * discounted[inverse],
            },
            copy=False,  # new arrays already
        )
    if not all(np.isfinite(out[column].to_numpy()).all() for column in out):
        p = models.purchase
        raise ModelError(
            f"the {p.name} model fitted to these {p.n:,.0f} customers gives no usable "
            f"prediction (its parameters {', '.join(f'{k} = {v:.3g}' for k, v in p.params.items())} "
            "are at the edge of what the data can pin down); it needs more customers, "
            "and more of them buying again"
        )
    return out, models
