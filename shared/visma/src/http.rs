//! One pooled HTTP client per process (rustls, timeouts), and the retry loop every call goes
//! through: 429 and 5xx are retried with exponential back-off and jitter, honouring the server's
//! "try again in N seconds", but never past the caller's deadline (the Lambda's remaining time):
//! then the call fails as transient and the message goes to the retry queue instead.

use std::time::{Duration, Instant};

use reqwest::{Method, RequestBuilder, Response, StatusCode};

use crate::error::VismaError;

/// When the caller must have an answer (a Lambda's deadline less a margin). `None`: no limit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Deadline(pub Option<Instant>);

impl Deadline {
    pub fn none() -> Self {
        Self(None)
    }

    pub fn in_(d: Duration) -> Self {
        Self(Some(Instant::now() + d))
    }

    /// True when waiting `wait` would still leave time for the call itself.
    pub fn allows(&self, wait: Duration) -> bool {
        self.0
            .is_none_or(|end| Instant::now() + wait + Duration::from_secs(1) < end)
    }
}

/// Timeouts and retry limits; the defaults suit a Lambda with a 60 s timeout.
#[derive(Debug, Clone)]
pub struct HttpSettings {
    pub connect_timeout: Duration,
    pub request_timeout: Duration,
    pub max_attempts: u32,
    pub base_backoff: Duration,
    pub max_backoff: Duration,
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(20),
            max_attempts: 5,
            base_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(30),
        }
    }
}

/// The shared client: build once per cold start and clone (clones share the pool).
#[derive(Debug, Clone)]
pub struct Http {
    client: reqwest::Client,
    pub settings: HttpSettings,
}

impl Http {
    pub fn new(settings: HttpSettings) -> Result<Self, VismaError> {
        let client = reqwest::Client::builder()
            .connect_timeout(settings.connect_timeout)
            .timeout(settings.request_timeout)
            .pool_idle_timeout(Duration::from_secs(50))
            .user_agent(concat!("ctvisma/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| VismaError::Protocol {
                target: "http",
                what: format!("cannot build the HTTP client: {e}"),
            })?;
        Ok(Self { client, settings })
    }

    pub fn request(&self, method: Method, url: &str) -> RequestBuilder {
        self.client.request(method, url)
    }

    /// Sends what `build` makes (rebuilt per attempt) and retries 429 and failed connections,
    /// which the server never applied. 5xx and timeouts are retried only for `repeatable`
    /// requests (reads): a write that may have been applied is left to the caller, who looks the
    /// document up before writing again. Any other answer is returned to the caller.
    pub async fn send(
        &self,
        target: &'static str,
        deadline: Deadline,
        repeatable: bool,
        build: impl Fn() -> RequestBuilder,
    ) -> Result<Response, VismaError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let last = attempt >= self.settings.max_attempts;
            let failure = match build().send().await {
                Ok(r) if r.status() == StatusCode::TOO_MANY_REQUESTS => {
                    let wait = retry_after(r).await;
                    Failure::RateLimited(wait)
                }
                Ok(r) if r.status().is_server_error() => Failure::Unavailable(format!("HTTP {}", r.status().as_u16())),
                Ok(r) => return Ok(r),
                Err(e) if e.is_timeout() => Failure::Unavailable("timed out".into()),
                Err(e) if e.is_connect() => Failure::NotSent(format!("connection failed: {}", without_url(&e))),
                Err(e) => Failure::Unavailable(without_url(&e)),
            };
            let unapplied = matches!(failure, Failure::RateLimited(_) | Failure::NotSent(_));
            let wait = match &failure {
                Failure::RateLimited(Some(w)) => *w + jitter(self.settings.base_backoff),
                _ => self.backoff(attempt),
            };
            if last || !deadline.allows(wait) || !(repeatable || unapplied) {
                tracing::warn!(
                    target_system = target,
                    attempt,
                    wait_ms = wait.as_millis() as u64,
                    "giving up for now: retry later"
                );
                return Err(match failure {
                    Failure::RateLimited(w) => VismaError::RateLimited {
                        target,
                        retry_after_secs: w.unwrap_or(wait).as_secs().max(1),
                    },
                    Failure::Unavailable(what) | Failure::NotSent(what) => VismaError::Unavailable { target, what },
                });
            }
            tracing::info!(
                target_system = target,
                attempt,
                wait_ms = wait.as_millis() as u64,
                "backing off"
            );
            tokio::time::sleep(wait).await;
        }
    }

    fn backoff(&self, attempt: u32) -> Duration {
        let exp = self.settings.base_backoff.saturating_mul(1 << attempt.min(10));
        exp.min(self.settings.max_backoff) + jitter(self.settings.base_backoff)
    }
}

