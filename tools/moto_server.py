"""moto's server for the tests, made as atomic as DynamoDB itself.

The tests start this instead of `moto_server` (shared/aws/src/testing.rs). Two changes, both to
DynamoDB only:

1. TransactWriteItems saves and restores only the items it touches. moto deep-copies every
   table a transaction names and, when the transaction is cancelled, puts those copies back,
   losing every write other requests made meanwhile. A refused commit then undid other
   messages' claims and completions: keys were left in progress or claimed twice in the
   fault-injection run (shared/aws/tests/moto.rs, `a_refused_commit_undoes_no_write_made_meanwhile`,
   fails on plain moto). The copies also cost time and memory in proportion to the table: moto
   grew past 10 GB in that run.
2. Every DynamoDB request runs under one lock. moto's server is threaded and checks a condition
   and writes the item in separate Python steps; DynamoDB makes them one step, and the
   idempotency claims rely on that.

Same arguments as `moto_server` (-H host, -p port).
"""

import copy
import sys
import threading

from moto import server
from moto.dynamodb import models as dynamodb_models
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.table import Table

DYNAMODB = threading.Lock()


class AtomicDynamoDB:
    """WSGI middleware: DynamoDB requests one at a time, everything else as before."""

    def __init__(self, app):
        self.app = app

    def __getattr__(self, name):
        return getattr(self.app, name)

    def __setattr__(self, name, value):
        if name == "app":
            object.__setattr__(self, name, value)
        else:
            setattr(self.app, name, value)

    def __call__(self, environ, start_response):
        if not environ.get("HTTP_X_AMZ_TARGET", "").startswith("DynamoDB_"):
            return self.app(environ, start_response)
        with DYNAMODB:
            # The body is produced inside the lock: the request is done when the lock is let go.
            return list(self.app(environ, start_response))


class TablesNotCopied:
    """Stands in for `copy` in moto's DynamoDB models: a whole table is never copied."""

    @staticmethod
    def deepcopy(value, memo=None):
        return value if isinstance(value, Table) else copy.deepcopy(value, memo)


def touched_key(backend, op_type, op):
    if op_type != "Put":
        return op["Key"]
    table = backend.get_table(op["TableName"])
    key = {table.hash_key_attr: op["Item"][table.hash_key_attr]}
    if table.range_key_attr is not None:
        key[table.range_key_attr] = op["Item"][table.range_key_attr]
    return key


original_transact_write_items = DynamoDBBackend.transact_write_items


def transact_write_items(self, transact_items):
    saved = []
    for item in transact_items:
        op_type, op = next(iter(item.items()))
        try:
            key = touched_key(self, op_type, op)
            current = self.get_item(op["TableName"], key)
        except Exception:
            continue  # moto raises the proper error for this item itself
        attrs = copy.deepcopy(current.to_json()["Attributes"]) if current else None
        saved.append((op["TableName"], key, attrs))
    try:
        original_transact_write_items(self, transact_items)
    except Exception:
        for table_name, key, attrs in reversed(saved):
            if attrs is None:
                self.delete_item(table_name, key)
            else:
                self.put_item(table_name, attrs)
        raise


dynamodb_models.copy = TablesNotCopied
DynamoDBBackend.transact_write_items = transact_write_items
original_application = server.DomainDispatcherApplication
server.DomainDispatcherApplication = lambda create_app: AtomicDynamoDB(original_application(create_app))

if __name__ == "__main__":
    server.main(sys.argv[1:])
