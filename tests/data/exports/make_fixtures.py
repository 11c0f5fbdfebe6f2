#!/usr/bin/env python3
"""Regenerate the CSV fixtures in this folder (everything except erp_export.xlsx,
which make_erp.py writes).

All amounts below are typed in by hand; nothing is computed here except the
German/Finnish "Summe"/"Yhteensä" footer rows, which are checked against the
hand-worked values with asserts.  expected.json is NOT produced by this script
(it was worked out by hand and is re-checked by check_expected.py).

Run:  /work/staging/.venv/bin/python make_fixtures.py   (stdlib only)
"""
import csv
import io
import os
from decimal import Decimal as D

HERE = os.path.dirname(os.path.abspath(__file__))


def write_csv(name, header, rows, *, delimiter=",", encoding="utf-8",
              lineterminator="\r\n", bom=False):
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=delimiter, lineterminator=lineterminator,
                   quoting=csv.QUOTE_MINIMAL)
    w.writerow(header)
    for r in rows:
        assert len(r) == len(header), (name, len(r), len(header), r[:3])
        w.writerow(r)
    data = buf.getvalue().encode(encoding)
    if bom:
        data = b"\xef\xbb\xbf" + data
    with open(os.path.join(HERE, name), "wb") as fh:
        fh.write(data)


# ---------------------------------------------------------------------------
# 1. Shopify orders export (Admin > Orders > Export, "CSV for Excel..." /
#    plain CSV).  One row per line item; order-level fields only on the first
#    line of an order.  Header = the 79-column layout (see README).
# ---------------------------------------------------------------------------
SHOPIFY_HEADER = (
    "Name,Email,Financial Status,Paid at,Fulfillment Status,Fulfilled at,"
    "Accepts Marketing,Currency,Subtotal,Shipping,Taxes,Total,Discount Code,"
    "Discount Amount,Shipping Method,Created at,Lineitem quantity,Lineitem name,"
    "Lineitem price,Lineitem compare at price,Lineitem sku,"
    "Lineitem requires shipping,Lineitem taxable,Lineitem fulfillment status,"
    "Billing Name,Billing Street,Billing Address1,Billing Address2,"
    "Billing Company,Billing City,Billing Zip,Billing Province,Billing Country,"
    "Billing Phone,Shipping Name,Shipping Street,Shipping Address1,"
    "Shipping Address2,Shipping Company,Shipping City,Shipping Zip,"
    "Shipping Province,Shipping Country,Shipping Phone,Notes,Note Attributes,"
    "Cancelled at,Payment Method,Payment Reference,Refunded Amount,Vendor,"
    "Outstanding Balance,Employee,Location,Device ID,Id,Tags,Risk Level,Source,"
    "Lineitem discount,Tax 1 Name,Tax 1 Value,Tax 2 Name,Tax 2 Value,"
    "Tax 3 Name,Tax 3 Value,Tax 4 Name,Tax 4 Value,Tax 5 Name,Tax 5 Value,"
    "Phone,Receipt Number,Duties,Billing Province Name,Shipping Province Name,"
    "Payment ID,Payment Terms Name,Next Payment Due At,Payment References"
).split(",")
assert len(SHOPIFY_HEADER) == 79

ADDR = {
    "alice": dict(name="Alice Moreau", street="12 Elm Street", city="Cambridge",
                  zip="'02139", prov="MA", prov_name="Massachusetts", phone="+16175550142"),
    "bob": dict(name="Bob Tanaka", street="455 Hudson St Apt 3B", city="New York",
                zip="'10014", prov="NY", prov_name="New York", phone="+12125550177"),
    "carol": dict(name="Carol Nguyen", street="88 Lake Shore Dr", city="Chicago",
                  zip="'60611", prov="IL", prov_name="Illinois", phone="+13125550110"),
    "dave": dict(name="Dave Okafor", street="3100 Peachtree Rd NE", city="Atlanta",
                 zip="'30305", prov="GA", prov_name="Georgia", phone="+14045550199"),
}
EMAIL = {"alice": "alice@example.com", "bob": "bob@example.org",
         "carol": "carol@example.net", "dave": "dave@example.com"}


def shopify_order(name, who, fin, paid_at, fulfil, fulfilled_at, marketing,
                  subtotal, shipping, taxes, total, created, lines, *,
                  ship_method="Standard", cancelled="", pay_method="Shopify Payments",
                  refunded="0.00", outstanding="0.00", order_id="", pay_id="",
                  disc_code="", disc_amt="0.00", tags="", notes=""):
    a = ADDR[who]
    rows = []
    for i, (qty, lname, price, sku, ship_req, taxable, lstatus, vendor) in enumerate(lines):
        r = dict.fromkeys(SHOPIFY_HEADER, "")
        r.update({
            "Name": name, "Lineitem quantity": qty, "Lineitem name": lname,
            "Lineitem price": price, "Lineitem compare at price": "",
            "Lineitem sku": sku, "Lineitem requires shipping": ship_req,
            "Lineitem taxable": taxable, "Lineitem fulfillment status": lstatus,
            "Vendor": vendor, "Lineitem discount": "0.00",
        })
        if i == 0:
            r.update({
                "Email": EMAIL[who], "Financial Status": fin, "Paid at": paid_at,
                "Fulfillment Status": fulfil, "Fulfilled at": fulfilled_at,
                "Accepts Marketing": marketing, "Currency": "USD",
                "Subtotal": subtotal, "Shipping": shipping, "Taxes": taxes,
                "Total": total, "Discount Code": disc_code, "Discount Amount": disc_amt,
                "Shipping Method": ship_method if shipping != "" else "",
                "Created at": created,
                "Billing Name": a["name"], "Billing Street": a["street"],
                "Billing Address1": a["street"], "Billing Address2": "",
                "Billing Company": "", "Billing City": a["city"], "Billing Zip": a["zip"],
                "Billing Province": a["prov"], "Billing Country": "US",
                "Billing Phone": a["phone"],
                "Shipping Name": a["name"], "Shipping Street": a["street"],
                "Shipping Address1": a["street"], "Shipping Address2": "",
                "Shipping Company": "", "Shipping City": a["city"], "Shipping Zip": a["zip"],
                "Shipping Province": a["prov"], "Shipping Country": "US",
                "Shipping Phone": a["phone"], "Notes": notes, "Note Attributes": "",
                "Cancelled at": cancelled, "Payment Method": pay_method,
                "Payment Reference": pay_id, "Refunded Amount": refunded,
                "Outstanding Balance": outstanding, "Employee": "", "Location": "",
                "Device ID": "", "Id": order_id, "Tags": tags, "Risk Level": "Low",
                "Source": "web",
                "Tax 1 Name": "Sales Tax 8%" if taxes not in ("", "0.00") else "",
                "Tax 1 Value": taxes if taxes not in ("", "0.00") else "",
                "Phone": "", "Receipt Number": "", "Duties": "",
                "Billing Province Name": a["prov_name"],
                "Shipping Province Name": a["prov_name"],
                "Payment ID": pay_id, "Payment Terms Name": "",
                "Next Payment Due At": "", "Payment References": pay_id,
            })
        rows.append([r[h] for h in SHOPIFY_HEADER])
    return rows


