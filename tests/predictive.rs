//! Predictive intervals for the number of purchases: on the CDNOW 39-week holdout, the
//! actual counts fall inside the 90% predictive intervals for at least 90% of customers (the
//! intervals are conservative: counts are discrete), while the bootstrap intervals of the
//! expected count (parameter uncertainty only) hold almost none of them.

use clv::predictive::{holdout_coverage, purchase_interval, purchase_intervals};
use clv::uncertainty::BootstrapOptions;
use clv::{AnyFitted, Customer, FitOptions};

#[path = "support/cdnow_log.rs"]
mod cdnow_log;

#[test]
fn cdnow_holdout_coverage_of_predictive_intervals() {
    let s = cdnow_log::cdnow_from_log();
    for name in ["bgnbd", "pareto-nbd", "mbgnbd"] {
        let f = AnyFitted::fit(name, &s, &FitOptions::default()).unwrap();
        let m = f.params();
        let c90 = holdout_coverage(&m, &s, 0.9).unwrap();
        let c50 = holdout_coverage(&m, &s, 0.5).unwrap();
        eprintln!("{name}: coverage of the 90% predictive intervals {c90:.4}, 50%: {c50:.4}");
        assert!((0.9..0.99).contains(&c90), "{name}: {c90}");
        assert!(c50 >= 0.5 && c50 < c90, "{name}: {c50}");
    }
    // the parameter-uncertainty intervals of E[Y] are not prediction intervals
    let f = AnyFitted::fit("bgnbd", &s, &FitOptions::default()).unwrap();
    let h = s.holdout().unwrap();
    let bo = BootstrapOptions::new(100, 0.9, 1).unwrap();
    let iv = f
        .intervals::<clv::GammaGammaParams>(None, &s, h.duration, None, &bo)
        .unwrap();
    let inside = iv
        .iter()
        .zip(&h.frequency)
        .filter(|(b, y)| **y >= b.expected_purchases.low && **y <= b.expected_purchases.high)
        .count() as f64
        / s.len() as f64;
    eprintln!("coverage of the 90% bootstrap intervals of E[Y]: {inside:.4}");
    assert!(inside < 0.1, "{inside}");
}

/// The CLV predictive intervals (purchases from the model's posterior, spend from the
/// Gamma-Gamma posterior): on the CDNOW holdout (39 weeks, undiscounted, margin 1) each
/// customer's actual holdout spend lies in their 90% interval for about 90% of customers, and
/// the draws' means agree with the expected CLV.
#[test]
fn cdnow_holdout_coverage_of_clv_intervals() {
    use clv::GammaGammaParams;
    use clv::predictive::value_intervals;
    use clv::value::ClvOptions;
    let s = cdnow_log::cdnow_from_log();
    let h = s.holdout().unwrap();
    let gg = GammaGammaParams::fit(&s, &FitOptions::default()).unwrap();
    let o = ClvOptions::new(h.duration, s.unit()).unwrap();
    for name in ["bgnbd", "pareto-nbd"] {
        let f = AnyFitted::fit(name, &s, &FitOptions::default()).unwrap();
        let m = f.params();
        let iv = value_intervals(&m, gg.params(), &s, &o, 0.9, 2000, 11).unwrap();
        let actual: Vec<f64> = h
            .frequency
            .iter()
            .zip(&h.monetary_value)
            .map(|(x, m)| x * m)
            .collect();
        let inside = iv
            .iter()
            .zip(&actual)
            .filter(|(i, a)| i.contains(**a))
            .count() as f64
            / s.len() as f64;
        let expected = f.values(gg.params(), &s, &o).unwrap();
        let (sum_mean, sum_exp): (f64, f64) = iv
            .iter()
            .zip(&expected)
            .fold((0.0, 0.0), |acc, (i, e)| (acc.0 + i.mean, acc.1 + e));
        eprintln!(
            "{name}: coverage of the 90% CLV predictive intervals {inside:.4}; total of the \
             draws' means {sum_mean:.0} vs expected CLV {sum_exp:.0}; actual {:.0}",
            actual.iter().sum::<f64>()
        );
        assert!((0.85..0.97).contains(&inside), "{name}: {inside}");
        assert!(
            (sum_mean / sum_exp - 1.0).abs() < 0.01,
            "{sum_mean} vs {sum_exp}"
        );
    }
}

#[test]
fn intervals_are_quantiles_of_the_conditional_pmf() {
    let m = clv::BgNbdParams::new(0.243, 4.414, 0.793, 2.426).unwrap();
    use clv::TransactionModel;
    for c in [
        Customer::new(0.0, 0.0, 38.86).unwrap(),
        Customer::new(2.0, 30.43, 38.86).unwrap(),
        Customer::new(26.0, 30.857143, 31.0).unwrap(),
    ] {
        let iv = purchase_interval(&m, &c, 39.0, 0.8).unwrap();
        let cdf = |n: u64| (0..=n).map(|k| m.conditional_pmf(&c, k, 39.0)).sum::<f64>();
        assert!(cdf(iv.high) >= 0.9);
        assert!(iv.high == 0 || cdf(iv.high - 1) < 0.9);
        assert!(cdf(iv.low) >= 0.1);
        assert!(iv.low == 0 || cdf(iv.low - 1) < 0.1);
    }
    let s = cdnow_log::cdnow_from_log();
    let all = purchase_intervals(&m, &s, 39.0, 0.9).unwrap();
    assert_eq!(all.len(), s.len());
    assert_eq!(
        all[0],
        purchase_interval(&m, &s.customer(0), 39.0, 0.9).unwrap()
    );
    let c = Customer::new(1.0, 1.0, 2.0).unwrap();
    for bad in [0.0, 1.0, f64::NAN, -0.5] {
        assert!(purchase_interval(&m, &c, 39.0, bad).is_err());
    }
    assert!(purchase_interval(&m, &c, -1.0, 0.9).is_err());
}
