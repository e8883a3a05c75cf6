//! The idempotency store and audit ledger on DynamoDB: two tables, laid out in `TABLES.md`.
//!
//! Two write calls per posting on the happy path: `begin` is one conditional `PutItem`, and
//! `complete` one `TransactWriteItems` that marks the key completed and appends the ledger entry.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};

use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::delete_item::DeleteItemError;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, Put, ReturnValuesOnConditionCheckFailure, ScalarAttributeType, TimeToLiveSpecification,
    TransactWriteItem, Update,
};
use aws_sdk_dynamodb::Client;
use ctvisma_ledger::{
    Begin, Document, IdempotencyStore, KeyRecord, LedgerEntry, MessageRecord, Millis, Status, StoreError,
};
use serde_json::Value;

use crate::{is_retryable_code, sdk_failure, AwsError};

type Item = HashMap<String, AttributeValue>;

/// Environment variable naming the idempotency table (SAM logical name `IdempotencyTable`).
pub const IDEMPOTENCY_TABLE_ENV: &str = "IDEMPOTENCY_TABLE";
/// Environment variable naming the ledger table (SAM logical name `LedgerTable`).
pub const LEDGER_TABLE_ENV: &str = "LEDGER_TABLE";
/// Ledger GSI: `gsi1pk` = `ref#<order number>`, `gsi1sk` = the item's `sk`.
pub const BY_REF_INDEX: &str = "by-ref";
/// Ledger GSI: `gsi2pk` = `day#<YYYY-MM-DD>` (UTC), `gsi2sk` = the posting's `sk`.
pub const BY_DAY_INDEX: &str = "by-day";
/// A key is kept this long after its lease ends or it completes (TTL attribute `expires_at`).
pub const KEY_RETENTION_SECS: i64 = 90 * 24 * 60 * 60;

const IN_PROGRESS: &str = "IN_PROGRESS";
const COMPLETED: &str = "COMPLETED";
const DAY_MS: i64 = 24 * 60 * 60 * 1000;
/// Cancellation reasons of a transaction that may pass when tried again.
const RETRYABLE_CANCELLATIONS: &[&str] = &[
    "TransactionConflict",
    "ThrottlingError",
    "ProvisionedThroughputExceeded",
];
/// Longer ranges are read with one filtered scan instead of one query per day.
const MAX_DAY_QUERIES: i64 = 400;

/// [`IdempotencyStore`] on DynamoDB. Build it once per cold start; the client is cheap to clone.
#[derive(Debug)]
pub struct DynamoStore {
    client: Client,
    idempotency_table: String,
    ledger_table: String,
    write_calls: AtomicU64,
}

impl DynamoStore {
    pub fn new(client: Client, idempotency_table: impl Into<String>, ledger_table: impl Into<String>) -> Self {
        Self {
            client,
            idempotency_table: idempotency_table.into(),
            ledger_table: ledger_table.into(),
            write_calls: AtomicU64::new(0),
        }
    }

    /// Table names from `IDEMPOTENCY_TABLE` and `LEDGER_TABLE` (set by the SAM template).
    pub fn from_env(client: Client) -> Result<Self, AwsError> {
        let var = |name: &str| {
            std::env::var(name)
                .ok()
                .filter(|v| !v.trim().is_empty())
                .ok_or_else(|| AwsError::Broken {
                    service: "dynamodb",
                    what: format!("{name} is not set"),
                })
        };
        Ok(Self::new(client, var(IDEMPOTENCY_TABLE_ENV)?, var(LEDGER_TABLE_ENV)?))
    }

    pub fn idempotency_table(&self) -> &str {
        &self.idempotency_table
    }

    pub fn ledger_table(&self) -> &str {
        &self.ledger_table
    }

    /// DynamoDB write calls made so far (successful or not): the happy path of a posting is two.
    pub fn write_calls(&self) -> u64 {
        self.write_calls.load(Ordering::Relaxed)
    }