V = "Northside Coffee Co."
shopify_rows = []
# newest first, as the admin export lists them
shopify_rows += shopify_order(
    "#1009", "alice", "paid", "2024-12-20 19:45:34 -0500", "fulfilled",
    "2024-12-20 19:46:02 -0500", "yes", "50.00", "0.00", "0.00", "50.00",
    "2024-12-20 19:45:30 -0500",
    [("1", "Gift Card - $50.00", "50.00", "GC-50", "false", "false", "fulfilled", V)],
    order_id="5712340009", pay_id="c31857203309.1", ship_method="")
shopify_rows += shopify_order(
    "#1008", "carol", "paid", "2024-06-18 12:00:04 -0400", "fulfilled",
    "2024-06-19 09:31:00 -0400", "no", "42.00", "0.00", "3.36", "45.36",
    "2024-06-18 12:00:00 -0400",
    [("1", "Pour-over Kettle", "42.00", "KET-PO-1L", "true", "true", "fulfilled", V)],
    order_id="5712340008", pay_id="c31857203308.1", ship_method="Free Shipping")
shopify_rows += shopify_order(
    "#1007", "bob", "paid", "2024-12-02 07:05:12 -0500", "fulfilled",
    "2024-12-03 10:15:40 -0500", "yes", "31.00", "6.00", "2.48", "39.48",
    "2024-12-02 07:05:09 -0500",
    [("1", "Ceramic Mug - Sand", "18.00", "MUG-CER-SAND", "true", "true", "fulfilled", V),
     ("2", "Filter Papers (100)", "6.50", "FLT-100", "true", "true", "fulfilled", V)],
    order_id="5712340007", pay_id="c31857203307.1")
shopify_rows += shopify_order(
    "#1006", "dave", "paid", "2024-10-31 22:15:03 -0400", "fulfilled",
    "2024-11-01 08:02:11 -0400", "no", "49.00", "6.00", "3.92", "58.92",
    "2024-10-31 22:15:00 -0400",
    [("2", "Cold Brew Kit", "24.50", "CB-KIT", "true", "true", "fulfilled", V)],
    order_id="5712340006", pay_id="c31857203306.1")
shopify_rows += shopify_order(
    "#1005", "dave", "pending", "", "unfulfilled", "", "no",
    "42.00", "6.00", "3.36", "51.36", "2024-11-20 08:45:00 -0500",
    [("1", "Pour-over Kettle", "42.00", "KET-PO-1L", "true", "true", "pending", V)],
    order_id="5712340005", pay_method="Bank Deposit", outstanding="51.36")
shopify_rows += shopify_order(
    "#1004", "carol", "voided", "", "unfulfilled", "", "no",
    "43.00", "6.00", "3.44", "52.44", "2024-02-10 14:00:00 -0500",
    [("1", "Ceramic Mug - Sand", "18.00", "MUG-CER-SAND", "true", "true", "pending", V),
     ("1", "Tea Sampler", "25.00", "TEA-SMP-6", "true", "true", "pending", V)],
    order_id="5712340004", pay_id="c31857203304.1",
    cancelled="2024-02-10 16:20:45 -0500", notes="Customer asked to cancel - duplicate order")
shopify_rows += shopify_order(
    "#1003", "alice", "refunded", "2024-04-02 09:10:09 -0400", "fulfilled",
    "2024-04-03 11:00:00 -0400", "yes", "25.00", "5.00", "2.00", "32.00",
    "2024-04-02 09:10:05 -0400",
    [("1", "Tea Sampler", "25.00", "TEA-SMP-6", "true", "true", "fulfilled", V)],
    order_id="5712340003", pay_id="c31857203303.1", refunded="32.00")
shopify_rows += shopify_order(
    "#1002", "bob", "partially_refunded", "2024-03-15 23:30:04 -0400", "fulfilled",
    "2024-03-18 10:12:30 -0400", "yes", "120.00", "0.00", "9.60", "129.60",
    "2024-03-15 23:30:00 -0400",
    [("1", "Espresso Grinder", "120.00", "GRD-ESP-01", "true", "true", "fulfilled", V)],
    order_id="5712340002", pay_id="c31857203302.1", refunded="40.00",
    ship_method="Free Shipping", tags="price-adjustment")
shopify_rows += shopify_order(
    "#1001", "alice", "paid", "2024-01-05 10:22:15 -0500", "fulfilled",
    "2024-01-06 09:40:00 -0500", "yes", "78.00", "6.00", "6.24", "90.24",
    "2024-01-05 10:22:11 -0500",
    [("2", "Ceramic Mug - Sand", "18.00", "MUG-CER-SAND", "true", "true", "fulfilled", V),
     ("1", "Pour-over Kettle", "42.00", "KET-PO-1L", "true", "true", "fulfilled", V)],
    order_id="5712340001", pay_id="c31857203301.1")
write_csv("shopify_orders.csv", SHOPIFY_HEADER, shopify_rows, lineterminator="\n")


