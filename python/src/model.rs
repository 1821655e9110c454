//! Fitted models for Python: every model of the crate behind one class, fitted from columns,
//! scored into numpy arrays on all cores with the GIL released, and saved as the same JSON
//! model files the `clv` binary writes (a model fitted here scores in Rust, bit for bit).

use crate::covariates::{self, CovFitted, Groups, each_cov, matrix};
use crate::errors::{IntoPy, bad_argument};
use crate::summarize::unit_of;
use clv::compare::{CompareOptions, compare};
use clv::fit::{Fitted, ModelFile};
use clv::models::bgbb::{DiscreteHistory, DiscreteSummary};
use clv::models::gamma_gamma::SpendData;
use clv::models::sbg::SurvivalData;
use clv::models::spend_covariates::SpendWithCovariates;
use clv::scorer::Scorer;
use clv::value::{ClvOptions, DiscountRate};
use clv::{
    AnyFitted, BgBbParams, CompressedRfm, Customer, Error, FitOptions, GammaGammaParams,
    RfmSummary, SbgParams, SpendModel, TransactionModel,
};
use numpy::PyReadonlyArray2;
use numpy::{PyArray1, PyArrayMethods, PyReadonlyArray1};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyTuple};
use rayon::prelude::*;

/// The fitted model of each family.
enum Kind {
    Transaction(AnyFitted),
    Covariates(CovFitted),
    Spend(Fitted<GammaGammaParams>),
    SpendCovariates(Fitted<SpendWithCovariates>),
    BgBb(Fitted<BgBbParams>),
    Sbg(Fitted<SbgParams>),
}

/// `$body` with `$f` bound to the `Fitted` of whichever family `$kind` holds (or the
/// `AnyFitted`, which has the same accessors).
macro_rules! each {
    ($kind:expr, $f:ident => $body:expr) => {
        match $kind {
            Kind::Transaction($f) => $body,
            Kind::Covariates(c) => each_cov!(c, $f => $body),
            Kind::Spend($f) => $body,
            Kind::SpendCovariates($f) => $body,
            Kind::BgBb($f) => $body,
            Kind::Sbg($f) => $body,
        }
    };
}

/// A fitted model of any family: a transaction model (BG/NBD, Pareto/NBD, MBG/NBD, NBD,
/// GGom/NBD, BG/CNBD-k, MBG/CNBD-k), BG/BB, sBG or Gamma-Gamma.
#[pyclass(module = "clv._clv", name = "Model", frozen)]
pub struct Model {
    kind: Kind,
    file: ModelFile,
}

impl Model {
    fn new(kind: Kind) -> Self {
        let file = match &kind {
            Kind::Transaction(f) => f.to_model_file(),
            Kind::Covariates(c) => each_cov!(c, f => ModelFile::from_fitted(f)),
            Kind::Spend(f) => ModelFile::from_fitted(f),
            Kind::SpendCovariates(f) => ModelFile::from_fitted(f),
            Kind::BgBb(f) => ModelFile::from_fitted(f),
            Kind::Sbg(f) => ModelFile::from_fitted(f),
        };
        Model { kind, file }
    }

    fn transaction(&self) -> PyResult<&AnyFitted> {
        match &self.kind {
            Kind::Transaction(f) => Ok(f),
            _ => Err(bad_argument(format!(
                "the {} model does not predict transactions in continuous time",
                self.file.model
            ))),
        }
    }

    fn bgbb(&self) -> PyResult<&BgBbParams> {
        match &self.kind {
            Kind::BgBb(f) => Ok(f.params()),
            _ => Err(bad_argument(format!(
                "the {} model is not BG/BB",
                self.file.model
            ))),
        }
    }

    fn sbg(&self) -> PyResult<&SbgParams> {
        match &self.kind {
            Kind::Sbg(f) => Ok(f.params()),
            _ => Err(bad_argument(format!(
                "the {} model is not sBG",
                self.file.model
            ))),
        }
    }

    fn spend(&self) -> PyResult<&Fitted<GammaGammaParams>> {
        match &self.kind {
            Kind::Spend(f) => Ok(f),
            _ => Err(bad_argument(format!(
                "the {} model is not a spend model (Gamma-Gamma)",
                self.file.model
            ))),
        }
    }
}

/// A slice of a numpy array (C-contiguous, as the Python side makes them).
fn slice<'a, T: numpy::Element>(a: &'a PyReadonlyArray1<'_, T>) -> PyResult<&'a [T]> {
    Ok(a.as_slice()?)
}

fn same_length(lens: &[usize]) -> PyResult<usize> {
    if lens.windows(2).all(|w| w[0] == w[1]) {
        Ok(lens[0])
    } else {
        Err(bad_argument(format!(
            "the columns differ in length: {lens:?}"
        )))
    }
}

/// Every row's customer, checked in order (the first bad row is the error).
fn customers(x: &[f64], t_x: &[f64], t: &[f64]) -> clv::Result<Vec<Customer>> {
    (0..x.len())
        .map(|i| Customer::new(x[i], t_x[i], t[i]).map_err(|e| e.at_row(i + 1)))
        .collect()
}

/// Every row's discrete history, checked in order.
fn histories(x: &[f64], t_x: &[f64], n: &[f64]) -> clv::Result<Vec<DiscreteHistory>> {
    (0..x.len())
        .map(|i| {
            let whole = |v: f64, field: &'static str| -> clv::Result<u32> {
                count(v).ok_or(Error::InvalidData {
                    row: Some(i + 1),
                    customer: None,
                    field,
                    issue: clv::DataIssue::NotInteger(v),
                })
            };
            DiscreteHistory::new(
                whole(x[i], "frequency")?,
                whole(t_x[i], "recency")?,
                whole(n[i], "n_periods")?,
            )
            .map_err(|e| e.at_row(i + 1))
        })
        .collect()
}

