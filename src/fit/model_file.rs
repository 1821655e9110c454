//! Versioned model files: what `clv fit` writes and `clv predict` reads.
//!
//! A model file is JSON with a `model` name and a `format_version`. Loading
//! ([`ModelFile::from_json`], then [`ModelFile::to_fitted`]) checks the version first, then
//! refuses unknown and missing fields and validates every number, so a hand-edited or truncated
//! file is an [`Error::ModelFile`] naming the field, never a model that predicts nonsense.
//! Numbers are written in the shortest form that reads back to the same `f64`, so a round trip
//! is exact: the loaded model predicts bit for bit what the fitted one does.

use super::{Convergence, FitWarning, Fitted, MaximumLikelihood, Method, Termination};
use crate::data::TimeUnit;
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The current model-file format version: 2 stores the convergence reason, the method and the
/// warnings as typed codes ([`Termination`], [`Method`], [`FitWarning`]); version-1 files (free
/// text) still load, their texts mapped to the codes (unknown warning texts become
/// [`FitWarning::Legacy`]).
pub const FORMAT_VERSION: u32 = 2;

fn bad(reason: impl Into<String>) -> Error {
    Error::ModelFile {
        reason: reason.into(),
    }
}

/// A fitted model in a self-describing, versioned form: parameters and standard errors as
/// name → value maps, covariance in the order of [`MaximumLikelihood::NAMES`].
///
/// ```
/// use clv::{BgNbdParams, FitOptions, Fitted, io::read_summary_csv, TimeUnit};
/// use clv::fit::ModelFile;
/// let path = concat!(env!("CARGO_MANIFEST_DIR"), "/data/cdnow_customers_summary.csv");
/// let f = BgNbdParams::fit(&read_summary_csv(path, TimeUnit::Weeks).unwrap(), &FitOptions::default()).unwrap();
/// let json = ModelFile::from_fitted(&f).to_json().unwrap();
/// let file = ModelFile::from_json(&json).unwrap();
/// assert_eq!(file.model, "bgnbd");
/// let back: Fitted<BgNbdParams> = file.to_fitted().unwrap();
/// assert_eq!(back, f); // exact: same bits
/// assert!(ModelFile::from_json(&json.replace("\"format_version\": 2", "\"format_version\": 3")).is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelFile {
    /// Model name (`"bgnbd"`, `"gamma_gamma"`).
    pub model: String,
    /// Format version ([`FORMAT_VERSION`]).
    pub format_version: u32,
    /// Time unit of the data the model was fitted on.
    pub time_unit: TimeUnit,
    /// Parameter name → estimate.
    pub params: BTreeMap<String, f64>,
    /// Parameter name → standard error (absent when the Hessian was not positive definite).
    pub standard_errors: Option<BTreeMap<String, f64>>,
    /// Covariance matrix, rows and columns in the model's parameter order.
    pub covariance: Option<Vec<Vec<f64>>>,
    /// Parameter order of `covariance`.
    pub parameter_order: Vec<String>,
    /// Maximised log-likelihood.
    pub log_likelihood: f64,
    /// Number of customers fitted.
    pub n_customers: f64,
    /// Number of distinct histories the likelihood looped over.
    pub n_rows: usize,
    /// L2 penalty used.
    pub penalizer: f64,
    /// Convergence report.
    pub convergence: Convergence,
    /// Warnings about the fit, tagged with their codes.
    pub warnings: Vec<FitWarning>,
}

/// A version-1 file: the reason, method and warnings as free text.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ModelFileV1 {
    model: String,
    #[allow(dead_code)]
    format_version: u32,
    time_unit: TimeUnit,
    params: BTreeMap<String, f64>,
    standard_errors: Option<BTreeMap<String, f64>>,
    covariance: Option<Vec<Vec<f64>>>,
    parameter_order: Vec<String>,
    log_likelihood: f64,
    n_customers: f64,
    n_rows: usize,
    penalizer: f64,
    convergence: ConvergenceV1,
    warnings: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConvergenceV1 {
    converged: bool,
    reason: String,
    iterations: u64,
    gradient_norm: f64,
    method: String,
    starts_tried: usize,
    hessian_positive_definite: bool,
}

