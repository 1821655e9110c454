//! `clv fit --covariates F --purchase-cov A,B --dropout-cov B`: a transaction model with
//! static customer covariates, its coefficient table with the effects in words, and the
//! likelihood-ratio test against the model without them.

use crate::commands::{Res, s};
use crate::output::{parameter_table, write_atomic};
use clv::fit::{FitOptions, Fitted, FromRfm, MaximumLikelihood, ModelFile, fit};
use clv::models::covariates::{
    CovariateSummary, Covariated, WithCovariates, coefficients, likelihood_ratio,
};
use clv::{BgNbdParams, Covariates, MbgNbdParams, NbdParams, ParetoNbdParams, RfmSummary};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// The covariate flags of `clv fit`.
#[derive(clap::Args, Default)]
pub struct CovArgs {
    /// Customer covariates: a CSV keyed by customer id (customer_id, customer, id, Id, ...),
    /// one row per customer of the summary.
    #[arg(long)]
    pub covariates: Option<PathBuf>,
    /// Covariate columns of the purchase process (comma-separated).
    #[arg(long, value_delimiter = ',', requires = "covariates")]
    pub purchase_cov: Vec<String>,
    /// Covariate columns of the dropout process (comma-separated).
    #[arg(long, value_delimiter = ',', requires = "covariates")]
    pub dropout_cov: Vec<String>,
    /// Covariate columns in both processes with one coefficient (the constraint "same
    /// coefficient in both processes").
    #[arg(long, value_delimiter = ',', requires = "covariates")]
    pub shared_cov: Vec<String>,
    /// Covariate columns of spend per transaction (with --model gamma-gamma).
    #[arg(long, value_delimiter = ',', requires = "covariates")]
    pub spend_cov: Vec<String>,
    /// Columns read as categories (one-hot, the first level in sorted order the reference);
    /// the others must be numbers.
    #[arg(long, value_delimiter = ',', requires = "covariates")]
    pub categorical: Vec<String>,
    /// Divide numeric columns by their standard deviation for the fit (not centred); the
    /// coefficients are reported, and stored, per unit of the original column.
    #[arg(long, requires = "covariates")]
    pub standardize: bool,
}

/// The covariate file's columns by customer id.
struct CovFile {
    columns: Vec<String>,
    rows: HashMap<String, Vec<String>>,
}

fn read_file(path: &Path) -> Result<CovFile, String> {
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(false)
        .from_reader(clv::io::open_input(path).map_err(s)?);
    let header: Vec<String> = rdr
        .headers()
        .map_err(|e| format!("{}: {e}", path.display()))?
        .iter()
        .map(|h| h.trim_start_matches('\u{feff}').trim().to_string())
        .collect();
    let norm = |t: &str| -> String {
        t.chars()
            .filter(|c| !matches!(c, ' ' | '_' | '-'))
            .flat_map(char::to_lowercase)
            .collect()
    };
    let id = ["customerid", "customer", "id", "cust", "userid", "clientid"]
        .iter()
        .find_map(|c| header.iter().position(|h| norm(h) == *c))
        .ok_or_else(|| {
            format!(
                "{}: no customer id column (customer_id, id, ...); columns: {}",
                path.display(),
                header.join(", ")
            )
        })?;
    let mut rows = HashMap::new();
    for (i, rec) in rdr.records().enumerate() {
        let rec = rec.map_err(|e| format!("{} row {}: {e}", path.display(), i + 1))?;
        let key = rec.get(id).unwrap_or("").trim().to_string();
        if rows
            .insert(
                key.clone(),
                rec.iter().map(|v| v.trim().to_string()).collect(),
            )
            .is_some()
        {
            return Err(format!(
                "{} row {}: customer {key} has a second row",
                path.display(),
                i + 1
            ));
        }
    }
    Ok(CovFile {
        columns: header,
        rows,
    })
}

/// What building the design says: notes for people, and each categorical column's reference
/// level (for the effects in words).
#[derive(Default)]
struct DesignNotes {
    notes: Vec<String>,
    references: HashMap<String, String>,
}

