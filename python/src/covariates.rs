//! The covariate models for Python: BG/NBD, Pareto/NBD, MBG/NBD and NBD with static covariates
//! on the purchase and dropout processes (and shared ones), Gamma-Gamma with spend covariates.
//! Covariates cross as 2-D float arrays (one row per customer) with their column names.

use crate::errors::{IntoPy, bad_argument};
use clv::fit::Fitted;
use clv::models::covariates::{CovariateSummary, Covariated, WithCovariates};
use clv::models::spend_covariates::{SpendCovariateSummary, SpendWithCovariates};
use clv::models::{Score, SpendModel};
use clv::{
    BgNbdParams, Covariates, Customer, Error, FitOptions, MbgNbdParams, NbdParams, ParetoNbdParams,
    RfmSummary, TimeUnit, TransactionModel,
};
use numpy::{PyReadonlyArray1, PyReadonlyArray2};
use pyo3::prelude::*;
use rayon::prelude::*;

/// A fitted transaction model with covariates.
pub enum CovFitted {
    BgNbd(Fitted<WithCovariates<BgNbdParams>>),
    ParetoNbd(Fitted<WithCovariates<ParetoNbdParams>>),
    MbgNbd(Fitted<WithCovariates<MbgNbdParams>>),
    Nbd(Fitted<WithCovariates<NbdParams>>),
}

/// `$body` with `$f` bound to the `Fitted` a [`CovFitted`] holds.
macro_rules! each_cov {
    ($c:expr, $f:ident => $body:expr) => {
        match $c {
            CovFitted::BgNbd($f) => $body,
            CovFitted::ParetoNbd($f) => $body,
            CovFitted::MbgNbd($f) => $body,
            CovFitted::Nbd($f) => $body,
        }
    };
}
pub(crate) use each_cov;

/// Covariates from a name list and a 2-D array (rows: customers).
pub fn matrix(names: Vec<String>, z: &PyReadonlyArray2<'_, f64>) -> PyResult<Covariates> {
    let a = z.as_array();
    if a.ncols() != names.len() {
        return Err(bad_argument(format!(
            "{} covariate names for {} columns",
            names.len(),
            a.ncols()
        )));
    }
    let rows = a.rows().into_iter().map(|r| r.to_vec()).collect();
    Covariates::new(names, rows).py()
}

/// The three covariate groups of a fit or a prediction (purchase, dropout, shared).
pub struct Groups {
    pub purchase: Covariates,
    pub dropout: Option<Covariates>,
    pub shared: Option<Covariates>,
}

fn fit_one<M: Covariated + Clone + Send + Sync>(
    s: &RfmSummary,
    g: &Groups,
    opts: &FitOptions,
) -> clv::Result<Fitted<WithCovariates<M>>> {
    let data = match &g.dropout {
        Some(d) => CovariateSummary::new(s, &g.purchase, d)?,
        None => CovariateSummary::purchase_only(s, &g.purchase)?,
    };
    let data = match &g.shared {
        Some(z) => data.with_shared(z)?,
        None => data,
    };
    clv::fit::fit::<WithCovariates<M>>(&data, opts)
}

/// Fits `model` (bgnbd, pareto-nbd, mbgnbd or nbd) with covariates.
pub fn fit(model: &str, s: &RfmSummary, g: &Groups, opts: &FitOptions) -> clv::Result<CovFitted> {
    Ok(match model {
        "bgnbd" => CovFitted::BgNbd(fit_one(s, g, opts)?),
        "pareto-nbd" => CovFitted::ParetoNbd(fit_one(s, g, opts)?),
        "mbgnbd" => CovFitted::MbgNbd(fit_one(s, g, opts)?),
        "nbd" => CovFitted::Nbd(fit_one(s, g, opts)?),
        other => {
            return Err(Error::InvalidOption {
                name: "model",
                reason: format!(
                    "'{other}' takes no covariates; covariates go with bgnbd, pareto-nbd, \
                     mbgnbd, nbd (and gamma-gamma for spend)"
                ),
            });
        }
    })
}

/// Loads a covariate model file by its model name; `None` for another model.
pub fn from_file(file: &clv::fit::ModelFile) -> Option<clv::Result<CovFitted>> {
    Some(match file.model.as_str() {
        "bgnbd-cov" => file.to_fitted().map(CovFitted::BgNbd),
        "pareto-nbd-cov" => file.to_fitted().map(CovFitted::ParetoNbd),
        "mbgnbd-cov" => file.to_fitted().map(CovFitted::MbgNbd),
        "nbd-cov" => file.to_fitted().map(CovFitted::Nbd),
        _ => return None,
    })
}

