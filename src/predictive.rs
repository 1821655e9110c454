//! Predictive intervals: where a customer's *actual* number of purchases over a horizon will
//! fall, from the model's conditional distribution P(Y(t) = n | x, t_x, T). They answer a
//! different question than [`crate::uncertainty`]'s bootstrap intervals, which bound the
//! *expected* value (the parameters' uncertainty only) and are far narrower: on the CDNOW
//! holdout the actual counts fall inside 90% parameter intervals of E\[Y\] for 0.9% of
//! customers, and inside 90% predictive intervals for 94.7% (BG/NBD; Pareto/NBD 95.1%,
//! MBG/NBD 94.6%: conservative, as counts are discrete; see `tests/predictive.rs`).
//!
//! The interval at level q is equal-tailed over the discrete distribution: `low` is the
//! smallest n with P(Y <= n) >= (1 − q)/2 and `high` the smallest n with P(Y <= n) >=
//! (1 + q)/2, so P(low <= Y <= high) >= q (more when the distribution is lumpy, as for the
//! many customers whose likeliest count is 0).

use crate::data::{Customer, RfmSummary};
use crate::error::{Error, Result};
use crate::models::TransactionModel;

/// An equal-tailed predictive interval for a count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CountInterval {
    /// Lower bound (inclusive).
    pub low: u64,
    /// Upper bound (inclusive).
    pub high: u64,
}

impl CountInterval {
    /// Whether `n` lies in the interval.
    pub fn contains(&self, n: f64) -> bool {
        n >= self.low as f64 && n <= self.high as f64
    }
}

/// The most terms of the conditional pmf summed for one interval: a count beyond it has
/// probability below any level this module accepts for the customers of real data; reaching
/// it is an error rather than a silent bound.
const MAX_COUNT: u64 = 1_000_000;

fn check_level(level: f64) -> Result<f64> {
    if level.is_finite() && level > 0.0 && level < 1.0 {
        Ok(level)
    } else {
        Err(Error::InvalidOption {
            name: "interval level",
            reason: format!("must be in (0, 1), got {level}"),
        })
    }
}

/// The equal-tailed predictive interval at `level` for the purchases of customer `c` in the
/// next `t` periods, from the conditional pmf.
///
/// ```
/// use clv::{BgNbdParams, Customer};
/// use clv::predictive::purchase_interval;
/// let m = BgNbdParams::new(0.243, 4.414, 0.793, 2.426)?;
/// let heavy = Customer::new(26.0, 30.857143, 31.0)?;
/// let iv = purchase_interval(&m, &heavy, 39.0, 0.9)?;
/// assert!(iv.contains(20.0) && iv.high <= 45, "{iv:?}");
/// let one_time = Customer::new(0.0, 0.0, 38.86)?;
/// assert_eq!(purchase_interval(&m, &one_time, 39.0, 0.9)?.low, 0);
/// # Ok::<(), clv::Error>(())
/// ```
///
/// # Errors
/// [`Error::InvalidOption`] for a level outside (0, 1) or an invalid horizon;
/// [`Error::Numerical`] when the pmf is not finite or has not reached the upper quantile by
/// 10^6 purchases.
pub fn purchase_interval<M: TransactionModel>(
    model: &M,
    c: &Customer,
    t: f64,
    level: f64,
) -> Result<CountInterval> {
    let level = check_level(level)?;
    let t = crate::predict::check_horizon(t)?;
    let (q_lo, q_hi) = ((1.0 - level) / 2.0, (1.0 + level) / 2.0);
    let mut cdf = 0.0;
    let mut low = None;
    for n in 0..=MAX_COUNT {
        let p = model.conditional_pmf(c, n, t);
        if !p.is_finite() {
            return Err(Error::Numerical {
                what: format!("P(Y({t}) = {n}) of {c:?}"),
            });
        }
        cdf += p;
        if low.is_none() && cdf >= q_lo {
            low = Some(n);
        }
        if cdf >= q_hi {
            return Ok(CountInterval {
                low: low.unwrap_or(n),
                high: n,
            });
        }
    }
    Err(Error::Numerical {
        what: format!(
            "the purchases of {c:?} over {t}: the conditional pmf sums to {cdf} by {MAX_COUNT}"
        ),
    })
}

/// [`purchase_interval`] for every customer of a summary, in order (in parallel with the
/// `parallel` feature).
///
/// # Errors
/// As [`purchase_interval`], for the first customer that fails.
pub fn purchase_intervals<M: TransactionModel + Sync>(
    model: &M,
    summary: &RfmSummary,
    t: f64,
    level: f64,
) -> Result<Vec<CountInterval>> {
    check_level(level)?;
    crate::predict::check_horizon(t)?;
    crate::par::map_range(summary.len(), |i| {
        purchase_interval(model, &summary.customer(i), t, level)
    })
    .into_iter()
    .collect()
}

/// The share of customers whose actual holdout purchases lie in their predictive interval at
/// `level` over the holdout window: the check that the intervals mean what they say (about
/// `level` or more, since counts are discrete).
///
/// # Errors
/// [`Error::InvalidOption`] when the summary has no holdout; otherwise as
/// [`purchase_intervals`].
pub fn holdout_coverage<M: TransactionModel + Sync>(
    model: &M,
    summary: &RfmSummary,
    level: f64,
) -> Result<f64> {
    let h = summary.holdout().ok_or(Error::InvalidOption {
        name: "summary",
        reason: "has no holdout period (summarise with an observation end)".into(),
    })?;
    let iv = purchase_intervals(model, summary, h.duration, level)?;
    let inside = iv
        .iter()
        .zip(&h.frequency)
        .filter(|(i, y)| i.contains(**y))
        .count();
    Ok(inside as f64 / summary.len().max(1) as f64)
}
