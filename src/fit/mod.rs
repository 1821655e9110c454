//! Maximum-likelihood fitting: the only code that touches argmin.
//!
//! A model implements [`MaximumLikelihood`] (names, starting points, log-likelihood with its
//! analytic gradient); [`fit`] does the rest, once for all models:
//! - optimisation over log-parameters φ = ln θ (so every θ stays > 0), minimising the *mean*
//!   negative log-likelihood plus an optional L2 penalty `penalizer · Σ (s_i θ_i)²` (as
//!   lifetimes' `penalizer_coef`, including its scale-free treatment of time-valued parameters,
//!   see [`MaximumLikelihood::penalty_scales`]), so argmin's absolute tolerances mean the same
//!   for 100 or 10⁶ customers;
//! - for models with an analytic Hessian (BG/NBD), Newton's method with a Levenberg–Marquardt
//!   shift where the objective is not convex and an Armijo line search: 8 iterations on CDNOW;
//! - otherwise, or when Newton fails, L-BFGS with a Moré–Thuente line search and the analytic
//!   gradient (dφ = θ·dθ), from several starts when the first fails, then a Nelder–Mead
//!   fallback polished by L-BFGS;
//! - the observed information: the Hessian of the total negative log-likelihood in φ at the
//!   optimum (analytic, or central differences of the analytic gradient); covariance of θ by
//!   the delta method, Cov(θ) = J H⁻¹ J with J = diag(θ) (all entries, not only the diagonal).
//!
//! With more than 100,000 distinct rows (40,000 for Pareto/NBD, whose rows cost more; see
//! [`MaximumLikelihood::subsample_above`]) the fit first runs on a spread subsample of 20,000
//! rows and starts from that optimum (1M customers: 3 full Newton iterations instead of 8).
//!
//! It never returns the starting values silently: an unconverged fit is an error unless the
//! caller opts in with [`FitOptions::allow_unconverged`].

mod fitted;
mod kinds;
#[cfg(feature = "serde")]
mod model_file;
mod outcome;
mod problem;

pub use fitted::{Convergence, Fitted};
pub use kinds::ParamKind;
#[cfg(feature = "serde")]
pub use model_file::{FORMAT_VERSION, ModelFile};
pub use outcome::{FitWarning, Method, Severity, Termination};

use crate::data::RfmSummary;
use crate::error::{Error, Result, nonnegative_option, positive_option};
use problem::{LogProblem, hessian_phi, minimise};

