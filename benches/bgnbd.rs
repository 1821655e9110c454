use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;

fn bench_hyp2f1(c: &mut Criterion) {
    c.bench_function("ln_hyp2f1/bgnbd_conditional_x2", |bch| {
        bch.iter(|| {
            clv::special::ln_hyp2f1(
                black_box(2.243),
                black_box(4.426),
                black_box(4.219),
                black_box(0.45),
            )
        })
    });
}

criterion_group!(benches, bench_hyp2f1);
criterion_main!(benches);
