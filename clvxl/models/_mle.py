"""Maximum-likelihood fitting shared by the models.

The likelihoods of these models depend on a customer only through a few numbers
((x, t_x, T) for purchases, (x, z̄) for spend), so a fit runs on the distinct
patterns with their counts as weights: a million customers are usually tens of
thousands of patterns. Parameters are optimised on the log scale (they are all
positive); standard errors come from the inverse Hessian of the negative
log-likelihood at the optimum, on the natural scale.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pandas as pd

from clvxl._runtime.scipy_lean import minimize_lbfgsb
from clvxl._runtime.threads import one_blas_thread
from clvxl.errors import InputError, ModelError
from clvxl.units import parse_unit

__all__ = [
    "Fit",
    "ModelParams",
    "as_column",
    "fit_mle",
    "pattern_index",
    "patterns",
    "refuse_unusable",
]


class ModelParams:
    """What every fitted model shares: ``params`` by name, and positive parameters.

    Subclasses are frozen dataclasses naming their parameters in ``param_names`` and
    the model in ``name``; a ``time_unit`` field, when present, is parsed here too.
    """

    name: ClassVar[str]
    param_names: ClassVar[tuple[str, ...]]

    def __post_init__(self) -> None:
        if hasattr(self, "time_unit"):
            object.__setattr__(self, "time_unit", parse_unit(self.time_unit))
        for p in self.param_names:
            value = getattr(self, p)
            if not (np.isfinite(value) and value > 0):
                raise InputError(
                    f"{self.name} parameter {p} must be a positive number, got {value}"
                )

    @property
    def params(self) -> dict[str, float]:
        """The parameters by their paper names."""
        return {p: getattr(self, p) for p in self.param_names}


@dataclass(frozen=True)
class Fit:
    """The result of :func:`fit_mle`: parameters, standard errors, log-likelihood.

    ``cov`` is the asymptotic covariance of the parameters (natural scale, shape
    (k, k), in the order of ``params``): the inverse Hessian of the negative
    log-likelihood at the optimum; all NaN where the Hessian is singular.
    """

    params: dict[str, float]
    stderr: dict[str, float]
    loglik: float
    cov: np.ndarray

    def model(self, cls, weights: np.ndarray, patterns: int | None = None, **fields):
        """The fitted model ``cls``: these parameters and their uncertainty, fitted on
        ``weights.sum()`` customers in ``patterns`` distinct patterns (default: one per
        weight), with any other ``fields`` (e.g. ``time_unit``)."""
        return cls(
            **self.params,
            **fields,
            loglik=self.loglik,
            n=float(weights.sum()),
            patterns=len(weights) if patterns is None else patterns,
            stderr=self.stderr,
            cov=self.cov,
        )


def as_column(values, name: str) -> np.ndarray:
    """A 1-d float array with only finite values, or an InputError naming ``name``.

    Parameters
    ----------
    values : array_like
        Numbers of any shape (flattened in C order).
    name : str
        The argument's name, for the error message.

    Returns
    -------
    ndarray of shape (n_values,)
        The values as float64.

    Raises
    ------
    InputError
        If a value is not a number, or is NaN or infinite.

    Examples
    --------
    >>> as_column([[1, 2], [3, 4]], "x").tolist()
    [1.0, 2.0, 3.0, 4.0]
    """
    try:
        x = np.asarray(values, dtype=float).ravel()
    except (TypeError, ValueError):
        raise InputError(f"{name} must be numbers") from None
    if not np.isfinite(x).all():
        raise InputError(f"{name} must be finite numbers (found NaN or infinity)")
    return x


def _group(columns: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """For each row the number of its distinct row (in order of first appearance), and
    for each distinct row the index of its first appearance.

    Hashes each column (``pandas.factorize``) and combines the codes, so grouping a
    million rows takes milliseconds and never sorts floats.
    """
    codes = None
    for values in columns.values():
        column_codes, uniques = pd.factorize(np.asarray(values), sort=False)
        if codes is None:
            codes = column_codes
        else:  # in place: no temporaries the size of the column
            codes *= len(uniques)
            codes += column_codes
            del column_codes
            codes = pd.factorize(codes, sort=False)[0]
    n = len(codes)
    count = int(codes.max()) + 1 if n else 0
    first = np.empty(count, dtype=np.int64)
    first[codes[::-1]] = np.arange(n - 1, -1, -1, dtype=np.int32 if n < 2**31 else np.int64)
    return codes, first


def patterns(
    columns: dict[str, np.ndarray], weights=None
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Distinct rows of ``columns`` and how many customers (or how much weight) each has.

    Parameters
    ----------
    columns : dict of str to ndarray of shape (n_rows,)
        The columns a row is made of (for example ``x``, ``t_x``, ``T``), all of the
        same length (not checked).
    weights : array_like of shape (n_rows,), optional
        Weight of each row (default 1 each); finite, zero or more.

    Returns
    -------
    rows : dict of str to ndarray of shape (n_patterns,)
        The distinct rows, as float64, in the order of their first appearance.
    weights : ndarray of shape (n_patterns,)
        The sum of the weights of each distinct row's rows (their count without
        ``weights``).

    Raises
    ------
    InputError
        If ``weights`` has another length than the columns, or a weight is negative
        or not finite.

    Examples
    --------
    >>> cols, w = patterns({"x": np.array([0, 1, 0.0]), "T": np.array([5, 5, 5.0])})
    >>> cols["x"].tolist(), w.tolist()
    ([0.0, 1.0], [2.0, 1.0])
    """
    n = len(next(iter(columns.values())))
    w = np.ones(n) if weights is None else as_column(weights, "weights")
    if len(w) != n:
        raise InputError(f"weights has {len(w)} values for {n} customers")
    if (w < 0).any():
        raise InputError("weights must be zero or more")
    codes, first = _group(columns)
    summed = np.bincount(codes, weights=w, minlength=len(first))
    return {k: np.asarray(v, dtype=float)[first] for k, v in columns.items()}, summed