    fn wrote(&self) {
        self.write_calls.fetch_add(1, Ordering::Relaxed);
    }

    async fn get_item(&self, key: &str) -> Result<Option<Item>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.idempotency_table)
            .key("pk", s(key))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| store_error("get key", &e))?;
        Ok(out.item.filter(|item| !item.is_empty()))
    }

    /// Queries one partition of the ledger table (or of one of its indexes), every page.
    async fn query(
        &self,
        index: Option<&str>,
        pk_name: &str,
        pk: &str,
        sk_range: Option<(&str, String, String)>,
    ) -> Result<Vec<Item>, StoreError> {
        let mut condition = "#pk = :pk".to_string();
        let mut query = self
            .client
            .query()
            .table_name(&self.ledger_table)
            .set_index_name(index.map(str::to_string))
            .consistent_read(index.is_none())
            .expression_attribute_names("#pk", pk_name)
            .expression_attribute_values(":pk", s(pk));
        if let Some((sk_name, lo, hi)) = sk_range {
            condition.push_str(" AND #sk BETWEEN :lo AND :hi");
            query = query
                .expression_attribute_names("#sk", sk_name)
                .expression_attribute_values(":lo", s(lo))
                .expression_attribute_values(":hi", s(hi));
        }
        query
            .key_condition_expression(condition)
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|e| store_error("query ledger", &e))
    }

    async fn scan_postings(&self, from: Millis, to: Millis) -> Result<Vec<Item>, StoreError> {
        self.client
            .scan()
            .table_name(&self.ledger_table)
            .filter_expression("item_type = :posting AND completed_at >= :from AND completed_at < :to")
            .expression_attribute_values(":posting", s("posting"))
            .expression_attribute_values(":from", n(from))
            .expression_attribute_values(":to", n(to))
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|e| store_error("scan ledger", &e))
    }
}

#[async_trait::async_trait]
impl IdempotencyStore for DynamoStore {
    async fn begin(
        &self,
        key: &str,
        payload_hash: &str,
        holder: &str,
        lease_until: Millis,
        now: Millis,
    ) -> Result<Begin, StoreError> {
        // A lost race with a release or a take-over shows a state the condition would have
        // accepted: try again, a few times.
        for _ in 0..3 {
            let put = self
                .client
                .put_item()
                .table_name(&self.idempotency_table)
                .item("pk", s(key))
                .item("status", s(IN_PROGRESS))
                .item("payload_hash", s(payload_hash))
                .item("holder", s(holder))
                .item("lease_until", n(lease_until))
                .item("expires_at", n(lease_until.div_euclid(1000) + KEY_RETENTION_SECS))
                // Free, or an expired lease on the same posting, or re-entry by the holder
                // itself (which moves its lease to the new deadline).
                .condition_expression(
                    "attribute_not_exists(pk) OR (#status = :in_progress AND payload_hash = :hash \
                     AND (lease_until <= :now OR holder = :holder))",
                )
                .expression_attribute_names("#status", "status")
                .expression_attribute_values(":in_progress", s(IN_PROGRESS))
                .expression_attribute_values(":now", n(now))
                .expression_attribute_values(":hash", s(payload_hash))
                .expression_attribute_values(":holder", s(holder))
                .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
                .send()
                .await;
            self.wrote();
            let err = match put {
                Ok(_) => return Ok(Begin::Acquired),
                Err(err) => err,
            };
            let old = match err.as_service_error() {
                Some(PutItemError::ConditionalCheckFailedException(e)) => e.item.clone().filter(|i| !i.is_empty()),
                _ => return Err(store_error("begin", &err)),
            };
            let old = match old {
                Some(item) => Some(item),
                None => self.get_item(key).await?,
            };
            let Some(item) = old else { continue };
            if let Some(answer) = classify(key_record(&item)?, payload_hash, holder, now) {
                return Ok(answer);
            }
        }
        Err(StoreError::Unavailable(format!(
            "begin {key}: the key kept changing hands"
        )))
    }