/// The covariate names the model takes: (purchase, dropout, shared).
pub fn names(c: &CovFitted) -> (Vec<String>, Vec<String>, Vec<String>) {
    let n = |v: &[(String, f64)]| v.iter().map(|(k, _)| k.clone()).collect::<Vec<_>>();
    each_cov!(c, f => {
        let p = f.params();
        (n(p.purchase_coefficients()), n(p.dropout_coefficients()), n(p.shared_coefficients()))
    })
}

fn row(z: Option<&Covariates>, i: usize) -> &[f64] {
    z.map_or(&[], |z| z.row(i))
}

fn scores_of<M: Covariated + TransactionModel + Clone + Send + Sync>(
    w: &WithCovariates<M>,
    g: &Groups,
    cols: (&[f64], &[f64], &[f64]),
    horizon: f64,
) -> clv::Result<Vec<Score>> {
    let (x, t_x, t) = cols;
    let h = clv::predict::check_horizon(horizon)?;
    for (name, z) in [
        ("purchase", Some(&g.purchase)),
        ("dropout", g.dropout.as_ref()),
        ("shared", g.shared.as_ref()),
    ] {
        if let Some(z) = z
            && z.len() != x.len()
        {
            return Err(Error::InvalidOption {
                name: "covariates",
                reason: format!(
                    "{name} covariates have {} rows for {} customers",
                    z.len(),
                    x.len()
                ),
            });
        }
    }
    let customers: Vec<Customer> = (0..x.len())
        .map(|i| Customer::new(x[i], t_x[i], t[i]).map_err(|e| e.at_row(i + 1)))
        .collect::<clv::Result<_>>()?;
    let out: Vec<clv::Result<Score>> = (0..x.len())
        .into_par_iter()
        .map(|i| {
            let own = w
                .for_customer_with(
                    g.purchase.row(i),
                    row(g.dropout.as_ref(), i),
                    row(g.shared.as_ref(), i),
                )
                .map_err(|e| e.at_row(i + 1))?;
            let s = own.score(&customers[i], h);
            if s.is_finite() {
                Ok(s)
            } else {
                Err(Error::Numerical {
                    what: format!("scores of row {}", i + 1),
                })
            }
        })
        .collect();
    out.into_iter().collect()
}

/// Scores with each customer's own parameters (no tables: every customer is another model).
pub fn scores(
    c: &CovFitted,
    g: &Groups,
    cols: (&[f64], &[f64], &[f64]),
    horizon: f64,
) -> clv::Result<Vec<Score>> {
    each_cov!(c, f => scores_of(f.params(), g, cols, horizon))
}

/// Fits Gamma-Gamma with spend covariates.
pub fn fit_spend(
    s: &RfmSummary,
    z: &Covariates,
    opts: &FitOptions,
) -> clv::Result<Fitted<SpendWithCovariates>> {
    clv::fit::fit::<SpendWithCovariates>(&SpendCovariateSummary::new(s, z)?, opts)
}

/// E[mean transaction value] per customer under spend covariates.
pub fn spend_of(
    f: &Fitted<SpendWithCovariates>,
    x: &[f64],
    m: &[f64],
    z: &Covariates,
) -> clv::Result<Vec<f64>> {
    if z.len() != x.len() || m.len() != x.len() {
        return Err(Error::InvalidOption {
            name: "covariates",
            reason: format!(
                "{} frequencies, {} mean values and {} covariate rows",
                x.len(),
                m.len(),
                z.len()
            ),
        });
    }
    (0..x.len())
        .map(|i| {
            f.params()
                .for_customer(z.row(i))
                .and_then(|g| g.conditional_expected_spend(x[i], m[i]))
                .map_err(|e| e.at_row(i + 1))
        })
        .collect()
}

/// A summary with row numbers as ids (the covariate fits take one).
pub fn summary_of(
    x: &PyReadonlyArray1<'_, f64>,
    t_x: &PyReadonlyArray1<'_, f64>,
    t: &PyReadonlyArray1<'_, f64>,
    m: Option<&PyReadonlyArray1<'_, f64>>,
    unit: TimeUnit,
) -> PyResult<RfmSummary> {
    let (x, t_x, t) = (x.as_slice()?, t_x.as_slice()?, t.as_slice()?);
    let mut s = crate::model::row_summary(x, t_x, t, unit).py()?;
    if let Some(m) = m {
        s = s.with_monetary_value(m.as_slice()?.to_vec()).py()?;
    }
    Ok(s)
}
