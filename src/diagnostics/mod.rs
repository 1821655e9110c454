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
//!   and cumulative, over calibration and holdout.

mod tracking;

pub use tracking::{Tracking, TrackingBuilder, tracking};

use crate::data::{Customer, RfmSummary};
use crate::error::{Error, Result, positive_option};
use crate::models::TransactionModel;
use crate::predict::holdout_expected;
use serde::Serialize;

/// One group of customers: how many, and their mean actual and predicted holdout purchases.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HoldoutGroup {
    /// The group (`"0"`, `"1"`, ..., `"7+"`, or a recency range `"[0, 4.2)"`).
    pub label: String,
    /// Customers in the group.
    pub customers: usize,
    /// Mean observed holdout purchases.
    pub actual: f64,
    /// Mean E[Y(holdout) | x, t_x, T] under the model.
    pub predicted: f64,
}

fn groups(
    labels: Vec<String>,
    key: impl Fn(usize) -> usize,
    n: usize,
    actual: &[f64],
    predicted: &[f64],
) -> Vec<HoldoutGroup> {
    let k = labels.len();
    let (mut count, mut sa, mut sp) = (vec![0usize; k], vec![0.0; k], vec![0.0; k]);
    for i in 0..n {
        let g = key(i);
        count[g] += 1;
        sa[g] += actual[i];
        sp[g] += predicted[i];
    }
    labels
        .into_iter()
        .enumerate()
        .map(|(g, label)| {
            let c = count[g].max(1) as f64;
            HoldoutGroup {
                label,
                customers: count[g],
                actual: sa[g] / c,
                predicted: sp[g] / c,
            }
        })
        .collect()
}

fn holdout_columns<M: TransactionModel + Sync>(
    model: &M,
    s: &RfmSummary,
) -> Result<(Vec<f64>, Vec<f64>)> {
    let predicted = holdout_expected(model, s)?;
    let actual = s
        .holdout()
        .expect("checked by holdout_expected")
        .frequency
        .clone();
    Ok((actual, predicted))
}

/// Mean actual vs predicted holdout purchases by calibration frequency: groups `0`, `1`, ...,
/// `max_frequency - 1` and `max_frequency+` (Fader, Hardie & Lee 2005, figure 4 uses 0..7+).
/// Empty groups have `customers = 0` and means 0. Needs a summary with a holdout.
///
/// ```
/// use clv::{diagnostics::holdout_by_frequency, BgNbdParams, Holdout, RfmSummary, TimeUnit};
/// let s = RfmSummary::new(vec!["a".into(), "b".into()], vec![0.0, 3.0], vec![0.0, 30.0], vec![39.0, 39.0], TimeUnit::Weeks)
///     .unwrap()
///     .with_holdout(Holdout { frequency: vec![0.0, 2.0], monetary_value: vec![0.0, 0.0], duration: 39.0 })
///     .unwrap();
/// let m = BgNbdParams::new(0.243, 4.414, 0.793, 2.426).unwrap();
/// let g = holdout_by_frequency(&m, &s, 2).unwrap();
/// assert_eq!(g.iter().map(|g| g.label.as_str()).collect::<Vec<_>>(), ["0", "1", "2+"]);
/// assert_eq!((g[2].customers, g[2].actual), (1, 2.0));
/// ```
pub fn holdout_by_frequency<M: TransactionModel + Sync>(
    model: &M,
    summary: &RfmSummary,
    max_frequency: usize,
) -> Result<Vec<HoldoutGroup>> {
    if max_frequency == 0 {
        return Err(Error::InvalidOption {
            name: "max_frequency",
            reason: "must be at least 1".into(),
        });
    }
    let (actual, predicted) = holdout_columns(model, summary)?;
    let mut labels: Vec<String> = (0..max_frequency).map(|f| f.to_string()).collect();
    labels.push(format!("{max_frequency}+"));
    let x = summary.frequency();
    Ok(groups(
        labels,
        |i| (x[i] as usize).min(max_frequency),
        summary.len(),
        &actual,
        &predicted,
    ))
}

