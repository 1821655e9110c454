//! The shifted-beta-geometric model of contractual retention (Fader & Hardie 2007, "How to
//! Project Customer Retention", *Journal of Interactive Marketing* 21(1), 76–90; Fader & Hardie
//! 2010, "Customer-Base Valuation in a Contractual Setting: The Perils of Ignoring
//! Heterogeneity", *Marketing Science* 29(1), 85–93).
//!
//! Each customer renews at the end of each period with probability 1 − θ, and churn is
//! observed; θ ~ Beta(α, β) across customers. The lifetime T (periods paid) is
//! shifted-geometric given θ, so `P(T = t) = B(α+1, β+t−1)/B(α,β)` and the survival
//! `S(t) = P(T > t) = B(α, β+t)/B(α,β)` (FH 2007, eqs. 5–6), with the retention rate
//! `r(t) = S(t)/S(t−1) = (β+t−1)/(α+β+t−1)` rising with t as the customers most likely to
//! churn leave (eq. 8).
//!
//! Model name `sbg`; parameters `alpha, beta`. A survival model does not predict purchases:
//! its input is [`SurvivalData`] and its predictions are the inherent methods of
//! [`SbgParams`], fitted through the generic [`crate::fit::fit`].

use crate::data::TimeUnit;
use crate::error::{DataIssue, Error, Result, positive_parameter};
use crate::fit::{FitData, MaximumLikelihood};
use crate::special::{ln_beta, trigamma};
use statrs::function::gamma::digamma;

/// Contractual survival data: for each group of customers, the renewals they made (periods
/// survived) and whether they have churned since or are still active (right-censored), with a
/// weight (how many customers). From cohort counts alive at the start of periods 0..=N, the
/// customers lost between periods t−1 and t made t−1 renewals and churned, and those alive at
/// period N made N renewals and are active.
///
/// ```
/// use clv::models::sbg::SurvivalData;
/// use clv::TimeUnit;
/// // Fader & Hardie (2007), "regular" cohort, years 0..7
/// let alive = [1000.0, 631.0, 468.0, 382.0, 326.0, 289.0, 262.0, 241.0];
/// let d = SurvivalData::from_cohort_counts(&alive, TimeUnit::Weeks)?;
/// assert_eq!(d.n_customers(), 1000.0);
/// assert!(SurvivalData::from_cohort_counts(&[1000.0, 1200.0], TimeUnit::Weeks).is_err());
/// # Ok::<(), clv::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct SurvivalData {
    /// (renewals made, churned, weight)
    rows: Vec<(u32, bool, f64)>,
    unit: TimeUnit,
}

impl SurvivalData {
    /// From per-customer (or per-group) records: `renewals[i]` periods survived, `churned[i]`
    /// whether the customer has left since (else still active), `weight[i]` customers (1 when
    /// `None`).
    ///
    /// # Errors
    /// [`Error::InvalidOption`] for columns of different lengths, no rows, or no churn at all
    /// (the churn rate's estimate would be 0); [`Error::InvalidData`] naming the row for a
    /// weight that is not finite and > 0.
    pub fn new(
        renewals: Vec<u32>,
        churned: Vec<bool>,
        weight: Option<Vec<f64>>,
        unit: TimeUnit,
    ) -> Result<Self> {
        let len = renewals.len();
        let weight = weight.unwrap_or_else(|| vec![1.0; len]);
        if churned.len() != len || weight.len() != len {
            return Err(Error::InvalidOption {
                name: "survival data",
                reason: "the columns must have the same length".into(),
            });
        }
        if len == 0 {
            return Err(Error::InvalidOption {
                name: "survival data",
                reason: "no rows".into(),
            });
        }
        for (i, &w) in weight.iter().enumerate() {
            let bad = |issue| Error::InvalidData {
                row: Some(i + 1),
                customer: None,
                field: "weight",
                issue,
            };
            if !w.is_finite() {
                return Err(bad(DataIssue::NotFinite(w)));
            }
            if w <= 0.0 {
                return Err(bad(DataIssue::NotPositive(w)));
            }
        }
        let rows: Vec<(u32, bool, f64)> = renewals
            .into_iter()
            .zip(churned)
            .zip(weight)
            .map(|((s, c), w)| (s, c, w))
            .collect();
        Ok(SurvivalData { rows, unit })
    }

