//! The fitted-model value: parameters, fit statistics, covariance.

use super::MaximumLikelihood;
use nalgebra::DMatrix;

/// How the optimiser ended.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub struct Convergence {
    /// True when a stationary point with a positive-definite Hessian was found.
    pub converged: bool,
    /// The optimiser's termination reason.
    pub reason: super::Termination,
    /// Iterations over all optimiser runs.
    pub iterations: u64,
    /// Euclidean norm of the gradient of the mean objective in log-parameters at the result.
    pub gradient_norm: f64,
    /// Which optimiser produced the result.
    pub method: super::Method,
    /// How many starting points were tried.
    pub starts_tried: usize,
    /// Whether the Hessian at the result is positive definite (standard errors exist).
    pub hessian_positive_definite: bool,
}

/// A fitted model: an immutable value holding the parameters, the maximised log-likelihood,
/// the convergence report and the covariance of the estimates. It holds no copy of the data and
/// predicts by delegating to its parameters ([`Fitted::params`]).
///
/// ```
/// use clv::{BgNbdParams, FitOptions, io::read_summary_csv, TimeUnit, TransactionModel};
/// let path = concat!(env!("CARGO_MANIFEST_DIR"), "/data/cdnow_customers_summary.csv");
/// let s = read_summary_csv(path, TimeUnit::Weeks).unwrap();
/// let f = BgNbdParams::fit(&s, &FitOptions::default()).unwrap();
/// let se = f.standard_errors().unwrap();
/// assert!((se[0] - 0.0126).abs() < 0.0126 * 0.02);
/// let (lo, hi) = f.confidence_intervals(0.95).unwrap()[0];
/// assert!(lo < f.params().r() && f.params().r() < hi);
/// assert!(f.params().expected_purchases(39.0) > 0.0);
/// ```
///
/// It serialises (for logs and reports) but does not deserialise: persist it as a
/// [`ModelFile`](super::ModelFile), whose loading validates every field.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(bound = "M: serde::Serialize"))]
pub struct Fitted<M> {
    pub(super) params: M,
    pub(super) log_likelihood: f64,
    pub(super) n_customers: f64,
    pub(super) n_rows: usize,
    pub(super) penalizer: f64,
    pub(super) convergence: Convergence,
    pub(super) covariance: Option<Vec<Vec<f64>>>,
    pub(super) warnings: Vec<super::FitWarning>,
    pub(super) time_unit: crate::TimeUnit,
}

