//! End-to-end runs of the `clv` example binary (built by `cargo test` along with the tests):
//! the demo, a summarize → fit → predict round trip, and user mistakes giving one line on
//! stderr, a non-zero exit and no output file.

use std::path::PathBuf;
use std::process::{Command, Output};

fn bin() -> Option<PathBuf> {
    // target/<profile>/deps/cli-<hash> -> target/<profile>/examples/clv
    let exe = std::env::current_exe().ok()?;
    let p = exe
        .parent()?
        .parent()?
        .join("examples")
        .join(format!("clv{}", std::env::consts::EXE_SUFFIX));
    p.exists().then_some(p)
}

fn run(args: &[&str]) -> Option<Output> {
    let b = bin().or_else(|| {
        eprintln!("skipping: example binary not built");
        None
    })?;
    Some(Command::new(b).args(args).output().expect("runs"))
}

fn data(name: &str) -> String {
    format!("{}/data/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("clv-cli-test-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d.join(name)
}

#[test]
fn demo_fits_cdnow_and_lists_customers() {
    let Some(out) = run(&["demo", "--top", "3"]) else {
        return;
    };
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("r              0.2426"), "{text}");
    assert!(text.contains("Top 3 customers"));
    assert!(text.contains("converged: true"));
}

#[test]
fn summarize_fit_predict_round_trip() {
    let (s, bg, gg, p) = (tmp("s.csv"), tmp("bg.json"), tmp("gg.json"), tmp("p.csv"));
    let st = |o: Option<Output>| {
        o.map(|o| assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr)))
    };
    let Some(_) = st(run(&[
        "summarize",
        "--transactions",
        &data("CDNOW_sample.txt"),
        "--format",
        "cdnow-sample",
        "--calibration-end",
        "1997-09-30",
        "--observation-end",
        "1998-06-30",
        "-o",
        s.to_str().unwrap(),
    ])) else {
        return;
    };
    let summary = std::fs::read_to_string(&s).unwrap();
    assert!(summary.starts_with("customer_id,frequency,recency,T,monetary_value,frequency_holdout,monetary_value_holdout,duration_holdout\n0001,2,"));
    assert_eq!(summary.lines().count(), 2358);
    st(run(&[
        "fit",
        "--summary",
        s.to_str().unwrap(),
        "--model",
        "bgnbd",
        "-o",
        bg.to_str().unwrap(),
    ]));
    st(run(&[
        "fit",
        "--summary",
        s.to_str().unwrap(),
        "--model",
        "gamma-gamma",
        "-o",
        gg.to_str().unwrap(),
    ]));
    let model: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&bg).unwrap()).unwrap();
    for key in [
        "model",
        "format_version",
        "params",
        "standard_errors",
        "covariance",
        "log_likelihood",
        "n_customers",
        "convergence",
    ] {
        assert!(model.get(key).is_some(), "model file lacks {key}");
    }
    st(run(&[
        "predict",
        "--model",
        bg.to_str().unwrap(),
        "--spend-model",
        gg.to_str().unwrap(),
        "--summary",
        s.to_str().unwrap(),
        "--horizon",
        "52",
        "--step",
        "13",
        "--discount-rate",
        "0.1",
        "--margin",
        "0.3",
        "-o",
        p.to_str().unwrap(),
    ]));
    let pred = std::fs::read_to_string(&p).unwrap();
    assert!(pred.starts_with(
        "customer_id,p_alive,expected_purchases,prob_no_purchase,expected_spend,clv\n0001,0.72"
    ));
}

#[test]
fn user_mistakes_are_one_line_errors_without_output() {
    let out_path = tmp("never.csv");
    let cases: Vec<Vec<String>> = vec![
        vec![
            "predict".into(),
            "--model".into(),
            data("missing.json"),
            "--summary".into(),
            data("cdnow_customers_summary.csv"),
            "--horizon".into(),
            "10".into(),
            "-o".into(),
            out_path.to_str().unwrap().into(),
        ],
        vec![
            "summarize".into(),
            "--transactions".into(),
            data("cdnow_customers_summary.csv"),
            "--calibration-end".into(),
            "1997-09-30".into(),
            "-o".into(),
            out_path.to_str().unwrap().into(),
        ],
        vec![
            "summarize".into(),
            "--transactions".into(),
            data("CDNOW_sample.txt"),
            "--format".into(),
            "cdnow-sample".into(),
            "--calibration-end".into(),
            "1997-13-30".into(),
            "-o".into(),
            out_path.to_str().unwrap().into(),
        ],
    ];
    for args in cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let Some(out) = run(&args) else { return };
        assert!(!out.status.success());
        let err = String::from_utf8(out.stderr).unwrap();
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
        assert!(err.starts_with("error: "), "{err}");
        assert!(!out_path.exists());
    }
}
