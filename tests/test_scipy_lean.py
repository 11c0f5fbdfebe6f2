"""scipy's special functions and L-BFGS-B loaded lean give scipy's results to the last bit."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import scipy
import scipy.special
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import optimize

from clvxl._runtime import scipy_lean
from clvxl.models import bgnbd, gammagamma, paretonbd
from clvxl.models._mle import _BOUND, _Objective, patterns

OPTIONS = {"maxiter": 5000, "ftol": 1e-12, "gtol": 1e-10}


def scipys(fun, x0, jac, bounds, **options):
    return optimize.minimize(fun, x0, method="L-BFGS-B", jac=jac, bounds=bounds, options=options)


def assert_same(fun, x0, jac, bounds, **options):
    theirs = scipys(fun, x0, jac, bounds, **options)
    ours = scipy_lean.minimize_lbfgsb(fun, x0, jac, bounds, **options)
    assert ours.x.tobytes() == theirs.x.tobytes()
    assert ours.fun == theirs.fun
    assert ours.jac.tobytes() == np.asarray(theirs.jac, dtype=float).tobytes()
    assert ours.success == theirs.success
    return ours


def test_the_lean_path_is_taken_on_the_verified_scipy():
    assert scipy.__version__.startswith(scipy_lean.VERIFIED)
    assert scipy_lean.LEAN


def test_the_special_functions_are_scipys_own_objects():
    for name in ("betaln", "expit", "gammaln", "hyp2f1", "ndtri", "digamma"):
        assert getattr(scipy_lean, name) is getattr(scipy.special, name), name


def rosenbrock(x):
    return float(100 * (x[1] - x[0] ** 2) ** 2 + (1 - x[0]) ** 2)


def rosenbrock_and_gradient(x):
    gradient = np.array(
        [-400 * x[0] * (x[1] - x[0] ** 2) - 2 * (1 - x[0]), 200 * (x[1] - x[0] ** 2)]
    )
    return rosenbrock(x), gradient


def outside(x):
    """A bowl whose bottom, (3, -3), is outside the box [-1, 1]²."""
    return float((x[0] - 3) ** 2 + (x[1] + 3) ** 2)


BOX = [(-_BOUND, _BOUND)] * 2
SMALL_BOX = [(-1.0, 1.0)] * 2


@pytest.mark.parametrize(
    ("fun", "jac", "x0", "bounds", "options"),
    [
        (rosenbrock_and_gradient, True, [-1.2, 1.0], BOX, OPTIONS),
        (rosenbrock, False, [-1.2, 1.0], BOX, OPTIONS),
        # the optimum outside the box: ends on the bounds, where differences step back
        (outside, False, [0.0, 0.0], SMALL_BOX, OPTIONS),
        (outside, False, [1.0, -1.0], SMALL_BOX, OPTIONS),
        # a start outside the box is moved into it
        (rosenbrock_and_gradient, True, [30.0, -25.0], BOX, OPTIONS),
        # stopped by the iteration limit: not a success
        (rosenbrock_and_gradient, True, [-1.2, 1.0], BOX, {**OPTIONS, "maxiter": 3}),
    ],
)
def test_minimize_lbfgsb_is_scipys_step_for_step(fun, jac, x0, bounds, options):
    result = assert_same(fun, np.array(x0), jac, bounds, **options)
    assert result.success is (options["maxiter"] > 3)


def test_the_iteration_limit_and_the_bound_are_what_the_cases_reach():
    stopped = scipy_lean.minimize_lbfgsb(
        rosenbrock_and_gradient, np.array([-1.2, 1.0]), True, BOX, 3, 1e-12, 1e-10
    )
    assert not stopped.success
    on_bound = scipy_lean.minimize_lbfgsb(
        outside, np.zeros(2), False, SMALL_BOX, 5000, 1e-12, 1e-10
    )
    assert on_bound.x.tolist() == [1.0, -1.0]


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.floats(-3, 3), min_size=3, max_size=3),
    st.lists(st.floats(0.1, 5), min_size=3, max_size=3),
    st.booleans(),
)
def test_any_smooth_bowl_is_minimised_as_scipy_does(start, widths, jac):
    centre, scale = np.array([0.5, -1.0, 2.0]), np.array(widths)

    def bowl(x):
        d = (x - centre) / scale
        value = float(np.sum(d**2) + 0.1 * np.sum(d**4))
        return (value, (2 * d + 0.4 * d**3) / scale) if jac else value

    assert_same(bowl, np.array(start), jac, [(-_BOUND, _BOUND)] * 3, **OPTIONS)


@pytest.fixture(scope="module")
def cdnow(reference_data):
    table = pd.read_csv(reference_data / "cdnow_customers_summary_with_transactions.csv")
    return {"x": table["x"].to_numpy(float), "t_x": table["t_x"].to_numpy(float),
            "T": table["T"].to_numpy(float), "zbar": table["zbar"].to_numpy(float)}  # fmt: skip


def test_the_cdnow_likelihoods_are_minimised_as_scipy_does(cdnow):
    """The fits' own objectives (BG/NBD with its gradient, Pareto/NBD by differences,
    Gamma-Gamma) on the CDNOW summary, from the fits' starting points and from 1s."""
    cols, w = patterns({k: cdnow[k] for k in ("x", "t_x", "T")})
    repeat = cdnow["x"] > 0
    objectives = _objectives(cols, w, cdnow["x"][repeat], cdnow["zbar"][repeat])
    assert [o.gradient for o, _ in objectives] == [True, False, True]
    for objective, start in objectives:
        for guess in (start, np.zeros(len(start))):
            assert_same(
                objective, guess, objective.gradient, [(-_BOUND, _BOUND)] * len(start), **OPTIONS
            )


