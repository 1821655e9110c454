use clv::sim::{simulate_bgnbd, uniform_ages};
use clv::{BgNbdParams, FitOptions, TimeUnit};
use std::time::Instant;
fn main() {
    let m = BgNbdParams::new(0.243, 4.414, 0.793, 2.426).unwrap();
    let n: usize = std::env::args()
        .nth(1)
        .map(|s| s.parse().unwrap())
        .unwrap_or(1_000_000);
    let t = Instant::now();
    let ages = uniform_ages(n, 1.0, 78.0, 3).unwrap();
    let s = simulate_bgnbd(&m, &ages, TimeUnit::Weeks, 4).unwrap();
    println!("sim {:?}", t.elapsed());
    let t = Instant::now();
    let c = s.compress();
    println!("compress {:?} rows {}", t.elapsed(), c.len());
    use clv::fit::MaximumLikelihood;
    let th = [0.243, 4.414, 0.793, 2.426];
    let (mut g, mut h) = ([0.0; 4], [0.0; 16]);
    for _ in 0..3 {
        let t = Instant::now();
        for _ in 0..10 {
            BgNbdParams::log_likelihood_grad(&th, &c, Some(&mut g));
        }
        let a = t.elapsed() / 10;
        let t = Instant::now();
        for _ in 0..10 {
            BgNbdParams::log_likelihood_hessian(&th, &c, &mut g, &mut h);
        }
        println!("ll_grad {:?} with hessian {:?}", a, t.elapsed() / 10);
    }
    for _ in 0..3 {
        let t = Instant::now();
        let f = BgNbdParams::fit(&s, &FitOptions::default()).unwrap();
        println!(
            "fit {:?} {:?} {:?}",
            t.elapsed(),
            f.params(),
            f.convergence()
        );
    }
}
#[allow(dead_code)]
fn unused() {}
