//! Calibration vs holdout: the model's holdout predictions, computed once, against what the
//! customers did, by group and per customer.

use super::at_least_one;
use crate::data::RfmSummary;
use crate::error::Result;
use crate::models::TransactionModel;
use crate::predict::holdout_expected;

/// A summary with a holdout and the model's E[Y(holdout) | x, t_x, T] for each of its
/// customers (computed once, for every table below).
///
/// ```
/// use clv::{diagnostics::HoldoutComparison, BgNbdParams, Holdout, RfmSummary, TimeUnit};
/// let s = RfmSummary::new(vec!["a".into(), "b".into()], vec![0.0, 3.0], vec![0.0, 30.0], vec![39.0, 39.0], TimeUnit::Weeks)
///     .unwrap()
///     .with_holdout(Holdout { frequency: vec![0.0, 2.0], monetary_value: vec![0.0, 0.0], duration: 39.0 })
///     .unwrap();
/// let m = BgNbdParams::new(0.243, 4.414, 0.793, 2.426).unwrap();
/// let h = HoldoutComparison::new(&m, &s).unwrap();
/// assert_eq!(h.by_frequency(2).unwrap().len(), 3);
/// assert_eq!(h.fit().total_actual, 2.0);
/// ```
#[derive(Debug, Clone)]
pub struct HoldoutComparison<'a> {
    summary: &'a RfmSummary,
    actual: &'a [f64],
    predicted: Vec<f64>,
}

impl<'a> HoldoutComparison<'a> {
    /// Predicts every customer's holdout purchases; the summary must have a holdout.
    ///
    /// # Errors
    /// [`Error::InvalidOption`](crate::Error::InvalidOption) when the summary has no holdout; [`Error::Numerical`](crate::Error::Numerical) naming the
    /// first customer whose expectation is not finite.
    pub fn new<M: TransactionModel + Clone + Send + Sync + 'static>(
        model: &M,
        summary: &'a RfmSummary,
    ) -> Result<Self> {
        let predicted = holdout_expected(model, summary)?;
        let actual = &summary
            .holdout()
            .expect("checked by holdout_expected")
            .frequency;
        Ok(HoldoutComparison {
            summary,
            actual,
            predicted,
        })
    }

    /// The predictions, aligned with the summary.
    pub fn predicted(&self) -> &[f64] {
        &self.predicted
    }

    fn groups(&self, labels: Vec<String>, key: impl Fn(usize) -> usize) -> Vec<HoldoutGroup> {
        let k = labels.len();
        let (mut count, mut sa, mut sp) = (vec![0usize; k], vec![0.0; k], vec![0.0; k]);
        for i in 0..self.summary.len() {
            let g = key(i);
            count[g] += 1;
            sa[g] += self.actual[i];
            sp[g] += self.predicted[i];
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

    /// By calibration frequency: see [`holdout_by_frequency`].
    ///
    /// # Errors
    /// [`Error::InvalidOption`](crate::Error::InvalidOption) unless 1 <= `max_frequency` <= [`super::MAX_BINS`].
    pub fn by_frequency(&self, max_frequency: usize) -> Result<Vec<HoldoutGroup>> {
        at_least_one("max_frequency", max_frequency)?;
        let mut labels: Vec<String> = (0..max_frequency).map(|f| f.to_string()).collect();
        labels.push(format!("{max_frequency}+"));
        let x = self.summary.frequency();
        Ok(self.groups(labels, |i| (x[i] as usize).min(max_frequency)))
    }

    /// By recency: see [`holdout_by_recency`].
    ///
    /// # Errors
    /// [`Error::InvalidOption`](crate::Error::InvalidOption) unless 1 <= `bins` <= [`super::MAX_BINS`].
    pub fn by_recency(&self, bins: usize) -> Result<Vec<HoldoutGroup>> {
        at_least_one("bins", bins)?;
        let (x, tx) = (self.summary.frequency(), self.summary.recency());
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
        Ok(self.groups(labels, |i| {
            if x[i] == 0.0 {
                0
            } else {
                1 + ((tx[i] / width) as usize).min(bins - 1)
            }
        }))
    }

    /// Per-customer and aggregate accuracy: see [`holdout_fit`].
    pub fn fit(&self) -> GoodnessOfFit {
        let (a, p) = (self.actual, &self.predicted);
        let n = a.len() as f64;
        let (ta, tp) = (a.iter().sum::<f64>(), p.iter().sum::<f64>());
        let (ma, mp) = (ta / n, tp / n);
        let (mut abs, mut sq, mut cov, mut va, mut vp) = (0.0, 0.0, 0.0, 0.0, 0.0);
        for (&ai, &pi) in a.iter().zip(p) {
            abs += (pi - ai).abs();
            sq += (pi - ai) * (pi - ai);
            cov += (ai - ma) * (pi - mp);
            va += (ai - ma) * (ai - ma);
            vp += (pi - mp) * (pi - mp);
        }
        GoodnessOfFit {
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
        }
    }
}

/// One group of customers: how many, and their mean actual and predicted holdout purchases.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
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

/// How well per-customer holdout predictions match what happened.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
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
///
/// # Errors
/// As [`HoldoutComparison::new`] and [`HoldoutComparison::by_frequency`].
pub fn holdout_by_frequency<M: TransactionModel + Clone + Send + Sync + 'static>(
    model: &M,
    summary: &RfmSummary,
    max_frequency: usize,
) -> Result<Vec<HoldoutGroup>> {
    HoldoutComparison::new(model, summary)?.by_frequency(max_frequency)
}

/// Mean actual vs predicted holdout purchases by recency t_x, in `bins` equal-width bins over
/// [0, max t_x] (the last bin closed); customers with no repeat purchase (x = 0, t_x = 0) form
/// their own first group, `"x = 0"`.
///
/// # Errors
/// As [`HoldoutComparison::new`] and [`HoldoutComparison::by_recency`].
pub fn holdout_by_recency<M: TransactionModel + Clone + Send + Sync + 'static>(
    model: &M,
    summary: &RfmSummary,
    bins: usize,
) -> Result<Vec<HoldoutGroup>> {
    HoldoutComparison::new(model, summary)?.by_recency(bins)
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
///
/// # Errors
/// As [`HoldoutComparison::new`].
pub fn holdout_fit<M: TransactionModel + Clone + Send + Sync + 'static>(
    model: &M,
    summary: &RfmSummary,
) -> Result<GoodnessOfFit> {
    Ok(HoldoutComparison::new(model, summary)?.fit())
}
