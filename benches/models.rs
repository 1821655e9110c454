//! Every registered transaction model: its CDNOW fit and the scoring of 10^6 simulated
//! customers (P(alive), E[Y(39)], P(Y(39) = 0)), side by side on the same data, so the ratios
//! are the models' costs. A new model is benched here without editing this file.
//! Run: `cargo bench --bench models` (a few minutes).

use clv::io::read_summary_csv;
use clv::predict::score;
use clv::sim::{simulate_bgnbd, uniform_ages};
use clv::{AnyFitted, AnyParams, BgNbdParams, FitOptions, GgomNbdParams, TimeUnit};
use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;

fn cdnow() -> clv::RfmSummary {
    read_summary_csv(
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/data/cdnow_customers_summary.csv"
        ),
        TimeUnit::Weeks,
    )
    .unwrap()
}

fn bench_fit(c: &mut Criterion) {
    let s = cdnow();
    let mut g = c.benchmark_group("fit_cdnow_2357");
    for name in AnyFitted::MODELS {
        // GGom/NBD's CDNOW fit ends in its boundary diagnosis: timed all the same
        g.bench_function(*name, |b| {
            b.iter(|| AnyFitted::fit(name, black_box(&s), &FitOptions::default()).ok())
        });
    }
    g.finish();
}

fn bench_score(c: &mut Criterion) {
    let s = cdnow();
    let bg = BgNbdParams::new(0.243, 4.414, 0.793, 2.426).unwrap();
    let ages = uniform_ages(1_000_000, 1.0, 78.0, 3).unwrap();
    let big = simulate_bgnbd(&bg, &ages, TimeUnit::Weeks, 4).unwrap();
    let mut g = c.benchmark_group("score_1e6");
    g.sample_size(10);
    for name in AnyFitted::MODELS {
        // each model at its CDNOW estimates; GGom/NBD (whose CDNOW maximum is a boundary) at
        // the parameters its recovery test uses
        let params = match AnyFitted::fit(name, &s, &FitOptions::default()) {
            Ok(f) => f.params(),
            Err(_) => AnyParams::GgomNbd(GgomNbdParams::new(0.6, 8.0, 0.05, 1.2, 3.0).unwrap()),
        };
        g.bench_function(*name, |b| {
            b.iter(|| score(&params, black_box(&big), 39.0).unwrap())
        });
    }
    g.finish();
}

criterion_group!(benches, bench_fit, bench_score);
criterion_main!(benches);