/// The design columns of `names` for the summary's customers: numeric columns as they are (or
/// divided by their SD), categorical ones one-hot against their first level. Returns the
/// matrix and, per design column, the factor its coefficient is multiplied by to be per unit
/// of the original column (1/SD, or 1).
fn design(
    file: &CovFile,
    path: &Path,
    sm: &RfmSummary,
    names: &[String],
    a: &CovArgs,
    said: &mut DesignNotes,
) -> Result<(Covariates, Vec<f64>), String> {
    let mut cols: Vec<String> = Vec::new();
    let mut values: Vec<Vec<f64>> = vec![Vec::new(); sm.len()];
    let mut back = Vec::new();
    for name in names {
        let j = file.columns.iter().position(|c| c == name).ok_or_else(|| {
            format!(
                "{}: no column '{name}'; columns: {}",
                path.display(),
                file.columns.join(", ")
            )
        })?;
        let cell = |id: &str| -> Result<&str, String> {
            file.rows.get(id).map(|r| r[j].as_str()).ok_or_else(|| {
                format!(
                    "customer {id} has no row in {} (covariates are needed for every customer)",
                    path.display()
                )
            })
        };
        if a.categorical.contains(name) {
            let mut levels: Vec<String> = sm
                .ids()
                .iter()
                .map(|id| cell(id).map(str::to_string))
                .collect::<Result<_, _>>()?;
            levels.sort();
            levels.dedup();
            if levels.len() < 2 {
                return Err(format!(
                    "column '{name}' is constant ({}): it says nothing about how customers differ",
                    levels.join("")
                ));
            }
            said.notes.push(format!(
                "{name}: categories {}, reference {}",
                levels.join(", "),
                levels[0]
            ));
            said.references.insert(name.clone(), levels[0].clone());
            for level in &levels[1..] {
                cols.push(format!("{name}={level}"));
                back.push(1.0);
                for (i, id) in sm.ids().iter().enumerate() {
                    values[i].push(if cell(id)? == level { 1.0 } else { 0.0 });
                }
            }
        } else {
            let mut col = Vec::with_capacity(sm.len());
            for id in sm.ids() {
                let text = cell(id)?;
                let v: f64 = text.parse().ok().filter(|v: &f64| v.is_finite()).ok_or_else(|| {
                    format!(
                        "customer {id}: column '{name}' is '{text}', not a number (list it in --categorical if it is a category)"
                    )
                })?;
                col.push(v);
            }
            let n = col.len() as f64;
            let mean = col.iter().sum::<f64>() / n;
            let sd = (col.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n).sqrt();
            if sd == 0.0 {
                return Err(format!(
                    "column '{name}' is constant ({}): it says nothing about how customers differ",
                    col.first().copied().unwrap_or(0.0)
                ));
            }
            let scale = if a.standardize { sd } else { 1.0 };
            if a.standardize {
                said.notes
                    .push(format!("{name}: divided by its SD {sd:.6} for the fit"));
            }
            cols.push(name.clone());
            back.push(1.0 / scale);
            for (i, v) in col.iter().enumerate() {
                values[i].push(v / scale);
            }
        }
    }
    let z = Covariates::new(cols, values).map_err(s)?;
    z.check_varies().map_err(s)?;
    Ok((z, back))
}

