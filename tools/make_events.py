#!/usr/bin/env python3
"""Writes events/: SQS events as the orders Lambda receives them, one per sample order.

Each event is one SQS record whose body is a message a commercetools Subscription (platform format)
delivers: OrderCreated for every order of tests/data/orders/ and every accepted public fixture order,
PaymentCreated for every payment of tests/data/payments/ (and PaymentTransactionStateChanged for a
pending charge that later succeeds), plus the test message sent when a subscription is created. Ids are uuid5 (stable),
md5OfBody is the real MD5, so the files are deterministic and usable with
`cargo lambda invoke --data-file events/<file>.json`.
usage: make_events.py [--check]   (--check: fail when events/ is out of date)
"""
import hashlib
import json
import sys
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT.parent / "shared" / "fixtures" / "commercetools" / "resources"
FIXTURE_ORDERS = [
    "order-2015-legacy-tax-portion-without-name.json",
    "order-legacy-money-no-type-de-19.json",
    "order-platform-tax-usd-return-info-discount-code-paid-shipped.json",
    "order-tax-disabled-usd-three-line-items-discounted.json",
]
NS = uuid.UUID("0b7f3c52-2f4e-4b8e-9d0a-6a3c1c9e5d21")
PROJECT = "ctvisma-demo"
QUEUE_ARN = "arn:aws:sqs:eu-north-1:123456789012:ctvisma-orders"


def sqs_event(name, body):
    text = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    return {"Records": [{
        "messageId": str(uuid.uuid5(NS, "sqs/" + name)),
        "receiptHandle": "AQEB" + hashlib.sha256(name.encode()).hexdigest(),
        "body": text,
        "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1795478400000",
                       "SenderId": "AIDAEXAMPLECOMMERCETOOLS", "ApproximateFirstReceiveTimestamp": "1795478400123"},
        "messageAttributes": {},
        "md5OfBody": hashlib.md5(text.encode("utf-8")).hexdigest(),
        "eventSource": "aws:sqs",
        "eventSourceARN": QUEUE_ARN,
        "awsRegion": "eu-north-1",
    }]}


def order_created(order):
    created = order.get("createdAt", "2026-11-23T00:00:00.000Z")
    ids = {"orderNumber": order["orderNumber"]} if order.get("orderNumber") else {}
    return {
        "notificationType": "Message", "projectKey": PROJECT,
        "id": str(uuid.uuid5(NS, "message/" + order["id"])), "version": 1, "sequenceNumber": 1,
        "resource": {"typeId": "order", "id": order["id"]}, "resourceVersion": order.get("version", 1),
        "resourceUserProvidedIdentifiers": ids, "type": "OrderCreated", "order": order,
        "createdAt": created, "lastModifiedAt": created,
    }


def message(kind, resource_type, resource, created, sequence, **payload):
    return dict({
        "notificationType": "Message", "projectKey": PROJECT,
        "id": str(uuid.uuid5(NS, "message/%s/%s/%d" % (kind, resource["id"], sequence))), "version": 1,
        "sequenceNumber": sequence, "resource": {"typeId": resource_type, "id": resource["id"]},
        "resourceVersion": resource.get("version", 1), "resourceUserProvidedIdentifiers": {}, "type": kind,
        "createdAt": created, "lastModifiedAt": created}, **payload)


def events():
    sources = sorted((ROOT / "tests" / "data" / "orders").glob("*.json")) + [FIXTURES / f for f in FIXTURE_ORDERS]
    for path in sources:
        order = json.loads(path.read_text(encoding="utf-8"))
        name = "order-created-" + path.stem
        yield name + ".json", sqs_event(name, order_created(order))
    for path in sorted((ROOT / "tests" / "data" / "payments").glob("*.json")):
        payment = json.loads(path.read_text(encoding="utf-8"))
        name = "payment-created-" + path.stem
        yield name + ".json", sqs_event(name, message("PaymentCreated", "payment", payment, payment["createdAt"], 1,
                                                      payment=payment))
        # A pending charge that later succeeds: the message that turns it into a capture.
        for t in payment["transactions"]:
            if t["state"] == "Pending":
                name = "payment-transaction-state-changed-" + path.stem
                yield name + ".json", sqs_event(name, message(
                    "PaymentTransactionStateChanged", "payment", payment, "2026-11-22T06:00:00.000Z", 2,
                    transactionId=t["id"], state="Success"))
    test = {"notificationType": "ResourceCreated", "projectKey": PROJECT,
            "resource": {"typeId": "subscription", "id": str(uuid.uuid5(NS, "subscription/orders"))},
            "resourceUserProvidedIdentifiers": {"key": "ctvisma-orders"}, "version": 1,
            "modifiedAt": "2026-11-23T00:00:00.000Z"}
    yield "subscription-test-message.json", sqs_event("subscription-test-message", test)


def main():
    check = "--check" in sys.argv[1:]
    out = ROOT / "events"
    out.mkdir(exist_ok=True)
    wanted, stale = {}, []
    for name, doc in events():
        wanted[name] = json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    for name, text in wanted.items():
        path = out / name
        if check:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                stale.append(name)
        else:
            path.write_text(text, encoding="utf-8")
    generated = {p.name for p in out.glob("*.json")}
    for name in sorted(generated - set(wanted)):
        if check:
            stale.append(name)
        else:
            (out / name).unlink()
    if stale:
        sys.exit("events/ out of date (run tools/make_events.py): " + ", ".join(stale))
    print("%s %d events" % ("checked" if check else "wrote", len(wanted)))


if __name__ == "__main__":
    main()
