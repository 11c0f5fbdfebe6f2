r"""Pareto/NBD: Poisson purchasing with an exponential lifetime.

Schmittlein, D. C., Morrison, D. G. & Colombo, R. (1987), "Counting Your Customers:
Who Are They and What Will They Do Next?", *Management Science* 33(1), 1–24; the
likelihood as derived in Fader, Hardie & Lee (2005), "A Note on Deriving the
Pareto/NBD Model and Related Expressions" (eq. 22).

Purchase rate λ ~ Gamma(r, α), dropout rate μ ~ Gamma(s, β). With
:math:`A_0` below,

.. math::

    L = \frac{\Gamma(r + x)\, \alpha^r \beta^s}{\Gamma(r)}
    \Big[\frac{1}{(\alpha + T)^{r + x} (\beta + T)^s} + \frac{s}{r + s + x} A_0\Big]

where, for :math:`\alpha \ge \beta` (swap the roles, with :math:`r + x` for
:math:`s + 1`, when :math:`\alpha < \beta`),

.. math::

    A_0 = \frac{{}_2F_1(r+s+x, s+1; r+s+x+1; \frac{\alpha-\beta}{\alpha+t_x})}{(\alpha+t_x)^{r+s+x}}
        - \frac{{}_2F_1(r+s+x, s+1; r+s+x+1; \frac{\alpha-\beta}{\alpha+T})}{(\alpha+T)^{r+s+x}}.

Numerically stable form: the hypergeometric term grows without bound for large *x*;
Euler's transformation :math:`{}_2F_1(a, b; c; z) = (1-z)^{c-a-b}\,{}_2F_1(c-a, c-b; c; z)`
turns it into :math:`(1-z)^{-s}\,{}_2F_1(1, r+x; r+s+x+1; z)` (resp.
:math:`(1-z)^{1-r-x}\,{}_2F_1(1, s+1; \dots)`), a series with terms below
:math:`z^n`, and everything is summed in logs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from clvxl._runtime.memo import remembered
from clvxl._runtime.scipy_lean import expit, gammaln, hyp2f1
from clvxl.errors import ModelError
from clvxl.models._mle import (
    ModelParams,
    as_column,
    fit_mle,
    pattern_index,
    patterns,
    refuse_unusable,
)
from clvxl.models.bgnbd import _customers, _horizon
from clvxl.units import TimeUnit, parse_unit

__all__ = [
    "ParetoNBDModel",
    "expected_purchases",
    "expected_purchases_if_alive",
    "fit",
    "loglik",
    "p_alive",
]


@dataclass(frozen=True)
class ParetoNBDModel(ModelParams):
    """A Pareto/NBD model: r, alpha, s, beta and how they were fitted.

    Attributes
    ----------
    r, alpha : float
        Shape and rate of the gamma distribution of the purchase rate λ across
        customers (mean r / alpha purchases per ``time_unit``); positive.
    s, beta : float
        Shape and rate of the gamma distribution of the dropout rate μ (mean
        s / beta per ``time_unit``); positive.
    time_unit : TimeUnit, default weeks
        The unit of every duration the model takes (a name such as ``"days"`` is
        parsed).
    loglik, n, patterns, stderr : float, float, int, dict of str to float
        As :func:`fit` sets them; NaN, 0, 0 and empty for a model built from known
        parameters.
    """

    r: float
    alpha: float
    s: float
    beta: float
    time_unit: TimeUnit = TimeUnit.WEEKS
    loglik: float = float("nan")
    n: float = 0
    patterns: int = 0
    stderr: dict[str, float] = field(default_factory=dict, compare=False)
    cov: np.ndarray | None = field(default=None, compare=False, repr=False)
    name: ClassVar[str] = "Pareto/NBD"
    param_names: ClassVar[tuple[str, ...]] = ("r", "alpha", "s", "beta")


def _log_a0(params, x, t_x, big_t, pairs=None):
    """log A_0 of eq. 22, via Euler's transformation (see the module docstring).

    ``pairs`` (from :func:`_pairs`) evaluates the hypergeometric terms once per distinct
    (x, t) pair instead of once per customer.
    """
    r, alpha, s, beta = params
    if pairs is None:
        pairs = _pairs(x, t_x, big_t)
    px, pt, inverse = pairs
    if alpha >= beta:
        big, small_b, power = alpha, r + px, s
    else:
        big, small_b, power = beta, s + 1, r + px - 1
    z = np.minimum(abs(alpha - beta) / (big + pt), 1 - 1e-16)
    log_term = (
        -power * np.log1p(-z)
        + np.log(hyp2f1(1.0, small_b, r + s + px + 1, z))
        - (r + s + px) * np.log(big + pt)
    )[inverse]
    first, second = log_term[: len(x)], log_term[len(x) :]
    with np.errstate(divide="ignore"):
        return first + np.log1p(-np.exp(np.minimum(second - first, 0.0)))


def _pairs(x, t_x, big_t):
    """Distinct (x, t) pairs among (x, t_x) and (x, T), and where each customer's two are."""
    rows, inverse = pattern_index({"x": np.concatenate([x, x]), "t": np.concatenate([t_x, big_t])})
    return rows["x"], rows["t"], inverse


