"""Which column of a log is which: header names mapped to roles, in several languages."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping

from clvxl.errors import InputError

__all__ = ["ALIASES", "GROSS", "NAMED_ONLY", "REQUIRED", "find_columns", "gross_column"]

#: Accepted header names for each role, compared ignoring case, spaces and punctuation.
ALIASES: dict[str, tuple[str, ...]] = {
    "customer_id": (
        "customer_id", "customer", "customer_no", "customer_number", "customer_code", "cust_id",
        "client", "client_id", "account", "account_id", "user_id", "buyer", "master_id",
        "sell_to_customer_no", "bill_to_customer_no",
        "kundennummer", "kundennr", "kunde", "kunden_id", "debitor", "debitorennummer",  # de
        "numero_client", "code_client", "id_client",  # fr
        "cliente", "id_cliente", "numero_cliente",  # es
        "klant", "klantnummer", "klant_id",  # nl
        "asiakas", "asiakasnumero", "asiakas_id",  # fi
        "pelanggan", "id_pelanggan", "kode_pelanggan",  # id
    ),
    "date": (
        "date", "order_date", "transaction_date", "invoice_date", "purchase_date", "sale_date",
        "posting_date", "document_date", "timestamp", "datetime",
        "datum", "belegdatum", "rechnungsdatum", "buchungsdatum", "bestelldatum",  # de
        "date_facture", "date_de_facture", "date_commande",  # fr
        "fecha", "fecha_factura", "fecha_pedido",  # es
        "factuurdatum", "orderdatum",  # nl
        "paivamaara", "päivämäärä", "laskun_paiva", "laskun_päivä", "pvm",  # fi
        "tanggal", "tanggal_faktur", "tanggal_transaksi",  # id
    ),
    "amount": (  # net amounts before gross ones: a file with both is read net
        "amount", "revenue", "sales", "sales_amount", "net_amount", "order_value", "value",
        "total", "dollar_value", "net_sales", "turnover",
        "nettobetrag", "betrag", "umsatz", "netto",  # de
        "montant", "montant_ht", "chiffre_d_affaires",  # fr
        "importe", "importe_neto", "ventas",  # es
        "bedrag", "omzet", "netto_bedrag",  # nl
        "summa", "veroton_summa", "myynti",  # fi
        "jumlah", "total_penjualan", "nilai",  # id
    ),
    "order_id": (
        "order_id", "order", "order_no", "order_number", "invoice", "invoice_no",
        "invoice_number", "transaction_id", "receipt", "document_no", "document_number",
        "belegnummer", "belegnr", "rechnungsnummer", "rechnungsnr", "bestellnummer",  # de
        "numero_facture", "numero_de_facture", "numero_commande",  # fr
        "numero_factura", "factura", "pedido",  # es
        "factuurnummer", "ordernummer",  # nl
        "laskunumero", "tilausnumero",  # fi
        "nomor_faktur", "no_faktur", "nomor_invoice",  # id
    ),
    "cost": ("cost", "cogs", "cost_of_goods", "cost_of_sales", "unit_cost_total"),
    "margin": ("margin", "gross_margin", "profit", "gross_profit"),
    "quantity": ("quantity", "qty", "units", "number_of_cds", "menge", "quantite", "cantidad",
                 "aantal", "maara", "määrä", "kuantitas"),
    "unit_price": ("unit_price", "unitprice", "price", "unit_price_excl_vat", "einzelpreis",
                   "prix_unitaire", "precio_unitario", "stukprijs", "yksikkohinta", "harga_satuan"),
    "document_type": ("document_type", "belegart", "dokumentart", "type_de_document",
                      "tipo_de_documento", "documenttype", "tositelaji", "jenis_dokumen"),
    # Status and refund only when named (--status-col ...) or by a known export: a
    # "Status" column may hold anything, and its words decide what is revenue. A currency
    # column is found by name: mixed currencies are refused, never added up.
    "status": ("status", "payment_status", "financial_status", "order_status"),
    "refund": ("refund", "refunded", "refunded_amount", "amount_refunded", "refund_amount"),
    "currency": ("currency", "wahrung", "währung", "devise", "moneda", "valuta"),
}
#: Roles found only when named, never from the header alone.
NAMED_ONLY = ("status", "refund")
#: Gross amounts: never read as the amount; named in a note when the net one is used.
GROSS = (
    "amount_including_vat", "amount_incl_vat", "gross_amount", "bruttobetrag", "brutto",
    "montant_ttc", "importe_bruto", "bruto_bedrag", "verollinen_summa", "jumlah_bruto",
)
REQUIRED = ("customer_id", "date", "amount")


def _key(name: object) -> str:
    """A header name without case, accents and punctuation: "Päivämäärä" -> "paivamaara"."""
    plain = unicodedata.normalize("NFKD", str(name).lower())
    return re.sub(r"[^0-9a-z]", "", plain.encode("ascii", "ignore").decode())


def gross_column(header: list[str], amount: str) -> str | None:
    """A gross-amount column beside the (net) amount column, if the header has one."""
    gross = {_key(g) for g in GROSS}
    return next((h for h in header if _key(h) in gross and h != amount), None)


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
        if role in NAMED_ONLY and role not in columns:
            continue
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
    if "unit_price" in columns and "quantity" not in found:
        raise InputError(
            f"a unit price ({columns['unit_price']!r}) needs a quantity column to make the "
            "amount (quantity × unit price); name it with --quantity-col"
        )
    if ("amount" not in found or "unit_price" in columns) and {"quantity", "unit_price"} <= set(
        found
    ):
        found["amount"] = found["unit_price"]  # amount = quantity × unit price
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
