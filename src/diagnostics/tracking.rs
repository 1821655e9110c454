//! Tracking: repeat transactions per period, observed vs expected, over calibration and
//! holdout (Fader, Hardie & Lee 2005, figure 1: weekly and cumulative repeat transactions).

use crate::data::{Granularity, SummaryOptions, Transaction};
use crate::error::{DataIssue, Error, Result, positive_option};
use crate::models::TransactionModel;
use chrono::{DateTime, NaiveDateTime};
use rustc_hash::FxHashMap;

/// Observed and expected repeat transactions per period. Period `k` covers
/// `[origin + k·period, origin + (k+1)·period)`, clipped at the end of observation; `origin`
/// is the first day any customer made their first purchase.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct Tracking {
    /// Start of each period.
    pub starts: Vec<NaiveDateTime>,
    /// End of each period, in the summary's time unit since the origin.
    pub ends: Vec<f64>,
    /// Observed repeat purchase occasions in each period.
    pub actual: Vec<f64>,
    /// Expected repeat purchases in each period: Σ_i E[X(τ_end - b_i)] - E[X(τ_start - b_i)]
    /// over the customers born (first purchase b_i) by then, eq. (9).
    pub expected: Vec<f64>,
    /// Running totals of `actual`.
    pub cumulative_actual: Vec<f64>,
    /// Running totals of `expected`.
    pub cumulative_expected: Vec<f64>,
    /// The calibration end, in the time unit since the origin (where the holdout starts).
    pub calibration_end: f64,
    /// Customers tracked (those whose first purchase is in the calibration period).
    pub customers: usize,
}

/// Collects purchase occasions to build a [`Tracking`] with the conventions of the summary
/// made from the same log and options (occasions at the options' granularity; customers
/// first seen after the calibration end are not tracked, as they are not in the summary).
/// Memory is proportional to the number of occasions.
///
/// ```
/// use clv::diagnostics::TrackingBuilder;
/// use clv::{BgNbdParams, SummaryOptions, TimeUnit};
/// use chrono::NaiveDate;
/// let d = |m, day| NaiveDate::from_ymd_opt(2024, m, day).unwrap().and_hms_opt(0, 0, 0).unwrap();
/// let opts = SummaryOptions::new(d(1, 31), TimeUnit::Weeks).with_observation_end(d(2, 28)).unwrap();
/// let mut t = TrackingBuilder::new(opts);
/// for (c, day) in [("a", d(1, 1)), ("a", d(1, 9)), ("b", d(1, 3)), ("a", d(2, 10))] {
///     t.push(c, day).unwrap();
/// }
/// let m = BgNbdParams::new(0.243, 4.414, 0.793, 2.426).unwrap();
/// let tr = t.finish(&m, 7.0).unwrap();
/// assert_eq!(tr.actual.iter().sum::<f64>(), 2.0);
/// assert_eq!(tr.customers, 2);
/// ```
#[derive(Debug, Clone)]
pub struct TrackingBuilder {
    granularity: Granularity,
    unit_seconds: f64,
    cal_key: i64,
    end_key: i64,
    end: NaiveDateTime,
    occasions: FxHashMap<String, Vec<i64>>,
}

impl TrackingBuilder {
    /// A builder for the window of `options` (to the observation end when there is one).
    pub fn new(options: SummaryOptions) -> Self {
        let g = options.granularity();
        let end = options
            .observation_end()
            .unwrap_or(options.calibration_end());
        TrackingBuilder {
            granularity: g,
            unit_seconds: options.unit().days() * 86_400.0,
            cal_key: g.floor(options.calibration_end()).and_utc().timestamp(),
            end_key: g.floor(end).and_utc().timestamp(),
            end,
            occasions: FxHashMap::default(),
        }
    }

    /// Adds one transaction; one after the end of observation is an error naming the customer.
    ///
    /// # Errors
    /// [`Error::InvalidData`] for an empty customer id.
    pub fn push(&mut self, customer: &str, time: NaiveDateTime) -> Result<()> {
        let key = self.granularity.floor(time).and_utc().timestamp();
        if key > self.end_key {
            return Err(Error::InvalidData {
                row: None,
                customer: Some(customer.to_string()),
                field: "date",
                issue: DataIssue::AfterObservationEnd {
                    date: time.to_string(),
                    end: self.end.to_string(),
                },
            });
        }
        match self.occasions.get_mut(customer) {
            Some(v) => v.push(key),
            None => {
                self.occasions.insert(customer.to_string(), vec![key]);
            }
        }
        Ok(())
    }

