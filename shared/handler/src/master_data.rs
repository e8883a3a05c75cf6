//! Master data: customers and products travel to Visma as customers and articles.
//!
//! - A customer (CustomerCreated, any other Customer* message after refetching the customer, or a
//!   Customer resource) goes to the entity its store or billing country routes to: found by
//!   customer number, then e-mail, and created or updated in the fields that changed.
//! - A product (ProductPublished / ProductCreated carry its projection; other Product* messages
//!   refetch the product) becomes one article per SKU in every entity whose target keeps
//!   articles. The hash of each mapped article is kept in the ledger store
//!   (`article:<entity>:<sku>`): an unchanged article is not sent again.
//!
//! Delta sync: the resource version last applied is kept per resource (`applied:<id>`); a
//! replayed or stale message (a version not newer) changes nothing in Visma.
//!
//! Personal data never reaches a log line: only customer numbers, SKUs and counts do.

use ctvisma_core::article::{articles_for, current_projection, ArticleSpec};
use ctvisma_core::commercetools::customer::Customer;
use ctvisma_core::commercetools::product::ProductProjection;
use ctvisma_core::customer::CustomerData;
use ctvisma_core::input::Document;
use ctvisma_core::validation::{Problem, ValidationError};
use ctvisma_core::CoreError;

use crate::error::HandlerError;
use crate::handler::{classified, Handler, MessageContext, Outcome};

pub(crate) enum MasterData {
    Customer(Box<Customer>),
    Product(Box<ProductProjection>),
}

impl Handler {
    /// The customer or product `doc` is about, fetched when the message does not carry it.
    /// `None` for documents that are not master data.
    pub(crate) async fn master_data(&self, doc: &Document) -> Result<Option<MasterData>, HandlerError> {
        match doc {
            Document::Customer(c) => Ok(Some(MasterData::Customer(c.clone()))),
            Document::Message(m) => {
                let (kind, id) = (m.kind(), m.resource_id().unwrap_or_default());
                match m.resource_type() {
                    Some("customer") if kind == "CustomerDeleted" => Ok(None),
                    Some("customer") => {
                        if let Some(Ok(c)) = m.payload_as::<Customer>("customer") {
                            return Ok(Some(MasterData::Customer(Box::new(c))));
                        }
                        Ok(self
                            .resources
                            .customer(id)
                            .await?
                            .map(|c| MasterData::Customer(Box::new(c))))
                    }
                    Some("product") if kind == "ProductDeleted" || kind == "ProductUnpublished" => Ok(None),
                    Some("product") => {
                        if let Some(Ok(p)) = m.payload_as::<ProductProjection>("productProjection") {
                            return Ok(Some(MasterData::Product(Box::new(p))));
                        }
                        let fetched = self.resources.product(id).await?;
                        Ok(fetched
                            .as_ref()
                            .and_then(current_projection)
                            .map(|p| MasterData::Product(Box::new(p))))
                    }
                    _ => Ok(None),
                }
            }
            _ => Ok(None),
        }
    }

    pub(crate) async fn sync_master_data(&self, data: MasterData, ctx: &MessageContext) -> Outcome {
        let (id, version) = match &data {
            MasterData::Customer(c) => (c.id.clone(), c.version),
            MasterData::Product(p) => (p.id.clone(), p.version),
        };
        let name = format!("applied:{id}");
        let applied = match self.store.get_state(&name).await {
            Ok(v) => v,
            Err(e) => return classified(e.into(), Vec::new()),
        };
        let last: Option<u64> = applied.as_deref().and_then(|v| v.parse().ok());
        if let (Some(last), Some(v)) = (last, version) {
            if v <= last {
                return Outcome::Skipped(format!(
                    "stale: version {v} of {id} is not newer than {last}, already applied"
                ));
            }
        }
        let result = match data {
            MasterData::Customer(c) => self.sync_customer(&c, ctx).await,
            MasterData::Product(p) => self.sync_product(&p, ctx).await,
        };
        match result {
            Ok((consulted, what)) => {
                if let Some(v) = version {
                    // Lost to a concurrent newer delivery: that one's version stands.
                    let _ = self.store.set_state(&name, applied.as_deref(), &v.to_string()).await;
                }
                if consulted {
                    Outcome::Synced(what)
                } else {
                    Outcome::Skipped(what)
                }
            }
            Err(e) => classified(e, Vec::new()),
        }
    }

