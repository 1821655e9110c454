//! Transaction models with static covariates, in CLVTools' parameterisation (Fader & Hardie
//! 2007, "Incorporating time-invariant covariates into the Pareto/NBD and BG/NBD models";
//! Meierer et al., CLVTools). Customer i with purchase covariates z_t and dropout covariates
//! z_l has the base model's parameters with
//!
//! - the purchase-rate scale α_i = α · exp(−γ_tᵀ z_t) (every model: a positive γ_t raises the
//!   mean purchase rate r/α_i by e^{γ_t} per unit of the covariate);
//! - Pareto/NBD: β_i = β · exp(−γ_lᵀ z_l) (a positive γ_l raises the mean dropout rate s/β_i);
//! - BG/NBD and MBG/NBD: a_i = a · exp(γ_lᵀ z_l), b_i = b · exp(γ_lᵀ z_l) (CLVTools' form:
//!   the Beta of p is scaled in both shapes, so its mean a/(a+b) stays and its spread
//!   narrows as γ_lᵀz_l grows);
//! - NBD: no dropout process, so no dropout covariates.
//!
//! The likelihood is the base model's per customer; customers with the same covariate values
//! share their parameters, so it is summed per covariate pattern over their compressed
//! histories, and its gradient follows by the chain rule from the base model's:
//! ∂θ_i/∂θ = θ_i/θ, ∂θ_i/∂γ = ±θ_i z. An L2 penalty (`FitOptions::penalizer`) falls on the
//! coefficients only, as CLVTools' `reg.lambdas`.

use crate::data::{CompressedRfm, Covariates, RfmSummary, TimeUnit};
use crate::error::{Error, Result};
use crate::fit::{FitData, MaximumLikelihood, ParamKind};
use crate::models::{BgNbdParams, MbgNbdParams, NbdParams, ParetoNbdParams};

/// A base model that takes covariates: which of its parameters the purchase and the dropout
/// covariates scale, and how.
pub trait Covariated: MaximumLikelihood<Data = CompressedRfm> {
    /// The model name with covariates (`"pareto-nbd-cov"`).
    const COV_MODEL: &'static str;
    /// The name for people (`"Pareto/NBD with covariates"`).
    const COV_LABEL: &'static str;
    /// Index of the purchase-rate scale α, which the purchase covariates scale by
    /// exp(−γ_tᵀz_t).
    const PURCHASE: usize;
    /// Indices of the parameters the dropout covariates scale, and the sign s of the exponent
    /// (θ_i = θ·exp(s·γ_lᵀz_l)); empty for a model without dropout.
    const DROPOUT: &'static [usize];
    /// The sign of the dropout exponent.
    const DROPOUT_SIGN: f64;
}

impl Covariated for ParetoNbdParams {
    const COV_MODEL: &'static str = "pareto-nbd-cov";
    const COV_LABEL: &'static str = "Pareto/NBD with covariates";
    const PURCHASE: usize = 1;
    const DROPOUT: &'static [usize] = &[3];
    const DROPOUT_SIGN: f64 = -1.0;
}

impl Covariated for BgNbdParams {
    const COV_MODEL: &'static str = "bgnbd-cov";
    const COV_LABEL: &'static str = "BG/NBD with covariates";
    const PURCHASE: usize = 1;
    const DROPOUT: &'static [usize] = &[2, 3];
    const DROPOUT_SIGN: f64 = 1.0;
}

impl Covariated for MbgNbdParams {
    const COV_MODEL: &'static str = "mbgnbd-cov";
    const COV_LABEL: &'static str = "MBG/NBD with covariates";
    const PURCHASE: usize = 1;
    const DROPOUT: &'static [usize] = &[2, 3];
    const DROPOUT_SIGN: f64 = 1.0;
}

impl Covariated for NbdParams {
    const COV_MODEL: &'static str = "nbd-cov";
    const COV_LABEL: &'static str = "NBD with covariates";
    const PURCHASE: usize = 1;
    const DROPOUT: &'static [usize] = &[];
    const DROPOUT_SIGN: f64 = 1.0;
}