    async fn complete(&self, holder: &str, entry: &LedgerEntry) -> Result<(), StoreError> {
        let doc = &entry.document;
        let mut set = "SET #status = :completed, doc_target = :target, doc_id = :id, doc_total = :total, \
                       completed_at = :at, expires_at = :expires"
            .to_string();
        let mut update = Update::builder()
            .table_name(&self.idempotency_table)
            .key("pk", s(&entry.key))
            .condition_expression("holder = :holder AND #status = :in_progress")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":holder", s(holder))
            .expression_attribute_values(":in_progress", s(IN_PROGRESS))
            .expression_attribute_values(":completed", s(COMPLETED))
            .expression_attribute_values(":target", s(&doc.target))
            .expression_attribute_values(":id", s(&doc.id))
            .expression_attribute_values(":total", s(&doc.total))
            .expression_attribute_values(":at", n(entry.completed_at))
            .expression_attribute_values(":expires", n(entry.completed_at.div_euclid(1000) + KEY_RETENTION_SECS))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
        match &doc.number {
            Some(number) => {
                set.push_str(", doc_number = :number");
                update = update.expression_attribute_values(":number", s(number));
            }
            None => set.push_str(" REMOVE doc_number"),
        }
        let update = update
            .update_expression(set)
            .build()
            .map_err(|e| StoreError::Broken(format!("complete {}: {e}", entry.key)))?;
        let put = Put::builder()
            .table_name(&self.ledger_table)
            .set_item(Some(ledger_item(entry)?))
            .build()
            .map_err(|e| StoreError::Broken(format!("complete {}: {e}", entry.key)))?;
        let result = self
            .client
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().update(update).build())
            .transact_items(TransactWriteItem::builder().put(put).build())
            // The SDK's own retries of a call that did commit then succeed instead of failing.
            .client_request_token(request_token(&entry.key, holder))
            .send()
            .await;
        self.wrote();
        let err = match result {
            Ok(_) => return Ok(()),
            Err(err) => err,
        };
        let not_holder = || StoreError::NotHolder {
            key: entry.key.clone(),
            holder: holder.to_string(),
        };
        match err.as_service_error() {
            Some(TransactWriteItemsError::TransactionCanceledException(e)) => {
                let codes: Vec<&str> = e.cancellation_reasons().iter().filter_map(|r| r.code()).collect();
                let what = || format!("complete {}: transaction cancelled: {}", entry.key, codes.join(", "));
                match cancellation(&codes) {
                    Cancelled::NotHolder => Err(not_holder()),
                    Cancelled::Retry => Err(StoreError::Unavailable(what())),
                    Cancelled::Broken => Err(StoreError::Broken(what())),
                    // No reason given: the key tells a lost lease from a passing conflict.
                    Cancelled::Unknown => match self.get_item(&entry.key).await?.as_ref().map(key_record) {
                        Some(Ok(r)) if r.status == Status::InProgress && r.holder == holder => {
                            Err(StoreError::Unavailable(what()))
                        }
                        Some(Err(e)) => Err(e),
                        _ => Err(not_holder()),
                    },
                }
            }
            // The same holder completed the key before, with another entry: it is no longer held.
            Some(TransactWriteItemsError::IdempotentParameterMismatchException(_)) => Err(not_holder()),
            _ => Err(store_error("complete", &err)),
        }
    }

    async fn release(&self, key: &str, holder: &str) -> Result<(), StoreError> {
        let result = self
            .client
            .delete_item()
            .table_name(&self.idempotency_table)
            .key("pk", s(key))
            .condition_expression("holder = :holder AND #status = :in_progress")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":holder", s(holder))
            .expression_attribute_values(":in_progress", s(IN_PROGRESS))
            .send()
            .await;
        self.wrote();
        match result {
            Ok(_) => Ok(()),
            Err(err) => match err.as_service_error() {
                Some(DeleteItemError::ConditionalCheckFailedException(_)) => Err(StoreError::NotHolder {
                    key: key.to_string(),
                    holder: holder.to_string(),
                }),
                _ => Err(store_error("release", &err)),
            },
        }
    }

    async fn get(&self, key: &str) -> Result<Option<KeyRecord>, StoreError> {
        self.get_item(key).await?.as_ref().map(key_record).transpose()
    }

    async fn ledger_for(&self, order: &str) -> Result<Vec<LedgerEntry>, StoreError> {
        let mut items = self.query(None, "pk", &format!("posting#{order}"), None).await?;
        items.extend(
            self.query(Some(BY_REF_INDEX), "gsi1pk", &format!("ref#{order}"), None)
                .await?,
        );
        let mut entries: Vec<LedgerEntry> = Vec::new();
        for item in items.iter().filter(|i| prefixed(i, "pk", "posting#")) {
            let entry: LedgerEntry = from_item(item)?;
            if !entries.iter().any(|e| e.key == entry.key) {
                entries.push(entry);
            }
        }
        entries.sort_by(|a, b| (a.completed_at, &a.key).cmp(&(b.completed_at, &b.key)));
        Ok(entries)
    }

    async fn ledger_between(&self, from: Millis, to: Millis) -> Result<Vec<LedgerEntry>, StoreError> {
        if from >= to {
            return Ok(Vec::new());
        }
        let (first, last) = (from.div_euclid(DAY_MS), (to - 1).div_euclid(DAY_MS));
        let items = if last - first >= MAX_DAY_QUERIES {
            self.scan_postings(from, to).await?
        } else {
            let mut items = Vec::new();
            for day in first..=last {
                let range = ("gsi2sk", pad(from), pad(to));
                items.extend(
                    self.query(Some(BY_DAY_INDEX), "gsi2pk", &day_key(day), Some(range))
                        .await?,
                );
            }
            items
        };
        let mut entries = items
            .iter()
            .map(from_item::<LedgerEntry>)
            .collect::<Result<Vec<_>, _>>()?;
        entries.retain(|e| e.completed_at >= from && e.completed_at < to);
        entries.sort_by(|a, b| (a.completed_at, &a.key).cmp(&(b.completed_at, &b.key)));
        entries.dedup_by(|a, b| a.key == b.key && a.completed_at == b.completed_at);
        Ok(entries)
    }

    async fn record_message(&self, record: &MessageRecord) -> Result<(), StoreError> {
        let mut item = to_item(record)?;
        let sk = format!("{}#{}", pad(record.at), record.message_id);
        item.insert("pk".into(), s(format!("msg#{}", record.resource_id)));
        if let Some(number) = record.order_number.as_deref().filter(|n| !n.is_empty()) {
            item.insert("gsi1pk".into(), s(format!("ref#{number}")));
            item.insert("gsi1sk".into(), s(&sk));
        }
        item.insert("sk".into(), s(sk));
        item.insert("item_type".into(), s("message"));
        let result = self
            .client
            .put_item()
            .table_name(&self.ledger_table)
            .set_item(Some(item))
            .send()
            .await;
        self.wrote();
        result.map(|_| ()).map_err(|e| store_error("record message", &e))
    }

    async fn messages_for(&self, resource: &str) -> Result<Vec<MessageRecord>, StoreError> {
        let mut items = self.query(None, "pk", &format!("msg#{resource}"), None).await?;
        items.extend(
            self.query(Some(BY_REF_INDEX), "gsi1pk", &format!("ref#{resource}"), None)
                .await?,
        );
        let mut seen = std::collections::HashSet::new();
        let mut records = Vec::new();
        for item in items.iter().filter(|i| prefixed(i, "pk", "msg#")) {
            let id = (text(item, "pk")?, text(item, "sk")?);
            if seen.insert(id.clone()) {
                records.push((id.1, from_item::<MessageRecord>(item)?));
            }
        }
        records.sort_by(|a, b| (a.1.at, &a.0).cmp(&(b.1.at, &b.0)));
        Ok(records.into_iter().map(|(_, r)| r).collect())
    }

    async fn advance_version(&self, resource_id: &str, version: i64) -> Result<bool, StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.ledger_table)
            .key("pk", s(format!("version#{resource_id}")))
            .key("sk", s("v"))
            .update_expression("SET #version = :v, item_type = :type")
            .condition_expression("attribute_not_exists(#version) OR #version < :v")
            .expression_attribute_names("#version", "version")
            .expression_attribute_values(":v", n(version))
            .expression_attribute_values(":type", s("version"))
            .send()
            .await;
        self.wrote();
        match result {
            Ok(_) => Ok(true),
            Err(err) => match err.as_service_error() {
                Some(UpdateItemError::ConditionalCheckFailedException(_)) => Ok(false),
                _ => Err(store_error("advance version", &err)),
            },
        }
    }

    async fn get_state(&self, name: &str) -> Result<Option<String>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.ledger_table)
            .key("pk", s(format!("state#{name}")))
            .key("sk", s("s"))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| store_error("get state", &e))?;
        match out.item.filter(|item| !item.is_empty()) {
            Some(item) => text(&item, "value").map(Some),
            None => Ok(None),
        }
    }

    async fn set_state(&self, name: &str, expected: Option<&str>, value: &str) -> Result<bool, StoreError> {
        let mut put = self
            .client
            .put_item()
            .table_name(&self.ledger_table)
            .item("pk", s(format!("state#{name}")))
            .item("sk", s("s"))
            .item("value", s(value))
            .item("item_type", s("state"));
        put = match expected {
            None => put.condition_expression("attribute_not_exists(pk)"),
            Some(expected) => put
                .condition_expression("#value = :expected")
                .expression_attribute_names("#value", "value")
                .expression_attribute_values(":expected", s(expected)),
        };
        let result = put.send().await;
        self.wrote();
        match result {
            Ok(_) => Ok(true),
            Err(err) => match err.as_service_error() {
                Some(PutItemError::ConditionalCheckFailedException(_)) => Ok(false),
                _ => Err(store_error("set state", &err)),
            },
        }
    }
}

