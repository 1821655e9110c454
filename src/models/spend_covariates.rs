//! Gamma-Gamma with spend covariates (no peer library has them): customer i's spend-rate
//! prior ν_i ~ Gamma(q, v_i) has the scale v_i = v · exp(γᵀz), so a positive γ multiplies the
//! mean spend per transaction p·v_i/(q − 1) by e^{γ} per unit of the covariate (Fader, Hardie
//! & Lee 2005, "RFM and CLV", eq. 1–4, with v per customer). The likelihood is the Gamma-Gamma
//! one per repeat customer, summed per covariate pattern; the gradient is the chain rule on
//! it: ∂v_i/∂v = v_i/v, ∂v_i/∂γ = v_i z. The L2 penalty falls on the coefficients only.

use super::gamma_gamma::{GammaGammaParams, SpendData};
use crate::data::{Covariates, RfmSummary, TimeUnit};
use crate::error::{Error, Result};
use crate::fit::{FitData, MaximumLikelihood, ParamKind};

/// Gamma-Gamma parameters with spend coefficients.
///
/// ```
/// use clv::models::spend_covariates::SpendWithCovariates;
/// use clv::GammaGammaParams;
/// let m = SpendWithCovariates::new(GammaGammaParams::new(6.25, 3.74, 15.44)?, vec![("vip".into(), 0.4)])?;
/// let vip = m.for_customer(&[1.0])?;
/// assert!((vip.v() - 15.44 * 0.4f64.exp()).abs() < 1e-12);
/// # Ok::<(), clv::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct SpendWithCovariates {
    base: GammaGammaParams,
    spend: Vec<(String, f64)>,
}

impl SpendWithCovariates {
    /// Base parameters (a customer whose covariates are all 0) and the spend coefficients.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for a coefficient that is not finite.
    pub fn new(base: GammaGammaParams, spend: Vec<(String, f64)>) -> Result<Self> {
        if let Some((_, v)) = spend.iter().find(|(_, v)| !v.is_finite()) {
            return Err(Error::InvalidParameter {
                name: "gamma",
                value: *v,
                reason: "a covariate coefficient must be finite",
            });
        }
        Ok(SpendWithCovariates { base, spend })
    }
    /// The parameters of a customer whose covariates are all 0.
    pub fn base(&self) -> &GammaGammaParams {
        &self.base
    }
    /// The spend coefficients, by covariate.
    pub fn coefficients(&self) -> &[(String, f64)] {
        &self.spend
    }
    /// A customer's own Gamma-Gamma: v·exp(γᵀz).
    ///
    /// # Errors
    /// [`Error::InvalidOption`] for a row of the wrong length; [`Error::InvalidParameter`]
    /// when the customer's v is not finite and > 0.
    pub fn for_customer(&self, z: &[f64]) -> Result<GammaGammaParams> {
        if z.len() != self.spend.len() {
            return Err(Error::InvalidOption {
                name: "covariates",
                reason: format!("need {} spend values, got {}", self.spend.len(), z.len()),
            });
        }
        let dot: f64 = self.spend.iter().zip(z).map(|((_, g), z)| g * z).sum();
        GammaGammaParams::new(self.base.p(), self.base.q(), self.base.v() * dot.exp())
    }
    fn from_parts(theta: &[f64], names: &[String]) -> Result<Self> {
        if theta.len() != 3 + names.len() {
            return Err(Error::InvalidOption {
                name: "parameters",
                reason: format!("need {} values, got {}", 3 + names.len(), theta.len()),
            });
        }
        SpendWithCovariates::new(
            GammaGammaParams::new(theta[0], theta[1], theta[2])?,
            names
                .iter()
                .cloned()
                .zip(theta[3..].iter().copied())
                .collect(),
        )
    }
    fn names(&self) -> Vec<String> {
        self.spend.iter().map(|p| p.0.clone()).collect()
    }
}

