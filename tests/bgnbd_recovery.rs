//! Parameter recovery: fitting simulated BG/NBD data (seeded) gives back the true parameters
//! within their standard errors, and the predicted total matches the simulated mean.

use clv::sim::{simulate_bgnbd, uniform_ages};
use clv::{BgNbdParams, FitOptions, TimeUnit, TransactionModel};

/// A correct estimator lands within 4 standard errors of the truth with probability > 0.9999
/// per parameter; the seed is fixed, so the test is deterministic, but it would fail for a
/// biased likelihood or wrong standard errors.
const Z_MAX: f64 = 4.0;

#[test]
fn fit_recovers_simulated_parameters() {
    for (seed, truth) in [
        (1u64, [0.243, 4.414, 0.793, 2.426]),
        (2, [1.5, 12.0, 2.5, 6.0]),
    ] {
        let m = BgNbdParams::new(truth[0], truth[1], truth[2], truth[3]).unwrap();
        let ages = uniform_ages(20_000, 1.0, 78.0, seed).unwrap();
        let s = simulate_bgnbd(&m, &ages, TimeUnit::Weeks, seed + 100).unwrap();
        let f = BgNbdParams::fit(&s, &FitOptions::default()).unwrap();
        let p = f.params();
        let got = [p.r(), p.alpha(), p.a(), p.b()];
        let se = f.standard_errors().unwrap();
        for i in 0..4 {
            let z = (got[i] - truth[i]) / se[i];
            assert!(
                z.abs() < Z_MAX,
                "seed {seed} {}: {} vs true {} (z = {z:.2})",
                f.names()[i],
                got[i],
                truth[i]
            );
        }
        // mean simulated x equals the average of E[X(T_i)] under the truth (law of large numbers)
        let mean_x: f64 = s.frequency().iter().sum::<f64>() / s.len() as f64;
        let mean_e: f64 =
            ages.iter().map(|&t| m.expected_purchases(t)).sum::<f64>() / ages.len() as f64;
        let sd: f64 = (s
            .frequency()
            .iter()
            .map(|x| (x - mean_x).powi(2))
            .sum::<f64>()
            / s.len() as f64)
            .sqrt();
        assert!(
            (mean_x - mean_e).abs() < Z_MAX * sd / (s.len() as f64).sqrt(),
            "mean x {mean_x} vs E {mean_e}"
        );
    }
}