impl<M: MaximumLikelihood> Fitted<M> {
    /// Rebuilds a fitted value from stored parts (used when loading model files), checking
    /// that they belong together: a finite log-likelihood, `n_customers >= 1`, `n_rows` in
    /// 1..=n_customers, a finite penalizer >= 0, a finite gradient norm >= 0, and, when
    /// present, a finite symmetric k×k covariance with positive diagonal (a zero row for a
    /// [`ParamKind::Whole`](super::ParamKind::Whole) parameter), present exactly when
    /// the convergence report says the Hessian was positive definite. `time_unit` is the unit
    /// of the data it was fitted on (of its time-valued parameters and every horizon).
    ///
    /// # Errors
    /// [`Error::InvalidOption`](crate::Error::InvalidOption) naming the part that does not belong (see above).
    #[allow(clippy::too_many_arguments)]
    pub fn from_parts(
        params: M,
        time_unit: crate::TimeUnit,
        log_likelihood: f64,
        n_customers: f64,
        n_rows: usize,
        penalizer: f64,
        convergence: Convergence,
        covariance: Option<Vec<Vec<f64>>>,
    ) -> crate::Result<Self> {
        let invalid =
            |name: &'static str, reason: String| crate::Error::InvalidOption { name, reason };
        let k = params.param_names().len();
        if let Some(c) = &covariance {
            let square = c.len() == k
                && c.iter()
                    .all(|row| row.len() == k && row.iter().all(|v| v.is_finite()));
            // a Whole parameter (conditioned on) has a zero row and column
            let kinds = params.param_kinds();
            let whole = |i: usize| kinds.get(i) == Some(&super::ParamKind::Whole);
            let bad_diagonal = |i: usize| {
                if whole(i) {
                    (0..k).any(|j| c[i][j] != 0.0)
                } else {
                    c[i][i] <= 0.0
                }
            };
            if !square || (0..k).any(|i| bad_diagonal(i) || (0..i).any(|j| c[i][j] != c[j][i])) {
                return Err(invalid(
                    "covariance",
                    format!(
                        "must be a finite symmetric {k}x{k} matrix with a positive diagonal \
                         (zero rows for whole-number parameters)"
                    ),
                ));
            }
        }
        if covariance.is_some() != convergence.hessian_positive_definite {
            return Err(invalid(
                "covariance",
                "must be present exactly when the Hessian was positive definite".into(),
            ));
        }
        if !log_likelihood.is_finite() {
            return Err(invalid(
                "log_likelihood",
                format!("must be finite, got {log_likelihood}"),
            ));
        }
        if !(n_customers.is_finite() && n_customers >= 1.0) {
            return Err(invalid(
                "n_customers",
                format!("must be >= 1, got {n_customers}"),
            ));
        }
        if n_rows == 0 || n_rows as f64 > n_customers {
            return Err(invalid(
                "n_rows",
                format!("must be in 1..={n_customers}, got {n_rows}"),
            ));
        }
        if !(penalizer.is_finite() && penalizer >= 0.0) {
            return Err(invalid(
                "penalizer",
                format!("must be >= 0, got {penalizer}"),
            ));
        }
        let g = convergence.gradient_norm;
        if !(g.is_finite() && g >= 0.0) {
            return Err(invalid("gradient_norm", format!("must be >= 0, got {g}")));
        }
        Ok(Fitted {
            params,
            log_likelihood,
            n_customers,
            n_rows,
            penalizer,
            convergence,
            covariance,
            warnings: Vec::new(),
            time_unit,
        })
    }

    /// The time unit of the data the model was fitted on: its time-valued parameters, and every
    /// horizon and summary it predicts for, are in this unit.
    pub fn time_unit(&self) -> crate::TimeUnit {
        self.time_unit
    }

    /// Refuses a summary in another unit than the model's ([`Error::UnitMismatch`](crate::Error::UnitMismatch)).
    ///
    /// [`Error::UnitMismatch`](crate::Error::UnitMismatch): crate::Error::UnitMismatch
    ///
    /// # Errors
    /// [`Error::UnitMismatch`](crate::Error::UnitMismatch) when the summary is in another time unit.
    pub fn check_unit(&self, summary: &crate::RfmSummary) -> crate::Result<()> {
        if summary.unit() == self.time_unit {
            return Ok(());
        }
        Err(crate::Error::UnitMismatch {
            what: "the summary".into(),
            found: summary.unit(),
            against: format!("the {} model", M::MODEL),
            expected: self.time_unit,
            hint: "summarise the log again in the model's unit, or refit the model on this summary"
                .into(),
        })
    }