/// The repeat customers grouped by covariate pattern.
#[derive(Debug, Clone)]
pub struct SpendCovariateData {
    groups: Vec<(Vec<f64>, SpendData)>,
    names: Vec<String>,
    pooled: SpendData,
}

/// A summary (with monetary values) and its customers' spend covariates.
#[derive(Debug, Clone, Copy)]
pub struct SpendCovariateSummary<'a> {
    summary: &'a RfmSummary,
    spend: &'a Covariates,
}

impl<'a> SpendCovariateSummary<'a> {
    /// The summary and one covariate row per customer.
    ///
    /// # Errors
    /// [`Error::InvalidOption`] for another number of rows than customers.
    pub fn new(summary: &'a RfmSummary, spend: &'a Covariates) -> Result<Self> {
        if spend.len() != summary.len() {
            return Err(Error::InvalidOption {
                name: "covariates",
                reason: format!(
                    "spend covariates have {} rows for {} customers",
                    spend.len(),
                    summary.len()
                ),
            });
        }
        Ok(SpendCovariateSummary { summary, spend })
    }
}

impl FitData<SpendWithCovariates> for SpendCovariateSummary<'_> {
    fn prepare(&self) -> Result<SpendCovariateData> {
        let s = self.summary;
        let pooled = SpendData::from_summary(s)?;
        // repeat customers only: spend is modelled on repeat transactions
        let repeat = (0..s.len()).filter(|&i| s.frequency()[i] > 0.0);
        let groups = crate::data::group_by_pattern(repeat, |i| vec![self.spend.row(i)])
            .iter()
            .map(|mem| {
                Ok((
                    self.spend.row(mem[0]).to_vec(),
                    SpendData::from_summary(&s.subset(mem)?)?,
                ))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(SpendCovariateData {
            groups,
            names: self.spend.names().to_vec(),
            pooled,
        })
    }
    fn unit(&self) -> TimeUnit {
        self.summary.unit()
    }
}

fn all_names(names: &[String]) -> Vec<String> {
    ["p", "q", "v"]
        .iter()
        .map(|n| n.to_string())
        .chain(names.iter().map(|n| format!("spend[{n}]")))
        .collect()
}

fn all_kinds(k: usize) -> Vec<ParamKind> {
    let mut v = vec![ParamKind::Positive; 3];
    v.extend(vec![ParamKind::Real; k]);
    v
}

impl MaximumLikelihood for SpendWithCovariates {
    type Data = SpendCovariateData;
    const MODEL: &'static str = "gamma_gamma-cov";
    const LABEL: &'static str = "Gamma-Gamma with spend covariates";
    const NAMES: &'static [&'static str] = &["p", "q", "v"];

    fn n_customers(data: &SpendCovariateData) -> f64 {
        GammaGammaParams::n_customers(&data.pooled)
    }
    fn n_rows(data: &SpendCovariateData) -> usize {
        data.groups
            .iter()
            .map(|g| GammaGammaParams::n_rows(&g.1))
            .sum()
    }
    fn from_slice(theta: &[f64]) -> Result<Self> {
        Err(Error::InvalidOption {
            name: "parameters",
            reason: format!(
                "a Gamma-Gamma with covariates needs the covariate names with its {} values",
                theta.len()
            ),
        })
    }
    fn from_slice_for(theta: &[f64], data: &SpendCovariateData) -> Result<Self> {
        Self::from_parts(theta, &data.names)
    }
    fn valid_for(theta: &[f64], data: &SpendCovariateData) -> bool {
        theta.len() == 3 + data.names.len()
            && GammaGammaParams::new(theta[0], theta[1], theta[2]).is_ok()
            && theta[3..].iter().all(|g| g.is_finite())
    }
    fn with_values(&self, theta: &[f64]) -> Result<Self> {
        Self::from_parts(theta, &self.names())
    }
    fn names_from_file(order: &[String]) -> Result<Vec<String>> {
        Self::parse(order).map(|_| order.to_vec())
    }
    fn from_names(names: &[String], theta: &[f64]) -> Result<Self> {
        Self::from_parts(theta, &Self::parse(names)?)
    }
    fn to_vec(&self) -> Vec<f64> {
        [self.base.p(), self.base.q(), self.base.v()]
            .into_iter()
            .chain(self.spend.iter().map(|p| p.1))
            .collect()
    }
    fn names_for(data: &SpendCovariateData) -> Vec<String> {
        all_names(&data.names)
    }
    fn kinds_for(data: &SpendCovariateData) -> Vec<ParamKind> {
        all_kinds(data.names.len())
    }
    fn param_names(&self) -> Vec<String> {
        all_names(&self.names())
    }
    fn param_kinds(&self) -> Vec<ParamKind> {
        all_kinds(self.spend.len())
    }
    fn starts(data: &SpendCovariateData) -> Vec<Vec<f64>> {
        let k = data.names.len();
        GammaGammaParams::starts(&data.pooled)
            .into_iter()
            .map(|b| b.into_iter().chain(std::iter::repeat_n(0.0, k)).collect())
            .collect()
    }
    fn penalty_scales(data: &SpendCovariateData) -> Vec<f64> {
        [0.0; 3]
            .into_iter()
            .chain(std::iter::repeat_n(1.0, data.names.len()))
            .collect()
    }
    fn log_likelihood_grad(
        theta: &[f64],
        data: &SpendCovariateData,
        grad: Option<&mut [f64]>,
    ) -> f64 {
        let want = grad.is_some();
        let mut g = vec![0.0; theta.len()];
        let mut gi = [0.0; 3];
        let mut total = 0.0;
        for (z, d) in &data.groups {
            let dot: f64 = theta[3..].iter().zip(z).map(|(a, b)| a * b).sum();
            let vi = theta[2] * dot.exp();
            total += GammaGammaParams::log_likelihood_grad(
                &[theta[0], theta[1], vi],
                d,
                want.then_some(&mut gi[..]),
            );
            if want {
                g[0] += gi[0];
                g[1] += gi[1];
                g[2] += gi[2] * vi / theta[2];
                for (k, zk) in z.iter().enumerate() {
                    g[3 + k] += gi[2] * vi * zk;
                }
            }
        }
        if let Some(out) = grad {
            out.copy_from_slice(&g);
        }
        total
    }
}