/// Fitted (or given) base parameters with covariate coefficients.
///
/// ```
/// use clv::models::covariates::WithCovariates;
/// use clv::ParetoNbdParams;
/// let base = ParetoNbdParams::new(1.84, 92.96, 0.59, 49.51)?;
/// let m = WithCovariates::new(base, vec![("channel".into(), 0.62)], vec![("channel".into(), 0.79)])?;
/// // a channel-1 customer: α and β divided by e^0.62 and e^0.79
/// let own = m.for_customer(&[1.0], &[1.0])?;
/// assert!((own.alpha() - 92.96 * (-0.62f64).exp()).abs() < 1e-12);
/// assert!((own.beta() - 49.51 * (-0.79f64).exp()).abs() < 1e-12);
/// # Ok::<(), clv::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct WithCovariates<M> {
    base: M,
    purchase: Vec<(String, f64)>,
    dropout: Vec<(String, f64)>,
    shared: Vec<(String, f64)>,
}

impl<M: Covariated> WithCovariates<M> {
    /// Base parameters (those of a customer whose covariates are all 0) and the coefficients
    /// of the purchase and the dropout covariates, by name.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for a coefficient that is not finite;
    /// [`Error::InvalidOption`] for dropout covariates on a model without dropout.
    pub fn new(base: M, purchase: Vec<(String, f64)>, dropout: Vec<(String, f64)>) -> Result<Self> {
        if let Some((_, v)) = purchase
            .iter()
            .chain(&dropout)
            .find(|(_, v)| !v.is_finite())
        {
            return Err(Error::InvalidParameter {
                name: "gamma",
                value: *v,
                reason: "a covariate coefficient must be finite",
            });
        }
        if M::DROPOUT.is_empty() && !dropout.is_empty() {
            return Err(Error::InvalidOption {
                name: "dropout covariates",
                reason: format!("{} has no dropout process", M::LABEL),
            });
        }
        Ok(WithCovariates {
            base,
            purchase,
            dropout,
            shared: Vec::new(),
        })
    }
    /// Adds covariates that act on both processes with one coefficient each (the equality
    /// constraint "same coefficient in both processes"): α_i × exp(−γ_sᵀz_s) and the dropout
    /// parameters × exp(±γ_sᵀz_s) as their own dropout covariates would be.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for a coefficient that is not finite;
    /// [`Error::InvalidOption`] for a model without dropout.
    pub fn with_shared(mut self, shared: Vec<(String, f64)>) -> Result<Self> {
        if let Some((_, v)) = shared.iter().find(|(_, v)| !v.is_finite()) {
            return Err(Error::InvalidParameter {
                name: "gamma",
                value: *v,
                reason: "a covariate coefficient must be finite",
            });
        }
        if M::DROPOUT.is_empty() && !shared.is_empty() {
            return Err(Error::InvalidOption {
                name: "shared covariates",
                reason: format!("{} has no dropout process", M::LABEL),
            });
        }
        self.shared = shared;
        Ok(self)
    }
    /// The coefficients shared by both processes, by covariate.
    pub fn shared_coefficients(&self) -> &[(String, f64)] {
        &self.shared
    }
    /// The parameters of a customer whose covariates are all 0.
    pub fn base(&self) -> &M {
        &self.base
    }
    /// The purchase-process coefficients γ_t, by covariate.
    pub fn purchase_coefficients(&self) -> &[(String, f64)] {
        &self.purchase
    }
    /// The dropout-process coefficients γ_l, by covariate.
    pub fn dropout_coefficients(&self) -> &[(String, f64)] {
        &self.dropout
    }
    /// A customer's own base-model parameters (see the module docs): every prediction of the
    /// base model then applies to them.
    ///
    /// # Errors
    /// [`Error::InvalidOption`] for covariate rows of the wrong length;
    /// [`Error::InvalidParameter`] when a scaled parameter is not finite and > 0.
    pub fn for_customer(&self, z_purchase: &[f64], z_dropout: &[f64]) -> Result<M> {
        self.for_customer_with(z_purchase, z_dropout, &[])
    }

