//! The Rust half of `scripts/compare_lifetimes.py`: writes the shared data sets, times clv on
//! them and prints one JSON object per line. Run through the script, or alone:
//!
//! ```sh
//! cargo run --release --example perf_compare -- OUT_DIR [--big] [--data-only]
//! ```
//!
//! Data sets: CDNOW (bundled summary), 100k and 1M simulated customers (BG/NBD, T uniform over
//! 1..78 weeks, continuous times) written as `sim_100000.csv` / `sim_1000000.csv`, and a
//! simulated transaction log of 10^6 rows (`--big`: also 10^7) as `transactions_N.csv`.
//! Times are medians over repeated runs of: the BG/NBD and Pareto/NBD fits (from the summary,
//! compression and covariance included), scoring (E[Y(39)] and P(alive) for every customer:
//! `predict::alive_and_expected`; and `predict::score`, which also returns P(Y(39) = 0)), and
//! summarising the log (reading the CSV included). `--data-only` writes the data sets (a log
//! only where its file is missing) and times nothing.

use chrono::NaiveDate;
use clv::io::{TransactionFormat, read_summary_csv, read_transactions_into};
use clv::models::bgbb::{BgBbParams, DiscreteHistory};
use clv::predict::{alive_and_expected, score};
use clv::sim::{LogSpec, simulate_bgnbd, simulate_transactions, uniform_ages};
use clv::{
    BgNbdParams, FitOptions, GammaGammaParams, MbgNbdParams, ParetoNbdParams, RfmSummary,
    SummaryBuilder, SummaryOptions, TimeUnit,
};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Median seconds of `runs` runs of `f` (after one warm-up run).
fn time<T>(runs: usize, mut f: impl FnMut() -> T) -> f64 {
    std::hint::black_box(f());
    median(
        (0..runs)
            .map(|_| {
                let t = Instant::now();
                std::hint::black_box(f());
                t.elapsed().as_secs_f64()
            })
            .collect(),
    )
}

fn write_summary(s: &RfmSummary, path: &Path) {
    let mut w = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    writeln!(w, "customer_id,frequency,recency,T").unwrap();
    for i in 0..s.len() {
        // {:?} prints the shortest representation that reads back to the same f64
        writeln!(
            w,
            "{},{:?},{:?},{:?}",
            s.ids()[i],
            s.frequency()[i],
            s.recency()[i],
            s.age()[i]
        )
        .unwrap();
    }
}

fn at(y: i32, m: u32, d: u32) -> chrono::NaiveDateTime {
    NaiveDate::from_ymd_opt(y, m, d)
        .unwrap()
        .and_hms_opt(0, 0, 0)
        .unwrap()
}

fn write_log(rows: usize, path: &Path) -> usize {
    let bg = BgNbdParams::new(1.0, 2.0, 0.8, 8.0).unwrap();
    let gg = GammaGammaParams::new(6.25, 3.74, 15.44).unwrap();
    let mut spec = LogSpec {
        customers: 10_000,
        start: at(2024, 1, 1),
        acquisition: 26.0,
        end: at(2025, 6, 30),
        unit: TimeUnit::Weeks,
    };
    let pilot = simulate_transactions(&bg, &gg, &spec, 99, |_, _, _| {}).unwrap();
    spec.customers = (rows as f64 * spec.customers as f64 / pilot as f64).round() as usize;
    let mut w = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    writeln!(w, "customer_id,date,amount").unwrap();
    simulate_transactions(&bg, &gg, &spec, 5, |c, t, a| {
        writeln!(w, "C{c:08},{},{a:.2}", t.format("%Y-%m-%d %H:%M:%S")).unwrap();
    })
    .unwrap()
}

fn summarise(path: &Path) -> clv::Summarized {
    let opts = SummaryOptions::new(at(2025, 1, 1), TimeUnit::Weeks)
        .with_observation_end(at(2025, 6, 30))
        .unwrap();
    let mut b = SummaryBuilder::new(opts);
    let format = TransactionFormat::csv("customer_id", "date", Some("amount"));
    read_transactions_into(path, &format, &mut b).unwrap();
    b.finish().unwrap()
}

/// BG/BB: the fit on the donations data (11,104 customers in 22 distinct histories), and
/// scoring 10^6 customers (the donations' histories in their proportions, written out as
/// `bgbb_1000000.csv` for lifetimes): P(alive) now and the expected transactions over the next
/// 5 opportunities.
fn bgbb(out: &Path) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("data/donations.csv");
    let d = clv::io::read_discrete_csv(&path, TimeUnit::Weeks).unwrap();
    let opts = FitOptions::default();
    let f = BgBbParams::fit(&d, &opts).unwrap();
    let fit_s = time(21, || BgBbParams::fit(&d, &opts).unwrap());
    // 10^6 customers in the donations' proportions
    let total = d.n_customers();
    let mut hist: Vec<DiscreteHistory> = Vec::new();
    for i in 0..d.len() {
        let k = (d.weights()[i] * 1e6 / total).round() as usize;
        hist.extend(std::iter::repeat_n(d.history(i), k));
    }
    let big = out.join("bgbb_1000000.csv");
    let mut w = std::io::BufWriter::new(std::fs::File::create(&big).unwrap());
    writeln!(w, "frequency,recency,periods").unwrap();
    for h in &hist {
        writeln!(w, "{},{},{}", h.frequency(), h.recency(), h.periods()).unwrap();
    }
    drop(w);
    let p = *f.params();
    let score_s = time(7, || p.alive_and_expected(&hist, 5).unwrap());
    println!(
        "{{\"task\":\"bgbb\",\"dataset\":\"donations\",\"path\":{:?},\"big_path\":{:?},\"customers\":{},\"scored\":{},\"fit_s\":{fit_s:e},\"score_s\":{score_s:e},\"params\":[{:?},{:?},{:?},{:?}],\"ll\":{:?}}}",
        path.display().to_string(),
        big.display().to_string(),
        total,
        hist.len(),
        p.alpha(),
        p.beta(),
        p.gamma(),
        p.delta(),
        f.log_likelihood()
    );
}

