//! Summarising transaction logs: a CSV file read and streamed into an RFM summary (calibration
//! and holdout), from 10^3 to 10^7 rows; and summary CSVs of 10^6 customers read whole, read
//! as compressed histories (what `clv fit` does), streamed in chunks (what `clv predict`
//! does) and written (`cargo bench --bench summarize -- summary_csv`). The logs are simulated (BG/NBD times, Gamma-Gamma
//! amounts; about 14 transactions per customer over 78 weeks) and written once to
//! `target/bench-data/`. Run: `cargo bench --bench summarize` (the 10^7-row file is about
//! 370 MB and takes a minute to write the first time).

use chrono::NaiveDate;
use clv::io::{TransactionFormat, read_transactions_into};
use clv::sim::{LogSpec, simulate_transactions};
use clv::{BgNbdParams, GammaGammaParams, SummaryBuilder, SummaryOptions, TimeUnit};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use std::io::Write;
use std::path::PathBuf;

fn at(y: i32, m: u32, d: u32) -> chrono::NaiveDateTime {
    NaiveDate::from_ymd_opt(y, m, d)
        .unwrap()
        .and_hms_opt(0, 0, 0)
        .unwrap()
}

/// A log of about `rows` transactions (whole customers), written once; its path and rows.
fn log_file(rows: usize) -> (PathBuf, usize) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/bench-data");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("transactions_{rows}.csv"));
    let bg = BgNbdParams::new(1.0, 2.0, 0.8, 8.0).unwrap();
    let gg = GammaGammaParams::new(6.25, 3.74, 15.44).unwrap();
    let mut spec = LogSpec {
        customers: 10_000,
        start: at(2024, 1, 1),
        acquisition: 26.0,
        end: at(2025, 6, 30),
        unit: TimeUnit::Weeks,
    };
    // as many customers as give about `rows` transactions (a pilot measures the rate)
    let pilot = simulate_transactions(&bg, &gg, &spec, 99, |_, _, _| {}).unwrap();
    spec.customers = ((rows as f64 * spec.customers as f64 / pilot as f64).round() as usize).max(1);
    let count = |p: &PathBuf| {
        std::fs::read(p)
            .map(|b| b.iter().filter(|&&c| c == b'\n').count() - 1)
            .ok()
    };
    if let Some(n) = count(&path) {
        return (path, n);
    }
    let tmp = path.with_extension("tmp");
    let mut w = std::io::BufWriter::new(std::fs::File::create(&tmp).unwrap());
    writeln!(w, "customer_id,date,amount").unwrap();
    let n = simulate_transactions(&bg, &gg, &spec, 5, |c, t, a| {
        writeln!(w, "C{c:08},{},{a:.2}", t.format("%Y-%m-%d %H:%M:%S")).unwrap();
    })
    .unwrap();
    w.flush().unwrap();
    drop(w);
    std::fs::rename(&tmp, &path).unwrap();
    (path, n)
}

fn summarise(path: &PathBuf) -> clv::Summarized {
    let opts = SummaryOptions::new(at(2025, 1, 1), TimeUnit::Weeks)
        .with_observation_end(at(2025, 6, 30))
        .unwrap();
    let mut b = SummaryBuilder::new(opts);
    let format = TransactionFormat::csv("customer_id", "date", Some("amount"));
    read_transactions_into(path, &format, &mut b).unwrap();
    b.finish().unwrap()
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("summarize_csv");
    g.sample_size(10);
    for rows in [1_000usize, 10_000, 100_000, 1_000_000, 10_000_000] {
        let (path, n) = log_file(rows);
        g.throughput(Throughput::Elements(n as u64));
        g.bench_with_input(BenchmarkId::from_parameter(rows), &path, |b, p| {
            b.iter(|| summarise(p))
        });
    }
    g.finish();
}

/// The 10^6-customer summary of the 10^7-row log (written by `write_summary_csv`), read and
/// written the ways the binary does.
fn summary_csv(c: &mut Criterion) {
    use clv::io::{
        SummaryUnit, for_each_summary_chunk, read_summary_compressed, read_summary_csv,
        write_summary_csv,
    };
    let (log, _) = log_file(10_000_000);
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/bench-data");
    let path = dir.join("summary_of_10000000.csv");
    let s = summarise(&log).summary;
    write_summary_csv(&path, &s).unwrap();
    let unit = SummaryUnit::RecordedOr(TimeUnit::Weeks);
    let mut g = c.benchmark_group("summary_csv");
    g.sample_size(10);
    g.throughput(Throughput::Elements(s.len() as u64));
    g.bench_function("read_whole", |b| {
        b.iter(|| read_summary_csv(&path, unit).unwrap())
    });
    g.bench_function("read_compressed", |b| {
        b.iter(|| read_summary_compressed(&path, unit).unwrap())
    });
    g.bench_function("stream_chunks", |b| {
        b.iter(|| {
            let mut n = 0usize;
            for_each_summary_chunk(
                &path,
                unit,
                |c| Ok(c.len()),
                |k| {
                    n += k;
                    Ok(())
                },
            )
            .unwrap();
            n
        })
    });
    let out = dir.join("summary_written.csv");
    g.bench_function("write", |b| b.iter(|| write_summary_csv(&out, &s).unwrap()));
    g.finish();
}

criterion_group!(benches, bench, summary_csv);
criterion_main!(benches);
