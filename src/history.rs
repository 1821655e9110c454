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
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
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
    /// Share of the cohort with at least one repeat purchase in calibration (with a summary).
    pub repeat_rate: Option<f64>,
    /// 1 - mean P(alive) over the cohort (with P(alive) values): the model's expected share
    /// no longer alive. BG/NBD gives one-time buyers P(alive) = 1, so for a cohort of mostly
    /// one-time buyers this is near 0 whatever their silence; see `likely_churned_rate`.
    pub churn_rate: Option<f64>,
    /// Share of the cohort in the "likely churned" lifecycle stage under the default
    /// [`StageRules`](crate::segments::StageRules) (low P(alive), or silent for more than 4 of
    /// their expected inter-purchase gaps), with a summary and P(alive).
    pub likely_churned_rate: Option<f64>,
    /// Share of the cohort with at least one purchase in the holdout period, when the summary
    /// has one (what happened after the calibration end).
    pub holdout_active_rate: Option<f64>,
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
///
/// # Errors
/// [`Error::InvalidOption`] for value columns not aligned with the history.
pub fn cohort_values(
    history: &History,
    period: CohortPeriod,
    predicted: Option<&[f64]>,
) -> Result<Vec<CohortValue>> {
    cohort_table(history, period, None, None, predicted)
}

/// The full cohort table: [`cohort_values`] plus each cohort's repeat-purchase rate (from the
/// summary the history came from) and churn rate, 1 - mean P(alive) (`p_alive` aligned with
/// the summary).
///
/// ```
/// use clv::{summarize, BgNbdParams, SummaryOptions, TimeUnit, Transaction, TransactionModel};
/// use clv::history::{cohorts, CohortPeriod};
/// use chrono::NaiveDate;
/// let d = |m, day| NaiveDate::from_ymd_opt(1997, m, day).unwrap();
/// let tx = vec![
///     Transaction::new("a", d(1, 5), 10.0),
///     Transaction::new("a", d(2, 1), 20.0),
///     Transaction::new("b", d(1, 7), 7.0),
///     Transaction::new("c", d(2, 7), 7.0),
/// ];
/// let out = summarize(&tx, &SummaryOptions::new(d(3, 31), TimeUnit::Weeks)).unwrap();
/// let m = BgNbdParams::new(0.243, 4.414, 0.793, 2.426).unwrap();
/// let pa: Vec<f64> = out.summary.customers().map(|c| m.p_alive(&c)).collect();
/// let rows = cohorts(&out.history, &out.summary, CohortPeriod::Month, &pa, None).unwrap();
/// assert_eq!((rows[0].cohort.as_str(), rows[0].customers), ("1997-01", 2));
/// assert_eq!(rows[0].repeat_rate, Some(0.5));
/// assert!(rows[0].churn_rate.unwrap() > 0.0);
/// ```
///
/// # Errors
/// [`Error::InvalidOption`] for P(alive) or value columns not aligned with the summary.
pub fn cohorts(
    history: &History,
    summary: &RfmSummary,
    period: CohortPeriod,
    p_alive: &[f64],
    predicted: Option<&[f64]>,
) -> Result<Vec<CohortValue>> {
    cohort_table(history, period, Some(summary), Some(p_alive), predicted)
}

fn cohort_table(
    history: &History,
    period: CohortPeriod,
    summary: Option<&RfmSummary>,
    p_alive: Option<&[f64]>,
    predicted: Option<&[f64]>,
) -> Result<Vec<CohortValue>> {
    let n = history.first_purchase.len();
    for (name, len) in [
        ("predicted", predicted.map(<[f64]>::len)),
        ("p_alive", p_alive.map(<[f64]>::len)),
        ("summary", summary.map(RfmSummary::len)),
    ] {
        if let Some(len) = len
            && len != n
        {
            return Err(Error::InvalidOption {
                name,
                reason: format!("{len} values for {n} customers"),
            });
        }
    }
    #[derive(Default)]
    struct Acc {
        k: usize,
        hist: f64,
        pred: f64,
        repeat: usize,
        alive: f64,
        churned: usize,
        holdout_active: usize,
    }
    let stages = match (summary, p_alive) {
        (Some(s), Some(p)) => Some(crate::segments::StageRules::default().stages(s, p)?),
        _ => None,
    };
    let holdout = summary.and_then(RfmSummary::holdout);
    let mut groups: std::collections::BTreeMap<String, Acc> = Default::default();
    for i in 0..n {
        let e = groups
            .entry(period.label(history.first_purchase[i]))
            .or_default();
        e.k += 1;
        e.hist += history.calibration_spend[i];
        e.pred += predicted.map_or(0.0, |p| p[i]);
        e.repeat += summary.is_some_and(|s| s.frequency()[i] > 0.0) as usize;
        e.alive += p_alive.map_or(0.0, |p| p[i]);
        e.churned += stages
            .as_ref()
            .is_some_and(|st| st[i] == crate::segments::Stage::LikelyChurned)
            as usize;
        e.holdout_active += holdout.as_ref().is_some_and(|h| h.frequency[i] > 0.0) as usize;
    }
    Ok(groups
        .into_iter()
        .map(|(cohort, a)| {
            let k = a.k as f64;
            CohortValue {
                cohort,
                customers: a.k,
                historical_total: a.hist,
                historical_mean: a.hist / k,
                predicted_total: predicted.map(|_| a.pred),
                predicted_mean: predicted.map(|_| a.pred / k),
                repeat_rate: summary.map(|_| a.repeat as f64 / k),
                churn_rate: p_alive.map(|_| 1.0 - a.alive / k),
                likely_churned_rate: stages.as_ref().map(|_| a.churned as f64 / k),
                holdout_active_rate: holdout.as_ref().map(|_| a.holdout_active as f64 / k),
            }
        })
        .collect())
}

/// Realised spend per customer of a summary built from transactions: the history's
/// calibration spend, checked to be aligned with `summary`.
///
/// # Errors
/// [`Error::InvalidOption`] when the history and the summary hold different customers.
pub fn customer_values<'a>(history: &'a History, summary: &RfmSummary) -> Result<&'a [f64]> {
    if history.calibration_spend.len() != summary.len() {
        return Err(Error::InvalidOption {
            name: "history",
            reason: "does not belong to this summary (different number of customers)".into(),
        });
    }
    Ok(&history.calibration_spend)
}
