"""The fuzzer, briefly, as part of the test suite (``pytest -m fuzz`` runs only these).

* ``test_known_defect_is_fixed[Dnn]``: the minimal reproducer of each defect in
  ``known.py`` must keep every promise. Each open one breaks one, so it is marked
  ``xfail(strict=True)``: when a fix lands the test passes, the strict xfail makes the
  suite red, and its id goes into ``known.FIXED`` (its reproducer then guards the fix).
* ``test_seeded_run_shows_only_known_defects``: a short run from fixed seeds; every
  broken promise must be explained by a defect in ``known.py``, so a new defect (or a
  fix that breaks something else) makes the suite red.
* ``test_valid_logs_keep_every_promise`` and the ``test_checker_*`` tests: the fuzzer
  itself raises no false alarm on valid logs, and its checker does catch what it must
  (an escaped exception, a changed input, a leftover file, a wrong revenue).

The long run is ``python tests/fuzz/run.py --minutes 10 --seed N --out DIR``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

import fuzzlib
import known
import pytest

pytestmark = pytest.mark.fuzz

#: The seeded run: cases from these seeds, the slow attacks (zip bombs) left to run.py.
SEEDED_RUN = fuzzlib.seeded(20240601, 140)
SLOW = ("xl:bomb-diluted", "fz:bomb-diluted")


@pytest.fixture(scope="module")
def runner(tmp_path_factory):
    with fuzzlib.Runner(workdir=tmp_path_factory.mktemp("fuzz")) as r:
        yield r


@pytest.mark.parametrize(
    "defect",
    [
        pytest.param(
            d,
            id=d.id,
            marks=() if d.id in known.FIXED else pytest.mark.xfail(strict=True, reason=f"{d.id}: {d.title}"),
        )
        for d in known.KNOWN
    ],
)
def test_known_defect_is_fixed(runner, defect):
    outcome = runner.run(defect.reproduce())
    assert not outcome.failures, "\n".join(f"{f.key}: {f.detail[:300]}" for f in outcome.failures)


def test_seeded_run_shows_only_known_defects(runner):
    unexplained = []
    explained: dict[str, int] = {}
    for gen, seed in SEEDED_RUN:
        case = fuzzlib.make_case(gen, seed, None, runner.cache)
        if any(label in SLOW for label in case.labels):
            continue
        for failure in runner.run(case).failures:
            defect = known.match(failure)
            if defect is None:
                unexplained.append(f"{case.name} {case.labels}: {failure.key}: {failure.detail[:200]}")
            else:
                explained[defect] = explained.get(defect, 0) + 1
    assert not unexplained, f"{len(unexplained)} failures no known defect explains:\n" + "\n".join(unexplained[:20])
    # That the checker still catches broken promises is test_checker_catches_*'s job: with
    # the known defects fixed, a clean seeded run finds none of them.
    assert set(explained) <= {d.id for d in known.KNOWN if d.id not in known.FIXED}


@pytest.mark.parametrize(
    ("gen", "seed"),
    [("text", s) for s in range(1, 11)] + [("xlsx", s) for s in range(1, 5)] + [("parquet", s) for s in range(1, 5)]
    + [("freeze", 1), ("fit", 1)],
)
def test_valid_logs_keep_every_promise(runner, gen, seed):
    case = fuzzlib.make_case(gen, seed, frozenset(), runner.cache)  # no mutation
    outcome = runner.run(case)
    if case.kind != "fit":  # a random summary may not pin a model down: exit 2 is right then
        assert outcome.result.code == 0, outcome.result.stderr[-500:]
    assert not outcome.failures, "\n".join(f"{f.key}: {f.detail[:300]}" for f in outcome.failures)
    if case.oracle is not None:
        assert case.oracle.customers, "the oracle expects no customers: it checks nothing"


def _case(**changes) -> fuzzlib.Case:
    case = fuzzlib.Case(gen="t", seed=0, kind="recalc", argv=["recalc", "in/log.csv", "-o", "out/c.csv"],
                        files={}, inputs=["in/log.csv"], output="out/c.csv", rejected="out/c.rejected.csv")
    return dataclasses.replace(case, **changes)


def _kinds(case, result, before, after, tmp_path) -> set[str]:
    return {f.kind for f in fuzzlib.check(case, result, before, after, tmp_path, fuzzlib.Limits())}


def test_checker_catches_an_escaped_exception_a_bad_exit_code_and_a_crash(tmp_path):
    snap = {"in/log.csv": "abc"}
    tb = 'Traceback (most recent call last):\n  File "/x/clvxl/sources.py", line 1, in read\n    x()\nValueError: boom\n'
    assert "exception" in _kinds(_case(), fuzzlib.Result(1, "", tb, exception=tb), snap, snap, tmp_path)
    assert {"exit-code", "traceback"} <= _kinds(_case(), fuzzlib.Result(3, "", tb), snap, snap, tmp_path)
    assert "crash" in _kinds(_case(), fuzzlib.Result(None, "", "", signal=11), snap, snap, tmp_path)
    assert "memory" in _kinds(_case(), fuzzlib.Result(None, "", "", killed="memory"), snap, snap, tmp_path)


def test_checker_catches_a_changed_input_and_leftovers(tmp_path):
    before = {"in/log.csv": "abc", "out": fuzzlib.DIR}
    changed = {**before, "in/log.csv": "def"}
    assert "input-changed" in _kinds(_case(), fuzzlib.Result(2, "", ""), before, changed, tmp_path)
    for left in ("out/c.csv", "out/c.rejected.csv", "out/.c.csv.x1.tmp"):
        after = {**before, left: "new"}
        assert "leftover" in _kinds(_case(), fuzzlib.Result(2, "", "clvxl: no"), before, after, tmp_path)


def test_checker_catches_a_wrong_revenue_and_a_bad_row_read(tmp_path):
    header = ",".join(fuzzlib.CUSTOMER_COLUMNS)
    row = "a,2024-01-02,2024-01-02,1,0,0,0,{revenue},{revenue},0,1,1,1,111,Lost,Rest,{revenue},,,,,,"
    (tmp_path / "out").mkdir()
    (tmp_path / "out/c.csv").write_text(header + "\n" + row.format(revenue=140) + "\n")
    expected = fuzzlib.Expected(Decimal(100), 1, dt.date(2024, 1, 2), dt.date(2024, 1, 2), 0)
    oracle = fuzzlib.Oracle({"a": ([expected], ("money:x",))}, set(), {3: ("money:x",)}, {}, True, False)
    before = {"in/log.csv": "abc", "out": fuzzlib.DIR}
    after = {**before, "out/c.csv": "new"}
    result = fuzzlib.Result(0, f"1 customers written\nnote: {fuzzlib.NO_PREDICTION_NOTE}\n", "")
    kinds = _kinds(_case(oracle=oracle), result, before, after, tmp_path)
    assert {"oracle-value", "bad-accepted"} <= kinds
    kinds = _kinds(_case(oracle=oracle), fuzzlib.Result(0, "1 customers written\n", ""), before, after, tmp_path)
    assert "nan" in kinds  # NaN predictions without the note
