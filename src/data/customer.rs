//! One customer's validated (x, t_x, T).

use crate::error::{DataIssue, Error, Result};
use serde::{Deserialize, Serialize};

/// A customer's purchase history in RFM form: `x` repeat purchases, the last at `t_x`, observed
/// for `T` time units since the first purchase. Validated on construction, so every prediction
/// receives a consistent history.
///
/// ```
/// use clv::Customer;
/// let c = Customer::new(2.0, 30.43, 38.86).unwrap();
/// assert_eq!(c.x(), 2.0);
/// assert!(Customer::new(1.0, 40.0, 38.0).is_err()); // recency after T
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "RawCustomer")]
pub struct Customer {
    x: f64,
    t_x: f64,
    t: f64,
}

#[derive(Deserialize)]
struct RawCustomer {
    x: f64,
    t_x: f64,
    t: f64,
}

impl TryFrom<RawCustomer> for Customer {
    type Error = Error;
    fn try_from(r: RawCustomer) -> Result<Self> {
        Customer::new(r.x, r.t_x, r.t)
    }
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
        if x.fract() != 0.0 {
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

    /// For rows already validated (e.g. inside an [`RfmSummary`](crate::RfmSummary)).
    pub(crate) fn new_unchecked(x: f64, t_x: f64, t: f64) -> Self {
        Customer { x, t_x, t }
    }

    /// Number of repeat purchases `x`.
    pub fn x(&self) -> f64 {
        self.x
    }
    /// Time of the last repeat purchase `t_x` (0 when x = 0).
    pub fn t_x(&self) -> f64 {
        self.t_x
    }
    /// Age `T`: time from first purchase to the end of calibration.
    pub fn t(&self) -> f64 {
        self.t
    }
}
