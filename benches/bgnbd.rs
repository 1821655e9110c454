//! BG/NBD fitting core: log-likelihood + gradient, full fits, ln_hyp2f1 and batch scoring,
//! on CDNOW and on simulated customers (`clv::sim`, T uniform over 1..78 weeks, continuous
//! times) for n = 10^3 .. 10^6. `fit_weekly` rounds t_x and T to whole weeks: few distinct
//! rows, so the fit's cost stops growing with n. Run: `cargo bench --bench bgnbd` (about
//! four minutes); `-- bgnbd/fit/` and so on for one group.

use clv::fit::MaximumLikelihood;
use clv::io::read_summary_csv;
use clv::predict::score;
use clv::sim::{simulate_bgnbd, uniform_ages};
use clv::special::ln_hyp2f1;
use clv::{BgNbdParams, FitOptions, RfmSummary, TimeUnit};
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
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
    let data = s.compress();
    let theta = [0.243, 4.414, 0.793, 2.426];
    c.bench_function("bgnbd/ll_grad/cdnow_1016_rows", |b| {
        b.iter(|| {
            let mut g = [0.0; 4];
            black_box(BgNbdParams::log_likelihood_grad(
                black_box(&theta),
                &data,
                Some(&mut g),
            ));
            g
        })
    });
    c.bench_function("bgnbd/fit/cdnow_2357", |b| {
        b.iter(|| BgNbdParams::fit(black_box(&s), &FitOptions::default()).unwrap())
    });
}

fn bench_predict(c: &mut Criterion) {
    let s = cdnow();
    let m = BgNbdParams::new(0.243, 4.414, 0.793, 2.426).unwrap();
    c.bench_function("bgnbd/score/cdnow_2357", |b| {
        b.iter(|| score(&m, black_box(&s), 39.0).unwrap())
    });
}

fn bench_hyp2f1(c: &mut Criterion) {
    let mut g = c.benchmark_group("ln_hyp2f1");
    // (r+x, b+x; a+b+x-1; t/(alpha+T+t)) for x = 0, 2, 30, 3000
    for x in [0.0, 2.0, 30.0, 3000.0] {
        g.bench_with_input(BenchmarkId::new("bgnbd_conditional", x), &x, |b, &x| {
            b.iter(|| {
                ln_hyp2f1(
                    black_box(0.243 + x),
                    2.426 + x,
                    0.793 + 2.426 + x - 1.0,
                    39.0 / (4.414 + 38.86 + 39.0),
                )
            })
        });
    }
    // long horizons put z near 1 for customers with small x, where the 1 - z connection
    // formula is needed: (r+x, b+x; a+b+x-1; 0.9) for x = 0 and 2
    for x in [0.0, 2.0] {
        g.bench_with_input(
            BenchmarkId::new("bgnbd_conditional_z0.9", x),
            &x,
            |b, &x| {
                b.iter(|| {
                    ln_hyp2f1(
                        black_box(0.243 + x),
                        2.426 + x,
                        0.793 + 2.426 + x - 1.0,
                        0.9,
                    )
                })
            },
        );
    }
    g.bench_function("edge_z_near_1", |b| {
        b.iter(|| ln_hyp2f1(black_box(2.0), 3.0, 5.000000001, 0.9999999999990905))
    });
    g.finish();
}

const SIZES: [usize; 4] = [1_000, 10_000, 100_000, 1_000_000];

/// `n` simulated CDNOW-like customers; with `weekly`, t_x and T rounded to whole weeks.
fn simulated(n: usize, weekly: bool) -> RfmSummary {
    let m = BgNbdParams::new(0.243, 4.414, 0.793, 2.426).unwrap();
    let ages = uniform_ages(n, 1.0, 78.0, 3).unwrap();
    let s = simulate_bgnbd(&m, &ages, TimeUnit::Weeks, 4).unwrap();
    if !weekly {
        return s;
    }
    let round = |v: &[f64]| v.iter().map(|t| t.round()).collect::<Vec<_>>();
    RfmSummary::new(
        s.ids().to_vec(),
        s.frequency().to_vec(),
        round(s.recency()),
        round(s.age()),
        TimeUnit::Weeks,
    )
    .unwrap()
}

fn bench_sizes(c: &mut Criterion) {
    let mut g = c.benchmark_group("bgnbd");
    g.sample_size(10);
    let theta = [0.243, 4.414, 0.793, 2.426];
    for n in SIZES {
        let s = simulated(n, false);
        let data = s.compress();
        g.bench_with_input(BenchmarkId::new("ll_grad", n), &data, |b, d| {
            b.iter(|| {
                let mut g = [0.0; 4];
                black_box(BgNbdParams::log_likelihood_grad(&theta, d, Some(&mut g)));
                g
            })
        });
        g.bench_with_input(BenchmarkId::new("fit", n), &s, |b, s| {
            b.iter(|| BgNbdParams::fit(s, &FitOptions::default()).unwrap())
        });
        let weekly = simulated(n, true);
        g.bench_with_input(
            BenchmarkId::new(format!("fit_weekly_{}_rows", weekly.compress().len()), n),
            &weekly,
            |b, s| b.iter(|| BgNbdParams::fit(s, &FitOptions::default()).unwrap()),
        );
        let m = BgNbdParams::new(0.243, 4.414, 0.793, 2.426).unwrap();
        g.bench_with_input(BenchmarkId::new("score_39", n), &s, |b, s| {
            b.iter(|| score(&m, s, 39.0).unwrap())
        });
    }
    g.finish();
}

criterion_group!(benches, bench_fit, bench_predict, bench_hyp2f1, bench_sizes);
criterion_main!(benches);
