//! SIE 4, the Swedish bookkeeping exchange format: write postings as #VER vouchers for a ledger
//! to import (type 4I, `#FORMAT PC8` = CP437, CRLF), and read any SIE 4 file back.
//!
//! - [`read`]: bytes → [`SieFile`] (header, #RAR, #KONTO, #VER with #TRANS/#RTRANS/#BTRANS).
//! - [`write()`]: postings + [`SieHeader`] → bytes, foreign currencies converted at the posting's rate.
//! - [`vouchers_match`]: proves a read file carries exactly the postings it was written from.
//!
//! Specification: SIE file format version 4B (SIE-Gruppen, 2008).

mod check;
pub mod cp437;
mod error;
mod model;
mod reader;
mod writer;

pub use check::vouchers_match;
pub use error::SieError;
pub use model::{Program, Row, RowKind, SieFile, SieHeader, Voucher};
pub use reader::{decode, read};
pub use writer::write;