/// Where a bearer token comes from: one refresh at a time, and a way to drop a token the API
/// refused, so the next call refreshes.
#[async_trait::async_trait]
pub trait BearerAuth: Send + Sync {
    async fn token(&self, deadline: Deadline) -> Result<crate::token_store::Secret, VismaError>;
    async fn reject(&self, used: &crate::token_store::Secret);
}

impl Http {
    /// An API call with a bearer token and an optional JSON body, through [`Http::send`]. A 401
    /// drops the token and tries once more with a fresh one; the last answer is returned, and
    /// `seen` is shown every answer (rate-limit headers).
    #[allow(clippy::too_many_arguments)]
    pub async fn send_authorized(
        &self,
        target: &'static str,
        deadline: Deadline,
        auth: &dyn BearerAuth,
        method: Method,
        url: &str,
        query: &[(&str, String)],
        body: Option<&str>,
        seen: impl Fn(&Response),
    ) -> Result<Response, VismaError> {
        let mut attempt = 0;
        loop {
            let token = auth.token(deadline).await?;
            let response = self
                .send(target, deadline, method == Method::GET, || {
                    let r = self
                        .request(method.clone(), url)
                        .bearer_auth(token.expose())
                        .query(query);
                    match body {
                        Some(b) => r
                            .header(reqwest::header::CONTENT_TYPE, "application/json")
                            .body(b.to_string()),
                        None => r,
                    }
                })
                .await?;
            seen(&response);
            attempt += 1;
            if response.status() == StatusCode::UNAUTHORIZED && attempt < 2 {
                auth.reject(&token).await;
                continue;
            }
            return Ok(response);
        }
    }
}

enum Failure {
    RateLimited(Option<Duration>),
    /// The request may have been applied (5xx, timeout, broken answer).
    Unavailable(String),
    /// The connection was never made: nothing was applied.
    NotSent(String),
}

fn jitter(base: Duration) -> Duration {
    Duration::from_millis(fastrand::u64(0..=base.as_millis() as u64))
}

/// The wait a 429 asks for: a `Retry-After` header, else eAccounting's "Try again in N seconds."
async fn retry_after(r: Response) -> Option<Duration> {
    let header = r
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if let Some(s) = header {
        return Some(Duration::from_secs(s));
    }
    let body = r.text().await.ok()?;
    seconds_in_message(&body).map(Duration::from_secs)
}

/// "… Try again in 12 seconds." → 12.
pub fn seconds_in_message(text: &str) -> Option<u64> {
    let lower = text.to_lowercase();
    let rest = &lower[lower.find("try again in")? + "try again in".len()..];
    rest.split_whitespace()
        .next()?
        .trim_matches(|c: char| !c.is_ascii_digit())
        .parse()
        .ok()
}

/// reqwest errors print the URL, which may carry query values: keep only the kind.
fn without_url(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    if let Some(url) = e.url() {
        text = text.replace(url.as_str(), "<url>");
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wait_is_read_from_the_message() {
        let body = r#"{"ErrorCode":4010,"DeveloperErrorMessage":"Rate limit exceeded. Try again in 7 seconds.","ErrorId":"x"}"#;
        assert_eq!(seconds_in_message(body), Some(7));
        assert_eq!(seconds_in_message("nothing"), None);
    }

    #[test]
    fn deadlines_refuse_long_waits() {
        assert!(Deadline::none().allows(Duration::from_secs(3600)));
        let d = Deadline::in_(Duration::from_secs(5));
        assert!(d.allows(Duration::from_secs(1)));
        assert!(!d.allows(Duration::from_secs(10)));
    }
}
