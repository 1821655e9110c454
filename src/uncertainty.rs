//! Per-customer uncertainty from parameter uncertainty, by parametric bootstrap: parameter
//! vectors are drawn from the estimates' sampling distribution — ln θ ~ N(ln θ̂, Σ_φ) with
//! Σ_φ = J⁻¹ Cov(θ̂) J⁻¹, J = diag(θ̂), the same log-scale normal approximation the fit's
//! intervals use, so every draw is a valid parameter set — and every customer's predictions are
//! recomputed under each draw; the interval is the empirical quantile range of those values.
//!
//! Draws are made from a seeded generator before any parallel work, so results are identical
//! for a seed whatever the number of threads. Customers are processed in parallel (rayon).

use crate::data::{FrequencyGroups, RfmSummary};
use crate::error::{Error, Result};
use crate::fit::{Fitted, MaximumLikelihood};
use crate::models::{Schedule, SchedulePlan, SpendModel, TransactionModel};
use crate::value::{CLV_NEEDS_SPEND, ClvOptions, value};
use nalgebra::{DMatrix, DVector};
use rand::SeedableRng;
use rand_distr::{Distribution, StandardNormal};
use rand_xoshiro::Xoshiro256PlusPlus;

/// Options of [`intervals`]: number of draws (>= 20), interval level in (0, 1), seed.
///
/// ```
/// use clv::uncertainty::BootstrapOptions;
/// let o = BootstrapOptions::new(200, 0.9, 42).unwrap();
/// assert!(BootstrapOptions::new(5, 0.9, 42).is_err());
/// assert!(BootstrapOptions::new(200, 1.0, 42).is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BootstrapOptions {
    draws: usize,
    level: f64,
    seed: u64,
}

impl BootstrapOptions {
    /// Validates and builds.
    ///
    /// # Errors
    /// [`Error::InvalidOption`] for fewer than 2 draws or a level outside (0, 1).
    pub fn new(draws: usize, level: f64, seed: u64) -> Result<Self> {
        if draws < 20 {
            return Err(Error::InvalidOption {
                name: "draws",
                reason: format!("need at least 20 bootstrap draws, got {draws}"),
            });
        }
        if !(level > 0.0 && level < 1.0) {
            return Err(Error::InvalidOption {
                name: "interval level",
                reason: format!("must be in (0, 1), got {level}"),
            });
        }
        Ok(BootstrapOptions { draws, level, seed })
    }
}

/// A two-sided interval.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub struct Interval {
    /// Lower end.
    pub low: f64,
    /// Upper end.
    pub high: f64,
}

/// One customer's intervals.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub struct CustomerIntervals {
    /// P(alive).
    pub p_alive: Interval,
    /// Expected purchases over the horizon.
    pub expected_purchases: Interval,
    /// CLV, when a spend model was given.
    pub clv: Option<Interval>,
}

/// `n` parameter draws from a fitted model's log-scale normal sampling distribution; draws that
/// `accept` rejects (e.g. a spend model without a finite mean) are redrawn, up to 100·n tries.
///
/// # Errors
/// [`Error::SingularHessian`] without a covariance; [`Error::Numerical`] when too many draws
/// are rejected.
pub fn sample_params<M: MaximumLikelihood, R: rand::Rng + ?Sized>(
    f: &Fitted<M>,
    n: usize,
    rng: &mut R,
    accept: impl Fn(&M) -> bool,
) -> Result<Vec<M>> {
    let cov = f.covariance().ok_or(Error::SingularHessian {
        detail: "no covariance: parameter uncertainty cannot be propagated".into(),
    })?;
    let theta = f.params().to_vec();
    let kinds = f.params().param_kinds();
    let k = theta.len();
    // the sampling distribution is normal on the scale the parameters were fitted on
    let jac: Vec<f64> = (0..k).map(|i| kinds[i].jacobian(theta[i])).collect();
    // Whole parameters (the Erlang order) are held at their value: a unit variance for the
    // factorisation, the drawn value replaced below
    let whole = |i: usize| kinds[i] == crate::fit::ParamKind::Whole;
    let s = DMatrix::from_fn(k, k, |i, j| {
        if whole(i) || whole(j) {
            f64::from(u8::from(i == j))
        } else {
            cov[i][j] / (jac[i] * jac[j])
        }
    });
    let l = s.cholesky().ok_or(Error::SingularHessian {
        detail: "covariance is not positive definite".into(),
    })?;
    let mean = DVector::from_iterator(
        k,
        theta
            .iter()
            .zip(&kinds)
            .map(|(t, kd)| kd.to_free(*t).unwrap_or(f64::NAN)),
    );
    let mut out = Vec::with_capacity(n);
    let mut tries = 0;
    while out.len() < n {
        tries += 1;
        if tries > 100 * n {
            return Err(Error::Numerical {
                what: format!(
                    "{} bootstrap: too many draws rejected (estimates at the edge of the valid region)",
                    M::MODEL
                ),
            });
        }
        let z = DVector::from_iterator(k, (0..k).map(|_| StandardNormal.sample(rng)));
        let phi = &mean + l.l() * z;
        let draw: Vec<f64> = phi
            .iter()
            .zip(&kinds)
            .enumerate()
            .map(|(i, (p, kd))| {
                if whole(i) {
                    theta[i]
                } else {
                    kd.to_natural(*p)
                }
            })
            .collect();
        if let Ok(m) = f.params().with_values(&draw)
            && accept(&m)
        {
            out.push(m);
        }
    }
    Ok(out)
}

