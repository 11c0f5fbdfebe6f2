"""The CLV vocabulary: the textbook formulas finance teams use, one function each.

Every function works on scalars and, elementwise, on numpy arrays or pandas Series
(the Excel functions pass whole columns). Arguments are checked and a wrong one
raises :class:`~clvxl.errors.InputError` naming it and the value, e.g.
``churn must be between 0 and 1, got 1.5``.

Sources: the formulas are the standard ones of the CLV literature as summarised in
the product's seed articles (Shopify, "Customer lifetime value"; Putler, "CLV
formula"); their worked numbers are the doctests below. Periods must agree:
ARPU, churn and the discount rate of :func:`clv` are all per the same period
(usually a month).
"""

from __future__ import annotations

import numpy as np

from clvxl.errors import InputError

__all__ = [
    "aov",
    "arpu",
    "cac",
    "cac_payback",
    "churn_rate",
    "clv",
    "clv_historic",
    "clv_simple",
    "cogs",
    "customer_lifetime",
    "customer_value",
    "gross_margin",
    "ltv_cac",
    "purchase_frequency",
    "retention_rate",
]


def _values(value, name: str) -> np.ndarray | float:
    try:
        array = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise InputError(f"{name} must be a number, got {value!r}") from None
    if not np.isfinite(array).all():
        raise InputError(
            f"{name} must be a finite number, got {_first(array, ~np.isfinite(array))}"
        )
    return array


def _first(array: np.ndarray, bad: np.ndarray) -> str:
    return f"{np.atleast_1d(array)[np.atleast_1d(bad)][0]:g}"


def _check(array: np.ndarray, name: str, ok: np.ndarray, rule: str) -> None:
    if not np.all(ok):
        raise InputError(f"{name} must be {rule}, got {_first(array, ~np.asarray(ok))}")


def _out(result):
    return float(result) if np.ndim(result) == 0 else result


def aov(revenue, orders):
    r"""Average order value: revenue per order.

    .. math:: \mathrm{AOV} = \frac{\text{revenue}}{\text{orders}}

    Parameters
    ----------
    revenue : float or array_like
        Revenue of the period (any currency).
    orders : float or array_like
        Number of orders in the same period; must be positive.

    Returns
    -------
    float or ndarray
        Revenue per order, in the currency of ``revenue``. A float when every argument
        is a scalar, else an ndarray of the arguments' broadcast shape.

    Raises
    ------
    InputError
        If an argument is not a finite number or ``orders`` is not positive.

    Examples
    --------
    >>> aov(800_000, 20_000)
    40.0
    """
    revenue = _values(revenue, "revenue")
    orders = _values(orders, "orders")
    _check(orders, "orders", orders > 0, "positive")
    return _out(revenue / orders)


def purchase_frequency(orders, customers):
    r"""Purchase frequency: orders per unique customer over the period.

    .. math:: F = \frac{\text{orders}}{\text{unique customers}}

    Parameters
    ----------
    orders : float or array_like
        Number of orders in the period; zero or more.
    customers : float or array_like
        Number of unique customers who ordered in the period; positive.

    Returns
    -------
    float or ndarray
        Orders per customer. A float when every argument is a scalar, else an ndarray
        of the arguments' broadcast shape.

    Raises
    ------
    InputError
        If an argument is not a finite number, ``orders`` is negative or ``customers``
        is not positive.

    Examples
    --------
    >>> purchase_frequency(20_000, 8_000)
    2.5
    """
    orders = _values(orders, "orders")
    customers = _values(customers, "customers")
    _check(orders, "orders", orders >= 0, "zero or more")
    _check(customers, "customers", customers > 0, "positive")
    return _out(orders / customers)


