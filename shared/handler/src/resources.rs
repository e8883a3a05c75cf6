//! Where the handler gets what a message does not carry: in AWS the commercetools API, locally
//! the recorded resources shipped beside `events/` (or any folder of Order/Payment JSON).

use std::collections::BTreeMap;
use std::path::Path;

use ctvisma_core::commercetools::customer::Customer;
use ctvisma_core::commercetools::product::Product;
use ctvisma_core::input::{documents_from_str, Document};

use crate::error::HandlerError;

#[async_trait::async_trait]
pub trait Resources: Send + Sync {
    async fn order(&self, id: &str) -> Result<Option<Document>, HandlerError>;
    async fn payment(&self, id: &str) -> Result<Option<Document>, HandlerError>;
    /// The order whose `paymentInfo.payments` lists the payment.
    async fn order_of_payment(&self, payment_id: &str) -> Result<Option<Document>, HandlerError>;
    /// The current customer, for Customer* messages that carry only a change.
    async fn customer(&self, _id: &str) -> Result<Option<Customer>, HandlerError> {
        Ok(None)
    }
    /// The current product, for Product* messages without a projection.
    async fn product(&self, _id: &str) -> Result<Option<Product>, HandlerError> {
        Ok(None)
    }
}

/// Nothing to look up: messages must carry their resources.
pub struct NoResources;

#[async_trait::async_trait]
impl Resources for NoResources {
    async fn order(&self, _: &str) -> Result<Option<Document>, HandlerError> {
        Ok(None)
    }
    async fn payment(&self, _: &str) -> Result<Option<Document>, HandlerError> {
        Ok(None)
    }
    async fn order_of_payment(&self, _: &str) -> Result<Option<Document>, HandlerError> {
        Ok(None)
    }
}

/// Orders and payments read from files, by id; the newest version of each wins.
#[derive(Default)]
pub struct RecordedResources {
    orders: BTreeMap<String, (u64, Document)>,
    payments: BTreeMap<String, (u64, Document)>,
    /// payment id → order id
    payment_orders: BTreeMap<String, String>,
}

impl RecordedResources {
    /// Reads every `.json` file under the folders (recursively); unreadable files are skipped.
    pub fn from_dirs(dirs: &[&Path]) -> Self {
        let mut me = Self::default();
        for dir in dirs {
            me.read_dir(dir);
        }
        me
    }

    fn read_dir(&mut self, dir: &Path) {
        let Ok(entries) = std::fs::read_dir(dir) else { return };
        let mut paths: Vec<_> = entries.filter_map(Result::ok).map(|e| e.path()).collect();
        paths.sort();
        for p in paths {
            if p.is_dir() {
                self.read_dir(&p);
            } else if p.extension().is_some_and(|x| x == "json") {
                if let Ok(text) = std::fs::read_to_string(&p) {
                    self.add_text(&text);
                }
            }
        }
    }

    /// Adds the orders and payments in `text`: resources, and those carried by OrderCreated,
    /// OrderImported and PaymentCreated messages (so recorded events serve as lookups too).
    pub fn add_text(&mut self, text: &str) {
        for found in documents_from_str(text) {
            let document = match found.document {
                Ok(Document::Message(m)) => match m.kind() {
                    "OrderCreated" | "OrderImported" => m
                        .payload_as("order")
                        .and_then(Result::ok)
                        .map(|o| Document::Order(Box::new(o))),
                    "PaymentCreated" => m
                        .payload_as("payment")
                        .and_then(Result::ok)
                        .map(|p| Document::Payment(Box::new(p))),
                    _ => None,
                },
                Ok(d) => Some(d),
                Err(_) => None,
            };
            match document {
                Some(Document::Order(o)) => {
                    for pid in o
                        .payment_info
                        .iter()
                        .flat_map(|i| &i.payments)
                        .filter_map(|r| r.id.clone())
                    {
                        self.payment_orders.insert(pid, o.id.clone());
                    }
                    keep_newest(
                        &mut self.orders,
                        o.id.clone(),
                        o.version.unwrap_or(0),
                        Document::Order(o),
                    );
                }
                Some(Document::Payment(p)) => {
                    if let Some(id) = p.id.clone() {
                        keep_newest(&mut self.payments, id, p.version.unwrap_or(0), Document::Payment(p));
                    }
                }
                _ => {}
            }
        }
    }
}

fn keep_newest(map: &mut BTreeMap<String, (u64, Document)>, id: String, version: u64, doc: Document) {
    if map.get(&id).is_none_or(|(v, _)| *v <= version) {
        map.insert(id, (version, doc));
    }
}

#[async_trait::async_trait]
impl Resources for RecordedResources {
    async fn order(&self, id: &str) -> Result<Option<Document>, HandlerError> {
        Ok(self.orders.get(id).map(|(_, d)| d.clone()))
    }
    async fn payment(&self, id: &str) -> Result<Option<Document>, HandlerError> {
        Ok(self.payments.get(id).map(|(_, d)| d.clone()))
    }
    async fn order_of_payment(&self, payment_id: &str) -> Result<Option<Document>, HandlerError> {
        let Some(order_id) = self.payment_orders.get(payment_id) else {
            return Ok(None);
        };
        self.order(order_id).await
    }
}
