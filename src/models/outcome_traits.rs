//! The prediction traits of the models that are not continuous-time transaction models:
//! discrete opportunities ([`DiscreteTimeModel`], BG/BB) and contractual retention
//! ([`RetentionModel`], sBG). A survival model does not predict purchases, and a discrete-time
//! model counts opportunities, not time: each family has its own vocabulary, as
//! [`TransactionModel`](super::TransactionModel) has its own.

use super::bgbb::DiscreteHistory;
use crate::error::Result;

/// Predictions of a model of customers who may transact at discrete opportunities.
pub trait DiscreteTimeModel {
    /// P(alive at opportunity n + m | history); m = 0: alive at the last observed one.
    fn p_alive(&self, h: &DiscreteHistory, m: u32) -> f64;
    /// E[X(n)]: expected transactions in the first n opportunities after the first.
    ///
    /// # Errors
    /// [`crate::Error::InvalidOption`] for an n the model cannot sum over.
    fn expected_transactions(&self, n: u32) -> Result<f64>;
    /// P(X(n) = k) for a new customer.
    ///
    /// # Errors
    /// As [`expected_transactions`](Self::expected_transactions).
    fn pmf(&self, k: u32, n: u32) -> Result<f64>;
    /// Expected transactions in the next m opportunities given the history.
    ///
    /// # Errors
    /// As [`expected_transactions`](Self::expected_transactions).
    fn conditional_expected_transactions(&self, h: &DiscreteHistory, m: u32) -> Result<f64>;
    /// P(k transactions in the next m opportunities | history).
    ///
    /// # Errors
    /// As [`expected_transactions`](Self::expected_transactions).
    fn conditional_pmf(&self, h: &DiscreteHistory, k: u32, m: u32) -> Result<f64>;
    /// Discounted expected residual transactions at rate `d` per opportunity.
    ///
    /// # Errors
    /// [`crate::Error::InvalidOption`] for a rate that is not finite and > 0.
    fn dert(&self, h: &DiscreteHistory, d: f64) -> Result<f64>;
}

/// Predictions of a contractual model, where churn is observed.
pub trait RetentionModel {
    /// S(t): the share of a new cohort still active after t renewals.
    fn survival(&self, t: u32) -> f64;
    /// P(T = t): the share of a new cohort that churns after exactly t periods.
    fn churn_at(&self, t: u32) -> f64;
    /// r(t) = S(t)/S(t−1): the retention rate of period t.
    fn retention(&self, t: u32) -> f64;
    /// Discounted expected residual lifetime of a customer who has made n − 1 renewals.
    ///
    /// # Errors
    /// [`crate::Error::InvalidOption`] for a rate that is not finite and > 0, or n = 0.
    fn derl(&self, d: f64, n: u32) -> Result<f64>;
}

impl DiscreteTimeModel for super::bgbb::BgBbParams {
    fn p_alive(&self, h: &DiscreteHistory, m: u32) -> f64 {
        Self::p_alive(self, h, m)
    }
    fn expected_transactions(&self, n: u32) -> Result<f64> {
        Self::expected_transactions(self, n)
    }
    fn pmf(&self, k: u32, n: u32) -> Result<f64> {
        Self::pmf(self, k, n)
    }
    fn conditional_expected_transactions(&self, h: &DiscreteHistory, m: u32) -> Result<f64> {
        Self::conditional_expected_transactions(self, h, m)
    }
    fn conditional_pmf(&self, h: &DiscreteHistory, k: u32, m: u32) -> Result<f64> {
        Self::conditional_pmf(self, h, k, m)
    }
    fn dert(&self, h: &DiscreteHistory, d: f64) -> Result<f64> {
        Self::dert(self, h, d)
    }
}

impl RetentionModel for super::sbg::SbgParams {
    fn survival(&self, t: u32) -> f64 {
        Self::survival(self, t)
    }
    fn churn_at(&self, t: u32) -> f64 {
        Self::churn_at(self, t)
    }
    fn retention(&self, t: u32) -> f64 {
        Self::retention(self, t)
    }
    fn derl(&self, d: f64, n: u32) -> Result<f64> {
        Self::derl(self, d, n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The traits reach the models' own predictions (a generic caller sees the same numbers).
    #[test]
    fn traits_delegate() {
        fn first<M: DiscreteTimeModel>(m: &M, h: &DiscreteHistory) -> f64 {
            m.conditional_expected_transactions(h, 10).unwrap()
        }
        fn derl<M: RetentionModel>(m: &M) -> f64 {
            m.derl(0.1, 1).unwrap()
        }
        let b = crate::models::bgbb::BgBbParams::new(1.2, 0.75, 0.66, 2.78).unwrap();
        let h = DiscreteHistory::new(4, 5, 6).unwrap();
        assert_eq!(
            first(&b, &h),
            b.conditional_expected_transactions(&h, 10).unwrap()
        );
        let s = crate::models::sbg::SbgParams::new(3.8, 15.2).unwrap();
        assert_eq!(derl(&s), s.derl(0.1, 1).unwrap());
    }
}