def cogs(opening_inventory, purchases, closing_inventory):
    r"""Cost of goods sold from inventory: opening + purchases − closing.

    Parameters
    ----------
    opening_inventory : float or array_like
        Value of the inventory at the start of the period; zero or more.
    purchases : float or array_like
        Value of the inventory bought during the period; zero or more.
    closing_inventory : float or array_like
        Value of the inventory at the end of the period; zero or more and at most
        ``opening_inventory + purchases``.

    Returns
    -------
    float or ndarray
        Cost of goods sold, in the inventory's currency. A float when every argument
        is a scalar, else an ndarray of the arguments' broadcast shape.

    Raises
    ------
    InputError
        If an argument is not a finite number, is negative, or the result would be
        negative (closing inventory above opening plus purchases).

    Examples
    --------
    The seed example: 180,000 + 450,000 − 160,000.

    >>> cogs(180_000, 450_000, 160_000)
    470000.0
    """
    opening = _values(opening_inventory, "opening_inventory")
    bought = _values(purchases, "purchases")
    closing = _values(closing_inventory, "closing_inventory")
    for array, name in (
        (opening, "opening_inventory"),
        (bought, "purchases"),
        (closing, "closing_inventory"),
    ):
        _check(array, name, array >= 0, "zero or more")
    result = opening + bought - closing
    _check(result, "closing_inventory", result >= 0, "at most opening_inventory + purchases; COGS")
    return _out(result)


def gross_margin(revenue, cogs):
    r"""Gross margin as a fraction of revenue.

    .. math:: m = \frac{\text{revenue} - \text{COGS}}{\text{revenue}}

    Parameters
    ----------
    revenue : float or array_like
        Revenue of the period; positive.
    cogs : float or array_like
        Cost of goods sold in the same period (see :func:`cogs`).

    Returns
    -------
    float or ndarray
        Gross margin as a fraction (0.4125 for 41.25 %); negative when costs exceed
        revenue. A float when every argument is a scalar, else an ndarray of the
        arguments' broadcast shape.

    Raises
    ------
    InputError
        If an argument is not a finite number or ``revenue`` is not positive.

    Examples
    --------
    The seed example: (800,000 − 470,000) / 800,000 = 41.25 %.

    >>> gross_margin(800_000, 470_000)
    0.4125
    """
    revenue = _values(revenue, "revenue")
    cost = _values(cogs, "cogs")
    _check(revenue, "revenue", revenue > 0, "positive")
    return _out((revenue - cost) / revenue)


def _churn_counts(customers_start, customers_end, new_customers):
    start = _values(customers_start, "customers_start")
    end = _values(customers_end, "customers_end")
    new = _values(new_customers, "new_customers")
    _check(start, "customers_start", start > 0, "positive")
    _check(end, "customers_end", end >= 0, "zero or more")
    _check(new, "new_customers", new >= 0, "zero or more")
    _check(end, "customers_end", end <= start + new, "at most customers_start + new_customers")
    _check(end, "customers_end", end >= new, "at least new_customers (new customers are not lost)")
    return start, end, new


def churn_rate(customers_start, customers_end, new_customers=0):
    r"""Churn rate: customers lost in the period over customers at its start.

    .. math:: c = \frac{S + N - E}{S}

    with *S* customers at the start, *N* acquired during the period and *E* at its end.

    Parameters
    ----------
    customers_start : float or array_like
        Customers at the start of the period, *S*; positive.
    customers_end : float or array_like
        Customers at the end of the period, *E*; at least *N* and at most *S + N*.
    new_customers : float or array_like, default 0
        Customers acquired during the period, *N*; zero or more.

    Returns
    -------
    float or ndarray
        Churn rate per period, a fraction between 0 and 1. A float when every argument
        is a scalar, else an ndarray of the arguments' broadcast shape.

    Raises
    ------
    InputError
        If an argument is not a finite number, *S* is not positive, *N* or *E* is
        negative, or *E* is outside [*N*, *S + N*].

    Examples
    --------
    1,000 customers, 100 new, 950 at the end: 150 lost, 15 %.

    >>> churn_rate(1000, 950, 100)
    0.15
    """
    start, end, new = _churn_counts(customers_start, customers_end, new_customers)
    return _out((start + new - end) / start)


