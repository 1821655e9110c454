//! Parameter recovery for every registered transaction model, through the one generic path:
//! simulate with the model's [`Simulate`] implementation (seeded), fit by name with
//! [`AnyFitted::fit`], and require each estimate within 4 standard errors of the truth and the
//! mean simulated frequency within 4 standard errors of the model's E[X(T)].

use clv::TransactionModel;
use clv::sim::{Simulate, uniform_ages};
use clv::{
    AnyFitted, AnyParams, BgCnbdParams, BgNbdParams, FitOptions, GgomNbdParams, MbgCnbdParams,
    MbgNbdParams, NbdParams, ParetoNbdParams, TimeUnit,
};

/// A correct estimator lands within 4 standard errors of the truth with probability > 0.9999
/// per parameter; the seeds are fixed, so the test is deterministic, but it fails for a biased
/// likelihood, a wrong simulator or wrong standard errors.
const Z_MAX: f64 = 4.0;

fn truths() -> Vec<(AnyParams, Vec<f64>)> {
    vec![
        (
            AnyParams::BgNbd(BgNbdParams::new(0.243, 4.414, 0.793, 2.426).unwrap()),
            vec![0.243, 4.414, 0.793, 2.426],
        ),
        (
            AnyParams::ParetoNbd(ParetoNbdParams::new(0.553, 10.578, 0.606, 11.669).unwrap()),
            vec![0.553, 10.578, 0.606, 11.669],
        ),
        (
            AnyParams::ParetoNbd(ParetoNbdParams::new(1.5, 8.0, 2.0, 40.0).unwrap()),
            vec![1.5, 8.0, 2.0, 40.0],
        ),
        (
            AnyParams::MbgNbd(MbgNbdParams::new(0.525, 6.183, 0.891, 1.614).unwrap()),
            vec![0.525, 6.183, 0.891, 1.614],
        ),
        (
            AnyParams::Nbd(NbdParams::new(0.385, 12.07).unwrap()),
            vec![0.385, 12.07],
        ),
        (
            // a Gompertz hazard that doubles in 14 weeks: well inside the parameter space
            AnyParams::GgomNbd(GgomNbdParams::new(0.6, 8.0, 0.05, 1.2, 3.0).unwrap()),
            vec![0.6, 8.0, 0.05, 1.2, 3.0],
        ),
        (
            AnyParams::BgCnbd(BgCnbdParams::new(2, 1.2, 6.0, 0.7, 2.5).unwrap()),
            vec![2.0, 1.2, 6.0, 0.7, 2.5],
        ),
        (
            AnyParams::MbgCnbd(MbgCnbdParams::new(3, 0.9, 4.0, 0.8, 2.0).unwrap()),
            vec![3.0, 0.9, 4.0, 0.8, 2.0],
        ),
    ]
}

#[test]
fn every_model_recovers_simulated_parameters() {
    for (k, (m, truth)) in truths().into_iter().enumerate() {
        let seed = 10 + k as u64;
        let ages = uniform_ages(20_000, 1.0, 78.0, seed).unwrap();
        let s = m.simulate(&ages, TimeUnit::Weeks, seed + 100).unwrap();
        let f = AnyFitted::fit(m.model(), &s, &FitOptions::default()).unwrap();
        let got = f.estimates();
        let se = f.standard_errors().unwrap();
        for i in 0..truth.len() {
            if se[i] == 0.0 {
                // a whole-number parameter chosen by likelihood (the Erlang order k): found
                assert_eq!(got[i], truth[i], "{} {}", f.label(), f.names()[i]);
                continue;
            }
            let z = (got[i] - truth[i]) / se[i];
            assert!(
                z.abs() < Z_MAX,
                "{} {}: {} vs true {} (z = {z:.2})",
                f.label(),
                f.names()[i],
                got[i],
                truth[i]
            );
        }
        let n = s.len() as f64;
        let mean_x: f64 = s.frequency().iter().sum::<f64>() / n;
        let mean_e: f64 = ages.iter().map(|&t| m.expected_purchases(t)).sum::<f64>() / n;
        let sd = (s
            .frequency()
            .iter()
            .map(|x| (x - mean_x).powi(2))
            .sum::<f64>()
            / n)
            .sqrt();
        assert!(
            (mean_x - mean_e).abs() < Z_MAX * sd / n.sqrt(),
            "{}: mean x {mean_x} vs E {mean_e}",
            f.label()
        );
    }
}
