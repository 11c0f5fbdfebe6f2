"""Running the summary query on Apache Spark instead of embedded DuckDB.

The per-customer summary is one SQL text (:data:`clvxl.summary.SUMMARY_SQL`); this
module runs that same text with Spark SQL, on a local Spark (``local[*]``, the
default) or on a cluster given by its master URL (``spark://host:7077``, ``yarn``,
``k8s://…``). Only the encoded transactions travel (integer customer and order codes,
day numbers, amounts: 24 bytes a line) and only the summary comes back (one row a
customer); the models are then fitted on one machine, on the distinct patterns.

pyspark is an optional dependency (``pip install 'clvxl[spark]'``) and needs a Java
17 runtime.
"""

from __future__ import annotations

import re
import warnings
from typing import TYPE_CHECKING

from clvxl.errors import InputError

if TYPE_CHECKING:  # the command line reads DEFAULT_MASTER without loading pandas or Arrow
    import pandas as pd
    import pyarrow as pa

__all__ = ["DEFAULT_MASTER", "run_query"]

#: Spark master used when none is given: every core of this machine.
DEFAULT_MASTER = "local[*]"


def run_query(tx: pa.Table, sql: str, params: dict[str, int], master: str) -> pd.DataFrame:
    """Run ``sql`` on Spark with ``tx`` as the view ``tx``.

    Parameters
    ----------
    tx : pyarrow.Table
        The encoded transactions (:class:`clvxl.summary.EngineLog`).
    sql : str
        The query, with DuckDB-style ``$name`` parameters.
    params : dict
        Integer parameter values by name.
    master : str
        The Spark master URL.

    Returns
    -------
    DataFrame
        The query's result, collected to the driver.
    """
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise InputError(
            "the Spark engine needs pyspark: pip install 'clvxl[spark]' (and a Java 17 runtime)"
        ) from None
    try:
        spark = (
            SparkSession.builder.master(master)
            .appName("clvxl")
            .config("spark.sql.execution.arrow.pyspark.enabled", "true")
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .getOrCreate()
        )
    except Exception as exc:  # pyspark raises its own error types, and Java's through py4j
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(
            f"Spark could not start at {master} ({first_line}); it needs a Java 17 runtime "
            "(java on the PATH or JAVA_HOME) and, for a cluster, a master URL it can reach"
        ) from None
    spark.sparkContext.setLogLevel("ERROR")
    # Spark SQL writes named parameters as :name where DuckDB writes $name.
    text = re.sub(r"\$([a-z_]+)", r":\1", sql)
    with warnings.catch_warnings():
        # pyspark warns about pandas versions it has not been tested with.
        warnings.simplefilter("ignore", FutureWarning)
        spark.createDataFrame(tx.to_pandas()).createOrReplaceTempView("tx")
        return spark.sql(text, args=params).toPandas()
