//! The handler: one message, its postings, each posted exactly once. See the crate docs.

use std::collections::BTreeMap;
use std::sync::Arc;

use ctvisma_core::customer::CustomerData;
use ctvisma_core::input::{documents_from_str, Document};
use ctvisma_core::mapper::book::{Added, Book, Source};
use ctvisma_core::rates::RateTable;
use ctvisma_core::{Classify, ErrorClass, Posting, Rules};
use ctvisma_ledger::{
    posting_hash, Begin, Document as LedgerDoc, IdempotencyStore, LedgerEntry, MessageRecord, Millis,
};
use ctvisma_visma::{Deadline, LedgerTarget, Posted};

use crate::error::HandlerError;
use crate::resources::Resources;

/// Everything a handler needs, built once per cold start and shared by every message.
pub struct Handler {
    pub rules: Rules,
    pub rates: Option<RateTable>,
    /// Entity id → its Visma target.
    pub targets: BTreeMap<String, Arc<dyn LedgerTarget>>,
    pub store: Arc<dyn IdempotencyStore>,
    pub resources: Arc<dyn Resources>,
}

/// About one delivery of a message.
#[derive(Debug, Clone)]
pub struct MessageContext {
    /// The queue's message id: for logs only, never for keys (it changes on redrive).
    pub message_id: String,
    /// The invocation's request id: holds idempotency leases.
    pub request_id: String,
    /// When this message's idempotency claims expire: the Lambda deadline (Visma calls stop a
    /// margin earlier, see `deadline`), so a write that Visma finishes late still lands inside it.
    pub deadline_ms: Millis,
    pub deadline: Deadline,
    pub now_ms: Millis,
}

/// What became of one posting.
#[derive(Debug)]
pub enum PostingResult {
    /// Posted now (or found in Visma after a lost answer and recorded).
    Posted {
        key: String,
        document: Posted,
    },
    /// Done before: a duplicate delivery.
    Duplicate {
        key: String,
    },
    Failed {
        key: String,
        error: HandlerError,
    },
}

/// What became of the message.
#[derive(Debug)]
pub enum Outcome {
    /// Everything it called for is in Visma (now or before).
    Done { postings: Vec<PostingResult> },
    /// Nothing to post (a subscription test message, a payment not yet captured): why.
    Skipped(String),
    /// Master data (a customer, a product's articles) brought up to date in Visma: what changed.
    Synced(String),
    /// Try again later (retry queue): the first transient error.
    Retry(HandlerError, Vec<PostingResult>),
    /// Cannot succeed until data or rules change (parking queue).
    Park(HandlerError, Vec<PostingResult>),
}

impl Outcome {
    pub fn label(&self) -> &'static str {
        match self {
            Outcome::Done { postings }
                if postings.iter().all(|p| matches!(p, PostingResult::Duplicate { .. })) && !postings.is_empty() =>
            {
                "duplicate"
            }
            Outcome::Done { .. } => "posted",
            Outcome::Skipped(_) => "skipped",
            Outcome::Synced(_) => "synced",
            Outcome::Retry(..) => "retry",
            Outcome::Park(..) => "parked",
        }
    }
}