# ---------------------------------------------------------------------------
# 2. Stripe Dashboard > Payments > Export (unified_payments.csv), default
#    column set, settlement currency USD.  Newest first.
# ---------------------------------------------------------------------------
STRIPE_PAY_HEADER = [
    "id", "Created date (UTC)", "Amount", "Amount Refunded", "Currency", "Captured",
    "Converted Amount", "Converted Amount Refunded", "Converted Currency",
    "Decline Reason", "Description", "Fee", "Refunded date (UTC)",
    "Statement Descriptor", "Status", "Seller Message", "Taxes On Fee", "Card ID",
    "Customer ID", "Customer Description", "Customer Email", "Invoice ID", "Transfer",
]
CUS = {
    "A": ("cus_PQa1Anna7Kx2", "Anna Lindqvist", "anna.lindqvist@example.com"),
    "B": ("cus_PQb2Bernd9Lw4", "Bernd Hoffmann", "bernd.hoffmann@example.de"),
    "C": ("cus_PQc3Claire5Mz", "Claire Whitfield", "claire.w@example.co.uk"),
    "D": ("cus_PQd4Diego1Nr8", "Diego Ramírez", "diego.ramirez@example.com"),
}
OK_MSG = "Payment complete."
DECL = "The bank did not return any further details with this decline."
NSF = "The bank returned the decline code `insufficient_funds`."


def sp(cid, created, amt, refd, cur, captured, conv, conv_ref, decline, desc, fee,
       ref_date, status, msg, card, who):
    c_id, c_desc, c_mail = CUS[who] if who else ("", "", "")
    return [cid, created, amt, refd, cur, captured, conv, conv_ref, "usd", decline, desc,
            fee, ref_date, "NORTHSIDE COFFEE", status, msg, "0.00", card,
            c_id, c_desc, c_mail, "", ""]


stripe_rows = [
    sp("ch_3PBx13Lq2nYw1aE01Dg7sKq", "2024-05-02 18:20:00", "99.00", "0.00", "usd", "false",
       "0.00", "0.00", "card_declined", "Espresso Grinder", "0.00", "", "Failed", DECL,
       "card_1PBx0zLq2nYw1aE0dD4uQv2", "D"),
    sp("ch_3PBbw2Lq2nYw1aE01k5Tz9R", "2024-05-01 09:00:00", "35.00", "0.00", "eur", "true",
       "37.66", "0.00", "", "Payment Link: Tasting Session", "2.33", "", "Paid", OK_MSG,
       "card_1PBbvQLq2nYw1aE0m1Xc4Hj", None),
    sp("ch_3P4yH8Lq2nYw1aE00hM2bVc", "2024-04-15 12:00:00", "200.00", "0.00", "usd", "true",
       "200.00", "0.00", "", "Barista course (2 seats)", "6.10", "", "Paid", OK_MSG,
       "card_1P4yGwLq2nYw1aE0a9Lr3Tq", "D"),
    sp("ch_3P4ZkzLq2nYw1aE02sQ0dF1", "2024-04-12 10:10:10", "25.00", "0.00", "gbp", "true",
       "31.55", "0.00", "", "Coffee subscription box", "2.00", "", "Paid", OK_MSG,
       "card_1OyQ9kLq2nYw1aE0Jt6nWc8", "C"),
    sp("ch_3P1mTqLq2nYw1aE01cZ7yH3", "2024-04-04 07:30:00", "60.00", "0.00", "gbp", "false",
       "0.00", "0.00", "insufficient_funds", "Coffee subscription box x2", "0.00", "",
       "Failed", NSF, "card_1OyQ9kLq2nYw1aE0Jt6nWc8", "C"),
    sp("ch_3Ox8GdLq2nYw1aE00pW4sB6", "2024-03-22 23:59:59", "49.00", "0.00", "usd", "true",
       "49.00", "0.00", "", "Starter bundle", "1.72", "", "Paid", OK_MSG,
       "card_1OTk2hLq2nYw1aE0Bq8sVn1", "A"),
    sp("ch_3OpnE1Lq2nYw1aE02Vb9Xy0", "2024-03-03 13:00:00", "15.00", "0.00", "usd", "true",
       "15.00", "0.00", "", "Payment Link: Cupping ticket", "0.74", "", "Paid", OK_MSG,
       "card_1OpnDpLq2nYw1aE0R2zK8fL", None),
    sp("ch_3Op3s9Lq2nYw1aE01Hn5Qe2", "2024-03-01 08:05:44", "80.00", "20.00", "eur", "true",
       "86.96", "21.60", "", "Grinder + beans", "5.00", "2024-03-09 14:02:31", "Paid",
       OK_MSG, "card_1OWd5mLq2nYw1aE0Xa2Pj7e", "B"),
    sp("ch_3OjqP4Lq2nYw1aE00Rk3Lm9", "2024-02-14 20:30:00", "120.00", "120.00", "usd", "true",
       "120.00", "120.00", "", "Espresso Grinder", "3.78", "2024-02-16 09:11:04",
       "Refunded", OK_MSG, "card_1OjqOsLq2nYw1aE0Fv7Wb2c", "D"),
    sp("ch_3OiD7sLq2nYw1aE02Qa8Nc4", "2024-02-10 11:00:00", "49.00", "0.00", "usd", "false",
       "0.00", "0.00", "card_declined", "Starter bundle", "0.00", "", "Failed", DECL,
       "card_1OTk2hLq2nYw1aE0Bq8sVn1", "A"),
    sp("ch_3Of2KbLq2nYw1aE01Yt6Gw5", "2024-02-02 09:15:00", "30.00", "0.00", "gbp", "true",
       "38.10", "0.00", "", "Coffee subscription box", "2.36", "", "Paid", OK_MSG,
       "card_1OyQ9kLq2nYw1aE0Jt6nWc8", "C"),
    sp("ch_3OaLm7Lq2nYw1aE00Ue2Rf8", "2024-01-19 16:42:10", "45.00", "0.00", "eur", "true",
       "48.87", "0.00", "", "Beans sampler (3 x 250 g)", "2.94", "", "Paid", OK_MSG,
       "card_1OWd5mLq2nYw1aE0Xa2Pj7e", "B"),
    sp("ch_3OV9xRLq2nYw1aE02Lp4Kd7", "2024-01-05 10:00:00", "49.00", "0.00", "usd", "true",
       "49.00", "0.00", "", "Starter bundle", "1.72", "", "Paid", OK_MSG,
       "card_1OTk2hLq2nYw1aE0Bq8sVn1", "A"),
]
write_csv("stripe_payments.csv", STRIPE_PAY_HEADER, stripe_rows, lineterminator="\n")


