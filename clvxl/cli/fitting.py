"""What ``clvxl fit`` runs: a model fitted to a summary, a log, or a survival table.

Every input is checked before the fit (numbers by row and column, weights), and a fit
that did not settle where the data pin it down is refused rather than printed.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from clvxl.errors import InputError, ModelError
from clvxl.models import model_info
from clvxl.sources import RawLog, read_log

__all__ = ["fit_model"]

_ALIASES = {
    "frequency": ("frequency", "x"),
    "recency": ("recency", "t_x"),
    "T": ("T",),
    "monetary": ("monetary", "zbar", "monetary_value"),
    "weights": ("weights", "count"),
    "periods": ("periods", "n"),
}


def _column(log: RawLog, role: str, required: bool = True) -> np.ndarray | None:
    """The column for ``role`` as numbers, or an InputError naming the rows that are not."""
    table = log.table
    for name in _ALIASES[role]:
        if name in table.columns:
            return _numbers(log, name)
    if required:
        raise InputError(
            f"the input has no {role} column (accepted: {', '.join(_ALIASES[role])}); "
            f"its columns are {', '.join(map(str, table.columns))}"
        )
    return None


def _numbers(log: RawLog, name: str) -> np.ndarray:
    """One column as finite numbers; text, blanks, NaN and infinities are named by row."""
    values = _floats(log.table[name])
    bad = np.flatnonzero(~np.isfinite(values))
    if len(bad):
        rows = log.row_numbers(bad[:5])
        shown = ", ".join(
            f"row {r}: {log.table[name].iloc[i]!r}" for r, i in zip(rows, bad[:5], strict=True)
        )
        more = f" and {len(bad) - 5:,} more" if len(bad) > 5 else ""
        raise InputError(
            f"{log.source}, column {name!r}: expected a finite number in every row; {shown}{more}"
        )
    return values


def _floats(column: pd.Series) -> np.ndarray:
    """The column's numbers, NaN where a cell is not one (named by row by the caller).

    Numbers already, and text that is all plain numbers, skip the trip through Python
    objects (0.02-0.03 s a column of 100,000 rows): Arrow's parse gives the floats
    ``pd.to_numeric`` gives (both round correctly; only the sign of a ``-0`` may differ,
    which no fit sees). Text with anything else (blanks around a number, a decimal comma, words) goes
    through ``pd.to_numeric``, which reads what it can and leaves the rest NaN.
    """
    if isinstance(column.dtype, np.dtype) and column.dtype.kind in "fiu":
        return column.to_numpy(dtype=float)
    if isinstance(column.dtype, pd.StringDtype) and column.dtype.storage == "pyarrow":
        import pyarrow as pa
        import pyarrow.compute as pc

        try:
            return pc.cast(pa.array(column), pa.float64()).to_numpy(zero_copy_only=False)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            pass
    return pd.to_numeric(column.astype(object), errors="coerce").to_numpy(dtype=float)


def _weights(log: RawLog) -> np.ndarray | None:
    weights = _column(log, "weights", required=False)
    if weights is not None and (weights < 0).any():
        row = log.row_numbers(np.flatnonzero(weights < 0)[:1])[0]
        raise InputError(
            f"{log.source}: weights must be 0 or more; row {row} has {weights[weights < 0][0]:g}"
        )
    if weights is not None and not weights.sum() > 0:
        raise InputError(
            f"{log.source}: the weights add up to 0, so there are no customers to fit; a weight "
            "is the number of customers with the row's values"
        )
    return weights


#: BG/BB sums over every opportunity after a customer's last transaction, for each distinct
#: pattern: this many terms (80 MB) at most.
MAX_BGBB_TERMS = 10_000_000


def _check_opportunities(log: RawLog, x: np.ndarray, t_x: np.ndarray, n: np.ndarray) -> None:
    """BG/BB counts opportunities: whole numbers, and not so many that the sum over them
    cannot be held (periods of 1e300 made the fit take all the memory there is)."""
    for values, role in ((x, "frequency"), (t_x, "recency"), (n, "periods")):
        odd = np.flatnonzero(values != np.floor(values))
        if len(odd):
            row = log.row_numbers(odd[:1])[0]
            raise InputError(
                f"{log.source}: BG/BB counts {role} in whole opportunities; row {row} has "
                f"{values[odd[0]]:g}"
            )
    gaps = float(np.max(n - t_x, initial=0)) + 1
    after = f"{gaps - 1:,.0f}" if gaps < 1e15 else f"{gaps - 1:.3g}"
    distinct = len(pd.DataFrame({"x": x, "t_x": t_x, "n": n}).drop_duplicates())
    if gaps * distinct > MAX_BGBB_TERMS:
        raise InputError(
            f"{log.source}: BG/BB would sum over {after} opportunities after the last "
            f"transaction for each of {distinct:,} distinct rows, more than clvxl computes "
            f"({MAX_BGBB_TERMS:,} terms); periods count opportunities to buy (years, "
            "campaigns), usually a few dozen"
        )


def _summary_or_log(path: Path, unit: str, as_of: str | None) -> tuple[RawLog, str]:
    raw = read_log(path)
    if any(name in raw.table.columns for name in _ALIASES["frequency"]):
        return raw, unit
    # A log only: cleaning and the summary engine (DuckDB) are not loaded for a summary.
    from clvxl.clean import clean_transactions
    from clvxl.summary import EngineLog, summarize

    summary = summarize(EngineLog.from_clean(clean_transactions(raw).table), as_of, unit)
    return RawLog.from_frame(summary.table, f"the summary of {raw.source}"), summary.unit.value


def fit_model(
    model: str, path: Path, column: str | None = None, unit: str = "weeks", as_of: str | None = None
):
    """Fit ``model`` to the data in ``path`` and return the fitted value.

    Parameters
    ----------
    model : str
        A name of :data:`clvxl.models.REGISTRY`.
    path : Path
        A per-customer summary, a transaction log, a BG/BB table or a survival table.
    column : str, optional
        sBG: the survival table's column.
    unit : str
        The time unit when ``path`` is a transaction log.
    as_of : str, optional
        The end of the calibration period for a transaction log.

    Returns
    -------
    ModelParams
        The fitted model (a frozen dataclass of :mod:`clvxl.models`).

    Raises
    ------
    InputError
        A column that is missing or holds something other than finite numbers (naming
        the rows), weights that add up to 0.
    ModelError
        The model cannot be fitted, or the fit did not settle where the data pin it down
        (a standard error that cannot be computed).
    """
    if model == "sbg":
        from clvxl.models import sbg

        log = read_log(path)
        if column is None or column not in log.table.columns:
            raise InputError(
                f"give the survival column with --column (one of {', '.join(map(str, log.table.columns))})"
            )
        return _settled(sbg.fit(_numbers(log, column)))
    if model == "bgbb":
        from clvxl.models import bgbb

        log = read_log(path)
        columns = [_column(log, role) for role in ("frequency", "recency", "periods")]
        _check_opportunities(log, *columns)
        return _settled(bgbb.fit(*columns, _weights(log)))
    log, unit = _summary_or_log(path, unit, as_of)
    weights = _weights(log)
    if model == "gammagamma":
        from clvxl.models import gammagamma

        return _settled(
            gammagamma.fit(_column(log, "frequency"), _column(log, "monetary"), weights)
        )
    return _settled(
        model_info(model, "purchase").module.fit(
            _column(log, "frequency"),
            _column(log, "recency"),
            _column(log, "T"),
            weights,
            time_unit=unit,
        )
    )


def _settled(fitted):
    """The fit, if its standard errors and log-likelihood are numbers; else a ModelError.

    A fit whose Hessian is singular or overflows has not found an optimum the data pin
    down (absurd frequencies leave the starting values in place with NaN errors), and
    its parameters must not be shown as estimates.
    """
    unknown = [name for name, se in fitted.stderr.items() if not np.isfinite(se)]
    if unknown or not np.isfinite(fitted.loglik):
        values = ", ".join(f"{k}={v:.4g}" for k, v in fitted.params.items())
        raise ModelError(
            f"the {fitted.name} fit did not settle where the data pin it down ({values}; the "
            f"standard error of {', '.join(unknown) or 'the log-likelihood'} cannot be computed): "
            "check that frequency, recency and T are counts and times in one unit, of sizes "
            "customers can have"
        )
    return fitted
