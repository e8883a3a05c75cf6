//! Injected faults: what they are and which request consumes them.

use std::time::Duration;

/// A failure the next matching request(s) will see. See [`crate::FakeVisma::inject`].
#[derive(Clone, Debug, PartialEq)]
pub enum Fault {
    /// HTTP 429. eAccounting body: `{"ErrorCode":4010,"DeveloperErrorMessage":"API calls quota
    /// exceeded! maximum admitted 600 per Minute. Try again in N seconds.","ErrorId":"<uuid>"}`
    /// (no `Retry-After`: eAccounting documents none). Visma.net: `Retry-After: N` header (as
    /// documented) plus the `X-RateLimit-*` headers.
    RateLimited {
        /// The N in the message / `Retry-After`.
        retry_after_secs: u64,
    },
    /// HTTP 500 without doing anything.
    ServerError,
    /// Wait, then handle the request normally. The request is handled to completion even if
    /// the client gave up in the meantime (a slow POST still stores its document — later).
    Slow(Duration),
    /// [`Fault::Slow`] for a write only (GETs do not consume it): the document is stored after
    /// the wait, when a client with a shorter timeout has long given up and looked it up in vain.
    SlowWrite(Duration),
    /// Handle the request at once (a POST is stored immediately), then wait before answering:
    /// a client timeout fires although the write happened.
    SlowAfterWrite(Duration),
    /// The bearer token of the request is expired from now on; the request gets 401.
    ExpireToken,
    /// A write (non-GET) gets 400 with eAccounting ErrorCode 4026 (locked period) or the
    /// Visma.net equivalent. GETs do not consume it.
    LockedPeriod,
    /// A write (non-GET) is handled and stored, but the answer is 500 (crash after write).
    /// GETs do not consume it.
    PostThenFail,
}

impl Fault {
    fn only_writes(&self) -> bool {
        matches!(self, Fault::LockedPeriod | Fault::PostThenFail | Fault::SlowWrite(_))
    }
}

pub(crate) struct FaultEntry {
    pub fault: Fault,
    pub prefix: Option<String>,
    pub remaining: usize,
}

/// Faults drawn at random per request on a path: for fault-injection runs ("10–30 % of calls
/// fail"). A seeded xorshift keeps a run reproducible.
pub(crate) struct RandomFaults {
    pub prefix: String,
    /// (fault, probability); checked in order, at most one per request.
    pub faults: Vec<(Fault, f64)>,
    pub state: u64,
}

impl RandomFaults {
    fn next_unit(&mut self) -> f64 {
        let mut x = self.state;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.state = x;
        (x >> 11) as f64 / (1u64 << 53) as f64
    }

    pub(crate) fn draw(&mut self, method: &str, path: &str) -> Option<Fault> {
        if !path.starts_with(self.prefix.as_str()) {
            return None;
        }
        let is_write = !method.eq_ignore_ascii_case("GET") && !method.eq_ignore_ascii_case("HEAD");
        let roll = self.next_unit();
        let mut acc = 0.0;
        for (fault, p) in &self.faults {
            acc += p;
            if roll < acc {
                return (is_write || !fault.only_writes()).then(|| fault.clone());
            }
        }
        None
    }
}

/// Takes (consumes one use of) the first fault that applies to this request.
/// Unscoped faults apply to API requests only; scoped ones to any path with that prefix
/// (so `/connect/token` can be targeted explicitly).
pub(crate) fn take(faults: &mut Vec<FaultEntry>, method: &str, path: &str, is_identity: bool) -> Option<Fault> {
    let is_write = !method.eq_ignore_ascii_case("GET") && !method.eq_ignore_ascii_case("HEAD");
    let idx = faults.iter().position(|f| {
        let scope_ok = match &f.prefix {
            Some(prefix) => path.starts_with(prefix.as_str()),
            None => !is_identity,
        };
        scope_ok && f.remaining > 0 && (is_write || !f.fault.only_writes())
    })?;
    let entry = &mut faults[idx];
    entry.remaining -= 1;
    let fault = entry.fault.clone();
    if entry.remaining == 0 {
        faults.remove(idx);
    }
    Some(fault)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scoping_and_counting() {
        let mut f = vec![
            FaultEntry {
                fault: Fault::PostThenFail,
                prefix: Some("/v2/vouchers".into()),
                remaining: 1,
            },
            FaultEntry {
                fault: Fault::ServerError,
                prefix: None,
                remaining: 2,
            },
        ];
        assert_eq!(take(&mut f, "POST", "/connect/token", true), None);
        assert_eq!(take(&mut f, "GET", "/v2/vouchers", false), Some(Fault::ServerError));
        assert_eq!(take(&mut f, "POST", "/v2/vouchers", false), Some(Fault::PostThenFail));
        assert_eq!(take(&mut f, "POST", "/v2/vouchers", false), Some(Fault::ServerError));
        assert_eq!(take(&mut f, "POST", "/v2/vouchers", false), None);
        assert!(f.is_empty());
    }
}
