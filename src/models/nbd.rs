//! The NBD model (Ehrenberg 1959, "The pattern of consumer purchases", *Applied Statistics*
//! 8(1), 26–41; Morrison & Schmittlein 1988, *JBES* 6(2), 145–159): purchases at Poisson rate
//! λ ~ Gamma(r, α), and no dropout. The baseline every comparison of "buy till you die" models
//! needs: it is what the dropout process has to beat.
//!
//! Given λ, x purchases at their observed times in (0, T] have density λ^x e^{-λT} (the
//! recency t_x carries no information), so over the Gamma
//! `L(r, α | x, T) = Γ(r+x)/Γ(r) · α^r / (α+T)^{r+x}`, the same convention (purchase-time
//! density, no combinatorial factor) as the BG/NBD and Pareto/NBD likelihoods, so
//! log-likelihoods compare across the three.

use crate::data::{CompressedRfm, Customer, RfmSummary};
use crate::error::{Error, Result, nonnegative_option, positive_parameter};
use crate::fit::{FromRfm, MaximumLikelihood};
use crate::models::TransactionModel;
use crate::special::{ln1p_div, trigamma};
use statrs::function::gamma::{digamma, ln_gamma};

/// Validated NBD parameters: r and α of the Gamma distribution of purchase rates, both finite
/// and > 0.
///
/// ```
/// use clv::{Customer, NbdParams, TransactionModel};
/// let m = NbdParams::new(0.385, 12.072).unwrap();
/// assert!((m.expected_purchases(39.0) - 0.385 * 39.0 / 12.072).abs() < 1e-12);
/// let c = Customer::new(2.0, 30.43, 38.86).unwrap();
/// assert_eq!(m.p_alive(&c), 1.0); // nobody drops out
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(try_from = "RawNbd"))]
pub struct NbdParams {
    r: f64,
    alpha: f64,
}

#[cfg(feature = "serde")]
#[cfg_attr(feature = "serde", derive(serde::Deserialize))]
struct RawNbd {
    r: f64,
    alpha: f64,
}

#[cfg(feature = "serde")]
impl TryFrom<RawNbd> for NbdParams {
    type Error = Error;
    fn try_from(p: RawNbd) -> Result<Self> {
        NbdParams::new(p.r, p.alpha)
    }
}

impl NbdParams {
    /// Validates and builds.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] naming a parameter that is not finite and > 0.
    pub fn new(r: f64, alpha: f64) -> Result<Self> {
        Ok(NbdParams {
            r: positive_parameter("r", r)?,
            alpha: positive_parameter("alpha", alpha)?,
        })
    }
    /// Shape of the Gamma distribution of purchase rates.
    pub fn r(&self) -> f64 {
        self.r
    }
    /// Rate parameter of the Gamma distribution of purchase rates (in the data's time unit).
    pub fn alpha(&self) -> f64 {
        self.alpha
    }

    /// Fits the model by maximum likelihood; see [`crate::fit::fit`].
    ///
    /// # Errors
    /// As [`crate::fit::fit`].
    pub fn fit(
        summary: &RfmSummary,
        options: &crate::fit::FitOptions,
    ) -> Result<crate::fit::Fitted<Self>> {
        crate::fit::fit(summary, options)
    }

    /// ln of one customer's likelihood, `lnΓ(r+x) - lnΓ(r) + r ln α - (r+x) ln(α+T)`.
    pub fn ln_likelihood(&self, c: &Customer) -> f64 {
        let (r, x) = (self.r, c.frequency());
        ln_gamma(r + x) - ln_gamma(r) + r * self.alpha.ln() - (r + x) * (self.alpha + c.age()).ln()
    }

    /// Sum of [`ln_likelihood`](Self::ln_likelihood) over a summary.
    pub fn log_likelihood(&self, summary: &RfmSummary) -> f64 {
        ll_grad_hess(&[self.r, self.alpha], &summary.compress(), None, None)
    }

    /// Discounted expected residual transactions: the posterior mean rate (r+x)/(α+T) is
    /// constant in time (nobody drops out), so DERT = (r+x)/(α+T) · (1 - e^{-δH})/δ over
    /// `(T, T + H]` (H·(r+x)/(α+T) at δ = 0; `None`, forever, needs δ > 0).
    ///
    /// # Errors
    /// [`Error::InvalidOption`] for a negative or non-finite rate, an invalid horizon, or an
    /// infinite horizon without discounting; [`Error::Numerical`] when the value overflows (a
    /// rate so small that 1/δ is infinite).
    pub fn dert(&self, c: &Customer, delta: f64, horizon: Option<f64>) -> Result<f64> {
        nonnegative_option("continuous discount rate", delta)?;
        let rate = (self.r + c.frequency()) / (self.alpha + c.age());
        let span = match horizon {
            Some(h) => {
                let h = crate::predict::check_horizon(h)?;
                if delta == 0.0 {
                    h
                } else {
                    -(-delta * h).exp_m1() / delta
                }
            }
            None if delta > 0.0 => 1.0 / delta,
            None => {
                return Err(Error::InvalidOption {
                    name: "continuous discount rate",
                    reason: "an infinite horizon needs a discount rate > 0".into(),
                });
            }
        };
        let v = rate * span;
        if v.is_finite() {
            Ok(v)
        } else {
            Err(Error::Numerical {
                what: format!("DERT of {c:?} at a discount rate of {delta:e}"),
            })
        }
    }
}

