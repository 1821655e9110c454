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
    assert!(summary.starts_with("customer_id,frequency,recency,T,monetary_value,litt,frequency_holdout,monetary_value_holdout,duration_holdout,time_unit\n0001,2,"));
    assert_eq!(summary.lines().count(), 2358);
    // the summary the Python package's summarize, its DuckDB SQL and its Spark function are
    // checked against, digit for digit
    assert_eq!(summary, include_str!("data/cdnow_log_summary.csv"));
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
    // intervals: the expected values' (ci) and what customers will do (pi), named apart
    let out = run(&[
        "predict",
        "--model",
        bg.to_str().unwrap(),
        "--spend-model",
        gg.to_str().unwrap(),
        "--summary",
        s.to_str().unwrap(),
        "--horizon",
        "39",
        "--intervals",
        "0.9",
        "--draws",
        "20",
        "--pi-draws",
        "200",
        "-o",
        p.to_str().unwrap(),
    ])
    .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("actual purchases inside the 90% predictive interval"),
        "{err}"
    );
    let pred = std::fs::read_to_string(&p).unwrap();
    let header: Vec<&str> = pred.lines().next().unwrap().split(',').collect();
    assert_eq!(
        header[6..],
        [
            "p_alive_ci_low",
            "p_alive_ci_high",
            "expected_purchases_ci_low",
            "expected_purchases_ci_high",
            "clv_ci_low",
            "clv_ci_high",
            "purchases_pi_low",
            "purchases_pi_high",
            "clv_pi_low",
            "clv_pi_high"
        ]
    );
    for line in pred.lines().skip(1) {
        let v: Vec<f64> = line
            .split(',')
            .skip(1)
            .map(|t| t.parse().unwrap())
            .collect();
        let (lo, hi) = (v[v.len() - 2], v[v.len() - 1]);
        assert!(0.0 <= lo && lo <= hi, "{line}");
    }

    // drivers: CLV now and under each lever, by stage, with CLV/CAC
    let drv = tmp("drivers.csv");
    let out = run(&[
        "drivers",
        "--model",
        bg.to_str().unwrap(),
        "--spend-model",
        gg.to_str().unwrap(),
        "--summary",
        s.to_str().unwrap(),
        "--horizon",
        "52",
        "--discount-rate",
        "0.1",
        "--margin",
        "0.3",
        "--segment-by",
        "stage",
        "--acquisition-cost",
        "20",
        "-o",
        drv.to_str().unwrap(),
    ])
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let table = String::from_utf8(out.stdout).unwrap();
    assert!(
        table.contains("+10% purchase rate") && table.contains("CLV/CAC"),
        "{table}"
    );
    let text = std::fs::read_to_string(&drv).unwrap();
    let rows: Vec<Vec<f64>> = text
        .lines()
        .skip(1)
        .map(|l| l.split(',').skip(1).map(|v| v.parse().unwrap()).collect())
        .collect();
    assert_eq!(rows.len(), 4, "{text}"); // all, active, at risk, likely churned
    for r in &rows {
        // order value +10%: exactly; purchase rate and dropout: up; margin 0.3 -> 0.31
        assert!((r[4] - 0.1).abs() < 1e-12, "{text}");
        assert!(r[6] > 0.0 && r[6] < 0.1 && r[8] > 0.0, "{text}");
        assert!((r[10] - 0.01 / 0.3).abs() < 1e-12, "{text}");
        assert!((r[11] - r[2] / 20.0).abs() < 1e-12, "{text}");
    }
    assert_eq!(rows[0][0] as usize, 2357);
    // the figures docs/cli.md quotes for the whole base: +7.85% and +2.08%
    assert!((rows[0][6] - 0.0785).abs() < 5e-5, "{text}");
    assert!((rows[0][8] - 0.0208).abs() < 5e-5, "{text}");
    assert!((rows[1..].iter().map(|r| r[1]).sum::<f64>() - rows[0][1]).abs() < 1e-6);

    // segments: one row per customer, stable columns, the summary tables on stdout
    let seg = tmp("seg.csv");
    let out = run(&[
        "segment",
        "--model",
        bg.to_str().unwrap(),
        "--spend-model",
        gg.to_str().unwrap(),
        "--summary",
        s.to_str().unwrap(),
        "--horizon",
        "52",
        "-o",
        seg.to_str().unwrap(),
    ])
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let table = String::from_utf8(out.stdout).unwrap();
    assert!(
        table.contains("Lifecycle stages") && table.contains("top 1%"),
        "{table}"
    );
    let text = std::fs::read_to_string(&seg).unwrap();
    assert!(text.starts_with(
        "customer_id,stage,p_alive,expected_purchases,clv,tier,r,f,m,rfm\n0001,active,0.72"
    ));
    assert_eq!(text.lines().count(), 2358);
    // the stage counts docs/cli.md quotes (1702 / 454 / 201 before the silence rule)
    let count = |stage: &str| {
        text.lines()
            .filter(|l| l.split(',').nth(1) == Some(stage))
            .count()
    };
    assert_eq!(
        (count("active"), count("at risk"), count("likely churned")),
        (291, 471, 1595)
    );

    // cohorts: CDNOW's three monthly acquisition cohorts
    let coh = tmp("coh.csv");
    let out = run(&[
        "cohorts",
        "--transactions",
        &data("CDNOW_sample.txt"),
        "--format",
        "cdnow-sample",
        "--calibration-end",
        "1997-09-30",
        "--observation-end",
        "1998-06-30",
        "--model",
        bg.to_str().unwrap(),
        "--horizon",
        "52",
        "-o",
        coh.to_str().unwrap(),
    ])
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&coh).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "cohort,customers,repeat_rate,churn_rate,likely_churned_rate,historical_total,historical_mean,predicted_expected_purchases_total,predicted_expected_purchases_mean,holdout_active_rate"
    );
    assert_eq!(lines.len(), 4);
    assert!(lines[1].starts_with("1997-01,781,"));
    // the likely churned share and the holdout's active share roughly complement each other
    let f: Vec<&str> = lines[1].split(',').collect();
    let (churned, active): (f64, f64) = (f[4].parse().unwrap(), f[9].parse().unwrap());
    assert!(
        (churned - 0.713).abs() < 0.001 && (active - 0.273).abs() < 0.001,
        "{churned} {active}"
    );
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

