//! Time units and purchase-occasion granularity.

use crate::error::{Result, positive_option};
#[cfg(feature = "logs")]
use chrono::{NaiveDateTime, Timelike};

/// The unit in which recency, age and horizons are measured. No hidden conventions: a week is
/// exactly 7 days, and any other period is stated in days.
///
/// ```
/// use clv::TimeUnit;
/// assert_eq!(TimeUnit::Weeks.days(), 7.0);
/// let month = TimeUnit::periods_of_days(365.25 / 12.0).unwrap();
/// assert!((month.days() - 30.4375).abs() < 1e-12);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
#[non_exhaustive]
pub enum TimeUnit {
    /// Days.
    Days,
    /// Weeks of 7 days.
    Weeks,
    /// A custom period of the given length in days; build with
    /// [`TimeUnit::periods_of_days`].
    Periods(PeriodDays),
}

/// The length of a custom period in days: finite and > 0 by construction (and when
/// deserialised), so a `TimeUnit` can never have a zero or negative length.
///
/// ```
/// use clv::TimeUnit;
/// assert!(TimeUnit::periods_of_days(-7.0).is_err());
/// assert!(serde_json::from_str::<TimeUnit>(r#"{"periods":0.0}"#).is_err());
/// let u: TimeUnit = serde_json::from_str(r#"{"periods":30.5}"#).unwrap();
/// assert_eq!(u.days(), 30.5);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(try_from = "f64", into = "f64"))]
pub struct PeriodDays(f64);

impl PeriodDays {
    /// The length in days.
    pub fn days(self) -> f64 {
        self.0
    }
}

impl TryFrom<f64> for PeriodDays {
    type Error = crate::Error;
    fn try_from(d: f64) -> Result<Self> {
        positive_option("period length in days", d).map(PeriodDays)
    }
}

impl From<PeriodDays> for f64 {
    fn from(p: PeriodDays) -> f64 {
        p.0
    }
}

impl TimeUnit {
    /// A custom period length in days; must be finite and > 0.
    ///
    /// # Errors
    /// [`Error::InvalidOption`](crate::Error::InvalidOption) unless `days` is finite and > 0.
    pub fn periods_of_days(days: f64) -> Result<Self> {
        PeriodDays::try_from(days).map(TimeUnit::Periods)
    }

    /// Length of one unit in days.
    pub fn days(self) -> f64 {
        match self {
            TimeUnit::Days => 1.0,
            TimeUnit::Weeks => 7.0,
            TimeUnit::Periods(d) => d.days(),
        }
    }

    /// Converts a duration in seconds into this unit.
    pub fn from_seconds(self, seconds: i64) -> f64 {
        seconds as f64 / (86_400.0 * self.days())
    }

    /// The token a summary file's `time_unit` column holds: `weeks`, `days`, or
    /// `periods_of_<d>_days` (the length in days, shortest round-trip form).
    ///
    /// ```
    /// use clv::TimeUnit;
    /// assert_eq!(TimeUnit::Weeks.token(), "weeks");
    /// let p = TimeUnit::periods_of_days(30.4375).unwrap();
    /// assert_eq!(p.token(), "periods_of_30.4375_days");
    /// assert_eq!(TimeUnit::parse(&p.token()), Some(p));
    /// assert_eq!(TimeUnit::parse("week"), Some(TimeUnit::Weeks));
    /// assert_eq!(TimeUnit::parse("periods_of_-1_days"), None);
    /// ```
    pub fn token(self) -> String {
        match self {
            TimeUnit::Days => "days".into(),
            TimeUnit::Weeks => "weeks".into(),
            TimeUnit::Periods(d) => format!("periods_of_{}_days", d.days()),
        }
    }

    /// Reads a [`token`](Self::token) (also `day`, `week`, `d`, `w`); `None` for anything else,
    /// a period that is not finite and > 0 included.
    pub fn parse(text: &str) -> Option<Self> {
        match text.trim() {
            "days" | "day" | "d" => Some(TimeUnit::Days),
            "weeks" | "week" | "w" => Some(TimeUnit::Weeks),
            t => {
                let d: f64 = t
                    .strip_prefix("periods_of_")?
                    .strip_suffix("_days")?
                    .parse()
                    .ok()?;
                TimeUnit::periods_of_days(d).ok()
            }
        }
    }
}

impl std::fmt::Display for TimeUnit {
    /// `weeks`, `days`, or `periods of <d> days`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TimeUnit::Periods(d) => write!(f, "periods of {} days", d.days()),
            other => f.write_str(&other.token()),
        }
    }
}

#[cfg(feature = "logs")]
/// Which transactions count as one purchase occasion. The CDNOW convention (and the default) is
/// [`Granularity::Day`]: several orders on the same calendar day are one purchase.
///
/// ```
/// use clv::Granularity;
/// use chrono::NaiveDate;
/// let t = NaiveDate::from_ymd_opt(1997, 1, 1).unwrap().and_hms_opt(15, 30, 0).unwrap();
/// assert_eq!(Granularity::Day.floor(t).to_string(), "1997-01-01 00:00:00");
/// assert_eq!(Granularity::Hour.floor(t).to_string(), "1997-01-01 15:00:00");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
#[non_exhaustive]
pub enum Granularity {
    /// Every distinct timestamp is a purchase occasion.
    Exact,
    /// Transactions in the same clock hour are one occasion.
    Hour,
    /// Transactions on the same calendar day are one occasion.
    #[default]
    Day,
}

