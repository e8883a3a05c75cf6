//! The `export-sie` function: on its schedule, each SIE entity's new ledger postings as one SIE
//! file in the bucket, each posting exactly once (see `ctvisma-lambda`'s `export`).

use lambda_runtime::{run, service_fn, Error, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), Error> {
    ctvisma_lambda::setup::init_logging();
    let exporter = ctvisma_lambda::setup::exporter("export-sie").await?;
    run(service_fn(|event: LambdaEvent<serde_json::Value>| exporter.run(event))).await
}