    /// The estimated parameters (use them to predict).
    pub fn params(&self) -> &M {
        &self.params
    }
    /// Parameter names, in the order of every vector here.
    pub fn names(&self) -> Vec<String> {
        self.params.param_names()
    }
    /// The maximised (unpenalised) log-likelihood, summed over customers.
    pub fn log_likelihood(&self) -> f64 {
        self.log_likelihood
    }
    /// Number of customers fitted.
    pub fn n_customers(&self) -> f64 {
        self.n_customers
    }
    /// Number of distinct histories the likelihood looped over.
    pub fn n_rows(&self) -> usize {
        self.n_rows
    }
    /// The L2 penalty coefficient used.
    pub fn penalizer(&self) -> f64 {
        self.penalizer
    }
    /// Warnings about the fit from the model (e.g. Gamma-Gamma's frequency–spend correlation).
    pub fn warnings(&self) -> &[super::FitWarning] {
        &self.warnings
    }
    /// How the optimiser ended.
    pub fn convergence(&self) -> &Convergence {
        &self.convergence
    }
    /// Covariance of the estimates (inverse observed information, delta method to natural
    /// parameters), or `None` when the Hessian was not positive definite.
    pub fn covariance(&self) -> Option<&[Vec<f64>]> {
        self.covariance.as_deref()
    }
    /// Standard errors (square roots of the covariance diagonal).
    pub fn standard_errors(&self) -> Option<Vec<f64>> {
        self.covariance
            .as_ref()
            .map(|c| (0..c.len()).map(|i| c[i][i].sqrt()).collect())
    }
    /// Wald intervals at `level` (e.g. 0.95), built on the scale each parameter is fitted on
    /// ([`ParamKind`](super::ParamKind)) so they stay inside its domain: θ·exp(±z·SE/θ) for
    /// positive parameters, θ ± z·SE for real ones, and for probabilities the interval of
    /// logit θ ± z·SE/(θ(1-θ)) mapped back.
    pub fn confidence_intervals(&self, level: f64) -> Option<Vec<(f64, f64)>> {
        if !(level > 0.0 && level < 1.0) {
            return None;
        }
        let z = normal_quantile(0.5 + level / 2.0);
        let se = self.standard_errors()?;
        Some(
            self.params
                .to_vec()
                .iter()
                .zip(se)
                .zip(self.params.param_kinds())
                .map(|((&t, s), k)| {
                    // the free-scale half-width: SE(φ) = SE(θ)/|dθ/dφ|
                    let half = z * s / k.jacobian(t).abs();
                    let phi = k.to_free(t).unwrap_or(f64::NAN);
                    (k.to_natural(phi - half), k.to_natural(phi + half))
                })
                .collect(),
        )
    }
    /// Akaike information criterion, 2k - 2 ln L.
    pub fn aic(&self) -> f64 {
        2.0 * self.params.param_names().len() as f64 - 2.0 * self.log_likelihood
    }
    /// Bayesian information criterion, k ln n - 2 ln L.
    pub fn bic(&self) -> f64 {
        self.params.param_names().len() as f64 * self.n_customers.ln() - 2.0 * self.log_likelihood
    }
}

fn normal_quantile(p: f64) -> f64 {
    use statrs::distribution::{ContinuousCDF, Normal};
    Normal::standard().inverse_cdf(p)
}

/// Cov(θ) = J H⁻¹ J with J = diag(dθ/dφ) (θ for positive parameters, 1 for real ones,
/// θ(1-θ) for probabilities), from the Hessian `h` of the total negative log-likelihood in φ;
/// `None` unless `h` is positive definite.
pub(crate) fn covariance(
    h: &DMatrix<f64>,
    theta: &[f64],
    kinds: &[super::ParamKind],
) -> Option<Vec<Vec<f64>>> {
    if h.iter().any(|v| !v.is_finite()) {
        return None;
    }
    let inv = h.clone().cholesky()?.inverse();
    let k = theta.len();
    let jac: Vec<f64> = (0..k).map(|i| kinds[i].jacobian(theta[i])).collect();
    // a Whole parameter is conditioned on: no variance, no covariance
    let whole = |i: usize| kinds[i] == super::ParamKind::Whole;
    let mut cov = vec![vec![0.0; k]; k];
    for i in 0..k {
        for j in i..k {
            if whole(i) || whole(j) {
                continue;
            }
            let v = jac[i] * 0.5 * (inv[(i, j)] + inv[(j, i)]) * jac[j];
            cov[i][j] = v;
            cov[j][i] = v;
        }
    }
    let usable = |i: usize| whole(i) || (cov[i][i].is_finite() && cov[i][i] > 0.0);
    if !(0..k).all(usable) {
        return None;
    }
    Some(cov)
}

/// Estimates below this or above its inverse are taken to be heading to 0 or infinity: the
/// optimum of the likelihood is on the boundary of the parameter space.
pub(crate) const BOUNDARY: f64 = 1e-6;

