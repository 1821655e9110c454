//! NBD: the likelihood against its closed form, the gradient and Hessian against central
//! differences, the predictions against the negative binomial's textbook identities, DERT in
//! closed form, and parameter recovery through the registry (tests/recovery.rs).

use clv::fit::{FromRfm, MaximumLikelihood, gradient_discrepancy, hessian_discrepancy};
use clv::{Customer, FitOptions, NbdParams, RfmSummary, TimeUnit, TransactionModel};

fn cdnow() -> RfmSummary {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/data/cdnow_customers_summary.csv"
    );
    clv::io::read_summary_csv(path, TimeUnit::Weeks).unwrap()
}

#[test]
fn cdnow_fit_is_the_stationary_point_of_the_closed_form_likelihood() {
    let s = cdnow();
    let f = NbdParams::fit(&s, &FitOptions::default()).unwrap();
    let (r, alpha) = (f.params().r(), f.params().alpha());
    // values from scripts/nbd_reference.py (mpmath findroot of the score equations)
    assert!((r / 0.384767674 - 1.0).abs() < 1e-6, "{r}");
    assert!((alpha / 12.072084991 - 1.0).abs() < 1e-6, "{alpha}");
    assert!(
        (f.log_likelihood() + 9763.660222233).abs() < 1e-6,
        "{}",
        f.log_likelihood()
    );
    // the log-likelihood is the sum of the closed form over customers
    let by_hand: f64 = s.customers().map(|c| f.params().ln_likelihood(&c)).sum();
    assert!((by_hand - f.log_likelihood()).abs() < 1e-8);
    assert!(f.standard_errors().is_some());
    // the dropout processes improve on it: BG/NBD -9582.43, Pareto/NBD -9594.97
    assert!(f.log_likelihood() < -9594.97);
}

#[test]
fn gradient_and_hessian_match_central_differences() {
    let s = RfmSummary::new(
        (0..5).map(|i| i.to_string()).collect(),
        vec![0.0, 1.0, 4.0, 300.0, 2500.0],
        vec![0.0, 5.0, 20.0, 78.0, 400.0],
        vec![10.0, 30.0, 38.0, 78.0, 410.0],
        TimeUnit::Weeks,
    )
    .unwrap();
    let data = NbdParams::prepare(&s).unwrap();
    for theta in [[0.385, 12.07], [3.0, 0.5], [0.05, 200.0]] {
        let err = gradient_discrepancy::<NbdParams>(&theta, &data, 1e-5);
        assert!(err < 1e-6, "theta {theta:?}: gradient discrepancy {err:e}");
        let err = hessian_discrepancy::<NbdParams>(&theta, &data, 1e-5).unwrap();
        assert!(err < 1e-6, "theta {theta:?}: Hessian discrepancy {err:e}");
    }
}

#[test]
fn predictions_are_the_negative_binomials() {
    let m = NbdParams::new(0.385, 12.07).unwrap();
    let t = 39.0;
    // P(X = 0) = (α/(α+t))^r; the pmf sums to one with mean r t/α
    assert!((m.pmf(0, t) - (12.07f64 / 51.07).powf(0.385)).abs() < 1e-15);
    let p: Vec<f64> = (0..400).map(|n| m.pmf(n, t)).collect();
    let mean: f64 = p.iter().enumerate().map(|(n, p)| n as f64 * p).sum();
    assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-12);
    assert!((mean - m.expected_purchases(t)).abs() < 1e-10);
    // the posterior is Gamma(r+x, α+T)
    let c = Customer::new(5.0, 30.0, 40.0).unwrap();
    let want = 5.385 * t / 52.07;
    assert!((m.conditional_expected_purchases(&c, t) - want).abs() < 1e-12);
    let q: Vec<f64> = (0..400).map(|n| m.conditional_pmf(&c, n, t)).collect();
    let mean: f64 = q.iter().enumerate().map(|(n, p)| n as f64 * p).sum();
    assert!((mean - want).abs() < 1e-10);
    assert_eq!(m.p_alive(&c), 1.0);
    // DERT: constant rate (r+x)/(α+T), discounted in closed form
    let delta = 0.002;
    let d = m.dert(&c, delta, Some(52.0)).unwrap();
    assert!((d - 5.385 / 52.07 * (1.0 - (-delta * 52.0f64).exp()) / delta).abs() < 1e-12);
    assert!(
        (m.dert(&c, 0.0, Some(52.0)).unwrap() - m.conditional_expected_purchases(&c, 52.0)).abs()
            < 1e-12
    );
    assert!((m.dert(&c, delta, None).unwrap() - 5.385 / 52.07 / delta).abs() < 1e-9);
    assert!(m.dert(&c, 0.0, None).is_err());
    // finite for huge frequencies and horizons
    let big = Customer::new(20000.0, 100.0, 5000.0).unwrap();
    assert!(m.conditional_pmf(&big, 3, 1e6).is_finite());
    assert!(m.ln_likelihood(&big).is_finite());
    assert!(m.expected_purchases(-1.0).is_nan());
}

#[test]
fn data_without_repeat_purchases_is_refused() {
    let s = RfmSummary::new(
        vec!["a".into(), "b".into()],
        vec![0.0, 0.0],
        vec![0.0, 0.0],
        vec![10.0, 20.0],
        TimeUnit::Weeks,
    )
    .unwrap();
    let err = NbdParams::fit(&s, &FitOptions::default()).unwrap_err();
    assert!(matches!(err, clv::Error::NotIdentifiable { .. }), "{err}");
    assert!(err.to_string().contains("purchase rate"), "{err}");
}

#[test]
fn parameters_are_validated_and_round_trip_through_serde() {
    assert!(NbdParams::new(0.0, 1.0).is_err());
    assert!(NbdParams::new(1.0, f64::INFINITY).is_err());
    assert!(NbdParams::from_slice(&[1.0, 2.0, 3.0]).is_err());
    let m = NbdParams::new(0.385, 12.07).unwrap();
    let back: NbdParams = serde_json::from_str(&serde_json::to_string(&m).unwrap()).unwrap();
    assert_eq!(back, m);
    assert!(serde_json::from_str::<NbdParams>(r#"{"r":-1,"alpha":1}"#).is_err());
}
