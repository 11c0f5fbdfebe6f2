r"""BG/NBD: the beta-geometric / negative binomial model of repeat purchasing.

Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005), "Counting Your Customers the Easy
Way: An Alternative to the Pareto/NBD Model", *Marketing Science* 24(2), 275–284.

While active, a customer buys at Poisson rate λ ~ Gamma(r, α); after each purchase
it drops out with probability p ~ Beta(a, b). For a customer with *x* repeat
purchases, the last at *t_x*, observed for *T*, the likelihood is (eq. 6)

.. math::

    L(r, \alpha, a, b \mid x, t_x, T) =
    \frac{B(a, b + x)}{B(a, b)} \frac{\Gamma(r + x)\, \alpha^r}{\Gamma(r)\, (\alpha + T)^{r + x}}
    + \delta_{x > 0} \frac{B(a + 1, b + x - 1)}{B(a, b)}
      \frac{\Gamma(r + x)\, \alpha^r}{\Gamma(r)\, (\alpha + t_x)^{r + x}}.

Numerically stable form: the powers :math:`(\alpha + T)^{r+x}` overflow for large
*x* (the ``#NUM!`` in Fader & Hardie's spreadsheet note, "Implementing the BG/NBD
Model for Customer Base Analysis in Excel", 2005), so clvxl works with logs,
``gammaln``/``betaln`` and ``logaddexp``, using :math:`B(a+1, b+x-1)/B(a, b+x) =
a/(b+x-1)`. The conditional expectation (eq. 10) contains
:math:`(\frac{\alpha+T}{\alpha+T+t})^{r+x}\,{}_2F_1(r+x, b+x; a+b+x-1; z)`, a tiny
number times a huge one; Euler's transformation turns it into
:math:`(1-z)^{a-1}\,{}_2F_1(a+b-1-r, a-1; a+b+x-1; z)`, which stays finite.

Time is in the model's ``time_unit`` (weeks in the paper). All functions take the
fitted model first and are pure.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from clvxl._runtime.memo import remembered
from clvxl._runtime.scipy_lean import betaln, digamma, expit, gammaln, hyp2f1
from clvxl.errors import InputError, ModelError
from clvxl.models._mle import ModelParams, as_column, fit_mle, patterns, refuse_unusable
from clvxl.units import TimeUnit, parse_unit

__all__ = [
    "BetaGeoModel",
    "expected_purchases",
    "expected_purchases_if_alive",
    "expected_purchases_population",
    "fit",
    "loglik",
    "p_alive",
    "prob_purchases",
]


@dataclass(frozen=True)
class BetaGeoModel(ModelParams):
    """A BG/NBD model: the four parameters and how they were fitted.

    Attributes
    ----------
    r, alpha : float
        Shape and rate of the gamma distribution of the purchase rate λ across
        customers (mean r / alpha purchases per ``time_unit``); positive.
    a, b : float
        Shape parameters of the beta distribution of the dropout probability p;
        positive.
    time_unit : TimeUnit, default weeks
        The unit of every duration the model takes (a name such as ``"days"`` is
        parsed).
    loglik, n, patterns, stderr : float, float, int, dict of str to float
        As :func:`fit` sets them; NaN, 0, 0 and empty for a model built from known
        parameters.

    Examples
    --------
    Build one from known parameters to predict without fitting:

    >>> m = BetaGeoModel(r=0.243, alpha=4.414, a=0.793, b=2.426)
    >>> round(float(p_alive(m, 2, 30.43, 38.86)[0]), 3)
    0.727
    """

    r: float
    alpha: float
    a: float
    b: float
    time_unit: TimeUnit = TimeUnit.WEEKS
    loglik: float = float("nan")
    n: float = 0
    patterns: int = 0
    stderr: dict[str, float] = field(default_factory=dict, compare=False)
    cov: np.ndarray | None = field(default=None, compare=False, repr=False)
    name: ClassVar[str] = "BG/NBD"
    param_names: ClassVar[tuple[str, ...]] = ("r", "alpha", "a", "b")


def _customers(frequency, recency, T):
    x, t_x, big_t = (
        as_column(frequency, "frequency"),
        as_column(recency, "recency"),
        as_column(T, "T"),
    )
    if not (len(x) == len(t_x) == len(big_t)):
        raise InputError("frequency, recency and T must have the same length")
    if (x < 0).any() or (x != np.floor(x)).any():
        raise InputError("frequency must be whole numbers of repeat purchases, 0 or more")
    if (t_x < 0).any() or (t_x > big_t + 1e-9).any():
        raise InputError(
            "recency must be between 0 and T (time of the last purchase within the period)"
        )
    if ((x == 0) & (t_x > 0)).any():
        raise InputError("a customer with frequency 0 must have recency 0")
    return x, t_x, big_t


def _loglik_terms(params, x, t_x, big_t):
    r, alpha, a, b = params
    common = gammaln(r + x) - gammaln(r) + r * np.log(alpha) + betaln(a, b + x) - betaln(a, b)
    first = -(r + x) * np.log(alpha + big_t)
    with np.errstate(divide="ignore", invalid="ignore"):
        second = np.where(
            x > 0,
            np.log(a) - np.log(np.maximum(b + x - 1, 1e-300)) - (r + x) * np.log(alpha + t_x),
            -np.inf,
        )
    return common + np.logaddexp(first, second)


class _Patterns:
    r"""The distinct (x, t_x, T) patterns split the way the likelihood needs them.

    One-time buyers (x = 0) contribute only :math:`-r \log(\alpha + T)` beyond the
    x-only terms, so they are summed per distinct T; for repeat buyers the two branches
    of eq. 6 differ by :math:`d = \log a - \log(b + x - 1) + (r + x)\log\frac{\alpha +
    T}{\alpha + t_x}`, and :math:`\log(e^{first} + e^{second}) = first +
    \operatorname{softplus}(d)`, whose derivative weights are ``expit(d)``.
    """

    def __init__(self, x, t_x, big_t, w):
        self.xs, index = np.unique(x, return_inverse=True)
        self.weight_x = np.bincount(index, weights=w)
        repeat = x > 0
        once_t, once_index = np.unique(big_t[~repeat], return_inverse=True)
        self.once_t, self.once_w = once_t, np.bincount(once_index, weights=w[~repeat])
        self.x, self.t_x, self.w = x[repeat], t_x[repeat], w[repeat]
        self.x_index = index[repeat]
        self.t_values, self.t_index = np.unique(big_t[repeat], return_inverse=True)
        self.t_w = np.bincount(self.t_index, weights=self.w)
        self.t_xw = np.bincount(self.t_index, weights=self.x * self.w)


def _value_and_gradient(params, pat: _Patterns) -> tuple[float, np.ndarray]:
    r"""Negative total log-likelihood and its gradient in (r, alpha, a, b).

    Terms that depend on x alone are evaluated once per distinct x, logs of
    :math:`\alpha + T` once per distinct T; only the two-branch part runs per pattern.
    """
    r, alpha, a, b = params
    xs, weight_x, x, w = pat.xs, pat.weight_x, pat.x, pat.w
    once_log = np.log(alpha + pat.once_t)
    # Per distinct T: log(alpha + T), 1 / (alpha + T), and the weights of (r + x) there.
    log_t_values = np.log(alpha + pat.t_values)
    inv_t_values = 1.0 / (alpha + pat.t_values)
    rx_weight_t = r * pat.t_w + pat.t_xw
    log_tx = np.log(alpha + pat.t_x)
    diff = log_t_values[pat.t_index] - log_tx
    per_x_bx1 = np.maximum(b + xs - 1, 1e-300)  # only x >= 1 is used below
    rx = r + x
    d = (np.log(a) - np.log(per_x_bx1))[pat.x_index] + rx * diff
    second_w = expit(d) * w  # each pattern's weight times the share of the second branch
    common = (
        gammaln(r + xs) - gammaln(r) + r * np.log(alpha) + betaln(a, b + xs) - betaln(a, b)
    ) @ weight_x
    value = -(
        common - r * (once_log @ pat.once_w) + np.logaddexp(0.0, d) @ w - log_t_values @ rx_weight_t
    )
    d_r = (
        (digamma(r + xs) - digamma(r) + np.log(alpha)) @ weight_x
        - once_log @ pat.once_w
        - log_t_values @ pat.t_w
        + second_w @ diff
    )
    d_alpha = (
        r / alpha * weight_x.sum()
        - r * (pat.once_w @ (1.0 / (alpha + pat.once_t)))
        - inv_t_values @ rx_weight_t
        + (second_w * rx) @ (inv_t_values[pat.t_index] - 1.0 / (alpha + pat.t_x))
    )
    d_a = (digamma(a + b) - digamma(a + b + xs)) @ weight_x + second_w.sum() / a
    d_b = (digamma(b + xs) - digamma(a + b + xs) - digamma(b) + digamma(a + b)) @ weight_x - (
        second_w @ (1.0 / per_x_bx1)[pat.x_index]
    )
    return float(value), -np.array([d_r, d_alpha, d_a, d_b])


def loglik(model: BetaGeoModel, frequency, recency, T) -> np.ndarray:
    """Log-likelihood of each customer under the model (eq. 6, in logs).

    Parameters
    ----------
    model : BetaGeoModel
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
        Natural log of each customer's likelihood *L(r, alpha, a, b | x, t_x, T)*.

    Raises
    ------
    InputError
        If the customer arrays differ in length, hold a non-finite value, or break the
        rules above (whole ``frequency`` >= 0, 0 <= ``recency`` <= ``T``, ``recency``
        0 when ``frequency`` is 0).
    """
    x, t_x, big_t = _customers(frequency, recency, T)
    return _loglik_terms((model.r, model.alpha, model.a, model.b), x, t_x, big_t)


@remembered
def fit(
    frequency,
    recency,
    T,
    weights=None,
    time_unit: str | TimeUnit = TimeUnit.WEEKS,
    standard_errors: bool = True,
) -> BetaGeoModel:
    """Fit BG/NBD by maximum likelihood on the distinct (x, t_x, T) patterns.

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
    BetaGeoModel
        The maximum-likelihood estimates: the positive (r, alpha, a, b) that maximise
        the weighted total log-likelihood, the sum of ``weights × loglik`` (eq. 6),
        found by L-BFGS-B on the log scale (see :func:`~clvxl.models._mle.fit_mle`).
        ``loglik`` is that maximum, ``n`` the total weight, ``patterns`` the number of
        distinct (x, t_x, T) rows fitted, ``stderr`` the standard errors from the
        inverse Hessian (NaN where they cannot be computed), ``time_unit`` the unit given.

    Raises
    ------
    InputError
        If the customer arrays or weights are invalid (see :func:`loglik`; weights of
        another length or negative) or ``time_unit`` is not a time unit.
    ModelError
        If there are no customers, no customer has a repeat purchase, or the
        likelihood has no finite maximum (a parameter runs off to zero or infinity).

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> m = fit(*simulate(BetaGeoModel(0.25, 4.0, 0.8, 2.5), np.full(3000, 40.0), rng))
    >>> bool(abs(m.r - 0.25) < 0.05 and abs(m.a - 0.8) < 0.4)
    True
    """
    return _fit_family(_FAMILY, frequency, recency, T, weights, time_unit, standard_errors)


def p_alive(model: BetaGeoModel, frequency, recency, T) -> np.ndarray:
    r"""Probability that a customer is still active (Fader, Hardie & Lee 2005, eq. 12 note).

    .. math:: P(\text{alive}) = \Big[1 + \delta_{x>0} \frac{a}{b + x - 1}
              \Big(\frac{\alpha + T}{\alpha + t_x}\Big)^{r + x}\Big]^{-1}

    computed as a logistic of logs so it never overflows.

    Parameters
    ----------
    model : BetaGeoModel
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
        Probability that each customer is still active at ``T``, between 0 and 1; 1 for
        customers with no repeat purchase (in BG/NBD a customer can only drop out right
        after a purchase).

    Raises
    ------
    InputError
        If the customer arrays differ in length, hold a non-finite value, or break the
        rules above (whole ``frequency`` >= 0, 0 <= ``recency`` <= ``T``, ``recency``
        0 when ``frequency`` is 0).

    Examples
    --------
    The paper's customer: x = 2, t_x = 30.43, T = 38.86 weeks.

    >>> m = BetaGeoModel(r=0.243, alpha=4.414, a=0.793, b=2.426)
    >>> np.round(p_alive(m, [2, 0], [30.43, 0], [38.86, 38.86]), 3).tolist()
    [0.727, 1.0]
    """
    x, t_x, big_t = _customers(frequency, recency, T)
    r, alpha, a, b = model.r, model.alpha, model.a, model.b
    with np.errstate(divide="ignore"):
        log_odds_dead = (
            np.log(a)
            - np.log(np.maximum(b + x - 1, 1e-300))
            + (r + x) * (np.log(alpha + big_t) - np.log(alpha + t_x))
        )
    return np.where(x > 0, expit(-log_odds_dead), 1.0)


def expected_purchases(model: BetaGeoModel, t, frequency, recency, T) -> np.ndarray:
    r"""Expected purchases in the next ``t`` for each customer (eq. 10).

    .. math::

        E[Y(t) \mid x, t_x, T] = \frac{a + b + x - 1}{a - 1}
        \Big[1 - (1 - z)^{a-1}\, {}_2F_1(a + b - 1 - r, a - 1; a + b + x - 1; z)\Big]
        \cdot P(\text{alive}),
        \qquad z = \frac{t}{\alpha + T + t}

    (the Euler-transformed, overflow-free form; see the module docstring).

    Parameters
    ----------
    model : BetaGeoModel
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
        Expected number of purchases of each customer in the ``t`` after ``T``
        (eq. 10): :func:`expected_purchases_if_alive` times :func:`p_alive`.

    Raises
    ------
    InputError
        If the customer arrays differ in length, hold a non-finite value, or break the
        rules above (whole ``frequency`` >= 0, 0 <= ``recency`` <= ``T``, ``recency``
        0 when ``frequency`` is 0), or if ``t`` is negative or not finite.

    Examples
    --------
    The paper's customer: x = 2, t_x = 30.43, T = 38.86, next 39 weeks.

    >>> m = BetaGeoModel(r=0.243, alpha=4.414, a=0.793, b=2.426)
    >>> round(float(expected_purchases(m, 39, 2, 30.43, 38.86)[0]), 3)
    1.226
    """
    x, t_x, big_t = _customers(frequency, recency, T)
    return expected_purchases_if_alive(model, t, x, big_t) * p_alive(model, x, t_x, big_t)


def expected_purchases_if_alive(model: BetaGeoModel, t, frequency, T) -> np.ndarray:
    r"""Expected purchases in the next ``t`` of a customer known to be active (eq. 10
    without its P(alive) factor); it depends on x and T only, not on t_x.

    .. math:: \frac{a + b + x - 1}{a - 1}
        \Big[1 - (1 - z)^{a-1}\, {}_2F_1(a + b - 1 - r, a - 1; a + b + x - 1; z)\Big]

    Parameters
    ----------
    model : BetaGeoModel
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
    >>> m = BetaGeoModel(r=0.243, alpha=4.414, a=0.793, b=2.426)
    >>> round(float(expected_purchases_if_alive(m, 39, 2, 38.86)[0]), 3)
    1.687

    Times the paper's P(alive) = 0.727 for this customer, that is its 1.226.
    """
    x, big_t = as_column(frequency, "frequency"), as_column(T, "T")
    t = _horizon(t)
    r, alpha, a, b = model.r, model.alpha, model.a, model.b
    z = t / (alpha + big_t + t)

    def scaled_bracket(a):
        bracket = 1 - np.exp((a - 1) * np.log1p(-z)) * hyp2f1(
            a + b - 1 - r, a - 1, a + b + x - 1, z
        )
        return (a + b + x - 1) / (a - 1) * bracket

    return _near_one(scaled_bracket, a)


def _near_one(f, a: float, eps: float = 1e-7):
    """``f(a)``, and at a = 1, where eqs. 9 and 10 are 0/0, the mean of ``f(1 ± eps)``.

    Both expressions are smooth in *a*; the symmetric mean cancels the first-order
    error, leaving ~eps² (a fit on a handful of customers can land on a = 1 exactly).
    """
    if abs(a - 1) >= eps:
        return f(a)
    return (f(1 - eps) + f(1 + eps)) / 2


def _horizon(t) -> np.ndarray:
    t = np.asarray(t, dtype=float)
    if not np.isfinite(t).all() or (t < 0).any():
        raise InputError(f"the prediction period t must be zero or more, got {t}")
    return t


def expected_purchases_population(model: BetaGeoModel, t) -> np.ndarray:
    r"""Expected purchases of a new customer in its first ``t`` (eq. 9).

    .. math:: E[X(t)] = \frac{a + b - 1}{a - 1}
              \Big[1 - \Big(\frac{\alpha}{\alpha + t}\Big)^r {}_2F_1\Big(r, b; a + b - 1; \frac{t}{\alpha + t}\Big)\Big]

    Parameters
    ----------
    model : BetaGeoModel
        The fitted (or given) model; its ``time_unit`` is the unit of every duration.
    t : float or array_like
        Length of the period from the customer's first purchase, in the model's
        ``time_unit``; zero or more.

    Returns
    -------
    ndarray
        Expected number of repeat purchases by a randomly chosen new customer within
        ``t`` of its first purchase, of the shape of ``t`` (a NumPy float for a scalar
        ``t``).

    Raises
    ------
    InputError
        If ``t`` is negative or not finite.

    Examples
    --------
    With the paper's CDNOW estimates:

    >>> m = BetaGeoModel(r=0.24259, alpha=4.41353, a=0.79289, b=2.42575)
    >>> np.round(expected_purchases_population(m, [1, 39, 78]), 4).tolist()
    [0.0532, 1.195, 1.8579]
    """
    t = _horizon(t)
    r, alpha, a, b = model.r, model.alpha, model.a, model.b
    z = t / (alpha + t)
    return _near_one(
        lambda a: (
            (a + b - 1) / (a - 1) * (1 - (alpha / (alpha + t)) ** r * hyp2f1(r, b, a + b - 1, z))
        ),
        a,
    )


def prob_purchases(model: BetaGeoModel, n, t) -> np.ndarray:
    r"""Probability that a new customer makes exactly ``n`` purchases in ``t`` (eq. 8).

    .. math::

        P(X(t) = n) = \frac{B(a, b + n)}{B(a, b)} \frac{\Gamma(r + n)}{\Gamma(r)\, n!}
        \Big(\frac{\alpha}{\alpha + t}\Big)^r \Big(\frac{t}{\alpha + t}\Big)^n
        + \delta_{n > 0} \frac{B(a + 1, b + n - 1)}{B(a, b)}
        \Big[1 - \Big(\frac{\alpha}{\alpha + t}\Big)^r \sum_{j=0}^{n-1}
        \frac{\Gamma(r + j)}{\Gamma(r)\, j!} \Big(\frac{t}{\alpha + t}\Big)^j\Big]

    Parameters
    ----------
    model : BetaGeoModel
        The fitted (or given) model; its ``time_unit`` is the unit of every duration.
    n : int or array_like of int
        Number(s) of repeat purchases; whole numbers, 0 or more.
    t : float
        One period length from the customer's first purchase, in the model's
        ``time_unit``; zero or more. For several periods call once per period.

    Returns
    -------
    ndarray
        :math:`P(X(t) = n)` for each ``n``: the probability that a randomly chosen new
        customer makes exactly ``n`` repeat purchases within ``t`` of its first, of the
        shape of ``n`` (a NumPy float for a scalar ``n``).

    Raises
    ------
    InputError
        If ``n`` is negative or not whole, or ``t`` is not one finite number of zero or more.

    Examples
    --------
    >>> m = BetaGeoModel(r=0.243, alpha=4.414, a=0.793, b=2.426)
    >>> round(float(prob_purchases(m, 0, 39)), 7)
    0.5737864
    >>> prob_purchases(m, 2, [10, 39])
    Traceback (most recent call last):
    ...
    clvxl.errors.InputError: the prediction period t must be one number, got [10, 39]
    """
    n_arr = np.asarray(n, dtype=float)
    if (n_arr < 0).any() or (n_arr != np.floor(n_arr)).any():
        raise InputError(f"n must be a whole number of purchases, got {n}")
    if np.ndim(t) != 0:  # the cumulative sum below runs over n for one period only
        raise InputError(f"the prediction period t must be one number, got {t}")
    t = _horizon(t)
    r, alpha, a, b = model.r, model.alpha, model.a, model.b
    log_p = np.log(alpha / (alpha + t))
    log_q = (
        np.log(t / (alpha + t))
        if np.all(t > 0)
        else np.where(t > 0, np.log(np.maximum(t, 1e-300) / (alpha + t)), -np.inf)
    )

    def nbd_term(j):
        return np.exp(gammaln(r + j) - gammaln(r) - gammaln(j + 1) + r * log_p + j * log_q)

    first = np.exp(betaln(a, b + n_arr) - betaln(a, b)) * nbd_term(n_arr)
    cumulative = np.vectorize(
        lambda k, *_: float(np.sum(nbd_term(np.arange(int(k))))) if k > 0 else 0.0
    )(n_arr)
    second = np.where(
        n_arr > 0,
        np.exp(betaln(a + 1, np.maximum(b + n_arr - 1, 1e-12)) - betaln(a, b)) * (1 - cumulative),
        0.0,
    )
    return first + second


def simulate(model: BetaGeoModel, T, rng: np.random.Generator):
    """Simulate (frequency, recency, T) for customers observed for ``T`` (for tests).

    Each customer draws λ ~ Gamma(r, 1/α) and p ~ Beta(a, b), buys at Poisson times
    and drops out after each purchase with probability p.
    """
    big_t = np.asarray(T, dtype=float)
    n = len(big_t)
    lam = rng.gamma(model.r, 1 / model.alpha, n)
    p = rng.beta(model.a, model.b, n)
    x = np.zeros(n)
    t_x = np.zeros(n)
    alive = np.ones(n, dtype=bool)
    clock = np.zeros(n)
    while alive.any():
        clock[alive] += rng.exponential(1 / np.maximum(lam[alive], 1e-12))
        buying = alive & (clock <= big_t)
        x[buying] += 1
        t_x[buying] = clock[buying]
        alive = buying & (rng.random(n) >= p)
    return x, t_x, big_t


@dataclass(frozen=True)
class _Family:
    """What the fit of a beta-geometric model (BG/NBD, MBG/NBD) needs of its module."""

    model: type
    loglik_terms: Callable
    split: Callable  # the patterns, split for the analytic gradient
    value_and_gradient: Callable
    p_alive: Callable
    expected_purchases: Callable


def _fit_family(
    family: _Family, frequency, recency, T, weights, time_unit, standard_errors: bool = True
):
    """The fit both beta-geometric models share: on the distinct (x, t_x, T) patterns,
    from a start scaled to the data, with the analytic gradient; a fit whose own
    predictions are not usable is refused (:func:`~clvxl.models._mle.refuse_unusable`)."""
    label = family.model.name
    x, t_x, big_t = _customers(frequency, recency, T)
    if len(x) == 0:
        raise ModelError(f"there are no customers to fit the {label} model to")
    cols, w = patterns({"x": x, "t_x": t_x, "T": big_t}, weights)
    if not (cols["x"] > 0).any():
        raise ModelError(
            f"no customer has bought more than once, so the {label} model cannot tell how "
            "often customers buy; it needs some repeat buyers"
        )
    own = (cols["x"], cols["t_x"], cols["T"])

    def negloglik(params: np.ndarray) -> float:
        return -float(np.dot(w, family.loglik_terms(params, *own)))

    split = family.split(*own, w)

    def value_and_gradient(params: np.ndarray):
        return family.value_and_gradient(params, split)

    mean_x = np.average(cols["x"], weights=w)
    mean_t = np.average(cols["T"], weights=w)
    start = np.array([1.0, max(mean_t / max(mean_x, 0.1), 1e-2), 1.0, 1.0])
    result = fit_mle(
        negloglik, family.model.param_names, start, label, value_and_gradient, standard_errors
    )
    model = result.model(family.model, w, time_unit=parse_unit(time_unit))
    with np.errstate(all="ignore"):  # what is not finite is refused in words
        predictions = {
            "P(alive)": family.p_alive(model, *own),
            "expected purchases": family.expected_purchases(model, cols["T"].max(), *own),
        }
    return refuse_unusable(model, predictions)


_FAMILY = _Family(
    BetaGeoModel, _loglik_terms, _Patterns, _value_and_gradient, p_alive, expected_purchases
)
