//! Historical value: realised spend per customer and per acquisition cohort, to put beside the
//! predicted CLV.

use crate::data::{History, RfmSummary};
use crate::error::{Error, Result};
use chrono::{Datelike, NaiveDateTime};

/// How customers are grouped into acquisition cohorts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CohortPeriod {
    /// Calendar month of the first purchase (`YYYY-MM`).
    Month,
    /// ISO week of the first purchase (`YYYY-Www`).
    Week,
}

impl CohortPeriod {
    /// The cohort label of a first-purchase time.
    ///
    /// ```
    /// use clv::history::CohortPeriod;
    /// let t = chrono::NaiveDate::from_ymd_opt(1997, 1, 1).unwrap().and_hms_opt(0, 0, 0).unwrap();
    /// assert_eq!(CohortPeriod::Month.label(t), "1997-01");
    /// assert_eq!(CohortPeriod::Week.label(t), "1997-W01");
    /// ```
    pub fn label(self, t: NaiveDateTime) -> String {
        match self {
            CohortPeriod::Month => format!("{:04}-{:02}", t.year(), t.month()),
            CohortPeriod::Week => {
                let w = t.iso_week();
                format!("{:04}-W{:02}", w.year(), w.week())
            }
        }
    }
}

/// One cohort's historical and (optionally) predicted value.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct CohortValue {
    /// Cohort label.
    pub cohort: String,
    /// Customers acquired in it.
    pub customers: usize,
    /// Realised spend to the calibration end (all purchases, first included).
    pub historical_total: f64,
    /// Mean realised spend per customer.
    pub historical_mean: f64,
    /// Sum of the customers' predicted CLV, when given.
    pub predicted_total: Option<f64>,
    /// Mean predicted CLV per customer, when given.
    pub predicted_mean: Option<f64>,
}

/// Historical (and, with `predicted`, predictive) value per acquisition cohort, in cohort order.
/// `predicted` must be aligned with the summary the history came from.
///
/// ```
/// use clv::{summarize, SummaryOptions, TimeUnit, Transaction};
/// use clv::history::{cohort_values, CohortPeriod};
/// use chrono::NaiveDate;
/// let d = |m, day| NaiveDate::from_ymd_opt(1997, m, day).unwrap();
/// let tx = vec![
///     Transaction::new("a", d(1, 5), 10.0),
///     Transaction::new("a", d(2, 1), 20.0),
///     Transaction::new("b", d(2, 7), 7.0),
/// ];
/// let out = summarize(&tx, &SummaryOptions::new(d(3, 31), TimeUnit::Weeks)).unwrap();
/// let rows = cohort_values(&out.history, CohortPeriod::Month, Some(&[100.0, 50.0])).unwrap();
/// assert_eq!(rows[0].cohort, "1997-01");
/// assert_eq!(rows[0].historical_total, 30.0);
/// assert_eq!(rows[1].predicted_total, Some(50.0));
/// ```
pub fn cohort_values(
    history: &History,
    period: CohortPeriod,
    predicted: Option<&[f64]>,
) -> Result<Vec<CohortValue>> {
    let n = history.first_purchase.len();
    if let Some(p) = predicted
        && p.len() != n
    {
        return Err(Error::InvalidOption {
            name: "predicted",
            reason: format!("{} values for {n} customers", p.len()),
        });
    }
    let mut groups: std::collections::BTreeMap<String, (usize, f64, f64)> = Default::default();
    for i in 0..n {
        let e = groups
            .entry(period.label(history.first_purchase[i]))
            .or_default();
        e.0 += 1;
        e.1 += history.calibration_spend[i];
        e.2 += predicted.map_or(0.0, |p| p[i]);
    }
    Ok(groups
        .into_iter()
        .map(|(cohort, (k, h, p))| CohortValue {
            cohort,
            customers: k,
            historical_total: h,
            historical_mean: h / k as f64,
            predicted_total: predicted.map(|_| p),
            predicted_mean: predicted.map(|_| p / k as f64),
        })
        .collect())
}

/// Realised spend per customer of a summary built from transactions: the history's
/// calibration spend, checked to be aligned with `summary`.
pub fn customer_values<'a>(history: &'a History, summary: &RfmSummary) -> Result<&'a [f64]> {
    if history.calibration_spend.len() != summary.len() {
        return Err(Error::InvalidOption {
            name: "history",
            reason: "does not belong to this summary (different number of customers)".into(),
        });
    }
    Ok(&history.calibration_spend)
}
