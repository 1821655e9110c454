//! The MBG/NBD model (Batislam, Denizel & Filiztekin 2007, "Empirical validation and comparison
//! of models for customer base analysis", *International Journal of Research in Marketing*
//! 24(3), 201–209; with Wagner & Hoppe's 2008 erratum, *IJRM* 25(3), 225–226).
//!
//! BG/NBD with one change: a customer may drop out right after the first purchase (time 0)
//! as well as after each repeat purchase, each time with probability p ~ Beta(a, b). So a
//! one-time buyer is not certainly alive, the complaint users have with BG/NBD.
//!
//! Every prediction follows from one identity. A customer alive at T has survived x + 1
//! dropout draws, so their dropout probability is Beta(a, b+x+1) given alive, and from then on
//! they behave as a BG/NBD customer: every prediction given alive is BG/NBD's with b replaced by
//! b + 1 (the [`given_alive`](MbgNbdParams::given_alive) parameters). A new customer survives
//! the first draw with probability b/(a+b), after which p is Beta(a, b+1).

use crate::data::{CompressedRfm, Customer, RfmSummary};
use crate::error::{Result, positive_parameter};
use crate::fit::{FromRfm, MaximumLikelihood};
use crate::models::TransactionModel;
use crate::models::bgnbd::{BgNbdParams, family_ll_grad_hess, ln_odds_x, p_alive_repeat};

/// Validated MBG/NBD parameters: r, α (the Gamma purchase-rate heterogeneity) and a, b (the
/// Beta dropout heterogeneity), all finite and > 0.
///
/// ```
/// use clv::{Customer, MbgNbdParams, TransactionModel};
/// // the CDNOW maximum-likelihood estimates (weeks)
/// let m = MbgNbdParams::new(0.524838, 6.182992, 0.891356, 1.613999).unwrap();
/// let one_time = Customer::new(0.0, 0.0, 38.86).unwrap();
/// assert!((m.p_alive(&one_time) - 0.38971).abs() < 1e-5); // BG/NBD says 1
/// assert!((m.expected_purchases(39.0) - 1.18228).abs() < 1e-5);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(try_from = "RawMbgNbd"))]
pub struct MbgNbdParams {
    r: f64,
    alpha: f64,
    a: f64,
    b: f64,
}

#[cfg(feature = "serde")]
#[cfg_attr(feature = "serde", derive(serde::Deserialize))]
struct RawMbgNbd {
    r: f64,
    alpha: f64,
    a: f64,
    b: f64,
}

#[cfg(feature = "serde")]
impl TryFrom<RawMbgNbd> for MbgNbdParams {
    type Error = crate::Error;
    fn try_from(p: RawMbgNbd) -> Result<Self> {
        MbgNbdParams::new(p.r, p.alpha, p.a, p.b)
    }
}

impl MbgNbdParams {
    /// Validates and builds.
    ///
    /// # Errors
    /// [`crate::Error::InvalidParameter`] naming a parameter that is not finite and > 0.
    pub fn new(r: f64, alpha: f64, a: f64, b: f64) -> Result<Self> {
        Ok(MbgNbdParams {
            r: positive_parameter("r", r)?,
            alpha: positive_parameter("alpha", alpha)?,
            a: positive_parameter("a", a)?,
            b: positive_parameter("b", b)?,
        })
    }
    /// Shape of the Gamma distribution of purchase rates.
    pub fn r(&self) -> f64 {
        self.r
    }
    /// Scale (rate) parameter of the Gamma distribution of purchase rates.
    pub fn alpha(&self) -> f64 {
        self.alpha
    }
    /// First shape of the Beta distribution of dropout probabilities.
    pub fn a(&self) -> f64 {
        self.a
    }
    /// Second shape of the Beta distribution of dropout probabilities.
    pub fn b(&self) -> f64 {
        self.b
    }

    /// The BG/NBD parameters (r, α, a, b + 1) whose predictions for a customer known to be
    /// alive equal this model's (see the module documentation).
    pub fn given_alive(&self) -> BgNbdParams {
        BgNbdParams::new(self.r, self.alpha, self.a, self.b + 1.0)
            .expect("b + 1 > 0 when b > 0 (validated)")
    }

