//! The numbers behind model-validation plots (Fader, Hardie & Lee 2005, figures 2–4; the BTYD
//! "calibration vs holdout", "period transactions" and P(alive) plots): each function returns a
//! plain table that a report draws or a test checks.
//!
//! - [`holdout_by_frequency`], [`holdout_by_recency`]: mean actual vs mean predicted holdout
//!   purchases, by calibration frequency (0, 1, ..., N+) or recency bucket;
//! - [`holdout_fit`]: per-customer MAE and RMSE, correlation, and the aggregate error;
//! - [`period_transactions`]: how many customers made 0, 1, ..., N+ repeat purchases in
//!   calibration, observed vs expected under the model (Σ_i P(X(T_i) = n), exact), with an
//!   optional simulated count;
//! - [`PropertyMatrix`]: P(alive) or E[Y(t)] over a (frequency, recency) grid at a fixed age;
//! - [`Tracking`]: repeat transactions per period (weekly), observed vs expected, incremental
//!   and cumulative, over calibration and holdout;
//! - [`Regularity`]: the Wheat & Morrison estimate of the Erlang order k (is an Erlang-k model
//!   worth fitting?), which the summariser computes from the log.

use crate::data::{Customer, RfmSummary};
use crate::error::{Error, Result, positive_option};
use crate::models::TransactionModel;

mod holdout;
mod regularity;
#[cfg(feature = "logs")]
mod tracking;

pub use holdout::{
    GoodnessOfFit, HoldoutComparison, HoldoutGroup, holdout_by_frequency, holdout_by_recency,
    holdout_fit,
};
pub use regularity::Regularity;
#[cfg(feature = "logs")]
pub use tracking::{Tracking, TrackingBuilder, tracking};

/// A count option that must be at least 1.
/// A table size: at least 1 and at most [`MAX_BINS`] (a bigger one is a mistake, and
/// `usize::MAX` would overflow the allocation).
fn at_least_one(name: &'static str, n: usize) -> Result<()> {
    if n == 0 {
        return Err(Error::InvalidOption {
            name,
            reason: "must be at least 1".into(),
        });
    }
    if n > MAX_BINS {
        return Err(Error::InvalidOption {
            name,
            reason: format!("must be at most {MAX_BINS}, got {n}"),
        });
    }
    Ok(())
}

/// Customers by number of calibration repeat purchases (0, 1, ..., N+).
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct PeriodTransactions {
    /// `"0"`, `"1"`, ..., `"N+"`.
    pub labels: Vec<String>,
    /// Observed customers per group.
    pub observed: Vec<f64>,
    /// Expected customers per group under the model: Σ_i P(X(T_i) = n), the last group
    /// 1 - Σ of the others (exact; no simulation noise).
    pub expected: Vec<f64>,
    /// Customers per group in a simulated summary, when one was given.
    pub simulated: Option<Vec<f64>>,
}

fn histogram(x: &[f64], max_frequency: usize) -> Vec<f64> {
    let mut h = vec![0.0; max_frequency + 1];
    for &v in x {
        h[(v as usize).min(max_frequency)] += 1.0;
    }
    h
}

/// The most frequency bins a diagnostic table may have.
pub const MAX_BINS: usize = 10_000;

/// Observed vs expected (and optionally simulated) calibration frequencies (Fader, Hardie &
/// Lee 2005, figure 2, which uses 0..7+). `simulated` is typically
/// [`crate::sim::simulate_bgnbd`] at the fitted parameters and the same ages T.
///
/// ```
/// use clv::{diagnostics::period_transactions, BgNbdParams, RfmSummary, TimeUnit};
/// let s = RfmSummary::new(vec!["a".into(), "b".into()], vec![0.0, 3.0], vec![0.0, 30.0], vec![39.0, 39.0], TimeUnit::Weeks).unwrap();
/// let m = BgNbdParams::new(0.243, 4.414, 0.793, 2.426).unwrap();
/// let p = period_transactions(&m, &s, 7, None).unwrap();
/// assert_eq!(p.observed.iter().sum::<f64>(), 2.0);
/// assert!((p.expected.iter().sum::<f64>() - 2.0).abs() < 1e-9);
/// ```
///
/// # Errors
/// [`Error::InvalidOption`] unless 1 <= `max_frequency` <= [`MAX_BINS`];
/// [`Error::Numerical`] naming the customer whose probabilities are not finite.
pub fn period_transactions<M: TransactionModel>(
    model: &M,
    summary: &RfmSummary,
    max_frequency: usize,
    simulated: Option<&RfmSummary>,
) -> Result<PeriodTransactions> {
    at_least_one("max_frequency", max_frequency)?;
    let mut expected = vec![0.0; max_frequency + 1];
    for (i, &t) in summary.age().iter().enumerate() {
        let mut rest = 1.0;
        for (n, e) in expected.iter_mut().take(max_frequency).enumerate() {
            let p = model.pmf(n as u64, t);
            if !p.is_finite() {
                return Err(Error::Numerical {
                    what: format!("P(X(T) = {n})"),
                }
                .for_customer(&summary.ids()[i]));
            }
            *e += p;
            rest -= p;
        }
        expected[max_frequency] += rest.max(0.0);
    }
    let mut labels: Vec<String> = (0..max_frequency).map(|f| f.to_string()).collect();
    labels.push(format!("{max_frequency}+"));
    Ok(PeriodTransactions {
        labels,
        observed: histogram(summary.frequency(), max_frequency),
        expected,
        simulated: simulated.map(|s| histogram(s.frequency(), max_frequency)),
    })
}