/// `t` for every row: one value, or one per row.
fn broadcast(t: &[f64], n: usize) -> PyResult<Vec<f64>> {
    match t.len() {
        1 => Ok(vec![t[0]; n]),
        m if m == n => Ok(t.to_vec()),
        m => Err(bad_argument(format!(
            "t has {m} values for {n} customers: give one, or one per customer"
        ))),
    }
}

/// `f` of each value of `values`, each a whole number >= 0 (`name` in the error).
fn per_count(
    values: &[f64],
    name: &'static str,
    f: impl Fn(u32) -> clv::Result<f64>,
) -> PyResult<Vec<f64>> {
    values.iter().map(|&v| f(whole(v, name)?).py()).collect()
}

/// A float that is a whole number in 0..=u32::MAX (a count of periods or purchases).
fn count(v: f64) -> Option<u32> {
    (v.is_finite() && v >= 0.0 && v.fract() == 0.0 && v <= f64::from(u32::MAX)).then_some(v as u32)
}

/// A whole number >= 0 from a float argument (`name` in the error).
fn whole(v: f64, name: &'static str) -> PyResult<u32> {
    count(v).ok_or_else(|| bad_argument(format!("{name} must be a whole number >= 0, got {v}")))
}

fn array<'py>(py: Python<'py>, v: Vec<f64>) -> Bound<'py, PyArray1<f64>> {
    PyArray1::from_vec(py, v)
}

/// The scores as three numpy arrays (p_alive, expected_purchases, prob_no_purchase), allocated
/// by numpy (calloc: no pages touched until written) and filled on all cores.
fn score_arrays<'py>(
    py: Python<'py>,
    scores: &[clv::models::Score],
) -> PyResult<Bound<'py, PyTuple>> {
    let n = scores.len();
    let (p, e, z) = (
        PyArray1::<f64>::zeros(py, n, false),
        PyArray1::<f64>::zeros(py, n, false),
        PyArray1::<f64>::zeros(py, n, false),
    );
    {
        let (mut pw, mut ew, mut zw) = (p.readwrite(), e.readwrite(), z.readwrite());
        let (ps, es, zs) = (pw.as_slice_mut()?, ew.as_slice_mut()?, zw.as_slice_mut()?);
        py.detach(|| {
            const CHUNK: usize = 1 << 14;
            ps.par_chunks_mut(CHUNK)
                .zip(es.par_chunks_mut(CHUNK))
                .zip(zs.par_chunks_mut(CHUNK))
                .zip(scores.par_chunks(CHUNK))
                .for_each(|(((p, e), z), s)| {
                    for (i, s) in s.iter().enumerate() {
                        (p[i], e[i], z[i]) = (s.p_alive, s.expected_purchases, s.prob_no_purchase);
                    }
                });
        });
    }
    PyTuple::new(py, [p, e, z])
}

/// A finite value or a typed error naming the row and what was computed.
fn finite(v: f64, what: &str, i: usize) -> clv::Result<f64> {
    if v.is_finite() {
        Ok(v)
    } else {
        Err(Error::Numerical {
            what: format!("{what} of row {}", i + 1),
        })
    }
}

/// `f` of every row on all cores, in order; the first failing row's error.
fn par_rows(
    n: usize,
    f: impl Fn(usize) -> clv::Result<f64> + Sync + Send,
) -> clv::Result<Vec<f64>> {
    let out: Vec<clv::Result<f64>> = (0..n).into_par_iter().map(f).collect();
    out.into_iter().collect()
}

fn fit_options(
    penalizer: f64,
    start: Option<Vec<f64>>,
    allow_unconverged: bool,
) -> clv::Result<FitOptions> {
    let mut o = FitOptions::default()
        .with_penalizer(penalizer)?
        .allow_unconverged(allow_unconverged);
    if let Some(s) = start {
        o = o.with_start(s)?;
    }
    Ok(o)
}

/// A summary of columns whose ids are the row numbers (the crate's fits that need a summary
/// take one; Python keeps the real ids).
pub(crate) fn row_summary(
    x: &[f64],
    t_x: &[f64],
    t: &[f64],
    unit: clv::TimeUnit,
) -> clv::Result<RfmSummary> {
    let ids = (1..=x.len()).map(|i| i.to_string()).collect();
    RfmSummary::new(ids, x.to_vec(), t_x.to_vec(), t.to_vec(), unit)
}

/// The parameter names of a transaction model, in the order estimates are reported.
#[pyfunction]
pub fn parameter_names(model: &str) -> Option<Vec<&'static str>> {
    AnyFitted::parameter_names(model).map(<[&str]>::to_vec)
}