/// A model whose likelihood can be maximised by [`fit`].
pub trait MaximumLikelihood: Sized + Clone {
    /// What the likelihood iterates over (prepared once from the input: [`FromRfm::prepare`]
    /// for an RFM summary, or the model's own [`FitData`] input).
    type Data;
    /// Model name used in reports and model files (`"bgnbd"`, ...).
    const MODEL: &'static str;
    /// Name for people (`"BG/NBD"`, `"Pareto/NBD"`...).
    const LABEL: &'static str;
    /// Parameter names in the order of [`to_vec`](Self::to_vec).
    const NAMES: &'static [&'static str];
    /// Number of customers the data stands for.
    fn n_customers(data: &Self::Data) -> f64;
    /// Number of rows the likelihood loops over (identical histories merged; see
    /// [`RfmSummary::compress`](crate::RfmSummary::compress)).
    fn n_rows(data: &Self::Data) -> usize;
    /// Builds validated parameters from a vector in [`NAMES`](Self::NAMES) order.
    ///
    /// # Errors
    /// [`Error::InvalidOption`] for a vector of the wrong length; [`Error::InvalidParameter`] for
    /// a value outside its domain.
    fn from_slice(theta: &[f64]) -> Result<Self>;
    /// The parameters as a vector in [`NAMES`](Self::NAMES) order.
    fn to_vec(&self) -> Vec<f64>;
    /// Starting points, best guess first.
    fn starts(data: &Self::Data) -> Vec<Vec<f64>>;
    /// The domain of each parameter, in [`NAMES`](Self::NAMES) order: how the optimiser,
    /// the covariance and the intervals treat it. Default: all positive (fitted in ln θ).
    fn kinds() -> Vec<ParamKind> {
        vec![ParamKind::Positive; Self::NAMES.len()]
    }
    /// The parameter names for `data`: [`NAMES`](Self::NAMES), unless the model's parameters
    /// depend on its data (covariate coefficients, one per covariate).
    fn names_for(data: &Self::Data) -> Vec<String> {
        let _ = data;
        Self::NAMES.iter().map(|n| n.to_string()).collect()
    }
    /// The parameter kinds for `data`: [`kinds`](Self::kinds), unless they depend on it.
    fn kinds_for(data: &Self::Data) -> Vec<ParamKind> {
        let _ = data;
        Self::kinds()
    }
    /// Parameters from a vector in [`names_for`](Self::names_for) order:
    /// [`from_slice`](Self::from_slice), unless they depend on the data.
    ///
    /// # Errors
    /// As [`from_slice`](Self::from_slice).
    fn from_slice_for(theta: &[f64], data: &Self::Data) -> Result<Self> {
        let _ = data;
        Self::from_slice(theta)
    }
    /// Whether `theta` is a valid parameter vector for `data`: what the optimiser asks of every
    /// point it evaluates, so models whose [`from_slice_for`](Self::from_slice_for) allocates
    /// (covariate names) answer without building the parameters.
    fn valid_for(theta: &[f64], data: &Self::Data) -> bool {
        Self::from_slice_for(theta, data).is_ok()
    }
    /// Parameters of the same shape as these (the same names) with the values `theta`:
    /// [`from_slice`](Self::from_slice), unless the shape depends on the data.
    ///
    /// # Errors
    /// As [`from_slice`](Self::from_slice).
    fn with_values(&self, theta: &[f64]) -> Result<Self> {
        Self::from_slice(theta)
    }
    /// The parameter names a model file may list (`order`, its `parameter_order`): the
    /// model's own [`NAMES`](Self::NAMES), unless its parameters depend on the data.
    ///
    /// # Errors
    /// [`Error::InvalidOption`] for names this model cannot have.
    fn names_from_file(order: &[String]) -> Result<Vec<String>> {
        if order
            .iter()
            .map(String::as_str)
            .ne(Self::NAMES.iter().copied())
        {
            return Err(Error::InvalidOption {
                name: "parameter_order",
                reason: format!("parameter_order must be {:?}", Self::NAMES),
            });
        }
        Ok(order.to_vec())
    }
    /// Parameters from names (as [`names_from_file`](Self::names_from_file) accepted them)
    /// and values: [`from_slice`](Self::from_slice), unless the names carry the shape.
    ///
    /// # Errors
    /// As [`from_slice`](Self::from_slice).
    fn from_names(names: &[String], theta: &[f64]) -> Result<Self> {
        let _ = names;
        Self::from_slice(theta)
    }
    /// This parameter set's names, in [`to_vec`](Self::to_vec) order.
    fn param_names(&self) -> Vec<String> {
        Self::NAMES.iter().map(|n| n.to_string()).collect()
    }
    /// This parameter set's kinds, in [`to_vec`](Self::to_vec) order.
    fn param_kinds(&self) -> Vec<ParamKind> {
        Self::kinds()
    }
    /// Scale factors `s` of the L2 penalty `penalizer · Σ (s_i θ_i)²`: 1 for dimensionless
    /// parameters; for a parameter with a time unit, a factor that makes it scale-free (so the
    /// same penalizer means the same whether the data are in days or weeks).
    fn penalty_scales(data: &Self::Data) -> Vec<f64> {
        let _ = data;
        vec![1.0; Self::NAMES.len()]
    }
    /// Model-specific warnings about a fit (assumptions the data contradict, estimates in a
    /// region where some predictions do not exist...). Reported in [`Fitted::warnings`]; the
    /// library never prints.
    fn fit_warnings(data: &Self::Data, params: &Self) -> Vec<FitWarning> {
        let _ = (data, params);
        Vec::new()
    }
    /// Total log-likelihood at `theta`; writes d/dθ into `grad` when given.
    fn log_likelihood_grad(theta: &[f64], data: &Self::Data, grad: Option<&mut [f64]>) -> f64;
    /// About `rows` of the data's rows, spread over all of it, for a quick preliminary fit
    /// whose optimum starts the full one; `None` (the default) when the model does not
    /// subsample.
    fn subsample(data: &Self::Data, rows: usize) -> Option<Self::Data> {
        let _ = (data, rows);
        None
    }
    /// Data with more distinct rows than this are first fitted on a spread subsample of 20,000
    /// rows, whose optimum starts the full fit (default 100,000; lower for a model whose rows
    /// are expensive, so the full data need fewer iterations).
    fn subsample_above() -> usize {
        100_000
    }
    /// A limit on the boundary of the parameter space where this model becomes another one
    /// (GGom/NBD as b, β → 0 is Pareto/NBD): the parameters that go to the boundary, where
    /// they go, the limit model's name and its maximised log-likelihood on `data`; `theta` is
    /// the optimum found (a model may skip the comparison when it is far from the boundary). The fit
    /// compares it with its own optimum and reports [`Error::OnBoundary`] when the limit is at
    /// least as good (within 1e-3). The default, `None`, is a model without such a limit.
    ///
    /// # Errors
    /// When the limit model cannot be fitted; the fit then goes on without the comparison.
    fn boundary_limit(
        data: &Self::Data,
        options: &FitOptions,
        theta: &[f64],
    ) -> Option<Result<BoundaryLimit>> {
        let _ = (data, options, theta);
        None
    }
    /// Total log-likelihood at `theta` with its gradient and Hessian (row-major k×k) in θ, for
    /// models with an analytic Hessian: the fit then takes Newton steps and the covariance
    /// uses it. The default, `None`, means L-BFGS and a finite-difference Hessian.
    fn log_likelihood_hessian(
        theta: &[f64],
        data: &Self::Data,
        grad: &mut [f64],
        hess: &mut [f64],
    ) -> Option<f64> {
        let _ = (theta, data, grad, hess);
        None
    }
}

