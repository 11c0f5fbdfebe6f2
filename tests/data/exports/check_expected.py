#!/usr/bin/env python3
"""Recompute every fixture's per-customer result from the fixture FILES with
pandas (independently of make_fixtures.py / make_erp.py) and assert that it
equals the hand-worked expected.json.

Run:  /work/staging/.venv/bin/python check_expected.py
Needs: pandas, openpyxl.
"""
import json
import os
import sys

import pandas as pd

HERE = os.path.dirname(os.path.abspath(__file__))


def p(name):
    return os.path.join(HERE, name)


def read_str_csv(name, **kw):
    return pd.read_csv(p(name), dtype=str, keep_default_na=False, **kw)


def summarise(df, cust, order, amount, date):
    """df: one row per *contributing line*; rows flagged is_order=False only
    add to revenue (refund / credit / cancellation lines)."""
    out = {}
    for c, g in df.groupby(cust, sort=True):
        orders = g[g["is_order"]]
        out[str(c)] = {
            "orders": int(orders[order].nunique()),
            "revenue": round(float(g[amount].sum()), 2),
            "first_purchase": str(orders[date].min()),
            "last_purchase": str(orders[date].max()),
        }
    return out


# ----------------------------------------------------------------------------
def shopify():
    df = read_str_csv("shopify_orders.csv")
    # order-level fields sit on the first line of each order only
    first = df[df["Financial Status"] != ""].copy()
    assert first["Name"].is_unique
    first["total"] = first["Total"].astype(float)
    first["refunded"] = first["Refunded Amount"].replace("", "0").astype(float)
    first["net"] = first["total"] - first["refunded"]
    first["day"] = first["Created at"].str.slice(0, 10)  # local date as written
    st = first["Financial Status"]
    left = {
        "voided": int((st == "voided").sum()),
        "pending": int((st == "pending").sum()),
        "fully_refunded": int(((st == "refunded") | (first["net"].round(2) == 0)).sum()),
    }
    keep = first[st.isin(["paid", "partially_refunded"]) & (first["net"].round(2) != 0)].copy()
    keep["is_order"] = True
    return summarise(keep, "Email", "Name", "net", "day"), left


def stripe_payments():
    df = read_str_csv("stripe_payments.csv")
    for c in ("Converted Amount", "Converted Amount Refunded"):
        df[c] = df[c].replace("", "0").astype(float)
    df["net"] = df["Converted Amount"] - df["Converted Amount Refunded"]
    df["day"] = df["Created date (UTC)"].str.slice(0, 10)
    failed = df["Status"].str.lower() == "failed"
    nocust = (~failed) & (df["Customer ID"] == "")
    full_ref = (~failed) & (~nocust) & (df["net"].round(2) == 0)
    left = {"failed": int(failed.sum()), "no_customer": int(nocust.sum()),
            "fully_refunded": int(full_ref.sum())}
    keep = df[~failed & ~nocust & ~full_ref].copy()
    keep["is_order"] = True
    return summarise(keep, "Customer ID", "id", "net", "day"), left


def woocommerce():
    df = read_str_csv("woocommerce_orders.csv")
    # item rows repeat the order columns -> one row per order
    orders = df.drop_duplicates("Order Number").copy()
    orders["net"] = orders["Order Total Amount"].astype(float) - \
        orders["Order Refund Amount"].replace("", "0").astype(float)
    orders["day"] = orders["Order Date"].str.slice(0, 10)
    orders["email"] = orders["Email (Billing)"].str.strip().str.lower()
    status_key = {"Completed": None, "Processing": None, "Cancelled": "cancelled",
                  "Pending payment": "pending", "Failed": "failed", "On hold": "on-hold",
                  "Refunded": "refunded"}
    left = {}
    for s in orders["Order Status"]:
        k = status_key[s]
        if k:
            left[k] = left.get(k, 0) + 1
    keep = orders[orders["Order Status"].isin(["Completed", "Processing"])].copy()
    assert (keep["email"] != "").all()
    keep["is_order"] = True
    return summarise(keep, "email", "Order Number", "net", "day"), left


def online_retail(name, inv, price, cust, datefmt):
    df = read_str_csv(name)
    blank = df[cust].str.strip() == ""
    left = {"blank_customer": int(blank.sum())}
    d = df[~blank].copy()
    d["cid"] = d[cust].astype(float).astype(int).astype(str)   # "17850.0" -> "17850"
    d["amt"] = d["Quantity"].astype(int) * d[price].astype(float)
    d["day"] = pd.to_datetime(d["InvoiceDate"], format=datefmt).dt.strftime("%Y-%m-%d")
    d["is_order"] = ~d[inv].str.upper().str.startswith("C")
    return summarise(d, "cid", inv, "amt", "day"), left