impl Handler {
    /// Handles one message body (a commercetools message in any envelope, or a resource).
    pub async fn handle(&self, body: &str, ctx: &MessageContext) -> Outcome {
        let (outcome, record) = self.run(body, ctx).await;
        if let Some(mut record) = record {
            record.outcome = outcome.label().to_string();
            // Delta sync: a resource's messages carry increasing sequence numbers. Advanced only
            // after success, so a failed message is never mistaken for a replay on its retry.
            if let (Outcome::Done { .. } | Outcome::Skipped(_) | Outcome::Synced(_), Some(seq)) =
                (&outcome, record.sequence_number)
            {
                match self.store.advance_version(&record.resource_id, seq).await {
                    Ok(false) if outcome.label() != "posted" => record.outcome = "stale".into(),
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "applied version not recorded"),
                }
            }
            record.reason = match &outcome {
                Outcome::Retry(e, _) | Outcome::Park(e, _) => {
                    Some(format!("{:?} {}: {}", e.class(), e.code(), e.reason()))
                }
                Outcome::Skipped(why) | Outcome::Synced(why) => Some(why.clone()),
                Outcome::Done { .. } => None,
            };
            if let Err(e) = self.store.record_message(&record).await {
                // The postings are recorded in the ledger already; only the message log misses it.
                tracing::warn!(error = %e, message_id = %ctx.message_id, "message log not written");
            }
        }
        outcome
    }

    async fn run(&self, body: &str, ctx: &MessageContext) -> (Outcome, Option<MessageRecord>) {
        let mut book = Book::default();
        let mut record: Option<MessageRecord> = None;
        let mut skipped = Vec::new();
        for found in documents_from_str(body) {
            let doc = match found.document {
                Ok(d) => d,
                Err(e) => return (Outcome::Park(e.into(), Vec::new()), record),
            };
            if let Document::Message(m) = &doc {
                if m.is_subscription_test() {
                    tracing::info!(message_id = %ctx.message_id, "subscription test message acknowledged");
                    return (Outcome::Skipped("subscription test message".into()), None);
                }
            }
            record.get_or_insert_with(|| message_record(&doc, ctx));
            match self.master_data(&doc).await {
                Ok(Some(data)) => return (self.sync_master_data(data, ctx).await, record),
                Ok(None) => {}
                Err(e) => return (classified(e, Vec::new()), record),
            }
            if let Err(e) = self.fetch_missing(&doc, &mut book).await {
                return (classified(e, Vec::new()), record);
            }
            if matches!(&doc, Document::Message(m) if m.payload_not_included.is_some()) {
                continue; // too large for the queue: the resource fetched above stands in for it
            }
            match book.add(doc, Source::default()) {
                Ok(Added::Skipped(kind)) => skipped.push(kind),
                Ok(_) => {}
                Err(e) => return (classified(e.into(), Vec::new()), record),
            }
        }
        let mut postings = Vec::new();
        for (_, result) in book.postings(&self.rules, self.rates.as_ref()) {
            match result {
                Ok(ps) => postings.extend(ps),
                Err(e) => return (classified(e.into(), Vec::new()), record),
            }
        }
        if postings.is_empty() {
            let why = if skipped.is_empty() {
                "nothing to post yet".to_string()
            } else {
                format!("nothing to post from {}", skipped.join(", "))
            };
            return (Outcome::Skipped(why), record);
        }
        let mut results = Vec::new();
        for p in &postings {
            // Invoice documents are made out to the order's customer (a guest: its e-mail).
            let customer = p
                .order_id
                .as_deref()
                .and_then(|id| book.order(id))
                .map(CustomerData::from_order);
            results.push(self.post_once(p, customer.as_ref(), ctx).await);
        }
        if let Some(r) = record.as_mut() {
            r.keys = postings.iter().map(|p| p.idempotency_key.to_string()).collect();
            if r.order_number.is_none() {
                r.order_number = postings
                    .iter()
                    .find(|p| p.order_id.as_deref() == Some(r.resource_id.as_str()))
                    .map(|p| p.external_ref.clone());
            }
        }
        (worst(results), record)
    }

    /// Adds to the book what the message does not carry: the resource of an order message
    /// without payload, the payment of a payment message (its transactions), the order of a payment.
    ///
    /// The current resource is fetched for every order or payment message when the source has it:
    /// the book keeps the newest version, so a stale or replayed message maps the current state
    /// and can only find its postings done already.
    async fn fetch_missing(&self, doc: &Document, book: &mut Book) -> Result<(), HandlerError> {
        let (order_id, payment_id) = match doc {
            Document::Message(m) => match (m.resource_type(), m.resource_id()) {
                (Some("order"), Some(id)) => (Some(id.to_string()), None),
                (Some("payment"), Some(id)) => (None, Some(id.to_string())),
                _ => (None, None),
            },
            Document::Payment(p) => (None, p.id.clone()),
            _ => (None, None),
        };
        let without_payload = matches!(doc, Document::Message(m) if m.payload_not_included.is_some());
        if let Some(id) = order_id {
            match self.resources.order(&id).await? {
                Some(order) => {
                    book.add(order, Source::default())?;
                }
                None if without_payload => {
                    return Err(HandlerError::Core(ctvisma_core::CoreError::Unlinked(format!(
                        "order {id}: the message has no payload and the order cannot be fetched"
                    ))))
                }
                None => {}
            }
        }
        if let Some(pid) = payment_id {
            if let Some(payment) = self.resources.payment(&pid).await? {
                book.add(payment, Source::default())?;
            }
            if let Some(order) = self.resources.order_of_payment(&pid).await? {
                book.add(order, Source::default())?;
            }
        }
        Ok(())
    }

    /// How long before its lease's end a message is still claimed and written.
    const LEASE_SAFETY_MS: Millis = 1_000;

    /// Read the key; claim it; look up and post; complete. Two store writes when new.
    async fn post_once(
        &self,
        posting: &Posting,
        customer: Option<&CustomerData>,
        ctx: &MessageContext,
    ) -> PostingResult {
        let key = posting.idempotency_key.to_string();
        let fail = |error: HandlerError| PostingResult::Failed {
            key: key.clone(),
            error,
        };
        let hash = posting_hash(posting);
        match self.store.get(&key).await {
            Ok(Some(r)) if r.status == ctvisma_ledger::Status::Completed && r.payload_hash == hash => {
                return PostingResult::Duplicate { key };
            }
            Ok(_) => {}
            Err(e) => return fail(e.into()),
        }
        let Some(target) = self.targets.get(&posting.entity) else {
            return fail(HandlerError::NoTarget(posting.entity.clone()));
        };
        // A claim must outlive the write it guards: a message reached within a second of its
        // lease's end is left to a later delivery rather than claimed and written too late.
        if ctx.now_ms + Self::LEASE_SAFETY_MS >= ctx.deadline_ms {
            return fail(HandlerError::Busy(format!("{key}: no time left in this invocation")));
        }
        match self
            .store
            .begin(&key, &hash, &ctx.request_id, ctx.deadline_ms, ctx.now_ms)
            .await
        {
            Ok(Begin::Acquired) => {}
            Ok(Begin::Completed(_)) => return PostingResult::Duplicate { key },
            Ok(Begin::Busy { .. }) => return fail(HandlerError::Busy(key.clone())),
            Ok(Begin::Conflict(_)) => {
                tracing::error!(idempotency_key = %key, "same key, different posting: not posted");
                return fail(HandlerError::Conflict(key.clone()));
            }
            Err(e) => return fail(e.into()),
        }
        let document = match target.post_once_for(posting, customer, ctx.deadline).await {
            Ok((document, _)) => document,
            // The write may still land at Visma: keep the claim until its lease runs out, so
            // that no redelivery writes again before a lookup would show the first one.
            Err(e) if e.may_have_written() => {
                tracing::warn!(idempotency_key = %key, error = %e, "write not confirmed: the claim is kept until its lease ends");
                return fail(e.into());
            }
            Err(e) => {
                if let Err(release) = self.store.release(&key, &ctx.request_id).await {
                    tracing::warn!(idempotency_key = %key, error = %release, "claim not released: it expires with its lease");
                }
                return fail(e.into());
            }
        };
        let entry = LedgerEntry {
            key: key.clone(),
            event: serde_json::to_value(posting.event)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default(),
            entity: posting.entity.clone(),
            currency: posting.currency.clone(),
            date: posting.date.clone(),
            external_ref: posting.external_ref.clone(),
            order_id: posting.order_id.clone(),
            payment_id: posting.payment_id.clone(),
            payload_hash: hash,
            document: LedgerDoc {
                target: target.name().to_string(),
                id: document.id.clone(),
                number: document.number.clone(),
                total: document.total.to_string(),
            },
            completed_at: ctx.now_ms,
            posting: serde_json::to_string(posting).unwrap_or_default(),
        };
        match self.store.complete(&ctx.request_id, &entry).await {
            Ok(()) => {
                tracing::info!(idempotency_key = %key, target = target.name(), document_id = %document.id, "posted");
                PostingResult::Posted { key, document }
            }
            // The document exists in Visma; the next delivery finds it by reference and completes.
            Err(e) => fail(e.into()),
        }
    }
}

