//! The SDK clients: one `SdkConfig` per cold start, four clients cloned from it into handlers.

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_dynamodb::config::Credentials;

/// The clients every function needs. Cloning is cheap (they share one connection pool each).
#[derive(Debug, Clone)]
pub struct AwsClients {
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub sqs: aws_sdk_sqs::Client,
    pub secrets: aws_sdk_secretsmanager::Client,
    pub s3: aws_sdk_s3::Client,
}

impl AwsClients {
    /// Region, credentials and endpoint from the environment as the SDK resolves them (Lambda's
    /// variables, or a profile locally). The SDK itself honours `AWS_ENDPOINT_URL` and
    /// `AWS_ENDPOINT_URL_<SERVICE>` (e.g. `AWS_ENDPOINT_URL_DYNAMODB`), so local runs and tests
    /// point it at moto without code.
    pub async fn from_env() -> Self {
        Self::from_conf(&aws_config::load_defaults(BehaviorVersion::latest()).await)
    }

    pub fn from_conf(conf: &SdkConfig) -> Self {
        Self {
            dynamodb: aws_sdk_dynamodb::Client::new(conf),
            sqs: aws_sdk_sqs::Client::new(conf),
            secrets: aws_sdk_secretsmanager::Client::new(conf),
            s3: aws_sdk_s3::Client::new(conf),
        }
    }

    /// A local stand-in (moto) at `endpoint_url`, with fixed dummy credentials: for tests and
    /// local runs, without touching process-wide environment variables.
    pub async fn local(endpoint_url: &str, region: &str) -> Self {
        let conf = aws_config::defaults(BehaviorVersion::latest())
            .endpoint_url(endpoint_url)
            .region(Region::new(region.to_string()))
            .credentials_provider(Credentials::new("testing", "testing", None, None, "local"))
            .load()
            .await;
        let mut clients = Self::from_conf(&conf);
        // A local endpoint has no per-bucket host names: address buckets by path.
        clients.s3 =
            aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(&conf).force_path_style(true).build());
        clients
    }
}
