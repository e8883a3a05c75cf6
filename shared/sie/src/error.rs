//! What can go wrong reading or writing a SIE file.

/// A SIE file that cannot be read, or postings that cannot be written as one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SieError {
    /// The input file breaks the SIE grammar at a line (1-based).
    #[error("line {line}: {reason}")]
    Syntax { line: usize, reason: String },
    /// A posting that cannot become a voucher: its idempotency key and why.
    #[error("posting {key}: {reason}")]
    Posting { key: String, reason: String },
    /// The header given to the writer is unusable.
    #[error("SIE header: {0}")]
    Header(String),
}

impl SieError {
    pub(crate) fn syntax(line: usize, reason: impl Into<String>) -> Self {
        Self::Syntax {
            line,
            reason: reason.into(),
        }
    }

    pub(crate) fn posting(key: &str, reason: impl Into<String>) -> Self {
        Self::Posting {
            key: key.to_string(),
            reason: reason.into(),
        }
    }
}
