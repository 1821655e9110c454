//! Gamma-Gamma on CDNOW (Fader & Hardie note 025; the 946 repeat buyers of
//! `cdnow_customers_summary_with_transactions.csv`).

use clv::io::read_summary_csv;
use clv::models::gamma_gamma::SpendData;
use clv::{Error, FitOptions, GammaGammaParams, SpendModel, TimeUnit};

/// Published p=6.25, q=3.74, v=15.44 (3 significant digits): ±0.5%.
const PARAM_REL_TOL: f64 = 5e-3;
/// LL = -4055.92 ± 0.01.
const LL_TOL: f64 = 0.01;
/// Conditional expected spend, published to cents: ±0.01.
const SPEND_TOL: f64 = 0.01;

fn cdnow() -> clv::RfmSummary {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/data/cdnow_customers_summary_with_transactions.csv"
    );
    read_summary_csv(path, TimeUnit::Weeks).unwrap()
}

#[test]
fn fit_and_conditional_spend_match_published_values() {
    let s = cdnow();
    let f = GammaGammaParams::fit(&s, &FitOptions::default()).unwrap();
    let p = f.params();
    for (got, want, name) in [(p.p(), 6.25, "p"), (p.q(), 3.74, "q"), (p.v(), 15.44, "v")] {
        assert!(
            (got / want - 1.0).abs() < PARAM_REL_TOL,
            "{name}: {got} vs {want}"
        );
    }
    assert!(
        (f.log_likelihood() + 4055.92).abs() < LL_TOL,
        "LL {}",
        f.log_likelihood()
    );
    assert_eq!(f.n_customers(), 946.0);
    // the independence check is reported with the fit (0.11 on CDNOW: no warning)
    assert!(
        f.warnings()[0]
            .to_string()
            .starts_with("frequency-spend correlation among repeat buyers: 0.11")
    );
    assert_eq!(f.warnings()[0].severity(), clv::fit::Severity::Info);
    assert_eq!(f.warnings().len(), 1);
    assert!(f.standard_errors().is_some());
    let want = [
        24.65, 18.91, 35.17, 35.17, 35.17, 71.46, 18.91, 35.17, 27.28, 35.17,
    ];
    let m = s.monetary_value().unwrap();
    for i in 0..10 {
        let got = p
            .conditional_expected_spend(s.frequency()[i], m[i])
            .unwrap();
        assert!(
            (got - want[i]).abs() < SPEND_TOL,
            "customer {}: {got} vs {}",
            i + 1,
            want[i]
        );
    }
    eprintln!(
        "gamma-gamma: p={} q={} v={} LL={} SE={:?}",
        p.p(),
        p.q(),
        p.v(),
        f.log_likelihood(),
        f.standard_errors()
    );
}

#[test]
fn gradient_and_hessian_match_central_differences() {
    let d = SpendData::from_summary(&cdnow()).unwrap();
    for theta in [[6.25, 3.74, 15.44], [0.5, 1.2, 3.0], [40.0, 9.0, 100.0]] {
        // the total over 946 buyers is ~4000, so rounding noise in a difference quotient is
        // ~1e-11/h: h = 1e-4·θ keeps it and the O(h²) truncation both below the 1e-5 tolerance
        let err = clv::fit::gradient_discrepancy::<GammaGammaParams>(&theta, &d, 1e-4);
        assert!(err < 1e-5, "{theta:?}: gradient discrepancy {err:e}");
        let err = clv::fit::hessian_discrepancy::<GammaGammaParams>(&theta, &d, 1e-4).unwrap();
        assert!(err < 1e-5, "{theta:?}: Hessian discrepancy {err:e}");
    }
}

#[test]
fn infinite_mean_spend_is_an_error_not_a_number() {
    let m = GammaGammaParams::new(6.0, 0.8, 15.0).unwrap();
    assert!(matches!(
        m.population_mean_spend(),
        Err(Error::Numerical { .. })
    ));
    assert!(m.conditional_expected_spend(0.0, 0.0).is_err());
    // a repeat buyer still has a finite conditional mean when p·x + q - 1 > 0
    assert!(m.conditional_expected_spend(3.0, 20.0).unwrap().is_finite());
}

#[test]
fn zero_spend_repeat_buyer_is_named() {
    let s = clv::RfmSummary::new(
        vec!["a".into(), "b".into()],
        vec![1.0, 2.0],
        vec![1.0, 2.0],
        vec![3.0, 3.0],
        TimeUnit::Weeks,
    )
    .unwrap()
    .with_monetary_value(vec![10.0, 0.0])
    .unwrap();
    match GammaGammaParams::fit(&s, &FitOptions::default()).unwrap_err() {
        Error::InvalidData {
            row,
            customer,
            field,
            ..
        } => {
            assert_eq!(
                (row, customer.as_deref(), field),
                (Some(2), Some("b"), "monetary_value")
            );
        }
        other => panic!("{other:?}"),
    }
}
