//! Gamma-Gamma fitting core: log-likelihood + gradient and full fits on simulated repeat
//! buyers (`clv::sim`: BG/NBD frequencies, Gamma-Gamma mean spends) for n = 10^3 .. 10^6
//! customers, and the CDNOW fit. Run: `cargo bench --bench gamma_gamma`.

use clv::fit::MaximumLikelihood;
use clv::models::gamma_gamma::SpendData;
use clv::sim::{simulate_bgnbd, simulate_gamma_gamma, uniform_ages};
use clv::{BgNbdParams, FitOptions, GammaGammaParams, RfmSummary, TimeUnit};
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use std::hint::black_box;

fn simulated(n: usize) -> RfmSummary {
    let bg = BgNbdParams::new(0.243, 4.414, 0.793, 2.426).unwrap();
    let gg = GammaGammaParams::new(6.25, 3.74, 15.44).unwrap();
    let ages = uniform_ages(n, 1.0, 78.0, 3).unwrap();
    let s = simulate_bgnbd(&bg, &ages, TimeUnit::Weeks, 4).unwrap();
    let m = simulate_gamma_gamma(&gg, s.frequency(), 5).unwrap();
    s.with_monetary_value(m).unwrap()
}

fn bench(c: &mut Criterion) {
    let cdnow = clv::io::read_summary_csv(
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/data/cdnow_customers_summary_with_transactions.csv"
        ),
        TimeUnit::Weeks,
    )
    .unwrap();
    c.bench_function("gamma_gamma/fit/cdnow_946_buyers", |b| {
        b.iter(|| GammaGammaParams::fit(black_box(&cdnow), &FitOptions::default()).unwrap())
    });
    let mut g = c.benchmark_group("gamma_gamma");
    g.sample_size(10);
    let theta = [6.25, 3.74, 15.44];
    for n in [1_000usize, 10_000, 100_000, 1_000_000] {
        let s = simulated(n);
        let d = SpendData::from_summary(&s).unwrap();
        g.bench_with_input(BenchmarkId::new("ll_grad", n), &d, |b, d| {
            b.iter(|| {
                let mut g = [0.0; 3];
                black_box(GammaGammaParams::log_likelihood_grad(
                    &theta,
                    d,
                    Some(&mut g),
                ));
                g
            })
        });
        g.bench_with_input(BenchmarkId::new("fit", n), &s, |b, s| {
            b.iter(|| GammaGammaParams::fit(s, &FitOptions::default()).unwrap())
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
