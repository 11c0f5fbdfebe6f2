"""The Calculator sheet: a worked example of every Excel function, seed examples first.

Each example names the Excel function, what it shows, its inputs, and the core
function that computes the value the sheet caches (so the template shows numbers
even where the add-in is not installed).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from clvxl import predict
from clvxl.analytics import metrics, rfm
from clvxl.models import bgnbd, gammagamma

__all__ = ["EXAMPLES", "Example"]

_PAPER_BGNBD = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
_PAPER_GG = {"p": 6.25, "q": 3.74, "v": 15.44}


@dataclass(frozen=True)
class Example:
    """One row of the Calculator: ``function(*inputs)`` shown live with its value."""

    function: str
    what: str
    inputs: tuple[tuple[str, object], ...]
    compute: Callable[..., object]

    def value(self) -> float | str:
        """The value the core computes for these inputs (what the cell caches)."""
        result = np.asarray(self.compute(*(v for _, v in self.inputs)), dtype=object).ravel()[0]
        return result if isinstance(result, str) else float(result)


def _bg(r, alpha, a, b):
    return bgnbd.BetaGeoModel(r=r, alpha=alpha, a=a, b=b)


_CUSTOMER = (("frequency", 2), ("recency", 30.43), ("T", 38.86))
_PARAMS = tuple(_PAPER_BGNBD.items())

EXAMPLES: tuple[Example, ...] = (
    Example(
        "AOV",
        "Seed: revenue 800,000 over 20,000 orders",
        (("revenue", 800_000), ("orders", 20_000)),
        metrics.aov,
    ),
    Example(
        "PURCHASE_FREQUENCY",
        "Seed: 20,000 orders from 8,000 customers",
        (("orders", 20_000), ("customers", 8_000)),
        metrics.purchase_frequency,
    ),
    Example(
        "COGS",
        "Seed: 180,000 + 450,000 − 160,000",
        (("opening_inventory", 180_000), ("purchases", 450_000), ("closing_inventory", 160_000)),
        metrics.cogs,
    ),
    Example(
        "GROSS_MARGIN",
        "Seed: (800,000 − 470,000) / 800,000 = 41.25 %",
        (("revenue", 800_000), ("cogs", 470_000)),
        metrics.gross_margin,
    ),
    Example(
        "CHURN",
        "1,000 customers, 100 new, 950 at the end",
        (("customers_start", 1000), ("customers_end", 950), ("new_customers", 100)),
        metrics.churn_rate,
    ),
    Example(
        "RETENTION",
        "The same period: 1 − churn",
        (("customers_start", 1000), ("customers_end", 950), ("new_customers", 100)),
        metrics.retention_rate,
    ),
    Example(
        "LIFETIME", "Seed: lifetime = 1 / churn", (("churn", 0.25),), metrics.customer_lifetime
    ),
    Example(
        "ARPU",
        "120,000 of revenue from 1,000 customers over 12 months",
        (("revenue", 120_000), ("customers", 1_000), ("months", 12)),
        metrics.arpu,
    ),
    Example(
        "CUSTOMER_VALUE",
        "Seed: AOV × purchase frequency",
        (("aov", 40), ("frequency", 2.5)),
        metrics.customer_value,
    ),
    Example(
        "CLV_SIMPLE",
        "Seed: value × lifetime × gross margin",
        (("aov", 40), ("frequency", 2.5), ("lifespan", 4), ("margin", 0.4125)),
        metrics.clv_simple,
    ),
    Example(
        "CLV",
        "Seed: ARPU × margin / churn, discounted at 1 % a month",
        (("arpu", 50), ("gross_margin", 0.8), ("churn", 0.05), ("discount_rate", 0.01)),
        metrics.clv,
    ),
    Example(
        "CAC",
        "50,000 of spend for 400 new customers",
        (("spend", 50_000), ("new_customers", 400)),
        metrics.cac,
    ),
    Example(
        "LTV_CAC",
        "Seed: LTV should be about 3 × CAC",
        (("ltv", 375), ("cac", 125)),
        metrics.ltv_cac,
    ),
    Example(
        "CAC_PAYBACK",
        "Months to earn back CAC",
        (("cac", 125), ("arpu", 50), ("gross_margin", 0.5)),
        metrics.cac_payback,
    ),
    Example("RFM_SEGMENT", "Scores R=5, F=5, M=4", (("r", 5), ("f", 5), ("m", 4)), rfm.rfm_segment),
    Example(
        "P_ALIVE",
        "Fader, Hardie & Lee (2005): x=2, t_x=30.43, T=38.86 weeks",
        _CUSTOMER + _PARAMS,
        lambda x, t, big_t, *p: bgnbd.p_alive(_bg(*p), x, t, big_t),
    ),
    Example(
        "EXPECTED_PURCHASES",
        "The same customer, next 39 weeks (published: 1.226)",
        (("periods", 39), *_CUSTOMER, *_PARAMS),
        lambda n, x, t, big_t, *p: bgnbd.expected_purchases(_bg(*p), n, x, t, big_t),
    ),
    Example(
        "CLV_PREDICTED",
        "The same customer, 12 months at 10 % a year, z̄ = 22.35",
        (*_CUSTOMER, ("monetary", 22.35), *_PARAMS, *_PAPER_GG.items()),
        lambda x, t, big_t, z, r, alpha, a, b, p, q, v: predict.predicted_clv(
            _bg(r, alpha, a, b), gammagamma.GammaGammaModel(p=p, q=q, v=v), x, t, big_t, z
        ),
    ),
)