/// What a cancelled `complete` transaction means, from its cancellation reason codes.
#[derive(Debug, PartialEq, Eq)]
enum Cancelled {
    /// The key's condition failed: it is not (or no longer) ours.
    NotHolder,
    /// A conflicting transaction or throttling: try again.
    Retry,
    /// A validation error, an item too large: retrying cannot help.
    Broken,
    /// No reason given.
    Unknown,
}

fn cancellation(codes: &[&str]) -> Cancelled {
    if codes.contains(&"ConditionalCheckFailed") {
        Cancelled::NotHolder
    } else if codes
        .iter()
        .any(|c| RETRYABLE_CANCELLATIONS.contains(c) || is_retryable_code(c))
    {
        Cancelled::Retry
    } else if codes.iter().all(|c| *c == "None") {
        Cancelled::Unknown
    } else {
        Cancelled::Broken
    }
}

/// What a failed `begin` condition means, seen from the key's current record; `None` when the
/// record is one the condition accepts (it changed in between: try again).
fn classify(record: KeyRecord, payload_hash: &str, holder: &str, now: Millis) -> Option<Begin> {
    if record.payload_hash != payload_hash {
        return Some(Begin::Conflict(record));
    }
    match record.status {
        Status::Completed => Some(Begin::Completed(record)),
        // Our own lease: the condition accepts it, so it changed in between (as below).
        Status::InProgress if record.holder == holder => None,
        Status::InProgress if record.lease_until > now => Some(Begin::Busy {
            holder: record.holder,
            lease_until: record.lease_until,
        }),
        Status::InProgress => None,
    }
}