/// Bad data files and options through every subcommand: one line on stderr naming the problem,
/// a failing exit status, and no output file (outputs are written to a temporary file and
/// renamed only on success).
#[test]
fn bad_files_and_options_fail_cleanly_in_every_subcommand() {
    let write = |name: &str, bytes: &[u8]| {
        let p = tmp(name);
        std::fs::write(&p, bytes).unwrap();
        p.to_str().unwrap().to_string()
    };
    let bad_summary = write(
        "bad_summary.csv",
        b"customer_id,frequency,recency,T\na,1,2,10\nb,1,12,10\n",
    );
    let no_repeat = write(
        "no_repeat.csv",
        b"customer_id,frequency,recency,T\na,0,0,10\nb,0,0,12\nc,0,0,7\n",
    );
    let not_utf8 = write(
        "not_utf8.csv",
        b"id,date,amount\na,2024-01-01,5\nb,2024-01-\xff2,5\n",
    );
    let crlf_bom = write(
        "crlf.csv",
        b"\xef\xbb\xbfid,date,amount\r\n\"a\",2024-01-01,5\r\na,2024-02-01,6\r\n",
    );
    let summary = data("cdnow_customers_summary.csv");
    let model = tmp("mistakes-bg.json");
    let model = model.to_str().unwrap();
    let Some(fit) = run(&["fit", "--summary", &summary, "-o", model]) else {
        return;
    };
    assert!(fit.status.success());
    let json = std::fs::read_to_string(model).unwrap();
    let wrong_version = write(
        "v99.json",
        json.replace("\"format_version\": 2", "\"format_version\": 99")
            .as_bytes(),
    );
    let out = tmp("never2.csv");
    let out = out.to_str().unwrap();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["fit", "--summary", &bad_summary, "-o", out],
            "error: row 2 (customer b): recency recency 12 is later than the age T = 10",
        ),
        (vec!["fit", "--summary", &no_repeat, "-o", out], "error: "),
        (
            vec![
                "summarize",
                "--transactions",
                &not_utf8,
                "--calibration-end",
                "2024-03-31",
                "-o",
                out,
            ],
            "error: row 2: date is not valid UTF-8",
        ),
        (
            vec![
                "summarize",
                "--transactions",
                &crlf_bom,
                "--calibration-end",
                "2024-01-15",
                "--strict",
                "-o",
                out,
            ],
            "--strict: lines would be left out: 2 lines read, 1 used; left out: 1 dated after \
             the summary's end",
        ),
        (
            vec![
                "predict",
                "--model",
                model,
                "--summary",
                &summary,
                "--horizon",
                "-1",
                "-o",
                out,
            ],
            "error: invalid option horizon: must be finite and > 0, got -1",
        ),
        (
            vec![
                "predict",
                "--model",
                &wrong_version,
                "--summary",
                &summary,
                "--horizon",
                "10",
                "-o",
                out,
            ],
            "format_version 99 is not supported",
        ),
        (
            vec![
                "predict",
                "--model",
                model,
                "--spend-model",
                model,
                "--summary",
                &summary,
                "--horizon",
                "10",
                "-o",
                out,
            ],
            "holds a 'bgnbd' model, expected 'gamma_gamma'",
        ),
    ];
    for (args, want) in cases {
        let Some(o) = run(&args) else { return };
        let err = String::from_utf8(o.stderr).unwrap();
        assert!(!o.status.success(), "{args:?} succeeded");
        assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: {err}");
        assert!(err.contains(want), "{args:?}: {err}");
        assert!(!std::path::Path::new(out).exists(), "{args:?} wrote output");
    }
}

/// The texts and the polylines (stroke colour, number of points) of an SVG, which must be
/// well-formed XML.
fn svg_parts(path: &std::path::Path) -> (Vec<String>, Vec<(String, usize)>, usize) {
    let text = std::fs::read_to_string(path).unwrap();
    let doc = roxmltree::Document::parse(&text)
        .unwrap_or_else(|e| panic!("{} is not well-formed: {e}", path.display()));
    assert_eq!(doc.root_element().tag_name().name(), "svg");
    let texts = doc
        .descendants()
        .filter(|n| n.has_tag_name("text"))
        .filter_map(|n| n.text().map(|t| t.trim().to_string()))
        .collect();
    let lines = doc
        .descendants()
        .filter(|n| n.has_tag_name("polyline"))
        .map(|n| {
            (
                n.attribute("stroke").unwrap_or("").to_ascii_uppercase(),
                n.attribute("points")
                    .unwrap_or("")
                    .split_whitespace()
                    .count(),
            )
        })
        .collect();
    let rects = doc.descendants().filter(|n| n.has_tag_name("rect")).count();
    (texts, lines, rects)
}

#[test]
fn report_writes_wellformed_plots_and_a_selfcontained_page() {
    let dir = tmp("report");
    let Some(out) = run(&[
        "report",
        "--transactions",
        &data("CDNOW_sample.txt"),
        "--format",
        "cdnow-sample",
        "--calibration-end",
        "1997-09-30",
        "--observation-end",
        "1998-06-30",
        "--spend",
        "--currency",
        "$",
        "--margin",
        "0.3",
        "--quiet",
        "-o",
        dir.to_str().unwrap(),
    ]) else {
        return;
    };
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (observed, model) = ("#1F77B4", "#D62728");
    // tracking: both series over the 78 weeks (the per-period chart without the last, 6-day
    // period), with the calibration-end marker and calendar dates on the time axis
    for (name, points) in [
        ("tracking_incremental.svg", 77),
        ("tracking_cumulative.svg", 78),
    ] {
        let (texts, lines, _) = svg_parts(&dir.join(name));
        for want in ["observed", "BG/NBD", "calibration end"] {
            assert!(texts.iter().any(|t| t == want), "{name} lacks '{want}'");
        }
        for colour in [observed, model] {
            assert!(
                lines.iter().any(|(c, n)| c == colour && *n == points),
                "{name}: no {points}-point {colour} series in {lines:?}"
            );
        }
        let dates = texts
            .iter()
            .filter(|t| chrono::NaiveDate::parse_from_str(t, "%Y-%m-%d").is_ok())
            .count();
        assert!(dates >= 4, "{name}: {texts:?}");
    }
    let (texts, _, _) = svg_parts(&dir.join("tracking_incremental.svg"));
    assert!(
        texts
            .iter()
            .any(|t| t.contains("the last, partial period of 6 days is left out")),
        "{texts:?}"
    );
    // impossible matrix cells have their own colour and legend; the value histogram is on a
    // log scale in the currency; no count or axis value is written with a ".0"
    for name in ["p_alive_matrix.svg", "expected_purchases_matrix.svg"] {
        let (texts, _, _) = svg_parts(&dir.join(name));
        assert!(texts.iter().any(|t| t == "impossible"), "{name}");
    }
    let (texts, _, _) = svg_parts(&dir.join("value_histogram.svg"));
    for want in ["$1", "$10", "< $0.01", "CLV ($) at margin 0.3"] {
        assert!(texts.iter().any(|t| t == want), "lacks {want}: {texts:?}");
    }
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "svg") {
            let (texts, _, _) = svg_parts(&path);
            assert!(
                !texts.iter().any(|t| t.ends_with(".0")),
                "{}: {texts:?}",
                path.display()
            );
        }
    }
    // bar charts: one bar per group and series, labelled groups
    for (name, labels, series) in [
        ("holdout_by_frequency.svg", vec!["0", "3", "7+"], 2),
        ("holdout_by_recency.svg", vec!["x = 0"], 2),
        (
            "period_transactions.svg",
            vec!["0", "7+", "BG/NBD simulated"],
            3,
        ),
    ] {
        let (texts, _, rects) = svg_parts(&dir.join(name));
        for l in labels {
            assert!(
                texts.iter().any(|t| t == l),
                "{name} lacks '{l}': {texts:?}"
            );
        }
        let groups = if name.contains("recency") { 9 } else { 8 };
        assert!(rects >= groups * series, "{name}: {rects} rects");
    }
    for name in [
        "p_alive_matrix.svg",
        "expected_purchases_matrix.svg",
        "value_histogram.svg",
    ] {
        let (_, _, rects) = svg_parts(&dir.join(name));
        assert!(rects > 20, "{name}: {rects} rects");
    }
    // the page: parameters with SEs, fit statistics, every plot inline, no external resource
    let html = std::fs::read_to_string(dir.join("index.html")).unwrap();
    for want in [
        "<td>r</td><td>0.2426</td><td>0.0126</td>",
        "<td>p</td><td>6.2496</td>",
        "observed repeat purchases</td><td>1882",
        "Top 20 customers by CLV",
        "<th>t_x (weeks)</th>",
        "<dt>T</dt><dd>the customer's age at the calibration end, in weeks",
        "margin 0.3, discounted at 0% a year, in $",
        "<h2>What moves CLV</h2>",
        "<td>all</td><td>2357</td>",
        "<td>+10.00%</td>",
    ] {
        assert!(html.contains(want), "index.html lacks {want}");
    }
    assert_eq!(html.matches("<svg").count(), 8);
    assert!(!html.contains("src=") && !html.contains("href=") && !html.contains("<script"));
    let csv = std::fs::read_to_string(dir.join("customers.csv")).unwrap();
    assert_eq!(csv.lines().count(), 2358);
    // ids as in the input, leading zeros and all
    assert!(
        csv.lines().nth(1).unwrap().starts_with("0001,"),
        "{csv:.200}"
    );
    assert!(html.contains("<td>0"), "ids lost their leading zeros");
}