    /// From the number alive at the start of periods 0, 1, ..., N of one cohort (FH 2007's
    /// table): `alive[t−1] − alive[t]` customers churned after t−1 renewals, `alive[N]` are
    /// active after N renewals. Counts need not be whole (percentages work).
    ///
    /// # Errors
    /// [`Error::InvalidData`] naming the period for a count that is not finite, negative or
    /// larger than the one before, or a first count that is not > 0; [`Error::InvalidOption`]
    /// for fewer than two periods.
    pub fn from_cohort_counts(alive: &[f64], unit: TimeUnit) -> Result<Self> {
        if alive.len() < 2 {
            return Err(Error::InvalidOption {
                name: "survival data",
                reason: "cohort counts need at least periods 0 and 1".into(),
            });
        }
        for (t, &a) in alive.iter().enumerate() {
            let bad = |issue| Error::InvalidData {
                row: Some(t + 1),
                customer: None,
                field: "alive",
                issue,
            };
            if !a.is_finite() {
                return Err(bad(DataIssue::NotFinite(a)));
            }
            if t == 0 && a <= 0.0 {
                return Err(bad(DataIssue::NotPositive(a)));
            }
            if a < 0.0 {
                return Err(bad(DataIssue::Negative(a)));
            }
            if t > 0 && a > alive[t - 1] {
                return Err(bad(DataIssue::MoreAliveThanBefore {
                    alive: a,
                    before: alive[t - 1],
                }));
            }
        }
        let n = alive.len() - 1;
        let mut rows = Vec::with_capacity(n + 1);
        for t in 1..=n {
            let lost = alive[t - 1] - alive[t];
            if lost > 0.0 {
                rows.push((t as u32 - 1, true, lost));
            }
        }
        if alive[n] > 0.0 {
            rows.push((n as u32, false, alive[n]));
        }
        Ok(SurvivalData { rows, unit })
    }

    /// Number of customers (the sum of the weights).
    pub fn n_customers(&self) -> f64 {
        self.rows.iter().map(|r| r.2).sum()
    }

    /// The length of one period.
    pub fn unit(&self) -> TimeUnit {
        self.unit
    }

    /// The records: (renewals made, churned, weight).
    pub fn rows(&self) -> &[(u32, bool, f64)] {
        &self.rows
    }
}

impl FitData<SbgParams> for SurvivalData {
    fn prepare(&self) -> Result<SurvivalData> {
        let churned: f64 = self.rows.iter().filter(|r| r.1).map(|r| r.2).sum();
        let active: f64 = self.rows.iter().filter(|r| !r.1).map(|r| r.2).sum();
        if churned == 0.0 {
            return Err(Error::NotIdentifiable {
                model: SbgParams::MODEL,
                reason: "no customer churned, so the churn probability's estimate is 0".into(),
            });
        }
        let kinds = {
            let mut v: Vec<(u32, bool)> = self.rows.iter().map(|r| (r.0, r.1)).collect();
            v.sort_unstable();
            v.dedup();
            v.len()
        };
        if kinds < 2 && active == 0.0 {
            return Err(Error::NotIdentifiable {
                model: SbgParams::MODEL,
                reason: "every customer churned after the same number of renewals, which \
                         cannot tell heterogeneity from a common churn rate"
                    .into(),
            });
        }
        Ok(self.clone())
    }
    fn unit(&self) -> TimeUnit {
        self.unit
    }
}

/// Validated shifted-beta-geometric parameters: α and β of the Beta distribution of the churn
/// probability θ, both finite and > 0.
///
/// ```
/// use clv::models::sbg::SbgParams;
/// // Fader & Hardie (2010): DERL at d = 0.1 of a customer who has made n − 1 renewals
/// let m = SbgParams::new(3.80, 15.20)?;
/// assert!((m.derl(0.1, 1)? - 3.3098).abs() < 1e-4);
/// assert!((m.retention(1) - 15.20 / 19.0).abs() < 1e-12);
/// # Ok::<(), clv::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(try_from = "RawSbg"))]
pub struct SbgParams {
    alpha: f64,
    beta: f64,
}

#[cfg(feature = "serde")]
#[cfg_attr(feature = "serde", derive(serde::Deserialize))]
struct RawSbg {
    alpha: f64,
    beta: f64,
}

#[cfg(feature = "serde")]
impl TryFrom<RawSbg> for SbgParams {
    type Error = Error;
    fn try_from(p: RawSbg) -> Result<Self> {
        SbgParams::new(p.alpha, p.beta)
    }
}

