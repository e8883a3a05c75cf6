//! Stock between Visma eAccounting and commercetools, per entity (`[entities.<ID>.stock]`):
//!
//! - source `visma` (the usual case), [`sync::StockSync::visma_to_commercetools`]: Visma's article
//!   stock levels become absolute `quantityOnStock` values on the inventory entries of the
//!   entity's supply channel. Missing entries are created, only changed ones are written, both
//!   sides are read page by page, writes run with bounded concurrency, and a 409 is retried with
//!   the current version (an absolute quantity holds whatever changed in between).
//! - source `commercetools`, [`inbound`]: InventoryEntry messages (or the channel's entries
//!   themselves, on the schedule) set the Visma article's `StockBalance`. Each entry's last
//!   applied version is kept in the ledger store, so replays and stale messages change nothing.
//!
//! Valuation (purchase prices, `StockValue`) stays in Visma either way. The plan is pure
//! ([`plan`]); I/O goes through [`VismaStock`] and the commercetools client.

pub mod inbound;
pub mod plan;
pub mod sync;

use ctvisma_commercetools::CtError;
use ctvisma_core::{Classify, ErrorClass};
use ctvisma_ledger::StoreError;
use ctvisma_visma::eaccounting::stock::{BalanceAction, EaStock, StockPage};
use ctvisma_visma::{Deadline, VismaError};

pub use inbound::{EntryOutcome, InventoryChange};
pub use plan::{plan, quantity_of, Change, CtEntry, Plan, Planner};
pub use sync::{Failure, StockSync, SyncReport, DEFAULT_CONCURRENCY};

/// Why a stock run (not a single SKU) failed.
#[derive(Debug, thiserror::Error)]
pub enum StockError {
    #[error(transparent)]
    Commercetools(#[from] CtError),
    #[error(transparent)]
    Visma(#[from] VismaError),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The rules or the input cannot be used.
    #[error("stock: {0}")]
    Invalid(String),
}

impl Classify for StockError {
    fn class(&self) -> ErrorClass {
        match self {
            StockError::Commercetools(e) => e.class(),
            StockError::Visma(e) => e.class(),
            StockError::Store(e) => e.class(),
            StockError::Invalid(_) => ErrorClass::Permanent,
        }
    }
}

/// The Visma side of a stock sync: levels page by page, and one article's balance.
#[async_trait::async_trait]
pub trait VismaStock: Send + Sync {
    /// Page `page` (1-based) of stock levels.
    async fn levels_page(&self, page: u32, deadline: Deadline) -> Result<StockPage, VismaError>;
    /// Sets the balance of the article numbered `sku`, unless it already has it.
    async fn set_balance(&self, sku: &str, balance: f64, deadline: Deadline) -> Result<BalanceAction, VismaError>;
}

#[async_trait::async_trait]
impl VismaStock for EaStock {
    async fn levels_page(&self, page: u32, deadline: Deadline) -> Result<StockPage, VismaError> {
        EaStock::levels_page(self, page, deadline).await
    }

    async fn set_balance(&self, sku: &str, balance: f64, deadline: Deadline) -> Result<BalanceAction, VismaError> {
        EaStock::set_balance(self, sku, balance, deadline).await
    }
}