#[test]
fn columns_and_date_formats_are_detected_or_explained() {
    let write = |name: &str, text: &str| {
        let p = tmp(name);
        std::fs::write(&p, text).unwrap();
        p.to_str().unwrap().to_string()
    };
    let out = tmp("detected.csv");
    let out = out.to_str().unwrap();
    let summarize = |input: &str| {
        run(&[
            "summarize",
            "--transactions",
            input,
            "--calibration-end",
            "2024-03-31",
            "-o",
            out,
        ])
    };
    // day-first dates and other column names are recognised
    let dmy = write(
        "dmy.csv",
        "user_id,order_date,revenue\na,25/12/2023,5\na,03/01/2024,7\nb,15/01/2024,2\n",
    );
    let Some(o) = summarize(&dmy) else { return };
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stderr).contains("format %d/%m/%Y"));
    let text = std::fs::read_to_string(out).unwrap();
    assert!(
        text.contains("\na,1,1.2857142857142858,13.857142857142858,7,0.25131442828090655,weeks\n"),
        "{text}"
    );
    std::fs::remove_file(out).unwrap();
    for (body, want) in [
        (
            "id,date,amount\na,01/02/2023,5\na,03/01/2024,7\n",
            "error: the dates in column 'date' (e.g. '01/02/2023') fit several formats: %d/%m/%Y, %m/%d/%Y; choose one with --date-format",
        ),
        (
            "id,date,amount\na,yesterday,5\n",
            "error: cannot tell the date format of column 'date' (e.g. 'yesterday')",
        ),
        (
            "who,when,amount\na,2024-01-01,5\n",
            "error: cannot tell which column is the customer; columns found: who, when, amount. Name it with --customer-col",
        ),
    ] {
        let Some(o) = summarize(&write("odd.csv", body)) else {
            return;
        };
        let err = String::from_utf8(o.stderr).unwrap();
        assert!(!o.status.success());
        assert!(err.starts_with(want), "{err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
        assert!(!std::path::Path::new(out).exists());
    }
}

/// Units travel with the data and the model (issue 12): `summarize --unit day` records days,
/// `fit` takes them and stores them, and a week summary scored with the day model is refused
/// with one line; Pareto/NBD runs fit → predict → segment end to end.
#[test]
fn units_travel_and_pareto_nbd_runs_end_to_end() {
    let (sd, sw, md, mp, p) = (
        tmp("u_days.csv"),
        tmp("u_weeks.csv"),
        tmp("u_days.json"),
        tmp("u_pnbd.json"),
        tmp("u_pred.csv"),
    );
    for (unit, out) in [("day", &sd), ("week", &sw)] {
        let Some(o) = run(&[
            "summarize",
            "--transactions",
            &data("CDNOW_sample.txt"),
            "--format",
            "cdnow-sample",
            "--calibration-end",
            "1997-09-30",
            "--observation-end",
            "1998-06-30",
            "--unit",
            unit,
            "-o",
            out.to_str().unwrap(),
        ]) else {
            return;
        };
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    let o = run(&[
        "fit",
        "--summary",
        sd.to_str().unwrap(),
        "-o",
        md.to_str().unwrap(),
    ])
    .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stdout).contains("times in days"));
    let file = std::fs::read_to_string(&md).unwrap();
    assert!(file.contains("\"time_unit\": \"days\""), "{file}");
    // a week summary with the day model: refused, nothing written
    let _ = std::fs::remove_file(&p);
    let o = run(&[
        "predict",
        "--model",
        md.to_str().unwrap(),
        "--summary",
        sw.to_str().unwrap(),
        "--horizon",
        "52",
        "-o",
        p.to_str().unwrap(),
    ])
    .unwrap();
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("the summary is in weeks but the bgnbd model is in days"),
        "{err}"
    );
    assert!(!p.exists());
    // --unit that contradicts the recorded unit is refused too
    let o = run(&[
        "fit",
        "--summary",
        sd.to_str().unwrap(),
        "--unit",
        "week",
        "-o",
        md.to_str().unwrap(),
    ])
    .unwrap();
    assert!(!o.status.success());
    // Pareto/NBD end to end, in weeks
    let o = run(&[
        "fit",
        "--summary",
        sw.to_str().unwrap(),
        "--model",
        "pareto-nbd",
        "-o",
        mp.to_str().unwrap(),
    ])
    .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("Pareto/NBD") && out.contains("beta"), "{out}");
    for cmd in ["predict", "segment"] {
        let o = run(&[
            cmd,
            "--model",
            mp.to_str().unwrap(),
            "--summary",
            sw.to_str().unwrap(),
            "--horizon",
            "52",
            "-o",
            p.to_str().unwrap(),
        ])
        .unwrap();
        assert!(
            o.status.success(),
            "{cmd}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        assert_eq!(std::fs::read_to_string(&p).unwrap().lines().count(), 2358);
    }
    // a horizon with a unit is converted to the model's and said so; 364d is exactly 52 weeks
    let predict = |h: &str, out: &PathBuf| {
        run(&[
            "predict",
            "--model",
            mp.to_str().unwrap(),
            "--summary",
            sw.to_str().unwrap(),
            "--horizon",
            h,
            "-o",
            out.to_str().unwrap(),
        ])
        .unwrap()
    };
    let (p52, p364) = (tmp("u_pred_52.csv"), tmp("u_pred_364d.csv"));
    assert!(predict("52", &p52).status.success());
    let o = predict("364d", &p364);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("horizon: 364 days = 52 weeks"), "{err}");
    assert_eq!(std::fs::read(&p52).unwrap(), std::fs::read(&p364).unwrap());
    let o = predict("1y", &p364);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("horizon: 1 years = 52.17857142857143 weeks"),
        "{err}"
    );
    // a summary that records no unit is read in the model's, and the output says so
    let o = run(&[
        "predict",
        "--model",
        mp.to_str().unwrap(),
        "--summary",
        &data("cdnow_customers_summary.csv"),
        "--horizon",
        "39",
        "-o",
        p364.to_str().unwrap(),
    ])
    .unwrap();
    assert!(o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("records no time unit (no time_unit column); its times were read in the model's unit, weeks"),
        "{err}"
    );
    // months are not a fixed length: refused with one line
    let o = predict("3m", &p364);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("months differ in length"), "{err}");
}

