//! Pareto/NBD: log-likelihood with gradient and Hessian, the CDNOW fit, and batch scoring of
//! 10^6 simulated customers side by side with BG/NBD's (the same summary, so the ratio is the
//! cost of the model). Run: `cargo bench --bench pareto_nbd` (about a minute).

use clv::fit::{FromRfm, MaximumLikelihood};
use clv::io::read_summary_csv;
use clv::predict::score;
use clv::sim::{simulate_bgnbd, uniform_ages};
use clv::{BgNbdParams, FitOptions, ParetoNbdParams, TimeUnit};
use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;

fn bench_fit(c: &mut Criterion) {
    let s = read_summary_csv(
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/data/cdnow_customers_summary.csv"
        ),
        TimeUnit::Weeks,
    )
    .unwrap();
    let data = ParetoNbdParams::prepare(&s).unwrap();
    let theta = [0.553, 10.578, 0.606, 11.669];
    c.bench_function("pareto_nbd/ll_grad_hess/cdnow_1016_rows", |b| {
        b.iter(|| {
            let (mut g, mut h) = ([0.0; 4], [0.0; 16]);
            black_box(ParetoNbdParams::log_likelihood_hessian(
                black_box(&theta),
                &data,
                &mut g,
                &mut h,
            ));
            (g, h)
        })
    });
    c.bench_function("pareto_nbd/fit/cdnow_2357", |b| {
        b.iter(|| ParetoNbdParams::fit(black_box(&s), &FitOptions::default()).unwrap())
    });
}

fn bench_score(c: &mut Criterion) {
    let bg = BgNbdParams::new(0.243, 4.414, 0.793, 2.426).unwrap();
    let ages = uniform_ages(1_000_000, 1.0, 78.0, 3).unwrap();
    let s = simulate_bgnbd(&bg, &ages, TimeUnit::Weeks, 4).unwrap();
    let pn = ParetoNbdParams::new(0.553, 10.578, 0.606, 11.669).unwrap();
    let mut g = c.benchmark_group("score_1e6");
    g.sample_size(10);
    g.bench_function("bgnbd", |b| {
        b.iter(|| score(&bg, black_box(&s), 39.0).unwrap())
    });
    g.bench_function("pareto_nbd", |b| {
        b.iter(|| score(&pn, black_box(&s), 39.0).unwrap())
    });
    // the Pareto/NBD fitted to such data (as in scripts/compare_lifetimes.py): β > 2α puts
    // z = (β-α)/(β+t_x) up to 0.56, where the series would be long
    let fitted = ParetoNbdParams::new(0.507, 10.143, 0.777, 23.036).unwrap();
    g.bench_function("pareto_nbd_fitted", |b| {
        b.iter(|| score(&fitted, black_box(&s), 39.0).unwrap())
    });
    g.finish();
}

criterion_group!(benches, bench_fit, bench_score);
criterion_main!(benches);