/// A model quantity over a grid of (frequency, recency) at one age T: `values[i][j]` is for
/// `frequencies[i]` and `recencies[j]`, `None` where the history is impossible (x = 0 with
/// t_x > 0: a customer without repeat purchases has t_x = 0).
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct PropertyMatrix {
    /// What the values are (`"P(alive)"`, `"E[Y(52)]"`).
    pub quantity: String,
    /// The common age T.
    pub age: f64,
    /// Row values: x = 0, 1, ..., max.
    pub frequencies: Vec<f64>,
    /// Column values: t_x from 0 to T in equal steps.
    pub recencies: Vec<f64>,
    /// The grid.
    pub values: Vec<Vec<Option<f64>>>,
}

impl PropertyMatrix {
    fn build(
        quantity: String,
        age: f64,
        max_frequency: usize,
        recency_steps: usize,
        f: impl Fn(&Customer) -> f64,
    ) -> Result<Self> {
        positive_option("age", age)?;
        at_least_one("recency_steps", recency_steps)?;
        if max_frequency > MAX_BINS {
            return Err(Error::InvalidOption {
                name: "max_frequency",
                reason: format!("must be at most {MAX_BINS}, got {max_frequency}"),
            });
        }
        let frequencies: Vec<f64> = (0..=max_frequency).map(|x| x as f64).collect();
        let recencies: Vec<f64> = (0..=recency_steps)
            .map(|j| age * j as f64 / recency_steps as f64)
            .collect();
        let values = frequencies
            .iter()
            .map(|&x| {
                recencies
                    .iter()
                    .map(|&tx| {
                        if x == 0.0 && tx > 0.0 {
                            return None;
                        }
                        let c = Customer::new(x, tx, age).expect("grid histories are valid");
                        Some(f(&c))
                    })
                    .collect()
            })
            .collect();
        Ok(PropertyMatrix {
            quantity,
            age,
            frequencies,
            recencies,
            values,
        })
    }

    /// P(alive) over x = 0..=`max_frequency` and `recency_steps + 1` recencies in [0, T]
    /// (the BTYD "probability alive matrix").
    ///
    /// ```
    /// use clv::{diagnostics::PropertyMatrix, BgNbdParams};
    /// let m = BgNbdParams::new(0.243, 4.414, 0.793, 2.426).unwrap();
    /// let pa = PropertyMatrix::p_alive(&m, 39.0, 10, 13).unwrap();
    /// assert_eq!(pa.values[0][0], Some(1.0)); // BG/NBD: no repeat purchase, no dropout yet
    /// assert_eq!(pa.values[0][1], None); // x = 0 with t_x > 0 does not exist
    /// assert!(pa.values[5][13] > pa.values[5][1]); // recent buyers are more likely alive
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidOption`] for an age that is not finite and > 0, or a grid over
    /// [`MAX_BINS`].
    pub fn p_alive<M: TransactionModel>(
        model: &M,
        age: f64,
        max_frequency: usize,
        recency_steps: usize,
    ) -> Result<Self> {
        Self::build("P(alive)".into(), age, max_frequency, recency_steps, |c| {
            model.p_alive(c)
        })
    }

    /// E[Y(t) | x, t_x, T] over the same grid (the BTYD "frequency/recency matrix").
    ///
    /// # Errors
    /// As [`p_alive`](Self::p_alive), and for an invalid horizon.
    pub fn expected_purchases<M: TransactionModel>(
        model: &M,
        age: f64,
        t: f64,
        max_frequency: usize,
        recency_steps: usize,
    ) -> Result<Self> {
        positive_option("horizon", t)?;
        Self::build(
            format!("E[Y({t})]"),
            age,
            max_frequency,
            recency_steps,
            |c| model.conditional_expected_purchases(c, t),
        )
    }
}
