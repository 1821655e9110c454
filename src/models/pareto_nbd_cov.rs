//! Pareto/NBD with static covariates, in CLVTools' parameterisation (Fader & Hardie 2007,
//! "Incorporating time-invariant covariates into the Pareto/NBD and BG/NBD models"; Meierer et
//! al., CLVTools): customer i with purchase covariates z_t and dropout covariates z_l has
//!
//! α_i = α · exp(−γ_tᵀ z_t),   β_i = β · exp(−γ_lᵀ z_l),
//!
//! and otherwise the Pareto/NBD of [`super::pareto_nbd`] (λ_i ~ Gamma(r, α_i), μ_i ~
//! Gamma(s, β_i)). A positive γ_t raises the mean purchase rate r/α_i by e^{γ_t} per unit of
//! the covariate; a positive γ_l raises the mean dropout rate s/β_i likewise. The likelihood is
//! the Pareto/NBD's per customer; customers with the same covariate values share α_i and β_i,
//! so it is summed per covariate pattern over their compressed histories, and its gradient in
//! (r, α, s, β, γ) follows by the chain rule from the Pareto/NBD's in (r, α_i, s, β_i):
//! ∂α_i/∂α = α_i/α, ∂α_i/∂γ_t = −α_i z_t (β likewise). An L2 penalty (`FitOptions::penalizer`)
//! falls on the coefficients only, as CLVTools' `reg.lambdas`.

use super::pareto_nbd::{ParetoNbdParams, ll_grad_hess};
use crate::data::{CompressedRfm, Covariates, RfmSummary, TimeUnit};
use crate::error::{Error, Result};
use crate::fit::{FitData, MaximumLikelihood, ParamKind};

/// Fitted (or given) Pareto/NBD parameters with covariate coefficients.
///
/// ```
/// use clv::models::pareto_nbd_cov::ParetoNbdCovParams;
/// use clv::ParetoNbdParams;
/// let base = ParetoNbdParams::new(1.84, 92.96, 0.59, 49.51)?;
/// let m = ParetoNbdCovParams::new(base, vec![("channel".into(), 0.62)], vec![("channel".into(), 0.79)])?;
/// // a channel-1 customer: α and β divided by e^0.62 and e^0.79
/// let own = m.for_customer(&[1.0], &[1.0])?;
/// assert!((own.alpha() - 92.96 * (-0.62f64).exp()).abs() < 1e-12);
/// # Ok::<(), clv::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct ParetoNbdCovParams {
    base: ParetoNbdParams,
    purchase: Vec<(String, f64)>,
    dropout: Vec<(String, f64)>,
}

impl ParetoNbdCovParams {
    /// Base parameters (those of a customer whose covariates are all 0) and the coefficients
    /// of the purchase and the dropout covariates, by name.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for a coefficient that is not finite.
    pub fn new(
        base: ParetoNbdParams,
        purchase: Vec<(String, f64)>,
        dropout: Vec<(String, f64)>,
    ) -> Result<Self> {
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
        Ok(ParetoNbdCovParams {
            base,
            purchase,
            dropout,
        })
    }
    /// The parameters of a customer whose covariates are all 0.
    pub fn base(&self) -> &ParetoNbdParams {
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
    /// A customer's own Pareto/NBD: α·exp(−γ_tᵀz_t), β·exp(−γ_lᵀz_l). Every prediction of
    /// [`ParetoNbdParams`] then applies to them.
    ///
    /// # Errors
    /// [`Error::InvalidOption`] for covariate rows of the wrong length;
    /// [`Error::InvalidParameter`] when the customer's α or β is not finite and > 0.
    pub fn for_customer(&self, z_purchase: &[f64], z_dropout: &[f64]) -> Result<ParetoNbdParams> {
        let (a, b) = self.scales(z_purchase, z_dropout)?;
        ParetoNbdParams::new(
            self.base.r(),
            self.base.alpha() * a,
            self.base.s(),
            self.base.beta() * b,
        )
    }

    /// exp(−γ_tᵀz_t) and exp(−γ_lᵀz_l).
    fn scales(&self, zt: &[f64], zl: &[f64]) -> Result<(f64, f64)> {
        if zt.len() != self.purchase.len() || zl.len() != self.dropout.len() {
            return Err(Error::InvalidOption {
                name: "covariates",
                reason: format!(
                    "need {} purchase and {} dropout values, got {} and {}",
                    self.purchase.len(),
                    self.dropout.len(),
                    zt.len(),
                    zl.len()
                ),
            });
        }
        let dot =
            |g: &[(String, f64)], z: &[f64]| g.iter().zip(z).map(|((_, g), z)| g * z).sum::<f64>();
        Ok((
            (-dot(&self.purchase, zt)).exp(),
            (-dot(&self.dropout, zl)).exp(),
        ))
    }
}

/// The customers of one covariate pattern: its values and their compressed histories.
#[derive(Debug, Clone)]
struct Group {
    zt: Vec<f64>,
    zl: Vec<f64>,
    rows: CompressedRfm,
}

/// What the likelihood iterates over: the customers grouped by covariate pattern.
#[derive(Debug, Clone)]
pub struct ParetoNbdCovData {
    groups: Vec<Group>,
    purchase: Vec<String>,
    dropout: Vec<String>,
    n: f64,
    mean_age: f64,
}

/// A summary with its customers' purchase and dropout covariates (rows in summary order):
/// what [`ParetoNbdCovParams`] is fitted to.
///
/// ```
/// use clv::models::pareto_nbd_cov::{CovariateSummary, ParetoNbdCovParams};
/// use clv::sim::Simulate;
/// use clv::{Covariates, FitOptions, ParetoNbdParams, TimeUnit};
/// let truth = ParetoNbdParams::new(0.55, 10.6, 0.6, 11.7)?;
/// let s = truth.simulate(&vec![52.0; 2000], TimeUnit::Weeks, 1)?;
/// let z = Covariates::new(vec!["g".into()], (0..2000).map(|i| vec![(i % 2) as f64]).collect())?;
/// let input = CovariateSummary::new(&s, &z, &z)?;
/// let f = clv::fit::fit::<ParetoNbdCovParams>(&input, &FitOptions::default())?;
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
    dropout: &'a Covariates,
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
        for (what, z) in [("purchase", purchase), ("dropout", dropout)] {
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
        }
        Ok(CovariateSummary {
            summary,
            purchase,
            dropout,
        })
    }
}