def pattern_index(columns: dict[str, np.ndarray]) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Distinct rows of ``columns`` and, for each input row, the index of its distinct row.

    Parameters
    ----------
    columns : dict of str to ndarray of shape (n_rows,)
        The columns a row is made of, all of the same length (not checked).

    Returns
    -------
    rows : dict of str to ndarray of shape (n_patterns,)
        The distinct rows, with the columns' dtypes, in the order of their first
        appearance.
    inverse : ndarray of int of shape (n_rows,)
        For each input row the index of its distinct row:
        ``rows[k][inverse]`` equals ``columns[k]``.

    Examples
    --------
    >>> rows, inverse = pattern_index({"x": np.array([1.0, 0.0, 1.0])})
    >>> rows["x"].tolist(), inverse.tolist()
    ([1.0, 0.0], [0, 1, 0])
    """
    codes, first = _group(columns)
    return {k: np.asarray(v)[first] for k, v in columns.items()}, codes


def fit_mle(
    negloglik: Callable[[np.ndarray], float],
    names: tuple[str, ...],
    start: np.ndarray,
    model: str,
    value_and_gradient: Callable[[np.ndarray], tuple[float, np.ndarray]] | None = None,
    standard_errors: bool = True,
) -> Fit:
    """Minimise ``negloglik(params)`` over positive parameters.

    Parameters
    ----------
    negloglik : callable
        Negative total log-likelihood as a function of the natural parameters.
    names : tuple of str
        Parameter names, in order.
    start : ndarray
        Starting values (natural scale).
    model : str
        The model's name, for messages.
    value_and_gradient : callable, optional
        ``negloglik`` and its gradient with respect to the natural parameters, in
        one pass. Without it, quasi-Newton steps use finite differences and a
        Nelder-Mead polish follows.
    standard_errors : bool, default True
        Work out the Hessian at the optimum for the covariance and the standard errors
        (2k gradient or about 2k² likelihood evaluations); False leaves them NaN, for
        a fit whose parameters are used but never shown or carried into an interval.

    Returns
    -------
    Fit
        The parameters at the optimum, their standard errors (from the Hessian there)
        and the log-likelihood. The fit runs with one BLAS thread
        (:func:`~clvxl._runtime.threads.one_blas_thread`).
    """
    with one_blas_thread():
        objective = _Objective(negloglik, value_and_gradient, np.asarray(start, dtype=float))
        best = _minimise(objective, np.log(start), model)
        params = np.exp(best.x)
        cov = (
            _covariance(_hessian_at(objective, params))
            if standard_errors
            else np.full((len(params),) * 2, np.nan)
        )
        cov.setflags(write=False)  # a fitted model is a value, shared when remembered
        return Fit(
            dict(zip(names, params.tolist(), strict=True)),
            _stderr(cov, names),
            -float(best.fun) * objective.scale,
            cov,
        )


#: Log-parameters beyond this are a parameter running off to zero or infinity.
_RUNAWAY = 19.0
#: The box the optimisers search in, on the log scale.
_BOUND = 20.0


class _Objective:
    """The negative log-likelihood on the log scale, per unit of its starting size.

    Dividing by its size at the start makes the stopping rules and finite-difference steps
    behave the same for 2,000 customers or 2,000,000.
    """

    def __init__(self, negloglik, value_and_gradient, start: np.ndarray) -> None:
        self.negloglik, self.value_and_gradient = negloglik, value_and_gradient
        self.gradient = value_and_gradient is not None
        with np.errstate(all="ignore"):
            at_start = value_and_gradient(start)[0] if self.gradient else negloglik(start)
        scale = abs(at_start)
        self.scale = scale if np.isfinite(scale) and scale > 1 else 1.0

    def __call__(self, log_params: np.ndarray):
        # Trial steps may reach parameters where the likelihood overflows; such a point
        # scores 1e300 and the line search steps back, so the overflow is not news.
        with np.errstate(all="ignore"):
            params = np.exp(log_params)
            if not self.gradient:
                value = self.negloglik(params) / self.scale
                return value if np.isfinite(value) else 1e300
            value, grad = self.value_and_gradient(params)
            value, grad = value / self.scale, grad * params / self.scale  # to the log scale
            if not (np.isfinite(value) and np.isfinite(grad).all()):
                return 1e300, np.zeros(len(params))
            return value, grad


def _minimise(objective: _Objective, log_start: np.ndarray, model: str):
    """L-BFGS-B from the start and from 1s; Nelder-Mead polish without a gradient."""
    best, bounds = None, [(-_BOUND, _BOUND)] * len(log_start)
    for guess in (log_start, np.zeros(len(log_start))):
        result = minimize_lbfgsb(
            objective,
            guess,
            jac=objective.gradient,
            bounds=bounds,
            # Stop when a step improves the scaled objective by < 1e-12 relative: asking
            # for more only spends evaluations (the log-likelihood then agrees to ~1e-15,
            # the parameters to ~1e-9, and finite-difference gradients are noise below it).
            maxiter=5000,
            ftol=1e-12,
            gtol=1e-10,
        )
        if best is None or result.fun < best.fun:
            best = result
        # A line search that cannot improve further at a vanishing gradient has converged
        # too: the scaled objective is near 1, so its last digits are noise.
        settled = result.success or (objective.gradient and np.max(np.abs(result.jac)) < 1e-7)
        if settled and np.all(np.abs(result.x) < _RUNAWAY):
            best = result
            break
    if best is None or not np.isfinite(best.fun) or best.fun >= 1e300:
        raise ModelError(f"the {model} model could not be fitted to these customers")
    if not objective.gradient and not best.success:
        # Without a gradient, finite differences can stall short of the optimum:
        # polish with Nelder-Mead, robust and cheap on a few parameters. It keeps to the
        # same box and a bounded number of evaluations: on a flat likelihood the simplex
        # otherwise walks out to log-parameters of 35 and more, where one evaluation of
        # the hypergeometric terms takes ever longer (a 30-customer log ran for minutes).
        from scipy import optimize  # the full package, for the rare stalled fit

        polish = optimize.minimize(
            objective,
            best.x,
            method="Nelder-Mead",
            bounds=bounds,
            options={"xatol": 1e-10, "fatol": 1e-12, "maxiter": 4000, "maxfev": 4000},
        )
        if polish.fun < best.fun:
            best = polish
    if np.any(np.abs(best.x) >= _RUNAWAY):
        raise ModelError(
            f"the data cannot pin down the {model} model (a parameter ran off to "
            "zero or infinity): there are too few customers, or too little variety in "
            "how often and how recently they buy"
        )
    return best


def _hessian_at(objective: _Objective, params: np.ndarray) -> np.ndarray:
    """The Hessian of the negative log-likelihood at the optimum (natural scale)."""
    with np.errstate(all="ignore"):  # a singular or overflowing Hessian gives NaN errors
        if objective.gradient:
            return _hessian_from_gradient(objective.value_and_gradient, params)
        return _hessian(objective.negloglik, params)


def _steps(params: np.ndarray) -> np.ndarray:
    return 1e-4 * np.maximum(np.abs(params), 1e-3)


def _hessian_from_gradient(value_and_gradient, params: np.ndarray) -> np.ndarray:
    """Central differences of the analytic gradient: 2k evaluations.

    (Forward differences would save k evaluations, but their O(h) error makes the
    standard errors differ in the fourth digit between machines.)
    """
    h = _steps(params)
    columns = []
    for i in range(len(params)):
        up, down = params.copy(), params.copy()
        up[i] += h[i]
        down[i] -= h[i]
        columns.append((value_and_gradient(up)[1] - value_and_gradient(down)[1]) / (2 * h[i]))
    hess = np.array(columns)
    return (hess + hess.T) / 2


def _hessian(negloglik, params: np.ndarray) -> np.ndarray:
    """Central differences of the negative log-likelihood itself."""
    k = len(params)
    h = _steps(params)
    hess = np.empty((k, k))
    f0 = negloglik(params)
    for i in range(k):
        for j in range(i, k):
            if i == j:
                up, down = params.copy(), params.copy()
                up[i] += h[i]
                down[i] -= h[i]
                hess[i, i] = (negloglik(up) - 2 * f0 + negloglik(down)) / h[i] ** 2
                continue
            corners = []
            for si, sj in ((1, 1), (1, -1), (-1, 1), (-1, -1)):
                point = params.copy()
                point[i] += si * h[i]
                point[j] += sj * h[j]
                corners.append(negloglik(point))
            hess[i, j] = hess[j, i] = (corners[0] - corners[1] - corners[2] + corners[3]) / (
                4 * h[i] * h[j]
            )
    return hess


def _covariance(hessian: np.ndarray) -> np.ndarray:
    """The inverse Hessian; all NaN where it is singular or not finite."""
    try:
        return np.linalg.inv(hessian)
    except (np.linalg.LinAlgError, ValueError):
        return np.full(hessian.shape, np.nan)


def _stderr(cov: np.ndarray, names) -> dict[str, float]:
    """Standard errors: square roots of the covariance's diagonal (NaN where not positive)."""
    diag = np.diag(cov)
    se = np.sqrt(np.where(diag > 0, diag, np.nan))
    return dict(zip(names, se.tolist(), strict=True))


