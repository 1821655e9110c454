//! `clv compare`: fit every applicable model on one summary and compare them.

use crate::commands::{Res, fmt_num, s};
use crate::output::write_atomic;
use clv::compare::{CompareOptions, Comparison, compare};
use clv::io::{SummaryUnit, read_summary_csv};
use clv::{FitOptions, TimeUnit};
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct CompareArgs {
    /// Summary CSV (with the holdout columns `clv summarize --observation-end` writes, the
    /// models are also compared on how they predict each customer's holdout purchases).
    #[arg(long)]
    summary: PathBuf,
    /// Models to compare, comma-separated (default: every transaction model).
    #[arg(long, value_delimiter = ',')]
    models: Option<Vec<String>>,
    /// Time unit of a summary that does not record one; default week.
    #[arg(long, value_enum)]
    unit: Option<crate::Unit>,
    /// Output CSV, one row per model.
    #[arg(short, long)]
    output: PathBuf,
}

/// The CSV columns, in order.
pub const COLUMNS: &str = "model,k,n_params,log_likelihood,aic,bic,converged,holdout_actual,\
holdout_predicted,bias,mae,msle,recommended";

pub fn run(a: CompareArgs) -> Res {
    let how = match a.unit {
        Some(u) => SummaryUnit::Expect(u.into()),
        None => SummaryUnit::RecordedOr(TimeUnit::Weeks),
    };
    let summary = read_summary_csv(&a.summary, how).map_err(s)?;
    let mut opts = CompareOptions::default().with_fit_options(FitOptions::default());
    if let Some(m) = &a.models {
        opts = opts.with_models(m).map_err(s)?;
    }
    let t0 = std::time::Instant::now();
    let table = compare(&summary, &opts).map_err(s)?;
    print!("{}", render(&table));
    println!(
        "({} models on {} customers in {:.0} ms)",
        table.rows().len(),
        summary.len(),
        t0.elapsed().as_secs_f64() * 1e3
    );
    write_atomic(&a.output, to_csv(&table).as_bytes())?;
    eprintln!("comparison written to {}", a.output.display());
    Ok(())
}

/// The CSV: one row per model (empty fields where a model did not fit or there is no
/// holdout).
pub fn to_csv(t: &Comparison) -> String {
    let mut out = String::from(COLUMNS);
    out.push('\n');
    let num = |v: f64| {
        if v.is_finite() {
            fmt_num(v)
        } else {
            String::new()
        }
    };
    for r in t.rows() {
        let h = r.holdout;
        let hv = |f: fn(&clv::compare::HoldoutFit) -> f64| {
            h.as_ref().map_or(String::new(), |h| fmt_num(f(h)))
        };
        out.push_str(&format!(
            "{},{},{},{},{},{},{},{},{},{},{},{},{}\n",
            r.model,
            r.k.map_or(String::new(), |k| k.to_string()),
            r.n_params,
            num(r.log_likelihood()),
            num(r.aic()),
            num(r.bic()),
            r.converged(),
            hv(|h| h.actual),
            hv(|h| h.predicted),
            hv(|h| h.bias),
            hv(|h| h.mae),
            hv(|h| h.msle),
            r.recommended,
        ));
    }
    out
}

/// The table people read: one line per model, the likelihood-ratio tests, the recommendation.
pub fn render(t: &Comparison) -> String {
    let mut out = format!(
        "{:<12} {:>2} {:>14} {:>10} {:>10}",
        "model", "k", "log-lik", "AIC", "BIC"
    );
    if t.has_holdout() {
        out.push_str(&format!(
            " {:>9} {:>9} {:>8} {:>7} {:>7}",
            "actual", "predicted", "bias", "MAE", "MSLE"
        ));
    }
    out.push('\n');
    for r in t.rows() {
        let mark = if r.recommended {
            "  <- recommended"
        } else {
            ""
        };
        let k = r.k.map_or(String::new(), |k| k.to_string());
        match &r.fit {
            Err(e) => out.push_str(&format!("{:<12} {k:>2} did not fit: {e}\n", r.model)),
            Ok(_) => {
                out.push_str(&format!(
                    "{:<12} {k:>2} {:>14.4} {:>10.2} {:>10.2}",
                    r.model,
                    r.log_likelihood(),
                    r.aic(),
                    r.bic()
                ));
                if let Some(h) = r.holdout {
                    out.push_str(&format!(
                        " {:>9.0} {:>9.1} {:>8.4} {:>7.4} {:>7.4}",
                        h.actual, h.predicted, h.bias, h.mae, h.msle
                    ));
                }
                if !r.converged() {
                    out.push_str("  (not converged)");
                }
                out.push_str(mark);
                out.push('\n');
            }
        }
    }
    if !t.tests().is_empty() {
        out.push_str("likelihood-ratio tests (nested pairs; p conservative: the restriction is on a boundary)\n");
        for lr in t.tests() {
            if lr.p_value.is_nan() {
                out.push_str(&format!(
                    "  {} within {} (k = 1): 2ΔLL = {:.2} (k is a whole number: no χ² p-value)\n",
                    lr.restricted, lr.full, lr.statistic
                ));
            } else {
                out.push_str(&format!(
                    "  {} within {}: 2ΔLL = {:.2} on {} df, p = {:.3e}\n",
                    lr.restricted, lr.full, lr.statistic, lr.df, lr.p_value
                ));
            }
        }
    }
    out.push_str(&format!(
        "recommended: {} ({})\n",
        t.recommended().model,
        t.reason()
    ));
    out
}