def retention_rate(customers_start, customers_end, new_customers=0):
    r"""Retention rate: customers kept over customers at the start, :math:`(E - N)/S = 1 - c`.

    Parameters
    ----------
    customers_start : float or array_like
        Customers at the start of the period, *S*; positive.
    customers_end : float or array_like
        Customers at the end of the period, *E*; at least *N* and at most *S + N*.
    new_customers : float or array_like, default 0
        Customers acquired during the period, *N*; zero or more.

    Returns
    -------
    float or ndarray
        Retention rate per period, a fraction between 0 and 1. A float when every
        argument is a scalar, else an ndarray of the arguments' broadcast shape.

    Raises
    ------
    InputError
        As :func:`churn_rate`.

    Examples
    --------
    >>> retention_rate(1000, 950, 100)
    0.85
    """
    start, end, new = _churn_counts(customers_start, customers_end, new_customers)
    return _out((end - new) / start)


def _churn(churn) -> np.ndarray:
    c = _values(churn, "churn")
    _check(c, "churn", (c >= 0) & (c <= 1), "between 0 and 1")
    _check(c, "churn", c > 0, "above 0 (with no churn the lifetime is unbounded)")
    return c


def customer_lifetime(churn):
    r"""Expected customer lifetime in periods: :math:`L = 1 / c`.

    Parameters
    ----------
    churn : float or array_like
        Churn rate per period, *c*; above 0 and at most 1.

    Returns
    -------
    float or ndarray
        Expected lifetime in periods (the periods of ``churn``). A float for a scalar
        ``churn``, else an ndarray of its shape.

    Raises
    ------
    InputError
        If ``churn`` is not a finite number in (0, 1].

    Examples
    --------
    >>> customer_lifetime(0.25)
    4.0
    """
    return _out(1 / _churn(churn))


def arpu(revenue, customers, months=1):
    r"""Average revenue per user, per month when ``months`` is the period's length.

    .. math:: \mathrm{ARPU} = \frac{\text{revenue}}{\text{customers} \times \text{months}}

    Parameters
    ----------
    revenue : float or array_like
        Revenue over the whole period.
    customers : float or array_like
        Number of customers (users); positive.
    months : float or array_like, default 1
        Length of the period in months; positive.

    Returns
    -------
    float or ndarray
        Revenue per customer per month (per period when ``months`` is 1). A float when
        every argument is a scalar, else an ndarray of the arguments' broadcast shape.

    Raises
    ------
    InputError
        If an argument is not a finite number, or ``customers`` or ``months`` is not
        positive.

    Examples
    --------
    >>> arpu(120_000, 1_000, 12)
    10.0
    """
    revenue = _values(revenue, "revenue")
    customers = _values(customers, "customers")
    months = _values(months, "months")
    _check(customers, "customers", customers > 0, "positive")
    _check(months, "months", months > 0, "positive")
    return _out(revenue / (customers * months))


def customer_value(aov, frequency):
    r"""Customer value: :math:`\mathrm{AOV} \times F` (value of a customer per period).

    Parameters
    ----------
    aov : float or array_like
        Average order value (see :func:`aov`).
    frequency : float or array_like
        Orders per customer per period (see :func:`purchase_frequency`); zero or more.

    Returns
    -------
    float or ndarray
        Value of a customer per period, in the currency of ``aov``. A float when every
        argument is a scalar, else an ndarray of the arguments' broadcast shape.

    Raises
    ------
    InputError
        If an argument is not a finite number or ``frequency`` is negative.

    Examples
    --------
    >>> customer_value(40, 2.5)
    100.0
    """
    order_value = _values(aov, "aov")
    freq = _values(frequency, "frequency")
    _check(freq, "frequency", freq >= 0, "zero or more")
    return _out(order_value * freq)


