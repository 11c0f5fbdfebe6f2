"""RFM: recency, frequency and monetary scores 1–5, the RFM code and named segments.

Scores
------
**R is scored against absolute windows**, not against the other customers: quintiles
of recency are relative, so in a log where most customers stopped early, one inactive
for 14 months would still rank among the most recent fifth and score 5. The windows
come from the log's purchase cycle, the *typical repurchase gap* G (the median, over
customers with repeat purchases, of their days between purchases,
:func:`typical_gap`):

====  ===========================
 R    days since the last purchase
====  ===========================
 5    ≤ G / 4
 4    ≤ G / 2
 3    ≤ 3 G / 4
 2    ≤ G
 1    more than G
====  ===========================

so R ≥ 2, which every "Champion" (R 4–5) and "Loyal Customer" (R 2–5) has, means
"within one typical repurchase gap"; a customer past it can only be Can't Lose
Them, At Risk, Hibernating or Lost. Users can give their own four thresholds instead
(Settings ``recency_days``, e.g. 30, 60, 90, 180). Without repeat buyers there is
no cycle, and R falls back to quintiles.

F and M are scored 1–5 by quintile of the customers, 5 being best (most orders,
most revenue), as is R in :func:`rfm_scores` without windows. Two rules make the
quintile scores deterministic and useful on real logs:

1. **Ties share a score.** A customer's score comes from the lowest rank of its tied
   group, ``1 + floor(5 · (rank_min − 1) / n)``, so shuffling the rows never changes a
   score and two customers with the same value always get the same score.
2. **A crowded lowest value does not collapse the scale.** When the lowest value holds
   more than a fifth of the customers — typically the one-time buyers on F — those
   customers get 1 and the others are scored over 2–5 by the same rule among
   themselves. Without this, 60 % one-time buyers would leave F with only the
   scores 1, 4 and 5.

Segments
--------
Putler's eleven names on (R, FM), FM = (F + M) / 2, first match in this order
(ranges inclusive; FM moves in steps of 0.5):

====  ==================  =========  ==========
 #    segment             R          FM
====  ==================  =========  ==========
 1    Champions           4–5        4–5
 2    Can't Lose Them     1          4–5
 3    Loyal Customers     2–5        3–5
 4    New Customers       4–5        ≤ 1
 5    Promising           3–4        ≤ 1
 6    Potential Loyalist  3–5        1–3
 7    Need Attention      2–3        2–3
 8    About To Sleep      2–3        ≤ 2
 9    At Risk             ≤ 2        2–5
10    Lost                1          ≤ 1
11    Hibernating         1–2        1–2
====  ==================  =========  ==========

The published ranges overlap, so the order is part of the definition. clvxl puts
the narrower rules before the wider ones that contain them (Can't Lose Them before
Loyal and At Risk; New Customers and Promising before Potential Loyalist), so that
every name can occur; and since the published Lost (R ≤ 2, FM ≤ 2) and Hibernating
(R 1–2, FM 1–2) are the same set, Lost is narrowed to R = 1, FM ≤ 1. Every (R, F, M)
gets exactly one name (``tests/test_segments.py`` checks the whole map).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from clvxl.errors import InputError

__all__ = [
    "SEGMENTS",
    "cycle_windows",
    "recency_score",
    "rfm_code",
    "rfm_scores",
    "rfm_segment",
    "score",
    "segment_summary",
    "typical_gap",
]

#: The R windows as fractions of the typical repurchase gap (R = 5, 4, 3, 2 within).
CYCLE_FRACTIONS = (0.25, 0.5, 0.75, 1.0)

#: (name, R range, FM range), first match wins.
SEGMENTS: tuple[tuple[str, tuple[float, float], tuple[float, float]], ...] = (
    ("Champions", (4, 5), (4, 5)),
    ("Can't Lose Them", (1, 1), (4, 5)),
    ("Loyal Customers", (2, 5), (3, 5)),
    ("New Customers", (4, 5), (1, 1)),
    ("Promising", (3, 4), (1, 1)),
    ("Potential Loyalist", (3, 5), (1, 3)),
    ("Need Attention", (2, 3), (2, 3)),
    ("About To Sleep", (2, 3), (1, 2)),
    ("At Risk", (1, 2), (2, 5)),
    ("Lost", (1, 1), (1, 1)),
    ("Hibernating", (1, 2), (1, 2)),
)


def score(values) -> np.ndarray:
    """Quintile score 1–5 of each value among all values (5 = highest).

    Ties share a score; a lowest value held by more than a fifth of the values
    gets 1 and the rest are scored over 2–5 (see the module docstring).

    Parameters
    ----------
    values : array-like of float, shape (n,)
        The values to score, n ≥ 1, all finite.

    Returns
    -------
    ndarray of int, shape (n,)
        The score 1–5 of each value, in the order given.

    Raises
    ------
    InputError
        If ``values`` is empty, not one-dimensional, or holds a non-finite number.

    Examples
    --------
    >>> score([10, 20, 30, 40, 50]).tolist()
    [1, 2, 3, 4, 5]
    >>> score([1, 1, 1, 1, 1, 1, 2, 2, 3, 5]).tolist()  # 60 % one-time buyers
    [1, 1, 1, 1, 1, 1, 2, 2, 4, 5]
    """
    x = np.asarray(values, dtype=float)
    if x.ndim != 1 or len(x) == 0:
        raise InputError("scores need a non-empty column of values")
    if not np.isfinite(x).all():
        raise InputError("scores need finite numbers")
    low = x == x.min()
    if low.mean() <= 0.2:
        return 1 + _quintile(x, 5)
    out = np.ones(len(x), dtype=np.int8)
    if (~low).any():
        out[~low] = 2 + _quintile(x[~low], 4)
    return out


def _quintile(x: np.ndarray, k: int) -> np.ndarray:
    """``floor(k · (rank_min − 1) / n)`` of each value, from k − 1 order statistics.

    ``rank_min − 1`` is the number of values below ``x``, and at least ``m`` values
    are below ``x`` exactly when ``x`` exceeds the ``m``-th smallest value; so the
    result counts the thresholds ``sorted(x)[ceil(s·n/k) − 1]``, s = 1 … k − 1, that
    ``x`` exceeds. A partial sort finds them: no ranks, no full sort.
    """
    n = len(x)
    positions = [-(-s * n // k) - 1 for s in range(1, k)]
    thresholds = np.partition(x, positions)[positions]
    return np.searchsorted(thresholds, x, side="left").astype(np.int8)


def typical_gap(span_days, repeats) -> float | None:
    """The typical repurchase gap in days: the median of ``span_days / repeats`` over the
    customers with ``repeats > 0``; None when there are none.

    Parameters
    ----------
    span_days : array-like, shape (n,)
        Days from each customer's first to last purchase.
    repeats : array-like, shape (n,)
        Repeat purchases (purchase days after the first).

    Returns
    -------
    float or None
        The median gap in days over the customers with ``repeats > 0``; None when
        no customer has a repeat purchase.

    Examples
    --------
    >>> typical_gap([0, 60, 90, 300], [0, 2, 3, 5])
    30.0
    """
    span, x = np.asarray(span_days, dtype=float), np.asarray(repeats, dtype=float)
    repeat = x > 0
    return float(np.median(span[repeat] / x[repeat])) if repeat.any() else None


def cycle_windows(gap_days: float) -> tuple[float, ...]:
    """The R windows (days) for a typical repurchase gap: :data:`CYCLE_FRACTIONS` of it.

    Parameters
    ----------
    gap_days : float
        The typical repurchase gap in days (:func:`typical_gap`).

    Returns
    -------
    tuple of 4 floats
        The upper ends, in days, of R = 5, 4, 3 and 2.

    Examples
    --------
    >>> cycle_windows(40)
    (10.0, 20.0, 30.0, 40.0)
    """
    return tuple(f * gap_days for f in CYCLE_FRACTIONS)


def recency_score(recency_days, windows) -> np.ndarray:
    """R from 5 (within ``windows[0]`` days) to 1 (beyond ``windows[3]``), ends inclusive.

    Parameters
    ----------
    recency_days : array-like of float, shape (n,)
        Days since each customer's last purchase.
    windows : sequence of 4 floats
        The upper ends, in days, of R = 5, 4, 3 and 2: non-negative, finite and
        strictly increasing (e.g. :func:`cycle_windows`).

    Returns
    -------
    ndarray of int, shape (n,)
        The R score 1–5 of each customer.

    Raises
    ------
    InputError
        If ``windows`` is not four finite, non-negative, strictly increasing numbers.

    Examples
    --------
    >>> recency_score([0, 10, 11, 40, 41, 420], (10, 20, 30, 40)).tolist()
    [5, 5, 4, 2, 1, 1]
    """
    w = np.asarray(windows, dtype=float)
    if w.shape != (4,) or not np.isfinite(w).all() or (w < 0).any() or (np.diff(w) <= 0).any():
        raise InputError(
            f"recency windows must be four increasing numbers of days, got {list(windows)}"
        )
    days = np.asarray(recency_days, dtype=float)
    return (5 - np.searchsorted(w, days, side="left")).astype(np.int8)


def rfm_scores(recency_days, frequency, monetary, windows=None) -> pd.DataFrame:
    """R, F and M scores of every customer.

    Parameters
    ----------
    recency_days : array-like
        Days since the customer's last purchase (fewer is better).
    frequency : array-like
        Number of orders.
    monetary : array-like
        Revenue.
    windows : sequence of 4 floats, optional
        R's windows in days (:func:`recency_score`); default: quintiles of recency.

    Returns
    -------
    DataFrame
        Columns ``r_score``, ``f_score``, ``m_score`` (integers 1–5).

    Raises
    ------
    InputError
        If the three inputs differ in length, a value is not finite, or
        ``windows`` is not four increasing numbers of days.

    Examples
    --------
    >>> rfm_scores([5, 40, 200, 10, 90], [3, 1, 1, 8, 2], [300, 20, 15, 900, 60])
       r_score  f_score  m_score
    0        5        3        4
    1        3        1        2
    2        1        1        1
    3        4        4        5
    4        2        2        3
    """
    r = np.asarray(recency_days, dtype=float)
    f = np.asarray(frequency, dtype=float)
    m = np.asarray(monetary, dtype=float)
    if not (len(r) == len(f) == len(m)):
        raise InputError(
            f"recency, frequency and monetary must have the same length, got {len(r)}, {len(f)}, {len(m)}"
        )
    r_score = score(-r) if windows is None else recency_score(r, windows)
    return pd.DataFrame({"r_score": r_score, "f_score": score(f), "m_score": score(m)})


def _scores(values, name: str) -> np.ndarray:
    """Scores 1–5 as small integers; an error naming the first that is not one."""
    x = np.asarray(values)
    if x.dtype.kind in "iu":  # the customer table's own scores: a range check is enough
        bad = (x < 1) | (x > 5)
    else:
        try:
            x = x.astype(float)
        except (TypeError, ValueError):
            raise InputError(f"{name} must be a whole number from 1 to 5, got {values!r}") from None
        bad = ~np.isin(x, [1, 2, 3, 4, 5])
    if bad.any():
        raise InputError(
            f"{name} must be a whole number from 1 to 5, got {np.atleast_1d(x)[np.atleast_1d(bad)][0]:g}"
        )
    return x.astype(np.int16)


def _code(r, f, m) -> np.ndarray:
    """The RFM code as a number, 100·R + 10·F + M (111 to 555)."""
    return _scores(r, "R") * 100 + _scores(f, "F") * 10 + _scores(m, "M")


#: Every RFM code as text, and the position of each number 0–555 among them.
_CODES = [f"{r}{f}{m}" for r in range(1, 6) for f in range(1, 6) for m in range(1, 6)]
_CODE_AT = np.full(556, -1, dtype=np.int8)
_CODE_AT[[int(code) for code in _CODES]] = np.arange(len(_CODES))


def rfm_code(r, f, m):
    """The three-digit RFM code, e.g. "545" (a categorical for arrays).

    Parameters
    ----------
    r, f, m : int or array-like of int, shape (n,)
        The R, F and M scores, each a whole number from 1 to 5.

    Returns
    -------
    str or Categorical of length n
        The code ``f"{r}{f}{m}"``: a string for scalar scores, otherwise a
        categorical whose categories are all 125 codes "111" to "555".

    Raises
    ------
    InputError
        If a score is not a whole number from 1 to 5 (the message names R, F or M).

    Examples
    --------
    >>> rfm_code(5, 4, 5)
    '545'
    >>> rfm_code([1, 3], [2, 3], [1, 4]).tolist()
    ['121', '334']
    """
    code = _code(r, f, m)
    if np.ndim(code) == 0:
        return _CODES[_CODE_AT[code]]
    return pd.Categorical.from_codes(_CODE_AT[code], categories=_CODES)


def _segment_of_codes() -> np.ndarray:
    """The position in SEGMENTS of every code's segment, by code number (the rules above)."""
    code = np.array([int(c) for c in _CODES])
    r, fm = code // 100, (code // 10 % 10 + code % 10) / 2
    conditions = [
        (r >= r_lo) & (r <= r_hi) & (fm >= fm_lo) & (fm <= fm_hi)
        for _, (r_lo, r_hi), (fm_lo, fm_hi) in SEGMENTS
    ]
    out = np.full(556, -1, dtype=np.int8)
    out[code] = np.select(conditions, range(len(SEGMENTS)), default=-1)
    return out