def _loglik_terms(params, x, t_x, big_t, pairs=None, distinct=None):
    """Eq. 22 in logs for each customer (or pattern).

    ``distinct`` (from :func:`_distinct`) evaluates the terms of x alone once per
    distinct x and the logs of T once per distinct T: the same numbers, element by
    element, for a fraction of the special-function calls.
    """
    r, alpha, s, beta = params
    (xs, at_x), (ts, at_t) = distinct or ((x, slice(None)), (big_t, slice(None)))
    common = (gammaln(r + xs) - gammaln(r) + r * np.log(alpha) + s * np.log(beta))[at_x]
    alive_to_t = -(r + x) * np.log(alpha + ts)[at_t] - s * np.log(beta + ts)[at_t]
    dropped = (np.log(s) - np.log(r + s + xs))[at_x] + _log_a0(params, x, t_x, big_t, pairs)
    return common + np.logaddexp(alive_to_t, dropped)


def _distinct(x, big_t):
    """The distinct x and T, and where each customer's are."""
    return np.unique(x, return_inverse=True), np.unique(big_t, return_inverse=True)


def loglik(model: ParetoNBDModel, frequency, recency, T) -> np.ndarray:
    """Log-likelihood of each customer (eq. 22, in logs).

    Parameters
    ----------
    model : ParetoNBDModel
        The fitted (or given) model; its ``time_unit`` is the unit of every duration.
    frequency : array_like of shape (n_customers,)
        Repeat purchases *x* of each customer (purchases after its first); whole
        numbers, 0 or more.
    recency : array_like of shape (n_customers,)
        Recency *t_x*: time from each customer's first purchase to its last, in the
        model's ``time_unit``; between 0 and ``T``, and 0 when ``frequency`` is 0.
    T : array_like of shape (n_customers,)
        Age *T*: time from each customer's first purchase to the end of the
        observation period, in the model's ``time_unit``.

    Returns
    -------
    ndarray of shape (n_customers,)
        Natural log of each customer's likelihood *L(r, alpha, s, beta | x, t_x, T)*.

    Raises
    ------
    InputError
        If the customer arrays differ in length, hold a non-finite value, or break the
        rules above (whole ``frequency`` >= 0, 0 <= ``recency`` <= ``T``, ``recency``
        0 when ``frequency`` is 0).
    """
    x, t_x, big_t = _customers(frequency, recency, T)
    return _loglik_terms((model.r, model.alpha, model.s, model.beta), x, t_x, big_t)


