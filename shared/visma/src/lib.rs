//! Visma connectors: where postings from the core become Visma documents.
//!
//! - [`LedgerTarget`]: the one trait every target implements: look a posting's document up by
//!   our reference (reconcile-before-write), and post it.
//! - [`eaccounting`]: Visma eAccounting v2 (vouchers, customers; company checks at start-up).
//! - [`vismanet`]: Visma.net ERP Financials (journal transactions, release).
//! - [`http`]: one pooled reqwest client with timeouts, 429/5xx back-off within a deadline.
//! - [`token_store`]: where a rotating refresh token is persisted (file, memory; Secrets Manager
//!   lives in the AWS adapter).
//! - [`error`]: every failure classified transient or permanent, with Visma's code and message.
//!
//! The SIE 4 file route is the `ctvisma-sie` crate; it needs no HTTP.

pub mod amount;
pub mod eaccounting;
mod env;
pub mod error;
pub mod http;
pub mod reference;
pub mod token_store;
pub mod vismanet;

use ctvisma_core::article::ArticleSpec;
use ctvisma_core::customer::CustomerData;
use ctvisma_core::Posting;
use rust_decimal::Decimal;
use serde::Serialize;

pub use error::VismaError;
pub use http::Deadline;

/// A document that exists in Visma for one posting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Posted {
    /// Visma's id (a uuid in eAccounting, the document number in Visma.net).
    pub id: String,
    /// What the ledger shows: voucher number with series, invoice number.
    pub number: Option<String>,
    /// Sum of the debit side, in the document's currency: compared with the posting's on lookup.
    pub total: Decimal,
}

impl Posted {
    /// What a posting without any non-zero line gets (a zero-total order): no document at all,
    /// since ledgers refuse empty vouchers; recorded so the order still shows as handled.
    pub fn nothing() -> Self {
        Self {
            id: String::new(),
            number: None,
            total: Decimal::ZERO,
        }
    }
}

/// True when the posting moves any money; an all-zero posting is not sent to Visma.
pub fn has_effect(posting: &Posting) -> bool {
    posting.lines.iter().any(|l| !l.amount.is_zero())
}

/// A Visma company that postings are written to.
#[async_trait::async_trait]
pub trait LedgerTarget: Send + Sync {
    /// "eaccounting", "vismanet".
    fn name(&self) -> &'static str;

    /// The document already made for `posting`, found by our reference: asked before every
    /// write, so a crash between the write and our ledger commit never posts twice.
    async fn find(&self, posting: &Posting, deadline: Deadline) -> Result<Option<Posted>, VismaError>;

    /// Writes `posting` as one document.
    async fn post(&self, posting: &Posting, deadline: Deadline) -> Result<Posted, VismaError>;

    /// Looks the posting up and writes it only when missing. Returns the document and whether it
    /// was already there. A write whose answer was lost (5xx, timeout) is looked up once more:
    /// it may have been applied.
    async fn post_once(&self, posting: &Posting, deadline: Deadline) -> Result<(Posted, bool), VismaError> {
        if let Some(found) = self.find(posting, deadline).await? {
            return Ok((found, true));
        }
        match self.post(posting, deadline).await {
            Err(e @ VismaError::Unavailable { .. }) => match self.find(posting, deadline).await {
                Ok(Some(found)) => Ok((found, false)),
                _ => Err(e.unconfirmed()),
            },
            other => other.map(|p| (p, false)),
        }
    }

    /// [`post_once`](Self::post_once) with the customer of the posting's order at hand: an
    /// entity whose rules ask for invoice documents (`documents = "invoices" | "drafts"`) makes
    /// its invoices and credit notes out to that customer. Targets that only book vouchers
    /// ignore it.
    async fn post_once_for(
        &self,
        posting: &Posting,
        _customer: Option<&CustomerData>,
        deadline: Deadline,
    ) -> Result<(Posted, bool), VismaError> {
        self.post_once(posting, deadline).await
    }

    /// Master data: finds the customer (by number, then e-mail) and creates it or updates the
    /// fields that changed. Returns what was done ("created", "updated: …", "unchanged"), or
    /// `None` when the target keeps no customers (SIE files).
    async fn sync_customer(&self, _customer: &CustomerData, _deadline: Deadline) -> Result<Option<String>, VismaError> {
        Ok(None)
    }

    /// Master data: the article of one SKU, created or brought up to date. `None` when the target
    /// keeps no articles.
    async fn sync_article(&self, _article: &ArticleSpec, _deadline: Deadline) -> Result<Option<String>, VismaError> {
        Ok(None)
    }
}

/// The debit side of a posting: what a document's total is compared with.
pub fn debit_total(posting: &Posting) -> Decimal {
    posting
        .lines
        .iter()
        .map(|l| l.amount)
        .filter(|a| a.is_sign_positive())
        .sum()
}
