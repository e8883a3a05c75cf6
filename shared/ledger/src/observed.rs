//! A store with a hook around every call. Tests use it to inject crashes and races, and benches
//! use it to count requests. Without it, each of them would delegate all eleven methods by hand.

use std::sync::Arc;

use crate::{Begin, IdempotencyStore, KeyRecord, LedgerEntry, MessageRecord, Millis, StoreError};

/// One store call, with the arguments a hook may want to look at.
#[derive(Debug, Clone, Copy)]
pub enum Call<'a> {
    Begin { key: &'a str },
    Complete { entry: &'a LedgerEntry },
    Release { key: &'a str },
    Get { key: &'a str },
    LedgerFor { order: &'a str },
    LedgerBetween { from: Millis, to: Millis },
    RecordMessage { record: &'a MessageRecord },
    MessagesFor { resource: &'a str },
    AdvanceVersion { resource_id: &'a str, version: i64 },
    GetState { name: &'a str },
    SetState { name: &'a str, value: &'a str },
}

/// What a call costs in the DynamoDB store: one request of this kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cost {
    Read,
    /// A write to a posting's key (claim, complete, release).
    KeyWrite,
    /// A write to the message log, a resource's version or a named state.
    LogWrite,
}

impl Call<'_> {
    pub fn cost(&self) -> Cost {
        match self {
            Call::Begin { .. } | Call::Complete { .. } | Call::Release { .. } => Cost::KeyWrite,
            Call::RecordMessage { .. } | Call::AdvanceVersion { .. } | Call::SetState { .. } => Cost::LogWrite,
            Call::Get { .. }
            | Call::LedgerFor { .. }
            | Call::LedgerBetween { .. }
            | Call::MessagesFor { .. }
            | Call::GetState { .. } => Cost::Read,
        }
    }
}

#[async_trait::async_trait]
pub trait StoreHook: Send + Sync {
    /// Runs before the call. An error is returned in its place and the call is not made.
    async fn before(&self, _call: Call<'_>) -> Result<(), StoreError> {
        Ok(())
    }
    /// Runs after the call has returned, whatever it returned.
    async fn after(&self, _call: Call<'_>) {}
}

/// `inner` with `hook` around each of its calls.
pub struct Observed<H> {
    pub inner: Arc<dyn IdempotencyStore>,
    pub hook: H,
}

impl<H: StoreHook> Observed<H> {
    pub fn new(inner: Arc<dyn IdempotencyStore>, hook: H) -> Self {
        Self { inner, hook }
    }

    async fn around<T, F>(&self, call: Call<'_>, run: F) -> Result<T, StoreError>
    where
        F: std::future::Future<Output = Result<T, StoreError>> + Send,
    {
        self.hook.before(call).await?;
        let result = run.await;
        self.hook.after(call).await;
        result
    }
}

#[async_trait::async_trait]
impl<H: StoreHook> IdempotencyStore for Observed<H> {
    async fn begin(
        &self,
        key: &str,
        hash: &str,
        holder: &str,
        lease_until: Millis,
        now: Millis,
    ) -> Result<Begin, StoreError> {
        let run = self.inner.begin(key, hash, holder, lease_until, now);
        self.around(Call::Begin { key }, run).await
    }
    async fn complete(&self, holder: &str, entry: &LedgerEntry) -> Result<(), StoreError> {
        self.around(Call::Complete { entry }, self.inner.complete(holder, entry))
            .await
    }
    async fn release(&self, key: &str, holder: &str) -> Result<(), StoreError> {
        self.around(Call::Release { key }, self.inner.release(key, holder))
            .await
    }
    async fn get(&self, key: &str) -> Result<Option<KeyRecord>, StoreError> {
        self.around(Call::Get { key }, self.inner.get(key)).await
    }
    async fn ledger_for(&self, order: &str) -> Result<Vec<LedgerEntry>, StoreError> {
        self.around(Call::LedgerFor { order }, self.inner.ledger_for(order))
            .await
    }
    async fn ledger_between(&self, from: Millis, to: Millis) -> Result<Vec<LedgerEntry>, StoreError> {
        let run = self.inner.ledger_between(from, to);
        self.around(Call::LedgerBetween { from, to }, run).await
    }
    async fn record_message(&self, record: &MessageRecord) -> Result<(), StoreError> {
        let run = self.inner.record_message(record);
        self.around(Call::RecordMessage { record }, run).await
    }
    async fn messages_for(&self, resource: &str) -> Result<Vec<MessageRecord>, StoreError> {
        let run = self.inner.messages_for(resource);
        self.around(Call::MessagesFor { resource }, run).await
    }
    async fn advance_version(&self, resource_id: &str, version: i64) -> Result<bool, StoreError> {
        let run = self.inner.advance_version(resource_id, version);
        self.around(Call::AdvanceVersion { resource_id, version }, run).await
    }
    async fn get_state(&self, name: &str) -> Result<Option<String>, StoreError> {
        self.around(Call::GetState { name }, self.inner.get_state(name)).await
    }
    async fn set_state(&self, name: &str, expected: Option<&str>, value: &str) -> Result<bool, StoreError> {
        let run = self.inner.set_state(name, expected, value);
        self.around(Call::SetState { name, value }, run).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::MemoryStore;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[derive(Default)]
    struct Refuse {
        seen: AtomicUsize,
        after: AtomicUsize,
    }

    #[async_trait::async_trait]
    impl StoreHook for Refuse {
        async fn before(&self, call: Call<'_>) -> Result<(), StoreError> {
            self.seen.fetch_add(1, Ordering::SeqCst);
            match call {
                Call::SetState { value: "refused", .. } => Err(StoreError::Unavailable("refused by the hook".into())),
                _ => Ok(()),
            }
        }
        async fn after(&self, _call: Call<'_>) {
            self.after.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[tokio::test]
    async fn a_refused_call_is_not_made_and_others_pass_through() {
        let inner: Arc<dyn IdempotencyStore> = Arc::new(MemoryStore::default());
        let store = Observed::new(inner.clone(), Refuse::default());
        assert!(store.set_state("s", None, "one").await.unwrap());
        assert!(store.set_state("s", Some("one"), "refused").await.is_err());
        assert_eq!(inner.get_state("s").await.unwrap().as_deref(), Some("one"));
        assert_eq!(store.get_state("s").await.unwrap().as_deref(), Some("one"));
        assert_eq!(store.hook.seen.load(Ordering::SeqCst), 3);
        assert_eq!(
            store.hook.after.load(Ordering::SeqCst),
            2,
            "after runs only for calls made"
        );
    }

    #[test]
    fn calls_cost_what_dynamodb_charges() {
        assert_eq!(Call::Begin { key: "k" }.cost(), Cost::KeyWrite);
        assert_eq!(Call::Get { key: "k" }.cost(), Cost::Read);
        assert_eq!(Call::SetState { name: "n", value: "v" }.cost(), Cost::LogWrite);
    }
}
