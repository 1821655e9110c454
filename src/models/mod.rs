//! The models: one file each, a validated parameter type with its likelihood and predictions.
//!
//! | model | type | paper |
//! |---|---|---|
//! | BG/NBD | [`BgNbdParams`] | Fader, Hardie & Lee (2005), "Counting Your Customers the Easy Way" |
//! | MBG/NBD | [`MbgNbdParams`] | Batislam, Denizel & Filiztekin (2007); Wagner & Hoppe (2008) erratum |
//! | Pareto/NBD | [`ParetoNbdParams`] | Schmittlein, Morrison & Colombo (1987); Fader, Hardie & Lee (2005) note |
//! | GGom/NBD | [`GgomNbdParams`] | Bemmaor & Glady (2012), *Management Science* 58(5) |
//! | BG/CNBD-k, MBG/CNBD-k | [`BgCnbdParams`], [`MbgCnbdParams`] | Platzer & Reutterer (2016); Reutterer, Platzer & Schröder (2021) |
//! | BG/BB (discrete time) | [`bgbb::BgBbParams`] | Fader, Hardie & Shang (2010), *Marketing Science* 29(6) |
//! | sBG (contractual) | [`sbg::SbgParams`] | Fader & Hardie (2007), *JIM* 21(1); (2010), *Marketing Science* 29(1) |
//! | NBD | [`NbdParams`] | Ehrenberg (1959); Morrison & Schmittlein (1988) |
//! | Gamma-Gamma | [`GammaGammaParams`] | Fader, Hardie & Lee (2005), "RFM and CLV"; note 025 |

pub mod bgbb;
pub mod bgnbd;
mod bgnbd_plan;
pub mod cnbd;
pub mod covariates;
pub mod gamma_gamma;
pub mod ggomnbd;
pub mod mbgnbd;
pub mod nbd;
mod outcome_traits;
pub mod pareto_nbd;
mod pareto_nbd_plan;
pub mod plan;
pub mod registry;
pub mod sbg;
pub mod spend_covariates;

pub use bgbb::BgBbParams;
pub use bgnbd::BgNbdParams;
pub use cnbd::{BgCnbdParams, MbgCnbdParams};
pub use gamma_gamma::GammaGammaParams;
pub use ggomnbd::GgomNbdParams;
pub use mbgnbd::MbgNbdParams;
pub use nbd::NbdParams;
pub use outcome_traits::{DiscreteTimeModel, RetentionModel};
pub use pareto_nbd::ParetoNbdParams;
pub use plan::{Schedule, SchedulePlan};
pub use registry::{AnyFitted, AnyParams};
pub use sbg::SbgParams;

use crate::data::{CompressedRfm, Customer, FrequencyGroups, RfmSummary};
use crate::error::{Error, Result};
use std::sync::Arc;

/// The error of a parameter vector of the wrong length.
pub(crate) fn wrong_length(names: &[&str], got: usize) -> Error {
    Error::InvalidOption {
        name: "parameters",
        reason: format!("need {} ({}), got {got}", names.len(), names.join(", ")),
    }
}

/// Whether `t` is a valid horizon for the raw predictions (0 <= t <= [`MAX_HORIZON`]): they
/// return NaN for any other, instead of a panic inside a special function or a misleading
/// number.
///
/// [`MAX_HORIZON`]: crate::predict::MAX_HORIZON
#[inline]
pub(crate) fn valid_t(t: f64) -> bool {
    (0.0..=crate::predict::MAX_HORIZON).contains(&t)
}

/// Per-row sums of a likelihood over `len` rows: `rows(range)` sums one range; from
/// `parallel_from` rows on, fixed chunks of `chunk` rows are summed in parallel and merged in
/// order, so the result is the same on any number of threads.
pub(crate) fn sum_rows<S: Default + Send>(
    len: usize,
    parallel_from: usize,
    chunk: usize,
    rows: impl Fn(std::ops::Range<usize>) -> S + Sync,
    merge: impl Fn(&mut S, &S),
) -> S {
    if len < parallel_from {
        return rows(0..len);
    }
    let parts: Vec<S> = crate::par::map_range(len.div_ceil(chunk), |k| {
        rows(k * chunk..((k + 1) * chunk).min(len))
    });
    parts.iter().fold(S::default(), |mut acc, p| {
        merge(&mut acc, p);
        acc
    })
}