/// `clv report --model pareto-nbd` fits the Pareto/NBD and names it in the plots and the page.
#[test]
fn report_fits_and_names_any_model() {
    let dir = tmp("report-pnbd");
    let Some(out) = run(&[
        "report",
        "--transactions",
        &data("CDNOW_sample.txt"),
        "--format",
        "cdnow-sample",
        "--calibration-end",
        "1997-09-30",
        "--observation-end",
        "1998-06-30",
        "--model",
        "pareto-nbd",
        "--quiet",
        "-o",
        dir.to_str().unwrap(),
    ]) else {
        return;
    };
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (texts, _, _) = svg_parts(&dir.join("tracking_incremental.svg"));
    assert!(texts.iter().any(|t| t == "Pareto/NBD"), "{texts:?}");
    let (texts, _, _) = svg_parts(&dir.join("period_transactions.svg"));
    assert!(
        texts.iter().any(|t| t == "Pareto/NBD simulated"),
        "{texts:?}"
    );
    let html = std::fs::read_to_string(dir.join("index.html")).unwrap();
    assert!(html.contains("<h3>Pareto/NBD</h3>") && html.contains("<td>beta</td>"));
    assert!(!html.contains("BG/NBD"));
}

#[test]
fn compare_writes_one_row_per_model_and_report_auto_uses_the_recommendation() {
    let (s, c) = (tmp("cmp-summary.csv"), tmp("compare.csv"));
    let Some(out) = run(&[
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
    ]) else {
        return;
    };
    assert!(out.status.success());
    let out = run(&[
        "compare",
        "--summary",
        s.to_str().unwrap(),
        "-o",
        c.to_str().unwrap(),
    ])
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        stdout.contains("recommended: pareto-nbd (pareto-nbd has the lowest holdout"),
        "{stdout}"
    );
    assert!(stdout.contains("nbd within pareto-nbd"), "{stdout}");
    let csv = std::fs::read_to_string(&c).unwrap();
    let mut lines = csv.lines();
    assert_eq!(
        lines.next().unwrap(),
        "model,k,n_params,log_likelihood,aic,bic,converged,holdout_actual,holdout_predicted,bias,mae,msle,recommended"
    );
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert_eq!(rows.len(), clv::AnyFitted::MODELS.len());
    assert_eq!(rows.iter().filter(|r| r[12] == "true").count(), 1);
    let mae = |m: &str| -> f64 {
        rows.iter().find(|r| r[0] == m).unwrap()[10]
            .parse()
            .unwrap()
    };
    assert!((mae("nbd") - 1.041).abs() < 1e-3);
    // a subset, and an unknown name
    let out = run(&[
        "compare",
        "--summary",
        s.to_str().unwrap(),
        "--models",
        "bgnbd,nbd",
        "-o",
        c.to_str().unwrap(),
    ])
    .unwrap();
    assert!(out.status.success());
    assert_eq!(std::fs::read_to_string(&c).unwrap().lines().count(), 3);
    let out = run(&[
        "compare",
        "--summary",
        s.to_str().unwrap(),
        "--models",
        "bgnbd,nope",
        "-o",
        tmp("never.csv").to_str().unwrap(),
    ])
    .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("'nope' is not a transaction model"));
    assert!(!tmp("never.csv").exists());

    let dir = tmp("report-auto");
    let out = run(&[
        "report",
        "--transactions",
        &data("CDNOW_sample.txt"),
        "--format",
        "cdnow-sample",
        "--calibration-end",
        "1997-09-30",
        "--observation-end",
        "1998-06-30",
        "--model",
        "auto",
        "--quiet",
        "-o",
        dir.to_str().unwrap(),
    ])
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let html = std::fs::read_to_string(dir.join("index.html")).unwrap();
    assert!(html.contains("<h2>Model comparison</h2>"));
    assert!(html.contains("<b>pareto-nbd (recommended)</b>"));
    assert!(html.contains("<h3>Pareto/NBD</h3>"));
}

/// BG/BB: the donations file fits with `--model bgbb`, and `summarize --discrete year` turns a
/// log into opportunities that fit the same way (the summary records its period).
#[test]
fn discrete_time_summarize_and_fit() {
    let Some(out) = run(&[
        "fit",
        "--summary",
        &data("donations.csv"),
        "--model",
        "bgbb",
        "-o",
        tmp("bgbb.json").to_str().unwrap(),
    ]) else {
        return;
    };
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("BG/BB on 11104 customers"), "{text}");
    assert!(text.contains("alpha          1.2035"), "{text}");
    assert!(text.contains("log-likelihood -33225.5813"), "{text}");
    let model = std::fs::read_to_string(tmp("bgbb.json")).unwrap();
    assert!(model.contains("\"model\": \"bgbb\""));
    // per-pattern predictions over the next 10 opportunities, DERT at 10% per opportunity
    let pred = tmp("bgbb_pred.csv");
    let out = run(&[
        "predict",
        "--model",
        tmp("bgbb.json").to_str().unwrap(),
        "--summary",
        &data("donations.csv"),
        "--horizon",
        "10",
        "--discount-rate",
        "0.1",
        "-o",
        pred.to_str().unwrap(),
    ])
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let p = std::fs::read_to_string(&pred).unwrap();
    let first: Vec<&str> = p.lines().nth(1).unwrap().split(',').collect();
    assert_eq!(&first[..4], &["1", "0", "0", "6"]);
    let e: f64 = first[6].parse().unwrap();
    assert!((e - 0.13021809).abs() < 1e-7, "{e}");

    // a log: a born 1995, gave 1996, 1998 (twice), 2001; b born 1995, never again; c born 2002
    let log = tmp("donors.csv");
    std::fs::write(
        &log,
        "customer_id,date\na,1995-03-01\na,1996-05-01\na,1998-01-02\na,1998-07-09\n\
         b,1995-08-08\na,2001-12-24\nc,2002-02-02\n",
    )
    .unwrap();
    let s = tmp("donors_summary.csv");
    let out = run(&[
        "summarize",
        "--transactions",
        log.to_str().unwrap(),
        "--calibration-end",
        "2001-12-31",
        "--observation-end",
        "2002-12-31",
        "--discrete",
        "year",
        "-o",
        s.to_str().unwrap(),
    ])
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("1 customers whose first transaction is after"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_to_string(&s).unwrap(),
        "customer_id,frequency,recency,periods,frequency_holdout,duration_holdout,period\n\
         a,3,6,6,0,1,year\nb,0,0,6,0,1,year\n"
    );
}

