//! Our stable reference on every Visma document: the event, the external reference finance sees
//! (the order number) and the idempotency key in brackets. Lookups search by it, so a document is
//! found again after a crash, a retry or a redrive, whatever message delivered it.
//!
//! A key too long for the field (a credit note of many return items in a 100-character field)
//! is written as `#` and the first 32 hex digits of its SHA-256: just as stable, and as unique.

use ctvisma_core::Posting;
use sha2::{Digest, Sha256};

/// "invoice CV-1001 [invoice:8f2…]"; cut to `max` characters keeping the key whole.
pub fn document_text(posting: &Posting, max: usize) -> String {
    let event = serde_json::to_value(posting.event)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default();
    let key = format!("[{}]", key_token(&posting.idempotency_key.to_string(), max));
    let head = format!("{event} {}", posting.external_ref);
    let room = max.saturating_sub(key.chars().count() + 1);
    let head: String = head.chars().take(room).collect();
    format!("{head} {key}")
}

/// How an idempotency key appears in a text of at most `max` characters: itself, or when it
/// does not fit with its brackets and a little room, `#` and a digest of it.
pub fn key_token(key: &str, max: usize) -> String {
    if key.chars().count() + 12 <= max {
        return key.to_string();
    }
    let digest = Sha256::digest(key.as_bytes());
    let hex: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
    format!("#{hex}")
}

/// The key token inside a document text written by [`document_text`].
pub fn key_in(text: &str) -> Option<&str> {
    let start = text.rfind('[')?;
    text[start + 1..].strip_suffix(']')
}

/// An OData string literal: single quotes doubled.
pub fn odata_literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ctvisma_core::keys::IdempotencyKey;
    use ctvisma_core::posting::EventKind;

    #[test]
    fn the_key_survives_any_cut() {
        let mut p = Posting::new(
            EventKind::CreditNote,
            IdempotencyKey::credit_note("o-1", &["r2", "r1"]),
            "SE",
            "SEK",
            "2026-11-24".into(),
        );
        p.external_ref = "CV-1001/R1".into();
        let t = document_text(&p, 1000);
        assert_eq!(t, "credit_note CV-1001/R1 [credit:o-1:r1,r2]");
        assert_eq!(key_in(&t), Some("credit:o-1:r1,r2"));
        let short = document_text(&p, 30);
        assert!(short.chars().count() <= 30, "{short}");
        assert_eq!(key_in(&short), Some("credit:o-1:r1,r2"));
        assert_eq!(odata_literal("O'Neil"), "'O''Neil'");
        // Too long for the field: a stable digest stands in for the key.
        p.idempotency_key = IdempotencyKey::credit_note("o-1", &["r".repeat(60).as_str(), "s".repeat(60).as_str()]);
        let t = document_text(&p, 100);
        assert!(t.chars().count() <= 100, "{t}");
        let token = key_token(&p.idempotency_key.to_string(), 100);
        assert!(token.starts_with('#') && token.len() == 33, "{token}");
        assert_eq!(key_in(&t), Some(token.as_str()));
        assert_eq!(document_text(&p, 100), t, "stable");
    }
}
