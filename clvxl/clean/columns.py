"""Which column of a log is which: header names mapped to roles, in several languages."""

from __future__ import annotations

import re
from collections.abc import Mapping

from clvxl.errors import InputError

__all__ = ["ALIASES", "REQUIRED", "find_columns"]

#: Accepted header names for each role, compared ignoring case, spaces and punctuation.
ALIASES: dict[str, tuple[str, ...]] = {
    "customer_id": (
        "customer_id",
        "customer",
        "customer_no",
        "customer_number",
        "customer_code",
        "cust_id",
        "client",
        "client_id",
        "account",
        "account_id",
        "user_id",
        "buyer",
        "master_id",
    ),
    "date": (
        "date",
        "order_date",
        "transaction_date",
        "invoice_date",
        "purchase_date",
        "sale_date",
        "posting_date",
        "timestamp",
        "datetime",
    ),
    "amount": (
        "amount",
        "revenue",
        "sales",
        "sales_amount",
        "net_amount",
        "order_value",
        "value",
        "total",
        "dollar_value",
        "net_sales",
        "turnover",
    ),
    "order_id": (
        "order_id",
        "order",
        "order_no",
        "order_number",
        "invoice",
        "invoice_no",
        "invoice_number",
        "transaction_id",
        "receipt",
    ),
    "cost": ("cost", "cogs", "cost_of_goods", "cost_of_sales", "unit_cost_total"),
    "margin": ("margin", "gross_margin", "profit", "gross_profit"),
    "quantity": ("quantity", "qty", "units", "number_of_cds"),
}
REQUIRED = ("customer_id", "date", "amount")


def _key(name: object) -> str:
    return re.sub(r"[^0-9a-z]", "", str(name).lower())


def find_columns(header: list[str], columns: Mapping[str, str] | None = None) -> dict[str, str]:
    """Map each role (customer_id, date, amount, ...) to a header of the log.

    Parameters
    ----------
    header : list of str
        The log's column names.
    columns : mapping, optional
        Overrides, role → header name (``--customer-col`` and friends).

    Returns
    -------
    dict
        Role → header name, for every role found; the three required roles are
        always present.

    Examples
    --------
    >>> find_columns(["Customer No", "Invoice Date", "Net Amount", "Qty"])
    {'customer_id': 'Customer No', 'date': 'Invoice Date', 'amount': 'Net Amount', 'quantity': 'Qty'}
    >>> find_columns(["Client", "Amount"])
    Traceback (most recent call last):
    ...
    clvxl.errors.InputError: the log has no date column. Columns found: 'Client', 'Amount'. ...
    """
    columns = dict(columns or {})
    unknown = set(columns) - set(ALIASES)
    if unknown:
        raise InputError(f"unknown column role(s) {sorted(unknown)}; use {', '.join(ALIASES)}")
    by_key: dict[str, list[str]] = {}
    for name in header:
        by_key.setdefault(_key(name), []).append(str(name))
    found: dict[str, str] = {}
    for role, aliases in ALIASES.items():
        wanted = [columns[role]] if role in columns else list(aliases)
        for alias in wanted:
            names = by_key.get(_key(alias), [])
            if len(names) > 1:
                raise InputError(
                    f"the column {names[0]!r} appears {len(names)} times in the header; "
                    "rename or delete the duplicates so it is clear which one to use"
                )
            if names:
                found[role] = names[0]
                break
        else:
            if role in columns:
                raise InputError(
                    f"there is no column {columns[role]!r} (given for {role}); "
                    f"the columns are: {', '.join(map(repr, header))}"
                )
    missing = [r for r in REQUIRED if r not in found]
    if missing:
        labels = {"customer_id": "customer id", "date": "date", "amount": "amount"}
        lines = [
            "the log has " + ", ".join(f"no {labels[r]} column" for r in missing) + ".",
            f"Columns found: {', '.join(map(repr, header)) or 'none'}.",
        ]
        for r in missing:
            flag = {
                "customer_id": "--customer-col",
                "date": "--date-col",
                "amount": "--amount-col",
            }[r]
            lines.append(
                f"Accepted names for {labels[r]}: {', '.join(ALIASES[r])} (or name it with {flag})."
            )
        raise InputError(" ".join(lines))
    return found