# ---------------------------------------------------------------------------
# 3. WooCommerce - "Advanced Order Export For WooCommerce" (algolplus,
#    woo-order-export-lite), CSV, default field set + Order Id, Customer User
#    Id and Address 1 (Billing) switched on; products exported as rows with
#    "populate other columns" on, so order columns repeat on every item row.
# ---------------------------------------------------------------------------
WOO_HEADER = [
    "Order Id", "Order Number", "Order Status", "Order Date", "Customer Note",
    "Customer User Id",
    "First Name (Billing)", "Last Name (Billing)", "Company (Billing)",
    "Address 1 (Billing)", "Address 2 (Billing)", "City (Billing)",
    "State Code (Billing)", "Zip (Billing)", "Country Code (Billing)",
    "Email (Billing)", "Phone (Billing)",
    "First Name (Shipping)", "Last Name (Shipping)", "Address 1 (Shipping)",
    "Address 2 (Shipping)", "City (Shipping)", "State Code (Shipping)",
    "Zip (Shipping)", "Country Code (Shipping)",
    "Item #", "SKU", "Name", "Quantity", "Item Cost",
    "Coupon Code", "Discount Amount", "Discount Amount Tax",
    "Shipping Method Title", "Payment Method Title", "Cart Discount Amount",
    "Order Subtotal Amount", "Order Shipping Amount", "Order Refund Amount",
    "Order Total Amount", "Order Total Tax Amount",
]
WP = {  # first, last, company, addr1, addr2, city, state, zip, email, phone
    "maria": ("Maria", "Jensen", "", "1420 Oak Ave", "Unit 5", "Portland", "OR", "97205",
              "maria.jensen@example.com", "503-555-0131"),
    "tom": ("Tom", "Hughes", "Hughes Bakery LLC", "77 Market St", "", "Salem", "OR", "97301",
            "tom.h@example.net", "503-555-0188"),
    "lena": ("Lena", "Fischer", "", "9 Birch Ln", "", "Eugene", "OR", "97401",
             "lena.guest@example.com", "541-555-0164"),
    "sam": ("Sam", "Kowalski", "", "250 River Rd", "Apt 12", "Bend", "OR", "97701",
            "sam.k@example.org", "541-555-0112"),
    "noah": ("Noah", "Price", "", "18 Cedar Ct", "", "Medford", "OR", "97501",
             "noah.guest@example.com", "541-555-0190"),
}


def woo(oid, status, date, uid, who, items, coupons, ship_title, pay_title, cart_disc,
        subtotal, ship_amt, refund, total, tax, note=""):
    f, l, co, a1, a2, city, st, z, mail, ph = WP[who]
    rows = []
    n = max(len(items), len(coupons))
    for i in range(n):
        it = items[i] if i < len(items) else ("", "", "", "", "")
        cp = coupons[i] if i < len(coupons) else ("", "", "")
        rows.append([oid, oid, status, date, note, uid,
                     f, l, co, a1, a2, city, st, z, "US", mail, ph,
                     f, l, a1, a2, city, st, z, "US",
                     *it, *cp, ship_title, pay_title, cart_disc, subtotal, ship_amt,
                     refund, total, tax])
    return rows


FR = "Flat rate"
woo_rows = []
woo_rows += woo("3101", "Completed", "2024-02-03 14:05", "12", "maria",
                [("1", "HNY-500", "Organic Honey 500g", "2", "9.50"),
                 ("2", "CND-BW", "Beeswax Candle", "1", "14.00")], [],
                FR, "Credit Card (Stripe)", "0", "33.00", "4.95", "0", "40.59", "2.64")
woo_rows += woo("3102", "Processing", "2024-02-11 09:30", "0", "lena",
                [("1", "HNY-COMB", "Raw Honeycomb", "1", "18.00")], [],
                FR, "PayPal", "0", "18.00", "4.95", "0", "24.39", "1.44")
woo_rows += woo("3103", "Cancelled", "2024-02-12 16:47", "27", "tom",
                [("1", "HNY-GIFT", "Honey Gift Box", "1", "45.00")], [],
                FR, "Check payments", "0", "45.00", "4.95", "0", "53.55", "3.60",
                note="Please hold until next week")
woo_rows += woo("3104", "Completed", "2024-03-01 17:45", "27", "tom",
                [("1", "HNY-GIFT", "Honey Gift Box", "1", "45.00")], [],
                "Free shipping", "Credit Card (Stripe)", "0", "45.00", "0", "10",
                "48.60", "3.60")
woo_rows += woo("3105", "Pending payment", "2024-03-05 21:02", "0", "sam",
                [("1", "HNY-500", "Organic Honey 500g", "3", "9.50")], [],
                FR, "Direct bank transfer", "0", "28.50", "4.95", "0", "35.73", "2.28")
woo_rows += woo("3106", "Completed", "2024-03-19 11:11", "0", "lena",
                [("1", "HNY-500", "Organic Honey 500g", "1", "9.50"),
                 ("2", "DIP-OAK", "Honey Dipper", "2", "3.25")],
                [("spring10", "1.6", "0")],
                FR, "PayPal", "1.6", "16.00", "4.95", "0", "20.50", "1.15")
woo_rows += woo("3107", "Failed", "2024-04-02 13:26", "0", "noah",
                [("1", "CND-BW", "Beeswax Candle", "3", "14.00")], [],
                FR, "Credit Card (Stripe)", "0", "42.00", "4.95", "0", "50.31", "3.36")
woo_rows += woo("3108", "On hold", "2024-04-08 10:40", "12", "maria",
                [("1", "HNY-COMB", "Raw Honeycomb", "2", "18.00")], [],
                FR, "Direct bank transfer", "0", "36.00", "4.95", "0", "43.83", "2.88")
woo_rows += woo("3109", "Processing", "2024-04-20 08:00", "0", "sam",
                [("1", "CND-BW", "Beeswax Candle", "2", "14.00")], [],
                FR, "Credit Card (Stripe)", "0", "28.00", "4.95", "0", "35.19", "2.24")
