//! Transaction log → RFM summary, with an optional calibration/holdout split.

use super::{Granularity, Holdout, RfmSummary, TimeUnit};
use crate::error::{DataIssue, Error, Result};
use chrono::{NaiveDate, NaiveDateTime};
use std::collections::HashMap;

/// One purchase: who, when, how much.
///
/// ```
/// use clv::Transaction;
/// use chrono::NaiveDate;
/// let t = Transaction::new("00001", NaiveDate::from_ymd_opt(1997, 1, 1).unwrap(), 29.33);
/// assert_eq!(t.customer, "00001");
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Transaction {
    /// Customer id.
    pub customer: String,
    /// When it happened.
    pub time: NaiveDateTime,
    /// Its value (>= 0).
    pub amount: f64,
}

impl Transaction {
    /// A transaction on a date (midnight) or at a date-time.
    pub fn new(customer: impl Into<String>, time: impl Into<When>, amount: f64) -> Self {
        Transaction {
            customer: customer.into(),
            time: time.into().0,
            amount,
        }
    }
}

/// A date or date-time (for [`Transaction::new`]).
#[derive(Debug, Clone, Copy)]
pub struct When(NaiveDateTime);
impl From<NaiveDate> for When {
    fn from(d: NaiveDate) -> Self {
        When(d.and_hms_opt(0, 0, 0).expect("midnight"))
    }
}
impl From<NaiveDateTime> for When {
    fn from(t: NaiveDateTime) -> Self {
        When(t)
    }
}

/// How to summarise: the end of calibration (inclusive: an occasion starting at or before it is
/// in calibration), an optional end of observation (inclusive) for a holdout window, the time
/// unit, and the purchase-occasion granularity.
///
/// ```
/// use clv::{SummaryOptions, TimeUnit};
/// use chrono::NaiveDate;
/// let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
/// let opts = SummaryOptions::new(d(1997, 9, 30), TimeUnit::Weeks)
///     .with_observation_end(d(1998, 6, 30))
///     .unwrap();
/// assert!(opts.with_observation_end(d(1997, 1, 1)).is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SummaryOptions {
    calibration_end: NaiveDateTime,
    observation_end: Option<NaiveDateTime>,
    unit: TimeUnit,
    granularity: Granularity,
}

impl SummaryOptions {
    /// Calibration ending on `calibration_end` (a date or date-time), daily occasions.
    pub fn new(calibration_end: impl Into<When>, unit: TimeUnit) -> Self {
        SummaryOptions {
            calibration_end: calibration_end.into().0,
            observation_end: None,
            unit,
            granularity: Granularity::Day,
        }
    }

    /// Adds a holdout window ending at `end`, which must not precede the calibration end.
    pub fn with_observation_end(mut self, end: impl Into<When>) -> Result<Self> {
        let end = end.into().0;
        if end < self.calibration_end {
            return Err(Error::InvalidOption {
                name: "observation end",
                reason: format!(
                    "{end} is before the calibration end {}",
                    self.calibration_end
                ),
            });
        }
        self.observation_end = Some(end);
        Ok(self)
    }

    /// Sets which transactions form one purchase occasion.
    pub fn with_granularity(mut self, g: Granularity) -> Self {
        self.granularity = g;
        self
    }

    /// The calibration end.
    pub fn calibration_end(&self) -> NaiveDateTime {
        self.calibration_end
    }
    /// The observation end, if any.
    pub fn observation_end(&self) -> Option<NaiveDateTime> {
        self.observation_end
    }
    /// The time unit.
    pub fn unit(&self) -> TimeUnit {
        self.unit
    }
    /// The occasion granularity.
    pub fn granularity(&self) -> Granularity {
        self.granularity
    }
}

/// The result of summarising: the calibration summary and the customers that could not be in
/// it because their first purchase falls in the holdout window (reported, never dropped
/// silently).
#[derive(Debug, Clone, PartialEq)]
pub struct Summarized {
    /// One row per customer whose first purchase is in the calibration period.
    pub summary: RfmSummary,
    /// Customers first seen after the calibration end (in the holdout window).
    pub first_seen_in_holdout: Vec<String>,
    /// Realised history of the summary's customers (same order): acquisition date and spend.
    pub history: History,
}

