//! The models: one file each, a validated parameter type with its likelihood and predictions.
//!
//! | model | type | paper |
//! |---|---|---|
//! | BG/NBD | [`BgNbdParams`] | Fader, Hardie & Lee (2005), "Counting Your Customers the Easy Way" |
//! | Gamma-Gamma | [`GammaGammaParams`] | Fader, Hardie & Lee (2005), "RFM and CLV"; note 025 |

pub mod bgnbd;
pub mod gamma_gamma;

pub use bgnbd::BgNbdParams;
pub use gamma_gamma::{GammaGammaParams, SpendModel};

use crate::data::Customer;

/// Predictions of a model of repeat-purchase counts, as pure functions of the parameters and a
/// customer's history. Times are in the unit the model was fitted in; horizons `t` must be
/// finite and >= 0 (the batch helpers in [`crate::predict`] check that for you).
pub trait TransactionModel {
    /// Expected number of repeat purchases in `(0, t]` for a randomly chosen new customer,
    /// E[X(t)].
    fn expected_purchases(&self, t: f64) -> f64;
    /// Probability that a randomly chosen new customer makes exactly `n` repeat purchases in
    /// `(0, t]`, P(X(t) = n).
    fn pmf(&self, n: u64, t: f64) -> f64;
    /// Probability that the customer is still alive at `T`, given their history.
    fn p_alive(&self, c: &Customer) -> f64;
    /// Expected purchases in `(T, T + t]` given the history, E[Y(t) | x, t_x, T].
    fn conditional_expected_purchases(&self, c: &Customer, t: f64) -> f64;
    /// Probability of exactly `n` purchases in `(T, T + t]` given the history.
    fn conditional_pmf(&self, c: &Customer, n: u64, t: f64) -> f64;

    /// P(alive), E[Y(t)] and P(Y(t) = 0) together. Models override it to compute what the three
    /// share (P(alive), the posterior) once.
    fn score(&self, c: &Customer, t: f64) -> Score {
        Score {
            p_alive: self.p_alive(c),
            expected_purchases: self.conditional_expected_purchases(c, t),
            prob_no_purchase: self.conditional_pmf(c, 0, t),
        }
    }

    /// E[Y(t)] at every horizon of `ts`, written to `out` (same length); returns P(alive).
    /// Models override it to compute P(alive) once rather than once per horizon.
    fn conditional_expectations(&self, c: &Customer, ts: &[f64], out: &mut [f64]) -> f64 {
        for (o, &t) in out.iter_mut().zip(ts) {
            *o = self.conditional_expected_purchases(c, t);
        }
        self.p_alive(c)
    }
}

/// One customer's scores for a horizon.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Score {
    /// P(alive at T | history).
    pub p_alive: f64,
    /// E[purchases in (T, T + horizon] | history].
    pub expected_purchases: f64,
    /// P(no purchase in (T, T + horizon] | history).
    pub prob_no_purchase: f64,
}
