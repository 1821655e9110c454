//! One customer's validated (x, t_x, T).

use crate::error::{DataIssue, Error, Result};

/// A customer's purchase history in RFM form: `x` repeat purchases (its `frequency`), the last
/// at `t_x` (its `recency`), observed for `T` time units since the first purchase (its `age`,
/// serialised as `T`): the same names as the summary's columns and CSV files. Validated on
/// construction (and when deserialised), so every prediction receives a consistent history.
///
/// ```
/// use clv::Customer;
/// let c = Customer::new(2.0, 30.43, 38.86).unwrap();
/// assert_eq!(c.frequency(), 2.0);
/// assert!(Customer::new(1.0, 40.0, 38.0).is_err()); // recency after T
/// let json = serde_json::to_string(&c).unwrap();
/// assert_eq!(json, r#"{"frequency":2.0,"recency":30.43,"T":38.86}"#);
/// let btyd: Customer = serde_json::from_str(r#"{"x":2.0,"t_x":30.43,"t":38.86}"#).unwrap();
/// assert_eq!(btyd, c);
/// assert!(serde_json::from_str::<Customer>(r#"{"frequency":-3.0,"recency":0.0,"T":5.0}"#).is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(try_from = "RawCustomer"))]
pub struct Customer {
    #[cfg_attr(feature = "serde", serde(rename = "frequency"))]
    x: f64,
    #[cfg_attr(feature = "serde", serde(rename = "recency"))]
    t_x: f64,
    #[cfg_attr(feature = "serde", serde(rename = "T"))]
    t: f64,
}

/// The serialised form; `x`, `t_x` and `t` (BTYD's names) are read too.
#[cfg(feature = "serde")]
#[cfg_attr(feature = "serde", derive(serde::Deserialize))]
struct RawCustomer {
    #[cfg_attr(feature = "serde", serde(alias = "x"))]
    frequency: f64,
    #[cfg_attr(feature = "serde", serde(alias = "t_x"))]
    recency: f64,
    #[cfg_attr(feature = "serde", serde(rename = "T", alias = "t"))]
    age: f64,
}

#[cfg(feature = "serde")]
impl TryFrom<RawCustomer> for Customer {
    type Error = Error;
    fn try_from(r: RawCustomer) -> Result<Self> {
        Customer::new(r.frequency, r.recency, r.age)
    }
}

/// Whether a finite, non-negative `x` is a whole number: `x.fract() == 0.0` without its
/// `trunc`, a libm call on baseline x86-64 (from 2^52 up every double is whole; below, the
/// round trip through i64 is exact).
#[inline]
fn is_whole(x: f64) -> bool {
    x >= 4_503_599_627_370_496.0 || (x as i64) as f64 == x
}

impl Customer {
    /// Validates: all finite and >= 0, `x` a whole number, `t_x <= T`, and `t_x = 0` when `x = 0`.
    ///
    /// # Errors
    /// [`Error::InvalidData`] naming the field that breaks a rule.
    pub fn new(x: f64, t_x: f64, t: f64) -> Result<Self> {
        Self::check(x, t_x, t, None, None)
    }

    pub(crate) fn check(
        x: f64,
        t_x: f64,
        t: f64,
        row: Option<usize>,
        customer: Option<&str>,
    ) -> Result<Self> {
        if Self::is_valid(x, t_x, t) {
            return Ok(Customer { x, t_x, t });
        }
        let err = |field: &'static str, issue: DataIssue| Error::InvalidData {
            row,
            customer: customer.map(str::to_string),
            field,
            issue,
        };
        for (field, v) in [("frequency", x), ("recency", t_x), ("T", t)] {
            if !v.is_finite() {
                return Err(err(field, DataIssue::NotFinite(v)));
            }
            if v < 0.0 {
                return Err(err(field, DataIssue::Negative(v)));
            }
        }
        if !is_whole(x) {
            return Err(err("frequency", DataIssue::NotInteger(x)));
        }
        if t_x > t {
            return Err(err(
                "recency",
                DataIssue::RecencyAfterAge {
                    recency: t_x,
                    age: t,
                },
            ));
        }
        if x == 0.0 && t_x > 0.0 {
            return Err(err("recency", DataIssue::RecencyWithoutRepeat(t_x)));
        }
        Ok(Customer { x, t_x, t })
    }

    /// Whether [`new`](Self::new) accepts the row: the same rules as a branch-light test, for
    /// loops over millions of rows that build the error only for a row that fails.
    #[inline]
    pub(crate) fn is_valid(x: f64, t_x: f64, t: f64) -> bool {
        x.is_finite()
            && t_x.is_finite()
            && t.is_finite()
            && x >= 0.0
            && t_x >= 0.0
            && t >= 0.0
            && is_whole(x)
            && t_x <= t
            && !(x == 0.0 && t_x > 0.0)
    }

    /// For rows already validated (e.g. inside an [`RfmSummary`](crate::RfmSummary)).
    pub(crate) fn new_unchecked(x: f64, t_x: f64, t: f64) -> Self {
        Customer { x, t_x, t }
    }

    /// Frequency `x`: the number of repeat purchases.
    pub fn frequency(&self) -> f64 {
        self.x
    }
    /// Recency `t_x`: the time of the last repeat purchase since the first (0 when x = 0).
    pub fn recency(&self) -> f64 {
        self.t_x
    }
    /// Age `T`: the time from the first purchase to the end of calibration.
    pub fn age(&self) -> f64 {
        self.t
    }
}

#[cfg(test)]
mod tests {
    use super::{Customer, is_whole};

    #[test]
    fn is_whole_is_fract_zero() {
        let mut v: Vec<f64> = vec![0.0, -0.0, 0.5, 1.0, 2f64.powi(52) - 0.5, 2f64.powi(52)];
        v.extend([
            2f64.powi(53) + 2.0,
            1e300,
            f64::MAX,
            f64::MIN_POSITIVE,
            5e-324,
        ]);
        v.extend((0..10_000).map(|i| f64::from(i) / 8.0));
        v.extend(
            (0..64)
                .map(|k| 2f64.powi(k) + 0.5)
                .filter(|x| x.is_finite()),
        );
        v.extend((0..64).map(|k| 2f64.powi(k) - 1.0));
        let mut bits = 0x3FF0_0000_0000_0000u64;
        for _ in 0..100_000 {
            bits = bits
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let x = f64::from_bits(bits >> 1); // non-negative
            if x.is_finite() {
                v.push(x);
            }
        }
        for x in v {
            assert_eq!(is_whole(x), x.fract() == 0.0, "{x:e}");
        }
    }

    /// The fast predicate and the checked constructor agree on every combination of awkward
    /// values (so a loop may test with one and report with the other).
    #[test]
    fn is_valid_agrees_with_new() {
        let values = [
            0.0,
            -0.0,
            1.0,
            2.0,
            2.5,
            30.43,
            38.86,
            -1.0,
            1e300,
            f64::MIN_POSITIVE,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
        ];
        for &x in &values {
            for &t_x in &values {
                for &t in &values {
                    assert_eq!(
                        Customer::is_valid(x, t_x, t),
                        Customer::new(x, t_x, t).is_ok(),
                        "({x}, {t_x}, {t})"
                    );
                }
            }
        }
    }
}