def german():
    raw = open(p("german_excel.csv"), "rb").read()
    assert not raw.startswith(b"\xef\xbb\xbf") and b"\r\n" in raw
    raw.decode("cp1252")  # must decode as Windows-1252
    try:
        raw.decode("utf-8")
        raise AssertionError("german_excel.csv unexpectedly valid UTF-8")
    except UnicodeDecodeError:
        pass
    df = pd.read_csv(p("german_excel.csv"), sep=";", encoding="cp1252", dtype=str,
                     keep_default_na=False)
    total = df["Kundennummer"].str.strip().str.lower().isin(["summe", "gesamt", "total"])
    left = {"total_row": int(total.sum())}
    d = df[~total].copy()
    d["net"] = d["Nettobetrag"].str.replace(".", "", regex=False)\
        .str.replace(",", ".", regex=False).astype(float)
    credit = d["Belegart"].str.lower() == "gutschrift"
    d.loc[credit, "net"] = -d.loc[credit, "net"].abs()          # credit note = refund
    d["day"] = pd.to_datetime(d["Belegdatum"], format="%d.%m.%Y").dt.strftime("%Y-%m-%d")
    d["is_order"] = ~credit
    # sanity: the file's own Summe row equals the sum of the signed net column
    summe = float(df.loc[total, "Nettobetrag"].iloc[0].replace(".", "").replace(",", "."))
    assert round(d["net"].sum(), 2) == summe
    return summarise(d, "Kundennummer", "Belegnummer", "net", "day"), left


def erp():
    from openpyxl import load_workbook
    ws = load_workbook(p("erp_export.xlsx")).active
    assert ws.column_dimensions["D"].hidden, "Line No. column should be hidden"
    df = pd.read_excel(p("erp_export.xlsx"), header=2, dtype=object)  # 2 title rows
    total = df["Posting Date"].astype(str).str.strip().str.lower() == "total"
    left = {"total_row": int(total.sum())}
    d = df[~total].copy()
    assert any(isinstance(v, str) for v in d["Amount"]), "expected one number-as-text"
    d["net"] = d["Amount"].map(lambda v: float(str(v).replace(",", "")))
    credit = d["Document Type"].str.lower() == "credit memo"
    d.loc[credit, "net"] = -d.loc[credit, "net"].abs()
    d["day"] = pd.to_datetime(d["Posting Date"]).dt.strftime("%Y-%m-%d")
    d["cust"] = d["Sell-to Customer No."].astype(str)
    d["doc"] = d["Document No."].astype(str)
    d["is_order"] = ~credit
    return summarise(d, "cust", "doc", "net", "day"), left


def stripe_invoices():
    df = read_str_csv("stripe_invoices.csv")
    df["paid_amt"] = df["Amount Paid"].astype(float)
    df["day"] = df["Date (UTC)"].str.slice(0, 10)
    left = {}
    keep_mask = []
    for _, r in df.iterrows():
        if r["Status"] != "paid":
            left[r["Status"]] = left.get(r["Status"], 0) + 1
            keep_mask.append(False)
        elif r["paid_amt"] == 0:
            left["zero_amount_trial"] = left.get("zero_amount_trial", 0) + 1
            keep_mask.append(False)
        else:
            keep_mask.append(True)
    keep = df[keep_mask].copy()
    keep["is_order"] = True
    return summarise(keep, "Customer", "id", "paid_amt", "day"), left


def finnish():
    raw = open(p("finnish.csv"), "rb").read()
    assert raw.startswith(b"\xef\xbb\xbf")
    df = pd.read_csv(p("finnish.csv"), sep=";", encoding="utf-8-sig", dtype=str,
                     keep_default_na=False)
    total = df["Laskunumero"].str.strip().str.lower() == "yhteensä"
    left = {"total_row": int(total.sum())}
    d = df[~total].copy()
    d["amt"] = d["Summa"].str.replace("\u00a0", "", regex=False)\
        .str.replace(" ", "", regex=False).str.replace(",", ".", regex=False).astype(float)
    d["day"] = pd.to_datetime(d["Päivämäärä"], format="%d.%m.%Y").dt.strftime("%Y-%m-%d")
    d["is_order"] = True
    return summarise(d, "Asiakas", "Laskunumero", "amt", "day"), left


CHECKS = {
    "shopify_orders.csv": shopify,
    "stripe_payments.csv": stripe_payments,
    "woocommerce_orders.csv": woocommerce,
    "online_retail.csv": lambda: online_retail("online_retail.csv", "InvoiceNo", "UnitPrice",
                                               "CustomerID", "%m/%d/%Y %H:%M"),
    "online_retail_ii.csv": lambda: online_retail("online_retail_ii.csv", "Invoice", "Price",
                                                  "Customer ID", "%Y-%m-%d %H:%M:%S"),
    "german_excel.csv": german,
    "erp_export.xlsx": erp,
    "stripe_invoices.csv": stripe_invoices,
    "finnish.csv": finnish,
}


def main():
    expected = json.load(open(p("expected.json"), encoding="utf-8"))
    assert set(expected) == set(CHECKS), set(expected) ^ set(CHECKS)
    bad = 0
    for name, fn in CHECKS.items():
        got_c, got_l = fn()
        exp = expected[name]
        exp_c = {k: dict(v, revenue=round(v["revenue"], 2)) for k, v in exp["customers"].items()}
        ok = got_c == exp_c and got_l == exp["left_out"]
        print(f"{'OK  ' if ok else 'FAIL'} {name}: {len(got_c)} customers, left_out={got_l}")
        if not ok:
            bad += 1
            print("  expected:", json.dumps(exp_c, ensure_ascii=False, sort_keys=True))
            print("  got:     ", json.dumps(got_c, ensure_ascii=False, sort_keys=True))
            print("  expected left_out:", exp["left_out"], " got:", got_l)
    if bad:
        sys.exit(f"{bad} fixture(s) disagree with expected.json")
    print("all fixtures match expected.json")


if __name__ == "__main__":
    main()