/// Fits a transaction model to `(x, t_x, T)` columns (with litt for the CNBD-k models, and
/// optional weights: how many customers share each row).
#[pyfunction]
#[pyo3(signature = (model, x, t_x, t, unit, penalizer=0.0, litt=None, weights=None, start=None, allow_unconverged=false))]
#[allow(clippy::too_many_arguments)]
pub fn fit_transactions(
    py: Python<'_>,
    model: &str,
    x: PyReadonlyArray1<'_, f64>,
    t_x: PyReadonlyArray1<'_, f64>,
    t: PyReadonlyArray1<'_, f64>,
    unit: &str,
    penalizer: f64,
    litt: Option<PyReadonlyArray1<'_, f64>>,
    weights: Option<PyReadonlyArray1<'_, f64>>,
    start: Option<Vec<f64>>,
    allow_unconverged: bool,
) -> PyResult<Model> {
    let unit = unit_of(unit)?;
    let (x, t_x, t) = (slice(&x)?, slice(&t_x)?, slice(&t)?);
    let litt = litt.as_ref().map(slice).transpose()?;
    let weights = weights.as_ref().map(slice).transpose()?;
    let opts = fit_options(penalizer, start, allow_unconverged).py()?;
    let fitted = py.detach(|| -> clv::Result<AnyFitted> {
        if litt.is_none() {
            let c = CompressedRfm::from_weighted(
                x.to_vec(),
                t_x.to_vec(),
                t.to_vec(),
                weights.map(<[f64]>::to_vec),
            )?;
            if let Some(f) = AnyFitted::fit_compressed(model, &c, unit, &opts) {
                return f;
            }
        }
        if weights.is_some() {
            return Err(Error::InvalidOption {
                name: "weights",
                reason: format!(
                    "the {model} model is fitted per customer (with litt): weights are not \
                     supported"
                ),
            });
        }
        let mut s = row_summary(x, t_x, t, unit)?;
        if let Some(l) = litt {
            s = s.with_litt(l.to_vec())?;
        }
        AnyFitted::fit(model, &s, &opts)
    });
    Ok(Model::new(Kind::Transaction(fitted.py()?)))
}

/// Fits Gamma-Gamma to frequencies and mean repeat-transaction values (rows with x = 0 are
/// left out, as the model defines).
#[pyfunction]
#[pyo3(signature = (x, m, unit, penalizer=0.0, weights=None, start=None, allow_unconverged=false))]
#[allow(clippy::too_many_arguments)]
pub fn fit_spend(
    py: Python<'_>,
    x: PyReadonlyArray1<'_, f64>,
    m: PyReadonlyArray1<'_, f64>,
    unit: &str,
    penalizer: f64,
    weights: Option<PyReadonlyArray1<'_, f64>>,
    start: Option<Vec<f64>>,
    allow_unconverged: bool,
) -> PyResult<Model> {
    let unit = unit_of(unit)?;
    let (x, m) = (slice(&x)?, slice(&m)?);
    let weights = weights.as_ref().map(slice).transpose()?;
    let opts = fit_options(penalizer, start, allow_unconverged).py()?;
    let f = py.detach(|| {
        let d = SpendData::from_columns(x, m, weights)?;
        GammaGammaParams::fit_data(&d, unit, &opts)
    });
    Ok(Model::new(Kind::Spend(f.py()?)))
}

/// Fits BG/BB to discrete-time histories: x transactions in n opportunities, the last at t_x.
#[pyfunction]
#[pyo3(signature = (x, t_x, n, unit, penalizer=0.0, weights=None, start=None, allow_unconverged=false))]
#[allow(clippy::too_many_arguments)]
pub fn fit_bgbb(
    py: Python<'_>,
    x: PyReadonlyArray1<'_, f64>,
    t_x: PyReadonlyArray1<'_, f64>,
    n: PyReadonlyArray1<'_, f64>,
    unit: &str,
    penalizer: f64,
    weights: Option<PyReadonlyArray1<'_, f64>>,
    start: Option<Vec<f64>>,
    allow_unconverged: bool,
) -> PyResult<Model> {
    let unit = unit_of(unit)?;
    let (x, t_x, n) = (slice(&x)?, slice(&t_x)?, slice(&n)?);
    same_length(&[x.len(), t_x.len(), n.len()])?;
    let weights = weights.as_ref().map(slice).transpose()?;
    let opts = fit_options(penalizer, start, allow_unconverged).py()?;
    let f = py.detach(|| {
        let h = histories(x, t_x, n)?;
        let d = DiscreteSummary::new(
            h.iter().map(DiscreteHistory::frequency).collect(),
            h.iter().map(DiscreteHistory::recency).collect(),
            h.iter().map(DiscreteHistory::periods).collect(),
            weights.map(<[f64]>::to_vec),
            None,
            unit,
        )?;
        BgBbParams::fit(&d, &opts)
    });
    Ok(Model::new(Kind::BgBb(f.py()?)))
}

/// Fits the shifted-beta-geometric model: to per-customer (renewals, churned) records with
/// optional weights, or to one cohort's counts alive at the start of each period.
#[pyfunction]
#[pyo3(signature = (unit, renewals=None, churned=None, weights=None, alive=None, penalizer=0.0))]
pub fn fit_sbg(
    py: Python<'_>,
    unit: &str,
    renewals: Option<PyReadonlyArray1<'_, f64>>,
    churned: Option<PyReadonlyArray1<'_, bool>>,
    weights: Option<PyReadonlyArray1<'_, f64>>,
    alive: Option<PyReadonlyArray1<'_, f64>>,
    penalizer: f64,
) -> PyResult<Model> {
    let unit = unit_of(unit)?;
    let opts = fit_options(penalizer, None, false).py()?;
    let data = match (&renewals, &churned, &alive) {
        (None, None, Some(a)) => SurvivalData::from_cohort_counts(slice(a)?, unit).py()?,
        (Some(r), Some(c), None) => {
            let renewals = slice(r)?
                .iter()
                .map(|&v| whole(v, "renewals"))
                .collect::<PyResult<Vec<u32>>>()?;
            let w = weights.as_ref().map(slice).transpose()?;
            SurvivalData::new(renewals, slice(c)?.to_vec(), w.map(<[f64]>::to_vec), unit).py()?
        }
        _ => {
            return Err(bad_argument(
                "give renewals and churned (one row per customer), or alive (a cohort's counts)",
            ));
        }
    };
    let f = py.detach(|| SbgParams::fit(&data, &opts));
    Ok(Model::new(Kind::Sbg(f.py()?)))
}

