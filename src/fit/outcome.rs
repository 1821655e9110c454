//! Typed fit outcomes: how the optimiser ended ([`Termination`], [`Method`]) and what a fit
//! warns about ([`FitWarning`]), each with a stable code (what model files store), a
//! [`Severity`], and `Display` for people.

use std::fmt;

/// Why an optimiser run ended. Serialised as its [`code`](Self::code).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
#[non_exhaustive]
pub enum Termination {
    /// The gradient norm fell below the tolerance.
    GradientTolerance,
    /// The iteration cap was reached.
    IterationLimit,
    /// Newton: no shift of the Hessian was positive definite.
    NoPositiveDefiniteShift,
    /// Newton: the line search found no decrease.
    LineSearchFailed,
    /// Newton: the objective no longer decreased in f64 (a stationary point if the gradient is
    /// small).
    NoFurtherDecrease,
    /// The derivative-free search ended by its own criterion.
    NelderMeadEnded,
    /// The optimiser stopped for another reason (interrupted, timed out...).
    SolverStopped,
    /// No starting point had a finite likelihood.
    NoFiniteStart,
    /// After the derivative-free fallback, a stationary point was reached.
    FallbackStationary,
    /// After the derivative-free fallback, no stationary point was reached.
    FallbackNotStationary,
}

impl Termination {
    /// The stable code (`"gradient_tolerance"`, ...).
    pub fn code(self) -> &'static str {
        match self {
            Termination::GradientTolerance => "gradient_tolerance",
            Termination::IterationLimit => "iteration_limit",
            Termination::NoPositiveDefiniteShift => "no_positive_definite_shift",
            Termination::LineSearchFailed => "line_search_failed",
            Termination::NoFurtherDecrease => "no_further_decrease",
            Termination::NelderMeadEnded => "nelder_mead_ended",
            Termination::SolverStopped => "solver_stopped",
            Termination::NoFiniteStart => "no_finite_start",
            Termination::FallbackStationary => "fallback_stationary",
            Termination::FallbackNotStationary => "fallback_not_stationary",
        }
    }

    /// [`Severity::Info`] for the endings at a stationary point, [`Severity::Warning`] for the
    /// others (whether the fit converged is [`Convergence::converged`](super::Convergence)).
    ///
    /// ```
    /// use clv::fit::{Severity, Termination};
    /// assert_eq!(Termination::GradientTolerance.severity(), Severity::Info);
    /// assert_eq!(Termination::IterationLimit.severity(), Severity::Warning);
    /// assert_eq!(Termination::IterationLimit.code(), "iteration_limit");
    /// ```
    pub fn severity(self) -> Severity {
        match self {
            Termination::GradientTolerance | Termination::FallbackStationary => Severity::Info,
            _ => Severity::Warning,
        }
    }

    /// The reason a version-1 model file recorded as text (best match; unknown texts are
    /// [`SolverStopped`](Self::SolverStopped)).
    #[cfg(feature = "serde")]
    pub(crate) fn from_v1(text: &str) -> Self {
        if text.starts_with("stationary point reached after the fallback") {
            return Termination::FallbackStationary;
        }
        if text.starts_with("no stationary point after the fallback") {
            return Termination::FallbackNotStationary;
        }
        [
            Termination::GradientTolerance,
            Termination::IterationLimit,
            Termination::NoPositiveDefiniteShift,
            Termination::LineSearchFailed,
            Termination::NoFurtherDecrease,
            Termination::NoFiniteStart,
        ]
        .into_iter()
        .find(|t| t.to_string() == text)
        .unwrap_or(Termination::SolverStopped)
    }
}

impl fmt::Display for Termination {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Termination::GradientTolerance => "gradient tolerance reached",
            Termination::IterationLimit => "iteration limit reached",
            Termination::NoPositiveDefiniteShift => "no positive definite shift of the Hessian",
            Termination::LineSearchFailed => "line search found no decrease",
            Termination::NoFurtherDecrease => "no further decrease",
            Termination::NelderMeadEnded => "derivative-free search ended",
            Termination::SolverStopped => "the optimiser stopped",
            Termination::NoFiniteStart => "no start gave a finite likelihood",
            Termination::FallbackStationary => "stationary point reached after the fallback",
            Termination::FallbackNotStationary => "no stationary point after the fallback",
        })
    }
}

