#!/usr/bin/env python3
"""Checks the SAM template for what docs/SECURITY.md promises, beyond what cfn-lint knows:

- least privilege: every function runs under its own role (no SAM `Policies`); each Allow
  statement names resources of this stack (never "*", never a wildcard action); a function
  consumes only its own queue(s), sends only to the retry and parking queues, writes only its
  own log group, uses only item-level actions on the tables, reads only the two secrets and
  writes only the Visma one; AWS managed policies are limited to an allow-list;
- encryption at rest for every queue, table and bucket; point-in-time recovery on tables;
- TLS only: every queue and bucket is covered by a Deny on aws:SecureTransport = false;
- no secret value in the template: secrets are created with empty fields.

Run by `make lint-infra` (part of `make test`) with the venv's Python, which has cfn-lint's
YAML loader for the intrinsic-function tags. Exits 1 listing every finding. `--self-test` breaks
the template in the ways below, one at a time, and fails unless each break is found.
"""

import json
import os
import sys
import tempfile

from cfnlint.decode import decode

MANAGED_ALLOWED = {"AWSXrayWriteOnlyAccess"}
QUEUE_CONSUME = {"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes"}
TABLE_ITEM_ACTIONS = {
    "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem",
    "dynamodb:Query", "dynamodb:Scan", "dynamodb:ConditionCheckItem", "dynamodb:BatchGetItem",
}
SECRET_READ = {"secretsmanager:GetSecretValue"}
SECRET_WRITE = {"secretsmanager:PutSecretValue", "secretsmanager:UpdateSecretVersionStage"}
WRITABLE_SECRETS = {"VismaSecret"}


def refs(node):
    """Logical ids referenced by an intrinsic (Ref, GetAtt, Sub) anywhere inside `node`."""
    out = set()
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "Ref" and isinstance(v, str):
                out.add(v)
            elif k == "Fn::GetAtt":
                out.add(v[0] if isinstance(v, list) else v.split(".")[0])
            elif k == "Fn::Sub":
                text = v[0] if isinstance(v, list) else v
                for part in text.split("${")[1:]:
                    name = part.split("}")[0].split(".")[0]
                    if not name.startswith("AWS::"):
                        out.add(name)
            else:
                out |= refs(v)
    elif isinstance(node, list):
        for v in node:
            out |= refs(v)
    return out


def as_list(x):
    return x if isinstance(x, list) else [x]


def resources_of(template, kind):
    return {k: v for k, v in template["Resources"].items() if v.get("Type") == kind}