def refuse_unusable(model: ModelParams, predictions: dict[str, np.ndarray]):
    """``model``, or a ModelError when its predictions on its own patterns are not finite.

    A likelihood can have its optimum where the parameters are so large that the
    prediction formulas (a hypergeometric function of huge arguments) give NaN: such
    a fit looks converged but predicts nothing.

    Parameters
    ----------
    model : ModelParams
        The fitted model.
    predictions : dict of str to ndarray
        What it predicts for the customers it was fitted on, by name in words.

    Returns
    -------
    ModelParams
        ``model`` itself, when every prediction is finite.

    Raises
    ------
    ModelError
        If a prediction is NaN or infinite; the message names it and the parameters.

    Examples
    --------
    >>> from clvxl.models.bgnbd import BetaGeoModel
    >>> refuse_unusable(BetaGeoModel(r=2e7, alpha=1.5e8, a=0.5, b=3), {"P(alive)": np.ones(2),
    ...     "expected purchases": np.array([np.nan, 1.0])})
    Traceback (most recent call last):
    ...
    clvxl.errors.ModelError: the BG/NBD model fitted to these customers cannot predict their expected purchases (not a number for 1 of 2 purchase patterns; its parameters r = 2e+07, alpha = 1.5e+08, a = 0.5, b = 3 are at the edge of what the data can pin down): there are too few customers, or too little variety in how often and how recently they buy
    """
    for what, values in predictions.items():
        bad = ~np.isfinite(values)
        if bad.any():
            params = ", ".join(f"{k} = {v:.3g}" for k, v in model.params.items())
            raise ModelError(
                f"the {model.name} model fitted to these customers cannot predict their "
                f"{what} (not a number for {int(bad.sum()):,} of {len(values):,} purchase "
                f"patterns; its parameters {params} are at the edge of what the data can "
                "pin down): there are too few customers, or too little variety in how "
                "often and how recently they buy"
            )
    return model
