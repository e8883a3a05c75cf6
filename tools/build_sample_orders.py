#!/usr/bin/env python3
"""Builds the sample commercetools orders and payments in tests/data/ (deterministic; `--check` compares).

The public fixtures do not cover the cases a Nordic/German/Japanese shop meets every day (several VAT
rates in one order, 0-decimal currencies, discounts on the total, gift cards, exports, multiple
shipping, external tax, custom line items, high-precision prices), so these are built here with the
arithmetic commercetools uses (tax mode Platform, LineItemLevel, HalfEven):
  gross prices: net = round(gross / (1 + rate)), tax = gross - net
  net prices:   tax = round(net * rate), gross = net + tax
  taxPortions per rate = sum of the lines' (gross - net); totalPrice = gross, or net when prices
  exclude tax. tools/verify_orders.py re-checks every file independently of this builder.
Names, e-mails, addresses and phone numbers are invented, so PII-in-logs tests have something to find.
usage: build_sample_orders.py [--check]
"""
import json
import sys
import uuid
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "tests" / "data" / "orders"
NS = uuid.UUID("6f1c1f4e-7c1a-4c55-9a44-0d5a1e0c7a11")
DIGITS = {"JPY": 0}


def uid(*parts):
    return str(uuid.uuid5(NS, "/".join(parts)))


def money(amount, cur):
    d = DIGITS.get(cur, 2)
    cents = int((Decimal(amount).scaleb(d)).to_integral_value(ROUND_HALF_EVEN))
    return {"type": "centPrecision", "currencyCode": cur, "centAmount": cents, "fractionDigits": d}


def rnd(x, cur):
    q = Decimal(1).scaleb(-DIGITS.get(cur, 2))
    return x.quantize(q, rounding=ROUND_HALF_EVEN)


def tax_rate(name, rate, included, country):
    return {"name": name, "amount": float(rate), "includedInPrice": included, "country": country,
            "id": uid("rate", name, country), "subRates": []}


def taxed(total, rate, included, cur, name):
    """commercetools' taxedPrice of one line at one rate."""
    r = Decimal(rate)
    if included:
        gross, net = total, rnd(total / (1 + r), cur)
    else:
        net, gross = total, total + rnd(total * r, cur)
    return {"totalNet": money(net, cur), "totalGross": money(gross, cur), "totalTax": money(gross - net, cur),
            "taxPortions": [{"rate": float(r), "amount": money(gross - net, cur), "name": name}]}, net, gross