    /// Observed vs expected repeat transactions per period of `period_days` days (7: weekly).
    /// The expectation costs one E[X(t)] per (period, distinct first-purchase time).
    ///
    /// # Errors
    /// [`Error::InvalidOption`] for a period that is not finite and > 0 or no transaction;
    /// [`Error::Numerical`] when an expectation is not finite.
    pub fn finish<M: TransactionModel>(self, model: &M, period_days: f64) -> Result<Tracking> {
        positive_option("period_days", period_days)?;
        let mut births: FxHashMap<i64, f64> = FxHashMap::default();
        let mut repeats: Vec<i64> = Vec::new();
        let mut customers = 0;
        for (_, mut occ) in self.occasions {
            occ.sort_unstable();
            occ.dedup();
            if occ[0] > self.cal_key {
                continue;
            }
            customers += 1;
            *births.entry(occ[0]).or_default() += 1.0;
            repeats.extend_from_slice(&occ[1..]);
        }
        if customers == 0 {
            return Err(Error::EmptyData(
                "no customer made a first purchase in the calibration period",
            ));
        }
        let first = *births.keys().min().expect("non-empty");
        let origin = Granularity::Day
            .floor(
                DateTime::from_timestamp(first, 0)
                    .expect("valid")
                    .naive_utc(),
            )
            .and_utc()
            .timestamp();
        let period = period_days * 86_400.0;
        let span = (self.end_key - origin) as f64;
        let k = ((span / period).ceil() as usize).max(1);
        let bounds: Vec<f64> = (0..=k).map(|i| (i as f64 * period).min(span)).collect();
        let mut actual = vec![0.0; k];
        for r in repeats {
            let i = (((r - origin) as f64 / period) as usize).min(k - 1);
            actual[i] += 1.0;
        }
        let births: Vec<(f64, f64)> = births
            .into_iter()
            .map(|(b, n)| ((b - origin) as f64, n))
            .collect();
        let cumulative = |tau: f64| -> f64 {
            births
                .iter()
                .filter(|(b, _)| *b < tau)
                .map(|(b, n)| n * model.expected_purchases((tau - b) / self.unit_seconds))
                .sum()
        };
        let cum_e: Vec<f64> = bounds[1..].iter().map(|&tau| cumulative(tau)).collect();
        if let Some(bad) = cum_e.iter().find(|v| !v.is_finite()) {
            return Err(Error::Numerical {
                what: format!("expected cumulative repeat transactions ({bad})"),
            });
        }
        let expected: Vec<f64> = (0..k)
            .map(|i| cum_e[i] - if i == 0 { 0.0 } else { cum_e[i - 1] })
            .collect();
        let cumulative_actual = actual
            .iter()
            .scan(0.0, |s, v| {
                *s += v;
                Some(*s)
            })
            .collect();
        Ok(Tracking {
            starts: bounds[..k]
                .iter()
                .map(|&s| {
                    DateTime::from_timestamp(origin + s as i64, 0)
                        .expect("within the log's dates")
                        .naive_utc()
                })
                .collect(),
            ends: bounds[1..].iter().map(|b| b / self.unit_seconds).collect(),
            actual,
            expected,
            cumulative_actual,
            cumulative_expected: cum_e,
            calibration_end: (self.cal_key - origin) as f64 / self.unit_seconds,
            customers,
        })
    }
}

/// [`TrackingBuilder`] over transactions in memory.
///
/// # Errors
/// As [`TrackingBuilder::finish`].
pub fn tracking<M: TransactionModel>(
    transactions: &[Transaction],
    options: SummaryOptions,
    model: &M,
    period_days: f64,
) -> Result<Tracking> {
    let mut b = TrackingBuilder::new(options);
    for t in transactions {
        b.push(&t.customer, t.time)?;
    }
    b.finish(model, period_days)
}