/// Which optimiser produced the result. Serialised as a snake_case code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
#[non_exhaustive]
pub enum Method {
    /// Newton's method with the analytic Hessian.
    Newton,
    /// L-BFGS with the analytic gradient.
    Lbfgs,
    /// Nelder–Mead (derivative-free fallback).
    NelderMead,
    /// Nelder–Mead polished by L-BFGS.
    NelderMeadLbfgs,
}

impl Method {
    /// The method a version-1 model file recorded as text.
    #[cfg(feature = "serde")]
    pub(crate) fn from_v1(text: &str) -> Option<Self> {
        [
            Method::Newton,
            Method::Lbfgs,
            Method::NelderMead,
            Method::NelderMeadLbfgs,
        ]
        .into_iter()
        .find(|m| m.to_string() == text)
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Method::Newton => "Newton",
            Method::Lbfgs => "L-BFGS",
            Method::NelderMead => "Nelder-Mead",
            Method::NelderMeadLbfgs => "Nelder-Mead + L-BFGS",
        })
    }
}

/// How much a [`FitWarning`] matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
#[non_exhaustive]
pub enum Severity {
    /// Worth knowing; the fit is usable.
    Info,
    /// Predictions that depend on it are doubtful.
    Warning,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Info => "note",
            Severity::Warning => "warning",
        })
    }
}

/// Something a fit reports about itself. Model files store it tagged with its
/// [`code`](Self::code) and its fields.
///
/// ```
/// use clv::fit::{FitWarning, Severity};
/// let w = FitWarning::PoorlyDetermined { parameter: "beta".into(), ratio: 12.0 };
/// assert_eq!((w.code(), w.severity()), ("poorly_determined", Severity::Warning));
/// assert!(w.to_string().starts_with("beta is poorly determined"));
/// ```
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(
    feature = "serde",
    serde(tag = "code", rename_all = "snake_case", deny_unknown_fields)
)]
#[non_exhaustive]
pub enum FitWarning {
    /// The optimiser did not reach a stationary point (only with `allow_unconverged`).
    NotConverged {
        /// Iterations over all optimiser runs.
        iterations: u64,
        /// How the last run ended.
        reason: Termination,
        /// Gradient norm of the mean objective at the result.
        gradient_norm: f64,
        /// Parameters heading to a boundary, if any (`a = 1.2e-7, ...`).
        boundary: Option<String>,
    },
    /// The Hessian at the result is not positive definite: no standard errors.
    NoStandardErrors {
        /// The parameters at a boundary, or a flat direction.
        detail: String,
    },
    /// A converged fit with parameters below 1e-6 or above 1e6.
    Boundary {
        /// `name = value` of each.
        parameters: String,
    },
    /// A standard error more than 10 times its estimate.
    PoorlyDetermined {
        /// The parameter.
        parameter: String,
        /// Standard error / estimate.
        ratio: f64,
    },
    /// Gamma-Gamma: the frequency–spend correlation among repeat buyers (always reported).
    FrequencySpendCorrelation {
        /// Pearson correlation.
        correlation: f64,
    },
    /// Gamma-Gamma: spend looks dependent on frequency, against the model's assumption.
    SpendDependsOnFrequency {
        /// Pearson correlation.
        correlation: f64,
        /// The |correlation| above which this is reported.
        threshold: f64,
    },
    /// Gamma-Gamma: q <= 1, the population mean spend is infinite.
    InfiniteMeanSpend {
        /// The estimate of q.
        q: f64,
    },
    /// A structural parameter ([`crate::fit::ParamKind::Whole`], the Erlang order k) chosen by
    /// likelihood: its value and the maximised log-likelihood at each value tried.
    ChosenByLikelihood {
        /// The parameter.
        parameter: String,
        /// The value chosen.
        value: f64,
        /// (value, maximised log-likelihood) for each value tried; `None` where the fit failed.
        tried: Vec<(f64, Option<f64>)>,
    },
    /// A warning a version-1 model file recorded as text.
    Legacy {
        /// The text.
        message: String,
    },
}