/// A model's limit on the boundary of its parameter space
/// ([`MaximumLikelihood::boundary_limit`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BoundaryLimit {
    /// The parameters that go to the boundary (`"b, beta"`).
    pub parameters: &'static str,
    /// Where they go (`"0"`, `"infinity"`).
    pub toward: &'static str,
    /// The model there (`"pareto-nbd"`).
    pub limit: &'static str,
    /// Its maximised log-likelihood on the data.
    pub log_likelihood: f64,
}

/// A fit whose log-likelihood is not above its boundary limit's by more than this is on the
/// boundary ([`MaximumLikelihood::boundary_limit`]).
const BOUNDARY_LL_TOL: f64 = 1e-3;

/// A standard error above this multiple of its estimate is reported as a fit warning.
const POORLY_DETERMINED: f64 = 10.0;

/// Rows of the preliminary subsample fit ([`MaximumLikelihood::subsample_above`]).
const SUBSAMPLE_ROWS: usize = 20_000;

/// Options of [`fit`]. Build with [`FitOptions::default`] and the `with_*` methods, which
/// validate their argument.
///
/// ```
/// use clv::FitOptions;
/// let o = FitOptions::default().with_penalizer(0.001).unwrap();
/// assert_eq!(o.penalizer(), 0.001);
/// assert!(FitOptions::default().with_penalizer(-1.0).is_err());
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct FitOptions {
    penalizer: f64,
    max_iters: u64,
    tol_grad: f64,
    allow_unconverged: bool,
    start: Option<Vec<f64>>,
}

impl Default for FitOptions {
    fn default() -> Self {
        FitOptions {
            penalizer: 0.0,
            max_iters: 1000,
            tol_grad: 1e-9,
            allow_unconverged: false,
            start: None,
        }
    }
}

impl FitOptions {
    /// L2 penalty coefficient on the natural parameters (>= 0; default 0).
    ///
    /// # Errors
    /// [`Error::InvalidOption`] unless `p` is finite and >= 0.
    pub fn with_penalizer(mut self, p: f64) -> Result<Self> {
        self.penalizer = nonnegative_option("penalizer", p)?;
        Ok(self)
    }
    /// Iteration cap per optimiser run (>= 1; default 1000).
    ///
    /// # Errors
    /// [`Error::InvalidOption`] for 0.
    pub fn with_max_iters(mut self, n: u64) -> Result<Self> {
        if n == 0 {
            return Err(Error::InvalidOption {
                name: "max_iters",
                reason: "must be at least 1".into(),
            });
        }
        self.max_iters = n;
        Ok(self)
    }
    /// Convergence tolerance on the gradient norm of the mean objective in log-parameters
    /// (> 0; default 1e-9).
    ///
    /// # Errors
    /// [`Error::InvalidOption`] unless `t` is finite and > 0.
    pub fn with_tol_grad(mut self, t: f64) -> Result<Self> {
        self.tol_grad = positive_option("tol_grad", t)?;
        Ok(self)
    }
    /// Return an unconverged fit (flagged in its [`Convergence`]) instead of an error.
    pub fn allow_unconverged(mut self, yes: bool) -> Self {
        self.allow_unconverged = yes;
        self
    }
    /// A starting point (natural parameters) tried before the model's own; each value must be
    /// finite here and inside its parameter's domain when the fit runs.
    ///
    /// # Errors
    /// [`Error::InvalidOption`] for a value that is not finite (the domains are checked by the fit).
    pub fn with_start(mut self, theta: Vec<f64>) -> Result<Self> {
        if let Some(v) = theta.iter().find(|v| !v.is_finite()) {
            return Err(Error::InvalidOption {
                name: "start",
                reason: format!("must be finite, got {v}"),
            });
        }
        self.start = Some(theta);
        Ok(self)
    }
    /// The penalizer.
    pub fn penalizer(&self) -> f64 {
        self.penalizer
    }
}