fn key_record(item: &Item) -> Result<KeyRecord, StoreError> {
    let status = match text(item, "status")?.as_str() {
        IN_PROGRESS => Status::InProgress,
        COMPLETED => Status::Completed,
        other => return Err(StoreError::Broken(format!("unknown key status {other:?}"))),
    };
    let document = match item.get("doc_id") {
        Some(_) => Some(Document {
            target: text(item, "doc_target")?,
            id: text(item, "doc_id")?,
            number: item.get("doc_number").and_then(|v| v.as_s().ok()).cloned(),
            total: text(item, "doc_total")?,
        }),
        None => None,
    };
    Ok(KeyRecord {
        key: text(item, "pk")?,
        status,
        payload_hash: text(item, "payload_hash")?,
        holder: text(item, "holder")?,
        lease_until: number(item, "lease_until")?,
        document,
    })
}

/// The ledger item of a completed posting: its fields, plus the table's keys.
fn ledger_item(entry: &LedgerEntry) -> Result<Item, StoreError> {
    let mut item = to_item(entry)?;
    let sk = format!("{}#{}", pad(entry.completed_at), entry.key);
    let owner = entry
        .order_id
        .as_deref()
        .filter(|o| !o.is_empty())
        .unwrap_or(&entry.external_ref);
    item.insert("pk".into(), s(format!("posting#{owner}")));
    let reference = entry.external_ref.split('/').next().unwrap_or_default();
    if !reference.is_empty() {
        item.insert("gsi1pk".into(), s(format!("ref#{reference}")));
        item.insert("gsi1sk".into(), s(&sk));
    }
    item.insert("gsi2pk".into(), s(day_key(entry.completed_at.div_euclid(DAY_MS))));
    item.insert("gsi2sk".into(), s(&sk));
    item.insert("sk".into(), s(sk));
    item.insert("item_type".into(), s("posting"));
    Ok(item)
}