class Checker:
    def __init__(self, template):
        self.t = template
        self.res = template["Resources"]
        self.findings = []

    def fail(self, where, what):
        self.findings.append(f"{where}: {what}")

    # ------------------------------------------------------------ encryption and TLS
    def tls_denied(self, kind, service):
        """Logical ids covered by a `Deny <service>:* unless aws:SecureTransport` statement."""
        covered = set()
        for policy in resources_of(self.t, kind).values():
            props = policy["Properties"]
            # A queue policy applies to its Queues; a bucket policy to its Bucket.
            attached = refs(props.get("Queues", props.get("Bucket")))
            for st in as_list(props["PolicyDocument"]["Statement"]):
                cond = json.dumps(st.get("Condition", {}))
                if st.get("Effect") == "Deny" and "aws:SecureTransport" in cond and '"false"' in cond \
                        and f"{service}:*" in as_list(st.get("Action")):
                    covered |= refs(st.get("Resource")) & attached
        return covered

    def check_storage(self):
        tls_queues = self.tls_denied("AWS::SQS::QueuePolicy", "sqs")
        for name, q in resources_of(self.t, "AWS::SQS::Queue").items():
            p = q.get("Properties", {})
            if p.get("SqsManagedSseEnabled") is not True and "KmsMasterKeyId" not in p:
                self.fail(name, "queue not encrypted at rest")
            if name not in tls_queues:
                self.fail(name, "no TLS-only (aws:SecureTransport) deny in a queue policy")
        for name, table in resources_of(self.t, "AWS::DynamoDB::Table").items():
            p = table.get("Properties", {})
            if p.get("SSESpecification", {}).get("SSEEnabled") is not True:
                self.fail(name, "table without SSESpecification.SSEEnabled")
            pitr = p.get("PointInTimeRecoverySpecification", {})
            if pitr.get("PointInTimeRecoveryEnabled") is not True:
                self.fail(name, "table without point-in-time recovery")
        tls_buckets = self.tls_denied("AWS::S3::BucketPolicy", "s3")
        for name, bucket in resources_of(self.t, "AWS::S3::Bucket").items():
            p = bucket.get("Properties", {})
            if "BucketEncryption" not in p:
                self.fail(name, "bucket without BucketEncryption")
            block = p.get("PublicAccessBlockConfiguration", {})
            if not all(block.get(k) is True for k in
                       ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets")):
                self.fail(name, "bucket without a full public access block")
            if name not in tls_buckets:
                self.fail(name, "no TLS-only deny in a bucket policy")
        for name, secret in resources_of(self.t, "AWS::SecretsManager::Secret").items():
            text = secret.get("Properties", {}).get("SecretString")
            if isinstance(text, str):
                values = json.loads(text).values()
                if any(v not in ("", None) for v in values):
                    self.fail(name, "the template carries a secret value; fields must be empty")

    # ------------------------------------------------------------ least privilege
    def statements(self, role_name):
        role = self.res[role_name]["Properties"]
        out = []
        for policy in role.get("Policies", []):
            out += as_list(policy["PolicyDocument"]["Statement"])
        for arn in role.get("ManagedPolicyArns", []):
            named = refs(arn) - {"AWS::Partition"}
            local = [n for n in named if self.res.get(n, {}).get("Type") == "AWS::IAM::ManagedPolicy"]
            if local:
                out += as_list(self.res[local[0]]["Properties"]["PolicyDocument"]["Statement"])
                continue
            text = json.dumps(arn)
            if not any(text.endswith(f'policy/{m}"}}') or f"policy/{m}" in text for m in MANAGED_ALLOWED):
                self.fail(role_name, f"AWS managed policy not on the allow-list: {text}")
        return out

    def check_function(self, name, fn):
        p = fn.get("Properties", {})
        if "Policies" in p:
            self.fail(name, "uses SAM Policies (generated role) instead of its own role")
        roles = [r for r in refs(p.get("Role")) if self.res.get(r, {}).get("Type") == "AWS::IAM::Role"]
        if len(roles) != 1:
            return self.fail(name, "no role of its own (Role: !GetAtt <Name>Role.Arn)")
        role = roles[0]
        users = [n for n, f in resources_of(self.t, "AWS::Serverless::Function").items()
                 if role in refs(f.get("Properties", {}).get("Role"))]
        if users != [name]:
            self.fail(name, f"role {role} is shared with {users}")
        own_queues = set()
        for ev in p.get("Events", {}).values():
            if ev.get("Type") == "SQS":
                own_queues |= refs(ev["Properties"]["Queue"])
        own_logs = refs(p.get("LoggingConfig", {}).get("LogGroup"))
        queues = set(resources_of(self.t, "AWS::SQS::Queue"))
        tables = set(resources_of(self.t, "AWS::DynamoDB::Table"))
        secrets = set(resources_of(self.t, "AWS::SecretsManager::Secret"))
        buckets = set(resources_of(self.t, "AWS::S3::Bucket"))
        side_queues = {"RetryQueue", "ParkingQueue"} & queues

        for st in self.statements(role):
            if st.get("Effect") != "Allow":
                continue
            sid = f"{name} ({role}, {st.get('Sid', 'statement')})"
            actions = as_list(st.get("Action", []))
            resources = as_list(st.get("Resource", []))
            if any(r == "*" for r in resources):
                self.fail(sid, 'Resource "*"')
                continue
            named = refs(resources)
            for action in actions:
                if action == "*" or action.endswith(":*"):
                    self.fail(sid, f"wildcard action {action}")
                    continue
                service = action.split(":")[0]
                allowed = {
                    "sqs": own_queues if action in QUEUE_CONSUME else
                           side_queues if action == "sqs:SendMessage" else set(),
                    "logs": own_logs if action in ("logs:CreateLogStream", "logs:PutLogEvents") else set(),
                    "dynamodb": tables if action in TABLE_ITEM_ACTIONS else set(),
                    "secretsmanager": secrets if action in SECRET_READ else
                                      WRITABLE_SECRETS if action in SECRET_WRITE else set(),
                    "s3": buckets if action == "s3:PutObject" else set(),
                }.get(service, set())
                extra = named - allowed
                if not named or extra:
                    self.fail(sid, f"{action} on {sorted(extra) or 'no resource of this stack'}")

    def run(self):
        self.check_storage()
        functions = resources_of(self.t, "AWS::Serverless::Function")
        if not functions:
            self.fail("template", "no functions found")
        for name, fn in functions.items():
            self.check_function(name, fn)
        return self.findings


# (what breaks, text in the template, its replacement): each must give at least one finding.
BREAKS = [
    ("retry/parking queues without TLS-only", "Queues: [!Ref RetryQueue, !Ref ParkingQueue]", "Queues: [!Ref RetryQueue]"),
    ("a wildcard action", "Action: [sqs:ReceiveMessage, sqs:DeleteMessage, sqs:ChangeMessageVisibility, "
     "sqs:GetQueueAttributes]\n                Resource: !GetAtt OrdersQueue.Arn",
     "Action: sqs:*\n                Resource: !GetAtt OrdersQueue.Arn"),
    ('Resource "*"', "Resource: !GetAtt PaymentsQueue.Arn\n              - Sid: OwnLogGroup",
     'Resource: "*"\n              - Sid: OwnLogGroup'),
    ("consuming another function's queue", "Resource: !GetAtt CustomersQueue.Arn\n              - Sid: OwnLogGroup",
     "Resource: [!GetAtt CustomersQueue.Arn, !GetAtt OrdersQueue.Arn]\n              - Sid: OwnLogGroup"),
    ("writing the commercetools secret", "secretsmanager:UpdateSecretVersionStage]\n            Resource: !Ref VismaSecret",
     "secretsmanager:UpdateSecretVersionStage]\n            Resource: [!Ref VismaSecret, !Ref CommercetoolsSecret]"),
    ("an unencrypted queue", "SqsManagedSseEnabled: true", "SqsManagedSseEnabled: false"),
    ("a table-level action", "dynamodb:ConditionCheckItem\n", "dynamodb:DeleteTable\n"),
    ("a secret value in the template", '"client_secret":""', '"client_secret":"s3cr3t"'),
]


def self_test(path):
    text = open(path).read()
    missed = []
    for what, old, new in BREAKS:
        if old not in text:
            missed.append(f"{what}: the text to break is no longer in {path}")
            continue
        with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as f:
            f.write(text.replace(old, new, 1))
        try:
            template, _ = decode(f.name)
            if not Checker(template).run():
                missed.append(f"{what}: not found")
        finally:
            os.unlink(f.name)
    for m in missed:
        print(f"SELF-TEST FAIL {m}")
    print(f"self-test: {len(BREAKS) - len(missed)}/{len(BREAKS)} breaks found")
    return 1 if missed else 0


def main(path):
    template, matches = decode(path)
    if template is None:
        print(f"{path}: cannot be read: {matches}", file=sys.stderr)
        return 1
    findings = Checker(template).run()
    for f in findings:
        print(f"FAIL {f}")
    n = len(resources_of(template, "AWS::Serverless::Function"))
    print(f"{path}: {n} functions, least privilege, encryption and TLS: "
          + ("ok" if not findings else f"{len(findings)} finding(s)"))
    return 1 if findings else 0


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if a != "--self-test"]
    target = args[0] if args else "infra/template.yaml"
    sys.exit(self_test(target) if "--self-test" in sys.argv else main(target))
