//! Tables for the terminal and atomic file output.

use clv::fit::{Fitted, MaximumLikelihood};
use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Set by the global `--quiet` flag.
pub static QUIET: AtomicBool = AtomicBool::new(false);

/// Spinners for long steps on stderr, drawn only when stderr is a terminal and without
/// `--quiet` (so logs and pipes stay clean).
pub struct Progress {
    on: bool,
    start: Instant,
}

impl Progress {
    pub fn new() -> Self {
        Progress {
            on: !QUIET.load(Ordering::Relaxed) && std::io::stderr().is_terminal(),
            start: Instant::now(),
        }
    }
    /// A spinner with `msg` and the elapsed time, until [`done`](Self::done).
    pub fn step(&self, msg: &str) -> ProgressBar {
        if !self.on {
            return ProgressBar::hidden();
        }
        let pb = ProgressBar::new_spinner();
        pb.set_style(ProgressStyle::with_template("{spinner} {msg} {elapsed}").expect("valid"));
        pb.set_message(msg.to_string());
        pb.enable_steady_tick(Duration::from_millis(100));
        pb
    }
    /// Ends a step, leaving `msg` on the line (nothing when the bar is hidden).
    pub fn done(&self, pb: ProgressBar, msg: String) {
        pb.finish_with_message(msg);
    }
    /// Time since the start.
    pub fn elapsed(&self) -> Duration {
        self.start.elapsed()
    }
}
use std::fmt::Write as _;
use std::path::Path;

/// Writes `contents` to `path` through a temporary file in the same folder and a rename, so a
/// failed run never leaves a partial output file.
pub fn write_atomic(path: &Path, contents: &[u8]) -> Result<(), String> {
    let tmp = temp_beside(path)?;
    std::fs::write(&tmp, contents).map_err(|e| format!("cannot write {}: {e}", tmp.display()))?;
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        format!("cannot write {}: {e}", path.display())
    })
}

/// A temporary file name beside `path` (same directory, so a rename moves it into place).
pub fn temp_beside(path: &Path) -> Result<std::path::PathBuf, String> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .ok_or_else(|| format!("{} is not a file path", path.display()))?;
    Ok(dir.join(format!(
        ".{}.tmp-{}",
        name.to_string_lossy(),
        std::process::id()
    )))
}

/// The parameter table: estimate, standard error, 95% interval; then fit statistics.
pub fn parameter_table<M: MaximumLikelihood>(f: &Fitted<M>) -> String {
    table(&Table::of(f))
}

/// [`parameter_table`] for a transaction model of any kind.
pub fn any_parameter_table(f: &clv::AnyFitted) -> String {
    table(&Table::of_any(f))
}

impl<'a> Table<'a> {
    /// The table of a typed fitted model.
    pub fn of<M: MaximumLikelihood>(f: &'a Fitted<M>) -> Self {
        Table {
            names: f.names(),
            theta: f.params().to_vec(),
            se: f.standard_errors(),
            ci: f.confidence_intervals(0.95),
            ll: f.log_likelihood(),
            aic: f.aic(),
            bic: f.bic(),
            n: f.n_customers(),
            rows: f.n_rows(),
            c: f.convergence(),
            warnings: f.warnings(),
        }
    }

    /// The table of a transaction model of any kind.
    pub fn of_any(f: &'a clv::AnyFitted) -> Self {
        Table {
            names: f.names().iter().map(|n| n.to_string()).collect(),
            theta: f.estimates(),
            se: f.standard_errors(),
            ci: f.confidence_intervals(0.95),
            ll: f.log_likelihood(),
            aic: f.aic(),
            bic: f.bic(),
            n: f.n_customers(),
            rows: f.n_rows(),
            c: f.convergence(),
            warnings: f.warnings(),
        }
    }
}

/// What a parameter table shows, from any fitted model.
pub struct Table<'a> {
    pub names: Vec<String>,
    pub theta: Vec<f64>,
    pub se: Option<Vec<f64>>,
    pub ci: Option<Vec<(f64, f64)>>,
    pub ll: f64,
    pub aic: f64,
    pub bic: f64,
    pub n: f64,
    pub rows: usize,
    pub c: &'a clv::fit::Convergence,
    pub warnings: &'a [clv::fit::FitWarning],
}

fn table(t: &Table) -> String {
    let mut s = String::new();
    // the name column fits the longest name (covariate coefficients: purchase[Channel])
    let w = t.names.iter().map(String::len).max().unwrap_or(0).max(8);
    let _ = writeln!(
        s,
        "{:<w$} {:>12} {:>12} {:>25}",
        "param", "estimate", "std.err", "95% interval"
    );
    for (i, name) in t.names.iter().enumerate() {
        // a standard error of exactly 0 is a whole-number parameter chosen by likelihood (the
        // Erlang order k): conditioned on, not estimated with an error
        let chosen = t.se.as_ref().is_some_and(|v| v[i] == 0.0);
        let se_s = match &t.se {
            _ if chosen => "chosen".to_string(),
            Some(v) => format!("{:.4}", v[i]),
            None => "-".to_string(),
        };
        let ci_s = match &t.ci {
            Some(v) if !chosen => format!("[{:.4}, {:.4}]", v[i].0, v[i].1),
            _ => "-".to_string(),
        };
        let _ = writeln!(
            s,
            "{:<w$} {:>12.4} {:>12} {:>25}",
            name, t.theta[i], se_s, ci_s
        );
    }
    let _ = writeln!(
        s,
        "log-likelihood {:.4}   AIC {:.2}   BIC {:.2}   customers {}   rows fitted {}",
        t.ll, t.aic, t.bic, t.n, t.rows
    );
    let c = t.c;
    let _ = writeln!(
        s,
        "converged: {} ({}; {} iterations, |gradient| {:.1e}, {}, Hessian positive definite: {})",
        c.converged, c.reason, c.iterations, c.gradient_norm, c.method, c.hessian_positive_definite
    );
    s
}