/// sBG: fit a cohort's calibration years from the bundled file, then the retention table
/// beside the observed cohort; a file with several cohorts needs --cohort.
#[test]
fn contractual_fit_and_retention_table() {
    let model = tmp("sbg.json");
    let Some(out) = run(&[
        "fit",
        "--survival",
        &data("sbg_cohorts.csv"),
        "--cohort",
        "highend",
        "--calibration-periods",
        "7",
        "--model",
        "sbg",
        "-o",
        model.to_str().unwrap(),
    ]) else {
        return;
    };
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("alpha          0.6681"), "{text}");
    assert!(text.contains("log-likelihood -1611.1581"), "{text}");
    let table = tmp("retention.csv");
    let out = run(&[
        "retention",
        "--model",
        model.to_str().unwrap(),
        "--survival",
        &data("sbg_cohorts.csv"),
        "--cohort",
        "highend",
        "-o",
        table.to_str().unwrap(),
    ])
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let t = std::fs::read_to_string(&table).unwrap();
    let lines: Vec<&str> = t.lines().collect();
    assert_eq!(
        lines[0],
        "period,survival,retention,churn,derl,observed_survival,observed_retention"
    );
    assert_eq!(lines.len(), 14); // periods 0..=12
    assert!(lines[13].contains(",0.394,"), "{}", lines[13]);
    let out = run(&[
        "fit",
        "--survival",
        &data("sbg_cohorts.csv"),
        "--model",
        "sbg",
        "-o",
        tmp("x.json").to_str().unwrap(),
    ])
    .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("choose one"));

    // the report's retention section
    let dir = tmp("report_retention");
    let out = run(&[
        "report",
        "--transactions",
        &data("CDNOW_sample.txt"),
        "--format",
        "cdnow-sample",
        "--calibration-end",
        "1997-09-30",
        "--observation-end",
        "1998-06-30",
        "--survival",
        &data("sbg_cohorts.csv"),
        "--cohort",
        "regular",
        "--calibration-periods",
        "7",
        "-o",
        dir.to_str().unwrap(),
    ])
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let html = std::fs::read_to_string(dir.join("index.html")).unwrap();
    assert!(html.contains("<h2>Retention (sBG)</h2>"));
    assert!(html.contains("fitted on periods 0..=7 of 1000 customers"));
    let svg = std::fs::read_to_string(dir.join("retention_survival.svg")).unwrap();
    assert!(svg.contains("calibration end"));
}

/// An invoice-line export: `Customer ID` and `InvoiceDate` are found; a unit price with a
/// quantity and no line total is refused with the flags to use, and with them a line's amount
/// is quantity × price.
#[test]
fn invoice_lines_need_quantity_times_price() {
    let log = tmp("retail.csv");
    std::fs::write(
        &log,
        "Invoice,StockCode,Quantity,InvoiceDate,Price,Customer ID,Country\n\
         489434,85048,12,2009-12-01 07:45:00,6.95,13085,UK\n\
         489434,79323P,2,2009-12-01 07:45:00,6.75,13085,UK\n\
         489435,22350,12,2009-12-01 07:46:00,2.55,13086,UK\n\
         489436,22350,3,2010-01-05 09:00:00,2.55,13085,UK\n",
    )
    .unwrap();
    let out_path = tmp("retail_summary.csv");
    let args = |extra: &[&str]| {
        let mut v = vec![
            "summarize".to_string(),
            "--transactions".into(),
            log.to_str().unwrap().into(),
            "--calibration-end".into(),
            "2010-03-31".into(),
            "-o".into(),
            out_path.to_str().unwrap().into(),
        ];
        v.extend(extra.iter().map(|s| s.to_string()));
        v
    };
    let a = args(&[]);
    let Some(out) = run(&a.iter().map(String::as_str).collect::<Vec<_>>()) else {
        return;
    };
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--quantity-col 'Quantity' --price-col 'Price'"),
        "{err}"
    );
    let a = args(&["--quantity-col", "Quantity", "--price-col", "Price"]);
    let out = run(&a.iter().map(String::as_str).collect::<Vec<_>>()).unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("customer 'Customer ID', date 'InvoiceDate', amount = 'Quantity' × 'Price'"),
        "{err}"
    );
    let text = std::fs::read_to_string(&out_path).unwrap();
    // 13085's repeat purchase: 3 × 2.55
    assert!(text.contains("\n13085,1,5,"), "{text}");
    assert!(
        text.contains(",7.6499999999999995,") || text.contains(",7.65,"),
        "{text}"
    );
}

/// Dates a user may have mistyped are warned about: an observation end after the log's last
/// transaction, and a calibration end before most first purchases.
#[test]
fn suspicious_dates_are_warned_about() {
    let run_with = |cal: &str, obs: &str| {
        run(&[
            "summarize",
            "--transactions",
            &data("CDNOW_sample.txt"),
            "--format",
            "cdnow-sample",
            "--calibration-end",
            cal,
            "--observation-end",
            obs,
            "-o",
            tmp("dates.csv").to_str().unwrap(),
        ])
    };
    let Some(out) = run_with("1997-09-30", "1998-12-31") else {
        return;
    };
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(
            "the observation end 1998-12-31 is after the log's last transaction (1998-06-30)"
        ),
        "{err}"
    );
    let out = run_with("1997-01-15", "1998-06-30").unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("2014 customers make their first purchase after the calibration end"),
        "{err}"
    );
    let out = run_with("1997-09-30", "1998-06-30").unwrap();
    assert!(!String::from_utf8_lossy(&out.stderr).contains("warning"));
}

