//! Seeded simulators that follow the models exactly: for parameter-recovery tests and
//! benchmarks. The generator is Xoshiro256++ seeded from a `u64`, so a seed gives the same data
//! on every platform.

use crate::data::{RfmSummary, TimeUnit};
use crate::error::{Error, Result};
use crate::models::{BgNbdParams, GammaGammaParams};
#[cfg(feature = "logs")]
use chrono::NaiveDateTime;
use rand::SeedableRng;
use rand_distr::{Beta, Distribution, Exp, Gamma, Uniform};
use rand_xoshiro::Xoshiro256PlusPlus;

pub(crate) fn rng(seed: u64) -> Xoshiro256PlusPlus {
    Xoshiro256PlusPlus::seed_from_u64(seed)
}

/// `n` customer ages spread uniformly (continuous) over `[lo, hi]`, e.g. 1..78 weeks.
///
/// ```
/// let t = clv::sim::uniform_ages(1000, 1.0, 78.0, 7).unwrap();
/// assert!(t.iter().all(|&v| (1.0..=78.0).contains(&v)));
/// ```
///
/// # Errors
/// [`Error::InvalidOption`] unless 0 <= `lo` < `hi` are finite.
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
///
/// # Errors
/// [`Error::InvalidOption`] for ages that are not finite and >= 0 (or parameters the
/// distributions refuse).
pub fn simulate_bgnbd(
    params: &BgNbdParams,
    ages: &[f64],
    unit: TimeUnit,
    seed: u64,
) -> Result<RfmSummary> {
    let lambda = Gamma::new(params.r(), 1.0 / params.alpha()).map_err(invalid)?;
    let dropout = Beta::new(params.a(), params.b()).map_err(invalid)?;
    simulate_customers(ages, unit, seed, |r, t| {
        let l: f64 = lambda.sample(r);
        let p: f64 = dropout.sample(r);
        poisson_purchases(l, t, r, |r| rand::Rng::random::<f64>(r) < p)
    })
}

/// The error of a distribution the simulator cannot build from the parameters, or of an input
/// it refuses.
pub(crate) fn invalid(e: impl std::fmt::Display) -> Error {
    Error::InvalidOption {
        name: "simulation",
        reason: e.to_string(),
    }
}

/// One simulated customer per age T (ids `0..n`, in `unit`): `draw(rng, T)` gives their repeat
/// purchases and the time of the last. The loop every [`Simulate`] implementation shares.
pub(crate) fn simulate_customers(
    ages: &[f64],
    unit: TimeUnit,
    seed: u64,
    mut draw: impl FnMut(&mut Xoshiro256PlusPlus, f64) -> Result<(u64, f64)>,
) -> Result<RfmSummary> {
    let (x, t_x, _) = simulate_rows(ages, seed, |r, t| {
        draw(r, t).map(|(count, last)| (count, last, 0.0))
    })?;
    summary_of(ages, unit, x, t_x)
}

/// [`simulate_customers`] for models whose draw also gives litt, the sum of the logarithms of
/// the inter-purchase times (the Erlang-k models): the summary carries it.
pub(crate) fn simulate_customers_with_litt(
    ages: &[f64],
    unit: TimeUnit,
    seed: u64,
    draw: impl FnMut(&mut Xoshiro256PlusPlus, f64) -> Result<(u64, f64, f64)>,
) -> Result<RfmSummary> {
    let (x, t_x, litt) = simulate_rows(ages, seed, draw)?;
    summary_of(ages, unit, x, t_x)?.with_litt(litt)
}

type Rows = (Vec<f64>, Vec<f64>, Vec<f64>);

fn simulate_rows(
    ages: &[f64],
    seed: u64,
    mut draw: impl FnMut(&mut Xoshiro256PlusPlus, f64) -> Result<(u64, f64, f64)>,
) -> Result<Rows> {
    let mut r = rng(seed);
    let n = ages.len();
    let (mut x, mut t_x, mut litt) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    for &t in ages {
        let (count, last, log_gaps) = draw(&mut r, t)?;
        x.push(count as f64);
        t_x.push(last);
        litt.push(log_gaps);
    }
    Ok((x, t_x, litt))
}