/// Type-7 quantile (linear between order statistics) of `values`, reordering them: a
/// selection, O(n), instead of a sort.
fn quantile(values: &mut [f64], q: f64) -> f64 {
    let h = (values.len() - 1) as f64 * q;
    let (lo, frac) = (h.floor() as usize, h - h.floor());
    let (_, &mut v_lo, above) = values.select_nth_unstable_by(lo, f64::total_cmp);
    // the next order statistic is the smallest of those above
    match above.iter().copied().min_by(f64::total_cmp) {
        Some(v_hi) if frac > 0.0 => v_lo + frac * (v_hi - v_lo),
        _ => v_lo,
    }
}

fn interval(values: &mut [f64], level: f64) -> Interval {
    let a = (1.0 - level) / 2.0;
    Interval {
        low: quantile(values, a),
        high: quantile(values, 1.0 - a),
    }
}

/// Bootstrap intervals for every customer of `summary`: P(alive), expected purchases over
/// `horizon`, and, with a spend model and [`ClvOptions`], CLV. The spend draws are independent
/// of the transaction draws (the models are fitted separately; Gamma-Gamma assumes spend
/// independent of frequency) and are restricted to q > 1, where CLV exists.
///
/// ```
/// use clv::{BgNbdParams, FitOptions, io::read_summary_csv, TimeUnit, GammaGammaParams};
/// use clv::uncertainty::{intervals, BootstrapOptions};
/// let path = concat!(env!("CARGO_MANIFEST_DIR"), "/data/cdnow_customers_summary.csv");
/// let s = read_summary_csv(path, TimeUnit::Weeks).unwrap();
/// let f = BgNbdParams::fit(&s, &FitOptions::default()).unwrap();
/// let iv = intervals::<_, GammaGammaParams>(&f, None, &s, 39.0, None, &BootstrapOptions::new(100, 0.9, 7).unwrap()).unwrap();
/// assert!(iv[0].expected_purchases.low < iv[0].expected_purchases.high);
/// ```
///
/// # Errors
/// [`Error::InvalidOption`] for an invalid horizon, or a spend model without CLV options (or
/// the reverse); the errors of [`sample_params`] and of the CLV of the first failing customer.
pub fn intervals<T, S>(
    transactions: &Fitted<T>,
    spend: Option<&Fitted<S>>,
    summary: &RfmSummary,
    horizon: f64,
    clv: Option<&ClvOptions>,
    options: &BootstrapOptions,
) -> Result<Vec<CustomerIntervals>>
where
    T: MaximumLikelihood + TransactionModel + Clone + Send + Sync + 'static,
    S: MaximumLikelihood + SpendModel + Sync,
{
    let horizon = crate::predict::check_horizon(horizon)?;
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(options.seed);
    let k = options.draws;
    let t_draws = sample_params(transactions, k, &mut rng, |_| true)?;
    let spend_part = match (spend, clv) {
        (Some(sf), Some(o)) => {
            let draws = sample_params(sf, k, &mut rng, |m: &S| m.population_mean_spend().is_ok())?;
            let m = summary.require_monetary_value(CLV_NEEDS_SPEND)?;
            Some((draws, m, o))
        }
        (None, None) => None,
        _ => {
            return Err(Error::InvalidOption {
                name: "intervals",
                reason: "CLV intervals need both a spend model and CLV options".into(),
            });
        }
    };
    let groups = std::sync::Arc::new(FrequencyGroups::new(summary));
    let mut schedules = vec![Schedule::horizon(horizon)?];
    if let Some((_, _, o)) = &spend_part {
        schedules.push(o.schedule());
    }
    let schedules: std::sync::Arc<[Schedule]> = schedules.into();
    let plans: Vec<Box<dyn SchedulePlan>> =
        crate::par::map_slice(&t_draws, |m| m.plan(&groups, &schedules));
    let one = |(pa, ep, cv): &mut (Vec<f64>, Vec<f64>, Vec<f64>), i: usize| {
        let c = summary.customer(i);
        // per draw: P(alive), P(alive)·E[Y(horizon)] and, with CLV, P(alive)·discounted purchases
        let mut vals = [0.0; 2];
        for (j, plan) in plans.iter().enumerate() {
            pa[j] = plan.eval(&c, &mut vals[..schedules.len()]);
            ep[j] = vals[0];
            if let Some((draws, mv, o)) = &spend_part {
                cv[j] = value(&draws[j], &c, mv[i], vals[1], o)
                    .map_err(|e| e.for_customer(&summary.ids()[i]))?;
            }
        }
        Ok(CustomerIntervals {
            p_alive: interval(pa, options.level),
            expected_purchases: interval(ep, options.level),
            clv: spend_part.as_ref().map(|_| interval(cv, options.level)),
        })
    };
    let init = || (vec![0.0; k], vec![0.0; k], vec![0.0; k]);
    let out: Result<Vec<CustomerIntervals>> =
        crate::par::try_map_range_with(summary.len(), init, one);
    // on failure, report the first failing customer, whatever the thread schedule
    out.or_else(|_| {
        let mut bufs = init();
        (0..summary.len()).map(|i| one(&mut bufs, i)).collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_match_sorting() {
        let mut v: Vec<f64> = (0..101).map(|i| ((i * 37) % 101) as f64).collect();
        for (q, want) in [(0.0, 0.0), (0.05, 5.0), (0.333, 33.3), (1.0, 100.0)] {
            assert!((quantile(&mut v, q) - want).abs() < 1e-12, "{q}");
        }
        let mut w = vec![3.0, 1.0, 2.0, 10.0];
        // h = 3 · 0.9 = 2.7: 3 + 0.7 · (10 - 3)
        assert!((quantile(&mut w, 0.9) - 7.9).abs() < 1e-12);
        assert_eq!(quantile(&mut [4.0], 0.5), 4.0);
    }
}