impl SpendWithCovariates {
    /// The covariate names from parameter names `p, q, v, spend[..]...`.
    fn parse(names: &[String]) -> Result<Vec<String>> {
        let bad = |reason: String| Error::InvalidOption {
            name: "parameter_order",
            reason,
        };
        if names.len() < 3 || names[..3].iter().map(String::as_str).ne(["p", "q", "v"]) {
            return Err(bad(
                "must start with p, q, v, then spend[..] coefficients".into()
            ));
        }
        names[3..]
            .iter()
            .map(|n| {
                n.strip_prefix("spend[")
                    .and_then(|r| r.strip_suffix(']'))
                    .map(str::to_string)
                    .ok_or_else(|| bad(format!("'{n}' is not a spend coefficient")))
            })
            .collect()
    }
}

/// The coefficient table of a spend fit with covariates: a unit of the covariate multiplies
/// the mean spend per transaction by e^{γ}.
pub fn coefficients(
    f: &crate::fit::Fitted<SpendWithCovariates>,
) -> Vec<super::covariates::Coefficient> {
    let se = f.standard_errors();
    f.params()
        .spend
        .iter()
        .enumerate()
        .map(|(k, (name, g))| {
            super::covariates::coefficient(
                super::covariates::Process::Spend,
                name,
                *g,
                se.as_ref().map(|v| v[3 + k]),
                "mean spend per transaction",
            )
        })
        .collect()
}
