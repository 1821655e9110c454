//! Choosing a model: fit several transaction models on one summary and compare them by
//! likelihood (AIC, BIC, likelihood-ratio tests of nested pairs) and, when the summary has a
//! holdout window, by how well each predicts every customer's holdout purchases.
//!
//! ```
//! use clv::compare::{CompareOptions, compare};
//! use clv::{TimeUnit, io::read_summary_csv};
//! let path = concat!(env!("CARGO_MANIFEST_DIR"), "/data/cdnow_customers_summary.csv");
//! let summary = read_summary_csv(path, TimeUnit::Weeks)?;
//! let table = compare(&summary, &CompareOptions::default())?;
//! let best = table.recommended();
//! assert_eq!(table.rows().iter().filter(|r| r.recommended).count(), 1);
//! println!("{}: {}", best.model, table.reason());
//! # Ok::<(), clv::Error>(())
//! ```

use crate::data::RfmSummary;
use crate::error::{Error, Result};
use crate::fit::FitOptions;
use crate::models::AnyFitted;
use statrs::distribution::{ChiSquared, ContinuousCDF};

/// Which models to compare and how to fit them.
#[derive(Debug, Clone)]
pub struct CompareOptions {
    models: Vec<&'static str>,
    fit: FitOptions,
}

impl Default for CompareOptions {
    /// Every registered transaction model ([`AnyFitted::MODELS`]), default fit options.
    fn default() -> Self {
        CompareOptions {
            models: AnyFitted::MODELS.to_vec(),
            fit: FitOptions::default(),
        }
    }
}

impl CompareOptions {
    /// Compares only the named models (in this order; names as [`AnyFitted::MODELS`]).
    ///
    /// # Errors
    /// [`Error::InvalidOption`] for an unknown or repeated name, or an empty list.
    pub fn with_models<S: AsRef<str>>(mut self, names: &[S]) -> Result<Self> {
        let mut out: Vec<&'static str> = Vec::with_capacity(names.len());
        for n in names {
            let n = n.as_ref().trim();
            let Some(&known) = AnyFitted::MODELS.iter().find(|m| **m == n) else {
                return Err(Error::InvalidOption {
                    name: "models",
                    reason: format!(
                        "'{n}' is not a transaction model; choose from {}",
                        AnyFitted::MODELS.join(", ")
                    ),
                });
            };
            if out.contains(&known) {
                return Err(Error::InvalidOption {
                    name: "models",
                    reason: format!("'{n}' is listed twice"),
                });
            }
            out.push(known);
        }
        if out.is_empty() {
            return Err(Error::InvalidOption {
                name: "models",
                reason: "name at least one model".into(),
            });
        }
        self.models = out;
        Ok(self)
    }

    /// The fit options every model is fitted with.
    pub fn with_fit_options(mut self, fit: FitOptions) -> Self {
        self.fit = fit;
        self
    }

    /// The models compared.
    pub fn models(&self) -> &[&'static str] {
        &self.models
    }
}

/// How a model's per-customer expectations for the holdout window compare with what each
/// customer did (all per customer, averaged over customers).
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct HoldoutFit {
    /// Total holdout purchases observed.
    pub actual: f64,
    /// Total holdout purchases predicted (sum of E[Y(holdout) | history]).
    pub predicted: f64,
    /// Mean of predicted − actual (> 0: over-prediction).
    pub bias: f64,
    /// Mean |predicted − actual|.
    pub mae: f64,
    /// Mean (ln(1 + predicted) − ln(1 + actual))².
    pub msle: f64,
}

/// One model's line of the comparison.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ModelRow {
    /// Model name (`bgnbd`, ...).
    pub model: &'static str,
    /// The Erlang order of a CNBD-k model; `None` for the others.
    pub k: Option<u32>,
    /// Number of free parameters.
    pub n_params: usize,
    /// The fit, or why there is none (not identifiable, on a boundary, not converged).
    pub fit: Result<AnyFitted>,
    /// Holdout accuracy, when the summary has a holdout window and the model fitted.
    pub holdout: Option<HoldoutFit>,
    /// Whether this is the recommended model (exactly one row).
    pub recommended: bool,
}

impl ModelRow {
    /// The maximised log-likelihood (NaN without a fit).
    pub fn log_likelihood(&self) -> f64 {
        self.fit
            .as_ref()
            .map_or(f64::NAN, AnyFitted::log_likelihood)
    }
    /// AIC (NaN without a fit).
    pub fn aic(&self) -> f64 {
        self.fit.as_ref().map_or(f64::NAN, AnyFitted::aic)
    }
    /// BIC (NaN without a fit).
    pub fn bic(&self) -> f64 {
        self.fit.as_ref().map_or(f64::NAN, AnyFitted::bic)
    }
    /// Whether the model fitted and converged.
    pub fn converged(&self) -> bool {
        self.fit.as_ref().is_ok_and(|f| f.convergence().converged)
    }
}

