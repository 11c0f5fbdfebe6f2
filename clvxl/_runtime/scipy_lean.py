"""scipy's special functions and L-BFGS-B without the start-up of its packages.

The fits use six special functions and L-BFGS-B. Importing ``scipy.special`` and
``scipy.optimize`` loads linalg, sparse, fft, linprog, the array-API layer and the
docstrings of every public function besides: about 0.25 s of every process that fits a
model, while the compiled modules that do the work load in 20 ms. This module loads
those alone and drives them as ``scipy.optimize.minimize`` does, step for step, so every
result is the same to the last bit (``tests/test_scipy_lean.py`` proves it).

How: the compiled modules ``scipy.special._ufuncs`` and ``scipy.optimize._lbfgsb`` are
imported under stand-ins for their two packages, which are then taken out of
``sys.modules`` again. The modules stay loaded (compiled modules load once per process),
so a later ``import scipy.special`` or ``scipy.optimize`` anywhere in the process runs
the packages for real, finds them there and gets the same objects;
:class:`_BindLoaded` makes them attributes of their package, as a plain import would.

The driver (:func:`minimize_lbfgsb`) follows scipy's private calling convention of
``setulb``, verified for the releases in :data:`VERIFIED`; on any other scipy (or if the
loading fails) every call goes to ``scipy.optimize.minimize`` itself.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import os
import sys
import types
from dataclasses import dataclass

import numpy as np

__all__ = [
    "LEAN",
    "LbfgsbResult",
    "betaln",
    "digamma",
    "expit",
    "gammaln",
    "hyp2f1",
    "minimize_lbfgsb",
    "ndtri",
]

#: scipy releases whose ``_lbfgsb.setulb`` convention :func:`minimize_lbfgsb` follows.
VERIFIED = ("1.17.",)

_PACKAGES = ("scipy.special", "scipy.optimize")


class _BindLoaded(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """When a package whose submodules were loaded lean is imported for real, those
    submodules become its attributes before its ``__init__`` runs (a plain import binds
    a submodule to its package; the stand-in got them instead)."""

    def __init__(self, children: dict[str, list[str]]) -> None:
        self.children = children
        self.loaders: dict[str, importlib.abc.Loader] = {}

    def find_spec(self, name, path=None, target=None):
        if name not in self.children:
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is not None:
            self.loaders[name], spec.loader = spec.loader, self
        return spec

    def create_module(self, spec):
        return self.loaders[spec.name].create_module(spec)

    def exec_module(self, module) -> None:
        name = module.__spec__.name
        module.__loader__ = module.__spec__.loader = loader = self.loaders.pop(name)
        for child in self.children.pop(name):
            setattr(module, child.rpartition(".")[2], sys.modules[child])
        if not self.children:
            sys.meta_path.remove(self)
        loader.exec_module(module)


def _load_lean() -> tuple[types.ModuleType, types.ModuleType, str]:
    """``scipy.special._ufuncs``, ``scipy.optimize._lbfgsb`` and scipy's version."""
    import scipy  # the package itself is light: numpy and its configuration

    if all(name in sys.modules for name in _PACKAGES):
        from scipy.optimize import _lbfgsb
        from scipy.special import _ufuncs

        return _ufuncs, _lbfgsb, scipy.__version__
    before = set(sys.modules)
    stand_ins = {}
    for name in _PACKAGES:
        if name not in sys.modules:
            stand_in = types.ModuleType(name)
            stand_in.__path__ = [os.path.join(*scipy.__path__[:1], name.partition(".")[2])]
            sys.modules[name] = stand_ins[name] = stand_in
    try:
        ufuncs = importlib.import_module("scipy.special._ufuncs")
        lbfgsb = importlib.import_module("scipy.optimize._lbfgsb")
    finally:  # whatever loaded, bound to its package when that is imported for real
        for name, stand_in in stand_ins.items():
            if sys.modules.get(name) is stand_in:
                del sys.modules[name]
        loaded = set(sys.modules) - before
        children = {
            name: sorted(m for m in loaded if m.rpartition(".")[0] == name) for name in stand_ins
        }
        sys.meta_path.insert(0, _BindLoaded(children))
    return ufuncs, lbfgsb, scipy.__version__


try:
    _ufuncs, _lbfgsb, _version = _load_lean()
    LEAN = _version.startswith(VERIFIED)
except (ImportError, AttributeError, OSError):  # laid out otherwise: the public modules
    LEAN = False
if not LEAN:
    from scipy import special as _ufuncs

#: The special functions, the very objects ``scipy.special`` exports.
betaln, expit, gammaln, hyp2f1, ndtri = (
    _ufuncs.betaln,
    _ufuncs.expit,
    _ufuncs.gammaln,
    _ufuncs.hyp2f1,
    _ufuncs.ndtri,
)
digamma = _ufuncs.psi


@dataclass(frozen=True)
class LbfgsbResult:
    """What the fits read of ``scipy.optimize.minimize``'s result, the same fields."""

    x: np.ndarray
    fun: float
    jac: np.ndarray
    success: bool


