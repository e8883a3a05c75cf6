#!/usr/bin/env python3
"""Writes tests/data/bad-input/: small inputs that must be refused with a clear, classified error.

Every file is one message body as a Lambda (or `ctvisma map`) would receive it, derived from a
small valid Swedish order (one 25 % line, 125.00 SEK) with one thing broken: malformed or
truncated JSON, wrong types, missing money fields, absurd quantities and amounts, negative prices,
an unknown currency, impossible fraction digits, a broken envelope. The large cases (10 000 line
items, deep nesting, oversized bodies) are built at test time in shared/core/tests/bad_input.rs
rather than committed. shared/core/tests/bad_input.rs and shared/handler/tests/bad_input_handler.rs
read every file here and say what each must be refused for.
usage: make_bad_input.py [--check]   (--check: fail when tests/data/bad-input/ is out of date)
"""
import copy
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "data" / "bad-input"


def sek(minor, **extra):
    return {"type": "centPrecision", "currencyCode": "SEK", "centAmount": minor, "fractionDigits": 2, **extra}


BASE = {
    "type": "Order", "id": "bad-1", "version": 1, "orderNumber": "BAD-1001",
    "createdAt": "2026-11-23T12:00:00.000Z", "country": "SE",
    "store": {"typeId": "store", "key": "se-webshop"},
    "totalPrice": sek(12500),
    "taxedPrice": {"totalNet": sek(10000), "totalGross": sek(12500),
                   "taxPortions": [{"rate": 0.25, "amount": sek(2500), "name": "25%"}]},
    "lineItems": [{
        "id": "li-1", "name": {"sv": "Tröja", "en": "Shirt"}, "variant": {"id": 1, "sku": "TSHIRT-M"},
        "price": {"value": sek(12500)}, "quantity": 1,
        "taxRate": {"name": "25%", "amount": 0.25, "includedInPrice": True, "country": "SE"},
        "totalPrice": sek(12500), "taxedPrice": {"totalNet": sek(10000), "totalGross": sek(12500)},
    }],
}


def order(**changes):
    o = copy.deepcopy(BASE)
    for path, value in changes.items():
        *parents, last = path.split("__")
        node = o
        for p in parents:
            node = node[int(p)] if p.isdigit() else node[p]
        if value is DELETE:
            del node[last]
        else:
            node[last] = value
    return o


DELETE = object()


def money_everywhere(o, fn):
    """Applies fn to every money object of an order (dicts with currencyCode)."""
    if isinstance(o, dict):
        if "currencyCode" in o:
            fn(o)
        for v in o.values():
            money_everywhere(v, fn)
    elif isinstance(o, list):
        for v in o:
            money_everywhere(v, fn)
    return o


def negate(m):
    m["centAmount"] = -m["centAmount"]


def currency(code):
    def set_code(m):
        m["currencyCode"] = code
    return set_code


def digits(n):
    def set_digits(m):
        m["fractionDigits"] = n
    return set_digits


def text(o):
    return json.dumps(o, ensure_ascii=False, indent=1) + "\n"


def order_created(o):
    return {"notificationType": "Message", "id": "msg-bad-1", "version": 1, "sequenceNumber": 1,
            "resource": {"typeId": "order", "id": "bad-1"}, "resourceVersion": 1,
            "type": "OrderCreated", "createdAt": "2026-11-23T12:00:00.000Z", "order": o}


def sqs(*bodies):
    return {"Records": [{"messageId": f"m-{i}", "body": b, "eventSource": "aws:sqs"}
                        for i, b in enumerate(bodies)]}


def cases():
    base = text(BASE)
    yield "malformed-json.json", base.replace('"country": "SE",', '"country": SE,', 1)
    yield "truncated.json", base[: len(base) * 3 // 5]
    yield "empty.json", ""
    yield "not-an-object.json", "[1, 2, 3]\n"
    yield "wrong-type-quantity.json", text(order(lineItems__0__quantity="1"))
    yield "wrong-type-cent-amount.json", text(order(totalPrice=sek("12500")))
    yield "wrong-type-line-items.json", text(order(lineItems={"0": BASE["lineItems"][0]}))
    yield "wrong-type-tax-rate.json", text(order(lineItems__0__taxRate__amount="25%"))
    yield "missing-total-price.json", text(order(totalPrice=DELETE))
    yield "missing-cent-amount.json", text(order(lineItems__0__totalPrice={"currencyCode": "SEK"}))
    yield "missing-currency-code.json", text(order(totalPrice={"centAmount": 12500, "fractionDigits": 2}))
    yield "missing-line-total.json", text(order(lineItems__0__totalPrice=DELETE, lineItems__0__taxedPrice=DELETE))
    yield "absurd-quantity.json", text(order(lineItems__0__quantity=9223372036854775807))
    yield "absurd-quantity-and-price.json", text(money_everywhere(
        order(lineItems__0__quantity=9223372036854775807),
        lambda m: m.update(centAmount=9223372036854775807)))
    yield "zero-quantity.json", text(order(lineItems__0__quantity=0))
    yield "negative-quantity.json", text(order(lineItems__0__quantity=-1))
    yield "negative-prices.json", text(money_everywhere(order(), negate))
    yield "unknown-currency.json", text(money_everywhere(order(), currency("XQZ")))
    yield "huge-fraction-digits.json", text(money_everywhere(order(), digits(4000000000)))
    yield "fraction-digits-past-decimal.json", text(money_everywhere(order(), digits(29)))
    yield "absurd-tax-rate.json", text(order(lineItems__0__taxRate__amount=1e300))
    yield "unroutable-country.json", text(order(country="XX", store=DELETE))
    yield "bad-created-at.json", text(order(createdAt="the day before yesterday"))
    yield "order-created-order-is-string.json", text(order_created("BAD-1001"))
    yield "order-created-without-order.json", text({k: v for k, v in order_created(BASE).items() if k != "order"})
    yield "sqs-body-not-json.json", text(sqs('{"type": "Order", "id": '))
    yield "sqs-record-without-body.json", text({"Records": [{"messageId": "m-0"}]})
    yield "sqs-one-good-one-bad.json", text(sqs(json.dumps(order_created(BASE)), '{"type": "Order", "id": 7}'))


def main():
    check = "--check" in sys.argv[1:]
    wanted = dict(cases())
    stale = []
    if not check:
        OUT.mkdir(parents=True, exist_ok=True)
    for name, body in wanted.items():
        path = OUT / name
        if check:
            if not path.exists() or path.read_text(encoding="utf-8") != body:
                stale.append(name)
        else:
            path.write_text(body, encoding="utf-8")
    extra = sorted(p.name for p in OUT.glob("*.json") if p.name not in wanted) if OUT.exists() else []
    if check and (stale or extra):
        print(f"tests/data/bad-input/ is out of date (stale: {stale}, unknown: {extra}); "
              "run python3 tools/make_bad_input.py", file=sys.stderr)
        sys.exit(1)
    if not check:
        for name in extra:
            (OUT / name).unlink()
        print(f"wrote {len(wanted)} files to {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