def clv_simple(aov, frequency, lifespan, margin=1.0):
    r"""Simple CLV: customer value × lifespan, optionally × gross margin.

    .. math:: \mathrm{CLV} = \mathrm{AOV} \times F \times L \times m

    Parameters
    ----------
    aov : float or array_like
        Average order value.
    frequency : float or array_like
        Orders per customer per period; zero or more.
    lifespan : float or array_like
        Customer lifespan in the same periods; zero or more.
    margin : float or array_like, default 1.0
        Gross margin as a fraction between -1 and 1 (1: revenue, not margin).

    Returns
    -------
    float or ndarray
        Lifetime value of a customer, undiscounted. A float when every argument is a
        scalar, else an ndarray of the arguments' broadcast shape.

    Raises
    ------
    InputError
        If an argument is not a finite number, ``frequency`` or ``lifespan`` is
        negative, or ``margin`` is outside [-1, 1] (the message calls it
        ``gross_margin``).

    Examples
    --------
    AOV 40, 2.5 orders a year, 4 years, 41.25 % margin:

    >>> clv_simple(40, 2.5, 4, 0.4125)
    165.0
    """
    life = _values(lifespan, "lifespan")
    _check(life, "lifespan", life >= 0, "zero or more")
    return _out(customer_value(aov, frequency) * life * _margin(margin))


def _margin(margin) -> np.ndarray:
    m = _values(margin, "gross_margin")
    _check(m, "gross_margin", (m >= -1) & (m <= 1), "between -1 and 1 (a fraction, 0.4 for 40 %)")
    return m


def clv(arpu, gross_margin, churn, discount_rate=None):
    r"""CLV from ARPU, margin and churn; discounted when a discount rate is given.

    .. math::

        \mathrm{CLV} = \frac{\mathrm{ARPU} \cdot m}{c}
        \qquad\text{or, discounted,}\qquad
        \mathrm{CLV} = \mathrm{ARPU} \cdot m \cdot \frac{1 + d}{d + c}

    the "most common" formula of the seed articles, and its discounted form (the sum of
    :math:`\mathrm{ARPU}\, m\, (1-c)^t / (1+d)^t` for :math:`t = 0, 1, \dots`; Gupta &
    Lehmann 2003). ARPU, churn *c* and discount rate *d* are per the same period.

    Parameters
    ----------
    arpu : float or array_like
        Average revenue per user per period (see :func:`arpu`).
    gross_margin : float or array_like
        Gross margin as a fraction between -1 and 1 (0.8 for 80 %).
    churn : float or array_like
        Churn rate per period, *c*; above 0 and at most 1.
    discount_rate : float or array_like, optional
        Discount rate per period, *d*, in [0, 1) (0.01 for 1 % a period). Without it
        the CLV is undiscounted.

    Returns
    -------
    float or ndarray
        Lifetime value of a customer (discounted when ``discount_rate`` is given), in
        the currency of ``arpu``. A float when every argument is a scalar, else an
        ndarray of the arguments' broadcast shape.

    Raises
    ------
    InputError
        If an argument is not a finite number or is outside its range above.

    Examples
    --------
    >>> clv(50, 0.8, 0.05)
    800.0
    >>> round(clv(50, 0.8, 0.05, 0.01), 2)
    673.33
    """
    revenue = _values(arpu, "arpu")
    c = _churn(churn)
    value = revenue * _margin(gross_margin)
    if discount_rate is None:
        return _out(value / c)
    d = _values(discount_rate, "discount_rate")
    _check(d, "discount_rate", (d >= 0) & (d < 1), "between 0 and 1 (0.01 for 1 % a period)")
    return _out(value * (1 + d) / (d + c))


def cac(spend, new_customers):
    r"""Customer acquisition cost: marketing and sales spend per new customer.

    Parameters
    ----------
    spend : float or array_like
        Marketing and sales spend of the period; zero or more.
    new_customers : float or array_like
        Customers acquired in the same period; positive.

    Returns
    -------
    float or ndarray
        Cost per new customer, in the currency of ``spend``. A float when every
        argument is a scalar, else an ndarray of the arguments' broadcast shape.

    Raises
    ------
    InputError
        If an argument is not a finite number, ``spend`` is negative or
        ``new_customers`` is not positive.

    Examples
    --------
    >>> cac(50_000, 400)
    125.0
    """
    money = _values(spend, "spend")
    new = _values(new_customers, "new_customers")
    _check(money, "spend", money >= 0, "zero or more")
    _check(new, "new_customers", new > 0, "positive")
    return _out(money / new)