    /// Fits the model by maximum likelihood; see [`crate::fit::fit`].
    ///
    /// ```
    /// use clv::{MbgNbdParams, FitOptions, io::read_summary_csv, TimeUnit};
    /// let path = concat!(env!("CARGO_MANIFEST_DIR"), "/data/cdnow_customers_summary.csv");
    /// let summary = read_summary_csv(path, TimeUnit::Weeks).unwrap();
    /// let fitted = MbgNbdParams::fit(&summary, &FitOptions::default()).unwrap();
    /// assert!((fitted.log_likelihood() + 9582.13268).abs() < 1e-4);
    /// ```
    ///
    /// # Errors
    /// As [`crate::fit::fit`].
    pub fn fit(
        summary: &RfmSummary,
        options: &crate::fit::FitOptions,
    ) -> Result<crate::fit::Fitted<Self>> {
        crate::fit::fit(summary, options)
    }

    /// ln of one customer's likelihood (Batislam et al. 2007, as corrected by Wagner & Hoppe
    /// 2008):
    ///
    /// `L = B(a, b+x+1)/B(a, b) · Γ(r+x) α^r / Γ(r) · [(α+T)^{-(r+x)} + a/(b+x) (α+t_x)^{-(r+x)}]`
    ///
    /// for every x (t_x = 0 when x = 0): the first term is "alive at T", the second "dropped
    /// out at t_x". Computed in log space; finite for x in the thousands.
    pub fn ln_likelihood(&self, c: &Customer) -> f64 {
        let data = CompressedRfm {
            x: vec![c.frequency()],
            t_x: vec![c.recency()],
            t: vec![c.age()],
            weight: vec![1.0],
        };
        family_ll_grad_hess(&self.to_array(), &data, None, None, true)
    }

    /// Sum of [`ln_likelihood`](Self::ln_likelihood) over a summary.
    pub fn log_likelihood(&self, summary: &RfmSummary) -> f64 {
        family_ll_grad_hess(&self.to_array(), &summary.compress(), None, None, true)
    }

    fn to_array(self) -> [f64; 4] {
        [self.r, self.alpha, self.a, self.b]
    }

    /// Discounted expected residual transactions with continuous discounting over
    /// `(T, T + horizon]` (`None`: forever, needs `delta > 0`): P(alive) times BG/NBD's DERT
    /// given alive at the [`given_alive`](Self::given_alive) parameters
    /// ([`BgNbdParams::dert`] documents the integral).
    ///
    /// # Errors
    /// As [`BgNbdParams::dert`].
    pub fn dert(&self, c: &Customer, delta: f64, horizon: Option<f64>) -> Result<f64> {
        self.given_alive()
            .dert_given(self.p_alive(c), c, delta, horizon)
    }
}

impl MaximumLikelihood for MbgNbdParams {
    type Data = CompressedRfm;
    const LABEL: &'static str = "MBG/NBD";
    const MODEL: &'static str = "mbgnbd";
    const NAMES: &'static [&'static str] = &["r", "alpha", "a", "b"];

    fn n_customers(data: &CompressedRfm) -> f64 {
        data.total_weight()
    }
    fn n_rows(data: &CompressedRfm) -> usize {
        data.len()
    }
    fn from_slice(theta: &[f64]) -> Result<Self> {
        match theta {
            [r, alpha, a, b] => MbgNbdParams::new(*r, *alpha, *a, *b),
            _ => Err(crate::models::wrong_length(Self::NAMES, theta.len())),
        }
    }
    fn to_vec(&self) -> Vec<f64> {
        self.to_array().to_vec()
    }
    fn starts(data: &CompressedRfm) -> Vec<Vec<f64>> {
        let mean_t = data.mean_age();
        vec![
            vec![1.0, 1.0, 1.0, 1.0],
            vec![0.5, 0.1 * mean_t, 0.8, 2.5],
            vec![2.0, mean_t, 2.0, 5.0],
        ]
    }
    fn log_likelihood_grad(theta: &[f64], data: &CompressedRfm, grad: Option<&mut [f64]>) -> f64 {
        family_ll_grad_hess(theta, data, grad, None, true)
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
        Some(family_ll_grad_hess(
            theta,
            data,
            Some(grad),
            Some(hess),
            true,
        ))
    }
    /// α is penalised as α/max(T), as BG/NBD's.
    fn penalty_scales(data: &CompressedRfm) -> Vec<f64> {
        vec![1.0, data.age_scale(), 1.0, 1.0]
    }
}

