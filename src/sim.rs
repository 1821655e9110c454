//! Seeded simulators that follow the models exactly: for parameter-recovery tests and
//! benchmarks. The generator is Xoshiro256++ seeded from a `u64`, so a seed gives the same data
//! on every platform.

use crate::data::{RfmSummary, TimeUnit};
use crate::error::{Error, Result};
use crate::models::BgNbdParams;
use rand::SeedableRng;
use rand::rngs::Xoshiro256PlusPlus;
use rand_distr::{Beta, Distribution, Exp, Gamma, Uniform};

fn rng(seed: u64) -> Xoshiro256PlusPlus {
    Xoshiro256PlusPlus::seed_from_u64(seed)
}

/// `n` customer ages spread uniformly (continuous) over `[lo, hi]`, e.g. 1..78 weeks.
///
/// ```
/// let t = clv::sim::uniform_ages(1000, 1.0, 78.0, 7).unwrap();
/// assert!(t.iter().all(|&v| (1.0..=78.0).contains(&v)));
/// ```
pub fn uniform_ages(n: usize, lo: f64, hi: f64, seed: u64) -> Result<Vec<f64>> {
    if !(lo.is_finite() && hi.is_finite() && 0.0 < lo && lo <= hi) {
        return Err(Error::InvalidOption {
            name: "ages",
            reason: format!("need 0 < lo <= hi, got [{lo}, {hi}]"),
        });
    }
    if lo == hi {
        return Ok(vec![lo; n]);
    }
    let u = Uniform::new_inclusive(lo, hi).map_err(|e| Error::InvalidOption {
        name: "ages",
        reason: e.to_string(),
    })?;
    let mut r = rng(seed);
    Ok((0..n).map(|_| u.sample(&mut r)).collect())
}

/// Simulates BG/NBD customers with the given ages `T` (Fader, Hardie & Lee 2005, §2): each
/// customer draws λ ~ Gamma(r, rate α) and p ~ Beta(a, b); from the first purchase at time 0,
/// purchases arrive at rate λ and after each repeat purchase the customer drops out with
/// probability p. Returns their RFM summary (ids `0..n`, the given time unit).
///
/// ```
/// use clv::{BgNbdParams, sim};
/// let m = BgNbdParams::new(0.243, 4.414, 0.793, 2.426).unwrap();
/// let ages = sim::uniform_ages(500, 1.0, 78.0, 1).unwrap();
/// let s = sim::simulate_bgnbd(&m, &ages, clv::TimeUnit::Weeks, 42).unwrap();
/// assert_eq!(s.len(), 500);
/// assert_eq!(s, sim::simulate_bgnbd(&m, &ages, clv::TimeUnit::Weeks, 42).unwrap()); // seeded
/// ```
pub fn simulate_bgnbd(
    params: &BgNbdParams,
    ages: &[f64],
    unit: TimeUnit,
    seed: u64,
) -> Result<RfmSummary> {
    let bad = |e: String| Error::InvalidOption {
        name: "simulation",
        reason: e,
    };
    let lambda = Gamma::new(params.r(), 1.0 / params.alpha()).map_err(|e| bad(e.to_string()))?;
    let dropout = Beta::new(params.a(), params.b()).map_err(|e| bad(e.to_string()))?;
    let mut r = rng(seed);
    let n = ages.len();
    let (mut x, mut t_x) = (Vec::with_capacity(n), Vec::with_capacity(n));
    for &t in ages {
        let l: f64 = lambda.sample(&mut r);
        let p: f64 = dropout.sample(&mut r);
        let (mut now, mut count, mut last) = (0.0_f64, 0u64, 0.0_f64);
        if l > 0.0 {
            let gap = Exp::new(l).map_err(|e| bad(e.to_string()))?;
            loop {
                now += gap.sample(&mut r);
                if now > t {
                    break;
                }
                count += 1;
                last = now;
                if rand::RngExt::random::<f64>(&mut r) < p {
                    break;
                }
            }
        }
        x.push(count as f64);
        t_x.push(last);
    }
    RfmSummary::new(
        (0..n).map(|i| i.to_string()).collect(),
        x,
        t_x,
        ages.to_vec(),
        unit,
    )
}
