//! `AwsClients::from_env` honours `AWS_ENDPOINT_URL` (read by the SDK itself). A test binary of
//! its own, since it sets process-wide environment variables.

mod common;

use common::MotoServer;
use ctvisma_aws::AwsClients;

#[tokio::test]
async fn from_env_follows_aws_endpoint_url() {
    let moto = MotoServer::bare().await;
    moto.clients
        .dynamodb
        .create_table()
        .table_name("from-env")
        .billing_mode(aws_sdk_dynamodb::types::BillingMode::PayPerRequest)
        .attribute_definitions(
            aws_sdk_dynamodb::types::AttributeDefinition::builder()
                .attribute_name("pk")
                .attribute_type(aws_sdk_dynamodb::types::ScalarAttributeType::S)
                .build()
                .unwrap(),
        )
        .key_schema(
            aws_sdk_dynamodb::types::KeySchemaElement::builder()
                .attribute_name("pk")
                .key_type(aws_sdk_dynamodb::types::KeyType::Hash)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    // The only test in this binary: no other thread reads the environment meanwhile.
    for (name, value) in [
        ("AWS_ENDPOINT_URL", moto.endpoint.as_str()),
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_REGION", common::REGION),
    ] {
        std::env::set_var(name, value);
    }
    std::env::remove_var("AWS_PROFILE");
    let clients = AwsClients::from_env().await;
    let tables = clients.dynamodb.list_tables().send().await.unwrap();
    assert_eq!(tables.table_names(), ["from-env".to_string()]);
}