impl SbgParams {
    /// Validates and builds.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] naming a parameter that is not finite and > 0.
    pub fn new(alpha: f64, beta: f64) -> Result<Self> {
        Ok(SbgParams {
            alpha: positive_parameter("alpha", alpha)?,
            beta: positive_parameter("beta", beta)?,
        })
    }
    /// α of the churn probability's Beta distribution.
    pub fn alpha(&self) -> f64 {
        self.alpha
    }
    /// β of the churn probability's Beta distribution.
    pub fn beta(&self) -> f64 {
        self.beta
    }

    /// Fits the model by maximum likelihood ([`crate::fit::fit`]).
    ///
    /// # Errors
    /// As [`crate::fit::fit`].
    pub fn fit(
        data: &SurvivalData,
        options: &crate::fit::FitOptions,
    ) -> Result<crate::fit::Fitted<Self>> {
        crate::fit::fit(data, options)
    }

    /// S(t) = P(T > t) = B(α, β+t)/B(α,β): the share of a new cohort still active after t
    /// renewals (FH 2007, eq. 6).
    pub fn survival(&self, t: u32) -> f64 {
        let (a, b) = (self.alpha, self.beta);
        (ln_beta(a, b + f64::from(t)) - ln_beta(a, b)).exp()
    }

    /// P(T = t) = B(α+1, β+t−1)/B(α,β), t >= 1: the share of a new cohort that churns after
    /// exactly t periods (FH 2007, eq. 5); 0 at t = 0.
    pub fn churn_at(&self, t: u32) -> f64 {
        if t == 0 {
            return 0.0;
        }
        let (a, b) = (self.alpha, self.beta);
        (ln_beta(a + 1.0, b + f64::from(t) - 1.0) - ln_beta(a, b)).exp()
    }

    /// The retention rate r(t) = S(t)/S(t−1) = (β+t−1)/(α+β+t−1), t >= 1 (FH 2007, eq. 8):
    /// the share of the customers active in period t−1 who renew for period t; 1 at t = 0.
    pub fn retention(&self, t: u32) -> f64 {
        if t == 0 {
            return 1.0;
        }
        let tf = f64::from(t);
        (self.beta + tf - 1.0) / (self.alpha + self.beta + tf - 1.0)
    }

    /// The discounted expected residual lifetime of a customer who has made n − 1 renewals
    /// (n = 1: newly acquired) and paid for the current period: the renewals still to come,
    /// each paid at the start of its period, the next one (renewal n) undiscounted, at
    /// discount rate d per period (FH 2010, eq. 6):
    /// `DERL = Σ_{t>=1} S(n−1+t)/S(n−1) (1+d)^{−(t−1)}
    /// = B(α, β+n)/B(α, β+n−1) · ₂F₁(1, β+n; α+β+n; 1/(1+d))`. Times the margin per period it
    /// is the customer's expected residual value.
    ///
    /// # Errors
    /// [`Error::InvalidOption`] for a rate that is not finite and > 0 (undiscounted, the
    /// expected lifetime is infinite when α <= 1), or n = 0.
    pub fn derl(&self, d: f64, n: u32) -> Result<f64> {
        crate::error::nonnegative_option("discount rate", d)?;
        if d == 0.0 {
            return Err(Error::InvalidOption {
                name: "discount rate",
                reason: "DERL needs a discount rate > 0".into(),
            });
        }
        if n == 0 {
            return Err(Error::InvalidOption {
                name: "renewals",
                reason: "n counts from 1 (a customer with n − 1 renewals)".into(),
            });
        }
        let (a, b, nf) = (self.alpha, self.beta, f64::from(n));
        let z = 1.0 / (1.0 + d);
        let ln = ln_beta(a, b + nf) - ln_beta(a, b + nf - 1.0)
            + crate::special::ln_hyp2f1_complement(1.0, b + nf, a + b + nf, z, d / (1.0 + d));
        let v = ln.exp();
        if v.is_finite() {
            Ok(v)
        } else {
            Err(Error::Numerical {
                what: format!("DERL at d = {d:e}, n = {n}"),
            })
        }
    }

    /// The residual value of a customer base: Σ over `active` (renewals made, customers) of
    /// customers · margin · DERL(d, renewals + 1), the value of the payments still to come
    /// from the customers active now (FH 2010, section 4).
    ///
    /// # Errors
    /// As [`derl`](Self::derl); [`Error::InvalidOption`] for a margin or count that is not
    /// finite and >= 0.
    pub fn residual_value(&self, active: &[(u32, f64)], margin: f64, d: f64) -> Result<f64> {
        crate::error::nonnegative_option("margin", margin)?;
        let mut total = 0.0;
        for &(renewals, count) in active {
            crate::error::nonnegative_option("active customers", count)?;
            total += count * margin * self.derl(d, renewals + 1)?;
        }
        Ok(total)
    }