class Order:
    def __init__(self, name, cur, country, store, included, created, tax_mode="Platform"):
        self.name, self.cur, self.country, self.included = name, cur, country, included
        self.items, self.custom, self.shipping, self.multi = [], [], None, []
        self.doc = {
            "type": "Order", "id": uid("order", name), "version": 4, "orderNumber": "CV-" + name.upper(),
            "createdAt": created, "lastModifiedAt": created, "customerId": uid("customer", name),
            "customerEmail": "astrid.lindqvist+%s@example.com" % name.split("-")[0], "country": country,
            "locale": "sv-SE", "taxMode": tax_mode, "taxRoundingMode": "HalfEven",
            "taxCalculationMode": "LineItemLevel", "inventoryMode": "None", "orderState": "Open",
            "paymentState": "Pending", "shipmentState": "Pending", "origin": "Customer",
        }
        if store:
            self.doc["store"] = {"typeId": "store", "key": store}
        self.lines = []  # (rate, net, gross, rate name, rate country) of every taxed thing

    def _rate(self, rate, rate_name, rate_country):
        return tax_rate(rate_name, rate, self.included, rate_country or self.country)

    def item(self, sku, name, unit, qty, rate, rate_name, product_type="standard", discounted=None,
             tax_category="standard", rate_country=None, high_precision=None):
        """discounted: (quantity, unit price after discount, cart discount key) for part of the quantity."""
        cur = self.cur
        unit = Decimal(unit)
        if high_precision:
            precise, fd = high_precision
            value = {"type": "highPrecision", "currencyCode": cur, "centAmount": int(rnd(unit, cur).scaleb(2)),
                     "fractionDigits": fd, "preciseAmount": precise}
            unit = Decimal(precise).scaleb(-fd)
        else:
            value = money(unit, cur)
        total, dpq, full_qty = Decimal(0), [], qty
        if discounted:
            dq, dprice, dkey = discounted
            dprice = Decimal(dprice)
            dpq.append({"quantity": dq, "discountedPrice": {
                "value": money(dprice, cur),
                "includedDiscounts": [{"discount": {"typeId": "cart-discount", "id": uid("discount", dkey)},
                                       "discountedAmount": money(unit - dprice, cur)}]}})
            total += dprice * dq
            full_qty -= dq
        total = rnd(total + unit * full_qty, cur)
        tp, net, gross = taxed(total, rate, self.included, cur, rate_name)
        rc = rate_country or self.country
        self.lines.append((Decimal(rate), net, gross, rate_name, rc))
        self.items.append({
            "id": uid("line", self.name, sku), "productId": uid("product", sku), "productKey": sku.lower(),
            "name": {"en": name},
            "productType": {"typeId": "product-type", "id": uid("product-type", product_type), "key": product_type},
            "variant": {"id": 1, "sku": sku, "prices": [{"id": uid("price", sku), "value": value}]},
            "price": {"id": uid("price", sku), "value": value}, "quantity": qty,
            "discountedPricePerQuantity": dpq, "taxRate": self._rate(rate, rate_name, rate_country),
            "taxCategory": {"typeId": "tax-category", "id": uid("tax-category", tax_category), "key": tax_category},
            "priceMode": "Platform", "lineItemMode": "Standard", "totalPrice": money(total, cur), "taxedPrice": tp,
            "state": [{"quantity": qty, "state": {"typeId": "state", "id": uid("state", "initial")}}],
        })
        return self

    def custom_item(self, slug, name, unit, qty, rate, rate_name):
        cur, total = self.cur, Decimal(unit) * qty
        tp, net, gross = taxed(total, rate, self.included, cur, rate_name)
        self.lines.append((Decimal(rate), net, gross, rate_name, self.country))
        self.custom.append({
            "id": uid("custom-line", self.name, slug), "name": {"en": name}, "slug": slug,
            "money": money(unit, cur), "quantity": qty, "discountedPricePerQuantity": [],
            "taxRate": self._rate(rate, rate_name, None), "totalPrice": money(total, cur), "taxedPrice": tp,
            "priceMode": "Standard",
            "state": [{"quantity": qty, "state": {"typeId": "state", "id": uid("state", "initial")}}],
        })
        return self

    def _shipping_info(self, method, price, rate, rate_name):
        cur, price = self.cur, Decimal(price)
        tp, net, gross = taxed(price, rate, self.included, cur, rate_name)
        self.lines.append((Decimal(rate), net, gross, rate_name, self.country))
        del tp["taxPortions"]
        return {
            "shippingMethodName": method, "price": money(price, cur),
            "shippingRate": {"price": money(price, cur), "tiers": []},
            "taxRate": self._rate(rate, rate_name, None),
            "taxCategory": {"typeId": "tax-category", "id": uid("tax-category", "shipping")},
            "shippingMethod": {"typeId": "shipping-method", "id": uid("shipping-method", method)},
            "taxedPrice": tp, "deliveries": [], "shippingMethodState": "MatchesCart",
        }

    def ship(self, method, price, rate, rate_name):
        self.shipping = self._shipping_info(method, price, rate, rate_name)
        return self

    def ship_multiple(self, key, method, price, rate, rate_name):
        self.multi.append({"shippingKey": key, "shippingInfo": self._shipping_info(method, price, rate, rate_name),
                           "shippingAddress": {"key": key, "country": self.country}})
        return self

    def address(self, first, last, street, number, postal, city, phone):
        a = {"firstName": first, "lastName": last, "streetName": street, "streetNumber": number,
             "postalCode": postal, "city": city, "country": self.country, "phone": phone,
             "email": self.doc["customerEmail"]}
        self.doc["billingAddress"] = a
        self.doc["shippingAddress"] = dict(a)
        return self

    def line_id(self, sku):
        return uid("line", self.name, sku)

    def paid_by(self, *payment_names):
        self.doc["paymentInfo"] = {"payments": [{"typeId": "payment", "id": uid("payment", n)} for n in payment_names]}
        return self

    def returned(self, key, date, items):
        """items: (sku, quantity, shipmentState, paymentState)."""
        self.doc.setdefault("returnInfo", []).append({
            "returnTrackingId": key, "returnDate": date,
            "items": [{"type": "LineItemReturnItem", "id": uid("return-item", self.name, key, sku), "quantity": q,
                       "lineItemId": self.line_id(sku), "shipmentState": ship, "paymentState": pay,
                       "createdAt": date, "lastModifiedAt": date} for sku, q, ship, pay in items]})
        return self

    def delivered(self, key, created, items):
        """items: (sku, quantity) shipped in one parcel."""
        self.shipping.setdefault("deliveries", []).append({
            "id": uid("delivery", self.name, key), "key": key, "createdAt": created,
            "items": [{"id": self.line_id(sku), "quantity": q} for sku, q in items], "parcels": []})
        return self

    def state(self, order_state, modified):
        self.doc["orderState"], self.doc["lastModifiedAt"] = order_state, modified
        return self

    def build(self, total_discount=None):
        """total_discount: a net discount on the order total (net prices only), split by rate's net."""
        cur, doc = self.cur, self.doc
        per_rate = {}
        for rate, net, gross, name, _ in self.lines:
            e = per_rate.setdefault(rate, [Decimal(0), Decimal(0), name])
            e[0] += net
            e[1] += gross - net
        total_net = sum(v[0] for v in per_rate.values())
        if total_discount:
            assert not self.included
            d = Decimal(total_discount)
            shares = split(d, [per_rate[r][0] for r in sorted(per_rate)], cur)
            old_tax = sum(v[1] for v in per_rate.values())
            for r, s in zip(sorted(per_rate), shares):
                per_rate[r][1] = rnd((per_rate[r][0] - s) * r, cur)
            total_net -= d
            new_tax = sum(v[1] for v in per_rate.values())
            doc["discountOnTotalPrice"] = {
                "discountedAmount": money(d, cur), "discountedNetAmount": money(d, cur),
                "discountedGrossAmount": money(d + old_tax - new_tax, cur),
                "includedDiscounts": [{"discount": {"typeId": "cart-discount", "id": uid("discount", "total")},
                                       "discountedAmount": money(d, cur)}]}
        total_tax = sum(v[1] for v in per_rate.values())
        total_gross = total_net + total_tax
        doc["totalPrice"] = money(total_gross if self.included else total_net, cur)
        doc["taxedPrice"] = {
            "totalNet": money(total_net, cur), "totalGross": money(total_gross, cur), "totalTax": money(total_tax, cur),
            "taxPortions": [{"rate": float(r), "amount": money(v[1], cur), "name": v[2]}
                            for r, v in sorted(per_rate.items(), reverse=True)]}
        doc["lineItems"], doc["customLineItems"] = self.items, self.custom
        if self.multi:
            doc["shippingMode"], doc["shipping"] = "Multiple", self.multi
        elif self.shipping:
            doc["shippingMode"], doc["shippingInfo"] = "Single", self.shipping
        doc["discountCodes"], doc["syncInfo"] = [], []
        doc.setdefault("returnInfo", [])
        return doc