    /// [`for_customer`](Self::for_customer) with the values of the shared covariates too.
    ///
    /// # Errors
    /// As [`for_customer`](Self::for_customer).
    pub fn for_customer_with(
        &self,
        z_purchase: &[f64],
        z_dropout: &[f64],
        z_shared: &[f64],
    ) -> Result<M> {
        if z_purchase.len() != self.purchase.len()
            || z_dropout.len() != self.dropout.len()
            || z_shared.len() != self.shared.len()
        {
            return Err(Error::InvalidOption {
                name: "covariates",
                reason: format!(
                    "need {} purchase, {} dropout and {} shared values, got {}, {} and {}",
                    self.purchase.len(),
                    self.dropout.len(),
                    self.shared.len(),
                    z_purchase.len(),
                    z_dropout.len(),
                    z_shared.len()
                ),
            });
        }
        let v = |c: &[(String, f64)]| c.iter().map(|p| p.1).collect::<Vec<f64>>();
        let theta = scaled::<M>(
            &self.base.to_vec(),
            [&v(&self.purchase), &v(&self.dropout), &v(&self.shared)],
            [z_purchase, z_dropout, z_shared],
        );
        self.base.with_values(&theta)
    }
}

fn dot(c: &[f64], z: &[f64]) -> f64 {
    c.iter().zip(z).map(|(a, b)| a * b).sum()
}

/// The base parameters of a covariate pattern: coefficients and values of the purchase,
/// dropout and shared covariates.
fn scaled<M: Covariated>(base: &[f64], g: [&[f64]; 3], z: [&[f64]; 3]) -> Vec<f64> {
    let mut th = base.to_vec();
    scale_into::<M>(&mut th, g, z);
    th
}

/// [`scaled`] in place: `th` holds the base parameters on entry.
fn scale_into<M: Covariated>(th: &mut [f64], g: [&[f64]; 3], z: [&[f64]; 3]) {
    let shared = dot(g[2], z[2]);
    th[M::PURCHASE] *= (-dot(g[0], z[0]) - shared).exp();
    let e = (M::DROPOUT_SIGN * (dot(g[1], z[1]) + shared)).exp();
    for &j in M::DROPOUT {
        th[j] *= e;
    }
}

/// The customers of one covariate pattern: its values and their compressed histories.
#[derive(Debug, Clone)]
struct Group {
    zt: Vec<f64>,
    zl: Vec<f64>,
    zs: Vec<f64>,
    rows: CompressedRfm,
}

/// What the likelihood iterates over: the customers grouped by covariate pattern.
#[derive(Debug, Clone)]
pub struct CovariateData {
    groups: Vec<Group>,
    purchase: Vec<String>,
    dropout: Vec<String>,
    shared: Vec<String>,
    n: f64,
    pooled: CompressedRfm,
}

impl CovariateData {
    /// Number of coefficients.
    fn coefficients(&self) -> usize {
        self.purchase.len() + self.dropout.len() + self.shared.len()
    }
}