class _Captured(Exception):
    pass


def _objectives(cols, w, x, zbar):
    """The scaled objectives ``fit_mle`` minimises, as the fits build them."""
    found = []

    def record(negloglik, names, start, model, value_and_gradient=None, standard_errors=True):
        start = np.asarray(start, dtype=float)
        found.append((_Objective(negloglik, value_and_gradient, start), np.log(start)))
        raise _Captured

    import clvxl.models._mle as mle

    for fit, args in (
        (bgnbd.fit, (cols["x"], cols["t_x"], cols["T"], w)),
        (paretonbd.fit, (cols["x"], cols["t_x"], cols["T"], w)),
        (gammagamma.fit, (x, zbar)),
    ):
        with pytest.MonkeyPatch.context() as patch:
            for module in (mle, bgnbd, paretonbd, gammagamma):
                if hasattr(module, "fit_mle"):
                    patch.setattr(module, "fit_mle", record)
            with pytest.raises(_Captured):
                fit(*args)
    return found


LEAN_THEN_FULL = """
import json, sys
import clvxl.models.bgnbd, clvxl.models.paretonbd, clvxl.predict
lean = sorted(m for m in ("scipy.special", "scipy.optimize", "scipy.linalg") if m in sys.modules)
from clvxl._runtime import scipy_lean
import scipy.optimize, scipy.special, scipy.stats
from scipy.stats import mstats
print(json.dumps({
    "lean": lean,
    "same": scipy.special.gammaln is scipy_lean.gammaln,
    "bound": [scipy.special._ufuncs is sys.modules["scipy.special._ufuncs"],
              scipy.optimize._lbfgsb is sys.modules["scipy.optimize._lbfgsb"]],
    "ttest": float(mstats.ttest_1samp([1.0, 2.0, 4.0], 0.0).pvalue),
    "fit": scipy.optimize.minimize(lambda x: (x[0] - 3) ** 2, [0.0], method="L-BFGS-B").x[0],
}))
"""


def test_a_fresh_process_loads_no_scipy_package_and_scipy_still_works_after():
    """The fits load neither package; a later import of both (and of scipy.stats,
    whose mstats reads ``special._ufuncs`` as an attribute) works as ever."""
    done = subprocess.run(
        [sys.executable, "-c", LEAN_THEN_FULL], capture_output=True, text=True, check=True
    )
    out = json.loads(done.stdout)
    assert out["lean"] == []
    assert out["same"] is True
    assert out["bound"] == [True, True]
    assert out["ttest"] == pytest.approx(0.11808, abs=1e-5)  # t = sqrt(7) on 2 df
    assert out["fit"] == pytest.approx(3.0, abs=1e-6)


def test_an_unverified_scipy_is_called_through_its_public_minimize(monkeypatch):
    monkeypatch.setattr(scipy_lean, "LEAN", False)
    result = assert_same(rosenbrock_and_gradient, np.array([-1.2, 1.0]), True, BOX, **OPTIONS)
    assert result.success and np.allclose(result.x, [1.0, 1.0], atol=1e-6)