/// Fits model `M` to a summary by maximum likelihood (see the module docs for the method).
///
/// ```
/// use clv::{fit::fit, BgNbdParams, FitOptions, RfmSummary, TimeUnit};
/// let s = RfmSummary::new(
///     (0..6).map(|i| i.to_string()).collect(),
///     vec![0.0, 1.0, 2.0, 0.0, 5.0, 1.0],
///     vec![0.0, 10.0, 20.0, 0.0, 30.0, 3.0],
///     vec![30.0, 35.0, 38.0, 20.0, 39.0, 25.0],
///     TimeUnit::Weeks,
/// ).unwrap();
/// let fitted = fit::<BgNbdParams>(&s, &FitOptions::default().allow_unconverged(true)).unwrap();
/// assert!(fitted.log_likelihood().is_finite());
/// ```
///
/// # Errors
/// [`Error::NotIdentifiable`] for data that cannot identify the model (no repeat buyer, a
/// single history); [`Error::InvalidOption`] for a start of the wrong length or outside the
/// parameter domains; [`Error::NoFiniteMaximum`] for parameters the data do not bound (run off
/// to the edge of their domain); [`Error::NotConverged`] and [`Error::SingularHessian`] unless
/// [`FitOptions::allow_unconverged`]; [`Error::Numerical`] when the optimum is not finite.
pub fn fit<M: MaximumLikelihood>(
    summary: &impl FitData<M>,
    options: &FitOptions,
) -> Result<Fitted<M>> {
    let data = summary.prepare()?;
    fit_prepared(&data, options, summary.unit())
}

/// [`fit`] on histories already compressed: from [`RfmSummary::compress`](crate::RfmSummary::compress)
/// or read compressed by [`read_summary_compressed`](crate::io::read_summary_compressed),
/// which needs no [`RfmSummary`] (and none of its ids) in memory. For every model whose
/// likelihood iterates over the distinct `(x, t_x, T)` rows: BG/NBD, Pareto/NBD, MBG/NBD, NBD
/// and GGom/NBD. The same optimum as [`fit`] on the summary, to the last bit.
///
/// ```
/// use clv::{fit::{fit, fit_compressed}, BgNbdParams, FitOptions, RfmSummary, TimeUnit};
/// let path = concat!(env!("CARGO_MANIFEST_DIR"), "/data/cdnow_customers_summary.csv");
/// let s = clv::io::read_summary_csv(path, TimeUnit::Weeks)?;
/// let opts = FitOptions::default();
/// let a = fit::<BgNbdParams>(&s, &opts)?;
/// let b = fit_compressed::<BgNbdParams>(&s.compress(), s.unit(), &opts)?;
/// assert_eq!(a.params(), b.params());
/// # Ok::<(), clv::Error>(())
/// ```
///
/// # Errors
/// As [`fit`].
pub fn fit_compressed<M: FromRfm<Data = crate::CompressedRfm>>(
    data: &crate::CompressedRfm,
    unit: crate::data::TimeUnit,
    options: &FitOptions,
) -> Result<Fitted<M>> {
    crate::models::check_identifiable(data, M::MODEL)?;
    fit_prepared(data, options, unit)
}

/// A model fitted from an RFM summary (every continuous-time model, Gamma-Gamma, and BG/BB
/// from a summary in opportunities).
pub trait FromRfm: MaximumLikelihood {
    /// Checks and prepares the summary (e.g. compresses identical rows).
    ///
    /// # Errors
    /// [`Error::NotIdentifiable`] for data that cannot identify the model; a typed error for data
    /// it cannot use (missing monetary values...).
    fn prepare(summary: &RfmSummary) -> Result<Self::Data>;
}