/// A summary with its customers' purchase and dropout covariates (rows in summary order):
/// what [`WithCovariates`] is fitted to.
///
/// ```
/// use clv::models::covariates::{CovariateSummary, WithCovariates};
/// use clv::sim::Simulate;
/// use clv::{Covariates, FitOptions, ParetoNbdParams, TimeUnit};
/// let truth = ParetoNbdParams::new(0.55, 10.6, 0.6, 11.7)?;
/// let s = truth.simulate(&vec![52.0; 2000], TimeUnit::Weeks, 1)?;
/// let z = Covariates::new(vec!["g".into()], (0..2000).map(|i| vec![(i % 2) as f64]).collect())?;
/// let input = CovariateSummary::new(&s, &z, &z)?;
/// let f = clv::fit::fit::<WithCovariates<ParetoNbdParams>>(&input, &FitOptions::default())?;
/// assert_eq!(f.names(), ["r", "alpha", "s", "beta", "purchase[g]", "dropout[g]"]);
/// // no effect was simulated: both coefficients within 3 standard errors of 0
/// let se = f.standard_errors().unwrap();
/// let g = clv::fit::MaximumLikelihood::to_vec(f.params());
/// assert!(g[4].abs() < 3.0 * se[4] && g[5].abs() < 3.0 * se[5]);
/// # Ok::<(), clv::Error>(())
/// ```
#[derive(Debug, Clone, Copy)]
pub struct CovariateSummary<'a> {
    summary: &'a RfmSummary,
    purchase: &'a Covariates,
    dropout: Option<&'a Covariates>,
    shared: Option<&'a Covariates>,
}

impl<'a> CovariateSummary<'a> {
    /// The summary and its covariates (one row per customer each).
    ///
    /// # Errors
    /// [`Error::InvalidOption`] when a covariate matrix has another number of rows than the
    /// summary has customers.
    pub fn new(
        summary: &'a RfmSummary,
        purchase: &'a Covariates,
        dropout: &'a Covariates,
    ) -> Result<Self> {
        Self::check(summary, purchase, "purchase")?;
        Self::check(summary, dropout, "dropout")?;
        Ok(CovariateSummary {
            summary,
            purchase,
            dropout: Some(dropout),
            shared: None,
        })
    }

    /// Adds covariates with one coefficient for both processes
    /// ([`WithCovariates::with_shared`]).
    ///
    /// # Errors
    /// As [`new`](Self::new).
    pub fn with_shared(mut self, shared: &'a Covariates) -> Result<Self> {
        Self::check(self.summary, shared, "shared")?;
        self.shared = Some(shared);
        Ok(self)
    }

    /// Purchase covariates only (the NBD, or a model whose dropout takes none).
    ///
    /// # Errors
    /// As [`new`](Self::new).
    pub fn purchase_only(summary: &'a RfmSummary, purchase: &'a Covariates) -> Result<Self> {
        Self::check(summary, purchase, "purchase")?;
        Ok(CovariateSummary {
            summary,
            purchase,
            dropout: None,
            shared: None,
        })
    }

    fn check(summary: &RfmSummary, z: &Covariates, what: &str) -> Result<()> {
        if z.len() != summary.len() {
            return Err(Error::InvalidOption {
                name: "covariates",
                reason: format!(
                    "{what} covariates have {} rows for {} customers",
                    z.len(),
                    summary.len()
                ),
            });
        }
        Ok(())
    }
}

impl<M: Covariated> FitData<WithCovariates<M>> for CovariateSummary<'_> {
    fn prepare(&self) -> Result<CovariateData> {
        let s = self.summary;
        if M::DROPOUT.is_empty() && (self.dropout.is_some() || self.shared.is_some()) {
            return Err(Error::InvalidOption {
                name: "dropout covariates",
                reason: format!("{} has no dropout process", M::LABEL),
            });
        }
        let zl = |i: usize| self.dropout.map_or(&[][..], |d| d.row(i));
        let zs = |i: usize| self.shared.map_or(&[][..], |d| d.row(i));
        let members =
            crate::data::group_by_pattern(0..s.len(), |i| vec![self.purchase.row(i), zl(i), zs(i)]);
        let groups = members
            .iter()
            .map(|m| {
                Ok(Group {
                    zt: self.purchase.row(m[0]).to_vec(),
                    zl: zl(m[0]).to_vec(),
                    zs: zs(m[0]).to_vec(),
                    rows: s.subset(m)?.compress(),
                })
            })
            .collect::<Result<Vec<Group>>>()?;
        let pooled = super::prepare_rfm(s, M::COV_MODEL)?;
        Ok(CovariateData {
            groups,
            purchase: self.purchase.names().to_vec(),
            dropout: self.dropout.map_or(Vec::new(), |d| d.names().to_vec()),
            shared: self.shared.map_or(Vec::new(), |d| d.names().to_vec()),
            n: s.len() as f64,
            pooled,
        })
    }
    fn unit(&self) -> TimeUnit {
        self.summary.unit()
    }
}