impl ModelFileV1 {
    fn upgrade(self) -> Result<ModelFile> {
        let c = self.convergence;
        let method = Method::from_v1(&c.method)
            .ok_or_else(|| bad(format!("convergence.method '{}' is not known", c.method)))?;
        Ok(ModelFile {
            model: self.model,
            format_version: FORMAT_VERSION,
            time_unit: self.time_unit,
            params: self.params,
            standard_errors: self.standard_errors,
            covariance: self.covariance,
            parameter_order: self.parameter_order,
            log_likelihood: self.log_likelihood,
            n_customers: self.n_customers,
            n_rows: self.n_rows,
            penalizer: self.penalizer,
            convergence: Convergence {
                converged: c.converged,
                reason: Termination::from_v1(&c.reason),
                iterations: c.iterations,
                gradient_norm: c.gradient_norm,
                method,
                starts_tried: c.starts_tried,
                hessian_positive_definite: c.hessian_positive_definite,
            },
            warnings: self
                .warnings
                .into_iter()
                .map(|message| FitWarning::Legacy { message })
                .collect(),
        })
    }
}

impl ModelFile {
    /// The file form of a fitted model, its time unit included.
    pub fn from_fitted<M: MaximumLikelihood>(f: &Fitted<M>) -> Self {
        let names = f.names();
        let params = names.iter().cloned().zip(f.params().to_vec()).collect();
        let standard_errors = f
            .standard_errors()
            .map(|se| names.iter().cloned().zip(se).collect());
        ModelFile {
            model: M::MODEL.to_string(),
            format_version: FORMAT_VERSION,
            time_unit: f.time_unit(),
            params,
            standard_errors,
            covariance: f.covariance().map(|c| c.to_vec()),
            parameter_order: names,
            log_likelihood: f.log_likelihood(),
            n_customers: f.n_customers(),
            n_rows: f.n_rows(),
            penalizer: f.penalizer(),
            convergence: f.convergence().clone(),
            warnings: f.warnings().to_vec(),
        }
    }

    /// The file as pretty-printed JSON. Refuses a non-finite number (JSON has none; it would
    /// be written as `null` and not load).
    ///
    /// # Errors
    /// [`Error::ModelFile`] naming a number that is not finite (JSON cannot hold it).
    pub fn to_json(&self) -> Result<String> {
        self.check_numbers()?;
        serde_json::to_string_pretty(self).map_err(|e| bad(e.to_string()))
    }