/// `clv fit` with covariates: the model named, its table, the coefficients with their effects
/// in words, the likelihood-ratio test, and the model file.
pub fn fit_with_covariates(
    sm: &RfmSummary,
    model: &str,
    opts: &FitOptions,
    a: &CovArgs,
    output: &Path,
) -> Res {
    let path = a.covariates.as_ref().expect("called with --covariates");
    if model == crate::GAMMA_GAMMA {
        return fit_spend(sm, opts, a, path, output);
    }
    if !a.spend_cov.is_empty() {
        return Err("--spend-cov goes with --model gamma-gamma".into());
    }
    if a.purchase_cov.is_empty() && a.dropout_cov.is_empty() && a.shared_cov.is_empty() {
        return Err("--covariates needs --purchase-cov, --dropout-cov and/or --shared-cov".into());
    }
    match model {
        "pareto-nbd" => run::<ParetoNbdParams>(sm, opts, a, path, output),
        "bgnbd" => run::<BgNbdParams>(sm, opts, a, path, output),
        "mbgnbd" => run::<MbgNbdParams>(sm, opts, a, path, output),
        "nbd" => run::<NbdParams>(sm, opts, a, path, output),
        other => Err(format!(
            "--covariates works with pareto-nbd, bgnbd, mbgnbd and nbd, not {other}"
        )),
    }
}

fn run<M: Covariated + FromRfm>(
    sm: &RfmSummary,
    opts: &FitOptions,
    a: &CovArgs,
    path: &Path,
    output: &Path,
) -> Res {
    let file = read_file(path)?;
    let mut said = DesignNotes::default();
    let (zt, bt) = if a.purchase_cov.is_empty() {
        (None, Vec::new())
    } else {
        let (z, b) = design(&file, path, sm, &a.purchase_cov, a, &mut said)?;
        (Some(z), b)
    };
    let (zl, bl) = if a.dropout_cov.is_empty() {
        (None, Vec::new())
    } else {
        let (z, b) = design(&file, path, sm, &a.dropout_cov, a, &mut said)?;
        (Some(z), b)
    };
    let (zs, bs) = if a.shared_cov.is_empty() {
        (None, Vec::new())
    } else {
        let (z, b) = design(&file, path, sm, &a.shared_cov, a, &mut said)?;
        (Some(z), b)
    };
    said.notes.sort();
    said.notes.dedup();
    // a process without covariates: a design with no columns
    let zt = match zt {
        Some(z) => z,
        None => Covariates::new(Vec::new(), vec![Vec::new(); sm.len()]).map_err(s)?,
    };
    if M::DROPOUT.is_empty() && (zl.is_some() || zs.is_some()) {
        return Err(format!(
            "{} has no dropout process: drop --dropout-cov and --shared-cov",
            M::LABEL
        ));
    }
    let no_dropout = Covariates::new(Vec::new(), vec![Vec::new(); sm.len()]).map_err(s)?;
    let mut input = if M::DROPOUT.is_empty() {
        CovariateSummary::purchase_only(sm, &zt).map_err(s)?
    } else {
        CovariateSummary::new(sm, &zt, zl.as_ref().unwrap_or(&no_dropout)).map_err(s)?
    };
    if let Some(zs) = &zs {
        input = input.with_shared(zs).map_err(s)?;
    }
    let base = fit::<M>(sm, opts).map_err(s)?;
    let f = fit::<WithCovariates<M>>(&input, opts).map_err(s)?;
    let warnings = f.warnings().to_vec();
    // coefficients per unit of the original columns
    let f = rescale(f, &bt, &[&bl[..], &bs[..]].concat())?;
    println!(
        "{} on {} customers, times in {}",
        <WithCovariates<M> as MaximumLikelihood>::LABEL,
        sm.len(),
        sm.unit()
    );
    for n in &said.notes {
        println!("  {n}");
    }
    print!("{}", parameter_table(&f));
    print_coefficients(&coefficients(&f), &said.references);
    let df = bt.len() + bl.len() + bs.len();
    test_and_write(&f, M::LABEL, base.log_likelihood(), df, &warnings, output)
}

/// The likelihood-ratio test of a covariate fit against the same model without covariates
/// (log-likelihood `base_ll`, `df` coefficients), the fit's warnings, and its model file.
fn test_and_write<M: MaximumLikelihood>(
    f: &Fitted<M>,
    label: &str,
    base_ll: f64,
    df: usize,
    warnings: &[clv::fit::FitWarning],
    output: &Path,
) -> Res {
    let lr = likelihood_ratio(f.log_likelihood(), base_ll, df).map_err(s)?;
    println!(
        "\nlikelihood-ratio test against {label} without covariates (log-likelihood {base_ll:.5}): \
         statistic {:.4} on {} df, p = {:.3e}",
        lr.statistic, lr.df, lr.p_value
    );
    for w in warnings {
        println!("{}: {w}", w.severity());
    }
    let json = ModelFile::from_fitted(f).to_json().map_err(s)?;
    write_atomic(output, json.as_bytes())?;
    eprintln!("model written to {}", output.display());
    Ok(())
}

