//! The SIE export's object sink on S3: one `PutObject` per file, overwriting (a redone range
//! writes the same key again with the same bytes).

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::Client;
use ctvisma_handler::sie_export::ObjectSink;

/// Environment variable naming the bucket (SAM logical name `SieExportBucket`).
pub const SIE_BUCKET_ENV: &str = "SIE_BUCKET";

/// [`ObjectSink`] on an S3 bucket.
#[derive(Debug, Clone)]
pub struct S3Sink {
    pub client: Client,
    pub bucket: String,
}

impl S3Sink {
    pub fn new(client: Client, bucket: impl Into<String>) -> Self {
        Self {
            client,
            bucket: bucket.into(),
        }
    }
}

#[async_trait::async_trait]
impl ObjectSink for S3Sink {
    async fn put(&self, key: &str, bytes: Vec<u8>) -> Result<(), String> {
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type("text/plain; charset=IBM437")
            .body(ByteStream::from(bytes))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| {
                let (retryable, text) = crate::sdk_failure(&e);
                let class = if retryable { "unavailable" } else { "failed" };
                format!("s3 put s3://{}/{key} {class}: {text}", self.bucket)
            })
    }
}