impl FitData<ParetoNbdCovParams> for CovariateSummary<'_> {
    fn prepare(&self) -> Result<ParetoNbdCovData> {
        let s = self.summary;
        // one group per distinct covariate pattern (bitwise), in order of first appearance
        let mut keys: Vec<Vec<u64>> = Vec::new();
        let mut members: Vec<Vec<usize>> = Vec::new();
        for i in 0..s.len() {
            let key: Vec<u64> = self
                .purchase
                .row(i)
                .iter()
                .chain(self.dropout.row(i))
                .map(|v| v.to_bits())
                .collect();
            match keys.iter().position(|k| *k == key) {
                Some(g) => members[g].push(i),
                None => {
                    keys.push(key);
                    members.push(vec![i]);
                }
            }
        }
        let groups = members
            .iter()
            .map(|m| {
                let pick = |v: &[f64]| m.iter().map(|&i| v[i]).collect::<Vec<f64>>();
                let sub = RfmSummary::new(
                    m.iter().map(|&i| s.ids()[i].clone()).collect(),
                    pick(s.frequency()),
                    pick(s.recency()),
                    pick(s.age()),
                    s.unit(),
                )?;
                Ok(Group {
                    zt: self.purchase.row(m[0]).to_vec(),
                    zl: self.dropout.row(m[0]).to_vec(),
                    rows: sub.compress(),
                })
            })
            .collect::<Result<Vec<Group>>>()?;
        let all = s.compress();
        super::check_identifiable(&all, ParetoNbdCovParams::MODEL)?;
        Ok(ParetoNbdCovData {
            groups,
            purchase: self.purchase.names().to_vec(),
            dropout: self.dropout.names().to_vec(),
            n: s.len() as f64,
            mean_age: all.mean_age(),
        })
    }
    fn unit(&self) -> TimeUnit {
        self.summary.unit()
    }
}

fn names(purchase: &[String], dropout: &[String]) -> Vec<String> {
    ["r", "alpha", "s", "beta"]
        .iter()
        .map(|n| n.to_string())
        .chain(purchase.iter().map(|n| format!("purchase[{n}]")))
        .chain(dropout.iter().map(|n| format!("dropout[{n}]")))
        .collect()
}

fn kinds(purchase: usize, dropout: usize) -> Vec<ParamKind> {
    let mut k = vec![ParamKind::Positive; 4];
    k.extend(vec![ParamKind::Real; purchase + dropout]);
    k
}

