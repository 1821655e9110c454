//! Predictive intervals: where a customer's *actual* number of purchases over a horizon will
//! fall, from the model's conditional distribution P(Y(t) = n | x, t_x, T). They answer a
//! different question than [`crate::uncertainty`]'s bootstrap intervals, which bound the
//! *expected* value (the parameters' uncertainty only) and are far narrower: on the CDNOW
//! holdout the actual counts fall inside 90% parameter intervals of E\[Y\] for 0.9% of
//! customers, and inside 90% predictive intervals for 94.7% (BG/NBD; Pareto/NBD 95.1%,
//! MBG/NBD 94.6%: conservative, as counts are discrete; see `tests/predictive.rs`).
//!
//! The interval at level q is equal-tailed over the discrete distribution: `low` is the
//! smallest n with P(Y <= n) >= (1 − q)/2 and `high` the smallest n with P(Y <= n) >=
//! (1 + q)/2, so P(low <= Y <= high) >= q (more when the distribution is lumpy, as for the
//! many customers whose likeliest count is 0).

use crate::data::{Customer, RfmSummary};
use crate::error::{Error, Result};
use crate::future::{FuturePurchases, SimRng};
use crate::models::{GammaGammaParams, Schedule, TransactionModel};
use crate::value::ClvOptions;

/// An equal-tailed predictive interval for a count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CountInterval {
    /// Lower bound (inclusive).
    pub low: u64,
    /// Upper bound (inclusive).
    pub high: u64,
}

impl CountInterval {
    /// Whether `n` lies in the interval.
    pub fn contains(&self, n: f64) -> bool {
        n >= self.low as f64 && n <= self.high as f64
    }
}

/// The most terms of the conditional pmf summed for one interval: a count beyond it has
/// probability below any level this module accepts for the customers of real data; reaching
/// it is an error rather than a silent bound.
const MAX_COUNT: u64 = 1_000_000;

fn check_level(level: f64) -> Result<f64> {
    if level.is_finite() && level > 0.0 && level < 1.0 {
        Ok(level)
    } else {
        Err(Error::InvalidOption {
            name: "interval level",
            reason: format!("must be in (0, 1), got {level}"),
        })
    }
}

/// The equal-tailed predictive interval at `level` for the purchases of customer `c` in the
/// next `t` periods, from the conditional pmf.
///
/// ```
/// use clv::{BgNbdParams, Customer};
/// use clv::predictive::purchase_interval;
/// let m = BgNbdParams::new(0.243, 4.414, 0.793, 2.426)?;
/// let heavy = Customer::new(26.0, 30.857143, 31.0)?;
/// let iv = purchase_interval(&m, &heavy, 39.0, 0.9)?;
/// assert!(iv.contains(20.0) && iv.high <= 45, "{iv:?}");
/// let one_time = Customer::new(0.0, 0.0, 38.86)?;
/// assert_eq!(purchase_interval(&m, &one_time, 39.0, 0.9)?.low, 0);
/// # Ok::<(), clv::Error>(())
/// ```
///
/// # Errors
/// [`Error::InvalidOption`] for a level outside (0, 1) or an invalid horizon;
/// [`Error::Numerical`] when the pmf is not finite or has not reached the upper quantile by
/// 10^6 purchases.
pub fn purchase_interval<M: TransactionModel>(
    model: &M,
    c: &Customer,
    t: f64,
    level: f64,
) -> Result<CountInterval> {
    let level = check_level(level)?;
    let t = crate::predict::check_horizon(t)?;
    let (q_lo, q_hi) = ((1.0 - level) / 2.0, (1.0 + level) / 2.0);
    let mut cdf = 0.0;
    let mut low = None;
    for n in 0..=MAX_COUNT {
        let p = model.conditional_pmf(c, n, t);
        if !p.is_finite() {
            return Err(Error::Numerical {
                what: format!("P(Y({t}) = {n}) of {c:?}"),
            });
        }
        cdf += p;
        if low.is_none() && cdf >= q_lo {
            low = Some(n);
        }
        if cdf >= q_hi {
            return Ok(CountInterval {
                low: low.unwrap_or(n),
                high: n,
            });
        }
    }
    Err(Error::Numerical {
        what: format!(
            "the purchases of {c:?} over {t}: the conditional pmf sums to {cdf} by {MAX_COUNT}"
        ),
    })
}

