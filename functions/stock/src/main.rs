//! The `stock` function: on its schedule, each entity's stock between Visma and commercetools in
//! the direction its rules name (see `ctvisma-stock`). `ctvisma sync-stock` runs the same code.

use lambda_runtime::{run, service_fn, Error, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), Error> {
    ctvisma_lambda::setup::init_logging();
    let stock = ctvisma_lambda::setup::stock("stock").await?;
    run(service_fn(|event: LambdaEvent<serde_json::Value>| stock.run(event))).await
}
