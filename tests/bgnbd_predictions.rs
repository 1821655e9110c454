//! BG/NBD predictions against 50-digit mpmath values (`tests/data/bgnbd_reference.csv`, made by
//! `scripts/bgnbd_reference.py`), including customers with x = 3000 and 5000 where other
//! libraries overflow; plus the gradient against finite differences, pmf normalisation and
//! serde round trips.

use clv::{BgNbdParams, Customer, RfmSummary, TimeUnit, TransactionModel};

/// Relative tolerance against the 50-digit values. The predictions combine log-gammas of
/// arguments up to ~5000 (absolute error ~1e-13 each) and 2F1 values up to e^4000 whose logs
/// are accurate to ~1e-12 relative, so 1e-9 relative leaves a margin of ~100.
const REL_TOL: f64 = 1e-9;

#[test]
fn predictions_match_mpmath_including_huge_x() {
    let text = include_str!("data/bgnbd_reference.csv");
    let mut worst = 0.0_f64;
    let mut n = 0;
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        let num = |i: usize| f[i].parse::<f64>().unwrap();
        let m = BgNbdParams::new(num(1), num(2), num(3), num(4)).unwrap();
        let want = num(11);
        let cust = || Customer::new(num(5), num(6), num(7)).unwrap();
        let got = match f[10] {
            "expected_purchases" => m.expected_purchases(num(8)),
            "pmf" => m.pmf(f[9].parse().unwrap(), num(8)),
            "p_alive" => m.p_alive(&cust()),
            "conditional_expected_purchases" => m.conditional_expected_purchases(&cust(), num(8)),
            "conditional_pmf" => m.conditional_pmf(&cust(), f[9].parse().unwrap(), num(8)),
            other => panic!("unknown quantity {other}"),
        };
        let rel = ((got - want) / want).abs();
        assert!(
            got.is_finite() && rel < REL_TOL,
            "{line}: got {got:e}, rel err {rel:e}"
        );
        worst = worst.max(rel);
        n += 1;
    }
    assert!(n > 150);
    eprintln!("{n} reference values, worst relative error {worst:e}");
}

#[test]
fn gradient_and_hessian_match_central_differences() {
    let s = RfmSummary::new(
        (0..5).map(|i| i.to_string()).collect(),
        vec![0.0, 1.0, 4.0, 30.0, 2.0],
        vec![0.0, 5.0, 20.0, 37.0, 1.0],
        vec![10.0, 30.0, 38.0, 39.0, 2.0],
        TimeUnit::Weeks,
    )
    .unwrap();
    let data = s.compress();
    for theta in [
        [0.243, 4.414, 0.793, 2.426],
        [2.0, 0.5, 3.0, 0.7],
        [0.05, 30.0, 0.2, 9.0],
    ] {
        let err = clv::fit::gradient_discrepancy::<BgNbdParams>(&theta, &data, 1e-6);
        assert!(err < 1e-6, "theta {theta:?}: gradient discrepancy {err:e}");
        // central differences of the gradient: truncation ~ (1e-5)² relative, rounding
        // ~ 1e-16 / 1e-5; 1e-6 leaves room for both and catches any wrong term
        let err = clv::fit::hessian_discrepancy::<BgNbdParams>(&theta, &data, 1e-5).unwrap();
        assert!(err < 1e-6, "theta {theta:?}: Hessian discrepancy {err:e}");
    }
}

#[test]
fn per_customer_log_likelihoods_sum_to_total() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/data/cdnow_customers_summary.csv"
    );
    let s = clv::io::read_summary_csv(path, TimeUnit::Weeks).unwrap();
    let m = BgNbdParams::new(0.243, 4.414, 0.793, 2.426).unwrap();
    let sum: f64 = s.customers().map(|c| m.ln_likelihood(&c)).sum();
    assert!((sum - m.log_likelihood(&s)).abs() < 1e-8 * sum.abs());
}

#[test]
fn pmfs_sum_to_one_and_expectations_increase() {
    let m = BgNbdParams::new(0.243, 4.414, 0.793, 2.426).unwrap();
    let total: f64 = (0..400).map(|n| m.pmf(n, 39.0)).sum();
    assert!(
        (total - 1.0).abs() < 1e-9,
        "unconditional pmf sums to {total}"
    );
    let mean: f64 = (0..400).map(|n| n as f64 * m.pmf(n, 39.0)).sum();
    assert!(
        (mean - m.expected_purchases(39.0)).abs() < 1e-6,
        "pmf mean {mean}"
    );
    for c in [
        Customer::new(0.0, 0.0, 38.86).unwrap(),
        Customer::new(2.0, 30.43, 38.86).unwrap(),
        Customer::new(3000.0, 519.0, 520.0).unwrap(),
    ] {
        let total: f64 = (0..2000).map(|n| m.conditional_pmf(&c, n, 39.0)).sum();
        assert!(
            (total - 1.0).abs() < 1e-9,
            "{c:?}: conditional pmf sums to {total}"
        );
        let mean: f64 = (0..2000)
            .map(|n| n as f64 * m.conditional_pmf(&c, n, 39.0))
            .sum();
        let ce = m.conditional_expected_purchases(&c, 39.0);
        assert!(
            (mean - ce).abs() < 1e-6 * ce.max(1.0),
            "{c:?}: pmf mean {mean} vs {ce}"
        );
        let mut prev = 0.0;
        for t in [0.0, 0.5, 1.0, 10.0, 52.0, 520.0] {
            let e = m.conditional_expected_purchases(&c, t);
            assert!(e >= prev && e.is_finite());
            prev = e;
        }
        let pa = m.p_alive(&c);
        assert!((0.0..=1.0).contains(&pa));
    }
}

#[test]
fn removable_singularity_at_a_equal_one_is_smooth() {
    let e = |a: f64| {
        BgNbdParams::new(0.5, 3.0, a, 2.0)
            .unwrap()
            .expected_purchases(20.0)
    };
    let (lo, mid, hi) = (e(1.0 - 1e-3), e(1.0), e(1.0 + 1e-3));
    assert!(mid.is_finite());
    assert!((mid - 0.5 * (lo + hi)).abs() < 1e-6, "{lo} {mid} {hi}");
}

#[test]
fn params_and_fitted_round_trip_through_json() {
    let m = BgNbdParams::new(0.243, 4.414, 0.793, 2.426).unwrap();
    let j = serde_json::to_string(&m).unwrap();
    assert_eq!(serde_json::from_str::<BgNbdParams>(&j).unwrap(), m);
    let bad = r#"{"r":-1.0,"alpha":4.4,"a":0.8,"b":2.4}"#;
    assert!(serde_json::from_str::<BgNbdParams>(bad).is_err());
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/data/cdnow_customers_summary.csv"
    );
    let s = clv::io::read_summary_csv(path, TimeUnit::Weeks).unwrap();
    let f = BgNbdParams::fit(&s, &clv::FitOptions::default()).unwrap();
    let j = clv::fit::ModelFile::from_fitted(&f).to_json().unwrap();
    let back: clv::Fitted<BgNbdParams> = clv::fit::ModelFile::from_json(&j)
        .unwrap()
        .to_fitted()
        .unwrap();
    assert_eq!(back, f);
}