/// A covariate group from Python: (names, 2-D array) or None.
type Group<'py> = Option<(Vec<String>, PyReadonlyArray2<'py, f64>)>;

fn groups(purchase: Group<'_>, dropout: Group<'_>, shared: Group<'_>) -> PyResult<Groups> {
    let one = |g: Group<'_>| g.map(|(n, z)| matrix(n, &z)).transpose();
    let purchase = one(purchase)?.ok_or_else(|| bad_argument("purchase covariates are needed"))?;
    Ok(Groups {
        purchase,
        dropout: one(dropout)?,
        shared: one(shared)?,
    })
}

/// Fits a transaction model (bgnbd, pareto-nbd, mbgnbd, nbd) with static covariates: on the
/// purchase process, the dropout process and both (shared), each `(names, 2-D array)`.
#[pyfunction]
#[pyo3(signature = (model, x, t_x, t, unit, purchase, dropout=None, shared=None, penalizer=0.0, allow_unconverged=false))]
#[allow(clippy::too_many_arguments)]
pub fn fit_transactions_cov(
    py: Python<'_>,
    model: &str,
    x: PyReadonlyArray1<'_, f64>,
    t_x: PyReadonlyArray1<'_, f64>,
    t: PyReadonlyArray1<'_, f64>,
    unit: &str,
    purchase: Group<'_>,
    dropout: Group<'_>,
    shared: Group<'_>,
    penalizer: f64,
    allow_unconverged: bool,
) -> PyResult<Model> {
    let s = covariates::summary_of(&x, &t_x, &t, None, unit_of(unit)?)?;
    let g = groups(purchase, dropout, shared)?;
    let opts = fit_options(penalizer, None, allow_unconverged).py()?;
    let f = py.detach(|| covariates::fit(model, &s, &g, &opts)).py()?;
    Ok(Model::new(Kind::Covariates(f)))
}

/// Fits Gamma-Gamma with spend covariates (`(names, 2-D array)`), on a summary's columns.
#[pyfunction]
#[pyo3(signature = (x, t_x, t, m, unit, spend, penalizer=0.0))]
#[allow(clippy::too_many_arguments)]
pub fn fit_spend_cov(
    py: Python<'_>,
    x: PyReadonlyArray1<'_, f64>,
    t_x: PyReadonlyArray1<'_, f64>,
    t: PyReadonlyArray1<'_, f64>,
    m: PyReadonlyArray1<'_, f64>,
    unit: &str,
    spend: (Vec<String>, PyReadonlyArray2<'_, f64>),
    penalizer: f64,
) -> PyResult<Model> {
    let s = covariates::summary_of(&x, &t_x, &t, Some(&m), unit_of(unit)?)?;
    let z = matrix(spend.0, &spend.1)?;
    let opts = fit_options(penalizer, None, false).py()?;
    let f = py.detach(|| covariates::fit_spend(&s, &z, &opts)).py()?;
    Ok(Model::new(Kind::SpendCovariates(f)))
}

/// Fits the named transaction models to one summary and compares them (likelihood, AIC, BIC,
/// likelihood-ratio tests of nested pairs, holdout accuracy when holdout columns are given).
/// Returns (rows as dicts, recommended model, reason).
#[pyfunction]
#[pyo3(signature = (x, t_x, t, unit, models=None, litt=None, frequency_holdout=None, duration_holdout=None, penalizer=0.0))]
#[allow(clippy::too_many_arguments)]
pub fn compare_models<'py>(
    py: Python<'py>,
    x: PyReadonlyArray1<'py, f64>,
    t_x: PyReadonlyArray1<'py, f64>,
    t: PyReadonlyArray1<'py, f64>,
    unit: &str,
    models: Option<Vec<String>>,
    litt: Option<PyReadonlyArray1<'py, f64>>,
    frequency_holdout: Option<PyReadonlyArray1<'py, f64>>,
    duration_holdout: Option<f64>,
    penalizer: f64,
) -> PyResult<Bound<'py, PyTuple>> {
    let unit = unit_of(unit)?;
    let (x, t_x, t) = (slice(&x)?, slice(&t_x)?, slice(&t)?);
    let litt = litt.as_ref().map(slice).transpose()?;
    let hx = frequency_holdout.as_ref().map(slice).transpose()?;
    let mut options = CompareOptions::default()
        .with_fit_options(FitOptions::default().with_penalizer(penalizer).py()?);
    if let Some(m) = &models {
        options = options.with_models(m).py()?;
    }
    let comparison = py
        .detach(|| -> clv::Result<_> {
            let mut s = row_summary(x, t_x, t, unit)?;
            if let Some(l) = litt {
                s = s.with_litt(l.to_vec())?;
            }
            if let (Some(h), Some(d)) = (hx, duration_holdout) {
                s = s.with_holdout(clv::Holdout {
                    frequency: h.to_vec(),
                    monetary_value: vec![0.0; h.len()],
                    duration: d,
                })?;
            }
            compare(&s, &options)
        })
        .py()?;
    let rows = PyList::empty(py);
    for r in comparison.rows() {
        let d = PyDict::new(py);
        d.set_item("model", r.model)?;
        d.set_item("k", r.k)?;
        d.set_item("n_params", r.n_params)?;
        d.set_item("log_likelihood", r.log_likelihood())?;
        d.set_item("aic", r.aic())?;
        d.set_item("bic", r.bic())?;
        d.set_item("converged", r.converged())?;
        d.set_item("recommended", r.recommended)?;
        match &r.fit {
            Ok(f) => {
                d.set_item("error", py.None())?;
                d.set_item("model_json", f.to_model_file().to_json().py()?)?;
            }
            Err(e) => {
                d.set_item("error", e.to_string())?;
                d.set_item("model_json", py.None())?;
            }
        }
        if let Some(h) = &r.holdout {
            d.set_item("holdout_actual", h.actual)?;
            d.set_item("holdout_predicted", h.predicted)?;
            d.set_item("holdout_bias", h.bias)?;
            d.set_item("holdout_mae", h.mae)?;
            d.set_item("holdout_msle", h.msle)?;
        }
        rows.append(d)?;
    }
    let tests = PyList::empty(py);
    for lr in comparison.tests() {
        let d = PyDict::new(py);
        d.set_item("restricted", lr.restricted)?;
        d.set_item("full", lr.full)?;
        d.set_item("statistic", lr.statistic)?;
        d.set_item("df", lr.df)?;
        d.set_item("p_value", lr.p_value)?;
        tests.append(d)?;
    }
    PyTuple::new(
        py,
        [
            rows.into_any(),
            comparison.recommended().model.into_pyobject(py)?.into_any(),
            comparison.reason().into_pyobject(py)?.into_any(),
            tests.into_any(),
        ],
    )
}

