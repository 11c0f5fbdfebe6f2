"""The SQL texts of the summary: standard SQL plus ``MIN_BY``, run by DuckDB or Spark.

Each is one text for every engine, with ``$name`` integer parameters; how it is run is
:mod:`clvxl.summary.engine`'s business.
"""

__all__ = ["ENGINES", "HOLDOUT_SQL", "LINES_SQL", "ORDERS_SQL", "SUMMARY_SQL"]

#: What can run these texts: embedded DuckDB (the default) or Spark.
ENGINES = ("duckdb", "spark")

#: The summary query. Input table ``tx(customer_id, order_key, day, amount, cost)`` with
#: integer codes for the customer and order ids (grouping on integers is several times
#: faster than on text; the text ids are put back afterwards) and ``day`` in days since
#: 1970-01-01; parameter ``$as_of`` is a day number. ``{orders}`` is :data:`ORDERS_SQL`,
#: or :data:`LINES_SQL` when every line is its own order. Standard SQL plus ``MIN_BY``,
#: which DuckDB and Spark SQL both have.
SUMMARY_SQL = """
WITH orders AS ({orders}),
purchase_days AS (
    SELECT customer_id, day, SUM(amount) AS value, COUNT(*) AS orders
    FROM orders WHERE amount >= 0
    GROUP BY customer_id, day
),
customers AS (
    SELECT customer_id, MIN(day) AS first_day, MAX(day) AS last_day,
           COUNT(*) AS purchase_days, SUM(orders) AS orders, SUM(value) AS purchase_value,
           MIN_BY(value, day) AS first_value
    FROM purchase_days GROUP BY customer_id
),
money AS (
    SELECT customer_id, SUM(amount) AS revenue, SUM(cost) AS cost
    FROM orders GROUP BY customer_id
)
SELECT c.customer_id, c.first_day, c.last_day, c.orders, c.purchase_days - 1 AS frequency,
       m.revenue, m.cost,
       CASE WHEN c.purchase_days > 1
            THEN (c.purchase_value - c.first_value) / (c.purchase_days - 1)
            ELSE 0 END AS monetary
FROM customers c
JOIN money m ON m.customer_id = c.customer_id
"""
#: Money is summed as DECIMAL(38, 10): exact, so the summary is the same to the last
#: digit however the engine splits the work between threads (floating-point sums are
#: not, and the model fits would then differ in their last digits from run to run).
_MONEY = "CAST(amount AS DECIMAL(38, 10)) AS amount, CAST(cost AS DECIMAL(38, 10)) AS cost"
#: The lines a query reads: up to the as-of date, and the customers of one part (customer
#: code modulo ``$parts``), so that a long log is summarised a part at a time.
_ROWS = "day <= $as_of AND customer_id % $parts = $part"
#: Lines sharing an order id are one order, dated by its first line.
ORDERS_SQL = (
    "SELECT customer_id, order_key, MIN(day) AS day, SUM(amount) AS amount, SUM(cost) AS cost "
    f"FROM (SELECT customer_id, order_key, day, {_MONEY} FROM tx WHERE {_ROWS}) "
    "GROUP BY customer_id, order_key"
)
#: Every line is an order.
LINES_SQL = f"SELECT customer_id, day, {_MONEY} FROM tx WHERE {_ROWS}"


#: Purchase days per customer in the holdout period (after ``$start``, up to ``$as_of``).
HOLDOUT_SQL = """
WITH orders AS ({orders})
SELECT customer_id, COUNT(DISTINCT day) AS purchase_days
FROM orders WHERE amount >= 0 AND day > $start
GROUP BY customer_id
"""