/// Lines without a customer id and returns: by default the run stops, counting the negative
/// lines; with --skip-missing-customer and --returns drop they are left out and accounted for.
#[test]
fn missing_ids_and_returns_are_counted() {
    let log = tmp("dirty.csv");
    std::fs::write(
        &log,
        "customer_id,date,amount\na,2024-01-01,10\n,2024-01-02,5\na,2024-01-03,-10\n\
         a,2024-01-09,4\nb,2024-01-05,-3\n",
    )
    .unwrap();
    let out_path = tmp("dirty_summary.csv");
    let go = |extra: &[&str]| {
        let mut v = vec![
            "summarize",
            "--transactions",
            log.to_str().unwrap(),
            "--calibration-end",
            "2024-01-31",
            "-o",
            out_path.to_str().unwrap(),
        ];
        v.extend_from_slice(extra);
        run(&v)
    };
    let Some(out) = go(&["--skip-missing-customer"]) else {
        return;
    };
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("amount is negative (-10), the first of 2 lines with a negative amount"),
        "{err}"
    );
    let out = go(&["--skip-missing-customer", "--returns", "drop"]).unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(
            "data quality: 5 lines read, 2 used; left out: 1 without a customer id, 2 with a \
             negative amount (dropped); 1 customer, first purchases 2024-01-01 to 2024-01-01; \
             0 first seen after the calibration end 2024-01-31 (not in the summary)"
        ),
        "{err}"
    );
    let text = std::fs::read_to_string(&out_path).unwrap();
    assert_eq!(text.lines().count(), 2, "{text}"); // header and customer a
    // the discrete summariser accounts for the same lines (it once left them out silently)
    let out = go(&[
        "--skip-missing-customer",
        "--returns",
        "drop",
        "--discrete",
        "month",
    ])
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("data quality: 5 lines read, 2 used"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // --strict: leaving anything out is an error, one line, no output
    std::fs::remove_file(&out_path).unwrap();
    let out = go(&["--skip-missing-customer", "--returns", "drop", "--strict"]).unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(
        err.contains("--strict: lines would be left out: 5 lines read"),
        "{err}"
    );
    assert!(!out_path.exists());
    // zero amounts: counted as purchases unless dropped
    std::fs::write(
        &log,
        "customer_id,date,amount
a,2024-01-01,10
a,2024-01-02,0
",
    )
    .unwrap();
    let out = go(&["--drop-zero-amounts"]).unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("1 with a zero amount"));
    let text = std::fs::read_to_string(&out_path).unwrap();
    assert!(
        text.contains(
            "
a,0,0,"
        ),
        "{text}"
    );
}

/// A `;`-separated European export: the separator is detected, a decimal comma is explained,
/// and `--decimal-comma` reads `1.002,55` as 1002.55.
#[test]
fn semicolons_and_decimal_commas() {
    let log = tmp("semi.csv");
    std::fs::write(
        &log,
        "Customer ID;InvoiceDate;Quantity;Price\n13085;2009-12-01 07:45:00;12;6,95\n\
         13085;2010-01-05 09:00:00;3;1.002,55\n13086;2009-12-01 07:46:00;1;2,55\n",
    )
    .unwrap();
    let out_path = tmp("semi_summary.csv");
    let go = |extra: &[&str]| {
        let mut v = vec![
            "summarize",
            "--transactions",
            log.to_str().unwrap(),
            "--calibration-end",
            "2010-03-31",
            "--quantity-col",
            "Quantity",
            "--price-col",
            "Price",
            "-o",
            out_path.to_str().unwrap(),
        ];
        v.extend_from_slice(extra);
        run(&v)
    };
    let Some(out) = go(&[]) else {
        return;
    };
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(err.contains("pass --decimal-comma"), "{err}");
    let out = go(&["--decimal-comma"]).unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("columns (fields separated by ';')"), "{err}");
    let text = std::fs::read_to_string(&out_path).unwrap();
    assert!(text.contains("\n13085,1,5,"), "{text}");
    assert!(text.contains(",3007.6"), "{text}"); // 3 × 1002.55
}

/// Day-first dates that stay ambiguous for the first 1,500 rows are settled by a later one
/// (13/02/2020) instead of asking for --date-format.
#[test]
fn an_ambiguous_date_column_is_settled_by_a_later_row() {
    let mut text = String::from("customer_id,date,amount\n");
    for i in 0..1500 {
        let d = 1 + i % 9;
        text.push_str(&format!("c{},0{d}/0{d}/2020,5\n", i % 300));
    }
    text.push_str("c1,13/02/2020,5\n");
    let log = tmp("dayfirst.csv");
    std::fs::write(&log, text).unwrap();
    let Some(out) = run(&[
        "summarize",
        "--transactions",
        log.to_str().unwrap(),
        "--calibration-end",
        "2020-12-31",
        "-o",
        tmp("dayfirst_summary.csv").to_str().unwrap(),
    ]) else {
        return;
    };
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("in the format %d/%m/%Y"), "{err}");
}

/// A gzip-compressed log and summary are read transparently (by their magic bytes).
#[test]
fn gzip_input_is_read_transparently() {
    use std::io::Write;
    let gz = |name: &str, text: &str| {
        let path = tmp(name);
        let mut e = flate2::write::GzEncoder::new(
            std::fs::File::create(&path).unwrap(),
            flate2::Compression::default(),
        );
        e.write_all(text.as_bytes()).unwrap();
        e.finish().unwrap();
        path
    };
    let log = gz(
        "log.csv.gz",
        "customer_id,date,amount\na,2024-01-01,10\na,2024-01-08,4\nb,2024-01-03,5\n",
    );
    let summary = tmp("gz_summary.csv");
    let Some(out) = run(&[
        "summarize",
        "--transactions",
        log.to_str().unwrap(),
        "--calibration-end",
        "2024-01-31",
        "-o",
        summary.to_str().unwrap(),
    ]) else {
        return;
    };
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&summary).unwrap();
    assert!(text.contains("\na,1,1,"), "{text}");
    let sgz = gz(
        "s.csv.gz",
        &std::fs::read_to_string(data("cdnow_customers_summary.csv")).unwrap(),
    );
    let out = run(&[
        "fit",
        "--summary",
        sgz.to_str().unwrap(),
        "--model",
        "bgnbd",
        "-o",
        tmp("gz_model.json").to_str().unwrap(),
    ])
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("r              0.2426"));
}

/// An invoice-line export with cancellations (`C` invoices), a cancelled 77,000 order, a
/// partial return, a line without a customer and one after the calibration end: `--returns net
/// --cancel-prefix C` nets each return against the purchase it undoes, and the account adds
/// up to the lines read.
#[test]
fn returns_net_against_the_purchase_they_undo() {
    let log = tmp("invoices.csv");
    std::fs::write(
        &log,
        "InvoiceNo,StockCode,Quantity,InvoiceDate,UnitPrice,Customer ID\n\
         1001,A,2,2024-01-02 09:00,5.00,17\n\
         1001,B,1,2024-01-02 09:00,3.00,17\n\
         1002,A,1000,2024-01-05 10:00,77.00,17\n\
         C1003,A,-1000,2024-01-05 11:00,77.00,17\n\
         1004,A,1,2024-01-10 10:00,5.00,17\n\
         1005,A,3,2024-01-03 10:00,5.00,\n\
         1006,A,3,2024-01-03 10:00,5.00,18\n\
         C1006,A,-1,2024-01-04 10:00,5.00,18\n\
         1007,A,3,2024-03-03 10:00,5.00,18\n",
    )
    .unwrap();
    let out_path = tmp("invoices_summary.csv");
    let go = |extra: &[&str]| {
        let mut v = vec![
            "summarize",
            "--transactions",
            log.to_str().unwrap(),
            "--calibration-end",
            "2024-01-31",
            "--unit",
            "day",
            "--quantity-col",
            "Quantity",
            "--price-col",
            "UnitPrice",
            "--skip-missing-customer",
            "-o",
            out_path.to_str().unwrap(),
        ];
        v.extend_from_slice(extra);
        run(&v)
    };
    let Some(out) = go(&["--returns", "net", "--cancel-prefix", "C"]) else {
        return;
    };
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains(", invoice 'InvoiceNo'"), "{err}");
    assert!(
        err.contains(
            "data quality: 9 lines read, 4 used; left out: 1 without a customer id, 2 returns \
             netted against their purchase, 1 in purchases returns netted to zero, 1 dated after \
             the summary's end; 1 purchase lowered by returns; 2 customers"
        ),
        "{err}"
    );
    // 17: 13 on day 1, the 77,000 order gone, 5 on day 9; 18: 15 − 5 on day 2, one purchase
    let text = std::fs::read_to_string(&out_path).unwrap();
    let rows: Vec<&str> = text.lines().skip(1).collect();
    assert_eq!(
        rows,
        ["17,1,8,29,5,2.0794415416798344,days", "18,0,0,28,0,0,days"]
    );
    // dropping instead leaves the cancelled order in: customer 17's repeat spend is 38,502.5
    let out = go(&["--returns", "drop", "--cancel-prefix", "C"]).unwrap();
    assert!(out.status.success());
    let text = std::fs::read_to_string(&out_path).unwrap();
    assert!(text.contains("17,2,8,29,38502.5,"), "{text}");
    // the discrete summary skips and counts the same lines
    let out = go(&[
        "--returns",
        "net",
        "--cancel-prefix",
        "C",
        "--discrete",
        "month",
    ])
    .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("9 lines read, 4 used; left out: 1 without a customer id, 2 returns"),
        "{err}"
    );
    assert!(err.contains("1 dated after the summary's end"), "{err}");
    // a cancellation prefix needs an invoice column
    let out = go(&["--cancel-prefix", "C", "--invoice-col", "Nope"]).unwrap();
    assert!(!out.status.success());
}

