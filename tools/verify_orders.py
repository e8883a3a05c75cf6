#!/usr/bin/env python3
"""Re-checks that commercetools orders add up the way commercetools computes them.

Independent of tools/build_sample_orders.py: it reads only the order JSON. For every line item,
custom line item and shipping it recomputes totalPrice from the (possibly high-precision, possibly
discounted) unit prices, and taxedPrice from the tax rate (HalfEven, LineItemLevel); for the order it
recomputes totalPrice, taxedPrice.totalNet/totalGross/totalTax and taxPortions per rate, including a
discount on the total price. Fields an order does not carry are not checked (legacy orders lack some).
usage: verify_orders.py ORDER.json...   exit 1 when any file does not add up.
"""
import json
import sys
from decimal import ROUND_HALF_EVEN, Decimal

ZERO_DIGIT = {"JPY", "KRW", "ISK", "CLP", "VND"}


def amount(m):
    """A money value; high precision gives its exact preciseAmount."""
    if m.get("type") == "highPrecision":
        return Decimal(m["preciseAmount"]).scaleb(-m["fractionDigits"])
    return Decimal(m["centAmount"]).scaleb(-digits(m))


def digits(m):
    if m.get("type") == "highPrecision":
        return 0 if m["currencyCode"] in ZERO_DIGIT else 2
    return m.get("fractionDigits", 0 if m["currencyCode"] in ZERO_DIGIT else 2)


def rnd(x, d):
    return x.quantize(Decimal(1).scaleb(-d), rounding=ROUND_HALF_EVEN)


class Checker:
    def __init__(self, path):
        self.path, self.errors = path, []

    def eq(self, what, got, want):
        if got != want:
            self.errors.append("%s: %s, expected %s" % (what, got, want))

    def taxed(self, what, total, rate, tp, d):
        """Checks a line's taxedPrice against its total and rate; returns (net, gross)."""
        r = Decimal(str(rate["amount"]))
        if rate.get("includedInPrice"):
            gross, net = total, rnd(total / (1 + r), d)
        else:
            net, gross = total, total + rnd(total * r, d)
        if tp:
            self.eq(what + " taxedPrice.totalNet", amount(tp["totalNet"]), net)
            self.eq(what + " taxedPrice.totalGross", amount(tp["totalGross"]), gross)
            if "totalTax" in tp:
                self.eq(what + " taxedPrice.totalTax", amount(tp["totalTax"]), gross - net)
            if tp.get("taxPortions"):
                self.eq(what + " taxPortions", sum(amount(p["amount"]) for p in tp["taxPortions"]), gross - net)
        return net, gross

    def unit_total(self, what, item, unit, d):
        qty = item.get("quantity", 1)
        total, counted = Decimal(0), 0
        for part in item.get("discountedPricePerQuantity", []):
            total += amount(part["discountedPrice"]["value"]) * part["quantity"]
            counted += part["quantity"]
        total = rnd(total + unit * (qty - counted), d)
        if "totalPrice" in item:
            self.eq(what + " totalPrice", amount(item["totalPrice"]), total)
        return total

    def order(self, o):
        cur = o["totalPrice"]["currencyCode"]
        d = digits(o["totalPrice"])
        parts = []  # (rate, net, gross)
        for li in o.get("lineItems", []):
            what = "line %s" % li.get("variant", {}).get("sku", li.get("id"))
            price = li["price"]
            unit = amount((price.get("discounted") or price)["value"])
            total = self.unit_total(what, li, unit, d)
            if li.get("taxRate"):
                parts.append((li["taxRate"],) + self.taxed(what, total, li["taxRate"], li.get("taxedPrice"), d))
        for cli in o.get("customLineItems", []):
            what = "custom line %s" % cli.get("slug")
            total = self.unit_total(what, cli, amount(cli["money"]), d)
            if cli.get("taxRate"):
                parts.append((cli["taxRate"],) + self.taxed(what, total, cli["taxRate"], cli.get("taxedPrice"), d))
        infos = [s["shippingInfo"] for s in o.get("shipping", [])]
        if o.get("shippingInfo"):
            infos.append(o["shippingInfo"])
        for si in infos:
            what = "shipping %s" % si.get("shippingMethodName")
            if si.get("taxRate"):
                parts.append((si["taxRate"],) + self.taxed(what, amount(si["price"]), si["taxRate"], si.get("taxedPrice"), d))
        for doc_money in [o["totalPrice"]] + ([] if not o.get("taxedPrice") else [o["taxedPrice"]["totalGross"]]):
            self.eq("currency", doc_money["currencyCode"], cur)
        tp = o.get("taxedPrice")
        if not tp or not parts:
            return
        per_rate = {}
        for rate, net, gross in parts:
            e = per_rate.setdefault(Decimal(str(rate["amount"])), [Decimal(0), Decimal(0)])
            e[0] += net
            e[1] += gross - net
        total_net = sum(v[0] for v in per_rate.values())
        dot = o.get("discountOnTotalPrice")
        if dot:
            discount = amount(dot.get("discountedNetAmount") or dot["discountedAmount"])
            total_net -= discount
            shares = split(discount, [per_rate[r][0] for r in sorted(per_rate)], d)
            for r, s in zip(sorted(per_rate), shares):
                per_rate[r][1] = rnd((per_rate[r][0] - s) * r, d)
        total_tax = sum(v[1] for v in per_rate.values())
        self.eq("order taxedPrice.totalNet", amount(tp["totalNet"]), total_net)
        self.eq("order taxedPrice.totalGross", amount(tp["totalGross"]), total_net + total_tax)
        if "totalTax" in tp:
            self.eq("order taxedPrice.totalTax", amount(tp["totalTax"]), total_tax)
        portions = {}
        for p in tp.get("taxPortions", []):
            r = Decimal(str(p["rate"]))
            portions[r] = portions.get(r, Decimal(0)) + amount(p["amount"])
        self.eq("order taxPortions", {r: v for r, v in portions.items() if v},
                {r: v[1] for r, v in per_rate.items() if v[1]})
        included = {bool(p[0].get("includedInPrice")) for p in parts}
        if len(included) == 1:
            self.eq("order totalPrice", amount(o["totalPrice"]),
                    total_net + total_tax if included.pop() else total_net)


def split(total, weights, d):
    """Largest remainder split in minor units, ties to the larger weight (as the mapper does)."""
    unit = Decimal(1).scaleb(-d)
    units, s = int(total / unit), sum(weights)
    exact = [Decimal(units) * w / s for w in weights]
    shares = [int(e) for e in exact]
    order = sorted(range(len(weights)), key=lambda i: (-(exact[i] - shares[i]), -weights[i], i))
    for i in order[: units - sum(shares)]:
        shares[i] += 1
    return [Decimal(x) * unit for x in shares]


def main():
    bad = 0
    for path in sys.argv[1:]:
        doc = json.load(open(path, encoding="utf-8"))
        c = Checker(path)
        c.order(doc.get("order", doc) if doc.get("notificationType") == "Message" else doc)
        print(("ok   " if not c.errors else "FAIL ") + path + "".join("\n     " + e for e in c.errors))
        bad += bool(c.errors)
    print("%d/%d orders add up" % (len(sys.argv) - 1 - bad, len(sys.argv) - 1))
    sys.exit(1 if bad or len(sys.argv) < 2 else 0)


if __name__ == "__main__":
    main()