/// [`purchase_interval`] for every customer of a summary, in order (in parallel with the
/// `parallel` feature).
///
/// # Errors
/// As [`purchase_interval`], for the first customer that fails.
pub fn purchase_intervals<M: TransactionModel + Sync>(
    model: &M,
    summary: &RfmSummary,
    t: f64,
    level: f64,
) -> Result<Vec<CountInterval>> {
    check_level(level)?;
    crate::predict::check_horizon(t)?;
    crate::par::map_range(summary.len(), |i| {
        purchase_interval(model, &summary.customer(i), t, level)
    })
    .into_iter()
    .collect()
}

/// The share of customers whose actual holdout purchases lie in their predictive interval at
/// `level` over the holdout window: the check that the intervals mean what they say (about
/// `level` or more, since counts are discrete).
///
/// # Errors
/// [`Error::InvalidOption`] when the summary has no holdout; otherwise as
/// [`purchase_intervals`].
pub fn holdout_coverage<M: TransactionModel + Sync>(
    model: &M,
    summary: &RfmSummary,
    level: f64,
) -> Result<f64> {
    let h = summary.holdout().ok_or(Error::InvalidOption {
        name: "summary",
        reason: "has no holdout period (summarise with an observation end)".into(),
    })?;
    let iv = purchase_intervals(model, summary, h.duration, level)?;
    let inside = iv
        .iter()
        .zip(&h.frequency)
        .filter(|(i, y)| i.contains(**y))
        .count();
    Ok(inside as f64 / summary.len().max(1) as f64)
}

/// An equal-tailed predictive interval for a customer's value over a horizon.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ValueInterval {
    /// Lower bound.
    pub low: f64,
    /// Upper bound.
    pub high: f64,
    /// The mean of the draws (close to the expected CLV; a check, not the estimate).
    pub mean: f64,
}

impl ValueInterval {
    /// Whether `v` lies in the interval.
    pub fn contains(&self, v: f64) -> bool {
        v >= self.low && v <= self.high
    }
}

/// The fewest draws [`value_interval`] accepts.
pub const MIN_VALUE_DRAWS: usize = 100;

/// The equal-tailed predictive interval at `level` for the value customer `c` will actually
/// bring over `opts`' horizon (margin × discounted spend), by simulation given the parameters:
/// each of `draws` draws takes the customer's future purchases from the transaction model's
/// posterior ([`FuturePurchases`]), a spend rate ν ~ Gamma(q + p·x, v + x·m̄) from the
/// Gamma-Gamma posterior (Fader, Hardie & Lee 2005, "RFM and CLV", eq. 4; the prior for
/// x = 0), and each purchase's spend z ~ Gamma(p, ν); a purchase at time u is discounted by the
/// factor of the schedule step that holds u, as [`crate::value::customer_value`] discounts
/// the expectation (whose value the draws' mean approaches). The bounds are the draws'
/// (1 − level)/2 and (1 + level)/2 quantiles (nearest rank). Seeded: same seed, same interval.
///
/// ```
/// use clv::{BgNbdParams, Customer, GammaGammaParams, TimeUnit};
/// use clv::predictive::value_interval;
/// use clv::value::{customer_value, ClvOptions};
/// let bg = BgNbdParams::new(0.243, 4.414, 0.793, 2.426)?;
/// let gg = GammaGammaParams::new(6.25, 3.74, 15.44)?;
/// let c = Customer::new(2.0, 30.43, 38.86)?;
/// let o = ClvOptions::new(39.0, TimeUnit::Weeks)?;
/// let iv = value_interval(&bg, &gg, &c, 22.35, &o, 0.9, 20_000, 1)?;
/// let expected = customer_value(&bg, &gg, &c, 22.35, &o)?;
/// assert_eq!(iv.low, 0.0); // a fair chance of no purchase at all
/// assert!(iv.high > 2.0 * expected);
/// assert!((iv.mean - expected).abs() < 0.03 * expected);
/// # Ok::<(), clv::Error>(())
/// ```
///
/// # Errors
/// [`Error::InvalidOption`] for a level outside (0, 1) or fewer than [`MIN_VALUE_DRAWS`]
/// draws; [`Error::InvalidData`] for a mean spend that is not finite and >= 0.
#[allow(clippy::too_many_arguments)]
pub fn value_interval<M: TransactionModel + FuturePurchases>(
    model: &M,
    spend: &GammaGammaParams,
    c: &Customer,
    mean_spend: f64,
    opts: &ClvOptions,
    level: f64,
    draws: usize,
    seed: u64,
) -> Result<ValueInterval> {
    check_value_args(level, draws)?;
    let schedule = opts.schedule();
    value_interval_with(
        model,
        spend,
        c,
        mean_spend,
        opts.margin(),
        &schedule,
        level,
        draws,
        seed,
    )
}

