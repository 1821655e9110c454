//! Pareto/NBD: the CDNOW optimum and standard errors (issue 12's acceptance values), every
//! prediction against 40-digit mpmath values (`tests/data/pareto_nbd_reference.csv`, made by
//! `scripts/pareto_nbd_reference.py`) including t_x = T with x = 300, x = 3000 and CLVTools'
//! overflow customers, the published DERT walk-through, and the analytic gradient and Hessian
//! against central differences in both branches (α ≥ β and α < β) and in the quadrature regime.

use clv::fit::{FromRfm, MaximumLikelihood, gradient_discrepancy, hessian_discrepancy};
use clv::{Customer, FitOptions, ParetoNbdParams, RfmSummary, TimeUnit, TransactionModel};

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
fn cdnow_fit_matches_published_optimum_and_standard_errors() {
    let f = ParetoNbdParams::fit(&cdnow(), &FitOptions::default()).unwrap();
    let p = f.params();
    // β is flat along the optimum: ±2e-4 relative; the others ±1e-4
    for (got, want, tol) in [
        (p.r(), 0.553276, 1e-4),
        (p.alpha(), 10.57761, 1e-4),
        (p.s(), 0.606214, 1e-4),
        (p.beta(), 11.66791, 2e-4),
    ] {
        assert!((got / want - 1.0).abs() < tol, "{got} vs {want}");
    }
    assert!(
        (f.log_likelihood() + 9594.97393).abs() < 1e-5,
        "{}",
        f.log_likelihood()
    );
    let se = f.standard_errors().unwrap();
    for (got, want) in se.iter().zip([0.04763, 0.84272, 0.18728, 6.21099]) {
        assert!((got / want - 1.0).abs() < 0.02, "SE {got} vs {want}");
    }
    assert!(f.convergence().converged);
    assert!(f.warnings().is_empty(), "{:?}", f.warnings());
    assert_eq!(f.n_customers(), 2357.0);
}

/// Relative tolerance against the 40-digit values: the likelihood and P(alive) combine
/// log-gammas of arguments up to ~3000 (absolute error ~1e-13 each) and series summed to 1e-17;
/// the pmf integrals are adaptive to 1e-13. 1e-9 leaves a margin of ~100 over the worst seen.
const REL_TOL: f64 = 1e-9;

#[test]
fn predictions_match_mpmath_including_extreme_customers() {
    let text = include_str!("data/pareto_nbd_reference.csv");
    let delta = 1.15f64.ln() / 52.0;
    let (n, _) = reference_table::check(text, REL_TOL, |row| {
        let p = &row.params;
        let m = ParetoNbdParams::new(p[0], p[1], p[2], p[3]).unwrap();
        let c = || row.customer.unwrap();
        match row.quantity {
            "expected_purchases" => m.expected_purchases(row.t),
            "pmf" => m.pmf(row.n, row.t),
            "ln_likelihood" => m.ln_likelihood(&c()),
            "p_alive" => m.p_alive(&c()),
            "p_alive_at" => m.p_alive_at(&c(), row.t).unwrap(),
            "dert" => m.dert(&c(), delta, None).unwrap(),
            "conditional_expected_purchases" => m.conditional_expected_purchases(&c(), row.t),
            "conditional_pmf" => m.conditional_pmf(&c(), row.n, row.t),
            other => panic!("unknown quantity {other}"),
        }
    });
    assert!(n > 900, "{n}");
}