/// A time in sort-key form: zero-padded milliseconds, so text order is time order.
fn pad(ms: Millis) -> String {
    format!("{:015}", ms.max(0))
}

/// `day#YYYY-MM-DD` for a day number since the Unix epoch (UTC).
fn day_key(day: i64) -> String {
    let (y, m, d) = civil_from_days(day);
    format!("day#{y:04}-{m:02}-{d:02}")
}

/// Howard Hinnant's `civil_from_days`: the proleptic Gregorian date of a day since 1970-01-01.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// 32 hex characters naming one completion, for `ClientRequestToken` (at most 36).
fn request_token(key: &str, holder: &str) -> String {
    let fnv = |seed: u64| {
        let mut h = seed;
        for b in key.bytes().chain([0]).chain(holder.bytes()) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
        h
    };
    format!("{:016x}{:016x}", fnv(0xcbf2_9ce4_8422_2325), fnv(0x8422_2325_cbf2_9ce4))
}

fn prefixed(item: &Item, name: &str, prefix: &str) -> bool {
    item.get(name)
        .and_then(|v| v.as_s().ok())
        .is_some_and(|v| v.starts_with(prefix))
}

fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

fn n(value: i64) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

fn text(item: &Item, name: &str) -> Result<String, StoreError> {
    match item.get(name) {
        Some(AttributeValue::S(v)) => Ok(v.clone()),
        _ => Err(StoreError::Broken(format!("item lacks the text attribute {name}"))),
    }
}

fn number(item: &Item, name: &str) -> Result<i64, StoreError> {
    match item.get(name) {
        Some(AttributeValue::N(v)) => v
            .parse()
            .map_err(|_| StoreError::Broken(format!("attribute {name} is not an integer: {v}"))),
        _ => Err(StoreError::Broken(format!("item lacks the number attribute {name}"))),
    }
}

