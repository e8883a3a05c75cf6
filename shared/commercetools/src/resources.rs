//! The handler's look-ups, answered from the commercetools project.

use ctvisma_core::commercetools::customer::Customer;
use ctvisma_core::commercetools::product::Product;
use ctvisma_core::input::Document;
use ctvisma_handler::{HandlerError, Resources};

use crate::client::CtClient;

#[async_trait::async_trait]
impl Resources for CtClient {
    async fn order(&self, id: &str) -> Result<Option<Document>, HandlerError> {
        let found = self
            .get_order(id)
            .await
            .map_err(|e| e.into_handler(format!("order {id}")))?;
        Ok(found.map(|o| Document::Order(Box::new(o))))
    }

    async fn payment(&self, id: &str) -> Result<Option<Document>, HandlerError> {
        let found = self
            .get_payment(id)
            .await
            .map_err(|e| e.into_handler(format!("payment {id}")))?;
        Ok(found.map(|p| Document::Payment(Box::new(p))))
    }

    async fn order_of_payment(&self, payment_id: &str) -> Result<Option<Document>, HandlerError> {
        let found = self
            .find_order_of_payment(payment_id)
            .await
            .map_err(|e| e.into_handler(format!("order of payment {payment_id}")))?;
        Ok(found.map(|o| Document::Order(Box::new(o))))
    }

    async fn customer(&self, id: &str) -> Result<Option<Customer>, HandlerError> {
        self.get_customer(id)
            .await
            .map_err(|e| e.into_handler(format!("customer {id}")))
    }

    async fn product(&self, id: &str) -> Result<Option<Product>, HandlerError> {
        self.get_product(id)
            .await
            .map_err(|e| e.into_handler(format!("product {id}")))
    }
}