    /// What a constant retention rate r (one that ignores heterogeneity) implies for the
    /// DERL of any customer, on the same footing as [`derl`](Self::derl) (the next renewal
    /// undiscounted): `Σ_{t>=1} r^t (1+d)^{−(t−1)} = r(1+d)/(1+d−r)` (FH 2010, section 2);
    /// the 2010 paper shows that such a rate misvalues a customer base, because the retention
    /// of the customers who stay rises with their tenure. Compare with `derl(d, n)`.
    ///
    /// # Errors
    /// [`Error::InvalidOption`] for r outside [0, 1) or d not finite and > 0.
    pub fn constant_retention_derl(r: f64, d: f64) -> Result<f64> {
        if !(0.0..1.0).contains(&r) {
            return Err(Error::InvalidOption {
                name: "retention rate",
                reason: format!("must be in [0, 1), got {r}"),
            });
        }
        crate::error::nonnegative_option("discount rate", d)?;
        if d == 0.0 {
            return Err(Error::InvalidOption {
                name: "discount rate",
                reason: "needs a discount rate > 0".into(),
            });
        }
        Ok(r * (1.0 + d) / (1.0 + d - r))
    }
}

/// Log-likelihood with gradient and Hessian (row-major 2×2) in (α, β): a churned record after
/// s renewals contributes ln P(T = s+1) = ln B(α+1, β+s) − ln B(α,β), an active one
/// ln S(s) = ln B(α, β+s) − ln B(α,β) (FH 2007, eq. 7).
fn ll_grad_hess(
    theta: &[f64],
    data: &SurvivalData,
    grad: Option<&mut [f64]>,
    hess: Option<&mut [f64]>,
) -> f64 {
    let (a, b) = (theta[0], theta[1]);
    let (mut ll, mut g, mut h) = (0.0, [0.0f64; 2], [0.0f64; 3]);
    let want = grad.is_some() || hess.is_some();
    // d ln B(u, v) and its second derivatives
    let add = |u: f64, v: f64, w: f64, g: &mut [f64; 2], h: &mut [f64; 3]| {
        let (s1, s2) = (digamma(u + v), trigamma(u + v));
        g[0] += w * (digamma(u) - s1);
        g[1] += w * (digamma(v) - s1);
        h[0] += w * (trigamma(u) - s2);
        h[1] -= w * s2;
        h[2] += w * (trigamma(v) - s2);
    };
    let mut total = 0.0;
    for &(s, churned, w) in &data.rows {
        let sf = f64::from(s);
        let (u, v) = if churned {
            (a + 1.0, b + sf)
        } else {
            (a, b + sf)
        };
        ll += w * ln_beta(u, v);
        total += w;
        if want {
            add(u, v, w, &mut g, &mut h);
        }
    }
    ll -= total * ln_beta(a, b);
    if want {
        add(a, b, -total, &mut g, &mut h);
    }
    if let Some(out) = grad {
        out.copy_from_slice(&g);
    }
    if let Some(out) = hess {
        out.copy_from_slice(&[h[0], h[1], h[1], h[2]]);
    }
    ll
}

impl MaximumLikelihood for SbgParams {
    type Data = SurvivalData;
    const MODEL: &'static str = "sbg";
    const LABEL: &'static str = "sBG";
    const NAMES: &'static [&'static str] = &["alpha", "beta"];

    fn n_customers(data: &SurvivalData) -> f64 {
        data.n_customers()
    }
    fn n_rows(data: &SurvivalData) -> usize {
        data.rows.len()
    }
    fn from_slice(theta: &[f64]) -> Result<Self> {
        match theta {
            [a, b] => SbgParams::new(*a, *b),
            _ => Err(crate::models::wrong_length(Self::NAMES, theta.len())),
        }
    }
    fn to_vec(&self) -> Vec<f64> {
        vec![self.alpha, self.beta]
    }
    fn starts(_data: &SurvivalData) -> Vec<Vec<f64>> {
        vec![vec![1.0, 1.0], vec![0.5, 2.0], vec![3.0, 10.0]]
    }
    fn log_likelihood_grad(theta: &[f64], data: &SurvivalData, grad: Option<&mut [f64]>) -> f64 {
        ll_grad_hess(theta, data, grad, None)
    }
    fn log_likelihood_hessian(
        theta: &[f64],
        data: &SurvivalData,
        grad: &mut [f64],
        hess: &mut [f64],
    ) -> Option<f64> {
        Some(ll_grad_hess(theta, data, Some(grad), Some(hess)))
    }
}