_SEGMENT_OF = _segment_of_codes()
_NAMES = [name for name, _, _ in SEGMENTS]


def rfm_segment(r, f, m):
    """Putler's segment name for R, F and M scores (rules in the module docstring).

    A categorical, its categories in the order of :data:`SEGMENTS`, for arrays.

    Parameters
    ----------
    r, f, m : int or array-like of int, shape (n,)
        The R, F and M scores, each a whole number from 1 to 5.

    Returns
    -------
    str or Categorical of length n
        The segment name: a string for scalar scores, otherwise a categorical with
        the eleven names of :data:`SEGMENTS` as categories, in that order.

    Raises
    ------
    InputError
        If a score is not a whole number from 1 to 5 (the message names R, F or M).

    Examples
    --------
    >>> rfm_segment(5, 5, 4)
    'Champions'
    >>> rfm_segment([5, 1, 1], [1, 5, 1], [1, 4, 1]).tolist()
    ['New Customers', "Can't Lose Them", 'Lost']
    """
    which = _SEGMENT_OF[_code(r, f, m)]
    if np.ndim(which) == 0:
        return _NAMES[which]
    return pd.Categorical.from_codes(which, categories=_NAMES)


def segment_summary(customers: pd.DataFrame) -> pd.DataFrame:
    """Customers and revenue per segment, in the fixed segment order.

    Parameters
    ----------
    customers : DataFrame
        With columns ``segment`` and ``revenue``.

    Returns
    -------
    DataFrame
        Columns ``segment``, ``customers``, ``customer_share``, ``revenue``,
        ``revenue_share``; one row per segment, empty segments included.

    Examples
    --------
    >>> t = pd.DataFrame({"segment": ["Champions", "Lost", "Champions"], "revenue": [60.0, 20.0, 20.0]})
    >>> segment_summary(t).head(2)
               segment  customers  customer_share  revenue  revenue_share
    0        Champions          2        0.666667     80.0            0.8
    1  Can't Lose Them          0        0.000000      0.0            0.0
    """
    grouped = (
        customers.groupby("segment")["revenue"].agg(["size", "sum"]).reindex(_NAMES, fill_value=0)
    )
    total_revenue = customers["revenue"].sum()
    return pd.DataFrame(
        {
            "segment": _NAMES,
            "customers": grouped["size"].to_numpy(dtype=np.int64),
            "customer_share": grouped["size"].to_numpy() / max(len(customers), 1),
            "revenue": grouped["sum"].to_numpy(dtype=float),
            "revenue_share": grouped["sum"].to_numpy(dtype=float) / total_revenue
            if total_revenue
            else 0.0,
        }
    )