def split(total, weights, cur):
    """Largest remainder split in minor units; ties to the larger weight."""
    unit = Decimal(1).scaleb(-DIGITS.get(cur, 2))
    units, s = int(total / unit), sum(weights)
    exact = [Decimal(units) * w / s for w in weights]
    shares = [int(e) for e in exact]
    order = sorted(range(len(weights)), key=lambda i: (-(exact[i] - shares[i]), -weights[i], i))
    for i in order[: units - sum(shares)]:
        shares[i] += 1
    return [Decimal(x) * unit for x in shares]


def orders():
    se = dict(cur="SEK", country="SE", store="se-webshop", included=True)
    yield Order("se-sek-mixed-rates", created="2026-11-23T23:30:00.000Z", **se) \
        .address("Astrid", "Lindqvist", "Drottninggatan", "12", "111 51", "Stockholm", "+46 70 123 45 67") \
        .item("BOOK-123", "Nordic Cooking", "199.00", 1, "0.06", "Moms 6%", product_type="book") \
        .item("COFFEE-500G", "Coffee 500 g", "89.00", 3, "0.12", "Moms 12%", product_type="food",
              discounted=(1, "69.00", "coffee-week")) \
        .item("TSHIRT-M", "T-shirt M", "249.00", 2, "0.25", "Moms 25%", product_type="apparel") \
        .ship("PostNord", "49.00", "0.25", "Moms 25%").paid_by("card-two-captures-goodwill-refund").build()
    yield Order("no-nok-three-rates", cur="NOK", country="NO", store="no-webshop", included=True,
                created="2026-11-23T10:15:00.000Z") \
        .address("Ola", "Nordmann", "Karl Johans gate", "7", "0154", "Oslo", "+47 912 34 567") \
        .item("NO-SOFA", "Sofa", "12990.00", 1, "0.25", "MVA 25%", product_type="furniture") \
        .item("NO-KAFFE", "Kaffe", "129.90", 2, "0.15", "MVA 15%", product_type="food") \
        .item("NO-BILLETT", "Museumsbillett", "350.00", 2, "0.12", "MVA 12%", product_type="ticket") \
        .ship("Posten", "99.00", "0.25", "MVA 25%").build()
    yield Order("dk-dkk-rounding", cur="DKK", country="DK", store="dk-webshop", included=True,
                created="2026-11-23T22:59:59.000Z") \
        .address("Mette", "Jensen", "Strøget", "3", "1160", "København", "+45 20 12 34 56") \
        .item("DK-CANDLE", "Candle", "33.33", 3, "0.25", "Moms 25%") \
        .item("DK-SOAP", "Soap", "14.99", 7, "0.25", "Moms 25%") \
        .ship("GLS", "39.00", "0.25", "Moms 25%").build()
    yield Order("de-eur-net-b2b-discount-on-total", cur="EUR", country="DE", store="de-webshop", included=False,
                created="2026-11-23T08:00:00.000Z") \
        .address("Jonas", "Becker", "Friedrichstraße", "101", "10117", "Berlin", "+49 30 1234567") \
        .item("DE-DRILL", "Akkuschrauber", "149.99", 3, "0.19", "MwSt 19%", product_type="tool") \
        .item("DE-BOOK", "Fachbuch", "39.90", 5, "0.07", "MwSt 7%", product_type="book") \
        .ship("DHL", "9.90", "0.19", "MwSt 19%").build(total_discount="50.00")
    yield Order("jp-jpy-zero-decimals", cur="JPY", country="JP", store="jp-webshop", included=True,
                created="2026-11-23T15:30:00.000Z") \
        .address("Haruto", "Sato", "Ginza", "4-1", "104-0061", "Tokyo", "+81 3 1234 5678") \
        .item("JP-KETTLE", "Kettle", "1980", 3, "0.10", "消費税10%") \
        .item("JP-TEA", "Sencha", "648", 2, "0.08", "軽減税率8%", product_type="food") \
        .ship("Yamato", "550", "0.10", "消費税10%").build()
    yield Order("se-sek-export-us", cur="SEK", country="US", store="se-webshop", included=True,
                created="2026-11-23T18:45:00.000Z") \
        .address("Emily", "Carter", "Main Street", "500", "98101", "Seattle", "+1 206 555 0142") \
        .item("TSHIRT-M", "T-shirt M", "199.00", 2, "0", "Export", rate_country="US") \
        .ship("DHL Express", "250.00", "0", "Export").build()
    yield Order("de-eur-high-precision", cur="EUR", country="DE", store="de-webshop", included=True,
                created="2026-11-23T12:00:00.000Z") \
        .address("Lea", "Schmidt", "Marienplatz", "8", "80331", "München", "+49 89 7654321") \
        .item("DE-SCREW-BULK", "Schrauben (lose)", "1.23", 7, "0.19", "MwSt 19%", high_precision=(1234567, 6)) \
        .build()
    yield Order("se-sek-gift-card", created="2026-11-23T09:10:00.000Z", **se) \
        .address("Erik", "Svensson", "Kungsgatan", "44", "411 19", "Göteborg", "+46 31 765 43 21") \
        .item("TSHIRT-M", "T-shirt M", "249.00", 1, "0.25", "Moms 25%", product_type="apparel") \
        .item("GIFTCARD-500", "Presentkort 500 kr", "500.00", 1, "0", "Momsfri", product_type="gift-card") \
        .ship("PostNord", "49.00", "0.25", "Moms 25%").paid_by("klarna-invoice", "paid-with-gift-card").build()
    yield Order("se-sek-zero-total", created="2026-11-23T07:00:00.000Z", **se) \
        .address("Karin", "Berg", "Storgatan", "1", "903 26", "Umeå", "+46 90 12 34 56") \
        .item("SAMPLE-TEA", "Free tea sample", "0.00", 1, "0.12", "Moms 12%", product_type="food") \
        .ship("PostNord", "0.00", "0.25", "Moms 25%").build()
    yield Order("se-sek-multiple-shipping", created="2026-11-23T14:20:00.000Z", **se) \
        .address("Nils", "Holm", "Sveavägen", "20", "111 57", "Stockholm", "+46 8 123 456") \
        .item("TSHIRT-M", "T-shirt M", "249.00", 3, "0.25", "Moms 25%", product_type="apparel") \
        .item("BOOK-123", "Nordic Cooking", "199.00", 1, "0.06", "Moms 6%", product_type="book") \
        .ship_multiple("home", "PostNord", "49.00", "0.25", "Moms 25%") \
        .ship_multiple("office", "Budbee", "59.00", "0.25", "Moms 25%").build()
    yield Order("se-sek-external-tax", cur="SEK", country="SE", store="se-webshop", included=False,
                created="2026-11-23T11:11:00.000Z", tax_mode="External") \
        .address("Sara", "Ek", "Vasagatan", "5", "111 20", "Stockholm", "+46 8 765 432") \
        .item("SERVICE-INSTALL", "Installation", "799.20", 1, "0.25", "Extern moms 25%", product_type="service") \
        .item("COFFEE-500G", "Coffee 500 g", "71.20", 4, "0.12", "Extern moms 12%", product_type="food") \
        .ship("PostNord", "39.20", "0.25", "Extern moms 25%").build()
    yield Order("se-sek-custom-line-item", created="2026-11-23T23:59:30.000Z", **se) \
        .address("Maja", "Åberg", "Östra Hamngatan", "9", "411 10", "Göteborg", "+46 31 111 22 33") \
        .item("TSHIRT-M", "T-shirt M", "249.00", 1, "0.25", "Moms 25%", product_type="apparel") \
        .custom_item("gift-wrapping", "Gift wrapping", "29.00", 1, "0.25", "Moms 25%") \
        .ship("PostNord", "49.00", "0.25", "Moms 25%").build()
    yield Order("se-sek-returns", created="2026-11-10T09:00:00.000Z", **se) \
        .address("Linnea", "Dahl", "Kungsportsavenyen", "2", "411 36", "Göteborg", "+46 31 222 33 44") \
        .item("TSHIRT-M", "T-shirt M", "249.00", 3, "0.25", "Moms 25%", product_type="apparel") \
        .item("COFFEE-500G", "Coffee 500 g", "89.00", 3, "0.12", "Moms 12%", product_type="food",
              discounted=(1, "69.00", "coffee-week")) \
        .item("BOOK-123", "Nordic Cooking", "199.00", 1, "0.06", "Moms 6%", product_type="book") \
        .ship("PostNord", "49.00", "0.25", "Moms 25%") \
        .returned("RET-1", "2026-11-15T10:00:00.000Z", [("TSHIRT-M", 1, "Returned", "Refunded"),
                                                        ("COFFEE-500G", 1, "BackInStock", "Initial")]) \
        .returned("RET-2", "2026-11-18T10:00:00.000Z", [("TSHIRT-M", 2, "Returned", "Initial"),
                                                        ("COFFEE-500G", 2, "Unusable", "Initial")]) \
        .returned("RET-3", "2026-11-20T10:00:00.000Z", [("BOOK-123", 1, "Advised", "Initial")]) \
        .paid_by("swish-paid-and-refunded").build()
    yield Order("se-sek-cancelled", created="2026-11-21T16:00:00.000Z", **se) \
        .address("Oskar", "Lund", "Stortorget", "6", "211 22", "Malmö", "+46 40 111 22 33") \
        .item("TSHIRT-M", "T-shirt M", "249.00", 2, "0.25", "Moms 25%", product_type="apparel") \
        .ship("PostNord", "49.00", "0.25", "Moms 25%") \
        .state("Cancelled", "2026-11-22T08:30:00.000Z").paid_by("card-authorization-cancelled").build()
    yield Order("se-sek-split-shipment", created="2026-11-19T12:00:00.000Z", **se) \
        .address("Ida", "Sjöberg", "Järntorget", "3", "413 04", "Göteborg", "+46 31 333 44 55") \
        .item("DK-CANDLE", "Candle", "33.33", 3, "0.25", "Moms 25%") \
        .item("BOOK-123", "Nordic Cooking", "199.00", 2, "0.06", "Moms 6%", product_type="book") \
        .ship("PostNord", "49.00", "0.25", "Moms 25%") \
        .delivered("parcel-1", "2026-11-20T07:00:00.000Z", [("DK-CANDLE", 1), ("BOOK-123", 1)]) \
        .delivered("parcel-2", "2026-11-21T07:00:00.000Z", [("DK-CANDLE", 2), ("BOOK-123", 1)]) \
        .paid_by("card-capture-pending").build()


