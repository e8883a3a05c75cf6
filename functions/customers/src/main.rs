//! The `customers` function: its SQS queue's messages through the shared handler (see `ctvisma-lambda`).

use lambda_runtime::{run, service_fn, Error};

#[tokio::main]
async fn main() -> Result<(), Error> {
    ctvisma_lambda::setup::init_logging();
    let driver = ctvisma_lambda::setup::driver("customers").await?;
    run(service_fn(|event| driver.run(event))).await
}