fn summary_of(ages: &[f64], unit: TimeUnit, x: Vec<f64>, t_x: Vec<f64>) -> Result<RfmSummary> {
    RfmSummary::new(
        (0..ages.len()).map(|i| i.to_string()).collect(),
        x,
        t_x,
        ages.to_vec(),
        unit,
    )
}

/// Purchases at Poisson rate `rate` (>= 0) from time 0 until `end`, stopping early when
/// `stop_after` (drawn after each purchase) says so: the count and the time of the last.
pub(crate) fn poisson_purchases<R: rand::Rng>(
    rate: f64,
    end: f64,
    rng: &mut R,
    mut stop_after: impl FnMut(&mut R) -> bool,
) -> Result<(u64, f64)> {
    let (mut now, mut count, mut last) = (0.0_f64, 0u64, 0.0_f64);
    if rate > 0.0 {
        let gap = Exp::new(rate).map_err(|e| Error::InvalidOption {
            name: "simulation",
            reason: e.to_string(),
        })?;
        loop {
            now += gap.sample(rng);
            if now > end {
                break;
            }
            count += 1;
            last = now;
            if stop_after(rng) {
                break;
            }
        }
    }
    Ok((count, last))
}

/// A transaction model that can simulate customers: what `clv report`'s period-transaction
/// plot and the parameter-recovery tests use, for every model.
pub trait Simulate {
    /// `ages.len()` customers with the given ages T (first purchase at 0), seeded: their RFM
    /// summary (ids `0..n`, in `unit`).
    ///
    /// # Errors
    /// [`Error::InvalidOption`] for ages that are not finite and >= 0.
    fn simulate(&self, ages: &[f64], unit: TimeUnit, seed: u64) -> Result<RfmSummary>;
}

impl Simulate for BgNbdParams {
    fn simulate(&self, ages: &[f64], unit: TimeUnit, seed: u64) -> Result<RfmSummary> {
        simulate_bgnbd(self, ages, unit, seed)
    }
}

/// Simulates Gamma-Gamma mean spends (Fader, Hardie & Lee 2005, "RFM and CLV", §3): each
/// customer draws ν ~ Gamma(q, rate v), and each of their `x` repeat purchases is
/// z ~ Gamma(p, rate ν); the result is the mean of the z's (0 when x = 0). The sum of x such
/// z's is Gamma(px, rate ν), drawn in one step.
///
/// ```
/// use clv::{GammaGammaParams, sim};
/// let gg = GammaGammaParams::new(6.25, 3.74, 15.44).unwrap();
/// let m = sim::simulate_gamma_gamma(&gg, &[0.0, 1.0, 5.0], 3).unwrap();
/// assert_eq!(m[0], 0.0);
/// assert!(m[1] > 0.0 && m[2] > 0.0);
/// ```
///
/// # Errors
/// [`Error::InvalidOption`] for frequencies that are not whole numbers >= 0.
pub fn simulate_gamma_gamma(
    params: &GammaGammaParams,
    frequency: &[f64],
    seed: u64,
) -> Result<Vec<f64>> {
    let nu = Gamma::new(params.q(), 1.0 / params.v()).map_err(invalid)?;
    let mut r = rng(seed);
    frequency
        .iter()
        .map(|&x| {
            if !(x.is_finite() && x >= 0.0) {
                return Err(invalid(format!(
                    "frequencies must be finite and >= 0, got {x}"
                )));
            }
            if x == 0.0 {
                return Ok(0.0);
            }
            let n: f64 = nu.sample(&mut r);
            let total = Gamma::new(params.p() * x, 1.0 / n).map_err(invalid)?;
            Ok(total.sample(&mut r) / x)
        })
        .collect()
}