#[cfg(feature = "logs")]
impl Granularity {
    /// The start of the occasion containing `t`.
    pub fn floor(self, t: NaiveDateTime) -> NaiveDateTime {
        match self {
            Granularity::Exact => t,
            Granularity::Hour => t.date().and_hms_opt(t.hour(), 0, 0).expect("valid hour"),
            Granularity::Day => t.date().and_hms_opt(0, 0, 0).expect("midnight"),
        }
    }
}

/// A transaction's time as log reading carries it: whole seconds since 1970-01-01 00:00 of the
/// wall-clock time as written (no zone: read as if UTC) and the nanoseconds within the second,
/// chrono's leap-second representation included. Ordered as the time is; the date parser
/// writes it straight from the digits, so the hot path of a log needs no calendar type.
#[cfg(feature = "logs")]
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Stamp {
    secs: i64,
    nanos: u32,
}

#[cfg(feature = "logs")]
impl Stamp {
    /// A whole second `secs` after 1970-01-01 00:00.
    #[cfg(feature = "csv")]
    pub(crate) fn from_secs(secs: i64) -> Self {
        Stamp { secs, nanos: 0 }
    }

    /// The stamp of `t`.
    pub(crate) fn of(t: NaiveDateTime) -> Self {
        let u = t.and_utc();
        Stamp {
            secs: u.timestamp(),
            nanos: u.timestamp_subsec_nanos(),
        }
    }

    /// The date and time again (exact: every stamp is made from one, or from a four-digit
    /// year, well inside chrono's range).
    pub(crate) fn time(self) -> NaiveDateTime {
        chrono::DateTime::from_timestamp(self.secs, self.nanos)
            .expect("a stamp is made from a valid date and time")
            .naive_utc()
    }
}

#[cfg(feature = "logs")]
impl Granularity {
    /// The start of the occasion containing `s`, in whole seconds since 1970: the key a
    /// customer's occasions are told apart by, `self.floor(s.time())` as seconds.
    pub(crate) fn key(self, s: Stamp) -> i64 {
        match self {
            Granularity::Exact => s.secs,
            Granularity::Hour => s.secs - s.secs.rem_euclid(3600),
            Granularity::Day => s.secs - s.secs.rem_euclid(86_400),
        }
    }

    /// The first stamp whose occasion comes after the one of key `key` (a [`key`](Self::key)):
    /// `self.key(t) > key` exactly when `t >= self.after(key)`.
    #[cfg(feature = "csv")]
    pub(crate) fn after(self, key: i64) -> Stamp {
        Stamp::from_secs(match self {
            Granularity::Exact => key + 1,
            Granularity::Hour => key + 3600,
            Granularity::Day => key + 86_400,
        })
    }
}

#[cfg(all(test, feature = "csv"))]
mod stamp_tests {
    use super::*;
    use chrono::NaiveDate;

    /// Stamps order and round-trip as times do, and their keys are the floors' seconds, before
    /// 1970 and on leap seconds too.
    #[test]
    fn stamps_are_times() {
        let t = |y, m, d, h, mi, s, n| {
            NaiveDate::from_ymd_opt(y, m, d)
                .unwrap()
                .and_hms_nano_opt(h, mi, s, n)
                .unwrap()
        };
        let times = [
            t(1997, 1, 1, 0, 0, 0, 0),
            t(1969, 12, 31, 23, 59, 59, 999_999_999),
            t(1960, 2, 29, 13, 5, 1, 0),
            t(1, 1, 1, 0, 0, 0, 0),
            t(0, 1, 1, 12, 0, 0, 0),
            t(9999, 12, 31, 23, 59, 59, 0),
            t(2016, 12, 31, 23, 59, 59, 1_500_000_000),
            t(2024, 6, 30, 7, 30, 0, 250_000_000),
        ];
        for a in times {
            assert_eq!(Stamp::of(a).time(), a);
            for g in [Granularity::Exact, Granularity::Hour, Granularity::Day] {
                assert_eq!(g.key(Stamp::of(a)), g.floor(a).and_utc().timestamp(), "{a}");
            }
            for b in times {
                assert_eq!(Stamp::of(a).cmp(&Stamp::of(b)), a.cmp(&b), "{a} {b}");
                // "after b's occasion" as one comparison of stamps
                for g in [Granularity::Exact, Granularity::Hour, Granularity::Day] {
                    let k = g.key(Stamp::of(b));
                    assert_eq!(
                        g.key(Stamp::of(a)) > k,
                        Stamp::of(a) >= g.after(k),
                        "{a} {b}"
                    );
                }
            }
        }
    }
}