fn main() {
    let mut args = std::env::args().skip(1);
    let out = PathBuf::from(args.next().expect("usage: perf_compare OUT_DIR [--big]"));
    let rest: Vec<String> = args.collect();
    let big = rest.iter().any(|a| a == "--big");
    let data_only = rest.iter().any(|a| a == "--data-only");
    std::fs::create_dir_all(&out).unwrap();
    let cdnow_path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("data/cdnow_customers_summary.csv");
    let mut sets = vec![(
        "cdnow".to_string(),
        cdnow_path.clone(),
        read_summary_csv(&cdnow_path, TimeUnit::Weeks).unwrap(),
    )];
    let truth = BgNbdParams::new(0.243, 4.414, 0.793, 2.426).unwrap();
    for n in [100_000usize, 1_000_000] {
        let ages = uniform_ages(n, 1.0, 78.0, 3).unwrap();
        let s = simulate_bgnbd(&truth, &ages, TimeUnit::Weeks, 4).unwrap();
        let p = out.join(format!("sim_{n}.csv"));
        write_summary(&s, &p);
        // read back what Python will read, so both fit identical numbers
        sets.push((
            format!("sim_{n}"),
            p.clone(),
            read_summary_csv(&p, TimeUnit::Weeks).unwrap(),
        ));
    }
    if data_only {
        let mut logs = vec![1_000_000usize];
        if big {
            logs.push(10_000_000);
        }
        for rows in logs {
            let p = out.join(format!("transactions_{rows}.csv"));
            if !p.exists() {
                write_log(rows, &p);
            }
        }
        return;
    }
    for (name, path, s) in &sets {
        let runs = if s.len() > 500_000 { 7 } else { 21 };
        let f = BgNbdParams::fit(s, &FitOptions::default()).unwrap();
        let fit_s = time(runs, || {
            BgNbdParams::fit(s, &FitOptions::default()).unwrap()
        });
        let alive_s = time(runs, || alive_and_expected(f.params(), s, 39.0).unwrap());
        let score_s = time(runs, || score(f.params(), s, 39.0).unwrap());
        let p = f.params();
        println!(
            "{{\"task\":\"bgnbd\",\"dataset\":\"{name}\",\"path\":{:?},\"customers\":{},\"fit_s\":{fit_s:e},\"alive_s\":{alive_s:e},\"score_s\":{score_s:e},\"params\":[{:?},{:?},{:?},{:?}],\"ll\":{:?}}}",
            path.display().to_string(),
            s.len(),
            p.r(),
            p.alpha(),
            p.a(),
            p.b(),
            f.log_likelihood()
        );
    }
    for (name, path, s) in &sets {
        let runs = if s.len() > 500_000 { 5 } else { 21 };
        let f = ParetoNbdParams::fit(s, &FitOptions::default()).unwrap();
        let fit_s = time(runs, || {
            ParetoNbdParams::fit(s, &FitOptions::default()).unwrap()
        });
        let alive_s = time(runs, || alive_and_expected(f.params(), s, 39.0).unwrap());
        let score_s = time(runs, || score(f.params(), s, 39.0).unwrap());
        let p = f.params();
        println!(
            "{{\"task\":\"pareto-nbd\",\"dataset\":\"{name}\",\"path\":{:?},\"customers\":{},\"fit_s\":{fit_s:e},\"alive_s\":{alive_s:e},\"score_s\":{score_s:e},\"params\":[{:?},{:?},{:?},{:?}],\"ll\":{:?}}}",
            path.display().to_string(),
            s.len(),
            p.r(),
            p.alpha(),
            p.s(),
            p.beta(),
            f.log_likelihood()
        );
    }
    for (name, path, s) in &sets {
        let runs = if s.len() > 500_000 { 5 } else { 21 };
        let f = MbgNbdParams::fit(s, &FitOptions::default()).unwrap();
        let fit_s = time(runs, || {
            MbgNbdParams::fit(s, &FitOptions::default()).unwrap()
        });
        let alive_s = time(runs, || alive_and_expected(f.params(), s, 39.0).unwrap());
        let score_s = time(runs, || score(f.params(), s, 39.0).unwrap());
        let p = f.params();
        println!(
            "{{\"task\":\"mbgnbd\",\"dataset\":\"{name}\",\"path\":{:?},\"customers\":{},\"fit_s\":{fit_s:e},\"alive_s\":{alive_s:e},\"score_s\":{score_s:e},\"params\":[{:?},{:?},{:?},{:?}],\"ll\":{:?}}}",
            path.display().to_string(),
            s.len(),
            p.r(),
            p.alpha(),
            p.a(),
            p.b(),
            f.log_likelihood()
        );
    }
    bgbb(&out);
    let mut logs = vec![1_000_000usize];
    if big {
        logs.push(10_000_000);
    }
    for rows in logs {
        let p = out.join(format!("transactions_{rows}.csv"));
        let n = write_log(rows, &p);
        let runs = if rows > 5_000_000 { 3 } else { 7 };
        let customers = summarise(&p).summary.len();
        let t = time(runs, || summarise(&p));
        println!(
            "{{\"task\":\"summarize\",\"dataset\":\"log_{rows}\",\"path\":{:?},\"rows\":{n},\"customers\":{customers},\"summarize_s\":{t:e}}}",
            p.display().to_string()
        );
    }
}