/// The coefficient table and the effects in words (a category against its reference level,
/// a number per unit).
fn print_coefficients(
    table: &[clv::models::covariates::Coefficient],
    references: &HashMap<String, String>,
) {
    use clv::models::covariates::Process;
    println!(
        "\ncovariate        process      estimate     std.err        z   p-value  95% interval"
    );
    for c in table {
        let process = match c.process {
            Process::Purchase => "purchase",
            Process::Dropout => "dropout",
            Process::Spend => "spend",
            _ => "both",
        };
        let opt = |v: Option<f64>, w: usize, p: usize| {
            v.map_or(format!("{:>w$}", "-"), |v| format!("{v:>w$.p$}"))
        };
        println!(
            "{:<16} {:<9} {:>11.6} {} {} {}  {}",
            c.covariate,
            process,
            c.estimate,
            opt(c.se, 11, 6),
            opt(c.z, 8, 3),
            c.p_value
                .map_or(format!("{:>9}", "-"), |p| format!("{p:>9.2e}")),
            c.ci.map_or("-".into(), |(lo, hi)| format!("[{lo:.4}, {hi:.4}]"))
        );
    }
    println!();
    for c in table {
        let effect = match c.covariate.split_once('=') {
            Some((col, _)) => {
                let reference = references.get(col).map_or("the reference", String::as_str);
                c.effect
                    .replacen(": ", &format!(" (vs {col}={reference}): "), 1)
                    .trim_end_matches(" per unit")
                    .to_string()
            }
            None => c.effect.clone(),
        };
        println!("  {effect}");
    }
}

/// `clv fit --model gamma-gamma --covariates F --spend-cov A,B`.
fn fit_spend(sm: &RfmSummary, opts: &FitOptions, a: &CovArgs, path: &Path, output: &Path) -> Res {
    use clv::models::spend_covariates::{SpendCovariateSummary, SpendWithCovariates};
    if a.spend_cov.is_empty() {
        return Err("--model gamma-gamma with --covariates needs --spend-cov".into());
    }
    let file = read_file(path)?;
    let mut said = DesignNotes::default();
    let (z, back) = design(&file, path, sm, &a.spend_cov, a, &mut said)?;
    let input = SpendCovariateSummary::new(sm, &z).map_err(s)?;
    let base = fit::<clv::GammaGammaParams>(sm, opts).map_err(crate::commands::spend_error)?;
    let f = fit::<SpendWithCovariates>(&input, opts).map_err(crate::commands::spend_error)?;
    let warnings = f.warnings().to_vec();
    let f = rescale_any(f, 3, &back)?;
    println!("{} on {} customers", SpendWithCovariates::LABEL, sm.len());
    for n in &said.notes {
        println!("  {n}");
    }
    print!("{}", parameter_table(&f));
    print_coefficients(
        &clv::models::spend_covariates::coefficients(&f),
        &said.references,
    );
    test_and_write(
        &f,
        "Gamma-Gamma",
        base.log_likelihood(),
        back.len(),
        &warnings,
        output,
    )
}

/// The fit with each coefficient (and its covariance row and column) multiplied by its
/// column's factor: coefficients per unit of the original column.
fn rescale<M: Covariated>(
    f: Fitted<WithCovariates<M>>,
    bt: &[f64],
    bl: &[f64],
) -> Result<Fitted<WithCovariates<M>>, String> {
    rescale_any(f, M::NAMES.len(), &[bt, bl].concat())
}