#[test]
fn issue_walkthrough_values() {
    let paper = ParetoNbdParams::new(0.553, 10.578, 0.606, 11.669).unwrap();
    for (t, want) in [
        (1.0, 0.050979843),
        (10.0, 0.42760114),
        (39.0, 1.2130028),
        (78.0, 1.9093981),
    ] {
        // the published values have 8 significant digits
        assert!(
            (paper.expected_purchases(t) / want - 1.0).abs() < 5e-8,
            "E[X({t})]"
        );
    }
    // FHL 2005 "RFM and CLV": P(alive) and DERT at 15% a year
    let m = ParetoNbdParams::new(0.55315, 10.57633, 0.60625, 11.67150).unwrap();
    let delta = 1.15f64.ln() / 52.0;
    for ((x, tx, t), pa, dert) in [
        ((0.0, 0.0, 38.86), 0.29515, 0.47824),
        ((2.0, 30.43, 38.86), 0.86912, 6.49993),
        ((26.0, 30.857143, 31.0), 0.99787, 86.26106),
    ] {
        let c = Customer::new(x, tx, t).unwrap();
        assert!((m.p_alive(&c) - pa).abs() < 5e-6, "P(alive) {x}");
        assert!(
            (m.dert(&c, delta, None).unwrap() - dert).abs() < 5e-5,
            "DERT {x}"
        );
    }
    // t_x = T with x = 300 at the CDNOW optimum: alive for sure, and finite where other
    // libraries give NaN (mpmath: 118.068345)
    let fitted = ParetoNbdParams::new(0.553276, 10.57761, 0.606214, 11.66791).unwrap();
    let c = Customer::new(300.0, 78.0, 78.0).unwrap();
    assert_eq!(fitted.p_alive(&c), 1.0);
    assert!((fitted.conditional_expected_purchases(&c, 39.0) - 118.068345).abs() < 1e-6);
}

#[test]
fn gradient_and_hessian_match_central_differences_in_every_regime() {
    let s = RfmSummary::new(
        (0..7).map(|i| i.to_string()).collect(),
        vec![0.0, 1.0, 4.0, 30.0, 2.0, 300.0, 2500.0],
        vec![0.0, 5.0, 20.0, 37.0, 1.0, 78.0, 400.0],
        vec![10.0, 30.0, 38.0, 39.0, 2.0, 78.0, 410.0],
        TimeUnit::Weeks,
    )
    .unwrap();
    let data = ParetoNbdParams::prepare(&s).unwrap();
    for theta in [
        [0.553, 10.578, 0.606, 11.669], // α < β, the CDNOW optimum's region
        [0.8, 15.0, 1.5, 3.0],          // α > β
        [0.8, 400.0, 1.5, 0.5],         // α ≫ β: z near 1, the quadrature
        [2.0, 0.5, 0.3, 300.0],         // β ≫ α: z near 1 in the other branch
        [0.5, 7.0, 1.0, 7.0],           // α = β: z = 0 exactly
    ] {
        // relative step 1e-5: rounding ~1e-16·|LL|/(1e-5·θ) and truncation ~(1e-5)² both stay
        // well below 1e-6 for these |LL| ~ 1e3; a wrong term is off by O(1)
        let err = gradient_discrepancy::<ParetoNbdParams>(&theta, &data, 1e-5);
        assert!(err < 1e-6, "theta {theta:?}: gradient discrepancy {err:e}");
        let err = hessian_discrepancy::<ParetoNbdParams>(&theta, &data, 1e-5).unwrap();
        assert!(err < 1e-6, "theta {theta:?}: Hessian discrepancy {err:e}");
    }
}

#[test]
fn likelihood_is_continuous_across_the_branches_and_exact_at_alpha_equals_beta() {
    let c = Customer::new(4.0, 20.0, 38.0).unwrap();
    let at = |alpha: f64| {
        ParetoNbdParams::new(0.5, alpha, 0.8, 7.0)
            .unwrap()
            .ln_likelihood(&c)
    };
    let (lo, mid, hi) = (at(7.0 - 1e-9), at(7.0), at(7.0 + 1e-9));
    assert!(
        (lo - mid).abs() < 1e-9 && (hi - mid).abs() < 1e-9,
        "{lo} {mid} {hi}"
    );
    // α = β: K(y) = (α+y)^{-(r+s+x)}/(r+s+x) in closed form
    let (r, a, s, x, tx, t) = (0.5f64, 7.0f64, 0.8f64, 4.0, 20.0, 38.0);
    let k = |y: f64| -(r + s + x) * (a + y).ln() - (r + s + x).ln();
    let bracket =
        (-(r + x) * (a + t).ln() - s * (a + t).ln()).exp() + s * (k(tx).exp() - k(t).exp());
    let want =
        clv::special::ln_gamma(r + x) - clv::special::ln_gamma(r) + (r + s) * a.ln() + bracket.ln();
    assert!((mid - want).abs() < 1e-12 * want.abs(), "{mid} vs {want}");
}