/// A likelihood-ratio test of a restricted model against one that nests it.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct LikelihoodRatio {
    /// The restricted model.
    pub restricted: &'static str,
    /// The model that nests it.
    pub full: &'static str,
    /// 2 (LL_full − LL_restricted), at least 0.
    pub statistic: f64,
    /// Degrees of freedom (the extra parameters).
    pub df: usize,
    /// The χ²(df) tail probability of the statistic. The restriction sets parameters on the
    /// boundary of their space (a dropout rate of 0, b = 0), where the statistic's null
    /// distribution is a mixture of χ²s with at most `df` degrees of freedom (Self & Liang
    /// 1987): this p-value is conservative (an upper bound). NaN for k = 1 within a CNBD-k
    /// model: k is a whole number, and no χ² reference applies to it.
    pub p_value: f64,
}

/// A nested pair: the restricted model, the one that nests it, the extra parameters, and
/// whether the restriction is on a whole-number parameter (no χ² reference).
struct Nested {
    restricted: &'static str,
    full: &'static str,
    df: usize,
    discrete: bool,
}

/// The nested pairs tested when both models are compared.
const NESTED: &[Nested] = &[
    // μ → 0 (s/β → 0): nobody drops out
    Nested {
        restricted: "nbd",
        full: "pareto-nbd",
        df: 2,
        discrete: false,
    },
    // p → 0 (a/(a+b) → 0): nobody drops out
    Nested {
        restricted: "nbd",
        full: "bgnbd",
        df: 2,
        discrete: false,
    },
    Nested {
        restricted: "nbd",
        full: "mbgnbd",
        df: 2,
        discrete: false,
    },
    // b → 0: the Gompertz lifetime becomes exponential
    Nested {
        restricted: "pareto-nbd",
        full: "ggomnbd",
        df: 1,
        discrete: false,
    },
    // k = 1: exponential gaps (a whole-number restriction: the statistic, no χ² p-value)
    Nested {
        restricted: "bgnbd",
        full: "bgcnbd",
        df: 1,
        discrete: true,
    },
    Nested {
        restricted: "mbgnbd",
        full: "mbgcnbd",
        df: 1,
        discrete: true,
    },
];

/// The comparison table: one row per model, the likelihood-ratio tests of the nested pairs
/// present, and the recommendation.
#[derive(Debug, Clone)]
pub struct Comparison {
    rows: Vec<ModelRow>,
    tests: Vec<LikelihoodRatio>,
    recommended: usize,
    reason: String,
    has_holdout: bool,
}

impl Comparison {
    /// One row per model, in the order compared.
    pub fn rows(&self) -> &[ModelRow] {
        &self.rows
    }
    /// Likelihood-ratio tests of the nested pairs among the models that fitted.
    pub fn tests(&self) -> &[LikelihoodRatio] {
        &self.tests
    }
    /// The recommended model's row.
    pub fn recommended(&self) -> &ModelRow {
        &self.rows[self.recommended]
    }
    /// Why it is recommended, in one sentence.
    pub fn reason(&self) -> &str {
        &self.reason
    }
    /// Whether the models were compared on a holdout window.
    pub fn has_holdout(&self) -> bool {
        self.has_holdout
    }
}