/// Total weighted log-likelihood with its gradient and Hessian (row-major 2×2) in (r, α).
fn ll_grad_hess(
    theta: &[f64],
    d: &CompressedRfm,
    grad: Option<&mut [f64]>,
    hess: Option<&mut [f64]>,
) -> f64 {
    let (r, alpha) = (theta[0], theta[1]);
    let n = d.total_weight();
    let want_hess = hess.is_some();
    let want_grad = grad.is_some() || want_hess;
    let (mut ll, mut g, mut h) = (0.0, [0.0; 2], [0.0; 3]);
    let mut last_x = f64::NAN;
    let (mut lg, mut dg, mut tg) = (0.0, 0.0, 0.0);
    for i in 0..d.len() {
        let (x, t, w) = (d.x[i], d.t[i], d.weight[i]);
        if x != last_x {
            last_x = x;
            lg = ln_gamma(r + x);
            if want_grad {
                dg = digamma(r + x);
            }
            if want_hess {
                tg = trigamma(r + x);
            }
        }
        let ln_at = (alpha + t).ln();
        ll += w * (lg - (r + x) * ln_at);
        if want_grad {
            let iat = 1.0 / (alpha + t);
            g[0] += w * (dg - ln_at);
            g[1] -= w * (r + x) * iat;
            if want_hess {
                h[0] += w * tg;
                h[1] -= w * iat;
                h[2] += w * (r + x) * iat * iat;
            }
        }
    }
    if let Some(out) = grad {
        out[0] = g[0] + n * (alpha.ln() - digamma(r));
        out[1] = g[1] + n * r / alpha;
    }
    if let Some(out) = hess {
        out[0] = h[0] - n * trigamma(r);
        out[1] = h[1] + n / alpha;
        out[2] = out[1];
        out[3] = h[2] - n * r / (alpha * alpha);
    }
    ll + n * (r * alpha.ln() - ln_gamma(r))
}

/// P(X = n) of a negative binomial with shape r and success odds t/α, in log space:
/// Γ(r+n)/(Γ(r) n!) (α/(α+t))^r (t/(α+t))^n.
fn nb_pmf(r: f64, alpha: f64, n: u64, t: f64) -> f64 {
    if t == 0.0 {
        return if n == 0 { 1.0 } else { 0.0 };
    }
    let ln_p0 = -r * ln1p_div(t, alpha);
    if n == 0 {
        return ln_p0.exp();
    }
    let nf = n as f64;
    let ln_p = -nf * ln1p_div(alpha, t);
    // the log-gammas round: a probability, so at most 1
    (ln_gamma(r + nf) - ln_gamma(r) - ln_gamma(nf + 1.0) + ln_p0 + ln_p)
        .exp()
        .min(1.0)
}

impl MaximumLikelihood for NbdParams {
    type Data = CompressedRfm;
    const LABEL: &'static str = "NBD";
    const MODEL: &'static str = "nbd";
    const NAMES: &'static [&'static str] = &["r", "alpha"];

    fn n_customers(data: &CompressedRfm) -> f64 {
        data.total_weight()
    }
    fn n_rows(data: &CompressedRfm) -> usize {
        data.len()
    }
    fn from_slice(theta: &[f64]) -> Result<Self> {
        match theta {
            [r, alpha] => NbdParams::new(*r, *alpha),
            _ => Err(crate::models::wrong_length(Self::NAMES, theta.len())),
        }
    }
    fn to_vec(&self) -> Vec<f64> {
        vec![self.r, self.alpha]
    }
    fn starts(data: &CompressedRfm) -> Vec<Vec<f64>> {
        let mean_t = data.mean_age();
        vec![vec![1.0, 1.0], vec![0.5, 0.1 * mean_t], vec![2.0, mean_t]]
    }
    fn log_likelihood_grad(theta: &[f64], data: &CompressedRfm, grad: Option<&mut [f64]>) -> f64 {
        ll_grad_hess(theta, data, grad, None)
    }
    fn subsample(data: &CompressedRfm, rows: usize) -> Option<CompressedRfm> {
        Some(data.spread_subsample(rows))
    }
    fn log_likelihood_hessian(
        theta: &[f64],
        data: &CompressedRfm,
        grad: &mut [f64],
        hess: &mut [f64],
    ) -> Option<f64> {
        Some(ll_grad_hess(theta, data, Some(grad), Some(hess)))
    }
    /// α has the time unit of the data: penalised as α/max(T), as BG/NBD's.
    fn penalty_scales(data: &CompressedRfm) -> Vec<f64> {
        vec![1.0, data.age_scale()]
    }
}

