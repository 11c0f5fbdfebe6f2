r"""Gamma-Gamma: how much a customer spends per transaction.

Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005), "RFM and CLV: Using Iso-Value
Curves for Customer Base Analysis", *Journal of Marketing Research* 42(4), 415–430;
Fader & Hardie (2013), "The Gamma-Gamma Model of Monetary Value" (note).

A customer's transaction values are Gamma(p, ν) around its own mean, with
ν ~ Gamma(q, γ) across customers (γ is written ``v`` here, as in lifetimes). With
*x* repeat transactions of mean :math:`\bar z`, the likelihood is (note, eq. 4)

.. math::

    f(\bar z \mid p, q, \gamma; x) = \frac{\Gamma(px + q)}{\Gamma(px)\,\Gamma(q)}
    \frac{\gamma^q\, x^{px}\, \bar z^{px - 1}}{(\gamma + x \bar z)^{px + q}}

evaluated in logs. The expected average transaction value of a customer is
(eq. 5) a weighted mean of the population mean and its own mean:

.. math::

    E[Z \mid p, q, \gamma, \bar z, x] = \frac{p(\gamma + x \bar z)}{px + q - 1}
    = \frac{q - 1}{px + q - 1} \frac{p\gamma}{q - 1} + \frac{px}{px + q - 1} \bar z.

Only repeat buyers with a positive mean value inform the fit (the model assumes
spend is independent of purchase frequency; check that before relying on it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from clvxl._runtime.memo import remembered
from clvxl._runtime.scipy_lean import digamma, gammaln
from clvxl.errors import InputError, ModelError
from clvxl.models._mle import ModelParams, as_column, fit_mle, patterns

__all__ = ["GammaGammaModel", "expected_avg_value", "fit", "loglik", "population_mean"]


@dataclass(frozen=True)
class GammaGammaModel(ModelParams):
    """A Gamma-Gamma spend model: p, q, v (γ) and how they were fitted.

    Attributes
    ----------
    p : float
        Shape of the gamma distribution of a customer's transaction values; positive.
    q, v : float
        Shape and rate (γ) of the gamma distribution across customers of the rate ν
        of their transaction values (a customer's mean value is p / ν); positive
        (``q`` > 1 for a finite :func:`population_mean`).
    loglik, n, patterns, stderr : float, float, int, dict of str to float
        As :func:`fit` sets them; NaN, 0, 0 and empty for a model built from known
        parameters.

    Examples
    --------
    >>> m = GammaGammaModel(p=6.25, q=3.74, v=15.44)
    >>> round(population_mean(m), 2)
    35.22
    """

    p: float
    q: float
    v: float
    loglik: float = float("nan")
    n: float = 0
    patterns: int = 0
    stderr: dict[str, float] = field(default_factory=dict, compare=False)
    cov: np.ndarray | None = field(default=None, compare=False, repr=False)
    name: ClassVar[str] = "Gamma-Gamma"
    param_names: ClassVar[tuple[str, ...]] = ("p", "q", "v")


def _loglik_terms(params, x, z):
    p, q, v = params
    px = p * x
    return (
        gammaln(px + q)
        - gammaln(px)
        - gammaln(q)
        + q * np.log(v)
        + px * np.log(x)
        + (px - 1) * np.log(z)
        - (px + q) * np.log(v + x * z)
    )


def _objective(x, z, w):
    r"""Negative total log-likelihood and its gradient in (p, q, v), from sufficient statistics.

    Everything except :math:`\log(\gamma + x \bar z)` is a function of x alone (once
    per distinct x) or a fixed weighted sum of the data, so an evaluation costs one log
    and one division per row.
    """
    xs, index = np.unique(x, return_inverse=True)
    weight_x = np.bincount(index, weights=w)
    log_z = np.log(z)
    total, sum_log_z, sum_x_log_z = w.sum(), w @ log_z, (w * x) @ log_z
    wx, xz, log_xs = w * x, x * z, np.log(xs)

    def value_and_gradient(params) -> tuple[float, np.ndarray]:
        p, q, v = params
        pxs = p * xs
        log_vxz = np.log(v + xz)
        inv_vxz = 1.0 / (v + xz)
        psi_pxq = digamma(pxs + q)
        value = (
            (gammaln(pxs + q) - gammaln(pxs) - gammaln(q) + pxs * log_xs) @ weight_x
            + p * sum_x_log_z
            - sum_log_z
            + q * np.log(v) * total
            - p * (wx @ log_vxz)
            - q * (w @ log_vxz)
        )
        d_p = (xs * (psi_pxq - digamma(pxs) + log_xs)) @ weight_x + sum_x_log_z - wx @ log_vxz
        d_q = (psi_pxq - digamma(q)) @ weight_x + total * np.log(v) - w @ log_vxz
        d_v = q * total / v - p * (wx @ inv_vxz) - q * (w @ inv_vxz)
        return -float(value), -np.array([d_p, d_q, d_v])

    return value_and_gradient


def loglik(model: GammaGammaModel, frequency, monetary) -> np.ndarray:
    """Log-likelihood of each repeat buyer's mean spend (eq. 4, in logs).

    Parameters
    ----------
    model : GammaGammaModel
        The fitted (or given) spend model.
    frequency : array_like of shape (n_customers,)
        Repeat transactions *x* of each customer; positive.
    monetary : array_like of shape (n_customers,)
        Mean value :math:`\\bar z` of each customer's repeat transactions; positive.

    Returns
    -------
    ndarray of shape (n_customers,)
        Natural log of the density of each customer's mean value given *x*.

    Raises
    ------
    InputError
        If a value is not finite, or a ``frequency`` or ``monetary`` is not positive.
    """
    x, z = as_column(frequency, "frequency"), as_column(monetary, "monetary")
    if (x <= 0).any() or (z <= 0).any():
        raise InputError(
            "the spend likelihood needs repeat buyers (frequency > 0) with a positive mean value"
        )
    return _loglik_terms((model.p, model.q, model.v), x, z)


@remembered
def fit(frequency, monetary, weights=None) -> GammaGammaModel:
    """Fit the Gamma-Gamma model on the repeat buyers with a positive mean value.

    Parameters
    ----------
    frequency : array_like of shape (n_customers,)
        Repeat transactions *x* of each customer.
    monetary : array_like of shape (n_customers,)
        Mean value :math:`\\bar z` of those repeat transactions. Rows whose
        ``frequency`` or ``monetary`` is not positive are left out of the fit.
    weights : array_like of shape (n_customers,), optional
        Number of customers with each row (default 1 each); zero or more.

    Returns
    -------
    GammaGammaModel
        The maximum-likelihood estimates: the positive (p, q, v) that maximise the
        weighted total log-likelihood of the rows used, the sum of
        ``weights × loglik`` (eq. 4), found by L-BFGS-B on the log scale (see
        :func:`~clvxl.models._mle.fit_mle`). ``loglik`` is that maximum, ``n`` the
        total weight of the rows used, ``patterns`` the number of distinct
        (x, z̄) rows fitted, ``stderr`` the standard errors from the inverse Hessian
        (NaN where they cannot be computed).

    Raises
    ------
    InputError
        If a value is not finite, ``frequency`` and ``monetary`` differ in length or
        a weight is negative.
    ModelError
        If fewer than two customers have a repeat transaction with a positive mean
        value, all of them have the same mean value, or the likelihood has no
        finite maximum (a parameter runs off to zero or infinity).
    """
    x, z = as_column(frequency, "frequency"), as_column(monetary, "monetary")
    if len(x) != len(z):
        raise InputError("frequency and monetary must have the same length")
    w = np.ones(len(x)) if weights is None else as_column(weights, "weights")
    use = (x > 0) & (z > 0)
    if use.sum() < 2 and w[use].sum() < 2:
        raise ModelError(
            "fewer than two customers have bought more than once, so the spend model "
            "(Gamma-Gamma) cannot learn how much customers spend per purchase"
        )
    cols, weights_ = patterns({"x": x[use], "z": z[use]}, w[use])
    if len(np.unique(cols["z"])) < 2:
        raise ModelError(
            "every repeat buyer spends the same on average; the spend model needs some variety"
        )

    value_and_gradient = _objective(cols["x"], cols["z"], weights_)

    def negloglik(params):
        return value_and_gradient(params)[0]

    mean, var = (
        np.average(cols["z"], weights=weights_),
        np.average((cols["z"] - np.average(cols["z"], weights=weights_)) ** 2, weights=weights_),
    )
    start = np.array([max(mean**2 / max(var, 1e-9), 0.5), 2.0, max(mean, 1e-3)])
    result = fit_mle(
        negloglik, GammaGammaModel.param_names, start, "Gamma-Gamma", value_and_gradient
    )
    return result.model(GammaGammaModel, weights_)


def population_mean(model: GammaGammaModel) -> float:
    """Mean transaction value of a customer about whom nothing is known, :math:`p\\gamma/(q-1)`.

    Parameters
    ----------
    model : GammaGammaModel
        The fitted (or given) spend model.

    Returns
    -------
    float
        The mean spend per transaction of a new customer, in the currency of the
        ``monetary`` values the model was fitted to.

    Raises
    ------
    ModelError
        If ``q`` <= 1 (the mean is unbounded).
    """
    if model.q <= 1:
        raise ModelError(
            f"the spend model has q = {model.q:.3g} ≤ 1: spend varies so much between customers "
            "that the average spend of a new customer is unbounded"
        )
    return model.p * model.v / (model.q - 1)


def expected_avg_value(model: GammaGammaModel, frequency, monetary) -> np.ndarray:
    """Expected average transaction value of each customer (eq. 5).

    Parameters
    ----------
    model : GammaGammaModel
        The fitted (or given) spend model.
    frequency : array_like of shape (n_customers,)
        Repeat transactions *x* of each customer; 0 or more.
    monetary : array_like of shape (n_customers,)
        Mean value :math:`\\bar z` of each customer's repeat transactions (ignored
        where ``frequency`` is 0).

    Returns
    -------
    ndarray of shape (n_customers,)
        Expected mean spend per transaction of each customer, in the currency of
        ``monetary``: its own mean shrunk towards :func:`population_mean`, which is
        what a customer without repeat transactions gets.

    Raises
    ------
    InputError
        If a value is not finite, the arrays differ in length or a ``frequency`` is
        negative.
    ModelError
        If ``q`` <= 1 (see :func:`population_mean`).

    Examples
    --------
    >>> m = GammaGammaModel(p=6.25, q=3.74, v=15.44)
    >>> np.round(expected_avg_value(m, [2, 0], [22.35, 0.0]), 2).tolist()
    [24.66, 35.22]
    """
    x, z = as_column(frequency, "frequency"), as_column(monetary, "monetary")
    if len(x) != len(z):
        raise InputError("frequency and monetary must have the same length")
    if (x < 0).any():
        raise InputError("frequency must be 0 or more")
    population_mean(model)  # refuses q <= 1 in words
    p, q, v = model.p, model.q, model.v
    return p * (v + x * z) / (p * x + q - 1)
