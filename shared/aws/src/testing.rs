//! Test support: a moto server (DynamoDB, SQS, Secrets Manager on loopback) per test, started
//! through `tools/moto_server.py` with `.venv`'s Python (installed by `make setup`); the two
//! tables and two queues created; the process killed on drop. Used by this crate's tests, the
//! CLI's and the workspace integration tests.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::dynamo::create_tables;
use crate::{AwsClients, DynamoStore, Queues};

pub const REGION: &str = "eu-north-1";
pub const IDEMPOTENCY_TABLE: &str = "ctvisma-idempotency";
pub const LEDGER_TABLE: &str = "ctvisma-ledger";

pub struct MotoServer {
    child: Child,
    pub endpoint: String,
    pub clients: AwsClients,
    pub retry_url: String,
    pub parking_url: String,
}

impl MotoServer {
    /// A fresh server with empty tables and queues.
    pub async fn start() -> Self {
        let mut server = Self::bare().await;
        create_tables(&server.clients.dynamodb, IDEMPOTENCY_TABLE, LEDGER_TABLE)
            .await
            .expect("create tables");
        server.retry_url = server.queue("ctvisma-retry").await;
        server.parking_url = server.queue("ctvisma-parking").await;
        server
    }

    /// A fresh server with nothing in it.
    pub async fn bare() -> Self {
        let port = free_port();
        let child = spawn(port);
        let endpoint = format!("http://127.0.0.1:{port}");
        let clients = AwsClients::local(&endpoint, REGION).await;
        let mut server = Self {
            child,
            endpoint,
            clients,
            retry_url: String::new(),
            parking_url: String::new(),
        };
        server.wait_until_up().await;
        server
    }

    pub fn store(&self) -> DynamoStore {
        DynamoStore::new(self.clients.dynamodb.clone(), IDEMPOTENCY_TABLE, LEDGER_TABLE)
    }

    pub fn queues(&self) -> Queues {
        Queues::new(self.clients.sqs.clone(), &self.retry_url, &self.parking_url)
    }

    /// Receives and deletes every message waiting in a queue, with its attributes, as Lambda's
    /// event source does.
    pub async fn take_all(&self, url: &str) -> Vec<aws_sdk_sqs::types::Message> {
        let mut out = Vec::new();
        loop {
            let got = self
                .clients
                .sqs
                .receive_message()
                .queue_url(url)
                .max_number_of_messages(10)
                .message_attribute_names("All")
                .send()
                .await
                .expect("receive from moto");
            let messages = got.messages.unwrap_or_default();
            if messages.is_empty() {
                return out;
            }
            for m in messages {
                let receipt = m.receipt_handle.clone().expect("a receipt handle");
                self.clients
                    .sqs
                    .delete_message()
                    .queue_url(url)
                    .receipt_handle(receipt)
                    .send()
                    .await
                    .expect("delete on moto");
                out.push(m);
            }
        }
    }

    async fn queue(&self, name: &str) -> String {
        let out = self
            .clients
            .sqs
            .create_queue()
            .queue_name(name)
            .send()
            .await
            .expect("create queue");
        out.queue_url.expect("queue url")
    }

    async fn wait_until_up(&mut self) {
        let started = Instant::now();
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("moto exited ({status}): run `make setup` to install it into .venv");
            }
            if std::net::TcpStream::connect(self.endpoint.trim_start_matches("http://")).is_ok()
                && self.clients.dynamodb.list_tables().send().await.is_ok()
            {
                return;
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "moto did not answer at {}",
                self.endpoint
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for MotoServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    listener.local_addr().expect("local addr").port()
}

fn spawn(port: u16) -> Child {
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    // moto with DynamoDB's atomicity (one request at a time, transactions restore only their
    // own items): see the script's docstring.
    let script = repo.join("tools/moto_server.py");
    let venv = repo.join(".venv/bin/python");
    let python = if venv.exists() { venv } else { PathBuf::from("python3") };
    let mut command = Command::new(python);
    command.arg(script).args(["-H", "127.0.0.1", "-p", &port.to_string()]);
    command
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start moto: run `make setup` to install it into .venv")
}
