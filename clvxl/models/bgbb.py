r"""BG/BB: repeat transactions when customers have discrete opportunities to buy.

Fader, P. S., Hardie, B. G. S. & Shang, J. (2010), "Customer-Base Analysis in a
Discrete-Time Noncontractual Setting", *Marketing Science* 29(6), 1086–1108.

At each of *n* opportunities (yearly donation drives, annual events) an active
customer transacts with probability p ~ Beta(α, β) and drops out before the next
with probability θ ~ Beta(γ, δ). With *x* transactions, the last at opportunity
*t_x*, the likelihood is (eq. 5)

.. math::

    L = \frac{B(\alpha+x, \beta+n-x)}{B(\alpha,\beta)} \frac{B(\gamma, \delta+n)}{B(\gamma,\delta)}
      + \sum_{i=0}^{n-t_x-1} \frac{B(\alpha+x, \beta+t_x-x+i)}{B(\alpha,\beta)}
        \frac{B(\gamma+1, \delta+t_x+i)}{B(\gamma,\delta)},

summed in logs. Expected transactions in the next :math:`n^*` opportunities (eq. 13):

.. math::

    E[X(n, n+n^*)] = \frac{1}{L} \frac{B(\alpha+x+1, \beta+n-x)}{B(\alpha,\beta)}
    \frac{\delta}{\gamma-1} \frac{\Gamma(\gamma+\delta)}{\Gamma(1+\delta)}
    \Big[\frac{\Gamma(1+\delta+n)}{\Gamma(\gamma+\delta+n)}
       - \frac{\Gamma(1+\delta+n+n^*)}{\Gamma(\gamma+\delta+n+n^*)}\Big].
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from clvxl._runtime.memo import remembered
from clvxl._runtime.scipy_lean import betaln, gammaln
from clvxl.errors import InputError, ModelError
from clvxl.models._mle import ModelParams, as_column, fit_mle, patterns

__all__ = ["BetaGeoBetaBinomModel", "expected_transactions", "fit", "loglik"]


@dataclass(frozen=True)
class BetaGeoBetaBinomModel(ModelParams):
    """A BG/BB model: alpha, beta (transaction), gamma, delta (dropout).

    Attributes
    ----------
    alpha, beta : float
        Shape parameters of the beta distribution of the transaction probability p
        at each opportunity; positive.
    gamma, delta : float
        Shape parameters of the beta distribution of the dropout probability θ
        before each opportunity; positive.
    loglik, n, patterns, stderr : float, float, int, dict of str to float
        As :func:`fit` sets them; NaN, 0, 0 and empty for a model built from known
        parameters.
    """

    alpha: float
    beta: float
    gamma: float
    delta: float
    loglik: float = float("nan")
    n: float = 0
    patterns: int = 0
    stderr: dict[str, float] = field(default_factory=dict, compare=False)
    cov: np.ndarray | None = field(default=None, compare=False, repr=False)
    name: ClassVar[str] = "BG/BB"
    param_names: ClassVar[tuple[str, ...]] = ("alpha", "beta", "gamma", "delta")


def _data(frequency, recency, periods):
    x, t_x, n = (
        as_column(v, k)
        for v, k in ((frequency, "frequency"), (recency, "recency"), (periods, "periods"))
    )
    if not (len(x) == len(t_x) == len(n)):
        raise InputError("frequency, recency and periods must have the same length")
    if (x < 0).any() or (x > t_x).any() or (t_x > n).any() or ((x > 0) & (t_x == 0)).any():
        raise InputError(
            "BG/BB needs 0 <= frequency <= recency <= periods (recency > 0 when frequency > 0)"
        )
    return x, t_x, n


def _loglik_terms(params, x, t_x, n):
    from scipy.special import logsumexp  # a Python function: the whole package, for BG/BB only

    a, b, g, d = params
    survive = betaln(a + x, b + n - x) - betaln(a, b) + betaln(g, d + n) - betaln(g, d)
    terms = [survive]
    for i in range(int((n - t_x).max())):
        live = i <= n - t_x - 1
        term = (
            betaln(a + x, b + t_x - x + i)
            - betaln(a, b)
            + betaln(g + 1, d + t_x + i)
            - betaln(g, d)
        )
        terms.append(np.where(live, term, -np.inf))
    return logsumexp(np.vstack(terms), axis=0)


def loglik(model: BetaGeoBetaBinomModel, frequency, recency, periods) -> np.ndarray:
    """Log-likelihood of each customer (eq. 5).

    Parameters
    ----------
    model : BetaGeoBetaBinomModel
        The fitted (or given) model.
    frequency : array_like of shape (n_customers,)
        Repeat transactions *x* of each customer: the opportunities at which it
        transacted; 0 or more.
    recency : array_like of shape (n_customers,)
        Recency *t_x*: the opportunity of each customer's last transaction (0 when it
        has none); at least ``frequency`` and above 0 when ``frequency`` is.
    periods : array_like of shape (n_customers,)
        Number of opportunities *n* each customer has had; at least ``recency``.

    Returns
    -------
    ndarray of shape (n_customers,)
        Natural log of each customer's likelihood *L(alpha, beta, gamma, delta | x,
        t_x, n)*.

    Raises
    ------
    InputError
        If the arrays differ in length, hold a non-finite value, or break
        0 <= ``frequency`` <= ``recency`` <= ``periods`` (``recency`` > 0 when
        ``frequency`` > 0). Whole numbers are expected but not checked.

    Examples
    --------
    With alpha = beta = 1 and gamma = delta = 2, a customer with one opportunity makes
    no transaction with probability 1/2 · 1/2 + 1 · 1/2 = 3/4 (eq. 5):

    >>> m = BetaGeoBetaBinomModel(alpha=1, beta=1, gamma=2, delta=2)
    >>> np.round(np.exp(loglik(m, [0, 1], [0, 1], [1, 1])), 6).tolist()
    [0.75, 0.25]
    """
    return _loglik_terms(
        (model.alpha, model.beta, model.gamma, model.delta), *_data(frequency, recency, periods)
    )


@remembered
def fit(frequency, recency, periods, weights=None) -> BetaGeoBetaBinomModel:
    """Fit BG/BB on (frequency, recency, periods) patterns with weights.

    Parameters
    ----------
    frequency : array_like of shape (n_customers,)
        Repeat transactions *x* of each customer: the opportunities at which it
        transacted; 0 or more.
    recency : array_like of shape (n_customers,)
        Recency *t_x*: the opportunity of each customer's last transaction (0 when it
        has none); at least ``frequency`` and above 0 when ``frequency`` is.
    periods : array_like of shape (n_customers,)
        Number of opportunities *n* each customer has had; at least ``recency``.
    weights : array_like of shape (n_customers,), optional
        Number of customers with each row (default 1 each); zero or more.

    Returns
    -------
    BetaGeoBetaBinomModel
        The maximum-likelihood estimates: the positive (alpha, beta, gamma, delta)
        that maximise the weighted total log-likelihood, the sum of
        ``weights × loglik`` (eq. 5), found by L-BFGS-B with finite-difference
        gradients on the log scale from all ones, with a Nelder-Mead polish when it
        stalls (see :func:`~clvxl.models._mle.fit_mle`). ``loglik`` is that maximum,
        ``n`` the total weight, ``patterns`` the number of distinct (x, t_x, n) rows
        fitted, ``stderr`` the standard errors from the inverse Hessian (NaN where
        they cannot be computed).

    Raises
    ------
    InputError
        If the arrays differ in length, hold a non-finite value, or break
        0 <= ``frequency`` <= ``recency`` <= ``periods`` (``recency`` > 0 when
        ``frequency`` > 0). Whole numbers are expected but not checked.
        Also if a weight is negative or ``weights`` has another length.
    ModelError
        If no customer has a transaction, or the likelihood has no finite maximum (a
        parameter runs off to zero or infinity).

    Examples
    --------
    >>> m = fit([0, 1, 2, 3, 1], [0, 1, 3, 3, 2], [3, 3, 3, 3, 3], [50, 20, 15, 10, 5])
    >>> bool(np.isfinite(m.loglik))
    True
    """
    x, t_x, n = _data(frequency, recency, periods)
    cols, w = patterns({"x": x, "t_x": t_x, "n": n}, weights)
    if not (cols["x"] > 0).any():
        raise ModelError(
            "no customer has made a transaction, so the BG/BB model has nothing to learn from"
        )

    def negloglik(params):
        return -float(np.dot(w, _loglik_terms(params, cols["x"], cols["t_x"], cols["n"])))

    result = fit_mle(negloglik, BetaGeoBetaBinomModel.param_names, np.ones(4), "BG/BB")
    return result.model(BetaGeoBetaBinomModel, w)


def expected_transactions(
    model: BetaGeoBetaBinomModel, future, frequency, recency, periods
) -> np.ndarray:
    """Expected transactions of each customer in the next ``future`` opportunities (eq. 13).

    Parameters
    ----------
    model : BetaGeoBetaBinomModel
        The fitted (or given) model.
    future : float or array_like of shape (n_customers,)
        Number of future opportunities :math:`n^*`; a whole number, 0 or more (not
        checked).
    frequency : array_like of shape (n_customers,)
        Repeat transactions *x* of each customer: the opportunities at which it
        transacted; 0 or more.
    recency : array_like of shape (n_customers,)
        Recency *t_x*: the opportunity of each customer's last transaction (0 when it
        has none); at least ``frequency`` and above 0 when ``frequency`` is.
    periods : array_like of shape (n_customers,)
        Number of opportunities *n* each customer has had; at least ``recency``.

    Returns
    -------
    ndarray of shape (n_customers,)
        Expected number of transactions of each customer in opportunities
        n + 1, …, n + ``future``. The formula divides by gamma − 1: a model with
        gamma = 1 gives no finite value.

    Raises
    ------
    InputError
        If the arrays differ in length, hold a non-finite value, or break
        0 <= ``frequency`` <= ``recency`` <= ``periods`` (``recency`` > 0 when
        ``frequency`` > 0). Whole numbers are expected but not checked.

    Examples
    --------
    A customer with no opportunity yet transacts at the next with probability
    E[p] · E[1 − θ] = alpha / (alpha + beta) · delta / (gamma + delta):

    >>> m = BetaGeoBetaBinomModel(alpha=1, beta=1, gamma=2, delta=2)
    >>> np.round(expected_transactions(m, 1, [0], [0], [0]), 6).tolist()
    [0.25]
    """
    x, t_x, n = _data(frequency, recency, periods)
    a, b, g, d = model.alpha, model.beta, model.gamma, model.delta
    log_l = _loglik_terms((a, b, g, d), x, t_x, n)
    head = betaln(a + x + 1, b + n - x) - betaln(a, b) + gammaln(g + d) - gammaln(1 + d)
    now = np.exp(gammaln(1 + d + n) - gammaln(g + d + n))
    later = np.exp(gammaln(1 + d + n + future) - gammaln(g + d + n + future))
    # d / (g - 1) and the bracket share their sign, so the product is positive for any g != 1.
    return np.exp(head - log_l) * d * (now - later) / (g - 1)
