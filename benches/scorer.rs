//! The service scorer (`clv::scorer::Scorer`): one customer's 52-weekly-step discounted CLV per
//! call, against `value::customer_value` (the per-customer formula), and 10^5 customers from
//! plain columns, for BG/NBD and Pareto/NBD. Run: `cargo bench --bench scorer`.

use clv::scorer::Scorer;
use clv::sim::{simulate_bgnbd, simulate_gamma_gamma, uniform_ages};
use clv::value::{ClvOptions, DiscountRate, customer_value};
use clv::{AnyFitted, BgNbdParams, Customer, FitOptions, GammaGammaParams, RfmSummary, TimeUnit};
use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;

fn data() -> RfmSummary {
    let bg = BgNbdParams::new(0.243, 4.414, 0.793, 2.426).unwrap();
    let gg = GammaGammaParams::new(6.25, 3.74, 15.44).unwrap();
    let ages = uniform_ages(100_000, 1.0, 78.0, 3).unwrap();
    let s = simulate_bgnbd(&bg, &ages, TimeUnit::Weeks, 4).unwrap();
    let m = simulate_gamma_gamma(&gg, s.frequency(), 5).unwrap();
    s.with_monetary_value(m).unwrap()
}

fn bench(c: &mut Criterion) {
    let s = data();
    let spend = GammaGammaParams::fit(&s, &FitOptions::default()).unwrap();
    let options = ClvOptions::new(52.0, TimeUnit::Weeks)
        .unwrap()
        .with_step(1.0)
        .unwrap()
        .with_discount(DiscountRate::annual(0.1).unwrap())
        .unwrap();
    let m = s.monetary_value().unwrap().to_vec();
    for name in ["bgnbd", "pareto-nbd"] {
        let f = AnyFitted::fit(name, &s, &FitOptions::default()).unwrap();
        let scorer = Scorer::builder(&f, 39.0)
            .unwrap()
            .clv(&spend, options)
            .unwrap()
            .build();
        let mut g = c.benchmark_group(format!("scorer/{name}"));
        g.bench_function("one_customer_clv_52_steps", |b| {
            b.iter(|| scorer.value(black_box(2.0), 30.43, 38.86, 22.35).unwrap())
        });
        g.bench_function("one_customer_scores", |b| {
            b.iter(|| scorer.score(black_box(2.0), 30.43, 38.86).unwrap())
        });
        let cust = Customer::new(2.0, 30.43, 38.86).unwrap();
        let params = f.params();
        g.bench_function("customer_value_formula_52_steps", |b| {
            b.iter(|| customer_value(&params, spend.params(), black_box(&cust), 22.35, &options))
        });
        g.sample_size(20);
        g.bench_function("clv_columns_1e5", |b| {
            b.iter(|| {
                scorer
                    .value_columns(s.frequency(), s.recency(), s.age(), &m)
                    .unwrap()
            })
        });
        g.bench_function("score_columns_1e5", |b| {
            b.iter(|| {
                scorer
                    .score_columns(s.frequency(), s.recency(), s.age())
                    .unwrap()
            })
        });
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