woo_rows += woo("3110", "Completed", "2024-05-06 19:20", "12", "maria",
                [("1", "HNY-GIFT", "Honey Gift Box", "1", "45.00")], [],
                "Free shipping", "Credit Card (Stripe)", "0", "45.00", "0", "0", "48.60",
                "3.60")
woo_rows += woo("3111", "Refunded", "2024-05-10 15:33", "27", "tom",
                [("1", "HNY-COMB", "Raw Honeycomb", "1", "18.00")], [],
                FR, "Credit Card (Stripe)", "0", "18.00", "4.95", "24.39", "24.39", "1.44")
write_csv("woocommerce_orders.csv", WOO_HEADER, woo_rows)


# ---------------------------------------------------------------------------
# 4. UCI Online Retail (I) as commonly circulated in CSV (CustomerID written
#    as float by pandas, InvoiceDate in Excel US short format) and Online
#    Retail II (CSV conversion of online_retail_II.xlsx).
# ---------------------------------------------------------------------------
OR1_HEADER = ["InvoiceNo", "StockCode", "Description", "Quantity", "InvoiceDate",
              "UnitPrice", "CustomerID", "Country"]
UK = "United Kingdom"
or1 = [
    ["536365", "85123A", "WHITE HANGING HEART T-LIGHT HOLDER", "6", "12/1/2010 8:26", "2.55", "17850.0", UK],
    ["536365", "71053", "WHITE METAL LANTERN", "6", "12/1/2010 8:26", "3.39", "17850.0", UK],
    ["536365", "84406B", "CREAM CUPID HEARTS COAT HANGER", "8", "12/1/2010 8:26", "2.75", "17850.0", UK],
    ["536366", "22633", "HAND WARMER UNION JACK", "6", "12/1/2010 8:28", "1.85", "17850.0", UK],
    ["536366", "22632", "HAND WARMER RED POLKA DOT", "6", "12/1/2010 8:28", "1.85", "17850.0", UK],
    ["536367", "84879", "ASSORTED COLOUR BIRD ORNAMENT", "32", "12/1/2010 8:34", "1.69", "13047.0", UK],
    ["536367", "22745", "POPPY'S PLAYHOUSE BEDROOM ", "6", "12/1/2010 8:34", "2.1", "13047.0", UK],
    ["536370", "22728", "ALARM CLOCK BAKELIKE PINK", "24", "12/1/2010 8:45", "3.75", "12583.0", "France"],
    ["536370", "22727", "ALARM CLOCK BAKELIKE RED ", "24", "12/1/2010 8:45", "3.75", "12583.0", "France"],
    ["536370", "POST", "POSTAGE", "3", "12/1/2010 8:45", "18.0", "12583.0", "France"],
    ["C536383", "35004C", "SET OF 3 COLOURED  FLYING DUCKS", "-1", "12/1/2010 9:49", "4.65", "17850.0", UK],
    ["536414", "22139", "", "56", "12/1/2010 11:52", "0.0", "", UK],
    ["536544", "21773", "DECORATIVE ROSE BATHROOM BOTTLE", "1", "12/1/2010 14:32", "2.51", "", UK],
    ["537126", "22961", "JAM MAKING SET PRINTED", "12", "12/5/2010 12:10", "1.45", "13047.0", UK],
    ["537126", "84879", "ASSORTED COLOUR BIRD ORNAMENT", "8", "12/5/2010 12:10", "1.69", "13047.0", UK],
    ["C537251", "22745", "POPPY'S PLAYHOUSE BEDROOM ", "-2", "12/6/2010 10:45", "2.1", "13047.0", UK],
    ["544812", "85123A", "WHITE HANGING HEART T-LIGHT HOLDER", "12", "2/23/2011 14:25", "2.55", "17850.0", UK],
]
write_csv("online_retail.csv", OR1_HEADER, or1, lineterminator="\n")

OR2_HEADER = ["Invoice", "StockCode", "Description", "Quantity", "InvoiceDate", "Price",
              "Customer ID", "Country"]
or2 = [
    ["489434", "85048", "15CM CHRISTMAS GLASS BALL 20 LIGHTS", "12", "2009-12-01 07:45:00", "6.95", "13085.0", UK],
    ["489434", "79323P", "PINK CHERRY LIGHTS", "12", "2009-12-01 07:45:00", "6.75", "13085.0", UK],
    ["489434", "79323W", " WHITE CHERRY LIGHTS", "12", "2009-12-01 07:45:00", "6.75", "13085.0", UK],
    ["489435", "22350", "CAT BOWL ", "12", "2009-12-01 07:46:00", "2.55", "13085.0", UK],
    ["489435", "22349", "DOG BOWL , CHASING BALL DESIGN", "12", "2009-12-01 07:46:00", "3.75", "13085.0", UK],
    ["489436", "48173C", "DOOR MAT BLACK FLOCK ", "10", "2009-12-01 09:06:00", "5.95", "13078.0", UK],
    ["489436", "21755", "LOVE BUILDING BLOCK WORD", "18", "2009-12-01 09:06:00", "5.45", "13078.0", UK],
    ["489446", "22087", "PAPER BUNTING WHITE LACE", "24", "2009-12-01 10:06:00", "2.95", "16321.0", "Australia"],
    ["489446", "85206A", "CREAM FELT EASTER EGG BASKET", "12", "2009-12-01 10:06:00", "1.65", "16321.0", "Australia"],
    ["C489449", "22087", "PAPER BUNTING WHITE LACE", "-12", "2009-12-01 10:33:00", "2.95", "16321.0", "Australia"],
    ["C489449", "85206A", "CREAM FELT EASTER EGG BASKET", "-6", "2009-12-01 10:33:00", "1.65", "16321.0", "Australia"],
    ["489597", "21166", "COOK WITH WINE METAL SIGN ", "1", "2009-12-01 14:28:00", "4.3", "", UK],
    ["489597", "21169", "YOU'RE CONFUSING ME METAL SIGN ", "1", "2009-12-01 14:28:00", "3.43", "", UK],
    ["491000", "21755", "LOVE BUILDING BLOCK WORD", "6", "2009-12-09 12:15:00", "5.45", "13078.0", UK],
    ["493410", "85048", "15CM CHRISTMAS GLASS BALL 20 LIGHTS", "6", "2010-01-04 09:24:00", "6.95", "13085.0", UK],
]
write_csv("online_retail_ii.csv", OR2_HEADER, or2, lineterminator="\n")