/// What a model can be fitted to: an [`RfmSummary`] for every [`FromRfm`] model, and
/// model-specific inputs for the models whose data are not RFM in continuous time (BG/BB's
/// [`DiscreteSummary`](crate::models::bgbb::DiscreteSummary) of transaction opportunities).
pub trait FitData<M: MaximumLikelihood> {
    /// Checks the input and builds what the likelihood iterates over.
    ///
    /// # Errors
    /// As [`FromRfm::prepare`]: data that cannot identify the model, or that it
    /// cannot use, as a typed error naming the customer and field.
    fn prepare(&self) -> Result<M::Data>;
    /// The time unit of the input (of the model's time-valued parameters and horizons).
    fn unit(&self) -> crate::data::TimeUnit;
}

impl<M: FromRfm> FitData<M> for RfmSummary {
    fn prepare(&self) -> Result<M::Data> {
        M::prepare(self)
    }
    fn unit(&self) -> crate::data::TimeUnit {
        RfmSummary::unit(self)
    }
}

/// [`fit`] on data already prepared by [`FitData::prepare`] (in `unit`).
pub(crate) fn fit_prepared<M: MaximumLikelihood>(
    data: &M::Data,
    options: &FitOptions,
    unit: crate::data::TimeUnit,
) -> Result<Fitted<M>> {
    let names = M::names_for(data);
    let k = names.len();
    let kinds = M::kinds_for(data);
    let mut starts: Vec<Vec<f64>> = options.start.iter().cloned().collect();
    starts.extend(M::starts(data));
    let whole: Vec<usize> = (0..k).filter(|&i| kinds[i] == ParamKind::Whole).collect();
    if whole.is_empty() || starts.iter().any(|s| s.len() != k) {
        return fit_from(data, options, unit, starts);
    }
    // A structural parameter: one fit per value the starts give, the best likelihood kept.
    let mut values: Vec<Vec<f64>> = Vec::new();
    for s in &starts {
        let v: Vec<f64> = whole.iter().map(|&i| s[i]).collect();
        if !values.contains(&v) {
            values.push(v);
        }
    }
    let mut best: Option<Fitted<M>> = None;
    let mut last_err = None;
    let mut tried = Vec::with_capacity(values.len());
    for v in &values {
        let group: Vec<Vec<f64>> = starts
            .iter()
            .filter(|s| whole.iter().zip(v).all(|(&i, x)| s[i] == *x))
            .cloned()
            .collect();
        match fit_from(data, options, unit, group) {
            Ok(f) => {
                tried.push((v[0], Some(f.log_likelihood())));
                if best
                    .as_ref()
                    .is_none_or(|b| f.log_likelihood() > b.log_likelihood())
                {
                    best = Some(f);
                }
            }
            Err(e) => {
                tried.push((v[0], None));
                last_err = Some(e);
            }
        }
    }
    let Some(mut best) = best else {
        return Err(last_err.expect("at least one value was tried"));
    };
    best.warnings.push(FitWarning::ChosenByLikelihood {
        parameter: names[whole[0]].clone(),
        value: best.params.to_vec()[whole[0]],
        tried,
    });
    Ok(best)
}