impl FitWarning {
    /// The stable code (`"not_converged"`, ...).
    pub fn code(&self) -> &'static str {
        match self {
            FitWarning::NotConverged { .. } => "not_converged",
            FitWarning::NoStandardErrors { .. } => "no_standard_errors",
            FitWarning::Boundary { .. } => "boundary",
            FitWarning::PoorlyDetermined { .. } => "poorly_determined",
            FitWarning::FrequencySpendCorrelation { .. } => "frequency_spend_correlation",
            FitWarning::SpendDependsOnFrequency { .. } => "spend_depends_on_frequency",
            FitWarning::InfiniteMeanSpend { .. } => "infinite_mean_spend",
            FitWarning::ChosenByLikelihood { .. } => "chosen_by_likelihood",
            FitWarning::Legacy { .. } => "legacy",
        }
    }

    /// How much it matters.
    pub fn severity(&self) -> Severity {
        match self {
            FitWarning::FrequencySpendCorrelation { .. }
            | FitWarning::ChosenByLikelihood { .. } => Severity::Info,
            _ => Severity::Warning,
        }
    }

    /// Its numbers, by field name (model files check they are finite).
    #[cfg(feature = "serde")]
    pub(crate) fn numbers(&self) -> Vec<(&'static str, f64)> {
        match self {
            FitWarning::NotConverged { gradient_norm, .. } => {
                vec![("gradient_norm", *gradient_norm)]
            }
            FitWarning::PoorlyDetermined { ratio, .. } => vec![("ratio", *ratio)],
            FitWarning::FrequencySpendCorrelation { correlation } => {
                vec![("correlation", *correlation)]
            }
            FitWarning::SpendDependsOnFrequency {
                correlation,
                threshold,
            } => vec![("correlation", *correlation), ("threshold", *threshold)],
            FitWarning::InfiniteMeanSpend { q } => vec![("q", *q)],
            FitWarning::ChosenByLikelihood { value, .. } => vec![("value", *value)],
            _ => Vec::new(),
        }
    }
}

impl fmt::Display for FitWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FitWarning::NotConverged {
                iterations,
                reason,
                gradient_norm,
                boundary,
            } => {
                write!(
                    f,
                    "the fit did not converge after {iterations} iterations: {reason} \
                     (gradient norm {gradient_norm:.3e})"
                )?;
                if let Some(b) = boundary {
                    write!(f, "; parameters heading to a boundary: {b}")?;
                }
                Ok(())
            }
            FitWarning::NoStandardErrors { detail } => write!(
                f,
                "the Hessian at the result is not positive definite, so there are no standard \
                 errors: {detail}"
            ),
            FitWarning::Boundary { parameters } => write!(
                f,
                "parameters heading to a boundary: {parameters}; the model may be mis-specified \
                 for these data and predictions that depend on them are unreliable"
            ),
            FitWarning::PoorlyDetermined { parameter, ratio } => write!(
                f,
                "{parameter} is poorly determined: its standard error is {ratio:.0} times the \
                 estimate (too little data, or a direction in which the likelihood is flat)"
            ),
            FitWarning::FrequencySpendCorrelation { correlation } => write!(
                f,
                "frequency-spend correlation among repeat buyers: {correlation:.3}"
            ),
            FitWarning::SpendDependsOnFrequency {
                correlation,
                threshold,
            } => write!(
                f,
                "|correlation| {:.3} > {threshold}: the Gamma-Gamma assumption that spend is \
                 independent of purchase frequency is doubtful for these data",
                correlation.abs()
            ),
            FitWarning::InfiniteMeanSpend { q } => write!(
                f,
                "q = {q:.4} <= 1: the population mean spend p·v/(q-1) is infinite; spend and \
                 CLV predictions that need it will return an error"
            ),
            FitWarning::ChosenByLikelihood {
                parameter,
                value,
                tried,
            } => {
                write!(
                    f,
                    "{parameter} = {value} chosen by likelihood (log-likelihood by {parameter}:"
                )?;
                for (i, (v, ll)) in tried.iter().enumerate() {
                    let sep = if i == 0 { " " } else { ", " };
                    match ll {
                        Some(ll) => write!(f, "{sep}{v}: {ll:.2}")?,
                        None => write!(f, "{sep}{v}: no fit")?,
                    }
                }
                f.write_str(")")
            }
            FitWarning::Legacy { message } => f.write_str(message),
        }
    }
}