    /// Parses a model file: JSON with a supported `format_version` (checked before anything
    /// else, so a newer file says so instead of failing on a field it does not know), every
    /// field present, no unknown field, every number finite and in its domain. Which model it
    /// holds is checked by [`to_fitted`](Self::to_fitted).
    ///
    /// # Errors
    /// [`Error::ModelFile`] naming what is wrong: not JSON, an unsupported version, a missing or
    /// unknown field, a number that is not finite, an invalid time unit.
    pub fn from_json(text: &str) -> Result<Self> {
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| bad(format!("not JSON: {e}")))?;
        let obj = value.as_object().ok_or_else(|| bad("not a JSON object"))?;
        let version = match obj.get("format_version").map(|v| (v, v.as_u64())) {
            None => return Err(bad("missing field `format_version`")),
            Some((_, Some(v))) if v == 1 || v == u64::from(FORMAT_VERSION) => v,
            Some((v, _)) => {
                return Err(bad(format!(
                    "format_version {v} is not supported (this build reads versions 1 and \
                     {FORMAT_VERSION}); refit the model with this build or use a newer one"
                )));
            }
        };
        // the time unit on its own, so an invalid period names its field
        if let Some(u) = obj.get("time_unit") {
            serde_json::from_value::<TimeUnit>(u.clone())
                .map_err(|e| bad(format!("time_unit: {e}")))?;
        }
        let file: ModelFile = if version == 1 {
            serde_json::from_value::<ModelFileV1>(value)
                .map_err(|e| bad(format!("version-1 file: {e}")))?
                .upgrade()?
        } else {
            serde_json::from_value(value).map_err(|e| bad(e.to_string()))?
        };
        // (a period length is validated when `time_unit` is deserialised)
        file.check_numbers()?;
        Ok(file)
    }

    /// Every number finite: JSON has no NaN or infinity, so this is what can be written and
    /// read back. Domains (n_customers >= 1, penalizer >= 0...) are checked by
    /// [`Fitted::from_parts`] when the file becomes a model.
    fn check_numbers(&self) -> Result<()> {
        let named = self
            .params
            .iter()
            .map(|(k, v)| (format!("params.{k}"), *v))
            .chain(
                self.standard_errors
                    .iter()
                    .flatten()
                    .map(|(k, v)| (format!("standard_errors.{k}"), *v)),
            )
            .chain(
                self.covariance
                    .iter()
                    .flatten()
                    .flatten()
                    .map(|v| ("covariance".to_string(), *v)),
            )
            .chain([
                ("log_likelihood".to_string(), self.log_likelihood),
                ("n_customers".to_string(), self.n_customers),
                ("penalizer".to_string(), self.penalizer),
                (
                    "convergence.gradient_norm".to_string(),
                    self.convergence.gradient_norm,
                ),
            ])
            .chain(self.warnings.iter().flat_map(|w| {
                w.numbers()
                    .into_iter()
                    .map(move |(k, v)| (format!("warnings.{}.{k}", w.code()), v))
            }));
        for (name, v) in named {
            if !v.is_finite() {
                return Err(bad(format!("{name} is not finite ({v})")));
            }
        }
        Ok(())
    }

    /// Rebuilds the fitted model, refusing another model's file, missing or unknown
    /// parameters, invalid parameter values, and standard errors or a covariance that do not
    /// belong together (see [`Fitted::from_parts`]).
    ///
    /// # Errors
    /// [`Error::ModelFile`] for another model's file, missing or unknown parameters, invalid
    /// values, or statistics that do not belong together ([`Fitted::from_parts`]).
    pub fn to_fitted<M: MaximumLikelihood>(&self) -> Result<Fitted<M>> {
        if self.model != M::MODEL {
            return Err(bad(format!(
                "holds a '{}' model, expected '{}'",
                self.model,
                M::MODEL
            )));
        }
        if self.format_version != FORMAT_VERSION {
            return Err(bad(format!(
                "format_version {} is not supported (this build reads version {FORMAT_VERSION})",
                self.format_version
            )));
        }
        self.check_numbers()?;
        // the names in the file's order: the model's own (or, with covariates, its base
        // parameters and one coefficient per covariate)
        let names = M::names_from_file(&self.parameter_order).map_err(|e| match e {
            Error::InvalidOption { reason, .. } => bad(reason),
            other => other,
        })?;
        let theta = names
            .iter()
            .map(|n| {
                self.params
                    .get(n)
                    .copied()
                    .ok_or_else(|| bad(format!("parameter '{n}' is missing")))
            })
            .collect::<Result<Vec<f64>>>()?;
        if let Some(extra) = self.params.keys().find(|k| !names.contains(k)) {
            return Err(bad(format!("unknown parameter '{extra}'")));
        }
        let params = M::from_names(&names, &theta).map_err(|e| bad(format!("params: {e}")))?;
        let mut f = Fitted::from_parts(
            params,
            self.time_unit,
            self.log_likelihood,
            self.n_customers,
            self.n_rows,
            self.penalizer,
            self.convergence.clone(),
            self.covariance.clone(),
        )
        .map_err(|e| match e {
            Error::InvalidOption { name, reason } => bad(format!("{name} {reason}")),
            other => other,
        })?;
        // the standard errors are the covariance's diagonal, to the bit
        let expected: Option<BTreeMap<String, f64>> = f
            .standard_errors()
            .map(|se| names.iter().cloned().zip(se).collect());
        let same = match (&self.standard_errors, &expected) {
            (None, None) => true,
            (Some(a), Some(b)) => {
                a.len() == b.len()
                    && a.iter()
                        .zip(b)
                        .all(|((ka, va), (kb, vb))| ka == kb && va.to_bits() == vb.to_bits())
            }
            _ => false,
        };
        if !same {
            return Err(bad(
                "standard_errors must be the square roots of the covariance diagonal \
                 (both present or both absent)",
            ));
        }
        f.warnings = self.warnings.clone();
        Ok(f)
    }
}