/// What each customer of a summary has already done: when they were acquired and what they
/// have spent in the calibration period, first purchase included — the "historical CLV" to put
/// beside the predicted one (see [`crate::history`]).
#[derive(Debug, Clone, PartialEq)]
pub struct History {
    /// Start of the first purchase occasion.
    pub first_purchase: Vec<NaiveDateTime>,
    /// Total spend in the calibration period, all occasions.
    pub calibration_spend: Vec<f64>,
}

/// Summarises a slice of transactions; see [`SummaryBuilder`] for the streaming form.
///
/// Conventions (those of the CDNOW summary in Fader, Hardie & Lee 2005): transactions in the same
/// occasion (by default the same day) are one purchase with their amounts summed; `x` = number
/// of occasions in calibration minus one; `t_x` = last occasion - first occasion; `T` =
/// calibration end - first occasion; the monetary value is the mean value of the *repeat*
/// occasions (the first is left out), 0 when x = 0.
///
/// ```
/// use clv::{summarize, SummaryOptions, TimeUnit, Transaction};
/// use chrono::NaiveDate;
/// let d = |m, day| NaiveDate::from_ymd_opt(1997, m, day).unwrap();
/// let tx = vec![
///     Transaction::new("a", d(1, 1), 10.0),
///     Transaction::new("a", d(1, 1), 5.0),  // same day: same occasion
///     Transaction::new("a", d(1, 15), 20.0),
///     Transaction::new("b", d(1, 8), 7.0),
/// ];
/// let out = summarize(&tx, &SummaryOptions::new(d(1, 29), TimeUnit::Weeks)).unwrap();
/// let s = out.summary;
/// assert_eq!(s.frequency(), &[1.0, 0.0]);
/// assert_eq!(s.recency(), &[2.0, 0.0]);
/// assert_eq!(s.age(), &[4.0, 3.0]);
/// assert_eq!(s.monetary_value().unwrap(), &[20.0, 0.0]);
/// ```
pub fn summarize(transactions: &[Transaction], options: &SummaryOptions) -> Result<Summarized> {
    let mut b = SummaryBuilder::new(*options);
    for (i, t) in transactions.iter().enumerate() {
        b.push(i + 1, &t.customer, t.time, t.amount)?;
    }
    b.finish()
}

#[derive(Debug, Default)]
struct Account {
    /// (occasion start in seconds since the epoch, amount)
    occasions: Vec<(i64, f64)>,
}

/// Streaming summariser: push transactions one at a time (in any order), then
/// [`finish`](SummaryBuilder::finish). Memory grows with customers and their purchase
/// occasions, not with the raw rows of a file.
#[derive(Debug)]
pub struct SummaryBuilder {
    options: SummaryOptions,
    cal_key: i64,
    obs_key: Option<i64>,
    index: HashMap<String, usize>,
    ids: Vec<String>,
    accounts: Vec<Account>,
}

impl SummaryBuilder {
    /// An empty builder.
    pub fn new(options: SummaryOptions) -> Self {
        let g = options.granularity;
        SummaryBuilder {
            cal_key: g.floor(options.calibration_end).and_utc().timestamp(),
            obs_key: options
                .observation_end
                .map(|t| g.floor(t).and_utc().timestamp()),
            options,
            index: HashMap::new(),
            ids: Vec::new(),
            accounts: Vec::new(),
        }
    }