def payments(by_name):
    """Payment resources linked to the orders above through their paymentInfo."""
    def gross(order):
        return amount_of(by_name[order]["taxedPrice"]["totalGross"])

    def payment(name, order, interface, method, transactions):
        cur = by_name[order]["totalPrice"]["currencyCode"]
        txs = [{"id": uid("transaction", name, str(i)), "timestamp": ts, "type": kind,
                "amount": money(Decimal(amt), cur), "interactionId": "PSP-%s-%d" % (name.upper()[:12], i),
                "state": state} for i, (kind, amt, state, ts) in enumerate(transactions)]
        return {"id": uid("payment", name), "version": 1 + len(txs), "key": name,
                "interfaceId": "PSP-" + name.upper(), "amountPlanned": money(gross(order), cur),
                "paymentMethodInfo": {"paymentInterface": interface, "method": method, "name": {"en": method}},
                "paymentStatus": {}, "transactions": txs, "interfaceInteractions": [],
                "createdAt": by_name[order]["createdAt"], "lastModifiedAt": "2026-11-26T09:00:00.000Z"}, name

    mixed = gross("se-sek-mixed-rates")
    yield payment("card-two-captures-goodwill-refund", "se-sek-mixed-rates", "adyen", "scheme", [
        ("Authorization", mixed, "Success", "2026-11-23T23:31:00.000Z"),
        ("Charge", "500.00", "Success", "2026-11-24T08:00:00.000Z"),
        ("Charge", mixed - Decimal("500.00"), "Success", "2026-11-25T08:00:00.000Z"),
        ("Refund", "100.00", "Success", "2026-11-26T09:00:00.000Z"),
        ("Refund", "50.00", "Failure", "2026-11-26T09:05:00.000Z")])
    yield payment("klarna-invoice", "se-sek-gift-card", "klarna", "pay_later", [
        ("Charge", gross("se-sek-gift-card") - Decimal("100.00"), "Success", "2026-11-23T09:11:00.000Z")])
    yield payment("paid-with-gift-card", "se-sek-gift-card", "adyen", "giftcard", [
        ("Charge", "100.00", "Success", "2026-11-23T09:11:00.000Z")])
    yield payment("swish-paid-and-refunded", "se-sek-returns", "swish", "swish", [
        ("Charge", gross("se-sek-returns"), "Success", "2026-11-10T09:01:00.000Z"),
        ("Refund", "331.33", "Success", "2026-11-15T12:00:00.000Z"),
        ("Refund", "662.67", "Success", "2026-11-18T12:00:00.000Z")])
    yield payment("card-authorization-cancelled", "se-sek-cancelled", "adyen", "visa", [
        ("Authorization", gross("se-sek-cancelled"), "Success", "2026-11-21T16:01:00.000Z"),
        ("CancelAuthorization", gross("se-sek-cancelled"), "Success", "2026-11-22T08:30:00.000Z")])
    yield payment("card-capture-pending", "se-sek-split-shipment", "adyen", "mc", [
        ("Charge", gross("se-sek-split-shipment"), "Pending", "2026-11-21T07:05:00.000Z")])


def amount_of(m):
    return Decimal(m["centAmount"]).scaleb(-m["fractionDigits"])


def documents():
    """(folder, file name, document) of every sample file."""
    by_name = {}
    for doc in orders():
        name = doc["orderNumber"][3:].lower()
        by_name[name] = doc
        yield OUT, name + ".json", doc
    for doc, name in payments(by_name):
        yield OUT.parent / "payments", name + ".json", doc


def main():
    check = "--check" in sys.argv[1:]
    stale = []
    count = 0
    for folder, name, doc in documents():
        count += 1
        folder.mkdir(parents=True, exist_ok=True)
        text = json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
        path = folder / name
        if check:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                stale.append(name)
        else:
            path.write_text(text, encoding="utf-8")
    if stale:
        sys.exit("out of date (run tools/build_sample_orders.py): " + ", ".join(stale))
    print("%s %d sample orders and payments" % ("checked" if check else "wrote", count))


if __name__ == "__main__":
    main()