/// A serialisable record as a DynamoDB item, one attribute per field.
fn to_item(value: &impl serde::Serialize) -> Result<Item, StoreError> {
    match serde_json::to_value(value) {
        Ok(Value::Object(fields)) => Ok(fields.iter().map(|(k, v)| (k.clone(), to_attribute(v))).collect()),
        Ok(_) => Err(StoreError::Broken("a record must serialise to an object".into())),
        Err(e) => Err(StoreError::Broken(format!("cannot serialise a record: {e}"))),
    }
}

/// The record an item holds; attributes the record does not know (the keys) are ignored.
fn from_item<T: serde::de::DeserializeOwned>(item: &Item) -> Result<T, StoreError> {
    let fields = item
        .iter()
        .map(|(k, v)| Ok((k.clone(), from_attribute(v)?)))
        .collect::<Result<serde_json::Map<_, _>, StoreError>>()?;
    serde_json::from_value(Value::Object(fields)).map_err(|e| StoreError::Broken(format!("unreadable item: {e}")))
}

fn to_attribute(value: &Value) -> AttributeValue {
    match value {
        Value::Null => AttributeValue::Null(true),
        Value::Bool(b) => AttributeValue::Bool(*b),
        Value::Number(v) => AttributeValue::N(v.to_string()),
        Value::String(v) => AttributeValue::S(v.clone()),
        Value::Array(values) => AttributeValue::L(values.iter().map(to_attribute).collect()),
        Value::Object(fields) => AttributeValue::M(fields.iter().map(|(k, v)| (k.clone(), to_attribute(v))).collect()),
    }
}

fn from_attribute(value: &AttributeValue) -> Result<Value, StoreError> {
    Ok(match value {
        AttributeValue::Null(_) => Value::Null,
        AttributeValue::Bool(b) => Value::Bool(*b),
        AttributeValue::S(v) => Value::String(v.clone()),
        AttributeValue::N(v) => {
            if let Ok(i) = v.parse::<i64>() {
                Value::from(i)
            } else if let Ok(u) = v.parse::<u64>() {
                Value::from(u)
            } else {
                v.parse::<f64>()
                    .ok()
                    .and_then(serde_json::Number::from_f64)
                    .map(Value::Number)
                    .ok_or_else(|| StoreError::Broken(format!("unreadable number {v}")))?
            }
        }
        AttributeValue::L(values) => Value::Array(values.iter().map(from_attribute).collect::<Result<_, _>>()?),
        AttributeValue::M(fields) => Value::Object(
            fields
                .iter()
                .map(|(k, v)| Ok((k.clone(), from_attribute(v)?)))
                .collect::<Result<_, StoreError>>()?,
        ),
        AttributeValue::Ss(values) => Value::from(values.clone()),
        _ => return Err(StoreError::Broken("unsupported attribute type".into())),
    })
}

fn store_error<E>(what: &str, err: &SdkError<E>) -> StoreError
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata + std::error::Error + 'static,
{
    match sdk_failure(err) {
        (true, text) => StoreError::Unavailable(format!("{what}: {text}")),
        (false, text) => StoreError::Broken(format!("{what}: {text}")),
    }
}

