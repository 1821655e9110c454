//! # clv — customer lifetime value models
#![warn(missing_docs)]

pub mod data;
pub mod error;
pub mod fit;
pub mod models;
pub mod special;

#[cfg(feature = "csv")]
pub use data::io;
pub use data::{
    CompressedRfm, Customer, Granularity, Holdout, RfmSummary, Summarized, SummaryBuilder,
    SummaryOptions, TimeUnit, Transaction, summarize,
};
pub use error::{DataIssue, Error, Result};
pub use fit::{FitOptions, Fitted};
pub use models::{BgNbdParams, TransactionModel};