pub(crate) fn classified(error: HandlerError, results: Vec<PostingResult>) -> Outcome {
    match error.class() {
        ErrorClass::Transient => Outcome::Retry(error, results),
        ErrorClass::Permanent => Outcome::Park(error, results),
    }
}

/// The message's fate is its worst posting's: any transient failure → retry (a permanent one
/// elsewhere will be parked on a later attempt), else any permanent → park, else done.
fn worst(results: Vec<PostingResult>) -> Outcome {
    let mut transient = None;
    let mut permanent = None;
    for (i, r) in results.iter().enumerate() {
        if let PostingResult::Failed { error, .. } = r {
            match error.class() {
                ErrorClass::Transient => transient = transient.or(Some(i)),
                ErrorClass::Permanent => permanent = permanent.or(Some(i)),
            }
        }
    }
    let Some(i) = transient.or(permanent) else {
        return Outcome::Done { postings: results };
    };
    let mut results = results;
    let PostingResult::Failed { error, .. } = results.remove(i) else {
        unreachable!("index of a failure")
    };
    classified(error, results)
}

fn message_record(doc: &Document, ctx: &MessageContext) -> MessageRecord {
    let (resource_id, order_number, kind, sequence) = match doc {
        Document::Message(m) => (
            m.resource_id().unwrap_or_default().to_string(),
            m.payload
                .get("order")
                .and_then(|o| o.get("orderNumber"))
                .and_then(|v| v.as_str())
                .map(str::to_string),
            m.kind().to_string(),
            m.sequence_number.map(|s| s as i64),
        ),
        Document::Order(o) => (o.id.clone(), o.order_number.clone(), "Order".into(), None),
        Document::Payment(p) => (p.id.clone().unwrap_or_default(), None, "Payment".into(), None),
        Document::Customer(c) => (c.id.clone(), None, "Customer".into(), None),
        Document::InventoryEntry(_) => (String::new(), None, "InventoryEntry".into(), None),
        Document::Other(kind) => (String::new(), None, kind.clone(), None),
    };
    MessageRecord {
        resource_id,
        order_number,
        kind,
        message_id: ctx.message_id.clone(),
        sequence_number: sequence,
        at: ctx.now_ms,
        outcome: String::new(),
        keys: Vec::new(),
        reason: None,
    }
}