fn all_names<M: Covariated>(c: [&[String]; 3]) -> Vec<String> {
    M::NAMES
        .iter()
        .map(|n| n.to_string())
        .chain(c[0].iter().map(|n| format!("purchase[{n}]")))
        .chain(c[1].iter().map(|n| format!("dropout[{n}]")))
        .chain(c[2].iter().map(|n| format!("both[{n}]")))
        .collect()
}

fn all_kinds<M: Covariated>(coefficients: usize) -> Vec<ParamKind> {
    let mut k = M::kinds();
    k.extend(vec![ParamKind::Real; coefficients]);
    k
}

/// Splits θ into base parameters and the purchase, dropout and shared coefficients.
fn split<M: Covariated>(theta: &[f64], kt: usize, kl: usize) -> (&[f64], [&[f64]; 3]) {
    let k = M::NAMES.len();
    (
        &theta[..k],
        [
            &theta[k..k + kt],
            &theta[k + kt..k + kt + kl],
            &theta[k + kt + kl..],
        ],
    )
}

impl<M: Covariated> WithCovariates<M> {
    fn from_parts(theta: &[f64], names: [&[String]; 3]) -> Result<Self> {
        let k = M::NAMES.len() + names.iter().map(|n| n.len()).sum::<usize>();
        if theta.len() != k {
            return Err(Error::InvalidOption {
                name: "parameters",
                reason: format!("need {k} values, got {}", theta.len()),
            });
        }
        let (b, g) = split::<M>(theta, names[0].len(), names[1].len());
        let named = |n: &[String], v: &[f64]| n.iter().cloned().zip(v.iter().copied()).collect();
        WithCovariates::new(
            M::from_slice(b)?,
            named(names[0], g[0]),
            named(names[1], g[1]),
        )?
        .with_shared(named(names[2], g[2]))
    }
    fn coefficient_names(&self) -> [Vec<String>; 3] {
        let n = |v: &[(String, f64)]| v.iter().map(|p| p.0.clone()).collect::<Vec<_>>();
        [n(&self.purchase), n(&self.dropout), n(&self.shared)]
    }
    /// The covariate names of each process from parameter names (base names first, then
    /// purchase, dropout and shared coefficients in that order).
    fn parse_names(names: &[String]) -> Result<[Vec<String>; 3]> {
        let bad = |reason: String| Error::InvalidOption {
            name: "parameter_order",
            reason,
        };
        let k = M::NAMES.len();
        if names.len() < k
            || names[..k]
                .iter()
                .map(String::as_str)
                .ne(M::NAMES.iter().copied())
        {
            return Err(bad(format!(
                "must start with {:?}, then purchase[..], dropout[..] and both[..] coefficients",
                M::NAMES
            )));
        }
        let mut out: [Vec<String>; 3] = Default::default();
        let mut stage = 0;
        for n in &names[k..] {
            let (which, inner) = ["purchase[", "dropout[", "both["]
                .iter()
                .enumerate()
                .find_map(|(i, p)| {
                    n.strip_prefix(p)
                        .and_then(|r| r.strip_suffix(']'))
                        .map(|c| (i, c))
                })
                .ok_or_else(|| bad(format!("'{n}' is not a covariate coefficient")))?;
            if which < stage {
                return Err(bad(format!("'{n}' is out of order")));
            }
            stage = which;
            out[which].push(inner.to_string());
        }
        Ok(out)
    }
    fn coefficient_count(&self) -> usize {
        self.purchase.len() + self.dropout.len() + self.shared.len()
    }
}