fn check_value_args(level: f64, draws: usize) -> Result<()> {
    check_level(level)?;
    if draws < MIN_VALUE_DRAWS {
        return Err(Error::InvalidOption {
            name: "draws",
            reason: format!("at least {MIN_VALUE_DRAWS} for a predictive interval, got {draws}"),
        });
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn value_interval_with<M: TransactionModel + FuturePurchases>(
    model: &M,
    spend: &GammaGammaParams,
    c: &Customer,
    mean_spend: f64,
    margin: f64,
    schedule: &Schedule,
    level: f64,
    draws: usize,
    seed: u64,
) -> Result<ValueInterval> {
    use rand::SeedableRng;
    if !(mean_spend.is_finite() && mean_spend >= 0.0) {
        return Err(Error::InvalidData {
            row: None,
            customer: None,
            field: "monetary_value",
            issue: crate::error::DataIssue::Unparseable {
                text: mean_spend.to_string(),
                expected: "a finite mean spend >= 0".into(),
            },
        });
    }
    let horizon = *schedule.horizons().last().unwrap_or(&0.0);
    let x = c.frequency();
    let (shape, rate) = (spend.q() + spend.p() * x, spend.v() + x * mean_spend);
    let mut rng = SimRng::seed_from_u64(seed);
    let p_alive = model.p_alive(c);
    let mut times = Vec::new();
    let mut values = Vec::with_capacity(draws);
    for _ in 0..draws {
        times.clear();
        model.draw_future(c, p_alive, horizon, &mut rng, &mut times)?;
        if times.is_empty() {
            values.push(0.0);
            continue;
        }
        let nu = crate::future::gamma(shape, rate, &mut rng)?;
        // each purchase's spend ~ Gamma(p, rate ν): one distribution per draw
        let per_purchase =
            rand_distr::Gamma::new(spend.p(), 1.0 / nu).map_err(crate::sim::invalid)?;
        let mut v = 0.0;
        for &u in &times {
            let z: f64 = rand_distr::Distribution::sample(&per_purchase, &mut rng);
            let step = schedule
                .horizons()
                .partition_point(|&h| h < u)
                .min(schedule.factors().len() - 1);
            v += z * schedule.factors()[step];
        }
        values.push(margin * v);
    }
    let mean = values.iter().sum::<f64>() / draws as f64;
    values.sort_by(f64::total_cmp);
    let n = draws as f64;
    let lo = (((1.0 - level) / 2.0 * n).floor() as usize).min(draws - 1);
    let hi = ((((1.0 + level) / 2.0 * n).ceil() as usize).max(1) - 1).min(draws - 1);
    Ok(ValueInterval {
        low: values[lo],
        high: values[hi],
        mean,
    })
}

/// [`value_interval`] for every customer of a summary (its monetary values as the mean
/// spends), in order, in parallel with the `parallel` feature; customer i's draws are seeded
/// from `seed` and i, so the result does not depend on the number of threads.
///
/// # Errors
/// [`Error::InvalidOption`] when the summary has no monetary values or its unit differs from
/// `opts`'; otherwise as [`value_interval`], for the first customer that fails.
pub fn value_intervals<M: TransactionModel + FuturePurchases + Sync>(
    model: &M,
    spend: &GammaGammaParams,
    summary: &RfmSummary,
    opts: &ClvOptions,
    level: f64,
    draws: usize,
    seed: u64,
) -> Result<Vec<ValueInterval>> {
    check_value_args(level, draws)?;
    let m = summary.monetary_value().ok_or(Error::InvalidOption {
        name: "summary",
        reason: "has no monetary values (a spend per customer is needed for CLV)".into(),
    })?;
    opts.check_unit(summary.unit(), "the summary")?;
    let schedule = opts.schedule();
    crate::par::map_range(summary.len(), |i| {
        // splitmix64 of (seed, i): independent streams per customer
        let mut z = seed
            ^ (i as u64)
                .wrapping_add(1)
                .wrapping_mul(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        value_interval_with(
            model,
            spend,
            &summary.customer(i),
            m[i],
            opts.margin(),
            &schedule,
            level,
            draws,
            z ^ (z >> 31),
        )
        .map_err(|e| match e {
            Error::InvalidData {
                row: None,
                customer: None,
                field,
                issue,
            } => Error::InvalidData {
                row: Some(i + 1),
                customer: Some(summary.ids()[i].clone()),
                field,
                issue,
            },
            other => other,
        })
    })
    .into_iter()
    .collect()
}
