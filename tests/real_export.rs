//! Acceptance for real exports (issue 16): a generated retail export with the usual dirt
//! (guest lines without a customer id, `C` cancellations, partial returns, a 77,000 order
//! cancelled the same day, free items, lines after the observation end, `;` and decimal
//! commas, day-first timestamps, gzip) goes through summarize → fit → predict → report with
//! flags only, and gives the same summary, models, predictions and report as the pipeline fed
//! the hand-cleaned file.
//!
//! The test runs on about 18,000 lines; the 1M-line run is
//! `cargo build --release --example clv && cargo test --release --test real_export -- --ignored
//! --nocapture` (a test target alone does not rebuild the binary it runs).

use std::path::{Path, PathBuf};
use std::process::Command;

#[path = "support/dirty_log.rs"]
mod dirty_log;

fn bin() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let p = exe
        .parent()?
        .parent()?
        .join("examples")
        .join(format!("clv{}", std::env::consts::EXE_SUFFIX));
    p.exists().then_some(p)
}

/// Runs the binary; its stderr on success, a panic with it on failure.
fn run(bin: &Path, args: &[&str]) -> String {
    let out = Command::new(bin).args(args).output().expect("runs");
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{args:?}: {err}");
    err
}

/// The lines of a CSV file, sorted (the pipelines may list customers in another order).
fn sorted_lines(p: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_to_string(p)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    v.sort();
    v
}

/// The pipeline on one log: summary, BG/NBD and Gamma-Gamma models, predictions, report.
/// Returns the summarize step's stderr (the data-quality account).
fn pipeline(bin: &Path, log: &Path, out: &Path, flags: &[&str]) -> String {
    std::fs::create_dir_all(out).unwrap();
    let p = |name: &str| out.join(name).to_str().unwrap().to_string();
    let mut args = vec![
        "summarize",
        "--transactions",
        log.to_str().unwrap(),
        "--calibration-end",
        dirty_log::CALIBRATION_END,
        "--observation-end",
        dirty_log::OBSERVATION_END,
    ];
    args.extend_from_slice(flags);
    let summary = p("summary.csv");
    args.extend(["-o", &summary]);
    let account = run(bin, &args);
    let (bg, gg) = (p("bg.json"), p("gg.json"));
    run(bin, &["fit", "--summary", &summary, "-o", &bg]);
    run(
        bin,
        &[
            "fit",
            "--summary",
            &summary,
            "--model",
            "gamma-gamma",
            "-o",
            &gg,
        ],
    );
    let pred = p("predict.csv");
    run(
        bin,
        &[
            "predict",
            "--model",
            &bg,
            "--spend-model",
            &gg,
            "--summary",
            &summary,
            "--horizon",
            "52",
            "--discount-rate",
            "0.1",
            "-o",
            &pred,
        ],
    );
    let mut args = vec![
        "report",
        "--transactions",
        log.to_str().unwrap(),
        "--calibration-end",
        dirty_log::CALIBRATION_END,
        "--observation-end",
        dirty_log::OBSERVATION_END,
        "--spend",
        "--quiet",
    ];
    args.extend_from_slice(flags);
    let report = p("report");
    args.extend(["-o", &report]);
    run(bin, &args);
    account
}

const DIRTY_FLAGS: &[&str] = &[
    "--quantity-col",
    "Quantity",
    "--price-col",
    "Price",
    "--decimal-comma",
    "--skip-missing-customer",
    "--returns",
    "net",
    "--cancel-prefix",
    "C",
    "--drop-zero-amounts",
];

/// A model file's contents (they name neither input nor time: equal fits, equal files).
fn model_numbers(p: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

/// The two files hold the same lines (in any order); on failure, the first difference.
fn assert_same(a: &Path, b: &Path) {
    let (x, y) = (sorted_lines(a), sorted_lines(b));
    if let Some((l, r)) = x.iter().zip(&y).find(|(l, r)| l != r) {
        panic!("{} and {} differ: {l} vs {r}", a.display(), b.display());
    }
    assert_eq!(x.len(), y.len(), "{} and {}", a.display(), b.display());
}

fn check(customers: usize, seed: u64) -> String {
    let Some(bin) = bin() else {
        eprintln!("skipping: example binary not built");
        return String::new();
    };
    let dir = std::env::temp_dir().join(format!(
        "clv-real-export-{}-{customers}",
        std::process::id()
    ));
    let log = dirty_log::write(&dir, customers, seed);
    let account = pipeline(&bin, &log.dirty, &dir.join("dirty"), DIRTY_FLAGS);
    pipeline(&bin, &log.clean, &dir.join("clean"), &[]);
    // the flags said what they did, and the account adds up to the lines read
    assert!(
        account.contains(
            "columns (fields separated by ';'): customer 'Customer ID', date \
                          'InvoiceDate', amount = 'Quantity' × 'Price', invoice 'Invoice'"
        ),
        "{account}"
    );
    assert!(
        account.contains(&format!("data quality: {} lines read", log.lines)),
        "{account}"
    );
    assert!(
        account.contains(&format!("{} without a customer id", log.guest_lines)),
        "{account}"
    );
    assert!(
        account.contains("200 dated after the summary's end"),
        "{account}"
    );
    let (d, c) = (dir.join("dirty"), dir.join("clean"));
    assert_same(&d.join("summary.csv"), &c.join("summary.csv"));
    for m in ["bg.json", "gg.json"] {
        assert_eq!(model_numbers(&d.join(m)), model_numbers(&c.join(m)), "{m}");
    }
    assert_same(&d.join("predict.csv"), &c.join("predict.csv"));
    assert_same(
        &d.join("report/customers.csv"),
        &c.join("report/customers.csv"),
    );
    // no customer is worth the cancelled 77,000 orders
    let max_clv = sorted_lines(&d.join("predict.csv"))
        .iter()
        .filter_map(|l| l.rsplit(',').next()?.parse::<f64>().ok())
        .fold(0.0, f64::max);
    assert!(max_clv < 5_000.0, "{max_clv}");
    assert_eq!(log.big_orders, 6);
    let _ = std::fs::remove_dir_all(&dir);
    account
}

#[test]
fn a_dirty_export_gives_what_the_hand_cleaned_file_gives() {
    let account = check(2_000, 3);
    eprintln!("{account}");
}

/// The 1M-line version (about 112,000 customers): the account it prints is quoted in the
/// issue's closing note.
#[test]
#[ignore = "1M lines: run with --release --ignored"]
fn a_million_line_dirty_export() {
    let account = check(112_000, 5);
    eprintln!("{account}");
}