def minimize_lbfgsb(
    fun,
    x0: np.ndarray,
    jac: bool,
    bounds: list[tuple[float, float]],
    maxiter: int,
    ftol: float,
    gtol: float,
) -> LbfgsbResult:
    """``scipy.optimize.minimize(fun, x0, method="L-BFGS-B", jac=jac, bounds=bounds,
    options={"maxiter": maxiter, "ftol": ftol, "gtol": gtol})``, to the last bit.

    ``fun`` returns the value and the gradient when ``jac`` is true, the value alone
    otherwise (the gradient then by forward differences, scipy's absolute step 1e-8).
    Every bound must be finite.
    """
    if not LEAN:
        from scipy import optimize

        options = {"maxiter": maxiter, "ftol": ftol, "gtol": gtol}
        r = optimize.minimize(fun, x0, method="L-BFGS-B", jac=jac, bounds=bounds, options=options)
        return LbfgsbResult(r.x, r.fun, r.jac, bool(r.success))
    return _Lbfgsb(fun, jac, bounds).run(x0, maxiter, ftol / np.finfo(float).eps, gtol)


class _Lbfgsb:
    """scipy 1.17's ``_minimize_lbfgsb`` with its ``ScalarFunction`` memo: the default
    ``maxcor`` 10, ``maxls`` 20, ``maxfun`` 15000, ``eps`` 1e-8, no callback."""

    MAXCOR, MAXLS, MAXFUN, EPS = 10, 20, 15000, 1e-8

    def __init__(self, fun, jac: bool, bounds) -> None:
        self.fun, self.jac = fun, jac
        box = np.array(bounds, dtype=float).reshape(-1, 2)
        self.low, self.high = box[:, 0].copy(), box[:, 1].copy()
        if not (np.isfinite(self.low).all() and np.isfinite(self.high).all()):
            raise ValueError("minimize_lbfgsb needs finite bounds on every parameter")
        self.nfev = 0

    def value(self, x: np.ndarray):
        result = self.fun(np.copy(x))
        self.nfev += 1
        if self.jac:
            self.memo = result[1]
            result = result[0]
        return result if np.isscalar(result) else np.asarray(result).item()

    def gradient(self, x: np.ndarray, f: float) -> np.ndarray:
        if self.jac:
            return np.atleast_1d(self.memo)
        # approx_derivative(method="2-point", abs_step=EPS, bounds=...), step by step
        sign = (x >= 0).astype(float) * 2 - 1
        step = np.where(
            (x + self.EPS) - x == 0, 2**-26 * sign * np.maximum(1.0, np.abs(x)), self.EPS
        )
        step = _one_sided_in_bounds(x, step, self.low, self.high)
        f0 = np.atleast_1d(f)
        grad = np.empty(len(x))
        for i in range(len(x)):
            moved = np.copy(x)
            moved[i] = x[i] + step[i]
            grad[i] = ((np.atleast_1d(self.value(moved)) - f0) / ((x[i] + step[i]) - x[i]))[0]
        return grad

    def run(self, x0: np.ndarray, maxiter: int, factr: float, pgtol: float) -> LbfgsbResult:
        n, m = len(x0), self.MAXCOR
        x = np.clip(np.asarray(x0, dtype=float).ravel(), self.low, self.high)
        at = x.astype(np.float64)  # ScalarFunction's copy of the point it evaluated
        f = self.value(at)
        g = self.gradient(at, f)
        nbd = np.full(n, 2, dtype=np.int32)  # every parameter bounded on both sides
        fx, wa = np.array(0.0), np.zeros(2 * m * n + 5 * n + 11 * m * m + 8 * m)
        iwa, task, ln_task = (np.zeros(k, dtype=np.int32) for k in (3 * n, 2, 2))
        lsave, isave, dsave = np.zeros(4, np.int32), np.zeros(44, np.int32), np.zeros(29)
        xs, gs, iterations = np.array(x, dtype=np.float64), np.zeros(n), 0
        while True:
            gs = gs.astype(np.float64)
            _lbfgsb.setulb(
                m, xs, self.low, self.high, nbd, fx, gs, factr, pgtol, wa, iwa, task,
                lsave, isave, dsave, self.MAXLS, ln_task,
            )  # fmt: skip
            if task[0] == 3:  # wants f and g at xs
                if not np.array_equal(xs, at):
                    at = xs.astype(np.float64)
                    f = self.value(at)
                    g = self.gradient(at, f)
                fx, gs = f, g
            elif task[0] == 1:  # a new iteration
                iterations += 1
                if iterations >= maxiter:
                    task[0], task[1] = 5, 504
                elif self.nfev > self.MAXFUN:
                    task[0], task[1] = 5, 502
            else:
                break
        return LbfgsbResult(xs, fx, gs, bool(task[0] == 4))


def _one_sided_in_bounds(x, step, low, high) -> np.ndarray:
    """scipy's ``_adjust_scheme_to_bounds`` for one forward step: a step that would
    leave the box goes the other way if it fits there, else to the farther bound."""
    step = step.copy()
    below, above = x - low, high - x
    leaves = ((x + step) < low) | ((x + step) > high)
    fits = np.abs(step) <= np.maximum(below, above)
    step[leaves & fits] *= -1
    forward = (above >= below) & ~fits
    step[forward] = above[forward]
    backward = (above < below) & ~fits
    step[backward] = -below[backward]
    return step
