//! The target of entities whose ledger takes SIE files: a posting is complete once it is in our
//! ledger; the scheduled export (`ctvisma export-sie`, the `export-sie` function) writes each
//! entity's new ledger entries as one SIE file. No Visma call, so nothing to look up.

use ctvisma_core::Posting;
use ctvisma_visma::{debit_total, Deadline, LedgerTarget, Posted, VismaError};

pub struct LedgerOnly;

#[async_trait::async_trait]
impl LedgerTarget for LedgerOnly {
    fn name(&self) -> &'static str {
        "sie"
    }

    async fn find(&self, _: &Posting, _: Deadline) -> Result<Option<Posted>, VismaError> {
        Ok(None)
    }

    async fn post(&self, posting: &Posting, _: Deadline) -> Result<Posted, VismaError> {
        Ok(Posted {
            id: posting.idempotency_key.to_string(),
            number: None,
            total: debit_total(posting),
        })
    }
}