impl FromRfm for NbdParams {
    /// Refuses a summary without a repeat purchase (the rate's estimate is 0, on the
    /// boundary) and one with a single distinct history.
    fn prepare(summary: &RfmSummary) -> Result<CompressedRfm> {
        if summary.frequency().iter().all(|&x| x == 0.0) {
            return Err(Error::NotIdentifiable {
                model: Self::MODEL,
                reason: format!(
                    "none of the {} customers made a repeat purchase, so the purchase rate's \
                     estimate is 0",
                    summary.len()
                ),
            });
        }
        super::prepare_rfm(summary, Self::MODEL)
    }
}

impl TransactionModel for NbdParams {
    /// See the inherent [`NbdParams::dert`].
    fn dert(&self, c: &Customer, delta: f64, horizon: Option<f64>) -> Result<f64> {
        NbdParams::dert(self, c, delta, horizon)
    }
    /// E[X(t)] = r t / α.
    fn expected_purchases(&self, t: f64) -> f64 {
        if !super::valid_t(t) {
            return f64::NAN;
        }
        self.r * t / self.alpha
    }
    /// The negative binomial P(X(t) = n) = Γ(r+n)/(Γ(r) n!) (α/(α+t))^r (t/(α+t))^n.
    fn pmf(&self, n: u64, t: f64) -> f64 {
        if !super::valid_t(t) {
            return f64::NAN;
        }
        nb_pmf(self.r, self.alpha, n, t)
    }
    /// 1: nobody drops out.
    fn p_alive(&self, _: &Customer) -> f64 {
        1.0
    }
    /// E[Y(t) | x, T] = (r+x) t / (α+T): the posterior of λ is Gamma(r+x, α+T).
    fn conditional_expected_purchases(&self, c: &Customer, t: f64) -> f64 {
        if !super::valid_t(t) {
            return f64::NAN;
        }
        (self.r + c.frequency()) * t / (self.alpha + c.age())
    }
    /// The negative binomial at the posterior (r+x, α+T).
    fn conditional_pmf(&self, c: &Customer, n: u64, t: f64) -> f64 {
        if !super::valid_t(t) {
            return f64::NAN;
        }
        nb_pmf(self.r + c.frequency(), self.alpha + c.age(), n, t)
    }
}

impl crate::sim::Simulate for NbdParams {
    /// Each customer draws λ ~ Gamma(r, rate α) and buys at that rate until T.
    ///
    /// ```
    /// use clv::{NbdParams, sim::{Simulate, uniform_ages}};
    /// let m = NbdParams::new(0.385, 12.072).unwrap();
    /// let s = m.simulate(&uniform_ages(500, 1.0, 78.0, 1).unwrap(), clv::TimeUnit::Weeks, 42).unwrap();
    /// assert_eq!(s.len(), 500);
    /// ```
    fn simulate(&self, ages: &[f64], unit: crate::TimeUnit, seed: u64) -> Result<RfmSummary> {
        use rand_distr::{Distribution, Gamma};
        let lambda = Gamma::new(self.r, 1.0 / self.alpha).map_err(|e| Error::InvalidOption {
            name: "simulation",
            reason: e.to_string(),
        })?;
        crate::sim::simulate_customers(ages, unit, seed, |r, t| {
            crate::sim::poisson_purchases(lambda.sample(r), t, r, |_| false)
        })
    }
}

/// NBD: no dropout; λ ~ Gamma(r + x, α + T) (Ehrenberg 1959; the gamma-Poisson update), then
/// Poisson purchases.
impl crate::future::FuturePurchases for NbdParams {
    fn draw_future<R: rand::Rng + ?Sized>(
        &self,
        c: &Customer,
        _p_alive: f64,
        horizon: f64,
        rng: &mut R,
        times: &mut Vec<f64>,
    ) -> Result<()> {
        let lambda = crate::future::gamma(self.r + c.frequency(), self.alpha + c.age(), rng)?;
        crate::future::poisson_times(lambda, horizon, f64::INFINITY, 0.0, rng, times)
    }
}

/// NBD levers: E[Y(t)] is linear in λ, so λ → cλ gives c·E[Y(t)]; there is no dropout.
impl crate::drivers::Levers for NbdParams {
    fn expectations_under(
        &self,
        c: &Customer,
        ts: &[f64],
        rate: f64,
        _dropout: f64,
        out: &mut [f64],
    ) -> bool {
        crate::drivers::dilated(self, c, ts, 1.0, rate, out);
        false
    }
}