/// Creates both tables as `TABLES.md` lays them out (on-demand billing, TTL on the keys): for
/// tests and local runs against moto. Deployed tables come from the SAM template.
pub async fn create_tables(client: &Client, idempotency_table: &str, ledger_table: &str) -> Result<(), AwsError> {
    let err = |e: &dyn std::fmt::Display| AwsError::Broken {
        service: "dynamodb",
        what: e.to_string(),
    };
    let attr = |name: &str| {
        AttributeDefinition::builder()
            .attribute_name(name)
            .attribute_type(ScalarAttributeType::S)
            .build()
            .map_err(|e| err(&e))
    };
    let key = |name: &str, kind: KeyType| {
        KeySchemaElement::builder()
            .attribute_name(name)
            .key_type(kind)
            .build()
            .map_err(|e| err(&e))
    };
    let index = |name: &str, pk: &str, sk: &str| {
        GlobalSecondaryIndex::builder()
            .index_name(name)
            .key_schema(key(pk, KeyType::Hash)?)
            .key_schema(key(sk, KeyType::Range)?)
            .projection(Projection::builder().projection_type(ProjectionType::All).build())
            .build()
            .map_err(|e| err(&e))
    };
    client
        .create_table()
        .table_name(idempotency_table)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(attr("pk")?)
        .key_schema(key("pk", KeyType::Hash)?)
        .send()
        .await
        .map_err(|e| crate::aws_error("dynamodb", &e))?;
    client
        .update_time_to_live()
        .table_name(idempotency_table)
        .time_to_live_specification(
            TimeToLiveSpecification::builder()
                .attribute_name("expires_at")
                .enabled(true)
                .build()
                .map_err(|e| err(&e))?,
        )
        .send()
        .await
        .map_err(|e| crate::aws_error("dynamodb", &e))?;
    let mut ledger = client
        .create_table()
        .table_name(ledger_table)
        .billing_mode(BillingMode::PayPerRequest)
        .key_schema(key("pk", KeyType::Hash)?)
        .key_schema(key("sk", KeyType::Range)?)
        .global_secondary_indexes(index(BY_REF_INDEX, "gsi1pk", "gsi1sk")?)
        .global_secondary_indexes(index(BY_DAY_INDEX, "gsi2pk", "gsi2sk")?);
    for name in ["pk", "sk", "gsi1pk", "gsi1sk", "gsi2pk", "gsi2sk"] {
        ledger = ledger.attribute_definitions(attr(name)?);
    }
    ledger.send().await.map_err(|e| crate::aws_error("dynamodb", &e))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_are_utc_dates() {
        assert_eq!(day_key(0), "day#1970-01-01");
        assert_eq!(day_key(1_764_720_000_000 / DAY_MS), "day#2025-12-03");
        assert_eq!(day_key(11_016), "day#2000-02-29");
        assert_eq!(day_key(-1), "day#1969-12-31");
    }

    #[test]
    fn padded_times_sort_as_numbers() {
        assert!(pad(999) < pad(1_000));
        assert!(pad(1_764_720_000_000) < pad(10_000_000_000_000));
        assert_eq!(pad(-5), pad(0));
    }

    #[test]
    fn cancelled_transactions_are_classified() {
        assert_eq!(cancellation(&["ConditionalCheckFailed", "None"]), Cancelled::NotHolder);
        assert_eq!(cancellation(&["None", "TransactionConflict"]), Cancelled::Retry);
        assert_eq!(cancellation(&["ThrottlingError", "None"]), Cancelled::Retry);
        assert_eq!(cancellation(&["ProvisionedThroughputExceeded"]), Cancelled::Retry);
        assert_eq!(cancellation(&["None", "ValidationError"]), Cancelled::Broken);
        assert_eq!(cancellation(&["ItemCollectionSizeLimitExceeded"]), Cancelled::Broken);
        assert_eq!(cancellation(&["None", "None"]), Cancelled::Unknown);
        assert_eq!(cancellation(&[]), Cancelled::Unknown);
    }

    #[test]
    fn request_tokens_fit_and_differ() {
        let a = request_token("k1", "h1");
        assert_eq!(a.len(), 32);
        assert_ne!(a, request_token("k1", "h2"));
        assert_ne!(request_token("ab", "c"), request_token("a", "bc"));
    }

    #[test]
    fn records_round_trip_through_items() {
        let record = MessageRecord {
            resource_id: "o1".into(),
            order_number: None,
            kind: "OrderCreated".into(),
            message_id: "m1".into(),
            sequence_number: Some(3),
            at: 1_764_720_000_000,
            outcome: "posted".into(),
            keys: vec!["k1".into(), "k2".into()],
            reason: None,
        };
        let mut item = to_item(&record).unwrap();
        item.insert("pk".into(), s("msg#o1"));
        assert_eq!(from_item::<MessageRecord>(&item).unwrap(), record);
    }
}
