"""Per-customer summary: the recency/frequency/monetary table every model starts from.

The summary is one SQL query (:data:`SUMMARY_SQL`) run by embedded DuckDB on the clean
transactions. It uses only integer day numbers and standard aggregates, so the same
text runs on other SQL engines. Definitions follow the BG/NBD and Gamma-Gamma papers
(Fader, Hardie & Lee 2005a, 2005b):

* an *order* is the lines sharing an order id (each line is an order when the log has
  no order id); a *purchase* is an order adding up to zero or more (a free order is a
  purchase occasion, as in the CDNOW data of the papers), a *refund* one adding up to
  less than zero (it lowers revenue and is not a purchase);
* a *purchase day* is a day with at least one purchase; the models count days, so two
  orders on one day are one transaction of their summed value;
* ``frequency`` *x* = purchase days − 1 (repeat purchases), ``recency`` *t_x* = first
  to last purchase day, ``T`` = first purchase day to the as-of date, both in the
  summary's :class:`~clvxl.units.TimeUnit`;
* ``monetary`` *z̄* = mean value of the repeat purchase days (0 when *x* = 0);
* ``revenue`` = all amounts up to the as-of date, refunds included; ``aov`` =
  revenue / orders.

Transactions after the as-of date are not used (see :func:`calibration_holdout`
for a holdout period).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from clvxl._runtime.arrow import all_distinct, one_array, text_array
from clvxl._runtime.memory import release_memory
from clvxl.clean.dates import DAY_ZERO, day_numbers
from clvxl.errors import InputError, NoDataError
from clvxl.summary.spark import DEFAULT_MASTER
from clvxl.summary.sql import ENGINES, HOLDOUT_SQL, LINES_SQL, ORDERS_SQL, SUMMARY_SQL
from clvxl.units import TimeUnit, parse_unit

__all__ = [
    "SUMMARY_COLUMNS",
    "CustomerSummary",
    "EngineLog",
    "calibration_holdout",
    "summarize",
]

SUMMARY_COLUMNS = [
    "customer_id",
    "first_purchase",
    "last_purchase",
    "orders",
    "frequency",
    "recency",
    "T",
    "revenue",
    "aov",
    "monetary",
]


@dataclass(frozen=True)
class CustomerSummary:
    """One row per customer with a purchase, in an explicit time unit.

    Attributes
    ----------
    table : DataFrame
        Columns :data:`SUMMARY_COLUMNS` (plus ``cost`` and ``margin`` when the log has
        costs), sorted by ``customer_id``.
    unit : TimeUnit
        The unit of ``recency`` and ``T``.
    as_of : Timestamp
        The date the summary describes (transactions after it are not used).
    notes : tuple of str
        What was left out and why, in words (refund-only customers, later dates).
    """

    table: pd.DataFrame
    unit: TimeUnit
    as_of: pd.Timestamp
    notes: tuple[str, ...] = field(default=())


def _day(date: pd.Timestamp) -> int:
    return int(day_numbers(np.array([date.to_datetime64()]))[0])


@dataclass(frozen=True)
class EngineLog:
    """Clean transactions as the summary query takes them, prepared once.

    Attributes
    ----------
    tx : pyarrow.Table
        ``customer_id`` and ``order_key`` as integer codes (``order_key`` NULL when
        every line is its own order), ``day`` (days since
        1970-01-01), ``amount``, ``cost``.
    ids : pyarrow.Array
        The customer id of each code.
    id_rank : ndarray
        The position of each code's id in id order (tables come out sorted by id).
    one_line_orders : bool
        Every line is its own order (no order id, or no order id repeats).
    has_cost : bool
        The log has a cost column.
    engine : {"duckdb", "spark"}
        What runs the queries: embedded DuckDB, or Spark at ``spark_master``
        (:mod:`clvxl.spark`). Both run the same SQL text and give the same summary.
    line_part : ndarray or None
        The part of each line (its customer code modulo the number of parts, one part
        per :data:`PART_ROWS` lines), worked out once so that each part's DuckDB query
        reads only its own lines; None for a log of one part.
    """

    tx: pa.Table
    ids: pa.Array
    id_rank: np.ndarray
    one_line_orders: bool
    has_cost: bool
    engine: str = "duckdb"
    spark_master: str = DEFAULT_MASTER
    line_part: np.ndarray | None = None

    @classmethod
    def from_transactions(
        cls, transactions: pd.DataFrame, engine: str = "duckdb", spark_master: str = DEFAULT_MASTER
    ) -> EngineLog:
        """Encode clean transactions given as a DataFrame (``CleanLog.transactions``)."""
        if len(transactions) == 0:
            raise NoDataError("there are no transactions to summarise")
        columns = {"customer_id": pc.dictionary_encode(text_array(transactions["customer_id"]))}
        if "order_id" in transactions:
            columns["order_id"] = pc.dictionary_encode(text_array(transactions["order_id"]))
        columns["day"] = pa.array(day_numbers(transactions["date"]))
        columns["amount"] = pa.array(transactions["amount"].to_numpy(dtype=float))
        if "cost" in transactions:
            columns["cost"] = pa.array(transactions["cost"].to_numpy(dtype=float), from_pandas=True)
        return cls.from_clean(pa.table(columns), engine, spark_master)

    @classmethod
    def from_clean(
        cls, table: pa.Table, engine: str = "duckdb", spark_master: str = DEFAULT_MASTER
    ) -> EngineLog:
        """From the compact clean table (:attr:`clvxl.transactions.CleanLog.table`).

        Its dictionary codes are the integer codes: nothing is encoded again.
        """
        if engine not in ENGINES:
            raise InputError(f"the engine must be one of {', '.join(ENGINES)}, got {engine!r}")
        n = table.num_rows
        if n == 0:
            raise NoDataError("there are no transactions to summarise")
        customers = one_array(table.column("customer_id"))
        one_line = "order_id" not in table.column_names
        if not one_line:
            orders = one_array(table.column("order_id"))
            one_line = all_distinct(orders)
        # Only orders of several lines need their key: otherwise NULLs, which have no buffer.
        order_key = pa.nulls(n, pa.int32()) if one_line else orders.indices
        has_cost = "cost" in table.column_names
        tx = pa.table(
            {
                "customer_id": customers.indices,
                "order_key": order_key,
                "day": table.column("day"),
                "amount": table.column("amount"),
                "cost": table.column("cost") if has_cost else pa.nulls(n),  # no cost: no buffer
            }
        )
        ids = customers.dictionary
        rank = np.empty(len(ids), dtype=np.int32)
        rank[pc.array_sort_indices(ids).to_numpy()] = np.arange(len(ids), dtype=np.int32)
        line_part = _line_parts(customers.indices)
        return cls(tx, ids, rank, one_line, has_cost, engine, spark_master, line_part)

    def of_customers(self, keep: np.ndarray) -> EngineLog:
        """The lines of the customers whose code is marked in ``keep``, coded as before.

        Parameters
        ----------
        keep : ndarray of bool, shape (len(ids),)
            True for each customer code to keep.

        Returns
        -------
        EngineLog
            The same ids, codes and engine; only the kept customers' lines.
        """
        codes = self.tx.column("customer_id")
        tx = self.tx.filter(pa.chunked_array([keep[c.to_numpy()] for c in codes.chunks]))
        line_part = _line_parts(one_array(tx.column("customer_id"))) if tx.num_rows else None
        return dataclasses.replace(self, tx=tx, line_part=line_part)

    @classmethod
    def of(cls, transactions: pd.DataFrame | EngineLog) -> EngineLog:
        """``transactions`` encoded, or as given when already an EngineLog."""
        if isinstance(transactions, EngineLog):
            return transactions
        return cls.from_transactions(transactions)

    def date(self, which: str) -> pd.Timestamp:
        """The ``"first"`` or ``"last"`` date in the log."""
        days = pc.min_max(self.tx.column("day"))
        day = days["min" if which == "first" else "max"].as_py()
        return pd.Timestamp(DAY_ZERO + np.timedelta64(day, "D"))

    def query(self, sql: str, as_of_day: int, **params: int) -> pd.DataFrame:
        """Run ``sql`` (``{orders}`` filled in) on ``tx`` with ``$as_of`` and ``params``.

        DuckDB runs it once per :data:`PART_ROWS` lines of the log, each time on the
        customers of one part: the results are the same, and a long log's hash tables
        are a fraction of the size. Spark spreads the work over its cluster instead.
        """
        text = sql.format(orders=LINES_SQL if self.one_line_orders else ORDERS_SQL)
        if self.engine == "spark":
            from clvxl.summary.spark import run_query

            return run_query(
                self.tx,
                text,
                {"as_of": as_of_day, "parts": 1, "part": 0, **params},
                self.spark_master,
            )
        parts = 1 if self.line_part is None else -(-self.tx.num_rows // PART_ROWS)
        columns: dict[str, np.ndarray] = {}  # one row per customer at most: room for all
        rows = 0
        # No progress bar: DuckDB draws one on the terminal for long queries.
        with duckdb.connect() as con:
            con.execute("SET enable_progress_bar = false")
            if self.line_part is None:
                con.register("tx", self.tx)
            for part in range(parts):
                if self.line_part is not None:
                    # The part's own lines, copied (a part's worth of memory): DuckDB
                    # scanning the whole log for each part took a third longer at
                    # 10,000,000 lines. The query still selects its part, as on Spark.
                    con.register("tx", self.tx.filter(pa.array(self.line_part == part)))
                result = con.execute(
                    text, {"as_of": as_of_day, "parts": parts, "part": part, **params}
                ).fetchnumpy()
                for name, values in result.items():
                    values = _filled(values)
                    if name not in columns:  # untouched room costs no memory
                        columns[name] = np.empty(len(self.ids), dtype=values.dtype)
                    columns[name][rows : rows + len(values)] = values
                rows += len(values)
        release_memory()  # DuckDB's working memory, before the summary is built
        return pd.DataFrame({name: values[:rows] for name, values in columns.items()}, copy=False)


def _line_parts(codes: pa.Array) -> np.ndarray | None:
    """The part of each line (:attr:`EngineLog.line_part`) for these customer codes."""
    parts = -(-len(codes) // PART_ROWS)
    if parts == 1:
        return None
    # int16: 2 bytes a line (a log of 16 billion lines has 32,768 parts)
    return (codes.to_numpy() % np.int32(parts)).astype(np.int16)


def _filled(values: np.ndarray) -> np.ndarray:
    """DuckDB's masked array for a column with NULLs, as floats with NaN."""
    return np.ma.filled(values.astype(float), np.nan) if np.ma.isMaskedArray(values) else values


