//! CLV and its bootstrap intervals on simulated customers (BG/NBD, T spread over 1..78 weeks).
//! Run: `cargo bench --bench clv` (about three minutes; `-- bootstrap_100_draws/1000000` for
//! the 1M-customer figure alone).

use clv::sim::{simulate_bgnbd, uniform_ages};
use clv::uncertainty::{BootstrapOptions, intervals};
use clv::value::{ClvOptions, DiscountRate};
use clv::{BgNbdParams, FitOptions, GammaGammaParams, RfmSummary, TimeUnit};
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};

fn customers(n: usize) -> RfmSummary {
    let m = BgNbdParams::new(0.243, 4.414, 0.793, 2.426).unwrap();
    let ages = uniform_ages(n, 1.0, 78.0, 3).unwrap();
    let s = simulate_bgnbd(&m, &ages, TimeUnit::Weeks, 4).unwrap();
    // spend: a plausible positive mean for repeat buyers, 0 otherwise
    let spend: Vec<f64> = s
        .frequency()
        .iter()
        .enumerate()
        .map(|(i, &x)| if x > 0.0 { 20.0 + (i % 37) as f64 } else { 0.0 })
        .collect();
    s.with_monetary_value(spend).unwrap()
}

fn bench(c: &mut Criterion) {
    let o = ClvOptions::new(52.0, TimeUnit::Weeks)
        .unwrap()
        .with_step(4.0)
        .unwrap()
        .with_discount(DiscountRate::annual(0.1).unwrap())
        .unwrap();
    let mut g = c.benchmark_group("clv");
    g.sample_size(10);
    for n in [1_000usize, 10_000, 100_000, 1_000_000] {
        let s = customers(n);
        let bg = BgNbdParams::fit(&s, &FitOptions::default()).unwrap();
        let gg = GammaGammaParams::fit(&s, &FitOptions::default()).unwrap();
        g.bench_with_input(BenchmarkId::new("point_13_steps", n), &s, |b, s| {
            b.iter(|| clv::value::summary_values(bg.params(), gg.params(), s, &o).unwrap())
        });
        let opts = BootstrapOptions::new(100, 0.9, 1).unwrap();
        g.bench_with_input(BenchmarkId::new("bootstrap_100_draws", n), &s, |b, s| {
            b.iter(|| intervals(&bg, Some(&gg), s, 52.0, Some(&o), &opts).unwrap())
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