#[pymethods]
impl Model {
    /// Loads a model from the JSON text of a model file (as `clv fit` writes it).
    #[staticmethod]
    fn from_json(text: &str) -> PyResult<Model> {
        let file = ModelFile::from_json(text).py()?;
        if let Some(c) = covariates::from_file(&file) {
            return Ok(Model::new(Kind::Covariates(c.py()?)));
        }
        let kind = match file.model.as_str() {
            "gamma_gamma" => Kind::Spend(file.to_fitted::<GammaGammaParams>().py()?),
            "gamma_gamma-cov" => {
                Kind::SpendCovariates(file.to_fitted::<SpendWithCovariates>().py()?)
            }
            "bgbb" => Kind::BgBb(file.to_fitted::<BgBbParams>().py()?),
            "sbg" => Kind::Sbg(file.to_fitted::<SbgParams>().py()?),
            _ => Kind::Transaction(AnyFitted::from_model_file(&file).py()?),
        };
        Ok(Model::new(kind))
    }

    /// The model file as JSON text (what `clv fit` writes).
    fn to_json(&self) -> PyResult<String> {
        self.file.to_json().py()
    }

    /// Pickling goes through the model file.
    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyTuple>> {
        let py = slf.py();
        let from_json = slf.get_type().getattr("from_json")?;
        let args = PyTuple::new(py, [slf.get().to_json()?])?;
        PyTuple::new(py, [from_json.into_any(), args.into_any()])
    }

    /// The model's name (`bgnbd`, `pareto-nbd`, `gamma_gamma`, `bgbb`, `sbg`, ...).
    #[getter]
    fn name(&self) -> &str {
        &self.file.model
    }

    /// The time unit of the data it was fitted on (`weeks`, `days`, ...).
    #[getter]
    fn time_unit(&self) -> String {
        self.file.time_unit.token()
    }

    /// Parameter names, in order.
    #[getter]
    fn parameter_names(&self) -> Vec<String> {
        self.file.parameter_order.clone()
    }

    /// Estimates, in parameter order.
    #[getter]
    fn estimates(&self) -> Vec<f64> {
        self.file
            .parameter_order
            .iter()
            .map(|n| self.file.params[n])
            .collect()
    }

    /// Standard errors in parameter order (None when the Hessian was not positive definite).
    #[getter]
    fn standard_errors(&self) -> Option<Vec<f64>> {
        let se = self.file.standard_errors.as_ref()?;
        Some(
            self.file
                .parameter_order
                .iter()
                .map(|n| se.get(n).copied().unwrap_or(f64::NAN))
                .collect(),
        )
    }

    /// Wald intervals at `level` (on the parameters' free scale: log for positive ones).
    #[pyo3(signature = (level=0.95))]
    fn confidence_intervals(&self, level: f64) -> Option<Vec<(f64, f64)>> {
        each!(&self.kind, f => f.confidence_intervals(level))
    }

    /// Covariance of the estimates (rows and columns in parameter order).
    #[getter]
    fn covariance(&self) -> Option<Vec<Vec<f64>>> {
        self.file.covariance.clone()
    }

    #[getter]
    fn log_likelihood(&self) -> f64 {
        self.file.log_likelihood
    }

    #[getter]
    fn aic(&self) -> f64 {
        each!(&self.kind, f => f.aic())
    }

    #[getter]
    fn bic(&self) -> f64 {
        each!(&self.kind, f => f.bic())
    }

    #[getter]
    fn n_customers(&self) -> f64 {
        self.file.n_customers
    }

    #[getter]
    fn n_rows(&self) -> usize {
        self.file.n_rows
    }

    #[getter]
    fn penalizer(&self) -> f64 {
        self.file.penalizer
    }

    /// Warnings about the fit: (code, severity, message).
    #[getter]
    fn warnings(&self) -> Vec<(String, String, String)> {
        self.file
            .warnings
            .iter()
            .map(|w| {
                (
                    w.code().to_string(),
                    format!("{:?}", w.severity()).to_lowercase(),
                    w.to_string(),
                )
            })
            .collect()
    }

