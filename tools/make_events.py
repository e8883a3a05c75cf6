#!/usr/bin/env python3
"""Writes events/: SQS events as the Lambdas receive them, one per message type and sample.

Each event is one SQS record whose body is a message a commercetools Subscription delivers:
OrderCreated for every order of tests/data/orders/ and every accepted public fixture order,
PaymentCreated for every payment of tests/data/payments/ (and PaymentTransactionStateChanged for a
pending charge that later succeeds), one event for each other message type the functions handle
(OrderStateChanged, OrderPaymentStateChanged, OrderShipmentStateChanged, DeliveryAdded,
ReturnInfoAdded, ReturnInfoSet, OrderReturnShipmentStateChanged, PaymentTransactionAdded,
CustomerCreated, ProductPublished, InventoryEntryQuantitySet), the same OrderCreated in the
CloudEvents format and without its payload (payloadNotIncluded), plus the test message sent when a
subscription is created. No public recording of these envelopes exists (see the fixtures README):
they are built here from the sample resources. Ids are uuid5 (stable),
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
QUEUE_ARN = "arn:aws:sqs:eu-north-1:123456789012:ctvisma-%s"


def sqs_event(name, body, queue="orders"):
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
        "eventSourceARN": QUEUE_ARN % queue,
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
                                                      payment=payment), "payments")
        # A pending charge that later succeeds: the message that turns it into a capture.
        for t in payment["transactions"]:
            if t["state"] == "Pending":
                name = "payment-transaction-state-changed-" + path.stem
                yield name + ".json", sqs_event(name, message(
                    "PaymentTransactionStateChanged", "payment", payment, "2026-11-22T06:00:00.000Z", 2,
                    transactionId=t["id"], state="Success"), "payments")
    for name, body, queue in other_messages():
        yield name + ".json", sqs_event(name, body, queue)
    test = {"notificationType": "ResourceCreated", "projectKey": PROJECT,
            "resource": {"typeId": "subscription", "id": str(uuid.uuid5(NS, "subscription/orders"))},
            "resourceUserProvidedIdentifiers": {"key": "ctvisma-orders"}, "version": 1,
            "modifiedAt": "2026-11-23T00:00:00.000Z"}
    yield "subscription-test-message.json", sqs_event("subscription-test-message", test)


def load(path):
    return json.loads(path.read_text(encoding="utf-8"))


def other_messages():
    """One event per remaining message type, from the sample resources."""
    orders = ROOT / "tests" / "data" / "orders"
    cancelled = load(orders / "se-sek-cancelled.json")
    yield "order-state-changed-se-sek-cancelled", message(
        "OrderStateChanged", "order", cancelled, "2026-11-22T09:00:00.000Z", 2,
        orderState="Cancelled", oldOrderState="Open"), "orders"
    paid = load(orders / "se-sek-mixed-rates.json")
    yield "order-payment-state-changed-se-sek-mixed-rates", message(
        "OrderPaymentStateChanged", "order", paid, "2026-11-24T08:00:00.000Z", 2,
        paymentState="Paid", oldPaymentState="Pending"), "orders"
    split = load(orders / "se-sek-split-shipment.json")
    yield "order-shipment-state-changed-se-sek-split-shipment", message(
        "OrderShipmentStateChanged", "order", split, "2026-11-22T10:00:00.000Z", 3,
        shipmentState="Shipped", oldShipmentState="Partial"), "orders"
    yield "delivery-added-se-sek-split-shipment", message(
        "DeliveryAdded", "order", split, "2026-11-21T07:00:01.000Z", 2,
        delivery=split["shippingInfo"]["deliveries"][-1]), "orders"
    returns = load(orders / "se-sek-returns.json")
    yield "return-info-added-se-sek-returns", message(
        "ReturnInfoAdded", "order", returns, "2026-11-15T12:00:00.000Z", 2,
        returnInfo=returns["returnInfo"][0]), "orders"
    yield "return-info-set-se-sek-returns", message(
        "ReturnInfoSet", "order", returns, "2026-11-20T12:00:00.000Z", 3,
        returnInfo=returns["returnInfo"]), "orders"
    advised = returns["returnInfo"][-1]["items"][0]
    yield "order-return-shipment-state-changed-se-sek-returns", message(
        "OrderReturnShipmentStateChanged", "order", returns, "2026-11-25T10:00:00.000Z", 4,
        returnItemId=advised["id"], returnShipmentState="Returned"), "orders"
    payment = load(ROOT / "tests" / "data" / "payments" / "card-two-captures-goodwill-refund.json")
    charge = next(t for t in payment["transactions"] if t["type"] == "Charge")
    yield "payment-transaction-added-card-two-captures-goodwill-refund", message(
        "PaymentTransactionAdded", "payment", payment, charge.get("timestamp", payment["createdAt"]), 2,
        transaction=charge), "payments"
    customer = load(FIXTURES / "customer-basic.json")
    yield "customer-created-customer-basic", message(
        "CustomerCreated", "customer", customer, customer.get("createdAt", "2026-11-01T00:00:00.000Z"), 1,
        customer=customer), "customers"
    projection = load(FIXTURES / "product-projection.json")
    yield "product-published-product-projection", message(
        "ProductPublished", "product", projection, projection.get("lastModifiedAt", "2026-11-01T00:00:00.000Z"), 2,
        productProjection=projection, removedImageUrls=[], scope="All"), "products"
    entry = load(FIXTURES / "inventory-entry-supply-channel-custom.json")
    yield "inventory-entry-quantity-set-supply-channel", message(
        "InventoryEntryQuantitySet", "inventory-entry", entry, "2026-11-23T06:00:00.000Z", 2,
        oldQuantityOnStock=entry.get("quantityOnStock", 0) + 5, newQuantityOnStock=entry.get("quantityOnStock", 0),
        oldAvailableQuantity=entry.get("availableQuantity", 0) + 5,
        newAvailableQuantity=entry.get("availableQuantity", 0)), "products"
    created = order_created(paid)
    yield "cloudevents-order-created-se-sek-mixed-rates", {
        "specversion": "1.0", "id": created["id"], "type": "com.commercetools.order.message.OrderCreated",
        "source": "/%s/orders" % PROJECT, "subject": paid["id"], "time": created["createdAt"],
        "sequence": "1", "sequencetype": "Integer", "dataref": "/%s/messages/%s" % (PROJECT, created["id"]),
        "data": created}, "orders"
    big = order_created(split)
    del big["order"]
    big["payloadNotIncluded"] = {"reason": "Payload too large", "payloadType": "OrderCreated"}
    yield "order-created-payload-not-included-se-sek-split-shipment", big, "orders"


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