#: Lines of the log per part of a DuckDB query (:meth:`EngineLog.query`). At 10,000,000
#: lines, parts of 500,000 keep DuckDB's working memory to 100 MB (200 MB with parts of
#: 1,000,000) for 5 % more time; at 1,000,000 lines two parts are as fast as one.
PART_ROWS = 500_000


def summarize(
    transactions: pd.DataFrame | EngineLog,
    as_of: str | pd.Timestamp | None = None,
    unit: str | TimeUnit = TimeUnit.WEEKS,
) -> CustomerSummary:
    """Summarise clean transactions per customer.

    Parameters
    ----------
    transactions : DataFrame or EngineLog
        Clean transactions (:func:`clvxl.transactions.clean_transactions`): at least
        ``customer_id``, ``date``, ``amount``; ``order_id`` and ``cost`` when known.
        Several summaries of one log share the work of encoding it when given an
        :class:`EngineLog`.
    as_of : date-like, optional
        End of the observation period (inclusive). Default: the last date in the log.
    unit : {"days", "weeks", "months"}
        Unit of ``recency`` and ``T``.

    Returns
    -------
    CustomerSummary

    Examples
    --------
    Customer A buys on 1 and 15 January (two orders on the 15th), B once and then
    returns part of it:

    >>> tx = pd.DataFrame({
    ...     "customer_id": ["A", "A", "A", "B", "B"],
    ...     "date": pd.to_datetime(["2024-01-01", "2024-01-15", "2024-01-15",
    ...                             "2024-01-08", "2024-01-20"]),
    ...     "amount": [10.0, 20.0, 5.0, 40.0, -15.0],
    ... })
    >>> s = summarize(tx, as_of="2024-01-29", unit="weeks")
    >>> s.table[["customer_id", "orders", "frequency", "recency", "T", "revenue", "aov", "monetary"]]
      customer_id  orders  frequency  recency    T  revenue   aov  monetary
    0           A       3          1      2.0  4.0     35.0  11.666667  25.0
    1           B       1          0      0.0  3.0     25.0  25.000000   0.0
    """
    table, _ = _summary(EngineLog.of(transactions), as_of, unit)
    return table


