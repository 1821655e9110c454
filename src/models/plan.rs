//! Batch evaluation of discounted expected purchases: a [`Schedule`] says which horizons and
//! discount factors, a [`SchedulePlan`] evaluates it for many customers under one parameter set.
//!
//! Scoring a million customers, or a thousand bootstrap draws of them, evaluates the same
//! expectation with the same parameters over and over; a model can precompute what depends
//! only on the parameters and the customers' frequencies once (BG/NBD tabulates E[Y(t)] given
//! alive per distinct `x`, see [`TransactionModel::plan`]). The default plan evaluates every
//! customer directly.

use crate::data::Customer;
use crate::error::{Error, Result};
use crate::models::TransactionModel;

/// Horizons `0 < t_1 < ... < t_n` with discount factors `d_i >= 0`. Its value for a customer is
/// the discounted expected purchases `Σᵢ dᵢ · (E[Y(tᵢ)] - E[Y(tᵢ₋₁)])`, t₀ = 0: purchases
/// made in step i are discounted by that step's factor. A single horizon with factor 1 is
/// E[Y(t)] itself.
///
/// ```
/// use clv::Schedule;
/// let s = Schedule::new(vec![4.0, 8.0], vec![0.99, 0.98]).unwrap();
/// assert_eq!(s.value(&[1.0, 1.5]), 0.99 * 1.0 + 0.98 * 0.5);
/// assert_eq!(Schedule::horizon(39.0).unwrap().horizons(), &[39.0]);
/// assert!(Schedule::new(vec![8.0, 4.0], vec![1.0, 1.0]).is_err()); // not increasing
/// assert!(Schedule::new(vec![4.0], vec![-1.0]).is_err()); // factors must be >= 0
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Schedule {
    ts: Vec<f64>,
    factors: Vec<f64>,
}

impl Schedule {
    /// Validates and builds: same non-zero length, horizons finite, > 0 and increasing, factors
    /// finite and >= 0 (a factor that underflowed to 0 contributes nothing).
    ///
    /// # Errors
    /// [`Error::InvalidOption`] for empty or unequal vectors, horizons that are not increasing,
    /// finite and > 0, or factors that are not finite and >= 0.
    pub fn new(ts: Vec<f64>, factors: Vec<f64>) -> Result<Self> {
        let bad = |reason: String| {
            Err(Error::InvalidOption {
                name: "schedule",
                reason,
            })
        };
        if ts.is_empty() || ts.len() != factors.len() {
            return bad(format!(
                "need as many factors as horizons, at least one (got {} and {})",
                ts.len(),
                factors.len()
            ));
        }
        let mut prev = 0.0;
        for &t in &ts {
            if !(t.is_finite() && t > prev) {
                return bad(format!(
                    "horizons must be finite, > 0 and increasing, got {t} after {prev}"
                ));
            }
            prev = t;
        }
        if let Some(d) = factors.iter().find(|d| !(d.is_finite() && **d >= 0.0)) {
            return bad(format!("discount factors must be finite and >= 0, got {d}"));
        }
        Ok(Schedule { ts, factors })
    }

    /// E[Y(t)]: the single horizon `t` (finite, > 0), undiscounted.
    ///
    /// # Errors
    /// [`Error::InvalidOption`] for an invalid horizon.
    pub fn horizon(t: f64) -> Result<Self> {
        let t = crate::predict::check_horizon(t)?;
        Ok(Schedule {
            ts: vec![t],
            factors: vec![1.0],
        })
    }

    /// The horizons.
    pub fn horizons(&self) -> &[f64] {
        &self.ts
    }

    /// The discount factors.
    pub fn factors(&self) -> &[f64] {
        &self.factors
    }

    /// The schedule's value from the expectations `e[i] = E[Y(tᵢ)]`.
    pub fn value(&self, e: &[f64]) -> f64 {
        let mut prev = 0.0;
        let mut total = 0.0;
        for (&d, &e) in self.factors.iter().zip(e) {
            total += d * (e - prev);
            prev = e;
        }
        total
    }
}

/// A parameter set prepared to evaluate [`Schedule`]s for many customers
/// ([`TransactionModel::plan`]).
pub trait SchedulePlan: Send + Sync {
    /// Writes each planned schedule's value for `c` to `out` (one per schedule, in order) and
    /// returns P(alive).
    fn eval(&self, c: &Customer, out: &mut [f64]) -> f64;

    /// P(Y(t) = 0 | history) for `c`, whose P(alive) [`eval`](Self::eval) returned, when the
    /// plan computes it faster than the model; `None` (the default) leaves it to
    /// [`TransactionModel::prob_no_purchase_given`].
    fn prob_no_purchase(&self, c: &Customer, p_alive: f64, t: f64) -> Option<f64> {
        let _ = (c, p_alive, t);
        None
    }

    /// P(alive), E[Y(t)] and P(Y(t) = 0) of `c` at once, when the plan shares work between
    /// them (the plan must have been built for a schedule reaching `t`); `None` (the default)
    /// means [`eval`](Self::eval) and [`prob_no_purchase`](Self::prob_no_purchase).
    fn score(&self, c: &Customer, t: f64) -> Option<crate::models::Score> {
        let _ = (c, t);
        None
    }
}

/// The default plan: each customer evaluated directly.
pub(crate) struct DirectPlan<M> {
    pub(crate) model: M,
    pub(crate) schedules: std::sync::Arc<[Schedule]>,
}

impl<M: TransactionModel + Send + Sync> SchedulePlan for DirectPlan<M> {
    fn eval(&self, c: &Customer, out: &mut [f64]) -> f64 {
        direct(&self.model, &self.schedules, c, out)
    }
}

/// Every schedule of `c` evaluated directly (the reference the fast plans are tested against).
pub(crate) fn direct<M: TransactionModel>(
    model: &M,
    schedules: &[Schedule],
    c: &Customer,
    out: &mut [f64],
) -> f64 {
    if schedules.is_empty() {
        return model.p_alive(c);
    }
    let mut pa = 1.0;
    let mut e = Vec::new();
    for (o, s) in out.iter_mut().zip(schedules) {
        e.resize(s.ts.len(), 0.0);
        pa = model.conditional_expectations(c, &s.ts, &mut e);
        *o = s.value(&e);
    }
    pa
}
