//! Data: transactions in, RFM summaries out.
//!
//! Notation (Fader, Hardie & Lee 2005): for each customer, `x` is the number of *repeat*
//! purchase occasions in the calibration period, `t_x` the time of the last one measured from
//! the first purchase (0 when x = 0), and `T` the time from the first purchase to the end of
//! calibration. Times are in a [`TimeUnit`].

#[cfg(feature = "csv")]
mod blocks;
mod covariates;
mod customer;
#[cfg(feature = "csv")]
mod dates;
#[cfg(feature = "logs")]
pub mod discrete;
mod groups;
#[cfg(feature = "csv")]
pub mod io;
#[cfg(feature = "csv")]
mod line_guard;
#[cfg(feature = "csv")]
mod log_blocks;
#[cfg(feature = "csv")]
mod numfmt;
#[cfg(feature = "csv")]
pub mod returns;
#[cfg(feature = "logs")]
mod summarize;
pub(crate) mod summary;
#[cfg(feature = "csv")]
mod summary_csv;
mod time;
#[cfg(feature = "csv")]
mod zstd;

pub use covariates::Covariates;
pub(crate) use covariates::group_by_pattern;
pub use customer::Customer;
pub use groups::FrequencyGroups;
#[cfg(all(test, feature = "csv"))]
pub(crate) use summarize::cdnow_log_summary;
#[cfg(feature = "logs")]
pub use summarize::{
    History, Summarized, SummaryBuilder, SummaryOptions, Transaction, When, summarize,
};
pub(crate) use summary::weighted_distinct;
pub use summary::{CompressedRfm, Holdout, RfmSummary};
#[cfg(feature = "logs")]
pub use time::Granularity;
pub use time::{PeriodDays, TimeUnit};

/// A customer id's 64-bit hash (FxHash, fixed key: the same id always hashes the same):
/// the one hash behind duplicate checks, shards and the summariser's id index.
#[cfg(feature = "logs")]
pub(crate) fn id_hash(id: &str) -> u64 {
    use std::hash::BuildHasher;
    rustc_hash::FxBuildHasher.hash_one(id)
}

/// Whether two ids are equal, compared inline: ids of 8 to 16 bytes (the usual) as two
/// overlapping 8-byte words, without a call to `memcmp` per row.
#[cfg(feature = "logs")]
#[inline]
pub(crate) fn same_id(a: &str, b: &str) -> bool {
    same_bytes(a.as_bytes(), b.as_bytes())
}

/// [`same_id`] on bytes.
#[cfg(feature = "logs")]
#[inline]
pub(crate) fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    let word = |s: &[u8], i: usize| u64::from_le_bytes(s[i..i + 8].try_into().expect("8 bytes"));
    if (8..=16).contains(&n) {
        word(a, 0) == word(b, 0) && word(a, n - 8) == word(b, n - 8)
    } else {
        a == b
    }
}

/// `s.trim()`, with a shortcut for the usual field: one that starts and ends with a visible
/// ASCII character has nothing to trim.
#[cfg(feature = "csv")]
pub(crate) fn trim(s: &str) -> &str {
    let b = s.as_bytes();
    match (b.first(), b.last()) {
        (Some(f), Some(l)) if f.is_ascii_graphic() && l.is_ascii_graphic() => s,
        _ => s.trim(),
    }
}