impl<M: Covariated> MaximumLikelihood for WithCovariates<M> {
    type Data = CovariateData;
    const MODEL: &'static str = M::COV_MODEL;
    const LABEL: &'static str = M::COV_LABEL;
    /// The base parameters; the coefficients' names come with the data
    /// ([`names_for`](MaximumLikelihood::names_for)).
    const NAMES: &'static [&'static str] = M::NAMES;

    fn n_customers(data: &CovariateData) -> f64 {
        data.n
    }
    fn n_rows(data: &CovariateData) -> usize {
        data.groups.iter().map(|g| g.rows.len()).sum()
    }
    fn from_slice(theta: &[f64]) -> Result<Self> {
        Err(Error::InvalidOption {
            name: "parameters",
            reason: format!(
                "a model with covariates needs the covariate names with its {} values",
                theta.len()
            ),
        })
    }
    fn from_slice_for(theta: &[f64], data: &CovariateData) -> Result<Self> {
        Self::from_parts(theta, [&data.purchase, &data.dropout, &data.shared])
    }
    fn valid_for(theta: &[f64], data: &CovariateData) -> bool {
        let k = M::NAMES.len();
        theta.len() == k + data.coefficients()
            && M::from_slice(&theta[..k]).is_ok()
            && theta[k..].iter().all(|g| g.is_finite())
    }
    fn with_values(&self, theta: &[f64]) -> Result<Self> {
        let [p, d, s] = self.coefficient_names();
        Self::from_parts(theta, [&p, &d, &s])
    }
    /// The base names, then `purchase[..]`, `dropout[..]` and `both[..]` coefficients.
    fn names_from_file(order: &[String]) -> Result<Vec<String>> {
        Self::parse_names(order).map(|_| order.to_vec())
    }
    fn from_names(names: &[String], theta: &[f64]) -> Result<Self> {
        let [p, d, s] = Self::parse_names(names)?;
        Self::from_parts(theta, [&p, &d, &s])
    }
    fn to_vec(&self) -> Vec<f64> {
        self.base
            .to_vec()
            .into_iter()
            .chain(self.purchase.iter().map(|p| p.1))
            .chain(self.dropout.iter().map(|p| p.1))
            .chain(self.shared.iter().map(|p| p.1))
            .collect()
    }
    fn names_for(data: &CovariateData) -> Vec<String> {
        all_names::<M>([&data.purchase, &data.dropout, &data.shared])
    }
    fn kinds_for(data: &CovariateData) -> Vec<ParamKind> {
        all_kinds::<M>(data.coefficients())
    }
    fn param_names(&self) -> Vec<String> {
        let [p, d, s] = self.coefficient_names();
        all_names::<M>([&p, &d, &s])
    }
    fn param_kinds(&self) -> Vec<ParamKind> {
        all_kinds::<M>(self.coefficient_count())
    }
    fn starts(data: &CovariateData) -> Vec<Vec<f64>> {
        let k = data.coefficients();
        M::starts(&data.pooled)
            .into_iter()
            .map(|b| b.into_iter().chain(std::iter::repeat_n(0.0, k)).collect())
            .collect()
    }
    fn penalty_scales(data: &CovariateData) -> Vec<f64> {
        // the coefficients only
        let k = data.coefficients();
        std::iter::repeat_n(0.0, M::NAMES.len())
            .chain(std::iter::repeat_n(1.0, k))
            .collect()
    }
    fn log_likelihood_grad(theta: &[f64], data: &CovariateData, grad: Option<&mut [f64]>) -> f64 {
        let (kt, kl) = (data.purchase.len(), data.dropout.len());
        let kb = M::NAMES.len();
        let (base, g3) = split::<M>(theta, kt, kl);
        let want = grad.is_some();
        let mut total = 0.0;
        let mut g = vec![0.0; theta.len()];
        let mut gi = vec![0.0; kb];
        // one buffer for every pattern's parameters (the loop runs once per pattern and
        // evaluation)
        let mut th = base.to_vec();
        for grp in &data.groups {
            th.copy_from_slice(base);
            scale_into::<M>(&mut th, g3, [&grp.zt, &grp.zl, &grp.zs]);
            total += M::log_likelihood_grad(&th, &grp.rows, want.then_some(&mut gi[..]));
            if want {
                for j in 0..kb {
                    g[j] += gi[j] * th[j] / base[j];
                }
                // ∂θ_α/∂γ_t = −θ_α z_t; ∂θ_j/∂γ_l = s θ_j z_l
                let p = gi[M::PURCHASE] * th[M::PURCHASE];
                for (k, z) in grp.zt.iter().enumerate() {
                    g[kb + k] -= p * z;
                }
                let d: f64 =
                    M::DROPOUT.iter().map(|&j| gi[j] * th[j]).sum::<f64>() * M::DROPOUT_SIGN;
                for (k, z) in grp.zl.iter().enumerate() {
                    g[kb + kt + k] += d * z;
                }
                // a shared coefficient acts on both
                for (k, z) in grp.zs.iter().enumerate() {
                    g[kb + kt + kl + k] += (d - p) * z;
                }
            }
        }
        if let Some(out) = grad {
            out.copy_from_slice(&g);
        }
        total
    }
}

