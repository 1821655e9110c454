//! Transaction logs to discrete-time histories (BG/BB's input): each calendar period with at
//! least one transaction is one transaction at that opportunity.
//!
//! The rules, as in Fader, Hardie & Shang (2010), where a donor's first donation year is the
//! birth and each later year is one opportunity:
//! - a period is a calendar day, an ISO week (Monday to Sunday), a calendar month or a
//!   calendar year ([`Opportunity`]); only the date of a transaction counts, not its time of
//!   day, its amount or how many transactions share the period;
//! - a customer's birth is the period of the first transaction; it is not an opportunity;
//! - n = the number of periods after the birth up to and including the period holding the
//!   calibration end (so end the calibration on the last day of a period for every opportunity
//!   to be complete; [`DiscreteOutcome::end_is_partial`] says when it is not);
//! - x = the number of those n periods with at least one transaction; t_x = the last of them,
//!   counted from the birth (0 when x = 0);
//! - customers born after the calibration end's period are not in the summary; they are
//!   counted in [`DiscreteOutcome::born_later`];
//! - with an observation end, the holdout: the periods after the calibration end's period up
//!   to and including the observation end's, and per customer the number of them with a
//!   transaction. Without one, a transaction after the calibration end is an error.

use super::TimeUnit;
use crate::error::{DataIssue, Error, Result};
use crate::models::bgbb::DiscreteSummary;
use chrono::{Datelike, NaiveDate, NaiveDateTime};
use std::collections::HashMap;

/// The calendar period that makes one transaction opportunity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Opportunity {
    /// A calendar day.
    Day,
    /// An ISO week, Monday to Sunday.
    Week,
    /// A calendar month.
    Month,
    /// A calendar year.
    Year,
}

impl Opportunity {
    /// The index of the period holding `d` (consecutive periods have consecutive indices).
    pub fn index(self, d: NaiveDate) -> i64 {
        match self {
            Opportunity::Day => i64::from(d.num_days_from_ce()),
            // 0001-01-01 (day 1 from the common era) is a Monday
            Opportunity::Week => (i64::from(d.num_days_from_ce()) - 1).div_euclid(7),
            Opportunity::Month => i64::from(d.year()) * 12 + i64::from(d.month0()),
            Opportunity::Year => i64::from(d.year()),
        }
    }

    /// Whether `d` is the last day of its period.
    pub fn is_last_day(self, d: NaiveDate) -> bool {
        d.succ_opt()
            .is_none_or(|next| self.index(next) != self.index(d))
    }

    /// The time unit that labels a model fitted on these opportunities (a period of the
    /// average length: 1, 7, 30.436875 or 365.2425 days).
    pub fn unit(self) -> TimeUnit {
        match self {
            Opportunity::Day => TimeUnit::Days,
            Opportunity::Week => TimeUnit::Weeks,
            Opportunity::Month => {
                TimeUnit::periods_of_days(365.2425 / 12.0).expect("a positive finite length")
            }
            Opportunity::Year => {
                TimeUnit::periods_of_days(365.2425).expect("a positive finite length")
            }
        }
    }

    /// Reads `day`, `week`, `month` or `year`.
    pub fn parse(text: &str) -> Option<Self> {
        match text.trim() {
            "day" | "days" => Some(Opportunity::Day),
            "week" | "weeks" => Some(Opportunity::Week),
            "month" | "months" => Some(Opportunity::Month),
            "year" | "years" => Some(Opportunity::Year),
            _ => None,
        }
    }
}

/// A discrete-time summary built from a transaction log, with what a user must know about it.
#[derive(Debug, Clone)]
pub struct DiscreteOutcome {
    /// One row per customer born up to the calibration end's period, ids in order of first
    /// appearance in the log.
    pub summary: DiscreteSummary,
    /// Per customer, the holdout periods with a transaction (with an observation end).
    pub frequency_holdout: Option<Vec<u32>>,
    /// The number of holdout periods (with an observation end).
    pub duration_holdout: Option<u32>,
    /// Customers whose first transaction falls after the calibration end's period (in the
    /// holdout): not in the summary.
    pub born_later: usize,
    /// Whether the calibration end is not the last day of its period (its last opportunity
    /// is then only partly observed).
    pub end_is_partial: bool,
}