def _summary(
    log: EngineLog, as_of: str | pd.Timestamp | None, unit: str | TimeUnit
) -> tuple[CustomerSummary, np.ndarray]:
    """The summary, and the customer code of each of its rows."""
    unit = parse_unit(unit)
    as_of = (log.date("last") if as_of is None else pd.Timestamp(as_of)).normalize()
    first_date = log.date("first")
    if as_of < first_date:
        raise InputError(
            f"the as-of date {as_of.date()} is before the first transaction ({first_date.date()})"
        )
    as_of_day = _day(as_of)
    result = log.query(SUMMARY_SQL, as_of_day)
    if result.empty:
        raise NoDataError(
            "no customer has a purchase (an order that is not a refund) "
            f"on or before {as_of.date()}"
        )
    codes = result["customer_id"].to_numpy()
    order = np.argsort(log.id_rank[codes])  # rows in customer id order
    codes = codes[order]
    # As large_string, which pandas keeps text in: the Series then shares the taken ids.
    ids = log.ids.cast(pa.large_string()).take(pa.array(codes)).to_pandas()
    table = _finish(result, order, ids, as_of_day, unit, has_cost=log.has_cost)
    return CustomerSummary(table, unit, as_of, _notes(log, len(table), as_of_day)), codes


def _finish(
    result: pd.DataFrame,
    order: np.ndarray,
    ids: pd.Series,
    as_of_day: int,
    unit: TimeUnit,
    has_cost: bool,
) -> pd.DataFrame:
    """The summary table from the query's ``result`` (emptied), its rows taken in ``order``."""

    if not has_cost:
        del result["cost"]  # all NULL

    def column(name: str, dtype: type) -> np.ndarray:
        # Popped: each of the query's columns is let go of once it is in the table.
        return result.pop(name).to_numpy(dtype=dtype)[order]

    first, last = column("first_day", np.int64), column("last_day", np.int64)
    recency, age = (last - first) / unit.days, (as_of_day - first) / unit.days
    revenue, orders = column("revenue", float), column("orders", np.int64)
    table = pd.DataFrame(
        {
            "customer_id": ids.astype(str).array,
            "first_purchase": _dates(first),
            "last_purchase": _dates(last),
            "orders": orders,
            "frequency": column("frequency", np.int64),
            "recency": recency,
            "T": age,
            "revenue": revenue,
            "aov": revenue / orders,
            "monetary": column("monetary", float),
        },
        copy=False,  # every column is a new array already
    )
    if has_cost:
        table["cost"] = column("cost", float)
        table["margin"] = revenue - table["cost"].to_numpy()
    return table


