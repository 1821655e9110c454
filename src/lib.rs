//! # clv — customer lifetime value models
//!
//! Probabilistic "buy till you die" models of customer-base analysis, fitted by maximum
//! likelihood, with per-customer predictions.
//!
//! | model | parameters | paper |
//! |---|---|---|
//! | BG/NBD | [`BgNbdParams`] (r, α, a, b) | Fader, Hardie & Lee (2005), *Marketing Science* 24(2) |
//! | MBG/NBD | [`MbgNbdParams`] (r, α, a, b) | Batislam, Denizel & Filiztekin (2007), *IJRM* 24(3) |
//! | Pareto/NBD | [`ParetoNbdParams`] (r, α, s, β) | Schmittlein, Morrison & Colombo (1987), *Management Science* 33(1) |
//! | GGom/NBD | [`GgomNbdParams`] (r, α, b, s, β) | Bemmaor & Glady (2012), *Management Science* 58(5) |
//! | BG/CNBD-k, MBG/CNBD-k | [`BgCnbdParams`], [`MbgCnbdParams`] (k, r, α, a, b) | Platzer & Reutterer (2016), *Marketing Science* 35(5); Reutterer, Platzer & Schröder (2021) |
//! | NBD | [`NbdParams`] (r, α) | Ehrenberg (1959), *Applied Statistics* 8(1) |
//! | Gamma-Gamma | [`GammaGammaParams`] (p, q, v) | Fader, Hardie & Lee (2005), *JMR* 42(4); note 025 |
//!
//! ## Notation
//! For each customer, in the calibration period: `x` = number of repeat purchases (purchase
//! occasions after the first), `t_x` = time of the last repeat purchase measured from the first
//! purchase (0 when x = 0), `T` = time from the first purchase to the end of calibration. All
//! times are in the summary's [`TimeUnit`]; horizons `t` are in the same unit.
//!
//! ## Quick start
//! ```
//! use clv::{BgNbdParams, FitOptions, TimeUnit, TransactionModel, io::read_summary_csv};
//!
//! let path = concat!(env!("CARGO_MANIFEST_DIR"), "/data/cdnow_customers_summary.csv");
//! let summary = read_summary_csv(path, TimeUnit::Weeks)?;
//! let fitted = BgNbdParams::fit(&summary, &FitOptions::default())?;
//! assert!((fitted.params().r() - 0.2426).abs() < 1e-3);
//!
//! let model = fitted.params();
//! let c = summary.customer(0); // x = 2, t_x = 30.43, T = 38.86
//! let p_alive = model.p_alive(&c);
//! let next_39_weeks = model.conditional_expected_purchases(&c, 39.0);
//! let p_none = model.conditional_pmf(&c, 0, 39.0);
//! assert!(p_alive > 0.7 && next_39_weeks > 1.2 && p_none > 0.4);
//! # Ok::<(), clv::Error>(())
//! ```
//!
//! ## Layout
//! - [`data`]: transactions → [`RfmSummary`] (calibration/holdout), CSV readers ([`io`]).
//! - [`models`]: one module per model: validated parameters, likelihood, predictions.
//! - [`fit`]: the generic maximum-likelihood machinery and the [`Fitted`] value.
//! - [`predict`]: batch scoring over a summary; [`scorer`]: an owned scorer for services.
//! - [`value`]: discounted CLV with typed discount rates; [`uncertainty`]: bootstrap
//!   intervals; [`history`]: realised value per customer and cohort.
//! - [`sim`]: seeded simulators (parameter recovery, benchmarks).
//! - [`special`]: `ln_hyp2f1` and log-space helpers.
//!
//! Nothing in the library prints; every failure is an [`Error`].
#![warn(missing_docs)]
#![warn(clippy::missing_errors_doc)]

/// The former name of [`value`] (`clv::clv` stuttered).
#[deprecated(since = "0.2.0", note = "renamed to `clv::value`")]
pub mod clv {
    pub use crate::value::*;
}
pub mod compare;
pub mod data;
pub mod diagnostics;
pub mod drivers;
pub mod error;
pub mod fit;
pub mod future;
#[cfg(feature = "logs")]
pub mod history;
pub mod models;
mod par;
pub mod predict;
pub mod predictive;
pub mod scorer;
pub mod segments;
pub mod sim;
pub mod special;
pub mod uncertainty;
pub mod value;

#[cfg(feature = "csv")]
pub use data::io;
pub use data::{
    CompressedRfm, Covariates, Customer, FrequencyGroups, Holdout, RfmSummary, TimeUnit,
};
#[cfg(feature = "logs")]
pub use data::{
    Granularity, History, Summarized, SummaryBuilder, SummaryOptions, Transaction, summarize,
};
pub use error::{DataIssue, Error, IoSource, Result};
pub use fit::{FitOptions, Fitted};
pub use models::{
    AnyFitted, AnyParams, BgBbParams, BgCnbdParams, BgNbdParams, DiscreteTimeModel,
    GammaGammaParams, GgomNbdParams, MbgCnbdParams, MbgNbdParams, NbdParams, ParetoNbdParams,
    RetentionModel, SbgParams, Schedule, SchedulePlan, SpendModel, TransactionModel,
};

/// The most used types in one import: `use clv::prelude::*;` (it does not shadow
/// `std::result::Result`: use `clv::Result` by name).
pub mod prelude {
    pub use crate::{
        AnyFitted, BgNbdParams, Customer, Error, FitOptions, Fitted, MbgNbdParams, NbdParams,
        ParetoNbdParams, RfmSummary, TimeUnit, TransactionModel, scorer::Scorer,
    };
    #[cfg(feature = "logs")]
    pub use crate::{SummaryOptions, Transaction};
}
