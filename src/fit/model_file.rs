//! Versioned model files: what `clv fit` writes and `clv predict` reads (serialise with any
//! serde format; the binary uses JSON).

use super::{Convergence, Fitted, MaximumLikelihood};
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The current model-file format version.
pub const FORMAT_VERSION: u32 = 1;

/// A fitted model in a self-describing, versioned form: parameters and standard errors as
/// name → value maps, covariance in the order of [`MaximumLikelihood::NAMES`].
///
/// ```
/// use clv::{BgNbdParams, FitOptions, Fitted, io::read_summary_csv, TimeUnit};
/// use clv::fit::ModelFile;
/// let path = concat!(env!("CARGO_MANIFEST_DIR"), "/data/cdnow_customers_summary.csv");
/// let f = BgNbdParams::fit(&read_summary_csv(path, TimeUnit::Weeks).unwrap(), &FitOptions::default()).unwrap();
/// let file = ModelFile::from_fitted(&f);
/// assert_eq!(file.model, "bgnbd");
/// let back: Fitted<BgNbdParams> = file.to_fitted().unwrap();
/// assert_eq!(back.params(), f.params());
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelFile {
    /// Model name (`"bgnbd"`).
    pub model: String,
    /// Format version ([`FORMAT_VERSION`]).
    pub format_version: u32,
    /// Time unit of the data the model was fitted on.
    pub time_unit: crate::data::TimeUnit,
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
    /// L2 penalty used.
    pub penalizer: f64,
    /// Convergence report.
    pub convergence: Convergence,
    /// Warnings about the fit.
    #[serde(default)]
    pub warnings: Vec<String>,
}

impl ModelFile {
    /// The file form of a fitted model (time unit: weeks unless set with
    /// [`with_time_unit`](Self::with_time_unit)).
    pub fn from_fitted<M: MaximumLikelihood>(f: &Fitted<M>) -> Self {
        let names = M::NAMES;
        let params = names
            .iter()
            .map(|n| n.to_string())
            .zip(f.params().to_vec())
            .collect();
        let standard_errors = f
            .standard_errors()
            .map(|se| names.iter().map(|n| n.to_string()).zip(se).collect());
        ModelFile {
            model: M::MODEL.to_string(),
            format_version: FORMAT_VERSION,
            time_unit: crate::data::TimeUnit::Weeks,
            params,
            standard_errors,
            covariance: f.covariance().map(|c| c.to_vec()),
            parameter_order: names.iter().map(|n| n.to_string()).collect(),
            log_likelihood: f.log_likelihood(),
            n_customers: f.n_customers(),
            penalizer: f.penalizer(),
            convergence: f.convergence().clone(),
            warnings: f.warnings().to_vec(),
        }
    }

    /// Records the time unit of the data.
    pub fn with_time_unit(mut self, unit: crate::data::TimeUnit) -> Self {
        self.time_unit = unit;
        self
    }

    /// Rebuilds the fitted model, refusing another model's file, an unknown version, missing or
    /// invalid parameters and a malformed covariance.
    pub fn to_fitted<M: MaximumLikelihood>(&self) -> Result<Fitted<M>> {
        let bad = |reason: String| Error::InvalidOption {
            name: "model file",
            reason,
        };
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
        let theta = M::NAMES
            .iter()
            .map(|n| {
                self.params
                    .get(*n)
                    .copied()
                    .ok_or_else(|| bad(format!("parameter '{n}' is missing")))
            })
            .collect::<Result<Vec<f64>>>()?;
        if let Some(extra) = self.params.keys().find(|k| !M::NAMES.contains(&k.as_str())) {
            return Err(bad(format!("unknown parameter '{extra}'")));
        }
        if self
            .parameter_order
            .iter()
            .map(String::as_str)
            .ne(M::NAMES.iter().copied())
        {
            return Err(bad(format!("parameter_order must be {:?}", M::NAMES)));
        }
        let params = M::from_slice(&theta)?;
        let mut f = Fitted::from_parts(
            params,
            self.log_likelihood,
            self.n_customers,
            self.penalizer,
            self.convergence.clone(),
            self.covariance.clone(),
        )?;
        f.warnings = self.warnings.clone();
        Ok(f)
    }
}
