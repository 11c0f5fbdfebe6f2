r"""MBG/NBD: the modified beta-geometric / negative binomial model of repeat purchasing.

Batislam, E. P., Denizel, M. & Filiztekin, A. (2007), "Empirical validation and
comparison of models for customer base analysis", *International Journal of Research
in Marketing* 24(3), 201–209; the conditional expectation as corrected in Wagner, U.
& Hoppe, D. (2008), "Erratum on the MBG/NBD Model", *IJRM* 25(3), 225–226. It is the
model of lifetimes' ``ModifiedBetaGeoFitter``.

As in BG/NBD (:mod:`clvxl.models.bgnbd`), an active customer buys at Poisson rate
λ ~ Gamma(r, α) and drops out after each purchase with probability p ~ Beta(a, b);
MBG/NBD adds a chance p to drop out at time 0 as well, before any repeat purchase.
A one-time buyer is then not certainly active (BG/NBD's P(alive) = 1 for x = 0), and
the alive-at-T branch carries one more factor 1 - p. For a customer with *x* repeat
purchases, the last at *t_x*, observed for *T*, the likelihood (Batislam et al.
2007, Appendix A) is

.. math::

    L(r, \alpha, a, b \mid x, t_x, T) =
    \frac{B(a, b + x + 1)}{B(a, b)} \frac{\Gamma(r + x)\, \alpha^r}{\Gamma(r)\, (\alpha + T)^{r + x}}
    + \frac{B(a + 1, b + x)}{B(a, b)}
      \frac{\Gamma(r + x)\, \alpha^r}{\Gamma(r)\, (\alpha + t_x)^{r + x}},

with the second (dropped-out) branch present for x = 0 too, where it is the customer
lost at time 0 (t_x = 0). Since :math:`B(a+1, b+x)/B(a, b+x+1) = a/(b+x)`,

.. math::

    \ln L = \ln\Gamma(r+x) - \ln\Gamma(r) + r\ln\alpha + \ln B(a, b+x+1) - \ln B(a, b)
    - (r+x)\ln(\alpha+T)
    + \ln\Big[1 + \frac{a}{b+x}\Big(\frac{\alpha+T}{\alpha+t_x}\Big)^{r+x}\Big].

Numerically stable form: as in :mod:`~clvxl.models.bgnbd`, nothing is raised to the
power :math:`r + x` outside a log; the bracket is :math:`\operatorname{softplus}(d)`
of its log :math:`d` (``logaddexp(0, d)``), P(alive) is ``expit(-d)``, and the
conditional expectation's :math:`(\frac{\alpha+T}{\alpha+T+t})^{r+x}\,{}_2F_1(r+x,
b+x+1; a+b+x; z)`, a tiny number times a huge one, becomes by Euler's transformation
:math:`(1-z)^{a-1}\,{}_2F_1(a+b-r, a-1; a+b+x; z)`, which stays finite.

Time is in the model's ``time_unit`` (weeks in the CDNOW examples). All functions take
the fitted model first and are pure.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from clvxl._runtime.memo import remembered
from clvxl._runtime.scipy_lean import betaln, digamma, expit, gammaln, hyp2f1
from clvxl.errors import InputError
from clvxl.models._mle import ModelParams, as_column
from clvxl.models.bgnbd import _customers, _Family, _fit_family, _horizon, _near_one
from clvxl.units import TimeUnit

__all__ = [
    "ModifiedBetaGeoModel",
    "expected_purchases",
    "expected_purchases_if_alive",
    "expected_purchases_population",
    "fit",
    "loglik",
    "p_alive",
    "prob_purchases",
]


@dataclass(frozen=True)
class ModifiedBetaGeoModel(ModelParams):
    """An MBG/NBD model: the four parameters and how they were fitted.

    Build one from known parameters to predict without fitting (here lifetimes
    0.11.3's ``ModifiedBetaGeoFitter`` estimates on CDNOW, to five digits):

    >>> m = ModifiedBetaGeoModel(r=0.52484, alpha=6.18299, a=0.89136, b=1.61400)
    >>> round(float(p_alive(m, 2, 30.43, 38.86)[0]), 3)
    0.706
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
    name: ClassVar[str] = "MBG/NBD"
    param_names: ClassVar[tuple[str, ...]] = ("r", "alpha", "a", "b")


def _log_odds_dead(params, x, t_x, big_t):
    r""":math:`d = \ln\frac{a}{b+x} + (r+x)\ln\frac{\alpha+T}{\alpha+t_x}`: the log of
    the dropped-out branch over the alive branch of the likelihood."""
    r, alpha, a, b = params
    return np.log(a) - np.log(b + x) + (r + x) * (np.log(alpha + big_t) - np.log(alpha + t_x))


def _loglik_terms(params, x, t_x, big_t):
    r, alpha, a, b = params
    common = gammaln(r + x) - gammaln(r) + r * np.log(alpha) + betaln(a, b + x + 1) - betaln(a, b)
    alive = -(r + x) * np.log(alpha + big_t)
    return common + alive + np.logaddexp(0.0, _log_odds_dead(params, x, t_x, big_t))


class _Patterns:
    r"""The distinct (x, t_x, T) patterns split the way the likelihood needs them.

    Terms of x alone are evaluated once per distinct x and logs of :math:`\alpha + T`
    once per distinct T. Unlike BG/NBD, every pattern, one-time buyers included, has
    both branches: :math:`\ln(e^{alive} + e^{dropped}) = alive +
    \operatorname{softplus}(d)`, whose derivative weights are ``expit(d)``.
    """

    def __init__(self, x, t_x, big_t, w):
        self.xs, self.x_index = np.unique(x, return_inverse=True)
        self.weight_x = np.bincount(self.x_index, weights=w)
        self.t_x, self.w = t_x, w
        self.t_values, self.t_index = np.unique(big_t, return_inverse=True)
        self.t_w = np.bincount(self.t_index, weights=w)
        self.t_xw = np.bincount(self.t_index, weights=x * w)
        self.x = x


def _value_and_gradient(params, pat: _Patterns) -> tuple[float, np.ndarray]:
    r"""Negative total log-likelihood and its gradient in (r, alpha, a, b).

    With :math:`s = \operatorname{expit}(d)`, the share of the dropped-out branch,

    .. math::

        \partial_r \ln L &= \psi(r+x) - \psi(r) + \ln\alpha - \ln(\alpha+T)
            + s \ln\tfrac{\alpha+T}{\alpha+t_x} \\
        \partial_\alpha \ln L &= \tfrac{r}{\alpha} - \tfrac{r+x}{\alpha+T}
            + s\,(r+x)\Big(\tfrac{1}{\alpha+T} - \tfrac{1}{\alpha+t_x}\Big) \\
        \partial_a \ln L &= \psi(a+b) - \psi(a+b+x+1) + \tfrac{s}{a} \\
        \partial_b \ln L &= \psi(b+x+1) - \psi(a+b+x+1) - \psi(b) + \psi(a+b)
            - \tfrac{s}{b+x}
    """
    r, alpha, a, b = params
    xs, weight_x, w = pat.xs, pat.weight_x, pat.w
    # Per distinct T: log(alpha + T), 1 / (alpha + T), and the weights of (r + x) there.
    log_t_values = np.log(alpha + pat.t_values)
    inv_t_values = 1.0 / (alpha + pat.t_values)
    rx_weight_t = r * pat.t_w + pat.t_xw
    diff = log_t_values[pat.t_index] - np.log(alpha + pat.t_x)
    rx = r + pat.x
    d = (np.log(a) - np.log(b + xs))[pat.x_index] + rx * diff
    second_w = expit(d) * w  # each pattern's weight times the share of the dropped-out branch
    common = (
        gammaln(r + xs) - gammaln(r) + r * np.log(alpha) + betaln(a, b + xs + 1) - betaln(a, b)
    ) @ weight_x
    value = -(common + np.logaddexp(0.0, d) @ w - log_t_values @ rx_weight_t)
    d_r = (
        (digamma(r + xs) - digamma(r) + np.log(alpha)) @ weight_x
        - log_t_values @ pat.t_w
        + second_w @ diff
    )
    d_alpha = (
        r / alpha * weight_x.sum()
        - inv_t_values @ rx_weight_t
        + (second_w * rx) @ (inv_t_values[pat.t_index] - 1.0 / (alpha + pat.t_x))
    )
    d_a = (digamma(a + b) - digamma(a + b + xs + 1)) @ weight_x + second_w.sum() / a
    d_b = (
        digamma(b + xs + 1) - digamma(a + b + xs + 1) - digamma(b) + digamma(a + b)
    ) @ weight_x - second_w @ (1.0 / (b + xs))[pat.x_index]
    return float(value), -np.array([d_r, d_alpha, d_a, d_b])


def loglik(model: ModifiedBetaGeoModel, frequency, recency, T) -> np.ndarray:
    """Log-likelihood of each customer under the model (Batislam et al. 2007,
    Appendix A; in logs, see the module docstring).

    Parameters
    ----------
    model : ModifiedBetaGeoModel
    frequency, recency, T : array-like, shape (n,)
        Repeat purchases *x*, time of the last purchase *t_x*, age *T*.

    Returns
    -------
    ndarray, shape (n,)

    Examples
    --------
    >>> m = ModifiedBetaGeoModel(r=0.52484, alpha=6.18299, a=0.89136, b=1.61400)
    >>> np.round(loglik(m, [2, 0], [30.43, 0], [38.86, 38.86]), 4).tolist()
    [-9.4859, -0.5396]
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
) -> ModifiedBetaGeoModel:
    """Fit MBG/NBD by maximum likelihood on the distinct (x, t_x, T) patterns.

    Parameters
    ----------
    frequency, recency, T : array-like, shape (n,)
        Repeat purchases *x*, time of the last purchase *t_x*, age *T*, in ``time_unit``.
    weights : array-like, shape (n,), optional
        Number of customers with each row (default 1 each).
    time_unit : {"days", "weeks", "months"}
        The unit of ``recency`` and ``T``; carried by the fitted model.
    standard_errors : bool, default True
        Compute ``stderr`` and ``cov``; False leaves them NaN and saves the Hessian
        (:func:`~clvxl.models._mle.fit_mle`).

    Returns
    -------
    ModifiedBetaGeoModel

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> truth = ModifiedBetaGeoModel(0.5, 6.0, 0.9, 1.6)
    >>> m = fit(*simulate(truth, np.full(5000, 40.0), rng))
    >>> bool(abs(m.r - 0.5) < 0.1 and abs(m.a - 0.9) < 0.4)
    True
    """
    return _fit_family(_FAMILY, frequency, recency, T, weights, time_unit, standard_errors)


def p_alive(model: ModifiedBetaGeoModel, frequency, recency, T) -> np.ndarray:
    r"""Probability that a customer is still active (Batislam et al. 2007, Appendix A,
    eq. 5).

    .. math:: P(\text{alive} \mid x, t_x, T) = \Big[1 + \frac{a}{b + x}
              \Big(\frac{\alpha + T}{\alpha + t_x}\Big)^{r + x}\Big]^{-1}

    for every x, one-time buyers included: they too may have dropped out (at time 0),
    so their P(alive) is below :math:`b/(a+b)` and falls with T. Computed as a
    logistic of logs so it never overflows.

    Parameters
    ----------
    model : ModifiedBetaGeoModel
    frequency, recency, T : array-like, shape (n,)

    Returns
    -------
    ndarray, shape (n,)

    Examples
    --------
    A repeat buyer and a one-time buyer of CDNOW:

    >>> m = ModifiedBetaGeoModel(r=0.52484, alpha=6.18299, a=0.89136, b=1.61400)
    >>> np.round(p_alive(m, [2, 0], [30.43, 0], [38.86, 38.86]), 4).tolist()
    [0.7061, 0.3897]
    """
    x, t_x, big_t = _customers(frequency, recency, T)
    return expit(-_log_odds_dead((model.r, model.alpha, model.a, model.b), x, t_x, big_t))


def expected_purchases(model: ModifiedBetaGeoModel, t, frequency, recency, T) -> np.ndarray:
    r"""Expected purchases in the next ``t`` for each customer (Batislam et al. 2007,
    Appendix A, as corrected by Wagner & Hoppe 2008).

    .. math::

        E[Y(t) \mid x, t_x, T] = \frac{a + b + x}{a - 1}
        \Big[1 - \Big(\frac{\alpha+T}{\alpha+T+t}\Big)^{r+x}
        {}_2F_1\Big(r+x, b+x+1; a+b+x; \frac{t}{\alpha+T+t}\Big)\Big]
        \cdot P(\text{alive})

    computed in the Euler-transformed, overflow-free form of
    :func:`expected_purchases_if_alive`.

    Parameters
    ----------
    model : ModifiedBetaGeoModel
    t : float
        The prediction period, in the model's time unit.
    frequency, recency, T : array-like, shape (n,)

    Returns
    -------
    ndarray, shape (n,)

    Examples
    --------
    CDNOW customer 1 (x = 2, t_x = 30.43, T = 38.86), next 39 weeks:

    >>> m = ModifiedBetaGeoModel(r=0.52484, alpha=6.18299, a=0.89136, b=1.61400)
    >>> round(float(expected_purchases(m, 39, 2, 30.43, 38.86)[0]), 3)
    1.263
    """
    x, t_x, big_t = _customers(frequency, recency, T)
    return expected_purchases_if_alive(model, t, x, big_t) * p_alive(model, x, t_x, big_t)


def expected_purchases_if_alive(model: ModifiedBetaGeoModel, t, frequency, T) -> np.ndarray:
    r"""Expected purchases in the next ``t`` of a customer known to be active (the
    conditional expectation without its P(alive) factor); it depends on x and T only.

    Given alive at T, λ ~ Gamma(r + x, α + T) and p ~ Beta(a, b + x + 1), and from T on
    the customer behaves as a BG/NBD customer, so

    .. math:: \frac{a + b + x}{a - 1}
        \Big[1 - (1 - z)^{a-1}\, {}_2F_1(a + b - r, a - 1; a + b + x; z)\Big],
        \qquad z = \frac{t}{\alpha + T + t}

    (Euler's transformation of the Wagner & Hoppe form; at a = 1, where it is 0/0,
    the mean of a = 1 ± 1e-7).

    Parameters
    ----------
    model : ModifiedBetaGeoModel
    t : float
    frequency, T : array-like, shape (n,)

    Returns
    -------
    ndarray, shape (n,)

    Examples
    --------
    >>> m = ModifiedBetaGeoModel(r=0.52484, alpha=6.18299, a=0.89136, b=1.61400)
    >>> round(float(expected_purchases_if_alive(m, 39, 2, 38.86)[0]), 3)
    1.788

    Times P(alive) = 0.706 for customer 1, that is its 1.263.
    """
    x, big_t = as_column(frequency, "frequency"), as_column(T, "T")
    t = _horizon(t)
    r, alpha, a, b = model.r, model.alpha, model.a, model.b
    z = t / (alpha + big_t + t)

    def scaled_bracket(a):
        bracket = 1 - np.exp((a - 1) * np.log1p(-z)) * hyp2f1(a + b - r, a - 1, a + b + x, z)
        return (a + b + x) / (a - 1) * bracket

    return _near_one(scaled_bracket, a)


def expected_purchases_population(model: ModifiedBetaGeoModel, t) -> np.ndarray:
    r"""Expected purchases of a new customer in its first ``t`` (Batislam et al. 2007,
    Appendix A).

    .. math:: E[X(t)] = \frac{b}{a - 1}
              \Big[1 - \Big(\frac{\alpha}{\alpha + t}\Big)^r
              {}_2F_1\Big(r, b + 1; a + b; \frac{t}{\alpha + t}\Big)\Big]

    (the conditional expectation at x = t_x = T = 0: P(alive) = b/(a+b) times
    :math:`\frac{a+b}{a-1}[\dots]`; computed in the same Euler-transformed form).

    Parameters
    ----------
    model : ModifiedBetaGeoModel
    t : float or array-like, shape (k,)

    Returns
    -------
    ndarray, shape of ``t``

    Examples
    --------
    >>> m = ModifiedBetaGeoModel(r=0.52484, alpha=6.18299, a=0.89136, b=1.61400)
    >>> np.round(expected_purchases_population(m, [1, 39, 78]), 4).tolist()
    [0.0531, 1.1823, 1.8036]
    """
    t = _horizon(t)
    r, alpha, a, b = model.r, model.alpha, model.a, model.b
    z = t / (alpha + t)
    return _near_one(
        lambda a: (
            b / (a - 1) * (1 - np.exp((a - 1) * np.log1p(-z)) * hyp2f1(a + b - r, a - 1, a + b, z))
        ),
        a,
    )


def prob_purchases(model: ModifiedBetaGeoModel, n, t) -> np.ndarray:
    r"""Probability that a new customer makes exactly ``n`` purchases in ``t``
    (Batislam et al. 2007, Appendix A).

    .. math::

        P(X(t) = n) = \frac{B(a, b + n + 1)}{B(a, b)} \frac{\Gamma(r + n)}{\Gamma(r)\, n!}
        \Big(\frac{\alpha}{\alpha + t}\Big)^r \Big(\frac{t}{\alpha + t}\Big)^n
        + \frac{B(a + 1, b + n)}{B(a, b)}
        \Big[1 - \Big(\frac{\alpha}{\alpha + t}\Big)^r \sum_{j=0}^{n-1}
        \frac{\Gamma(r + j)}{\Gamma(r)\, j!} \Big(\frac{t}{\alpha + t}\Big)^j\Big]

    The second term, the customer who dropped out after its n-th purchase, is there
    for n = 0 too (a dropout at time 0: probability :math:`a/(a+b)`).

    Parameters
    ----------
    model : ModifiedBetaGeoModel
    n : int or array-like of int
    t : float or array-like

    Returns
    -------
    ndarray, the broadcast shape of ``n`` and ``t``

    Examples
    --------
    >>> m = ModifiedBetaGeoModel(r=0.52484, alpha=6.18299, a=0.89136, b=1.61400)
    >>> round(float(prob_purchases(m, 0, 39)), 4)
    0.5826
    """
    n_arr = np.asarray(n, dtype=float)
    if (n_arr < 0).any() or (n_arr != np.floor(n_arr)).any():
        raise InputError(f"n must be a whole number of purchases, got {n}")
    t = _horizon(t)
    r, alpha, a, b = model.r, model.alpha, model.a, model.b
    log_p = np.log(alpha / (alpha + t))
    log_q = (
        np.log(t / (alpha + t))
        if np.all(t > 0)
        else np.where(t > 0, np.log(np.maximum(t, 1e-300) / (alpha + t)), -np.inf)
    )

    def nbd_term(j):
        with np.errstate(invalid="ignore"):  # 0 * log 0 at t = 0 and j = 0 is 0
            return np.exp(
                gammaln(r + j)
                - gammaln(r)
                - gammaln(j + 1)
                + r * log_p
                + np.where(j > 0, j * log_q, 0.0)
            )

    first = np.exp(betaln(a, b + n_arr + 1) - betaln(a, b)) * nbd_term(n_arr)
    cumulative = np.vectorize(
        lambda k, *_: float(np.sum(nbd_term(np.arange(int(k))))) if k > 0 else 0.0
    )(n_arr)
    second = np.exp(betaln(a + 1, b + n_arr) - betaln(a, b)) * (1 - cumulative)
    return first + second


def simulate(model: ModifiedBetaGeoModel, T, rng: np.random.Generator):
    """Simulate (frequency, recency, T) for customers observed for ``T`` (for tests).

    Each customer draws λ ~ Gamma(r, 1/α) and p ~ Beta(a, b), drops out at once with
    probability p, and otherwise buys at Poisson times, dropping out after each
    purchase with probability p.
    """
    big_t = np.asarray(T, dtype=float)
    n = len(big_t)
    lam = rng.gamma(model.r, 1 / model.alpha, n)
    p = rng.beta(model.a, model.b, n)
    x = np.zeros(n)
    t_x = np.zeros(n)
    alive = rng.random(n) >= p
    clock = np.zeros(n)
    while alive.any():
        clock[alive] += rng.exponential(1 / np.maximum(lam[alive], 1e-12))
        buying = alive & (clock <= big_t)
        x[buying] += 1
        t_x[buying] = clock[buying]
        alive = buying & (rng.random(n) >= p)
    return x, t_x, big_t


_FAMILY = _Family(
    ModifiedBetaGeoModel,
    _loglik_terms,
    _Patterns,
    _value_and_gradient,
    p_alive,
    expected_purchases,
)
