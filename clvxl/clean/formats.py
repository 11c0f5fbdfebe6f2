"""Exports of other systems recognised by their header, and the same rules as options.

A Shopify, Stripe, WooCommerce, UCI Online Retail or subscription-invoice export is
recognised by columns that only it has (:data:`EXPORTS`) and read by its own rules: which
column is the customer, what the amount is, which statuses are revenue, whether an
order's fields stand on one line only. Any other log gets the same rules from options
(:class:`Reading`: ``--status-col``, ``--refund-col``, ``--unit-price-col``,
``--currency-col``, ``--where``). One note says how the file was read.

:func:`prepare` does what needs the whole log (the ``--where`` condition, one line per
order); what works line by line (statuses, refunds, placeholder ids, currencies) is done
while each batch is cleaned (:mod:`clvxl.clean.log`), from the :class:`Rules` it returns.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from clvxl.errors import InputError
from clvxl.sources import LogScan, RawLog

__all__ = ["EXPORTS", "PAID", "UNPAID", "Export", "Reading", "Rules", "prepare"]

#: Status words that are revenue, in several languages (compared in lower case).
PAID = (
    "paid", "succeeded", "completed", "complete", "processing", "partially_refunded",
    "partially refunded", "settled", "captured", "bezahlt", "abgeschlossen", "erledigt",
    "payé", "paye", "réglé", "pagado", "completado", "betaald", "voltooid", "maksettu",
    "valmis", "lunas", "dibayar", "selesai",
)
#: Status words that are not revenue: failed, void, pending, cancelled, refunded.
UNPAID = (
    "failed", "declined", "void", "voided", "pending", "pending payment", "on-hold",
    "on hold", "draft", "open", "uncollectible", "authorized", "cancelled", "canceled",
    "refunded", "expired", "fehlgeschlagen", "storniert", "offen", "ausstehend",
    "erstattet", "échoué", "annulé", "en attente", "remboursé", "fallido", "cancelado",
    "pendiente", "reembolsado", "mislukt", "geannuleerd", "in afwachting", "terugbetaald",
    "epäonnistunut", "peruttu", "odottaa", "hyvitetty", "gagal", "dibatalkan", "tertunda",
    "dikembalikan",
)
#: Customer ids that stand for "no customer" (guest checkouts, exports' fillers).
PLACEHOLDER_IDS = ("0", "guest", "n/a", "na", "#n/a", "null", "none", "-", "unknown")
#: Document types that are credit notes: their amounts are refunds whatever their sign.
CREDIT_TYPES = (
    "gutschrift", "credit memo", "credit note", "credit", "avoir", "nota de crédito",
    "abono", "creditnota", "creditfactuur", "hyvityslasku", "hyvitys", "nota kredit",
)
#: Total and subtotal rows of a spreadsheet: left out with a note.
TOTAL_WORDS = (
    "total", "totals", "grand total", "subtotal", "sub-total", "sum", "summe", "gesamt",
    "gesamtsumme", "zwischensumme", "total général", "sous-total", "totaal", "subtotaal",
    "yhteensä", "yhteensa", "välisumma", "jumlah", "total keseluruhan", "subtotal",
)


@dataclass(frozen=True)
class Reading:
    """How to read a log beyond its column names (the command line's reading options).

    Attributes
    ----------
    format : str, optional
        A name of :data:`EXPORTS` to read the file as, ``"plain"`` to recognise none;
        None: recognised by the header.
    paid_status : tuple of str
        Status values that are revenue (``--paid-status``); empty: :data:`PAID`.
    currency : str, optional
        The one currency to keep when the log has a currency column (``--currency``);
        ``"any"``: the amounts are in one currency already (converted), whatever the
        column says.
    where : str, optional
        An SQL condition on the raw columns (``--where``); other lines are left out.
    """

    format: str | None = None
    paid_status: tuple[str, ...] = ()
    currency: str | None = None
    where: str | None = None


@dataclass(frozen=True)
class Export:
    """A known export: the columns that show it and how it is read."""

    label: str
    signature: tuple[str, ...]
    columns: Mapping[str, str]  # role -> header
    paid: tuple[str, ...] = ()
    one_line_per_order: bool = False  # order fields only on (or repeated on) its lines
    lower_ids: bool = False  # e-mail addresses
    blank_customers: bool = False  # lines without a customer left out, with a count
    zero_amounts: bool = False  # $0 (trial) lines are not purchases
    converted: bool = False  # amounts in one (settlement) currency: the currency column is not
    unit: str = "lines"
    reads: str = ""


EXPORTS: dict[str, Export] = {
    "shopify": Export(
        "a Shopify orders export",
        ("Name", "Email", "Financial Status", "Created at", "Total", "Refunded Amount",
         "Lineitem name"),
        {"customer_id": "Email", "order_id": "Name", "date": "Created at", "amount": "Total",
         "refund": "Refunded Amount", "status": "Financial Status"},
        paid=("paid", "partially_refunded", "refunded"),
        one_line_per_order=True, lower_ids=True, unit="orders",
        reads="customer = Email, order = Name, amount = Total − Refunded Amount",
    ),
    "stripe-payments": Export(
        "a Stripe payments export",
        ("id", "Created date (UTC)", "Converted Amount", "Converted Amount Refunded", "Status",
         "Customer ID"),
        {"customer_id": "Customer ID", "order_id": "id", "date": "Created date (UTC)",
         "amount": "Converted Amount", "refund": "Converted Amount Refunded",
         "status": "Status"},
        paid=("paid", "succeeded", "refunded"), blank_customers=True, converted=True,
        unit="charges",
        reads="customer = Customer ID, amount = Converted Amount − Converted Amount Refunded "
        "(the settlement currency)",
    ),
    "woocommerce": Export(
        "a WooCommerce orders export",
        ("Order Number", "Order Status", "Order Date", "Email (Billing)", "Order Total Amount",
         "Order Refund Amount"),
        {"customer_id": "Email (Billing)", "order_id": "Order Number", "date": "Order Date",
         "amount": "Order Total Amount", "refund": "Order Refund Amount",
         "status": "Order Status"},
        paid=("completed", "processing"), one_line_per_order=True, lower_ids=True,
        unit="orders",
        reads="customer = Email (Billing) (guests too, never user id 0), order = Order "
        "Number, amount = Order Total Amount − Order Refund Amount",
    ),
    "online-retail": Export(
        "a UCI Online Retail export",
        ("InvoiceNo", "StockCode", "Quantity", "InvoiceDate", "UnitPrice", "CustomerID"),
        {"customer_id": "CustomerID", "order_id": "InvoiceNo", "date": "InvoiceDate",
         "quantity": "Quantity", "unit_price": "UnitPrice"},
        blank_customers=True,
        reads="customer = CustomerID, order = InvoiceNo, amount = Quantity × UnitPrice "
        "(C invoices are cancellations: they subtract)",
    ),
    "online-retail-ii": Export(
        "a UCI Online Retail II export",
        ("Invoice", "StockCode", "Quantity", "InvoiceDate", "Price", "Customer ID"),
        {"customer_id": "Customer ID", "order_id": "Invoice", "date": "InvoiceDate",
         "quantity": "Quantity", "unit_price": "Price"},
        blank_customers=True,
        reads="customer = Customer ID, order = Invoice, amount = Quantity × Price "
        "(C invoices are cancellations: they subtract)",
    ),
    "stripe-invoices": Export(
        "a Stripe invoices export",
        ("id", "Amount Due", "Amount Paid", "Customer", "Date (UTC)", "Status", "Subscription"),
        {"customer_id": "Customer", "order_id": "id", "date": "Date (UTC)",
         "amount": "Amount Paid", "status": "Status"},
        paid=("paid",), zero_amounts=True, unit="invoices",
        reads="customer = Customer, amount = Amount Paid (not Amount Due)",
    ),
}


@dataclass(frozen=True)
class Rules:
    """What cleaning does line by line, decided once for the log."""

    paid: tuple[str, ...] = PAID
    paid_named: bool = False  # --paid-status: every other status is left out
    currency: str | None = None
    blank_customers: bool = False
    zero_amounts: bool = False
    lower_ids: bool = False
    unit: str = "lines"
    notes: tuple[str, ...] = field(default=())


def prepare(
    log: RawLog | LogScan, columns: Mapping[str, str], reading: Reading
) -> tuple[RawLog | LogScan, dict[str, str], Rules]:
    """The log to clean, its column overrides and the line rules, for ``reading``.

    A log that is no known export and needs no ``--where`` comes back as it is.
    """
    export = _export(log.columns, reading.format)
    paid = tuple(s.strip().lower() for s in reading.paid_status) or None
    if export is None:
        rules = Rules(paid=paid or PAID, paid_named=bool(paid), currency=reading.currency)
        return (_where(log, reading.where) if reading.where else log), dict(columns), rules
    note = f"read as {export.label}: {export.reads}" + (
        f", {', '.join(paid or export.paid)} {export.unit} only" if export.paid or paid else ""
    )
    rules = Rules(
        paid=paid or export.paid or PAID,
        paid_named=bool(paid),
        currency="any" if export.converted and reading.currency is None else reading.currency,
        blank_customers=export.blank_customers,
        zero_amounts=export.zero_amounts,
        lower_ids=export.lower_ids,
        unit=export.unit,
        notes=(note + f" (--format plain to read it as a plain log; {_named(export)})",),
    )
    if reading.where:
        log = _where(log, reading.where)
    if export.one_line_per_order:
        log = _one_line_per_order(log, export.columns["order_id"])
    return log, {**export.columns, **columns}, rules


def _named(export: Export) -> str:
    name = next(k for k, v in EXPORTS.items() if v is export)
    return f"--format {name} to force it"


def _export(header: list[str], name: str | None) -> Export | None:
    if name == "plain":
        return None
    if name is not None:
        if name not in EXPORTS:
            raise InputError(
                f"unknown --format {name!r}; known: {', '.join(EXPORTS)}, or plain"
            )
        missing = [c for c in EXPORTS[name].signature if c not in header]
        if missing:
            raise InputError(
                f"the file is not {EXPORTS[name].label}: it has no column "
                f"{', '.join(map(repr, missing))}"
            )
        return EXPORTS[name]
    return next((e for e in EXPORTS.values() if set(e.signature) <= set(header)), None)


def _whole(log: RawLog | LogScan) -> tuple[pd.DataFrame, np.ndarray, str]:
    """The whole table, the row each line has for the user, and the source's name."""
    frames, rows = [], []
    for batch in log.batches():
        frames.append(batch.table)
        rows.append(batch.row_numbers(np.arange(len(batch.table))))
    table = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=log.columns)
    return table, np.concatenate(rows) if rows else np.array([], np.int64), log.source