/// [`fit_prepared`] from the given starts (with a Whole parameter, all at the same value).
fn fit_from<M: MaximumLikelihood>(
    data: &M::Data,
    options: &FitOptions,
    unit: crate::data::TimeUnit,
    starts: Vec<Vec<f64>>,
) -> Result<Fitted<M>> {
    let names = M::names_for(data);
    let k = names.len();
    let mut problem = LogProblem::<M>::new(data, options.penalizer);
    if let Some(s) = starts.first().filter(|s| s.len() == k) {
        problem = problem.pin(s);
    }
    if let Some(s) = starts.iter().find(|s| s.len() != k) {
        return Err(Error::InvalidOption {
            name: "start",
            reason: format!("needs {k} values ({}), got {}", names.join(", "), s.len()),
        });
    }
    let kinds = M::kinds_for(data);
    let mut phis: Vec<Vec<f64>> = Vec::with_capacity(starts.len());
    for s in &starts {
        let phi: Option<Vec<f64>> = s.iter().zip(&kinds).map(|(v, k)| k.to_free(*v)).collect();
        phis.push(phi.ok_or_else(|| Error::InvalidOption {
            name: "start",
            reason: format!(
                "{s:?} is outside the parameter domains ({})",
                names
                    .iter()
                    .zip(&kinds)
                    .map(|(n, k)| format!("{n}: {k:?}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        })?);
    }
    // Large data: the optimum on a spread subsample is close to the full one, so the full fit
    // needs only a few (quadratically converging) Newton steps from it.
    if M::n_rows(data) > M::subsample_above()
        && let Some(sub) = M::subsample(data, SUBSAMPLE_ROWS)
    {
        let mut sp = LogProblem::<M>::new(&sub, options.penalizer);
        if let Some(s) = starts.first().filter(|s| s.len() == k) {
            sp = sp.pin(s);
        }
        let pre = minimise(&sp, &phis, options.max_iters, options.tol_grad);
        if pre.converged {
            phis.insert(0, pre.phi);
        }
    }
    let run = minimise(&problem, &phis, options.max_iters, options.tol_grad);
    let phi = run.phi.clone();
    let theta: Vec<f64> = problem.natural(&phi);
    let params = M::from_slice_for(&theta, data).map_err(|_| Error::Numerical {
        what: format!(
            "{} fit: a parameter left the representable range ({theta:?})",
            M::MODEL
        ),
    })?;
    let ll = problem.log_likelihood(&phi);
    if !ll.is_finite() {
        return Err(Error::Numerical {
            what: format!("{} log-likelihood at the optimum", M::MODEL),
        });
    }
    if let Some(Ok(b)) = M::boundary_limit(data, options, &theta)
        && b.log_likelihood >= ll - BOUNDARY_LL_TOL
    {
        return Err(Error::OnBoundary {
            model: M::MODEL,
            parameters: b.parameters,
            toward: b.toward,
            limit: b.limit,
            log_likelihood: b.log_likelihood.max(ll),
        });
    }
    let h = hessian_phi(&problem, &phi);
    let cov = fitted::covariance(&h, &theta, &kinds);
    let converged = run.converged && cov.is_some();
    let convergence = Convergence {
        converged,
        reason: run.reason,
        iterations: run.iterations,
        gradient_norm: run.gradient_norm,
        method: run.method,
        starts_tried: run.starts_tried,
        hessian_positive_definite: cov.is_some(),
    };
    let boundary = fitted::boundary_parameters(&names, &theta, &kinds);
    let not_converged = || {
        let mut reason = format!("{} (gradient norm {:.3e})", run.reason, run.gradient_norm);
        if let Some(b) = &boundary {
            reason.push_str(&format!("; parameters heading to a boundary: {b}"));
        }
        reason
    };
    if !options.allow_unconverged {
        if !run.converged {
            return Err(Error::NotConverged {
                reason: not_converged(),
                iterations: run.iterations,
            });
        }
        if cov.is_none() {
            return Err(Error::SingularHessian {
                detail: fitted::describe_boundary(&names, &theta, &kinds),
            });
        }
        // a parameter run off to the edge of its domain with a standard error above its own
        // size: the data do not bound it, whatever the curvature says numerically
        if let (Some(c), Some(_)) = (&cov, &boundary) {
            let unbounded = (0..k).any(|i| {
                kinds[i].at_boundary(theta[i])
                    && c[i][i].sqrt() > theta[i].abs().max(f64::MIN_POSITIVE)
            });
            if unbounded {
                return Err(Error::NoFiniteMaximum {
                    model: M::MODEL,
                    parameters: boundary.clone().unwrap_or_default(),
                    log_likelihood: ll,
                });
            }
        }
    }
    let mut warnings = Vec::new();
    if !run.converged {
        warnings.push(FitWarning::NotConverged {
            iterations: run.iterations,
            reason: run.reason,
            gradient_norm: run.gradient_norm,
            boundary: boundary.clone(),
        });
    }
    if cov.is_none() {
        warnings.push(FitWarning::NoStandardErrors {
            detail: fitted::describe_boundary(&names, &theta, &kinds),
        });
    } else if let Some(b) = &boundary {
        warnings.push(FitWarning::Boundary {
            parameters: b.clone(),
        });
    }
    if let (Some(c), true) = (&cov, boundary.is_none()) {
        for (i, name) in names.iter().enumerate() {
            // relative to the estimate for positive parameters; for real and probability
            // ones, relative to the scale they are fitted on (|θ| or 1)
            let rel = match kinds[i] {
                ParamKind::Positive => c[i][i].sqrt() / theta[i],
                _ => c[i][i].sqrt() / theta[i].abs().max(1.0),
            };
            if rel > POORLY_DETERMINED {
                warnings.push(FitWarning::PoorlyDetermined {
                    parameter: name.to_string(),
                    ratio: rel,
                });
            }
        }
    }
    warnings.extend(M::fit_warnings(data, &params));
    Ok(Fitted {
        params,
        log_likelihood: ll,
        n_customers: M::n_customers(data),
        n_rows: M::n_rows(data),
        penalizer: options.penalizer,
        convergence,
        covariance: cov,
        warnings,
        time_unit: unit,
    })
}

/// The largest discrepancy between a model's analytic gradient and central differences at
/// `theta` (step `rel_step · θ_i`), as `|analytic - numeric| / max(1, |analytic|)`: the check
/// every model's test runs.
///
/// ```
/// use clv::fit::{gradient_discrepancy, FromRfm};
/// use clv::{BgNbdParams, RfmSummary, TimeUnit};
/// let s = RfmSummary::new(vec!["a".into(), "b".into()], vec![0.0, 3.0], vec![0.0, 20.0], vec![30.0, 38.0], TimeUnit::Weeks).unwrap();
/// let d = BgNbdParams::prepare(&s).unwrap();
/// assert!(gradient_discrepancy::<BgNbdParams>(&[0.243, 4.414, 0.793, 2.426], &d, 1e-6) < 1e-6);
/// ```
pub fn gradient_discrepancy<M: MaximumLikelihood>(
    theta: &[f64],
    data: &M::Data,
    rel_step: f64,
) -> f64 {
    let mut g = vec![0.0; theta.len()];
    M::log_likelihood_grad(theta, data, Some(&mut g));
    (0..theta.len())
        .map(|i| {
            let h = rel_step * theta[i];
            let (mut up, mut dn) = (theta.to_vec(), theta.to_vec());
            up[i] += h;
            dn[i] -= h;
            let fd = (M::log_likelihood_grad(&up, data, None)
                - M::log_likelihood_grad(&dn, data, None))
                / (2.0 * h);
            (fd - g[i]).abs() / g[i].abs().max(1.0)
        })
        .fold(0.0, f64::max)
}

/// The largest discrepancy between a model's analytic Hessian
/// ([`MaximumLikelihood::log_likelihood_hessian`]) and central differences of its analytic
/// gradient at `theta` (step `rel_step · θ_j`), as `|analytic - numeric| / max(1, |analytic|)`;
/// `None` for models without an analytic Hessian.
///
/// ```
/// use clv::fit::{hessian_discrepancy, FromRfm};
/// use clv::{BgNbdParams, RfmSummary, TimeUnit};
/// let s = RfmSummary::new(vec!["a".into(), "b".into()], vec![0.0, 3.0], vec![0.0, 20.0], vec![30.0, 38.0], TimeUnit::Weeks).unwrap();
/// let d = BgNbdParams::prepare(&s).unwrap();
/// assert!(hessian_discrepancy::<BgNbdParams>(&[0.243, 4.414, 0.793, 2.426], &d, 1e-5).unwrap() < 1e-6);
/// ```
pub fn hessian_discrepancy<M: MaximumLikelihood>(
    theta: &[f64],
    data: &M::Data,
    rel_step: f64,
) -> Option<f64> {
    let k = theta.len();
    let (mut g, mut h) = (vec![0.0; k], vec![0.0; k * k]);
    M::log_likelihood_hessian(theta, data, &mut g, &mut h)?;
    let mut worst = 0.0f64;
    for j in 0..k {
        let step = rel_step * theta[j];
        let (mut up, mut dn) = (theta.to_vec(), theta.to_vec());
        up[j] += step;
        dn[j] -= step;
        let (mut gu, mut gd) = (vec![0.0; k], vec![0.0; k]);
        M::log_likelihood_grad(&up, data, Some(&mut gu));
        M::log_likelihood_grad(&dn, data, Some(&mut gd));
        for i in 0..k {
            let fd = (gu[i] - gd[i]) / (2.0 * step);
            worst = worst.max((fd - h[i * k + j]).abs() / h[i * k + j].abs().max(1.0));
        }
    }
    Some(worst)
}
