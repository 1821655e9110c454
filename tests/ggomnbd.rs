//! GGom/NBD: every prediction and the likelihood against 30-digit mpmath quadratures of the
//! model's definitions (`tests/data/ggomnbd_reference.csv`, made by
//! `scripts/ggomnbd_reference.py`), the analytic gradient against central differences, the
//! Pareto/NBD limit, and the CDNOW fit's boundary diagnosis (issue 13: the maximum is at
//! b, β → 0, where the model is Pareto/NBD).

use clv::fit::{FromRfm, MaximumLikelihood, gradient_discrepancy, hessian_discrepancy};
use clv::{
    Customer, Error, FitOptions, GgomNbdParams, ParetoNbdParams, RfmSummary, TimeUnit,
    TransactionModel,
};

#[path = "support/reference_table.rs"]
mod reference_table;

fn cdnow() -> RfmSummary {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/data/cdnow_customers_summary.csv"
    );
    clv::io::read_summary_csv(path, TimeUnit::Weeks).unwrap()
}

#[test]
fn cdnow_maximum_is_the_pareto_nbd_boundary() {
    let err = GgomNbdParams::fit(&cdnow(), &FitOptions::default()).unwrap_err();
    let Error::OnBoundary {
        model,
        parameters,
        toward,
        limit,
        log_likelihood,
    } = err.clone()
    else {
        panic!("{err:?}");
    };
    assert_eq!(
        (model, parameters, toward, limit),
        ("ggomnbd", "b, beta", "0", "pareto-nbd")
    );
    // Pareto/NBD's CDNOW maximum, -9594.97393 (tests/pareto_nbd.rs)
    assert!(
        (log_likelihood + 9594.97393).abs() < 1e-3,
        "{log_likelihood}"
    );
    assert!(err.to_string().contains("fit pareto-nbd instead"), "{err}");
    // the paper's printed estimates are not a maximum: their LL is below Pareto/NBD's
    let paper = GgomNbdParams::new(0.553, 10.578, 0.0002, 0.603, 0.0026).unwrap();
    assert!(paper.log_likelihood(&cdnow()) < log_likelihood);
}

/// Relative tolerance against the 30-digit quadratures: the likelihood's integral is computed
/// to 1e-12 relative and the predictions' panels to 1e-13; 1e-9 leaves a margin for the
/// cancellation in 1 - S and for the log-likelihood's sums of log-gammas.
const REL_TOL: f64 = 1e-9;

#[test]
fn predictions_match_mpmath_quadrature() {
    let text = include_str!("data/ggomnbd_reference.csv");
    let delta = 1.15f64.ln() / 52.0;
    let (n, _) = reference_table::check(text, REL_TOL, |row| {
        let p = &row.params;
        let m = GgomNbdParams::new(p[0], p[1], p[2], p[3], p[4]).unwrap();
        let c = || row.customer.unwrap();
        match row.quantity {
            "expected_purchases" => m.expected_purchases(row.t),
            "pmf" => m.pmf(row.n, row.t),
            "ln_likelihood" => m.ln_likelihood(&c()),
            "p_alive" => m.p_alive(&c()),
            "dert" => m.dert(&c(), delta, None).unwrap(),
            "conditional_expected_purchases" => m.conditional_expected_purchases(&c(), row.t),
            "conditional_pmf" => m.conditional_pmf(&c(), row.n, row.t),
            other => panic!("unknown quantity {other}"),
        }
    });
    assert!(n > 200, "{n}");
}

#[test]
fn gradient_and_hessian_match_central_differences() {
    let s = RfmSummary::new(
        (0..6).map(|i| i.to_string()).collect(),
        vec![0.0, 1.0, 4.0, 30.0, 2.0, 300.0],
        vec![0.0, 5.0, 20.0, 37.0, 1.0, 70.0],
        vec![10.0, 30.0, 38.0, 39.0, 2.0, 78.0],
        TimeUnit::Weeks,
    )
    .unwrap();
    let data = GgomNbdParams::prepare(&s).unwrap();
    for theta in [
        [0.6, 8.0, 0.05, 1.2, 3.0],
        [1.5, 20.0, 0.2, 0.4, 0.5],
        [0.553, 10.578, 2e-4, 0.606, 2.3e-3],
    ] {
        // the integral is accurate to 1e-12 relative, so the differences' noise is
        // ~1e-12·|LL|/(1e-5·θ): 1e-5 discrepancy still catches a wrong term (off by O(1))
        let err = gradient_discrepancy::<GgomNbdParams>(&theta, &data, 1e-5);
        assert!(err < 1e-5, "theta {theta:?}: gradient discrepancy {err:e}");
        let err = hessian_discrepancy::<GgomNbdParams>(&theta, &data, 1e-5).unwrap();
        assert!(err < 1e-5, "theta {theta:?}: Hessian discrepancy {err:e}");
    }
}

#[test]
fn small_b_is_pareto_nbd_with_beta_over_b() {
    let p = ParetoNbdParams::new(0.553, 10.578, 0.606, 11.669).unwrap();
    let g = GgomNbdParams::new(0.553, 10.578, 1e-9, 0.606, 11.669e-9).unwrap();
    for (x, tx, t) in [
        (0.0, 0.0, 38.86),
        (2.0, 30.43, 38.86),
        (26.0, 30.857143, 31.0),
    ] {
        let c = Customer::new(x, tx, t).unwrap();
        // the limit is approached at rate b·T (~1e-7 here)
        assert!((g.ln_likelihood(&c) - p.ln_likelihood(&c)).abs() < 1e-6);
        assert!((g.p_alive(&c) - p.p_alive(&c)).abs() < 1e-6);
        let (eg, ep) = (
            g.conditional_expected_purchases(&c, 39.0),
            p.conditional_expected_purchases(&c, 39.0),
        );
        assert!((eg / ep - 1.0).abs() < 1e-6, "{eg} vs {ep}");
    }
}

#[test]
fn pmf_sums_to_one_and_dert_without_discount_is_the_mean() {
    let m = GgomNbdParams::new(0.6, 8.0, 0.05, 1.2, 3.0).unwrap();
    let t = 39.0;
    let p: Vec<f64> = (0..150).map(|n| m.pmf(n, t)).collect();
    let mean: f64 = p.iter().enumerate().map(|(n, p)| n as f64 * p).sum();
    assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-9);
    assert!((mean / m.expected_purchases(t) - 1.0).abs() < 1e-9);
    let c = Customer::new(4.0, 20.0, 38.0).unwrap();
    for h in [1.0, 52.0, 520.0] {
        let d = m.dert(&c, 0.0, Some(h)).unwrap();
        let e = m.conditional_expected_purchases(&c, h);
        assert!((d / e - 1.0).abs() < 1e-9, "{h}: {d} vs {e}");
    }
    assert!(m.dert(&c, 0.0, None).is_err());
}

#[test]
fn parameters_are_validated_and_round_trip_through_serde() {
    assert!(GgomNbdParams::new(0.0, 1.0, 1.0, 1.0, 1.0).is_err());
    assert!(GgomNbdParams::new(1.0, 1.0, f64::NAN, 1.0, 1.0).is_err());
    assert!(GgomNbdParams::from_slice(&[1.0, 2.0]).is_err());
    let m = GgomNbdParams::new(0.6, 8.0, 0.05, 1.2, 3.0).unwrap();
    let back: GgomNbdParams = serde_json::from_str(&serde_json::to_string(&m).unwrap()).unwrap();
    assert_eq!(back, m);
}