#[test]
fn predictions_stay_finite_for_huge_frequencies_and_horizons() {
    let m = ParetoNbdParams::new(0.553, 10.578, 0.606, 11.669).unwrap();
    for (x, tx, t) in [
        (5000.0, 999.5, 1000.0),
        (20000.0, 100.0, 5000.0),
        (1.0, 0.001, 5000.0),
    ] {
        let c = Customer::new(x, tx, t).unwrap();
        let pa = m.p_alive(&c);
        assert!(pa.is_finite() && (0.0..=1.0).contains(&pa), "{x}: {pa}");
        for h in [1.0, 1e3, 1e6] {
            let e = m.conditional_expected_purchases(&c, h);
            assert!(e.is_finite() && e >= 0.0, "{x} {h}: {e}");
            let p0 = m.conditional_pmf(&c, 0, h);
            assert!(p0.is_finite() && (0.0..=1.0).contains(&p0), "{x} {h}: {p0}");
        }
        assert!(m.ln_likelihood(&c).is_finite());
        assert!(m.dert(&c, 1e-3, None).unwrap().is_finite());
    }
}

#[test]
fn pmf_sums_to_one_and_matches_the_mean() {
    let m = ParetoNbdParams::new(0.553, 10.578, 0.606, 11.669).unwrap();
    let t = 39.0;
    let p: Vec<f64> = (0..200).map(|n| m.pmf(n, t)).collect();
    let total: f64 = p.iter().sum();
    let mean: f64 = p.iter().enumerate().map(|(n, p)| n as f64 * p).sum();
    assert!((total - 1.0).abs() < 1e-9, "{total}");
    assert!((mean - m.expected_purchases(t)).abs() < 1e-7, "{mean}");
    let c = Customer::new(2.0, 30.43, 38.86).unwrap();
    let q: Vec<f64> = (0..200).map(|n| m.conditional_pmf(&c, n, t)).collect();
    let mean: f64 = q.iter().enumerate().map(|(n, p)| n as f64 * p).sum();
    assert!((q.iter().sum::<f64>() - 1.0).abs() < 1e-9);
    assert!((mean - m.conditional_expected_purchases(&c, t)).abs() < 1e-7);
}

#[test]
fn dert_with_no_discount_is_the_expected_purchases() {
    let m = ParetoNbdParams::new(0.5143, 2.8845, 0.2856, 14.1087).unwrap();
    for (x, tx, t) in [(0.0, 0.0, 10.0), (221.0, 103.43, 103.57), (3.0, 5.0, 80.0)] {
        let c = Customer::new(x, tx, t).unwrap();
        for h in [1.0, 52.0, 520.0] {
            let d = m.dert(&c, 0.0, Some(h)).unwrap();
            let e = m.conditional_expected_purchases(&c, h);
            assert!((d / e - 1.0).abs() < 1e-9, "{x} {h}: {d} vs {e}");
        }
    }
}

#[test]
fn parameters_are_validated_and_round_trip_through_serde() {
    assert!(ParetoNbdParams::new(0.0, 1.0, 1.0, 1.0).is_err());
    assert!(ParetoNbdParams::new(1.0, f64::NAN, 1.0, 1.0).is_err());
    assert!(ParetoNbdParams::from_slice(&[1.0, 2.0]).is_err());
    let m = ParetoNbdParams::new(0.553, 10.578, 0.606, 11.669).unwrap();
    let back: ParetoNbdParams = serde_json::from_str(&serde_json::to_string(&m).unwrap()).unwrap();
    assert_eq!(back, m);
    assert!(
        serde_json::from_str::<ParetoNbdParams>(r#"{"r":-1,"alpha":1,"s":1,"beta":1}"#).is_err()
    );
}