@remembered
def fit(
    frequency,
    recency,
    T,
    weights=None,
    time_unit: str | TimeUnit = TimeUnit.WEEKS,
    standard_errors: bool = True,
) -> ParetoNBDModel:
    """Fit Pareto/NBD by maximum likelihood on the distinct (x, t_x, T) patterns.

    Parameters
    ----------
    frequency : array_like of shape (n_customers,)
        Repeat purchases *x* of each customer (purchases after its first); whole
        numbers, 0 or more.
    recency : array_like of shape (n_customers,)
        Recency *t_x*: time from each customer's first purchase to its last, in
        ``time_unit``; between 0 and ``T``, and 0 when ``frequency`` is 0.
    T : array_like of shape (n_customers,)
        Age *T*: time from each customer's first purchase to the end of the
        observation period, in ``time_unit``.
    weights : array_like of shape (n_customers,), optional
        Number of customers with each row (default 1 each); zero or more.
    time_unit : {"days", "weeks", "months"} or TimeUnit, default "weeks"
        The unit of ``recency`` and ``T`` (aliases as :func:`~clvxl.units.parse_unit`
        reads them); carried by the fitted model.
    standard_errors : bool, default True
        Compute ``stderr`` and ``cov``; False leaves them NaN and saves the Hessian
        (:func:`~clvxl.models._mle.fit_mle`).

    Returns
    -------
    ParetoNBDModel
        The maximum-likelihood estimates: the positive (r, alpha, s, beta) that
        maximise the weighted total log-likelihood, the sum of ``weights × loglik``
        (eq. 22), found by L-BFGS-B with finite-difference gradients on the log scale
        and a Nelder-Mead polish when it stalls (see
        :func:`~clvxl.models._mle.fit_mle`). ``loglik`` is that maximum, ``n`` the
        total weight, ``patterns`` the number of distinct (x, t_x, T) rows fitted,
        ``stderr`` the standard errors from the inverse Hessian (NaN where they cannot
        be computed), ``time_unit`` the unit given.

    Raises
    ------
    InputError
        If the customer arrays or weights are invalid (see :func:`loglik`; weights of
        another length or negative) or ``time_unit`` is not a time unit.
    ModelError
        If there are no customers, no customer has a repeat purchase, or the
        likelihood has no finite maximum (a parameter runs off to zero or infinity).
    """
    x, t_x, big_t = _customers(frequency, recency, T)
    if len(x) == 0:
        raise ModelError("there are no customers to fit the Pareto/NBD model to")
    cols, w = patterns({"x": x, "t_x": t_x, "T": big_t}, weights)
    if not (cols["x"] > 0).any():
        raise ModelError(
            "no customer has bought more than once, so the Pareto/NBD model cannot tell "
            "how often customers buy; it needs some repeat buyers"
        )

    pairs = _pairs(cols["x"], cols["t_x"], cols["T"])
    distinct = _distinct(cols["x"], cols["T"])

    def negloglik(params):
        terms = _loglik_terms(params, cols["x"], cols["t_x"], cols["T"], pairs, distinct)
        return -float(np.dot(w, terms))

    mean_t = np.average(cols["T"], weights=w)
    start = np.array([0.5, max(mean_t / 4, 1e-2), 0.5, max(mean_t / 4, 1e-2)])
    result = fit_mle(
        negloglik, ParetoNBDModel.param_names, start, "Pareto/NBD", standard_errors=standard_errors
    )
    model = result.model(ParetoNBDModel, w, time_unit=parse_unit(time_unit))
    own = (cols["x"], cols["t_x"], cols["T"])
    with np.errstate(all="ignore"):  # what is not finite is refused in words
        predictions = {
            "P(alive)": p_alive(model, *own),
            "expected purchases": expected_purchases(model, cols["T"].max(), *own),
        }
    return refuse_unusable(model, predictions)


def p_alive(model: ParetoNBDModel, frequency, recency, T) -> np.ndarray:
    r"""Probability the customer is still active (Fader, Hardie & Lee 2005 note, eq. 18).

    .. math:: P(\text{alive}) = \Big[1 + \frac{s}{r+s+x} (\alpha+T)^{r+x} (\beta+T)^s A_0\Big]^{-1}

    Parameters
    ----------
    model : ParetoNBDModel
        The fitted (or given) model; its ``time_unit`` is the unit of every duration.
    frequency : array_like of shape (n_customers,)
        Repeat purchases *x* of each customer (purchases after its first); whole
        numbers, 0 or more.
    recency : array_like of shape (n_customers,)
        Recency *t_x*: time from each customer's first purchase to its last, in the
        model's ``time_unit``; between 0 and ``T``, and 0 when ``frequency`` is 0.
    T : array_like of shape (n_customers,)
        Age *T*: time from each customer's first purchase to the end of the
        observation period, in the model's ``time_unit``.

    Returns
    -------
    ndarray of shape (n_customers,)
        Probability that each customer is still active at ``T``, between 0 and 1
        (below 1 also for customers without a repeat purchase: in Pareto/NBD a
        customer can drop out at any time).

    Raises
    ------
    InputError
        If the customer arrays differ in length, hold a non-finite value, or break the
        rules above (whole ``frequency`` >= 0, 0 <= ``recency`` <= ``T``, ``recency``
        0 when ``frequency`` is 0).

    Examples
    --------
    >>> m = ParetoNBDModel(r=0.553, alpha=10.578, s=0.606, beta=11.669)
    >>> round(float(p_alive(m, 26, 30.86, 31)[0]), 4)
    0.9979
    """
    x, t_x, big_t = _customers(frequency, recency, T)
    params = (model.r, model.alpha, model.s, model.beta)
    r, alpha, s, beta = params
    log_odds = (
        np.log(s)
        - np.log(r + s + x)
        + (r + x) * np.log(alpha + big_t)
        + s * np.log(beta + big_t)
        + _log_a0(params, x, t_x, big_t)
    )
    return expit(-log_odds)