# ---------------------------------------------------------------------------
# 5. German Excel "CSV (Trennzeichen-getrennt)": ';' separator, decimal comma,
#    '.' thousands, dd.mm.yyyy, Windows-1252, CRLF, no BOM, total row at end.
# ---------------------------------------------------------------------------
DE_HEADER = ["Kundennummer", "Kundenname", "Belegart", "Belegnummer", "Belegdatum",
             "Bemerkung", "Nettobetrag", "USt-Satz", "USt-Betrag", "Bruttobetrag", "Währung"]
K1 = "Bäckerei „Zum Löwen“ GmbH"
K2 = "Müller & Söhne KG"
K3 = "Café Größenwahn"
K4 = "Ingenieurbüro Weiß – Planung & Beratung"
de = [  # net, vat, gross typed by hand (19 %)
    ["10001", K1, "Rechnung", "RE-2024-0001", "08.01.2024", "Backofen-Wartung Januar – inkl. Anfahrt", "1.234,50", "19 %", "234,56", "1.469,06", "EUR"],
    ["10002", K2, "Rechnung", "RE-2024-0002", "15.01.2024", "Regalsystem „Lager Nord“", "860,00", "19 %", "163,40", "1.023,40", "EUR"],
    ["10001", K1, "Rechnung", "RE-2024-0003", "02.02.2024", "Ersatzteile; Dichtungen und Thermostat", "412,80", "19 %", "78,43", "491,23", "EUR"],
    ["10001", K1, "Gutschrift", "GS-2024-0001", "09.02.2024", "Gutschrift zu RE-2024-0001 – Kulanz 100 € netto", "-100,00", "19 %", "-19,00", "-119,00", "EUR"],
    ["10003", K3, "Rechnung", "RE-2024-0004", "29.02.2024", "Siebträgermaschine „Duo“ inkl. Einweisung", "2.100,00", "19 %", "399,00", "2.499,00", "EUR"],
    ["10002", K2, "Rechnung", "RE-2024-0005", "14.03.2024", "Kleinmaterial", "95,50", "19 %", "18,15", "113,65", "EUR"],
    ["10004", K4, "Rechnung", "RE-2024-0006", "28.03.2024", "Planung Lüftung – Phase 1 (Pauschale 3.450 €)", "3.450,00", "19 %", "655,50", "4.105,50", "EUR"],
    ["10004", K4, "Gutschrift", "GS-2024-0002", "05.04.2024", "Teilgutschrift Phase 1; Leistung entfallen", "-450,00", "19 %", "-85,50", "-535,50", "EUR"],
    ["10003", K3, "Rechnung", "RE-2024-0007", "18.04.2024", "Wartungsvertrag Q2", "640,00", "19 %", "121,60", "761,60", "EUR"],
    ["10002", K2, "Rechnung", "RE-2024-0008", "30.04.2024", "Montage Regalsystem – 11,5 Std.", "1.005,25", "19 %", "191,00", "1.196,25", "EUR"],
]


def de_num(s):
    return D(s.replace(".", "").replace(",", "."))


def de_fmt(x):
    s = f"{x:,.2f}"  # 1,234.50
    return s.replace(",", "X").replace(".", ",").replace("X", ".")


net = sum(de_num(r[6]) for r in de)
vat = sum(de_num(r[8]) for r in de)
gross = sum(de_num(r[9]) for r in de)
for r in de:  # each row: net + vat == gross
    assert de_num(r[6]) + de_num(r[8]) == de_num(r[9]), r[3]
assert net == D("9248.05") and vat == D("1757.14") and gross == D("11005.19")
de.append(["Summe", "", "", "", "", "", de_fmt(net), "", de_fmt(vat), de_fmt(gross), "EUR"])
write_csv("german_excel.csv", DE_HEADER, de, delimiter=";", encoding="cp1252")


# ---------------------------------------------------------------------------
# 7. Stripe Dashboard > Invoices > Export (invoices.csv).
# ---------------------------------------------------------------------------
INV_HEADER = [
    "id", "Amount Due", "Amount Paid", "Amount Remaining", "Application Fee",
    "Attempt Count", "Attempted", "Auto Advance", "Billing", "Billing Reason", "Charge",
    "Closed", "Currency", "Customer", "Customer Email", "Customer Name", "Date (UTC)",
    "Description", "Due Date (UTC)", "Ending Balance", "Finalized At (UTC)", "Forgiven",
    "Marked Uncollectible At (UTC)", "Number", "Paid", "Paid At (UTC)", "Period End (UTC)",
    "Period Start (UTC)", "Receipt Number", "Starting Balance", "Statement Descriptor",
    "Status", "Subscription", "Subtotal", "Tax", "Tax Percent", "Total",
    "Voided At (UTC)", "Minimum Line Item Period Start (UTC)",
    "Maximum Line Item Period End (UTC)", "Total Discount Amount", "Applied Coupons",
]
ACC = {  # customer id, email, name, subscription, invoice number prefix
    "A": ("cus_PkA1acme0001", "billing@acme-analytics.example", "Acme Analytics", "sub_1PkA1acmeSubX01", "8F3A21C0"),
    "B": ("cus_PkB2bright002", "ap@brightside.example", "Brightside Studio", "sub_1PkB2brightSub02", "8F3A21C1"),
    "C": ("cus_PkC3cedar0003", "finance@cedarlabs.example", "Cedar Labs", "sub_1PkC3cedarSub03", "8F3A21C2"),
    "D": ("cus_PkD4delta0004", "owner@deltafit.example", "Delta Fitness", "sub_1PkD4deltaSub04", "8F3A21C3"),
    "E": ("cus_PkE5echo00005", "accounts@echo-media.example", "Echo Media", "sub_1PkE5echoSub005", "8F3A21C4"),
}