/// A zstd-compressed log (`zstd -19`, committed) summarises to the same file as its text.
#[test]
fn zstd_input_is_read_transparently() {
    let mut text = String::from("id,date,amount\n");
    for i in 0..300 {
        text.push_str(&format!("c{},2024-01-{:02},{i}.5\n", i % 7, i % 28 + 1));
    }
    let plain = tmp("zstd_plain.csv");
    std::fs::write(&plain, text).unwrap();
    let summarize = |log: &str, out: &std::path::Path| {
        run(&[
            "summarize",
            "--transactions",
            log,
            "--calibration-end",
            "2024-01-31",
            "-o",
            out.to_str().unwrap(),
        ])
    };
    let (a, b) = (tmp("zstd_a.csv"), tmp("zstd_b.csv"));
    let Some(out) = summarize(
        &format!("{}/tests/data/zstd_log.csv.zst", env!("CARGO_MANIFEST_DIR")),
        &a,
    ) else {
        return;
    };
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        summarize(plain.to_str().unwrap(), &b)
            .unwrap()
            .status
            .success()
    );
    let (a, b) = (
        std::fs::read_to_string(a).unwrap(),
        std::fs::read_to_string(b).unwrap(),
    );
    assert_eq!(a, b);
    assert_eq!(a.lines().count(), 8); // header and 7 customers
}

/// `clv fit --covariates`: the apparel Pareto/NBD with Gender and Channel in both processes,
/// its coefficient table, effects in words and likelihood-ratio test; and the input mistakes
/// as one-line errors naming the customer or column.
#[test]
fn fit_with_covariates_reports_coefficients_and_refuses_bad_covariates() {
    let dir = format!("{}/tests/data", env!("CARGO_MANIFEST_DIR"));
    let summary = tmp("apparel_summary.csv");
    let Some(out) = run(&[
        "summarize",
        "--transactions",
        &format!("{dir}/apparel_trans.csv"),
        "--calibration-end",
        "2006-12-31",
        "--customer-col",
        "Id",
        "--date-col",
        "Date",
        "--amount-col",
        "Price",
        "-o",
        summary.to_str().unwrap(),
    ]) else {
        return;
    };
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let model = tmp("pcov.json");
    let fit = |cov: &str, extra: &[&str]| {
        let mut v = vec![
            "fit",
            "--summary",
            summary.to_str().unwrap(),
            "--model",
            "pareto-nbd",
            "--covariates",
            cov,
            "-o",
            model.to_str().unwrap(),
        ];
        v.extend_from_slice(extra);
        run(&v).unwrap()
    };
    let cov = format!("{dir}/apparel_static_cov.csv");
    let both = [
        "--purchase-cov",
        "Gender,Channel",
        "--dropout-cov",
        "Gender,Channel",
    ];
    let out = fit(&cov, &both);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for want in [
        "Channel          purchase     0.623930",
        "Gender           dropout     -0.641868",
        "Channel: mean purchase rate × 1.866 [1.519, 2.292] per unit",
        "statistic 54.0703 on 4 df",
        "log-likelihood -5821.0627",
    ] {
        assert!(text.contains(want), "lacks {want}: {text}");
    }
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&model).unwrap()).unwrap();
    assert_eq!(json["model"], "pareto-nbd-cov");
    assert!((json["params"]["dropout[Channel]"].as_f64().unwrap() - 0.789759).abs() < 1e-5);
    // each customer scored with their own covariates; refused without them
    let pred = tmp("pcov_pred.csv");
    let go = |extra: &[&str]| {
        let mut v = vec![
            "predict",
            "--model",
            model.to_str().unwrap(),
            "--summary",
            summary.to_str().unwrap(),
            "--horizon",
            "52",
            "-o",
            pred.to_str().unwrap(),
        ];
        v.extend_from_slice(extra);
        run(&v).unwrap()
    };
    let out = go(&["--covariates", &cov]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&pred).unwrap();
    assert_eq!(text.lines().count(), 601);
    assert!(text.starts_with("customer_id,p_alive,expected_purchases,prob_no_purchase\n1,"));
    let out = go(&[]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("pass the customers' covariates with --covariates")
    );
    // spend covariates on the Gamma-Gamma model (apparel: no effect on spend)
    let out = run(&[
        "fit",
        "--summary",
        summary.to_str().unwrap(),
        "--model",
        "gamma-gamma",
        "--covariates",
        &cov,
        "--spend-cov",
        "Gender,Channel",
        "--categorical",
        "Channel",
        "-o",
        tmp("ggcov.json").to_str().unwrap(),
    ])
    .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("Channel=1 (vs Channel=0): mean spend per transaction × 1.041"),
        "{text}"
    );
    assert!(text.contains("statistic 0.4552 on 2 df"), "{text}");
    // CLV with each customer's own purchase, dropout and spend parameters
    let out = run(&[
        "predict",
        "--model",
        model.to_str().unwrap(),
        "--spend-model",
        tmp("ggcov.json").to_str().unwrap(),
        "--summary",
        summary.to_str().unwrap(),
        "--covariates",
        &cov,
        "--horizon",
        "52",
        "-o",
        tmp("pcov_clv.csv").to_str().unwrap(),
    ])
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(tmp("pcov_clv.csv")).unwrap();
    assert!(text.starts_with(
        "customer_id,p_alive,expected_purchases,prob_no_purchase,expected_spend,clv\n1,"
    ));
    // Channel with one coefficient for both processes
    let out = fit(
        &cov,
        &[
            "--purchase-cov",
            "Gender",
            "--dropout-cov",
            "Gender",
            "--shared-cov",
            "Channel",
        ],
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("Channel          both         0.6218"),
        "{text}"
    );
    assert!(
        text.contains("Channel: mean purchase rate and mean dropout rate × 1.862"),
        "{text}"
    );
    // standardised: the same coefficients per unit of the original column
    let out = fit(&cov, &[&both[..], &["--standardize"]].concat());
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("Channel          purchase     0.623930")
    );
    // mistakes
    let original = std::fs::read_to_string(&cov).unwrap();
    let write = |name: &str, text: String| {
        let p = tmp(name);
        std::fs::write(&p, text).unwrap();
        p.to_str().unwrap().to_string()
    };
    let missing = write("cov_missing.csv", original.replace("\n17,", "\n9999,"));
    let letters = write(
        "cov_letters.csv",
        original.replacen("\n5,1,0", "\n5,f,0", 1),
    );
    let flat = write(
        "cov_flat.csv",
        original
            .lines()
            .enumerate()
            .map(|(i, l)| {
                if i == 0 {
                    format!("{l},Region\n")
                } else {
                    format!("{l},3\n")
                }
            })
            .collect(),
    );
    for (file, args, want) in [
        (&missing, &both[..], "customer 17 has no row in"),
        (
            &letters,
            &both[..],
            "customer 5: column 'Gender' is 'f', not a number",
        ),
        (
            &flat,
            &["--purchase-cov", "Region"][..],
            "column 'Region' is constant (3)",
        ),
        (&cov, &["--purchase-cov", "Age"][..], "no column 'Age'"),
    ] {
        let out = fit(file, args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success());
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
        assert!(err.contains(want), "{want}: {err}");
    }
    let out = run(&[
        "fit",
        "--summary",
        summary.to_str().unwrap(),
        "--model",
        "nbd",
        "--covariates",
        &cov,
        "--dropout-cov",
        "Gender",
        "-o",
        model.to_str().unwrap(),
    ])
    .unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("has no dropout process"));
}

