//! BG/NBD fitting core: log-likelihood + gradient, the full CDNOW fit, ln_hyp2f1 and batch
//! scoring. Run: `cargo bench --bench bgnbd`.

use clv::fit::MaximumLikelihood;
use clv::io::read_summary_csv;
use clv::predict::score;
use clv::special::ln_hyp2f1;
use clv::{BgNbdParams, FitOptions, TimeUnit};
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

criterion_group!(benches, bench_fit, bench_predict, bench_hyp2f1);
criterion_main!(benches);