/// Mean actual vs predicted holdout purchases by recency t_x, in `bins` equal-width bins over
/// [0, max t_x] (the last bin closed); customers with no repeat purchase (x = 0, t_x = 0) form
/// their own first group, `"x = 0"`.
pub fn holdout_by_recency<M: TransactionModel + Sync>(
    model: &M,
    summary: &RfmSummary,
    bins: usize,
) -> Result<Vec<HoldoutGroup>> {
    if bins == 0 {
        return Err(Error::InvalidOption {
            name: "bins",
            reason: "must be at least 1".into(),
        });
    }
    let (actual, predicted) = holdout_columns(model, summary)?;
    let (x, tx) = (summary.frequency(), summary.recency());
    let hi = tx.iter().copied().fold(0.0, f64::max);
    let width = if hi > 0.0 { hi / bins as f64 } else { 1.0 };
    let mut labels = vec!["x = 0".to_string()];
    labels.extend((0..bins).map(|b| {
        let (lo, up) = (b as f64 * width, (b + 1) as f64 * width);
        if b + 1 == bins {
            format!("[{lo:.1}, {up:.1}]")
        } else {
            format!("[{lo:.1}, {up:.1})")
        }
    }));
    Ok(groups(
        labels,
        |i| {
            if x[i] == 0.0 {
                0
            } else {
                1 + ((tx[i] / width) as usize).min(bins - 1)
            }
        },
        summary.len(),
        &actual,
        &predicted,
    ))
}

/// How well per-customer holdout predictions match what happened.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct GoodnessOfFit {
    /// Customers compared.
    pub customers: usize,
    /// Mean absolute error of E[Y(holdout)] against the observed count.
    pub mae: f64,
    /// Root mean squared error.
    pub rmse: f64,
    /// Pearson correlation between predicted and observed counts (NaN when either is constant).
    pub correlation: f64,
    /// Total observed holdout purchases.
    pub total_actual: f64,
    /// Total predicted holdout purchases.
    pub total_predicted: f64,
    /// (total predicted - total actual) / total actual (NaN when nothing was observed).
    pub aggregate_error: f64,
}

/// Per-customer and aggregate accuracy of the holdout predictions.
///
/// ```
/// use clv::{diagnostics::holdout_fit, BgNbdParams, Holdout, RfmSummary, TimeUnit};
/// let s = RfmSummary::new(vec!["a".into(), "b".into()], vec![0.0, 3.0], vec![0.0, 30.0], vec![39.0, 39.0], TimeUnit::Weeks)
///     .unwrap()
///     .with_holdout(Holdout { frequency: vec![0.0, 2.0], monetary_value: vec![0.0, 0.0], duration: 39.0 })
///     .unwrap();
/// let m = BgNbdParams::new(0.243, 4.414, 0.793, 2.426).unwrap();
/// let g = holdout_fit(&m, &s).unwrap();
/// assert_eq!(g.total_actual, 2.0);
/// assert!(g.rmse >= g.mae && g.correlation > 0.99);
/// ```
pub fn holdout_fit<M: TransactionModel + Sync>(
    model: &M,
    summary: &RfmSummary,
) -> Result<GoodnessOfFit> {
    let (a, p) = holdout_columns(model, summary)?;
    let n = a.len() as f64;
    let (ta, tp) = (a.iter().sum::<f64>(), p.iter().sum::<f64>());
    let (ma, mp) = (ta / n, tp / n);
    let (mut abs, mut sq, mut cov, mut va, mut vp) = (0.0, 0.0, 0.0, 0.0, 0.0);
    for (&ai, &pi) in a.iter().zip(&p) {
        abs += (pi - ai).abs();
        sq += (pi - ai) * (pi - ai);
        cov += (ai - ma) * (pi - mp);
        va += (ai - ma) * (ai - ma);
        vp += (pi - mp) * (pi - mp);
    }
    Ok(GoodnessOfFit {
        customers: a.len(),
        mae: abs / n,
        rmse: (sq / n).sqrt(),
        correlation: if va > 0.0 && vp > 0.0 {
            cov / (va * vp).sqrt()
        } else {
            f64::NAN
        },
        total_actual: ta,
        total_predicted: tp,
        aggregate_error: if ta > 0.0 { (tp - ta) / ta } else { f64::NAN },
    })
}

/// Customers by number of calibration repeat purchases (0, 1, ..., N+).
#[derive(Debug, Clone, PartialEq, Serialize)]
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
pub fn period_transactions<M: TransactionModel>(
    model: &M,
    summary: &RfmSummary,
    max_frequency: usize,
    simulated: Option<&RfmSummary>,
) -> Result<PeriodTransactions> {
    if max_frequency == 0 {
        return Err(Error::InvalidOption {
            name: "max_frequency",
            reason: "must be at least 1".into(),
        });
    }
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
#[derive(Debug, Clone, PartialEq, Serialize)]
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
        if recency_steps == 0 {
            return Err(Error::InvalidOption {
                name: "recency_steps",
                reason: "must be at least 1".into(),
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