/// Compresses a summary for an (x, t_x, T) likelihood and refuses data that cannot identify a
/// purchase-and-dropout model: no repeat buyer at all, or a single distinct history.
pub(crate) fn prepare_rfm(summary: &RfmSummary, model: &'static str) -> Result<CompressedRfm> {
    let d = summary.compress();
    check_identifiable(&d, model)?;
    Ok(d)
}

/// The checks of [`prepare_rfm`] on rows already compressed (by (x, t_x, T), or finer).
pub(crate) fn check_identifiable(d: &CompressedRfm, model: &'static str) -> Result<()> {
    let not_identifiable = |reason: String| Error::NotIdentifiable { model, reason };
    if d.x.iter().all(|&x| x == 0.0) {
        return Err(not_identifiable(format!(
            "none of the {} customers made a repeat purchase, so the purchase rate and the \
             dropout probability cannot be told apart",
            d.total_weight()
        )));
    }
    // one history (x, t_x, T) for everyone (rows compressed finer, by litt too, may repeat it)
    let same = |i: usize| d.x[i] == d.x[0] && d.t_x[i] == d.t_x[0] && d.t[i] == d.t[0];
    if (1..d.len()).all(same) {
        return Err(not_identifiable(if d.total_weight() == 1.0 {
            "a single customer says nothing about how customers differ".into()
        } else {
            format!(
                "all {} customers have the same history (x, t_x, T), which says nothing \
                 about how customers differ",
                d.total_weight()
            )
        }));
    }
    Ok(())
}

/// Predictions of a model of repeat-purchase counts, as pure functions of the parameters and a
/// customer's history. Times are in the unit the model was fitted in; horizons `t` must be
/// in [0, [`MAX_HORIZON`](crate::predict::MAX_HORIZON)]: the predictions return NaN for any
/// other `t` (never a panic, never a number that looks valid), and the checked front doors ([`crate::predict`],
/// [`crate::scorer::Scorer`], [`AnyFitted`]) refuse it with an error.
pub trait TransactionModel {
    /// Expected number of repeat purchases in `(0, t]` for a randomly chosen new customer,
    /// E[X(t)].
    fn expected_purchases(&self, t: f64) -> f64;
    /// Probability that a randomly chosen new customer makes exactly `n` repeat purchases in
    /// `(0, t]`, P(X(t) = n).
    fn pmf(&self, n: u64, t: f64) -> f64;
    /// Probability that the customer is still alive at `T`, given their history.
    fn p_alive(&self, c: &Customer) -> f64;
    /// Expected purchases in `(T, T + t]` given the history, E[Y(t) | x, t_x, T].
    fn conditional_expected_purchases(&self, c: &Customer, t: f64) -> f64;
    /// Probability of exactly `n` purchases in `(T, T + t]` given the history.
    fn conditional_pmf(&self, c: &Customer, n: u64, t: f64) -> f64;
    /// Discounted expected residual transactions with continuous discounting at `delta` (>= 0,
    /// per time unit) over `(T, T + horizon]`; `horizon = None` is forever (needs `delta > 0`).
    ///
    /// # Errors
    /// [`crate::Error::InvalidOption`] for an invalid rate or horizon; [`crate::Error::Numerical`]
    /// when the value is not finite.
    fn dert(&self, c: &Customer, delta: f64, horizon: Option<f64>) -> crate::Result<f64>;

    /// P(Y(t) = 0 | history) for a customer whose P(alive) is already known to be
    /// `p_alive`. Models override it to skip recomputing P(alive).
    fn prob_no_purchase_given(&self, p_alive: f64, c: &Customer, t: f64) -> f64 {
        let _ = p_alive;
        self.conditional_pmf(c, 0, t)
    }