#[cfg(feature = "logs")]
/// A simulated transaction log: who bought, when, for how much.
#[derive(Debug, Clone, Copy)]
pub struct LogSpec {
    /// Number of customers.
    pub customers: usize,
    /// Start of the acquisition window (first purchases are uniform over it).
    pub start: NaiveDateTime,
    /// Length of the acquisition window, in `unit`.
    pub acquisition: f64,
    /// End of the log (inclusive).
    pub end: NaiveDateTime,
    /// The unit the BG/NBD parameters' rates are in (α is in this unit).
    pub unit: TimeUnit,
}

#[cfg(feature = "logs")]
/// Simulates a transaction log that follows BG/NBD for the purchase times and Gamma-Gamma for
/// the amounts, calling `emit(customer, time, amount)` for each transaction in time order per
/// customer (customers one after another), so that logs of any size can be streamed to a file.
/// Each customer makes a first purchase at a uniform time in the acquisition window, then
/// repeat purchases at rate λ ~ Gamma(r, rate α) until `end`, dropping out with probability
/// p ~ Beta(a, b) after each repeat purchase; every amount is Gamma(p_gg, rate ν) with
/// ν ~ Gamma(q, rate v). Times are continuous (to the second). Returns the number of
/// transactions.
///
/// ```
/// use clv::{BgNbdParams, GammaGammaParams, TimeUnit, sim::{simulate_transactions, LogSpec}};
/// use chrono::NaiveDate;
/// let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap().and_hms_opt(0, 0, 0).unwrap();
/// let bg = BgNbdParams::new(0.243, 4.414, 0.793, 2.426).unwrap();
/// let gg = GammaGammaParams::new(6.25, 3.74, 15.44).unwrap();
/// let spec = LogSpec { customers: 100, start: d(1997, 1, 1), acquisition: 12.0, end: d(1998, 6, 30), unit: TimeUnit::Weeks };
/// let mut rows = Vec::new();
/// let n = simulate_transactions(&bg, &gg, &spec, 7, |c, t, a| rows.push((c, t, a))).unwrap();
/// assert_eq!(n, rows.len());
/// assert!(n >= 100 && rows.iter().all(|r| r.1 <= spec.end && r.2 > 0.0));
/// ```
///
/// # Errors
/// [`Error::InvalidOption`] for an invalid log specification (no customers, an end before
/// the start...).
pub fn simulate_transactions(
    bg: &BgNbdParams,
    gg: &GammaGammaParams,
    spec: &LogSpec,
    seed: u64,
    mut emit: impl FnMut(usize, NaiveDateTime, f64),
) -> Result<usize> {
    let unit_seconds = spec.unit.days() * 86_400.0;
    let window = spec.acquisition * unit_seconds;
    let span = (spec.end - spec.start).num_seconds() as f64;
    if !(window.is_finite() && window >= 0.0 && window <= span) {
        return Err(invalid(format!(
            "the acquisition window ({} {:?}) must be >= 0 and end by the end of the log",
            spec.acquisition, spec.unit
        )));
    }
    let lambda = Gamma::new(bg.r(), 1.0 / bg.alpha()).map_err(invalid)?;
    let dropout = Beta::new(bg.a(), bg.b()).map_err(invalid)?;
    let nu = Gamma::new(gg.q(), 1.0 / gg.v()).map_err(invalid)?;
    let mut r = rng(seed);
    let mut rows = 0;
    let at = |s: f64| spec.start + chrono::Duration::seconds(s as i64);
    for c in 0..spec.customers {
        let first = rand::Rng::random::<f64>(&mut r) * window;
        let l: f64 = lambda.sample(&mut r);
        let p: f64 = dropout.sample(&mut r);
        let n: f64 = nu.sample(&mut r);
        let amount = Gamma::new(gg.p(), 1.0 / n).map_err(invalid)?;
        emit(c, at(first), amount.sample(&mut r));
        rows += 1;
        if l > 0.0 {
            let gap = Exp::new(l).map_err(invalid)?;
            let mut now = first;
            loop {
                now += gap.sample(&mut r) * unit_seconds;
                if now > span {
                    break;
                }
                emit(c, at(now), amount.sample(&mut r));
                rows += 1;
                if rand::Rng::random::<f64>(&mut r) < p {
                    break;
                }
            }
        }
    }
    Ok(rows)
}