impl FromRfm for MbgNbdParams {
    fn prepare(summary: &RfmSummary) -> Result<CompressedRfm> {
        super::prepare_rfm(summary, Self::MODEL)
    }
}

impl TransactionModel for MbgNbdParams {
    /// See the inherent [`MbgNbdParams::dert`].
    fn dert(&self, c: &Customer, delta: f64, horizon: Option<f64>) -> Result<f64> {
        MbgNbdParams::dert(self, c, delta, horizon)
    }

    /// E[X(t)] = b/(a-1) · [1 - (α/(α+t))^r · 2F1(r, b+1; a+b; t/(α+t))]: the first draw
    /// survived with probability b/(a+b), then BG/NBD's eq. (9) at (r, α, a, b+1). Computed
    /// as that product, so it inherits BG/NBD's treatment of a = 1 and of the 2F1's poles.
    fn expected_purchases(&self, t: f64) -> f64 {
        if !super::valid_t(t) {
            return f64::NAN;
        }
        self.b / (self.a + self.b) * self.given_alive().expected_purchases(t)
    }

    /// P(X(t) = n) = a/(a+b)·1{n=0} + b/(a+b)·P_BG(X(t) = n) at (r, α, a, b+1): dropped out
    /// at time 0, or not and then a BG/NBD customer.
    fn pmf(&self, n: u64, t: f64) -> f64 {
        if !super::valid_t(t) {
            return f64::NAN;
        }
        let (a, b) = (self.a, self.b);
        let alive = b / (a + b) * self.given_alive().pmf(n, t);
        if n == 0 { a / (a + b) + alive } else { alive }
    }

    /// P(alive | x, t_x, T) = 1 / (1 + a/(b+x) · ((α+T)/(α+t_x))^{r+x}) for every x, one-time
    /// buyers included (the likelihood's two terms by Bayes' theorem).
    fn p_alive(&self, c: &Customer) -> f64 {
        let bg = self.given_alive();
        p_alive_repeat(&bg, c, ln_odds_x(&bg, c.frequency()))
    }

    /// E[Y(t) | x, t_x, T] = P(alive) · (a+b+x)/(a-1) · [1 - ((α+T)/(α+T+t))^{r+x}
    /// · 2F1(r+x, b+x+1; a+b+x; t/(α+T+t))]: BG/NBD's E[X(t)] at the posterior
    /// (r+x, α+T, a, b+x+1), times P(alive).
    fn conditional_expected_purchases(&self, c: &Customer, t: f64) -> f64 {
        self.p_alive(c) * self.given_alive().mean_count_if_alive(c, t)
    }

    /// P(alive) · P_BG(X(t) = n) at the posterior (r+x, α+T, a, b+x+1) + (1 - P(alive))·1{n=0}.
    fn conditional_pmf(&self, c: &Customer, n: u64, t: f64) -> f64 {
        self.given_alive().pmf_given(self.p_alive(c), c, n, t)
    }

    /// The conditional pmf at n = 0 given P(alive).
    fn prob_no_purchase_given(&self, p_alive: f64, c: &Customer, t: f64) -> f64 {
        self.given_alive().pmf_given(p_alive, c, 0, t)
    }

    /// P(alive) computed once for the three scores.
    fn score(&self, c: &Customer, t: f64) -> crate::models::Score {
        let pa = self.p_alive(c);
        let bg = self.given_alive();
        crate::models::Score {
            p_alive: pa,
            expected_purchases: pa * bg.mean_count_if_alive(c, t),
            prob_no_purchase: bg.pmf_given(pa, c, 0, t),
        }
    }