def inv(iid, acc, seq, date, status, reason, due, paid_amt, subtotal, total, *,
        charge="", attempts="1", paid_at="", pstart="", pend="", lstart="", lend="",
        start_bal="0.00", end_bal="0.00", disc="0.00", coupons="", marked="", voided="",
        desc="", finalized=None):
    cid, mail, name, sub, pre = ACC[acc]
    is_draft = status == "draft"
    remaining = "0.00" if status in ("paid", "void") else due
    return [
        iid, due, paid_amt, remaining, "", "0" if is_draft else attempts,
        "false" if is_draft else "true", "true", "charge_automatically", reason, charge,
        "true" if status in ("paid", "void", "uncollectible") else "false", "usd",
        cid, mail, name, date, desc, "", end_bal,
        "" if is_draft else (finalized or date), "false", marked,
        "" if is_draft else f"{pre}-{seq:04d}", "true" if status == "paid" else "false",
        paid_at, pend, pstart, "", start_bal, "", status, sub, subtotal, "", "", total,
        voided, lstart, lend, disc, coupons,
    ]


invoices = [
    # --- A: Acme Analytics, monthly 49.00, 1-month trial, steady; draft at the end
    inv("in_1OVaAc01Lq2nYw1a", "A", 1, "2024-01-03 09:12", "paid", "subscription_create", "0.00", "0.00", "0.00", "0.00",
        paid_at="2024-01-03 09:12", pstart="2024-01-03 09:12", pend="2024-01-03 09:12",
        lstart="2024-01-03 09:12", lend="2024-02-03 09:12", desc="Trial period for Growth (monthly)"),
    inv("in_1Of8Ac02Lq2nYw1a", "A", 2, "2024-02-03 10:12", "paid", "subscription_cycle", "49.00", "49.00", "49.00", "49.00",
        charge="ch_3Of8Ac02Lq2nYw1a0a", paid_at="2024-02-03 11:13", pstart="2024-01-03 09:12", pend="2024-02-03 09:12",
        lstart="2024-02-03 09:12", lend="2024-03-03 09:12"),
    inv("in_1OpXAc03Lq2nYw1a", "A", 3, "2024-03-03 10:12", "paid", "subscription_cycle", "49.00", "49.00", "49.00", "49.00",
        charge="ch_3OpXAc03Lq2nYw1a0b", paid_at="2024-03-03 11:12", pstart="2024-02-03 09:12", pend="2024-03-03 09:12",
        lstart="2024-03-03 09:12", lend="2024-04-03 09:12"),
    inv("in_1P1cAc04Lq2nYw1a", "A", 4, "2024-04-03 10:12", "paid", "subscription_cycle", "49.00", "49.00", "49.00", "49.00",
        charge="ch_3P2GAc04Lq2nYw1a0c", attempts="2", paid_at="2024-04-06 11:40", pstart="2024-03-03 09:12",
        pend="2024-04-03 09:12", lstart="2024-04-03 09:12", lend="2024-05-03 09:12"),
    inv("in_1PCbAc05Lq2nYw1a", "A", 5, "2024-05-03 10:12", "paid", "subscription_cycle", "49.00", "49.00", "49.00", "49.00",
        charge="ch_3PCbAc05Lq2nYw1a0d", paid_at="2024-05-03 11:12", pstart="2024-04-03 09:12", pend="2024-05-03 09:12",
        lstart="2024-05-03 09:12", lend="2024-06-03 09:12"),
    inv("in_1POZAc06Lq2nYw1a", "A", 6, "2024-06-03 10:12", "paid", "subscription_cycle", "49.00", "49.00", "49.00", "49.00",
        charge="ch_3POZAc06Lq2nYw1a0e", paid_at="2024-06-03 11:12", pstart="2024-05-03 09:12", pend="2024-06-03 09:12",
        lstart="2024-06-03 09:12", lend="2024-07-03 09:12"),
    inv("in_1PYtAc07Lq2nYw1a", "A", 7, "2024-07-03 10:12", "draft", "subscription_cycle", "49.00", "0.00", "49.00", "49.00",
        pstart="2024-06-03 09:12", pend="2024-07-03 09:12", lstart="2024-07-03 09:12", lend="2024-08-03 09:12"),
    # --- B: Brightside Studio, monthly 99.00, paid 3 months then cancelled; May invoice voided
    inv("in_1OYmBr01Lq2nYw1a", "B", 1, "2024-01-15 14:03", "paid", "subscription_create", "0.00", "0.00", "0.00", "0.00",
        paid_at="2024-01-15 14:03", pstart="2024-01-15 14:03", pend="2024-01-15 14:03",
        lstart="2024-01-15 14:03", lend="2024-02-15 14:03", desc="Trial period for Studio (monthly)"),
    inv("in_1OkCBr02Lq2nYw1a", "B", 2, "2024-02-15 15:03", "paid", "subscription_cycle", "99.00", "99.00", "99.00", "99.00",
        charge="ch_3OkCBr02Lq2nYw1a0f", paid_at="2024-02-15 16:04", pstart="2024-01-15 14:03", pend="2024-02-15 14:03",
        lstart="2024-02-15 14:03", lend="2024-03-15 14:03"),
    inv("in_1OuZBr03Lq2nYw1a", "B", 3, "2024-03-15 15:03", "paid", "subscription_cycle", "99.00", "99.00", "99.00", "99.00",
        charge="ch_3OuZBr03Lq2nYw1a0g", paid_at="2024-03-15 16:03", pstart="2024-02-15 14:03", pend="2024-03-15 14:03",
        lstart="2024-03-15 14:03", lend="2024-04-15 14:03"),
    inv("in_1P5pBr04Lq2nYw1a", "B", 4, "2024-04-15 15:03", "paid", "subscription_cycle", "99.00", "99.00", "99.00", "99.00",
        charge="ch_3P5pBr04Lq2nYw1a0h", paid_at="2024-04-15 16:03", pstart="2024-03-15 14:03", pend="2024-04-15 14:03",
        lstart="2024-04-15 14:03", lend="2024-05-15 14:03"),
    inv("in_1PGnBr05Lq2nYw1a", "B", 5, "2024-05-15 15:03", "void", "subscription_cycle", "99.00", "0.00", "99.00", "99.00",
        pstart="2024-04-15 14:03", pend="2024-05-15 14:03", lstart="2024-05-15 14:03", lend="2024-06-15 14:03",
        voided="2024-05-16 09:20"),
    # --- C: Cedar Labs, annual plan 12 x 49.00 = 588.00 after a 14-day trial
    inv("in_1OelCe01Lq2nYw1a", "C", 1, "2024-02-01 08:30", "paid", "subscription_create", "0.00", "0.00", "0.00", "0.00",
        paid_at="2024-02-01 08:30", pstart="2024-02-01 08:30", pend="2024-02-01 08:30",
        lstart="2024-02-01 08:30", lend="2024-02-15 08:30", desc="Trial period for Growth (annual)"),
    inv("in_1OkAce02Lq2nYw1a", "C", 2, "2024-02-15 09:30", "paid", "subscription_cycle", "588.00", "588.00", "588.00", "588.00",
        charge="ch_3OkAce02Lq2nYw1a0i", paid_at="2024-02-15 10:31", pstart="2024-02-01 08:30", pend="2024-02-15 08:30",
        lstart="2024-02-15 08:30", lend="2025-02-15 08:30"),
    # --- D: Delta Fitness, trial then never pays
    inv("in_1OsqDe01Lq2nYw1a", "D", 1, "2024-03-10 18:45", "paid", "subscription_create", "0.00", "0.00", "0.00", "0.00",
        paid_at="2024-03-10 18:45", pstart="2024-03-10 18:45", pend="2024-03-10 18:45",
        lstart="2024-03-10 18:45", lend="2024-04-10 18:45", desc="Trial period for Growth (monthly)"),
    inv("in_1P47De02Lq2nYw1a", "D", 2, "2024-04-10 19:45", "uncollectible", "subscription_cycle", "49.00", "0.00", "49.00", "49.00",
        attempts="4", pstart="2024-03-10 18:45", pend="2024-04-10 18:45", lstart="2024-04-10 18:45",
        lend="2024-05-10 18:45", marked="2024-04-24 19:50"),
    inv("in_1PEuDe03Lq2nYw1a", "D", 3, "2024-05-10 19:45", "open", "subscription_cycle", "49.00", "0.00", "49.00", "49.00",
        attempts="3", pstart="2024-04-10 18:45", pend="2024-05-10 18:45", lstart="2024-05-10 18:45",
        lend="2024-06-10 18:45"),
    # --- E: Echo Media, monthly 29.00; coupon on first paid invoice, credit on second
    inv("in_1OwOEc01Lq2nYw1a", "E", 1, "2024-03-20 11:00", "paid", "subscription_create", "0.00", "0.00", "0.00", "0.00",
        paid_at="2024-03-20 11:00", pstart="2024-03-20 11:00", pend="2024-03-20 11:00",
        lstart="2024-03-20 11:00", lend="2024-04-20 11:00", desc="Trial period for Starter (monthly)"),
    inv("in_1P7rEc02Lq2nYw1a", "E", 2, "2024-04-20 12:00", "paid", "subscription_cycle", "14.50", "14.50", "29.00", "14.50",
        charge="ch_3P7rEc02Lq2nYw1a0j", paid_at="2024-04-20 13:01", pstart="2024-03-20 11:00", pend="2024-04-20 11:00",
        lstart="2024-04-20 11:00", lend="2024-05-20 11:00", disc="14.50", coupons="LAUNCH50"),
    inv("in_1PIXEc03Lq2nYw1a", "E", 3, "2024-05-20 12:00", "paid", "subscription_cycle", "19.00", "19.00", "29.00", "29.00",
        charge="ch_3PIXEc03Lq2nYw1a0k", paid_at="2024-05-20 13:00", pstart="2024-04-20 11:00", pend="2024-05-20 11:00",
        lstart="2024-05-20 11:00", lend="2024-06-20 11:00", start_bal="-10.00", end_bal="0.00"),
    inv("in_1PTiEc04Lq2nYw1a", "E", 4, "2024-06-20 12:00", "paid", "subscription_cycle", "29.00", "29.00", "29.00", "29.00",
        charge="ch_3PTiEc04Lq2nYw1a0l", paid_at="2024-06-20 13:00", pstart="2024-05-20 11:00", pend="2024-06-20 11:00",
        lstart="2024-06-20 11:00", lend="2024-07-20 11:00"),
]
write_csv("stripe_invoices.csv", INV_HEADER, invoices, lineterminator="\n")