/// [`rescale`] for any model: `base` parameters left alone, then one factor per coefficient.
fn rescale_any<T: MaximumLikelihood>(
    f: Fitted<T>,
    base: usize,
    coefficient_factors: &[f64],
) -> Result<Fitted<T>, String> {
    let factors: Vec<f64> = std::iter::repeat_n(1.0, base)
        .chain(coefficient_factors.iter().copied())
        .collect();
    if factors.iter().all(|&v| v == 1.0) {
        return Ok(f);
    }
    let theta: Vec<f64> = f
        .params()
        .to_vec()
        .iter()
        .zip(&factors)
        .map(|(t, k)| t * k)
        .collect();
    let params = f.params().with_values(&theta).map_err(s)?;
    let cov = f.covariance().map(|c| {
        c.iter()
            .enumerate()
            .map(|(i, row)| {
                row.iter()
                    .enumerate()
                    .map(|(j, v)| v * (factors[i] * factors[j]))
                    .collect()
            })
            .collect()
    });
    Fitted::from_parts(
        params,
        f.time_unit(),
        f.log_likelihood(),
        f.n_customers(),
        f.n_rows(),
        f.penalizer(),
        f.convergence().clone(),
        cov,
    )
    .map_err(s)
}

/// The spend model of a prediction: one Gamma-Gamma for everyone, or one with spend
/// covariates (each customer's own scale from the covariate file).
#[derive(Clone, Copy)]
pub enum Spend<'a> {
    /// The same for every customer.
    Plain(&'a clv::GammaGammaParams),
    /// Per customer, from their covariates.
    Covariates(&'a clv::models::spend_covariates::SpendWithCovariates),
}

/// One customer's predictions with their own parameters.
pub struct Prediction {
    pub p_alive: f64,
    pub expected_purchases: f64,
    pub prob_no_purchase: f64,
    /// (expected spend, CLV) with a spend model.
    pub value: Option<(f64, f64)>,
    /// The predictive interval of the purchases, when asked for.
    pub purchases_pi: Option<(u64, u64)>,
    /// The predictive interval of the CLV, when asked for with a spend model.
    pub clv_pi: Option<(f64, f64)>,
}

/// Predictive intervals: level, simulated futures per customer, seed.
#[derive(Clone, Copy)]
pub struct Intervals {
    pub level: f64,
    pub draws: usize,
    pub seed: u64,
}

/// The values of the design columns `names` (`Col` numeric, `Col=level` a category) of
/// customer `id` from the covariate file.
fn row_values(file: &CovFile, path: &Path, id: &str, names: &[String]) -> Result<Vec<f64>, String> {
    let row = file.rows.get(id).ok_or_else(|| {
        format!(
            "customer {id} has no row in {} (covariates are needed for every customer)",
            path.display()
        )
    })?;
    names
        .iter()
        .map(|n| {
            let (col, level) = match n.split_once('=') {
                Some((c, l)) => (c, Some(l)),
                None => (n.as_str(), None),
            };
            let j = file.columns.iter().position(|c| c == col).ok_or_else(|| {
                format!(
                    "{}: no column '{col}' (the model has a coefficient for it)",
                    path.display()
                )
            })?;
            let text = row[j].as_str();
            match level {
                Some(l) => Ok(if text == l { 1.0 } else { 0.0 }),
                None => text
                    .parse::<f64>()
                    .ok()
                    .filter(|v| v.is_finite())
                    .ok_or_else(|| {
                        format!("customer {id}: column '{col}' is '{text}', not a number")
                    }),
            }
        })
        .collect()
}

/// Predictions for every customer of `sm` from a model file with covariates (its model name
/// ends in `-cov`), each with their own parameters from `covariates`.
pub fn predict_with_covariates(
    file: &ModelFile,
    covariates: &Path,
    sm: &RfmSummary,
    horizon: f64,
    spend: Option<(Spend<'_>, &clv::value::ClvOptions)>,
    intervals: Option<Intervals>,
) -> Result<Vec<Prediction>, String> {
    let (f, c, h) = (file, covariates, horizon);
    match file.model.as_str() {
        "pareto-nbd-cov" => predict_as::<ParetoNbdParams>(f, c, sm, h, spend, intervals),
        "bgnbd-cov" => predict_as::<BgNbdParams>(f, c, sm, h, spend, intervals),
        "mbgnbd-cov" => predict_as::<MbgNbdParams>(f, c, sm, h, spend, intervals),
        "nbd-cov" => predict_as::<NbdParams>(f, c, sm, h, spend, intervals),
        other => Err(format!("'{other}' is not a model with covariates")),
    }
}

fn predict_as<M: Covariated + clv::TransactionModel + clv::future::FuturePurchases>(
    file: &ModelFile,
    path: &Path,
    sm: &RfmSummary,
    horizon: f64,
    spend: Option<(Spend<'_>, &clv::value::ClvOptions)>,
    intervals: Option<Intervals>,
) -> Result<Vec<Prediction>, String> {
    use clv::SpendModel;
    let f = file.to_fitted::<WithCovariates<M>>().map_err(s)?;
    if sm.unit() != f.time_unit() {
        return Err(format!(
            "the summary is in {} but the model in {}",
            sm.unit(),
            f.time_unit()
        ));
    }
    let cov = read_file(path)?;
    let m = f.params();
    let names = |c: &[(String, f64)]| c.iter().map(|p| p.0.clone()).collect::<Vec<_>>();
    let (pn, dn, sn) = (
        names(m.purchase_coefficients()),
        names(m.dropout_coefficients()),
        names(m.shared_coefficients()),
    );
    let mv = sm.monetary_value();
    (0..sm.len())
        .map(|i| {
            let id = &sm.ids()[i];
            let own = m
                .for_customer_with(
                    &row_values(&cov, path, id, &pn)?,
                    &row_values(&cov, path, id, &dn)?,
                    &row_values(&cov, path, id, &sn)?,
                )
                .map_err(|e| format!("customer {id}: {e}"))?;
            let c = sm.customer(i);
            let sc = own.score(&c, horizon);
            let value = match (spend, mv) {
                (Some((spend, o)), Some(mv)) => {
                    let gg = match spend {
                        Spend::Plain(g) => *g,
                        Spend::Covariates(m) => {
                            let names: Vec<String> =
                                m.coefficients().iter().map(|p| p.0.clone()).collect();
                            m.for_customer(&row_values(&cov, path, id, &names)?)
                                .map_err(|e| format!("customer {id}: {e}"))?
                        }
                    };
                    let es = gg
                        .conditional_expected_spend(c.frequency(), mv[i])
                        .map_err(s)?;
                    let v = clv::value::customer_value(&own, &gg, &c, mv[i], o).map_err(s)?;
                    Some((es, v, gg, *o))
                }
                (Some(_), None) => {
                    return Err("the summary has no monetary_value column for CLV".into());
                }
                _ => None,
            };
            // each customer's own model: the purchase quantiles of its conditional pmf, the
            // CLV from simulated futures (seeded per customer)
            let (mut purchases_pi, mut clv_pi) = (None, None);
            if let Some(iv) = intervals {
                let p = clv::predictive::purchase_interval(&own, &c, horizon, iv.level)
                    .map_err(|e| format!("customer {id}: {e}"))?;
                purchases_pi = Some((p.low, p.high));
                if let (Some((_, _, gg, o)), Some(mv)) = (&value, mv) {
                    let seed = iv.seed ^ (i as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
                    let v = clv::predictive::value_interval(
                        &own, gg, &c, mv[i], o, iv.level, iv.draws, seed,
                    )
                    .map_err(|e| format!("customer {id}: {e}"))?;
                    clv_pi = Some((v.low, v.high));
                }
            }
            Ok(Prediction {
                p_alive: sc.p_alive,
                expected_purchases: sc.expected_purchases,
                prob_no_purchase: sc.prob_no_purchase,
                value: value.map(|(es, v, _, _)| (es, v)),
                purchases_pi,
                clv_pi,
            })
        })
        .collect()
}