    /// P(alive) computed once for all horizons.
    fn conditional_expectations(&self, c: &Customer, ts: &[f64], out: &mut [f64]) -> f64 {
        let pa = self.p_alive(c);
        let bg = self.given_alive();
        for (o, &t) in out.iter_mut().zip(ts) {
            *o = pa * bg.mean_count_if_alive(c, t);
        }
        pa
    }

    /// BG/NBD's tabulated plan at the [`given_alive`](Self::given_alive) parameters, with
    /// MBG/NBD's P(alive).
    fn plan(
        &self,
        groups: &std::sync::Arc<crate::data::FrequencyGroups>,
        schedules: &std::sync::Arc<[crate::models::Schedule]>,
    ) -> Box<dyn crate::models::SchedulePlan> {
        Box::new(super::bgnbd_plan::BgNbdPlan::new(self, groups, schedules))
    }
}

impl super::bgnbd_plan::BgFamily for MbgNbdParams {
    const DROPOUT_AT_ZERO: bool = true;
    fn given_alive(&self) -> BgNbdParams {
        MbgNbdParams::given_alive(self)
    }
}

impl crate::sim::Simulate for MbgNbdParams {
    /// Each customer draws λ ~ Gamma(r, rate α) and p ~ Beta(a, b); with probability p they
    /// drop out at time 0, otherwise they buy at rate λ and drop out with probability p after
    /// each purchase, until T.
    ///
    /// ```
    /// use clv::{MbgNbdParams, sim::{Simulate, uniform_ages}};
    /// let m = MbgNbdParams::new(0.525, 6.183, 0.891, 1.614).unwrap();
    /// let s = m.simulate(&uniform_ages(500, 1.0, 78.0, 1).unwrap(), clv::TimeUnit::Weeks, 42).unwrap();
    /// assert_eq!(s.len(), 500);
    /// ```
    fn simulate(&self, ages: &[f64], unit: crate::TimeUnit, seed: u64) -> Result<RfmSummary> {
        use rand::Rng;
        use rand_distr::{Beta, Distribution, Gamma};
        let lambda = Gamma::new(self.r, 1.0 / self.alpha).map_err(crate::sim::invalid)?;
        let dropout = Beta::new(self.a, self.b).map_err(crate::sim::invalid)?;
        crate::sim::simulate_customers(ages, unit, seed, |r, t| {
            let l: f64 = lambda.sample(r);
            let p: f64 = dropout.sample(r);
            if r.random::<f64>() < p {
                return Ok((0, 0.0));
            }
            crate::sim::poisson_purchases(l, t, r, |r| r.random::<f64>() < p)
        })
    }
}

/// MBG/NBD given alive at T: λ ~ Gamma(r + x, α + T), p ~ Beta(a, b + x + 1) (a dropout draw
/// at the first purchase too: survival (1 − p)^(x+1); Batislam, Denizel & Filiztekin 2007);
/// then Poisson purchases, each followed by a dropout draw.
impl crate::future::FuturePurchases for MbgNbdParams {
    fn draw_future<R: rand::Rng + ?Sized>(
        &self,
        c: &Customer,
        p_alive: f64,
        horizon: f64,
        rng: &mut R,
        times: &mut Vec<f64>,
    ) -> Result<()> {
        use crate::future::{alive, beta, gamma, poisson_times};
        if !alive(p_alive, rng) {
            return Ok(());
        }
        let x = c.frequency();
        let lambda = gamma(self.r() + x, self.alpha() + c.age(), rng)?;
        let p = beta(self.a(), self.b() + x + 1.0, rng)?;
        poisson_times(lambda, horizon, f64::INFINITY, p, rng, times)
    }
}

/// MBG/NBD levers: after the first purchase the dropout works as BG/NBD's, so
/// E[Y(t)] = (1/d)·E[Y(cdt)] under λ → cλ, p → dp from T on.
impl crate::drivers::Levers for MbgNbdParams {
    fn expectations_under(
        &self,
        c: &Customer,
        ts: &[f64],
        rate: f64,
        dropout: f64,
        out: &mut [f64],
    ) -> bool {
        crate::drivers::dilated(self, c, ts, rate * dropout, 1.0 / dropout, out);
        true
    }
}