# ---------------------------------------------------------------------------
# 8. Finnish Excel "CSV UTF-8": ';' separator, decimal comma, NBSP thousands,
#    d.m.yyyy, UTF-8 with BOM, "Yhteensä" total row at the bottom.
# ---------------------------------------------------------------------------
NB = "\u00a0"
FI_HEADER = ["Laskunumero", "Päivämäärä", "Asiakas", "Selite", "Summa"]
fi = [
    ["1001", "5.1.2024", "Mäkinen Oy", "Verkkosivujen ylläpito, tammikuu", "450,00"],
    ["1002", "12.1.2024", "Virtanen Tmi", "Konsultointi 6 h", "540,00"],
    ["1003", "19.1.2024", "Lahtinen & Korhonen Ky", "Ohjelmistolisenssi 12 kk", f"1{NB}250,00"],
    ["1004", "2.2.2024", "Mäkinen Oy", "Verkkosivujen ylläpito, helmikuu", "450,00"],
    ["1005", "16.2.2024", "Järvinen Oyj", "Koulutuspäivä", "980,50"],
    ["1006", "1.3.2024", "Virtanen Tmi", "Konsultointi 3,5 h", "315,00"],
    ["1007", "4.3.2024", "Mäkinen Oy", "Verkkosivujen ylläpito, maaliskuu", "450,00"],
    ["1008", "28.3.2024", "Järvinen Oyj", "Lisäkoulutus; puolipäivä", "490,25"],
]
fi_sum = sum(D(r[4].replace(NB, "").replace(",", ".")) for r in fi)
assert fi_sum == D("4925.75")
fi.append(["Yhteensä", "", "", "", f"4{NB}925,75"])
write_csv("finnish.csv", FI_HEADER, fi, delimiter=";", encoding="utf-8", bom=True)

print("wrote CSV fixtures to", HERE)