/// Which process a coefficient acts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Process {
    /// The purchase process (α).
    Purchase,
    /// The dropout process.
    Dropout,
    /// Both, with one coefficient ([`WithCovariates::with_shared`]).
    Both,
    /// Spend per transaction ([`crate::models::spend_covariates`]).
    Spend,
}

/// One covariate coefficient with its Wald inference and its effect in words.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Coefficient {
    /// The process it acts on.
    pub process: Process,
    /// The covariate (column) name.
    pub covariate: String,
    /// The estimate γ.
    pub estimate: f64,
    /// Its standard error (`None` without a covariance).
    pub se: Option<f64>,
    /// z = γ / SE.
    pub z: Option<f64>,
    /// Two-sided p-value of γ = 0.
    pub p_value: Option<f64>,
    /// The 95% Wald interval of γ.
    pub ci: Option<(f64, f64)>,
    /// The multiplier a unit of the covariate applies (to the mean purchase rate, or to the
    /// dropout quantity the model scales), with its 95% interval: e^{γ} [e^{lo}, e^{hi}].
    pub multiplier: (f64, Option<(f64, f64)>),
    /// The effect for people: `"Channel: mean purchase rate × 1.87 [1.44, 2.42] per unit"`.
    pub effect: String,
}

/// The coefficient table of a fit with covariates: estimate, SE, z, p, 95% interval and the
/// effect in words (Pareto/NBD: the mean purchase rate r/α_i and the mean dropout rate s/β_i
/// are multiplied by e^{γ} per unit of the covariate; BG/NBD and MBG/NBD: the dropout Beta's
/// a and b both, its mean unchanged).
///
/// ```
/// use clv::models::covariates::{coefficients, CovariateSummary, WithCovariates, Process};
/// use clv::sim::Simulate;
/// use clv::{Covariates, FitOptions, ParetoNbdParams, TimeUnit};
/// let s = ParetoNbdParams::new(0.55, 10.6, 0.6, 11.7)?.simulate(&vec![52.0; 2000], TimeUnit::Weeks, 1)?;
/// let z = Covariates::new(vec!["g".into()], (0..2000).map(|i| vec![(i % 2) as f64]).collect())?;
/// let f = clv::fit::fit::<WithCovariates<ParetoNbdParams>>(&CovariateSummary::new(&s, &z, &z)?, &FitOptions::default())?;
/// let t = coefficients(&f);
/// assert_eq!(t.len(), 2);
/// assert_eq!(t[0].process, Process::Purchase);
/// assert!(t[0].effect.starts_with("g: mean purchase rate ×"));
/// assert!(t[0].p_value.unwrap() > 0.001); // no effect was simulated
/// # Ok::<(), clv::Error>(())
/// ```
pub fn coefficients<M: Covariated>(f: &crate::fit::Fitted<WithCovariates<M>>) -> Vec<Coefficient> {
    let kb = M::NAMES.len();
    let se = f.standard_errors();
    let p = f.params();
    let dropout_what = if M::DROPOUT_SIGN < 0.0 {
        "mean dropout rate"
    } else {
        "dropout shapes a and b (mean dropout probability unchanged)"
    };
    let both = format!("mean purchase rate and {dropout_what}");
    p.purchase
        .iter()
        .map(|c| (Process::Purchase, c, "mean purchase rate"))
        .chain(
            p.dropout
                .iter()
                .map(|c| (Process::Dropout, c, dropout_what)),
        )
        .chain(p.shared.iter().map(|c| (Process::Both, c, both.as_str())))
        .enumerate()
        .map(|(k, (process, (name, g), what))| {
            coefficient(process, name, *g, se.as_ref().map(|v| v[kb + k]), what)
        })
        .collect()
}