/// Builds a [`DiscreteOutcome`] from transactions pushed in any order.
///
/// ```
/// use chrono::NaiveDate;
/// use clv::data::discrete::{DiscreteBuilder, Opportunity};
/// let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap().and_hms_opt(0, 0, 0).unwrap();
/// let mut b = DiscreteBuilder::new(Opportunity::Year, NaiveDate::from_ymd_opt(2001, 12, 31).unwrap(), None)?;
/// // born in 1995; gave in 1996, twice in 1998 and in 2001
/// for (row, t) in [d(1995, 3, 1), d(1996, 5, 1), d(1998, 1, 2), d(1998, 7, 9), d(2001, 12, 24)].iter().enumerate() {
///     b.push(row + 1, "a", *t)?;
/// }
/// b.push(6, "b", d(1995, 8, 8))?; // never again
/// let out = b.finish()?;
/// let s = &out.summary;
/// assert_eq!((s.frequency(), s.recency(), s.periods()), (&[3, 0][..], &[6, 0][..], &[6, 6][..]));
/// # Ok::<(), clv::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct DiscreteBuilder {
    period: Opportunity,
    end: i64,
    end_date: NaiveDate,
    observation: Option<(i64, NaiveDate)>,
    index: HashMap<String, usize>,
    ids: Vec<String>,
    periods: Vec<Vec<i64>>,
}

impl DiscreteBuilder {
    /// A builder for opportunities of `period`, calibration through `calibration_end`
    /// (inclusive) and, optionally, a holdout through `observation_end`.
    ///
    /// # Errors
    /// [`Error::InvalidOption`] for an observation end before the calibration end.
    pub fn new(
        period: Opportunity,
        calibration_end: NaiveDate,
        observation_end: Option<NaiveDate>,
    ) -> Result<Self> {
        if let Some(o) = observation_end
            && o < calibration_end
        {
            return Err(Error::InvalidOption {
                name: "observation end",
                reason: format!("{o} is before the calibration end {calibration_end}"),
            });
        }
        Ok(DiscreteBuilder {
            period,
            end: period.index(calibration_end),
            end_date: calibration_end,
            observation: observation_end.map(|o| (period.index(o), o)),
            index: HashMap::new(),
            ids: Vec::new(),
            periods: Vec::new(),
        })
    }

    /// Adds one transaction (`row` is the data row, for errors).
    ///
    /// # Errors
    /// [`Error::InvalidData`] for a transaction after the observation end, or after the
    /// calibration end without an observation end.
    pub fn push(&mut self, row: usize, customer: &str, time: NaiveDateTime) -> Result<()> {
        let date = time.date();
        let bad = |issue| Error::InvalidData {
            row: Some(row),
            customer: Some(customer.to_string()),
            field: "date",
            issue,
        };
        match self.observation {
            Some((_, o)) if date > o => {
                return Err(bad(DataIssue::AfterObservationEnd {
                    date: date.to_string(),
                    end: o.to_string(),
                }));
            }
            None if date > self.end_date => {
                return Err(bad(DataIssue::AfterCalibrationEnd {
                    date: date.to_string(),
                    end: self.end_date.to_string(),
                }));
            }
            _ => {}
        }
        let p = self.period.index(date);
        let i = match self.index.get(customer) {
            Some(&i) => i,
            None => {
                self.index.insert(customer.to_string(), self.ids.len());
                self.ids.push(customer.to_string());
                self.periods.push(Vec::new());
                self.ids.len() - 1
            }
        };
        let v = &mut self.periods[i];
        if v.last() != Some(&p) {
            v.push(p);
        }
        Ok(())
    }

    /// The summary.
    ///
    /// # Errors
    /// [`Error::EmptyData`] when no customer was born by the calibration end; otherwise as
    /// [`DiscreteSummary::new`] (which cannot fail on what this builder computes).
    pub fn finish(self) -> Result<DiscreteOutcome> {
        let count = |n: i64| u32::try_from(n).unwrap_or(u32::MAX);
        let (mut ids, mut x, mut t, mut n, mut hold) = (vec![], vec![], vec![], vec![], vec![]);
        let mut born_later = 0;
        for (id, mut ps) in self.ids.into_iter().zip(self.periods) {
            ps.sort_unstable();
            ps.dedup();
            let birth = ps[0];
            if birth > self.end {
                born_later += 1;
                continue;
            }
            let calib: Vec<i64> = ps
                .iter()
                .copied()
                .filter(|&p| p > birth && p <= self.end)
                .collect();
            x.push(count(calib.len() as i64));
            t.push(calib.last().map_or(0, |&p| count(p - birth)));
            n.push(count(self.end - birth));
            hold.push(count(ps.iter().filter(|&&p| p > self.end).count() as i64));
            ids.push(id);
        }
        if ids.is_empty() {
            return Err(Error::EmptyData(
                "no customer made a first transaction by the calibration end",
            ));
        }
        let unit = self.period.unit();
        let summary = DiscreteSummary::new(x, t, n, None, Some(ids), unit)?;
        let (frequency_holdout, duration_holdout) = match self.observation {
            Some((o, _)) => (Some(hold), Some(count(o - self.end))),
            None => (None, None),
        };
        Ok(DiscreteOutcome {
            summary,
            frequency_holdout,
            duration_holdout,
            born_later,
            end_is_partial: !self.period.is_last_day(self.end_date),
        })
    }
}