/// The parameters that look like they are heading to a boundary of their domain
/// (`r = 3.2e8, ...`), if any.
pub(crate) fn boundary_parameters(
    names: &[String],
    theta: &[f64],
    kinds: &[super::ParamKind],
) -> Option<String> {
    let odd: Vec<String> = names
        .iter()
        .zip(theta)
        .zip(kinds)
        .filter(|((_, t), k)| k.at_boundary(**t))
        .map(|((n, t), _)| format!("{n} = {t:.3e}"))
        .collect();
    (!odd.is_empty()).then(|| odd.join(", "))
}

/// Why the Hessian is singular: the parameters at a boundary, or a flat direction.
pub(crate) fn describe_boundary(
    names: &[String],
    theta: &[f64],
    kinds: &[super::ParamKind],
) -> String {
    match boundary_parameters(names, theta, kinds) {
        Some(b) => format!("parameters at a boundary: {b}"),
        None => "the likelihood is flat in some direction at the optimum".into(),
    }
}

/// A fitted transaction model predicts directly (`fitted.p_alive(&c)`, `predict::score(&fitted,
/// ...)`), with its parameters.
///
/// ```
/// use clv::{BgNbdParams, Customer, FitOptions, TimeUnit, TransactionModel, io::read_summary_csv};
/// let path = concat!(env!("CARGO_MANIFEST_DIR"), "/data/cdnow_customers_summary.csv");
/// let f = BgNbdParams::fit(&read_summary_csv(path, TimeUnit::Weeks)?, &FitOptions::default())?;
/// let c = Customer::new(2.0, 30.43, 38.86)?;
/// assert_eq!(f.p_alive(&c), f.params().p_alive(&c));
/// # Ok::<(), clv::Error>(())
/// ```
impl<M> crate::TransactionModel for Fitted<M>
where
    M: MaximumLikelihood + crate::TransactionModel + Send + Sync + 'static,
{
    fn expected_purchases(&self, t: f64) -> f64 {
        self.params.expected_purchases(t)
    }
    fn pmf(&self, n: u64, t: f64) -> f64 {
        self.params.pmf(n, t)
    }
    fn p_alive(&self, c: &crate::Customer) -> f64 {
        self.params.p_alive(c)
    }
    fn conditional_expected_purchases(&self, c: &crate::Customer, t: f64) -> f64 {
        self.params.conditional_expected_purchases(c, t)
    }
    fn conditional_pmf(&self, c: &crate::Customer, n: u64, t: f64) -> f64 {
        self.params.conditional_pmf(c, n, t)
    }
    fn dert(&self, c: &crate::Customer, delta: f64, horizon: Option<f64>) -> crate::Result<f64> {
        self.params.dert(c, delta, horizon)
    }
    fn prob_no_purchase_given(&self, p_alive: f64, c: &crate::Customer, t: f64) -> f64 {
        self.params.prob_no_purchase_given(p_alive, c, t)
    }
    fn score(&self, c: &crate::Customer, t: f64) -> crate::models::Score {
        self.params.score(c, t)
    }
    fn conditional_expectations(&self, c: &crate::Customer, ts: &[f64], out: &mut [f64]) -> f64 {
        self.params.conditional_expectations(c, ts, out)
    }
    fn plan(
        &self,
        groups: &std::sync::Arc<crate::FrequencyGroups>,
        schedules: &std::sync::Arc<[crate::Schedule]>,
    ) -> Box<dyn crate::SchedulePlan>
    where
        Self: Sized + Clone + Send + Sync + 'static,
    {
        self.params.plan(groups, schedules)
    }
}

/// A fitted spend model predicts directly, with its parameters.
impl<M: MaximumLikelihood + crate::SpendModel> crate::SpendModel for Fitted<M> {
    fn population_mean_spend(&self) -> crate::Result<f64> {
        self.params.population_mean_spend()
    }
    fn conditional_expected_spend(&self, x: f64, mean_spend: f64) -> crate::Result<f64> {
        self.params.conditional_expected_spend(x, mean_spend)
    }
}