/// Fits every model of `options` on `summary` and compares them.
///
/// The recommendation: with a holdout window, the model with the smallest per-customer mean
/// absolute error of its holdout expectations (the question a user asks: whose predictions for
/// my customers are closest); without one, the smallest BIC. Ties go to the model with fewer
/// parameters. Only models that fitted and converged are candidates.
///
/// # Errors
/// [`Error::NotIdentifiable`] when no model fits (each row's reason is in the message);
/// [`Error::UnitMismatch`] cannot occur (the models are fitted on the summary itself).
pub fn compare(summary: &RfmSummary, options: &CompareOptions) -> Result<Comparison> {
    let holdout = summary.holdout();
    let mut rows: Vec<ModelRow> = options
        .models
        .iter()
        .map(|&model| {
            let fit = AnyFitted::fit(model, summary, &options.fit);
            let n_params = match &fit {
                Ok(f) => f.names().len(),
                Err(_) => n_params_of(model),
            };
            let holdout = match (&fit, holdout) {
                (Ok(f), Some(h)) => f
                    .holdout_expected(summary)
                    .ok()
                    .map(|pred| holdout_fit(&pred, &h.frequency)),
                _ => None,
            };
            ModelRow {
                model,
                k: fit.as_ref().ok().and_then(|f| f.params().erlang_order()),
                n_params,
                fit,
                holdout,
                recommended: false,
            }
        })
        .collect();
    let candidates: Vec<usize> = (0..rows.len()).filter(|&i| rows[i].converged()).collect();
    if candidates.is_empty() {
        let why: Vec<String> = rows
            .iter()
            .map(|r| match &r.fit {
                Err(e) => format!("{}: {e}", r.model),
                Ok(_) => format!("{}: did not converge", r.model),
            })
            .collect();
        return Err(Error::NotIdentifiable {
            model: "compare",
            reason: format!("no model fitted ({})", why.join("; ")),
        });
    }
    let has_holdout = holdout.is_some() && candidates.iter().all(|&i| rows[i].holdout.is_some());
    let score = |r: &ModelRow| {
        if has_holdout {
            r.holdout.map_or(f64::INFINITY, |h| h.mae)
        } else {
            r.bic()
        }
    };
    let best = *candidates
        .iter()
        .min_by(|&&i, &&j| {
            score(&rows[i])
                .total_cmp(&score(&rows[j]))
                .then(rows[i].n_params.cmp(&rows[j].n_params))
        })
        .expect("candidates is not empty");
    let runner_up = candidates
        .iter()
        .filter(|&&i| i != best)
        .min_by(|&&i, &&j| score(&rows[i]).total_cmp(&score(&rows[j])));
    let what = if has_holdout {
        "holdout mean absolute error per customer"
    } else {
        "BIC (no holdout window in the summary)"
    };
    let reason = match runner_up {
        Some(&j) => format!(
            "{} has the lowest {what}: {:.4}, against {:.4} for {}, the next best",
            rows[best].model,
            score(&rows[best]),
            score(&rows[j]),
            rows[j].model
        ),
        None => format!(
            "{} is the only model that fitted ({what} {:.4})",
            rows[best].model,
            score(&rows[best])
        ),
    };
    rows[best].recommended = true;
    let tests = NESTED
        .iter()
        .filter_map(
            |&Nested {
                 restricted,
                 full,
                 df,
                 discrete,
             }| {
                let ll = |name: &str| {
                    rows.iter()
                        .find(|r| r.model == name && r.converged())
                        .map(ModelRow::log_likelihood)
                };
                let l0 = ll(restricted)?;
                // a full model whose maximum is the restricted one (on its boundary) has its LL
                let l1 = ll(full).or_else(|| {
                    rows.iter()
                        .find(|r| r.model == full)
                        .and_then(|r| match &r.fit {
                            Err(Error::OnBoundary {
                                limit,
                                log_likelihood,
                                ..
                            }) if *limit == restricted => Some(log_likelihood.max(l0)),
                            _ => None,
                        })
                })?;
                let statistic = (2.0 * (l1 - l0)).max(0.0);
                let p_value = if discrete {
                    f64::NAN
                } else {
                    ChiSquared::new(df as f64)
                        .map(|c| c.sf(statistic))
                        .unwrap_or(f64::NAN)
                };
                Some(LikelihoodRatio {
                    restricted: rows.iter().find(|r| r.model == restricted)?.model,
                    full: rows.iter().find(|r| r.model == full)?.model,
                    statistic,
                    df,
                    p_value,
                })
            },
        )
        .collect();
    Ok(Comparison {
        rows,
        tests,
        recommended: best,
        reason,
        has_holdout,
    })
}

/// The number of parameters of a registered model that did not fit.
fn n_params_of(model: &str) -> usize {
    AnyFitted::parameter_names(model).map_or(0, <[&str]>::len)
}

fn holdout_fit(predicted: &[f64], actual: &[f64]) -> HoldoutFit {
    let n = predicted.len().max(1) as f64;
    let (mut sum_p, mut sum_a, mut abs, mut sq) = (0.0, 0.0, 0.0, 0.0);
    for (&p, &a) in predicted.iter().zip(actual) {
        sum_p += p;
        sum_a += a;
        abs += (p - a).abs();
        sq += (p.ln_1p() - a.ln_1p()).powi(2);
    }
    HoldoutFit {
        actual: sum_a,
        predicted: sum_p,
        bias: (sum_p - sum_a) / n,
        mae: abs / n,
        msle: sq / n,
    }
}
