//! Every registered transaction model: its CDNOW fit and the scoring of 10^6 simulated
//! customers (P(alive), E[Y(39)], P(Y(39) = 0)), side by side on the same data, so the ratios
//! are the models' costs. A new model is benched here without editing this file. CDNOW is
//! summarised from its log (the published summary, exactly, plus litt, which the Erlang-k
//! models need). Also the fits whose figures docs/performance.md quotes beyond that: GGom/NBD
//! on 20,000 simulated customers inside its parameter space, BG/NBD on the same CDNOW summary
//! through its own type, and the scoring of BG/CNBD-3 (CDNOW's k is 1).
//! Run: `cargo bench --bench models` (a few minutes).

use clv::io::{TransactionFormat, read_transactions_into};
use clv::models::cnbd::BgCnbdParams;
use clv::predict::score;
use clv::sim::{simulate_bgnbd, uniform_ages};
use clv::{AnyFitted, AnyParams, BgNbdParams, FitOptions, GgomNbdParams, TimeUnit};
use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;

/// CDNOW's 2,357 customers summarised from the bundled log, with litt.
fn cdnow() -> clv::RfmSummary {
    let d = |y, m, day| chrono::NaiveDate::from_ymd_opt(y, m, day).unwrap();
    let opts = clv::SummaryOptions::new(d(1997, 9, 30), TimeUnit::Weeks)
        .with_observation_end(d(1998, 6, 30))
        .unwrap();
    let mut builder = clv::SummaryBuilder::new(opts);
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/data/CDNOW_sample.txt");
    read_transactions_into(path, &TransactionFormat::cdnow_sample(), &mut builder).unwrap();
    builder.finish().unwrap().summary
}

fn bench_fit(c: &mut Criterion) {
    let s = cdnow();
    let mut g = c.benchmark_group("fit_cdnow_2357");
    for name in AnyFitted::MODELS {
        // GGom/NBD's CDNOW fit ends in its boundary diagnosis: timed all the same; the
        // Erlang-k models try k = 1..8
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
    // an Erlang order above 1 (CDNOW's is 1, where BG/CNBD-k is BG/NBD)
    let k3 = AnyParams::BgCnbd(BgCnbdParams::new(3, 1.5, 9.0, 0.6, 3.0).unwrap());
    g.bench_function("bgcnbd_k3", |b| {
        b.iter(|| score(&k3, black_box(&big), 39.0).unwrap())
    });
    g.finish();
}

fn bench_other_fits(c: &mut Criterion) {
    use clv::sim::Simulate;
    let mut g = c.benchmark_group("fit_other");
    g.sample_size(10);
    let gg = GgomNbdParams::new(0.6, 8.0, 0.05, 1.2, 3.0).unwrap();
    let ages = uniform_ages(20_000, 1.0, 78.0, 14).unwrap();
    let sim = gg.simulate(&ages, TimeUnit::Weeks, 114).unwrap();
    g.bench_function("ggomnbd_simulated_20000", |b| {
        b.iter(|| GgomNbdParams::fit(black_box(&sim), &FitOptions::default()).unwrap())
    });
    let log = cdnow();
    g.bench_function("bgnbd_cdnow_log", |b| {
        b.iter(|| BgNbdParams::fit(black_box(&log), &FitOptions::default()).unwrap())
    });
    g.finish();
}

/// DERT of one customer under BG/CNBD-3 at (1.5, 9, 0.6, 3): a year at 10% a year, forever at
/// that rate, and the adversarial δ = 1e-12 over 10^12 periods under MBG/CNBD-8 at
/// (40, 2, 0.3, 0.4) (the slowest case tests/adversarial.rs reaches): the figures
/// docs/models.md quotes. `cargo bench --bench models -- dert`.
fn bench_dert(c: &mut Criterion) {
    use clv::Customer;
    use clv::models::cnbd::MbgCnbdParams;
    let mut g = c.benchmark_group("dert");
    g.sample_size(10);
    let m = BgCnbdParams::new(3, 1.5, 9.0, 0.6, 3.0).unwrap();
    let cust = Customer::new(2.0, 30.43, 38.86).unwrap();
    let d = 0.1 / 52.0;
    g.bench_function("bgcnbd_k3_52_weeks", |b| {
        b.iter(|| m.dert(black_box(&cust), d, Some(52.0)).unwrap())
    });
    g.bench_function("bgcnbd_k3_forever", |b| {
        b.iter(|| m.dert(black_box(&cust), d, None).unwrap())
    });
    let m8 = MbgCnbdParams::new(8, 40.0, 2.0, 0.3, 0.4).unwrap();
    let heavy = Customer::new(5000.0, 999.5, 1000.0).unwrap();
    g.bench_function("mbgcnbd_k8_adversarial", |b| {
        b.iter(|| m8.dert(black_box(&heavy), 1e-12, Some(1e12)).unwrap())
    });
    g.finish();
}

criterion_group!(
    benches,
    bench_fit,
    bench_score,
    bench_other_fits,
    bench_dert
);
criterion_main!(benches);
