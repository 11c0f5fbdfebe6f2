r"""Shifted-beta-geometric (sBG): retention of subscribers with different churn risks.

Fader, P. S. & Hardie, B. G. S. (2007), "How to Project Customer Retention",
*Journal of Interactive Marketing* 21(1), 76–90; DERL from Fader & Hardie (2010),
"Customer-Base Valuation in a Contractual Setting: The Perils of Ignoring
Heterogeneity", *Marketing Science* 29(1), 85–93.

Each subscriber churns at each renewal with probability θ ~ Beta(α, β). Then
(2007, eqs. 5–7)

.. math::

    P(T = t) = \frac{B(\alpha + 1, \beta + t - 1)}{B(\alpha, \beta)},\qquad
    S(t) = \frac{B(\alpha, \beta + t)}{B(\alpha, \beta)},\qquad
    r_t = \frac{\beta + t - 1}{\alpha + \beta + t - 1},

and the discounted expected residual lifetime of a customer who has made *n*
renewals, with discount rate *d* per period (2010, eq. 6), is

.. math::

    \mathrm{DERL}(d \mid \alpha, \beta, n) = \frac{B(\alpha, \beta + n + 1)}{B(\alpha, \beta + n)}\;
    {}_2F_1\Big(1, \beta + n + 1; \alpha + \beta + n + 1; \frac{1}{1 + d}\Big),

so that the customer's residual value is margin × DERL.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from clvxl._runtime.memo import remembered
from clvxl._runtime.scipy_lean import betaln, hyp2f1
from clvxl.errors import InputError, ModelError
from clvxl.models._mle import ModelParams, as_column, fit_mle

__all__ = [
    "ShiftedBetaGeoModel",
    "derl",
    "derl_log_gradient",
    "fit",
    "fit_durations",
    "residual_value",
    "retention",
    "survival",
]


@dataclass(frozen=True)
class ShiftedBetaGeoModel(ModelParams):
    """An sBG model: alpha and beta of the churn-probability distribution.

    Attributes
    ----------
    alpha, beta : float
        Shape parameters of the beta distribution of the churn probability θ per
        period; positive.
    loglik, n, patterns, stderr : float, float, int, dict of str to float
        As :func:`fit` sets them; NaN, 0, 0 and empty for a model built from known
        parameters.

    Examples
    --------
    >>> m = ShiftedBetaGeoModel(alpha=0.668, beta=3.806)
    >>> round(float(retention(m, 1)), 3)
    0.851
    """

    alpha: float
    beta: float
    loglik: float = float("nan")
    n: float = 0
    patterns: int = 0
    stderr: dict[str, float] = field(default_factory=dict, compare=False)
    cov: np.ndarray | None = field(default=None, compare=False, repr=False)
    name: ClassVar[str] = "sBG"
    param_names: ClassVar[tuple[str, ...]] = ("alpha", "beta")


@remembered
def fit(survivors) -> ShiftedBetaGeoModel:
    """Fit sBG to the number still subscribed at the start of each period.

    Parameters
    ----------
    survivors : array_like of shape (n_periods + 1,)
        Customers still active at periods 0, 1, …, k (non-increasing; period 0 is
        the cohort's size).

    Returns
    -------
    ShiftedBetaGeoModel
        The same fit as :func:`fit_durations` on the cohort's customers: those lost
        in period t paid t periods and churned, the k-th period's survivors paid k + 1
        and are still active.

    Raises
    ------
    InputError
        If ``survivors`` holds a non-finite or negative value or increases.
    ModelError
        If fewer than three values are given, or the likelihood has no finite
        maximum (a parameter runs off to zero or infinity).

    Examples
    --------
    The "high end" cohort of Fader & Hardie (2007), who publish alpha = 0.668 and
    beta = 3.806:

    >>> m = fit([1000, 869, 743, 653, 593, 551, 517, 491])
    >>> round(m.alpha, 3), round(m.beta, 3)
    (0.668, 3.806)
    """
    alive = as_column(survivors, "survivors")
    if len(alive) < 3:
        raise ModelError("the sBG model needs the cohort's size and at least two later periods")
    if (np.diff(alive) > 0).any() or (alive < 0).any():
        raise InputError("survivors must not increase from one period to the next")
    k = len(alive) - 1
    paid = np.arange(1, k + 2, dtype=float)
    churned = np.r_[np.ones(k, dtype=bool), False]
    return fit_durations(paid, churned, weights=np.r_[-np.diff(alive), alive[-1]])


def fit_durations(paid, churned, weights=None) -> ShiftedBetaGeoModel:
    """Fit sBG to subscribers' paid periods, churned or still active (right-censored).

    A subscriber who paid *m* periods and churned contributes P(T = m); one who paid
    *m* and is still active has renewed m − 1 times and contributes S(m − 1).

    Parameters
    ----------
    paid : array-like, shape (n,)
        Periods paid for (1 or more).
    churned : array-like of bool, shape (n,)
        True for a subscriber who has left, False for one still active.
    weights : array-like, shape (n,), optional
        Subscribers with each row (default 1 each); rows weighted 0 are left out.

    Returns
    -------
    ShiftedBetaGeoModel
        The maximum-likelihood ``alpha`` and ``beta``, with the log-likelihood, the
        weighted number of subscribers ``n``, the distinct (paid, churned) patterns,
        standard errors and covariance.

    Raises
    ------
    InputError
        If the inputs differ in length, hold a non-finite value, or a paid count is
        not a whole number of 1 or more.
    ModelError
        If no subscriber has churned, every subscriber left after one period, or
        the likelihood has no finite maximum.

    Examples
    --------
    >>> m = fit_durations([1, 1, 2, 3, 4, 6, 6, 6], [1, 1, 1, 1, 0, 0, 0, 0])
    >>> round(m.alpha, 2), round(m.beta, 2)
    (0.37, 1.03)
    """
    m = as_column(paid, "paid periods")
    gone = np.asarray(churned, dtype=bool).ravel()
    w = np.ones(len(m)) if weights is None else as_column(weights, "weights")
    if not (len(m) == len(gone) == len(w)):
        raise InputError("paid, churned and weights must have the same length")
    if (m < 1).any() or (m != np.round(m)).any():
        raise InputError("paid periods must be whole numbers of 1 or more")
    keep = w > 0
    m, gone, w = m[keep], gone[keep], w[keep]
    if not gone.any():
        raise ModelError("no subscriber has churned yet, so the sBG model cannot tell churn risk")
    if not (~gone).any() and (m == 1).all():
        raise ModelError("every subscriber left after one period; the sBG model needs renewals")

    def negloglik(params):
        a, b = params
        churn = betaln(a + 1, b + m[gone] - 1) - betaln(a, b)
        still = betaln(a, b + m[~gone] - 1) - betaln(a, b)
        return -float(np.dot(w[gone], churn) + np.dot(w[~gone], still))

    result = fit_mle(negloglik, ShiftedBetaGeoModel.param_names, np.ones(2), "sBG")
    return result.model(ShiftedBetaGeoModel, w, len(np.unique(np.c_[m, gone], axis=0)))


def retention(model: ShiftedBetaGeoModel, t) -> np.ndarray:
    """Retention rate in period ``t`` (share of those active at t − 1 who renew).

    Parameters
    ----------
    model : ShiftedBetaGeoModel
        The fitted (or given) model.
    t : float or array_like
        Period(s), 1 for the first renewal; 1 or more (not checked).

    Returns
    -------
    ndarray
        Retention rate :math:`r_t` for each ``t``, between 0 and 1, of the shape of
        ``t`` (a NumPy float for a scalar ``t``); it rises with ``t`` as the riskier
        subscribers leave.

    Examples
    --------
    With alpha = beta = 1, :math:`r_t = t / (t + 1)`:

    >>> retention(ShiftedBetaGeoModel(alpha=1, beta=1), [1, 2, 3]).tolist()
    [0.5, 0.6666666666666666, 0.75]
    """
    t = np.asarray(t, dtype=float)
    return (model.beta + t - 1) / (model.alpha + model.beta + t - 1)


def survival(model: ShiftedBetaGeoModel, t) -> np.ndarray:
    """Share of the cohort still active after ``t`` periods, S(t).

    Parameters
    ----------
    model : ShiftedBetaGeoModel
        The fitted (or given) model.
    t : float or array_like
        Number(s) of periods; 0 or more (not checked).

    Returns
    -------
    ndarray
        Survival :math:`S(t)` for each ``t``, between 0 and 1 (1 at ``t`` = 0), of the
        shape of ``t`` (a NumPy float for a scalar ``t``).

    Examples
    --------
    With alpha = beta = 1, :math:`S(t) = 1 / (t + 1)`:

    >>> np.round(survival(ShiftedBetaGeoModel(alpha=1, beta=1), [0, 1, 3]), 12).tolist()
    [1.0, 0.5, 0.25]
    """
    t = np.asarray(t, dtype=float)
    return np.exp(betaln(model.alpha, model.beta + t) - betaln(model.alpha, model.beta))


def derl(model: ShiftedBetaGeoModel, discount_rate: float, renewals: int) -> float:
    """Discounted expected residual lifetime after ``renewals`` renewals (2010, eq. 6).

    Parameters
    ----------
    model : ShiftedBetaGeoModel
        The fitted (or given) model.
    discount_rate : float
        Discount rate *d* per period (0.10 for 10 %); above 0.
    renewals : int
        Renewals *n* the customer has made so far; 0 or more (not checked).

    Returns
    -------
    float
        The discounted expected number of periods the customer has still to pay for,
        in periods of the model.

    Raises
    ------
    InputError
        If ``discount_rate`` is not above 0.

    Examples
    --------
    The high-end cohort after 7 renewals at 10 %:

    >>> round(derl(ShiftedBetaGeoModel(alpha=0.668, beta=3.806), 0.10, 7), 2)
    7.53
    """
    return float(_derl(model.alpha, model.beta, renewals, _checked(discount_rate)))


def _checked(discount_rate: float) -> float:
    if not discount_rate > 0:
        raise InputError(f"discount_rate must be above 0, got {discount_rate}")
    return discount_rate


def _derl(a, b, n, discount_rate):
    """DERL of eq. 6 for parameters ``a``, ``b`` and renewals ``n`` (arrays broadcast)."""
    return np.exp(betaln(a, b + n + 1) - betaln(a, b + n)) * hyp2f1(
        1, b + n + 1, a + b + n + 1, 1 / (1 + discount_rate)
    )


#: Step on the log scale of the central differences of :func:`derl_log_gradient`.
_LOG_STEP = 1e-4


def derl_log_gradient(model: ShiftedBetaGeoModel, discount_rate: float, renewals) -> np.ndarray:
    """d log DERL / d log alpha and d log beta, after each number of ``renewals``.

    By central differences on the log scale, step :data:`_LOG_STEP`: the ratio of beta
    functions in DERL has a simple derivative, but the hypergeometric factor's
    derivative in its parameters has no closed form (it is a double series that scipy
    does not offer), while DERL is smooth in both parameters. Four evaluations give the
    log-derivative to about 1e-8 (the step squared), far finer than the sampling error
    it is multiplied by (the tests check it against the derivative of DERL's series).

    Parameters
    ----------
    model : ShiftedBetaGeoModel
        The fitted (or given) model.
    discount_rate : float
        Discount rate *d* per period; above 0.
    renewals : int or array_like of int, shape (k,)
        Renewals made so far; 0 or more (not checked).

    Returns
    -------
    ndarray of shape (k, 2)
        For each number of renewals, the derivatives of log DERL with respect to
        log alpha and log beta.

    Raises
    ------
    InputError
        If ``discount_rate`` is not above 0.

    Examples
    --------
    More churn risk (a larger alpha) shortens the residual lifetime, a larger beta
    lengthens it:

    >>> g = derl_log_gradient(ShiftedBetaGeoModel(alpha=0.668, beta=3.806), 0.10, [0, 7])
    >>> bool((g[:, 0] < 0).all() and (g[:, 1] > 0).all())
    True
    """
    discount_rate = _checked(discount_rate)
    n = np.atleast_1d(np.asarray(renewals, dtype=float))
    a, b, up = model.alpha, model.beta, np.exp(_LOG_STEP)

    def log_derl(a, b):
        return np.log(_derl(a, b, n, discount_rate))

    return np.column_stack(
        [
            (log_derl(a * up, b) - log_derl(a / up, b)) / (2 * _LOG_STEP),
            (log_derl(a, b * up) - log_derl(a, b / up)) / (2 * _LOG_STEP),
        ]
    )


def residual_value(
    model: ShiftedBetaGeoModel, margin: float, discount_rate: float, renewals: int = 0
) -> float:
    """Residual value of a subscriber: margin per period × DERL.

    Parameters
    ----------
    model : ShiftedBetaGeoModel
        The fitted (or given) model.
    margin : float
        Margin earned per period from a subscriber (any currency; not checked).
    discount_rate : float
        Discount rate *d* per period; above 0.
    renewals : int, default 0
        Renewals *n* the subscriber has made so far.

    Returns
    -------
    float
        ``margin × derl(model, discount_rate, renewals)``, in the currency of
        ``margin``.

    Raises
    ------
    InputError
        If ``discount_rate`` is not above 0.

    Examples
    --------
    >>> m = ShiftedBetaGeoModel(alpha=0.668, beta=3.806)
    >>> round(residual_value(m, 10.0, 0.10, 7), 1)
    75.3
    """
    return margin * derl(model, discount_rate, renewals)