    /// (whether Visma was consulted, what happened).
    async fn sync_customer(&self, c: &Customer, ctx: &MessageContext) -> Result<(bool, String), HandlerError> {
        let data = CustomerData::from_customer(c);
        let store = c.stores.iter().find_map(|s| s.key());
        // Customers have no currency: store, then billing country.
        let route = self.rules.routing.route(store, data.country_code.as_deref(), "");
        let Some((entity, _)) = route else {
            return Ok((
                false,
                "customer: no store or country routes it to an entity; nothing sent".into(),
            ));
        };
        let Some(target) = self.targets.get(entity) else {
            return Err(HandlerError::NoTarget(entity.to_string()));
        };
        let Some(action) = target.sync_customer(&data, ctx.deadline).await? else {
            return Ok((
                false,
                format!("customer: the {} target of {entity} keeps no customers", target.name()),
            ));
        };
        let what = format!("customer {action} in {entity}");
        tracing::info!(customer_number = ?data.customer_number, entity, outcome = %what, "customer synced");
        Ok((true, what))
    }

    async fn sync_product(&self, p: &ProductProjection, ctx: &MessageContext) -> Result<(bool, String), HandlerError> {
        let (mut sent, mut unchanged, mut problems) = (0usize, 0usize, Vec::new());
        for (entity_id, entity) in &self.rules.entities {
            let Some(target) = self.targets.get(entity_id) else {
                continue;
            };
            let articles = match articles_for(p, entity_id, entity) {
                Ok(a) => a,
                Err(mut why) => {
                    problems.append(&mut why);
                    continue;
                }
            };
            for article in &articles {
                match self.send_article(article, entity_id, target.as_ref(), ctx).await? {
                    Some(true) => sent += 1,
                    Some(false) => unchanged += 1,
                    None => break, // this entity's target keeps no articles
                }
            }
        }
        if !problems.is_empty() {
            let problems = problems.into_iter().map(|m| Problem::new("product", m)).collect();
            return Err(HandlerError::Core(CoreError::Validation(ValidationError {
                order: format!("product {}", p.id),
                order_id: p.id.clone(),
                problems,
            })));
        }
        if sent + unchanged == 0 {
            return Ok((
                false,
                format!("product {}: no SKU for a target that keeps articles", p.id),
            ));
        }
        Ok((
            true,
            format!("product {}: {sent} article(s) sent, {unchanged} unchanged", p.id),
        ))
    }

    /// Sends one article unless the store holds its hash already: `Some(true)` when sent,
    /// `Some(false)` when unchanged, `None` when the target keeps no articles.
    async fn send_article(
        &self,
        article: &ArticleSpec,
        entity_id: &str,
        target: &dyn ctvisma_visma::LedgerTarget,
        ctx: &MessageContext,
    ) -> Result<Option<bool>, HandlerError> {
        let name = article.state_name(entity_id);
        let hash = article.hash();
        let last = self.store.get_state(&name).await?;
        if last.as_deref() == Some(hash.as_str()) {
            return Ok(Some(false));
        }
        let Some(action) = target.sync_article(article, ctx.deadline).await? else {
            return Ok(None);
        };
        // Another delivery may have recorded it meanwhile; the article is right either way.
        if !self.store.set_state(&name, last.as_deref(), &hash).await? {
            tracing::debug!(sku = %article.sku, entity = entity_id, "article hash recorded concurrently");
        }
        tracing::info!(sku = %article.sku, entity = entity_id, action = %action, "article synced");
        Ok(Some(true))
    }
}