    /// Adds one transaction; `row` (1-based) is only used in error messages.
    pub fn push(
        &mut self,
        row: usize,
        customer: &str,
        time: NaiveDateTime,
        amount: f64,
    ) -> Result<()> {
        let err = |field, issue| Error::InvalidData {
            row: Some(row),
            customer: Some(customer.to_string()),
            field,
            issue,
        };
        if !amount.is_finite() {
            return Err(err("amount", DataIssue::NotFinite(amount)));
        }
        if amount < 0.0 {
            return Err(err("amount", DataIssue::Negative(amount)));
        }
        let key = self.options.granularity.floor(time).and_utc().timestamp();
        match self.obs_key {
            Some(end) if key > end => {
                return Err(err(
                    "date",
                    DataIssue::AfterObservationEnd {
                        date: time.to_string(),
                        end: self.options.observation_end.expect("set").to_string(),
                    },
                ));
            }
            None if key > self.cal_key => {
                return Err(err(
                    "date",
                    DataIssue::AfterCalibrationEnd {
                        date: time.to_string(),
                        end: self.options.calibration_end.to_string(),
                    },
                ));
            }
            _ => {}
        }
        let idx = match self.index.get(customer) {
            Some(&i) => i,
            None => {
                let i = self.ids.len();
                self.index.insert(customer.to_string(), i);
                self.ids.push(customer.to_string());
                self.accounts.push(Account::default());
                i
            }
        };
        self.accounts[idx].occasions.push((key, amount));
        Ok(())
    }

    /// Number of distinct customers seen so far.
    pub fn customers(&self) -> usize {
        self.ids.len()
    }

    /// Builds the summary (customers in order of first appearance).
    pub fn finish(self) -> Result<Summarized> {
        if self.ids.is_empty() {
            return Err(Error::EmptyData("no transactions"));
        }
        let unit = self.options.unit;
        let n = self.ids.len();
        let (mut ids, mut x, mut t_x, mut t, mut m) = (
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
        );
        let (mut hx, mut hm) = (Vec::new(), Vec::new());
        let (mut first_purchase, mut calibration_spend) =
            (Vec::with_capacity(n), Vec::with_capacity(n));
        let mut first_seen_in_holdout = Vec::new();
        for (id, mut acc) in self.ids.into_iter().zip(self.accounts) {
            acc.occasions.sort_by_key(|o| o.0);
            // merge transactions of the same occasion
            let mut occ: Vec<(i64, f64)> = Vec::with_capacity(acc.occasions.len());
            for (k, a) in acc.occasions {
                match occ.last_mut() {
                    Some(last) if last.0 == k => last.1 += a,
                    _ => occ.push((k, a)),
                }
            }
            let n_cal = occ.partition_point(|o| o.0 <= self.cal_key);
            if n_cal == 0 {
                first_seen_in_holdout.push(id);
                continue;
            }
            let (cal, hold) = occ.split_at(n_cal);
            let first = cal[0].0;
            let last = cal[n_cal - 1].0;
            ids.push(id);
            x.push((n_cal - 1) as f64);
            t_x.push(unit.from_seconds(last - first));
            t.push(unit.from_seconds(self.cal_key - first));
            let repeat: f64 = cal[1..].iter().map(|o| o.1).sum();
            first_purchase.push(
                chrono::DateTime::from_timestamp(first, 0)
                    .expect("from a date")
                    .naive_utc(),
            );
            calibration_spend.push(repeat + cal[0].1);
            m.push(if n_cal > 1 {
                repeat / (n_cal - 1) as f64
            } else {
                0.0
            });
            if self.obs_key.is_some() {
                hx.push(hold.len() as f64);
                let spend: f64 = hold.iter().map(|o| o.1).sum();
                hm.push(if hold.is_empty() {
                    0.0
                } else {
                    spend / hold.len() as f64
                });
            }
        }
        if ids.is_empty() {
            return Err(Error::EmptyData(
                "every customer's first purchase is after the calibration end",
            ));
        }
        let mut summary = RfmSummary::new(ids, x, t_x, t, unit)?.with_monetary_value(m)?;
        if let Some(obs) = self.obs_key {
            let duration = unit.from_seconds(obs - self.cal_key);
            if duration > 0.0 {
                summary = summary.with_holdout(Holdout {
                    frequency: hx,
                    monetary_value: hm,
                    duration,
                })?;
            }
        }
        Ok(Summarized {
            summary,
            first_seen_in_holdout,
            history: History {
                first_purchase,
                calibration_spend,
            },
        })
    }
}