    /// P(alive), E[Y(t)] and P(Y(t) = 0) together. Models override it to compute what the three
    /// share (P(alive), the posterior) once.
    fn score(&self, c: &Customer, t: f64) -> Score {
        Score {
            p_alive: self.p_alive(c),
            expected_purchases: self.conditional_expected_purchases(c, t),
            prob_no_purchase: self.conditional_pmf(c, 0, t),
        }
    }

    /// E[Y(t)] at every horizon of `ts`, written to `out` (same length); returns P(alive).
    /// Models override it to compute P(alive) once rather than once per horizon.
    fn conditional_expectations(&self, c: &Customer, ts: &[f64], out: &mut [f64]) -> f64 {
        for (o, &t) in out.iter_mut().zip(ts) {
            *o = self.conditional_expected_purchases(c, t);
        }
        self.p_alive(c)
    }

    /// Prepares this parameter set to evaluate `schedules` for the customers of `groups` (and
    /// any other customer, more slowly). The default evaluates each customer directly; BG/NBD
    /// tabulates E[Y(t)] given alive once per distinct frequency, which makes scoring many
    /// customers tens of times faster at a relative error typically 1e-12 (at most 1e-8 over
    /// the property tests).
    ///
    /// ```
    /// use clv::{BgNbdParams, Customer, FrequencyGroups, Schedule, TransactionModel};
    /// use std::sync::Arc;
    /// let m = BgNbdParams::new(0.243, 4.414, 0.793, 2.426).unwrap();
    /// let cs: Vec<Customer> = (1..200).map(|i| Customer::new(2.0, 10.0, 10.0 + i as f64 * 0.1).unwrap()).collect();
    /// let groups = Arc::new(FrequencyGroups::from_customers(cs.iter().copied()));
    /// let schedules: Arc<[Schedule]> = Arc::from([Schedule::horizon(39.0).unwrap()]);
    /// let plan = m.plan(&groups, &schedules);
    /// let mut e = [0.0];
    /// let pa = plan.eval(&cs[7], &mut e);
    /// assert_eq!(pa, m.p_alive(&cs[7]));
    /// let direct = m.conditional_expected_purchases(&cs[7], 39.0);
    /// assert!((e[0] / direct - 1.0).abs() < 1e-10);
    /// ```
    ///
    /// The plan owns what it needs (the parameters by value, the groups and schedules shared),
    /// so it can outlive the call: a service builds it once and scores for as long as it runs
    /// ([`crate::scorer::Scorer`]).
    fn plan(
        &self,
        groups: &Arc<FrequencyGroups>,
        schedules: &Arc<[Schedule]>,
    ) -> Box<dyn SchedulePlan>
    where
        Self: Sized + Clone + Send + Sync + 'static,
    {
        let _ = groups;
        Box::new(plan::DirectPlan {
            model: self.clone(),
            schedules: schedules.clone(),
        })
    }
}

/// A model of spend per transaction (Gamma-Gamma; any spend model implements it).
pub trait SpendModel {
    /// Mean spend per transaction of a randomly chosen customer; an error when it is infinite.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] when the mean is infinite.
    fn population_mean_spend(&self) -> Result<f64>;
    /// E[spend per transaction | x repeat transactions with mean value `mean_spend`]; for
    /// x = 0 the population mean.
    ///
    /// # Errors
    /// [`Error::InvalidData`] for an invalid frequency or mean spend; the population mean's error
    /// for x = 0; [`Error::Numerical`] when the result is not finite.
    fn conditional_expected_spend(&self, x: f64, mean_spend: f64) -> Result<f64>;
}

/// One customer's scores for a horizon.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub struct Score {
    /// P(alive at T | history).
    pub p_alive: f64,
    /// E[purchases in (T, T + horizon] | history].
    pub expected_purchases: f64,
    /// P(no purchase in (T, T + horizon] | history).
    pub prob_no_purchase: f64,
}

impl Score {
    /// Whether all three scores are finite (a batch reports the first customer for whom they
    /// are not).
    pub fn is_finite(&self) -> bool {
        self.p_alive.is_finite()
            && self.expected_purchases.is_finite()
            && self.prob_no_purchase.is_finite()
    }
}