/// `clv predict` streams the summary in chunks (about 1 MiB of text each) scored on all
/// cores: a summary of several chunks, with quoted ids, gives every customer, in order, the
/// scores and CLV the library computes on the whole summary (to the plans' tolerance: the
/// per-frequency tables are built per chunk); a duplicate id in another chunk still fails
/// with no output file.
#[test]
fn predict_streams_many_chunks_in_order() {
    use clv::sim::{simulate_bgnbd, uniform_ages};
    use clv::{BgNbdParams, FitOptions, GammaGammaParams, TimeUnit};
    let truth = BgNbdParams::new(0.243, 4.414, 0.793, 2.426).unwrap();
    let n = 90_000;
    let s = simulate_bgnbd(
        &truth,
        &uniform_ages(n, 1.0, 78.0, 3).unwrap(),
        TimeUnit::Weeks,
        4,
    )
    .unwrap();
    let mut text = String::from("customer_id,frequency,recency,T,monetary_value\n");
    let ids: Vec<String> = (0..n)
        .map(|i| match i % 1000 {
            0 => format!("q,{i}"),
            1 => format!("say \"{i}\""),
            _ => format!("c{i}"),
        })
        .collect();
    let m: Vec<f64> = (0..n)
        .map(|i| {
            if s.frequency()[i] > 0.0 {
                10.0 + (i % 17) as f64
            } else {
                0.0
            }
        })
        .collect();
    for i in 0..n {
        let id = if ids[i].contains([',', '"']) {
            format!("\"{}\"", ids[i].replace('"', "\"\""))
        } else {
            ids[i].clone()
        };
        text.push_str(&format!(
            "{id},{},{:?},{:?},{}\n",
            s.frequency()[i],
            s.recency()[i],
            s.age()[i],
            m[i]
        ));
    }
    assert!(text.len() > 3 << 20, "several chunks: {} bytes", text.len());
    let (sp, bg, gg, p) = (
        tmp("stream-s.csv"),
        tmp("stream-bg.json"),
        tmp("stream-gg.json"),
        tmp("stream-p.csv"),
    );
    std::fs::write(&sp, &text).unwrap();
    let sp_s = sp.to_str().unwrap();
    for (model, out) in [("bgnbd", &bg), ("gamma-gamma", &gg)] {
        let Some(o) = run(&[
            "fit",
            "--summary",
            sp_s,
            "--model",
            model,
            "-o",
            out.to_str().unwrap(),
        ]) else {
            return;
        };
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    let o = run(&[
        "predict",
        "--model",
        bg.to_str().unwrap(),
        "--spend-model",
        gg.to_str().unwrap(),
        "--summary",
        sp_s,
        "--horizon",
        "52",
        "--discount-rate",
        "0.1",
        "-o",
        p.to_str().unwrap(),
    ])
    .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    // the library on the whole summary
    let whole = clv::io::read_summary_csv(&sp, TimeUnit::Weeks).unwrap();
    assert_eq!(whole.ids(), &ids[..]);
    let bgf = clv::fit::fit::<BgNbdParams>(&whole, &FitOptions::default()).unwrap();
    let ggf = clv::fit::fit::<GammaGammaParams>(&whole, &FitOptions::default()).unwrap();
    let scores = clv::predict::score(bgf.params(), &whole, 52.0).unwrap();
    let opts = clv::value::ClvOptions::new(52.0, TimeUnit::Weeks)
        .unwrap()
        .with_step(1.0)
        .unwrap()
        .with_discount(clv::value::DiscountRate::annual(0.1).unwrap())
        .unwrap();
    let values = clv::value::summary_values(bgf.params(), ggf.params(), &whole, &opts).unwrap();
    let mut rdr = csv::Reader::from_path(&p).unwrap();
    let mut rows = 0;
    let close = |a: f64, b: f64| (a - b).abs() <= 1e-10 * b.abs().max(1e-300);
    for (i, rec) in rdr.records().enumerate() {
        let rec = rec.unwrap();
        let v = |j: usize| rec[j].parse::<f64>().unwrap();
        assert_eq!(&rec[0], ids[i].as_str());
        assert!(close(v(1), scores[i].p_alive), "row {i}");
        assert!(close(v(2), scores[i].expected_purchases), "row {i}");
        assert!(close(v(3), scores[i].prob_no_purchase), "row {i}");
        assert!(
            close(v(5), values[i]),
            "row {i}: {} against {}",
            v(5),
            values[i]
        );
        rows += 1;
    }
    assert_eq!(rows, n);
    // a duplicate id far from its twin: an error, and no output
    let dup = text.replacen("c89999,", "c2,", 1);
    std::fs::write(&sp, dup).unwrap();
    std::fs::remove_file(&p).unwrap();
    let o = run(&[
        "predict",
        "--model",
        bg.to_str().unwrap(),
        "--summary",
        sp_s,
        "--horizon",
        "52",
        "-o",
        p.to_str().unwrap(),
    ])
    .unwrap();
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("row 90000 (customer c2): customer_id appears more than once"),
        "{err}"
    );
    assert!(!p.exists());
}