def ltv_cac(ltv, cac):
    r"""LTV:CAC ratio; about 3 is the usual target for subscription businesses.

    Parameters
    ----------
    ltv : float or array_like
        Lifetime value of a customer (see :func:`clv`).
    cac : float or array_like
        Acquisition cost of a customer (see :func:`cac`); positive.

    Returns
    -------
    float or ndarray
        The ratio ``ltv / cac``. A float when every argument is a scalar, else an
        ndarray of the arguments' broadcast shape.

    Raises
    ------
    InputError
        If an argument is not a finite number or ``cac`` is not positive.

    Examples
    --------
    >>> ltv_cac(375, 125)
    3.0
    """
    value = _values(ltv, "ltv")
    cost = _values(cac, "cac")
    _check(cost, "cac", cost > 0, "positive")
    return _out(value / cost)


def cac_payback(cac, arpu, gross_margin):
    r"""Months to earn back the acquisition cost: :math:`\mathrm{CAC} / (\mathrm{ARPU} \cdot m)`.

    ``arpu`` is per month.

    Parameters
    ----------
    cac : float or array_like
        Acquisition cost of a customer; zero or more.
    arpu : float or array_like
        Average revenue per user per month.
    gross_margin : float or array_like
        Gross margin as a fraction between -1 and 1; ``arpu × gross_margin`` must be
        positive.

    Returns
    -------
    float or ndarray
        Months until the margin earned repays ``cac``. A float when every argument is
        a scalar, else an ndarray of the arguments' broadcast shape.

    Raises
    ------
    InputError
        If an argument is not a finite number, ``cac`` is negative, ``gross_margin``
        is outside [-1, 1] or the monthly margin is not positive (never paid back).

    Examples
    --------
    >>> cac_payback(125, 50, 0.5)
    5.0
    """
    cost = _values(cac, "cac")
    _check(cost, "cac", cost >= 0, "zero or more")
    monthly = _values(arpu, "arpu") * _margin(gross_margin)
    _check(monthly, "arpu × gross_margin", monthly > 0, "positive (no margin: never paid back)")
    return _out(cost / monthly)


def clv_historic(revenue, cost=None, margin=None):
    r"""Historic CLV per customer: the margin earned so far.

    ``revenue − cost`` when costs are known, else ``revenue × margin`` (``margin``
    defaults to 1: historic revenue).

    Parameters
    ----------
    revenue : float or array_like of shape (n_customers,)
        Revenue of each customer so far.
    cost : float or array_like of shape (n_customers,), optional
        Cost of serving each customer so far. Not checked for sign.
    margin : float or array_like, optional
        Gross margin as a fraction between -1 and 1, used when ``cost`` is not given
        (default 1).

    Returns
    -------
    float or ndarray of shape (n_customers,)
        Margin earned from each customer so far. A float when every argument is a
        scalar.

    Raises
    ------
    InputError
        If both ``cost`` and ``margin`` are given, an argument is not a finite number,
        or ``margin`` is outside [-1, 1] (the message calls it ``gross_margin``).

    Examples
    --------
    >>> clv_historic([100.0, 40.0], cost=[60.0, 10.0]).tolist()
    [40.0, 30.0]
    >>> clv_historic(100.0, margin=0.3)
    30.0
    """
    revenue = _values(revenue, "revenue")
    if cost is not None and margin is not None:
        raise InputError("give cost or margin for clv_historic, not both")
    if cost is not None:
        return _out(revenue - _values(cost, "cost"))
    return _out(revenue * _margin(1.0 if margin is None else margin))