def _where(log: RawLog | LogScan, condition: str) -> RawLog:
    """The lines of ``log`` for which the SQL ``condition`` holds (run by DuckDB)."""
    import duckdb

    table, rows, source = _whole(log)
    frame = table.assign(__line=np.arange(len(table)))
    try:
        with duckdb.connect() as con:
            con.register("log", frame)
            keep = con.execute(f"SELECT __line FROM log WHERE ({condition})").fetchnumpy()
    except duckdb.Error as exc:
        raise InputError(
            f"--where {condition!r} could not be run on the columns "
            f"{', '.join(map(repr, table.columns))}: {str(exc).splitlines()[0]}"
        ) from None
    lines = np.sort(keep["__line"].astype(np.int64))
    return RawLog(table.iloc[lines].reset_index(drop=True), source, rows=rows[lines],
                  notes=(f"--where {condition}: {len(lines):,} of {len(table):,} lines kept",))


def _one_line_per_order(log: RawLog | LogScan, order: str) -> RawLog:
    """One line per order, each field from the first of its lines that has it.

    Shopify writes an order's fields on its first line only, WooCommerce repeats them
    on every item line: either way the order is counted once, its total once.
    """
    table, rows, source = _whole(log) if isinstance(log, LogScan) or log.rows is None else (
        log.table, log.rows, log.source
    )
    key = table[order].fillna("").astype(str).str.strip()
    first = ~key.duplicated().to_numpy()
    merged = table.groupby(key, sort=False).first().reset_index(drop=True)
    merged = merged.reindex(columns=table.columns)
    notes = log.notes if isinstance(log, RawLog) else ()
    return dataclasses.replace(
        RawLog.from_frame(merged, source), rows=rows[first], notes=notes,
        text_file=None,
    )