def _dates(days: np.ndarray) -> np.ndarray:
    """Day numbers (int64, since 1970-01-01) as datetime64[ns], converted in place."""
    days *= np.int64(86_400 * 10**9)
    return days.view("datetime64[ns]")


def _notes(log: EngineLog, customers: int, as_of_day: int) -> tuple[str, ...]:
    notes = []
    day = log.tx.column("day")
    in_period = pc.less_equal(day, pa.scalar(as_of_day, day.type))  # an int64 would copy `day`
    later = log.tx.num_rows - pc.sum(in_period).as_py()
    as_of = (DAY_ZERO + np.timedelta64(as_of_day, "D")).astype(object)
    if later:
        notes.append(
            f"{later} transaction line(s) dated after the as-of date {as_of} were not used"
        )
    codes = log.tx.column("customer_id")
    seen = np.zeros(len(log.ids), dtype=bool)  # customers with a line up to the as-of date
    for chunk in (codes.filter(in_period) if later else codes).chunks:
        values = chunk.to_numpy()
        for start in range(0, len(values), PART_ROWS):  # no index array of the whole log
            seen[values[start : start + PART_ROWS]] = True
    without = int(seen.sum()) - customers
    if without:
        notes.append(
            f"{without} customer(s) have only refunds up to "
            f"{as_of}; they are not in the customer table"
        )
    return tuple(notes)