def expected_purchases(model: ParetoNBDModel, t, frequency, recency, T) -> np.ndarray:
    r"""Expected purchases in the next ``t`` (Schmittlein et al. 1987, eq. 22).

    .. math::

        E[Y(t) \mid x, t_x, T] = \frac{(r + x)(\beta + T)}{(\alpha + T)(s - 1)}
        \Big[1 - \Big(\frac{\beta + T}{\beta + T + t}\Big)^{s - 1}\Big] P(\text{alive})

    (its limit :math:`\frac{r+x}{\alpha+T}(\beta+T)\ln\frac{\beta+T+t}{\beta+T}` at s = 1).

    Parameters
    ----------
    model : ParetoNBDModel
        The fitted (or given) model; its ``time_unit`` is the unit of every duration.
    t : float or array_like of shape (n_customers,)
        Length of the prediction period after ``T``, in the model's ``time_unit``;
        zero or more. An array gives each customer its own period.
    frequency : array_like of shape (n_customers,)
        Repeat purchases *x* of each customer (purchases after its first); whole
        numbers, 0 or more.
    recency : array_like of shape (n_customers,)
        Recency *t_x*: time from each customer's first purchase to its last, in the
        model's ``time_unit``; between 0 and ``T``, and 0 when ``frequency`` is 0.
    T : array_like of shape (n_customers,)
        Age *T*: time from each customer's first purchase to the end of the
        observation period, in the model's ``time_unit``.

    Returns
    -------
    ndarray of shape (n_customers,)
        Expected number of purchases of each customer in the ``t`` after ``T``:
        :func:`expected_purchases_if_alive` times :func:`p_alive`.

    Raises
    ------
    InputError
        If the customer arrays differ in length, hold a non-finite value, or break the
        rules above (whole ``frequency`` >= 0, 0 <= ``recency`` <= ``T``, ``recency``
        0 when ``frequency`` is 0), or if ``t`` is negative or not finite.

    Examples
    --------
    >>> m = ParetoNBDModel(r=0.553, alpha=10.578, s=0.606, beta=11.669)
    >>> round(float(expected_purchases(m, 52, 26, 30.86, 31)[0]), 2)
    25.46
    """
    x, t_x, big_t = _customers(frequency, recency, T)
    return expected_purchases_if_alive(model, t, x, big_t) * p_alive(model, x, t_x, big_t)


def expected_purchases_if_alive(model: ParetoNBDModel, t, frequency, T) -> np.ndarray:
    r"""Expected purchases in the next ``t`` of a customer known to be active: the
    formula above without P(alive); it depends on x and T only.

    Parameters
    ----------
    model : ParetoNBDModel
        The fitted (or given) model; its ``time_unit`` is the unit of every duration.
    t : float or array_like of shape (n_customers,)
        Length of the prediction period after ``T``, in the model's ``time_unit``;
        zero or more. An array gives each customer its own period.
    frequency : array_like of shape (n_customers,)
        Repeat purchases *x* of each customer; whole numbers, 0 or more (only
        finiteness is checked here).
    T : array_like of shape (n_customers,)
        Age *T* of each customer, in the model's ``time_unit``; same length as
        ``frequency``.

    Returns
    -------
    ndarray of shape (n_customers,)
        Expected number of purchases of each customer in the ``t`` after ``T``, given
        that it is still active at ``T``.

    Raises
    ------
    InputError
        If ``frequency`` or ``T`` holds a non-finite value, or ``t`` is negative or
        not finite.

    Examples
    --------
    >>> m = ParetoNBDModel(r=0.553, alpha=10.578, s=0.606, beta=11.669)
    >>> round(float(expected_purchases_if_alive(m, 52, 26, 31)[0]), 2)
    25.51

    Times P(alive) = 0.9979, that is the published 25.46.
    """
    x, big_t = as_column(frequency, "frequency"), as_column(T, "T")
    t = _horizon(t)
    r, alpha, s, beta = model.r, model.alpha, model.s, model.beta
    ratio = np.log((beta + big_t + t) / (beta + big_t))
    if abs(s - 1) < 1e-9:
        span = (beta + big_t) * ratio
    else:
        span = (beta + big_t) * -np.expm1(-(s - 1) * ratio) / (s - 1)
    return (r + x) / (alpha + big_t) * span
