//! Purchase regularity: is an Erlang-k model (BG/CNBD-k, MBG/CNBD-k) worth fitting? The
//! Wheat & Morrison (1990) estimator ("Estimating Purchase Regularity with Two Interpurchase
//! Times", *Journal of Marketing Research* 27(1), 87–93), as BTYDplus' `estimateRegularity`
//! (method "wheat") uses it.
//!
//! If a customer's inter-purchase times are Erlang-k with any rate λ, the ratio of two
//! consecutive gaps M = t₁/(t₁ + t₂) is Beta(k, k) whatever λ is: E[M] = 1/2 and
//! Var(M) = 1/(4(2k + 1)). Across customers (one M each, from their last two gaps in the
//! calibration period), k̂ = (1/(4 V) − 1)/2 with V = mean((M − 1/2)²). k̂ ≈ 1 is Poisson
//! purchasing (exponential gaps: the NBD family fits); k̂ well above 1 is regularity. The
//! interval comes from V's standard error by the delta method.

use crate::error::{Error, Result};

/// The regularity estimate.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct Regularity {
    /// Customers contributing a ratio (those with at least two gaps: three purchase occasions).
    pub customers: usize,
    /// The estimate k̂ (not rounded; any real >= 0.5 is possible from data).
    pub k: f64,
    /// A 95% interval for k (delta method on V).
    pub interval: (f64, f64),
}

impl Regularity {
    /// From each customer's two last inter-purchase times (t₁ then t₂, both > 0).
    ///
    /// ```
    /// use clv::diagnostics::Regularity;
    /// // perfectly regular gaps: M = 1/2 for everyone, V = 0, k infinite
    /// let r = Regularity::from_gap_pairs([(2.0, 2.0), (3.0, 3.0)]).unwrap();
    /// assert!(r.k.is_infinite());
    /// ```
    ///
    /// # Errors
    /// [`Error::EmptyData`] without a pair; [`Error::InvalidOption`] for a gap that is not
    /// finite and > 0.
    pub fn from_gap_pairs(pairs: impl IntoIterator<Item = (f64, f64)>) -> Result<Self> {
        let mut d = Vec::new();
        for (t1, t2) in pairs {
            if !(t1.is_finite() && t1 > 0.0 && t2.is_finite() && t2 > 0.0) {
                return Err(Error::InvalidOption {
                    name: "inter-purchase times",
                    reason: format!("({t1}, {t2}): gaps must be finite and > 0"),
                });
            }
            let m = t1 / (t1 + t2);
            d.push((m - 0.5) * (m - 0.5));
        }
        if d.is_empty() {
            return Err(Error::EmptyData(
                "no customer has two inter-purchase times (three purchase occasions)",
            ));
        }
        let n = d.len() as f64;
        let v = d.iter().sum::<f64>() / n;
        let sd = (d.iter().map(|x| (x - v) * (x - v)).sum::<f64>() / (n - 1.0).max(1.0)).sqrt();
        let se = sd / n.sqrt();
        let k_of = |v: f64| {
            if v <= 0.0 {
                f64::INFINITY
            } else {
                (1.0 / (4.0 * v) - 1.0) / 2.0
            }
        };
        // k decreases in V: the interval's ends swap
        Ok(Regularity {
            customers: d.len(),
            k: k_of(v),
            interval: (k_of(v + 1.96 * se), k_of((v - 1.96 * se).max(0.0))),
        })
    }

    /// One sentence for people: what the estimate says about which models to fit.
    pub fn advice(&self) -> String {
        let (lo, hi) = self.interval;
        // the delta-method interval is not to be trusted from a handful of customers (3 gave
        // k ≈ 10.9 [4.0, inf] on a truncated CDNOW): no advice below 30
        let what = if self.customers < MIN_CUSTOMERS_FOR_ADVICE {
            "too few customers to tell (30 or more with 3+ purchases are needed)"
        } else if hi < 1.5 {
            "no regularity beyond Poisson purchasing: the NBD-family models suffice"
        } else if lo >= 1.5 {
            "regular buyers: an Erlang-k model (bgcnbd, mbgcnbd) is worth fitting"
        } else {
            "unclear: compare an Erlang-k model with the others on a holdout"
        };
        format!(
            "purchase regularity (Wheat & Morrison): k ≈ {:.2} [{:.2}, {:.2}] from {} customers with 3+ purchases: {what}",
            self.k, lo, hi, self.customers
        )
    }
}

/// The fewest customers with three or more purchases from which [`Regularity::advice`] draws
/// a conclusion.
pub const MIN_CUSTOMERS_FOR_ADVICE: usize = 30;

#[cfg(test)]
mod tests {
    use super::*;
    use rand_distr::{Distribution, Gamma};

    /// A handful of customers gets no advice, whatever the estimate.
    #[test]
    fn no_advice_from_a_handful() {
        let r = Regularity::from_gap_pairs(vec![(1.0, 1.05), (2.0, 2.1), (0.5, 0.52)]).unwrap();
        assert_eq!(r.customers, 3);
        assert!(
            r.advice().contains("too few customers to tell"),
            "{}",
            r.advice()
        );
    }

    /// Simulated Erlang-k gaps with customer-specific rates: k̂ recovers k (the ratio does not
    /// depend on the rate), and the 95% interval covers it.
    #[test]
    fn recovers_the_erlang_order() {
        let mut rng = crate::sim::rng(5);
        for k in [1.0, 2.0, 4.0] {
            let rate = Gamma::new(1.0, 1.0).unwrap();
            let pairs: Vec<(f64, f64)> = (0..20_000)
                .map(|_| {
                    let l: f64 = rate.sample(&mut rng) + 0.01;
                    let gap = Gamma::new(k, 1.0 / l).unwrap();
                    (gap.sample(&mut rng), gap.sample(&mut rng))
                })
                .collect();
            let r = Regularity::from_gap_pairs(pairs).unwrap();
            assert!(r.interval.0 <= k && k <= r.interval.1, "{k}: {r:?}");
            assert!((r.k - k).abs() < 0.15 * k, "{k}: {r:?}");
        }
        assert!(Regularity::from_gap_pairs([(1.0, 0.0)]).is_err());
        assert!(Regularity::from_gap_pairs(Vec::new()).is_err());
    }
}