    /// The convergence report as a dict.
    #[getter]
    fn convergence<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let c = &self.file.convergence;
        let d = PyDict::new(py);
        d.set_item("converged", c.converged)?;
        d.set_item("reason", c.reason.code())?;
        d.set_item("iterations", c.iterations)?;
        d.set_item("gradient_norm", c.gradient_norm)?;
        d.set_item("method", format!("{:?}", c.method).to_lowercase())?;
        d.set_item("starts_tried", c.starts_tried)?;
        d.set_item("hessian_positive_definite", c.hessian_positive_definite)?;
        Ok(d)
    }

    fn __repr__(&self) -> String {
        let params: Vec<String> = self
            .file
            .parameter_order
            .iter()
            .map(|n| format!("{n}={}", self.file.params[n]))
            .collect();
        format!(
            "<clv model {} ({}; {}), log-likelihood {}>",
            self.file.model,
            params.join(", "),
            self.file.time_unit,
            self.file.log_likelihood
        )
    }

    // ---- transaction models ----

    /// P(alive), E[purchases in (T, T + horizon]] and P(no purchase in it) per customer
    /// (`clv::predict::score_columns`: every row checked, then tables over these customers'
    /// frequencies and ages; the numbers `AnyFitted::score` gives for the same summary).
    fn score<'py>(
        &self,
        py: Python<'py>,
        x: PyReadonlyArray1<'py, f64>,
        t_x: PyReadonlyArray1<'py, f64>,
        t: PyReadonlyArray1<'py, f64>,
        horizon: f64,
    ) -> PyResult<Bound<'py, PyTuple>> {
        let f = self.transaction()?;
        let (x, t_x, t) = (slice(&x)?, slice(&t_x)?, slice(&t)?);
        let model = f.params();
        let scores = py
            .detach(|| clv::predict::score_columns(&model, x, t_x, t, horizon))
            .py()?;
        score_arrays(py, &scores)
    }

    /// Discounted CLV per customer: Σ margin · E[spend] · (E[Y(tᵢ)] − E[Y(tᵢ₋₁)]) ·
    /// discount(tᵢ) over steps of `step` up to `horizon`, with `spend` a Gamma-Gamma model and
    /// the discount `rate` per `period` (compounded) or continuous (`continuous=True`: a force
    /// per unit).
    #[pyo3(signature = (spend, x, t_x, t, mean_spend, horizon, step, rate, period=None, continuous=false, margin=1.0))]
    #[allow(clippy::too_many_arguments)]
    fn value<'py>(
        &self,
        py: Python<'py>,
        spend: &Model,
        x: PyReadonlyArray1<'py, f64>,
        t_x: PyReadonlyArray1<'py, f64>,
        t: PyReadonlyArray1<'py, f64>,
        mean_spend: PyReadonlyArray1<'py, f64>,
        horizon: f64,
        step: f64,
        rate: f64,
        period: Option<f64>,
        continuous: bool,
        margin: f64,
    ) -> PyResult<Bound<'py, PyArray1<f64>>> {
        let f = self.transaction()?;
        let g = spend.spend()?;
        let (x, t_x, t, m) = (slice(&x)?, slice(&t_x)?, slice(&t)?, slice(&mean_spend)?);
        let unit = f.time_unit();
        let discount = match (continuous, period) {
            (true, _) => DiscountRate::continuous(rate, unit),
            (false, Some(p)) => DiscountRate::per_period(rate, p, unit),
            (false, None) => DiscountRate::per_unit(rate, unit),
        }
        .py()?;
        let options = ClvOptions::new(horizon, unit)
            .and_then(|o| o.with_step(step))
            .and_then(|o| o.with_discount(discount))
            .and_then(|o| o.with_margin(margin))
            .py()?;
        let v = py
            .detach(|| {
                Scorer::builder(f, horizon)?
                    .clv(g, options)?
                    .build()
                    .value_columns(x, t_x, t, m)
            })
            .py()?;
        Ok(array(py, v))
    }

    /// `ages.len()` simulated customers with the given ages T (first purchase at 0), seeded:
    /// their (x, t_x, T) columns, drawn from the fitted transaction model (`clv::sim`).
    fn simulate<'py>(
        &self,
        py: Python<'py>,
        ages: PyReadonlyArray1<'py, f64>,
        seed: u64,
    ) -> PyResult<Bound<'py, PyTuple>> {
        use clv::sim::Simulate;
        let f = self.transaction()?;
        let ages = slice(&ages)?;
        let s = py
            .detach(|| f.params().simulate(ages, f.time_unit(), seed))
            .py()?;
        PyTuple::new(
            py,
            [
                PyArray1::from_slice(py, s.frequency()),
                PyArray1::from_slice(py, s.recency()),
                PyArray1::from_slice(py, s.age()),
            ],
        )
    }

    /// P(alive at T | x, t_x, T) per customer.
    fn p_alive<'py>(
        &self,
        py: Python<'py>,
        x: PyReadonlyArray1<'py, f64>,
        t_x: PyReadonlyArray1<'py, f64>,
        t: PyReadonlyArray1<'py, f64>,
    ) -> PyResult<Bound<'py, PyArray1<f64>>> {
        let m = self.transaction()?.params();
        let (x, t_x, t) = (slice(&x)?, slice(&t_x)?, slice(&t)?);
        same_length(&[x.len(), t_x.len(), t.len()])?;
        let v = py
            .detach(|| {
                let c = customers(x, t_x, t)?;
                par_rows(c.len(), |i| finite(m.p_alive(&c[i]), "P(alive)", i))
            })
            .py()?;
        Ok(array(py, v))
    }

    /// E[purchases in (T, T + t] | x, t_x, T] per customer (`t` one value or one per row).
    fn conditional_expected<'py>(
        &self,
        py: Python<'py>,
        t: PyReadonlyArray1<'py, f64>,
        x: PyReadonlyArray1<'py, f64>,
        t_x: PyReadonlyArray1<'py, f64>,
        age: PyReadonlyArray1<'py, f64>,
    ) -> PyResult<Bound<'py, PyArray1<f64>>> {
        let m = self.transaction()?.params();
        let (x, t_x, age) = (slice(&x)?, slice(&t_x)?, slice(&age)?);
        let n = same_length(&[x.len(), t_x.len(), age.len()])?;
        let ts = broadcast(slice(&t)?, n)?;
        let v = py
            .detach(|| {
                let c = customers(x, t_x, age)?;
                for (i, &h) in ts.iter().enumerate() {
                    clv::predict::check_horizon(h).map_err(|e| e.at_row(i + 1))?;
                }
                par_rows(n, |i| {
                    finite(
                        m.conditional_expected_purchases(&c[i], ts[i]),
                        "conditional expected purchases",
                        i,
                    )
                })
            })
            .py()?;
        Ok(array(py, v))
    }

    /// P(X(T, T + t] = n | x, t_x, T) per customer.
    fn conditional_pmf<'py>(
        &self,
        py: Python<'py>,
        n: f64,
        t: f64,
        x: PyReadonlyArray1<'py, f64>,
        t_x: PyReadonlyArray1<'py, f64>,
        age: PyReadonlyArray1<'py, f64>,
    ) -> PyResult<Bound<'py, PyArray1<f64>>> {
        let m = self.transaction()?.params();
        let k = u64::from(whole(n, "n")?);
        clv::predict::check_horizon(t).py()?;
        let (x, t_x, age) = (slice(&x)?, slice(&t_x)?, slice(&age)?);
        same_length(&[x.len(), t_x.len(), age.len()])?;
        let v = py
            .detach(|| {
                let c = customers(x, t_x, age)?;
                par_rows(c.len(), |i| {
                    finite(m.conditional_pmf(&c[i], k, t), "conditional P(X = n)", i)
                })
            })
            .py()?;
        Ok(array(py, v))
    }

    /// E[X(t)] of a new customer, for each t.
    fn expected<'py>(
        &self,
        py: Python<'py>,
        t: PyReadonlyArray1<'py, f64>,
    ) -> PyResult<Bound<'py, PyArray1<f64>>> {
        let m = self.transaction()?.params();
        let t = slice(&t)?;
        let v = t
            .iter()
            .enumerate()
            .map(|(i, &h)| {
                clv::predict::check_horizon(h).map_err(|e| e.at_row(i + 1))?;
                finite(m.expected_purchases(h), "expected purchases", i)
            })
            .collect::<clv::Result<Vec<f64>>>()
            .py()?;
        Ok(array(py, v))
    }

    /// P(X(t) = n) of a new customer, for each t.
    fn pmf<'py>(
        &self,
        py: Python<'py>,
        n: f64,
        t: PyReadonlyArray1<'py, f64>,
    ) -> PyResult<Bound<'py, PyArray1<f64>>> {
        let m = self.transaction()?.params();
        let k = u64::from(whole(n, "n")?);
        let t = slice(&t)?;
        let v = t
            .iter()
            .enumerate()
            .map(|(i, &h)| {
                clv::predict::check_horizon(h).map_err(|e| e.at_row(i + 1))?;
                finite(m.pmf(k, h), "P(X = n)", i)
            })
            .collect::<clv::Result<Vec<f64>>>()
            .py()?;
        Ok(array(py, v))
    }

    // ---- covariate models ----

    /// The covariates the model takes: {"purchase": [...], "dropout": [...], "shared": [...]}
    /// for a transaction model, {"spend": [...]} for Gamma-Gamma; empty without covariates.
    #[getter]
    fn covariates<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        match &self.kind {
            Kind::Covariates(c) => {
                let (p, dr, sh) = covariates::names(c);
                d.set_item("purchase", p)?;
                d.set_item("dropout", dr)?;
                d.set_item("shared", sh)?;
            }
            Kind::SpendCovariates(f) => {
                let n: Vec<String> = f
                    .params()
                    .coefficients()
                    .iter()
                    .map(|(k, _)| k.clone())
                    .collect();
                d.set_item("spend", n)?;
            }
            _ => {}
        }
        Ok(d)
    }

    /// [`score`](Self::score) for a model with covariates: each customer scored with their own
    /// parameters (purchase, dropout and shared covariates as `(names, 2-D array)`).
    #[pyo3(signature = (x, t_x, t, horizon, purchase, dropout=None, shared=None))]
    #[allow(clippy::too_many_arguments)]
    fn score_cov<'py>(
        &self,
        py: Python<'py>,
        x: PyReadonlyArray1<'py, f64>,
        t_x: PyReadonlyArray1<'py, f64>,
        t: PyReadonlyArray1<'py, f64>,
        horizon: f64,
        purchase: Group<'py>,
        dropout: Group<'py>,
        shared: Group<'py>,
    ) -> PyResult<Bound<'py, PyTuple>> {
        let Kind::Covariates(c) = &self.kind else {
            return Err(bad_argument(format!(
                "the {} model takes no covariates",
                self.file.model
            )));
        };
        let g = groups(purchase, dropout, shared)?;
        let (x, t_x, t) = (slice(&x)?, slice(&t_x)?, slice(&t)?);
        same_length(&[x.len(), t_x.len(), t.len()])?;
        let scores = py
            .detach(|| covariates::scores(c, &g, (x, t_x, t), horizon))
            .py()?;
        score_arrays(py, &scores)
    }

    /// E[mean transaction value | x, m̄, z] per customer for Gamma-Gamma with spend covariates.
    fn conditional_expected_spend_cov<'py>(
        &self,
        py: Python<'py>,
        x: PyReadonlyArray1<'py, f64>,
        mean_spend: PyReadonlyArray1<'py, f64>,
        spend: (Vec<String>, PyReadonlyArray2<'py, f64>),
    ) -> PyResult<Bound<'py, PyArray1<f64>>> {
        let Kind::SpendCovariates(f) = &self.kind else {
            return Err(bad_argument(format!(
                "the {} model takes no spend covariates",
                self.file.model
            )));
        };
        let z = matrix(spend.0, &spend.1)?;
        let (x, m) = (slice(&x)?, slice(&mean_spend)?);
        let v = py.detach(|| covariates::spend_of(f, x, m, &z)).py()?;
        Ok(array(py, v))
    }

    // ---- Gamma-Gamma ----

    /// E[mean transaction value | x, m̄] per customer (the population mean for x = 0).
    fn conditional_expected_spend<'py>(
        &self,
        py: Python<'py>,
        x: PyReadonlyArray1<'py, f64>,
        mean_spend: PyReadonlyArray1<'py, f64>,
    ) -> PyResult<Bound<'py, PyArray1<f64>>> {
        let g = *self.spend()?.params();
        let (x, m) = (slice(&x)?, slice(&mean_spend)?);
        let n = same_length(&[x.len(), m.len()])?;
        let v = py
            .detach(|| {
                (0..n)
                    .map(|i| {
                        g.conditional_expected_spend(x[i], m[i])
                            .map_err(|e| e.at_row(i + 1))
                    })
                    .collect::<clv::Result<Vec<f64>>>()
            })
            .py()?;
        Ok(array(py, v))
    }

    // ---- BG/BB ----

    /// BG/BB: P(alive at opportunity n + m | x, t_x, n) per customer (m = 0: at n).
    #[pyo3(signature = (x, t_x, n, m=0.0))]
    fn bgbb_p_alive<'py>(
        &self,
        py: Python<'py>,
        x: PyReadonlyArray1<'py, f64>,
        t_x: PyReadonlyArray1<'py, f64>,
        n: PyReadonlyArray1<'py, f64>,
        m: f64,
    ) -> PyResult<Bound<'py, PyArray1<f64>>> {
        let p = self.bgbb()?;
        let m = whole(m, "m")?;
        let (x, t_x, n) = (slice(&x)?, slice(&t_x)?, slice(&n)?);
        same_length(&[x.len(), t_x.len(), n.len()])?;
        let v = py
            .detach(|| {
                let h = histories(x, t_x, n)?;
                par_rows(h.len(), |i| finite(p.p_alive(&h[i], m), "P(alive)", i))
            })
            .py()?;
        Ok(array(py, v))
    }

    /// BG/BB: E[transactions in the next m opportunities | x, t_x, n] per customer.
    fn bgbb_conditional_expected<'py>(
        &self,
        py: Python<'py>,
        m: f64,
        x: PyReadonlyArray1<'py, f64>,
        t_x: PyReadonlyArray1<'py, f64>,
        n: PyReadonlyArray1<'py, f64>,
    ) -> PyResult<Bound<'py, PyArray1<f64>>> {
        let p = self.bgbb()?;
        let m = whole(m, "m")?;
        let (x, t_x, n) = (slice(&x)?, slice(&t_x)?, slice(&n)?);
        same_length(&[x.len(), t_x.len(), n.len()])?;
        let v = py
            .detach(|| {
                let h = histories(x, t_x, n)?;
                par_rows(h.len(), |i| {
                    p.conditional_expected_transactions(&h[i], m)
                        .map_err(|e| e.at_row(i + 1))
                })
            })
            .py()?;
        Ok(array(py, v))
    }

    /// BG/BB: E[transactions in the first n opportunities] of a new customer, for each n.
    fn bgbb_expected<'py>(
        &self,
        py: Python<'py>,
        n: PyReadonlyArray1<'py, f64>,
    ) -> PyResult<Bound<'py, PyArray1<f64>>> {
        let p = self.bgbb()?;
        let v = per_count(slice(&n)?, "n", |k| p.expected_transactions(k))?;
        Ok(array(py, v))
    }

    /// BG/BB: P(k transactions in the first n opportunities) of a new customer, for each n.
    fn bgbb_pmf<'py>(
        &self,
        py: Python<'py>,
        k: f64,
        n: PyReadonlyArray1<'py, f64>,
    ) -> PyResult<Bound<'py, PyArray1<f64>>> {
        let p = self.bgbb()?;
        let k = whole(k, "k")?;
        let v = per_count(slice(&n)?, "n", |m| p.pmf(k, m))?;
        Ok(array(py, v))
    }

    // ---- sBG ----

    /// sBG: S(t), the share of a cohort still active after t renewals, for each t.
    fn survival<'py>(
        &self,
        py: Python<'py>,
        t: PyReadonlyArray1<'py, f64>,
    ) -> PyResult<Bound<'py, PyArray1<f64>>> {
        let p = self.sbg()?;
        let v = per_count(slice(&t)?, "t", |k| Ok(p.survival(k)))?;
        Ok(array(py, v))
    }

    /// sBG: the retention rate r(t) = S(t)/S(t − 1), for each t >= 1.
    fn retention<'py>(
        &self,
        py: Python<'py>,
        t: PyReadonlyArray1<'py, f64>,
    ) -> PyResult<Bound<'py, PyArray1<f64>>> {
        let p = self.sbg()?;
        let v = per_count(slice(&t)?, "t", |k| Ok(p.retention(k)))?;
        Ok(array(py, v))
    }

    /// sBG: discounted expected residual lifetime of a customer who has made n renewals, at
    /// discount rate d per period.
    fn derl(&self, d: f64, n: f64) -> PyResult<f64> {
        self.sbg()?.derl(d, whole(n, "n")?).py()
    }
}
