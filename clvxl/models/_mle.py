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

import numpy as np
import pandas as pd
from scipy import optimize

from clvxl.errors import InputError, ModelError

__all__ = ["Fit", "as_column", "fit_mle", "patterns"]


@dataclass(frozen=True)
class Fit:
    """The result of :func:`fit_mle`: parameters, standard errors, log-likelihood."""

    params: dict[str, float]
    stderr: dict[str, float]
    loglik: float


def as_column(values, name: str) -> np.ndarray:
    """A 1-d float array with only finite values, or an InputError naming ``name``."""
    try:
        x = np.asarray(values, dtype=float).ravel()
    except (TypeError, ValueError):
        raise InputError(f"{name} must be numbers") from None
    if not np.isfinite(x).all():
        raise InputError(f"{name} must be finite numbers (found NaN or infinity)")
    return x


def patterns(
    columns: dict[str, np.ndarray], weights=None
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Distinct rows of ``columns`` and how many customers (or how much weight) each has.

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
    frame = pd.DataFrame(columns)
    frame["_w"] = w
    grouped = frame.groupby(list(columns), sort=True, as_index=False)["_w"].sum()
    return {k: grouped[k].to_numpy(dtype=float) for k in columns}, grouped["_w"].to_numpy(
        dtype=float
    )


def fit_mle(
    negloglik: Callable[[np.ndarray], float],
    names: tuple[str, ...],
    start: np.ndarray,
    model: str,
    gradient: Callable[[np.ndarray], np.ndarray] | None = None,
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
    gradient : callable, optional
        Gradient of ``negloglik`` with respect to the natural parameters. Without
        it, quasi-Newton steps use finite differences and a Nelder-Mead polish
        follows.
    """

    def objective(log_params: np.ndarray):
        params = np.exp(log_params)
        value = negloglik(params)
        if gradient is None:
            return value if np.isfinite(value) else 1e300
        grad = gradient(params) * params  # chain rule to the log scale
        if not (np.isfinite(value) and np.isfinite(grad).all()):
            return 1e300, np.zeros(len(params))
        return value, grad

    best = None
    for guess in (np.log(start), np.zeros(len(names))):
        result = optimize.minimize(
            objective,
            guess,
            method="L-BFGS-B",
            jac=gradient is not None,
            bounds=[(-20.0, 20.0)] * len(names),
            options={"maxiter": 5000, "ftol": 1e-15, "gtol": 1e-10},
        )
        if best is None or result.fun < best.fun:
            best = result
        if result.success and np.all(np.abs(result.x) < 19.0):
            break
    if best is None or not np.isfinite(best.fun) or best.fun >= 1e300:
        raise ModelError(f"the {model} model could not be fitted to these customers")
    if gradient is None:
        # Polish with Nelder-Mead from the optimum: robust and cheap on few parameters.
        polish = optimize.minimize(
            objective,
            best.x,
            method="Nelder-Mead",
            options={"xatol": 1e-10, "fatol": 1e-12, "maxiter": 4000},
        )
        if polish.fun < best.fun:
            best = polish
    if np.any(np.abs(best.x) >= 19.0):
        raise ModelError(
            f"the data cannot pin down the {model} model (a parameter ran off to "
            "zero or infinity): there are too few customers, or too little variety in "
            "how often and how recently they buy"
        )
    params = np.exp(best.x)
    return Fit(
        dict(zip(names, params.tolist(), strict=True)),
        _stderr(negloglik, params, names),
        -float(best.fun),
    )


def _stderr(
    negloglik: Callable[[np.ndarray], float], params: np.ndarray, names
) -> dict[str, float]:
    """Standard errors from a central-difference Hessian on the natural scale."""
    k = len(params)
    h = 1e-4 * np.maximum(np.abs(params), 1e-3)
    hess = np.empty((k, k))
    f0 = negloglik(params)
    for i in range(k):
        for j in range(i, k):
            if i == j:
                up, down = params.copy(), params.copy()
                up[i] += h[i]
                down[i] -= h[i]
                hess[i, i] = (negloglik(up) - 2 * f0 + negloglik(down)) / h[i] ** 2
            else:
                pp, pm, mp, mm = (params.copy() for _ in range(4))
                pp[i] += h[i]
                pp[j] += h[j]
                pm[i] += h[i]
                pm[j] -= h[j]
                mp[i] -= h[i]
                mp[j] += h[j]
                mm[i] -= h[i]
                mm[j] -= h[j]
                hess[i, j] = hess[j, i] = (
                    negloglik(pp) - negloglik(pm) - negloglik(mp) + negloglik(mm)
                ) / (4 * h[i] * h[j])
    try:
        cov = np.linalg.inv(hess)
        se = np.sqrt(np.where(np.diag(cov) > 0, np.diag(cov), np.nan))
    except np.linalg.LinAlgError:
        se = np.full(k, np.nan)
    return dict(zip(names, se.tolist(), strict=True))