/// One coefficient's inference and words: `what` is the quantity e^{γ} multiplies.
pub(crate) fn coefficient(
    process: Process,
    name: &str,
    g: f64,
    se: Option<f64>,
    what: &str,
) -> Coefficient {
    use statrs::distribution::{ContinuousCDF, Normal};
    let normal = Normal::new(0.0, 1.0).expect("standard normal");
    let s = se.filter(|v| v.is_finite() && *v > 0.0);
    let ci = s.map(|s| (g - 1.959_963_984_540_054 * s, g + 1.959_963_984_540_054 * s));
    let z = s.map(|s| g / s);
    let p_value = z.map(|z| 2.0 * normal.cdf(-z.abs()));
    let multiplier = (g.exp(), ci.map(|(lo, hi)| (lo.exp(), hi.exp())));
    let interval = multiplier
        .1
        .map_or(String::new(), |(lo, hi)| format!(" [{lo:.3}, {hi:.3}]"));
    Coefficient {
        process,
        covariate: name.to_string(),
        estimate: g,
        se: s,
        z,
        p_value,
        ci,
        multiplier,
        effect: format!("{name}: {what} × {:.3}{interval} per unit", multiplier.0),
    }
}

/// A likelihood-ratio test of a model against a restriction of it.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct LikelihoodRatio {
    /// 2 (LL − LL restricted).
    pub statistic: f64,
    /// Degrees of freedom (the parameters the restriction removes).
    pub df: usize,
    /// P(χ²_df >= statistic).
    pub p_value: f64,
}

/// The likelihood-ratio test of the model with covariates (log-likelihood `with`) against the
/// one without (`without`), on `df` coefficients.
///
/// ```
/// use clv::models::covariates::likelihood_ratio;
/// let t = likelihood_ratio(-5821.06269, -5848.09783, 4).unwrap();
/// assert!((t.statistic - 54.07028).abs() < 1e-4);
/// assert!(t.p_value < 1e-10);
/// ```
///
/// # Errors
/// [`Error::InvalidOption`] for `df` = 0 or log-likelihoods that are not finite.
pub fn likelihood_ratio(with: f64, without: f64, df: usize) -> Result<LikelihoodRatio> {
    use statrs::distribution::{ChiSquared, ContinuousCDF};
    if df == 0 || !with.is_finite() || !without.is_finite() {
        return Err(Error::InvalidOption {
            name: "likelihood ratio",
            reason: format!("needs df > 0 and finite log-likelihoods, got {with}, {without}, {df}"),
        });
    }
    let statistic = (2.0 * (with - without)).max(0.0);
    let chi = ChiSquared::new(df as f64).map_err(|e| Error::InvalidOption {
        name: "likelihood ratio",
        reason: e.to_string(),
    })?;
    Ok(LikelihoodRatio {
        statistic,
        df,
        p_value: chi.sf(statistic),
    })
}