impl MaximumLikelihood for ParetoNbdCovParams {
    type Data = ParetoNbdCovData;
    const MODEL: &'static str = "pareto-nbd-cov";
    const LABEL: &'static str = "Pareto/NBD with covariates";
    /// The base parameters; the coefficients' names come with the data
    /// ([`names_for`](MaximumLikelihood::names_for)).
    const NAMES: &'static [&'static str] = &["r", "alpha", "s", "beta"];

    fn n_customers(data: &ParetoNbdCovData) -> f64 {
        data.n
    }
    fn n_rows(data: &ParetoNbdCovData) -> usize {
        data.groups.iter().map(|g| g.rows.len()).sum()
    }
    fn from_slice(theta: &[f64]) -> Result<Self> {
        Err(Error::InvalidOption {
            name: "parameters",
            reason: format!(
                "a Pareto/NBD with covariates needs the covariate names with its {} values",
                theta.len()
            ),
        })
    }
    fn from_slice_for(theta: &[f64], data: &ParetoNbdCovData) -> Result<Self> {
        let (kt, kl) = (data.purchase.len(), data.dropout.len());
        if theta.len() != 4 + kt + kl {
            return Err(Error::InvalidOption {
                name: "parameters",
                reason: format!("need {} values, got {}", 4 + kt + kl, theta.len()),
            });
        }
        let base = ParetoNbdParams::new(theta[0], theta[1], theta[2], theta[3])?;
        let named =
            |names: &[String], v: &[f64]| names.iter().cloned().zip(v.iter().copied()).collect();
        ParetoNbdCovParams::new(
            base,
            named(&data.purchase, &theta[4..4 + kt]),
            named(&data.dropout, &theta[4 + kt..]),
        )
    }
    fn to_vec(&self) -> Vec<f64> {
        let b = &self.base;
        [b.r(), b.alpha(), b.s(), b.beta()]
            .into_iter()
            .chain(self.purchase.iter().map(|p| p.1))
            .chain(self.dropout.iter().map(|p| p.1))
            .collect()
    }
    fn names_for(data: &ParetoNbdCovData) -> Vec<String> {
        names(&data.purchase, &data.dropout)
    }
    fn kinds_for(data: &ParetoNbdCovData) -> Vec<ParamKind> {
        kinds(data.purchase.len(), data.dropout.len())
    }
    fn param_names(&self) -> Vec<String> {
        let n = |v: &[(String, f64)]| v.iter().map(|p| p.0.clone()).collect::<Vec<_>>();
        names(&n(&self.purchase), &n(&self.dropout))
    }
    fn with_values(&self, theta: &[f64]) -> Result<Self> {
        let (kt, kl) = (self.purchase.len(), self.dropout.len());
        if theta.len() != 4 + kt + kl {
            return Err(Error::InvalidOption {
                name: "parameters",
                reason: format!("need {} values, got {}", 4 + kt + kl, theta.len()),
            });
        }
        let base = ParetoNbdParams::new(theta[0], theta[1], theta[2], theta[3])?;
        let renamed = |old: &[(String, f64)], v: &[f64]| {
            old.iter()
                .map(|p| p.0.clone())
                .zip(v.iter().copied())
                .collect()
        };
        ParetoNbdCovParams::new(
            base,
            renamed(&self.purchase, &theta[4..4 + kt]),
            renamed(&self.dropout, &theta[4 + kt..]),
        )
    }
    fn param_kinds(&self) -> Vec<ParamKind> {
        kinds(self.purchase.len(), self.dropout.len())
    }
    fn starts(data: &ParetoNbdCovData) -> Vec<Vec<f64>> {
        let k = data.purchase.len() + data.dropout.len();
        let m = data.mean_age;
        [
            [1.0, 1.0, 1.0, 1.0],
            [0.5, 0.25 * m, 0.5, 0.25 * m],
            [1.0, m, 1.0, m],
        ]
        .iter()
        .map(|b| {
            b.iter()
                .copied()
                .chain(std::iter::repeat_n(0.0, k))
                .collect()
        })
        .collect()
    }
    fn penalty_scales(data: &ParetoNbdCovData) -> Vec<f64> {
        // the coefficients only
        let k = data.purchase.len() + data.dropout.len();
        [0.0; 4]
            .into_iter()
            .chain(std::iter::repeat_n(1.0, k))
            .collect()
    }
    fn log_likelihood_grad(
        theta: &[f64],
        data: &ParetoNbdCovData,
        grad: Option<&mut [f64]>,
    ) -> f64 {
        let (kt, kl) = (data.purchase.len(), data.dropout.len());
        let (r, alpha, s, beta) = (theta[0], theta[1], theta[2], theta[3]);
        let (gt, gl) = (&theta[4..4 + kt], &theta[4 + kt..4 + kt + kl]);
        let want = grad.is_some();
        let mut total = 0.0;
        let mut g = vec![0.0; theta.len()];
        let mut gi = [0.0; 4];
        for grp in &data.groups {
            let dot = |c: &[f64], z: &[f64]| c.iter().zip(z).map(|(a, b)| a * b).sum::<f64>();
            let ai = alpha * (-dot(gt, &grp.zt)).exp();
            let bi = beta * (-dot(gl, &grp.zl)).exp();
            let th = [r, ai, s, bi];
            total += ll_grad_hess(&th, &grp.rows, want.then_some(&mut gi[..]), None);
            if want {
                g[0] += gi[0];
                g[1] += gi[1] * ai / alpha;
                g[2] += gi[2];
                g[3] += gi[3] * bi / beta;
                for (k, z) in grp.zt.iter().enumerate() {
                    g[4 + k] -= gi[1] * ai * z;
                }
                for (k, z) in grp.zl.iter().enumerate() {
                    g[4 + kt + k] -= gi[3] * bi * z;
                }
            }
        }
        if let Some(out) = grad {
            out.copy_from_slice(&g);
        }
        total
    }
}