def calibration_holdout(
    transactions: pd.DataFrame | EngineLog,
    calibration_end: str | pd.Timestamp,
    observation_end: str | pd.Timestamp | None = None,
    unit: str | TimeUnit = TimeUnit.WEEKS,
) -> CustomerSummary:
    """Summary at the end of a calibration period, with what happened after it.

    Customers are those with a purchase by ``calibration_end``. Added columns:
    ``frequency_holdout`` (purchase days in the holdout period, after
    ``calibration_end`` up to ``observation_end`` inclusive) and
    ``duration_holdout`` (the holdout period's length in ``unit``).

    Parameters
    ----------
    transactions : DataFrame or EngineLog
        Clean transactions, as for :func:`summarize`.
    calibration_end : date-like
        Last day of the calibration period (inclusive); a time of day is dropped.
    observation_end : date-like, optional
        Last day of the holdout period (inclusive). Default: the last date in the log.
    unit : {"days", "weeks", "months"} or TimeUnit, default "weeks"
        Unit of ``recency``, ``T`` and ``duration_holdout``.

    Returns
    -------
    CustomerSummary
        The summary at ``calibration_end`` (:func:`summarize`), its table with the
        columns ``frequency_holdout`` (int) and ``duration_holdout`` (float, the same
        for every customer) added.

    Raises
    ------
    InputError
        If ``observation_end`` is not after ``calibration_end``, ``unit`` names no
        unit, or ``calibration_end`` is before the first transaction.
    NoDataError
        If no customer has a purchase on or before ``calibration_end``.

    Examples
    --------
    >>> tx = pd.DataFrame({
    ...     "customer_id": ["A", "A", "A", "B"],
    ...     "date": pd.to_datetime(["2024-01-01", "2024-01-15", "2024-02-05", "2024-01-08"]),
    ...     "amount": [10.0, 20.0, 30.0, 40.0],
    ... })
    >>> s = calibration_holdout(tx, "2024-01-29", "2024-02-26")
    >>> s.table[["customer_id", "frequency", "T", "frequency_holdout", "duration_holdout"]]
      customer_id  frequency    T  frequency_holdout  duration_holdout
    0           A          1  4.0                  1               4.0
    1           B          0  3.0                  0               4.0
    """
    unit = parse_unit(unit)
    calibration_end = pd.Timestamp(calibration_end).normalize()
    log = EngineLog.of(transactions)
    end = log.date("last") if observation_end is None else observation_end
    observation_end = pd.Timestamp(end).normalize()
    if observation_end <= calibration_end:
        raise InputError(
            f"the holdout period must end after the calibration period "
            f"({observation_end.date()} is not after {calibration_end.date()})"
        )
    summary, codes = _summary(log, calibration_end, unit)
    holdout = log.query(
        HOLDOUT_SQL,
        _day(observation_end),
        start=_day(calibration_end),
    )
    # Purchase days in the holdout, by customer code; customers new in it are not counted.
    days = np.zeros(len(log.ids), dtype=np.int64)
    days[holdout["customer_id"].to_numpy()] = holdout["purchase_days"].to_numpy()
    table = summary.table.copy()
    table["frequency_holdout"] = days[codes]
    table["duration_holdout"] = (observation_end - calibration_end).days / unit.days
    return CustomerSummary(table, unit, calibration_end, summary.notes)
