//! BG/BB (Fader, Hardie & Shang 2010) on the donations data: the fit, its standard errors,
//! and the published walk-through's predictions.

use clv::FitOptions;
use clv::TimeUnit;
use clv::fit::{FitData, gradient_discrepancy, hessian_discrepancy};
use clv::io::read_discrete_csv;
use clv::models::bgbb::{BgBbParams, DiscreteHistory, DiscreteSummary};

fn donations() -> DiscreteSummary {
    read_discrete_csv(
        concat!(env!("CARGO_MANIFEST_DIR"), "/data/donations.csv"),
        TimeUnit::Weeks,
    )
    .unwrap()
}

/// The paper's parameters, rounded as printed.
fn paper() -> BgBbParams {
    BgBbParams::new(1.204, 0.750, 0.657, 2.783).unwrap()
}

#[test]
fn donations_fit_matches_the_acceptance_values() {
    let s = donations();
    assert_eq!((s.len(), s.n_customers()), (22, 11_104.0));
    let f = BgBbParams::fit(&s, &FitOptions::default()).unwrap();
    let p = f.params();
    for (got, want) in [
        (p.alpha(), 1.203522),
        (p.beta(), 0.749716),
        (p.gamma(), 0.656718),
        (p.delta(), 2.783442),
    ] {
        assert!((got - want).abs() < 1e-5, "{got} vs {want}");
    }
    assert!(
        (f.log_likelihood() + 33225.5813).abs() < 1e-4,
        "{}",
        f.log_likelihood()
    );
    assert_eq!(f.n_customers(), 11_104.0);
    let se = f.standard_errors().unwrap();
    for (got, want) in se.iter().zip([0.0694, 0.0294, 0.0510, 0.3208]) {
        assert!((got / want - 1.0).abs() < 0.02, "SE {got} vs {want}");
    }
}

#[test]
fn gradient_and_hessian_match_central_differences() {
    let s = donations();
    let d = FitData::<BgBbParams>::prepare(&s).unwrap();
    for theta in [
        [1.2, 0.75, 0.66, 2.78],
        [0.3, 2.0, 1.7, 0.4],
        [5.0, 0.2, 1.0, 9.0],
    ] {
        let g = gradient_discrepancy::<BgBbParams>(&theta, &d, 1e-5);
        assert!(g < 1e-5, "gradient at {theta:?}: {g:e}");
        let h = hessian_discrepancy::<BgBbParams>(&theta, &d, 1e-5).unwrap();
        assert!(h < 1e-5, "Hessian at {theta:?}: {h:e}");
    }
}

/// The walk-through's numbers. P(alive) is printed to two decimals and holds at the paper's
/// rounded parameters; the other figures need the maximum itself (at the rounded parameters
/// the donor counts come out 3455.8 and 1252.4, not 3454.9 and 1253.1). At the maximum the
/// expectations equal lifetimes' (0.13021809, 3.62796772, computed with lifetimes 0.11.3 at
/// its own optimum, the same one) to 1e-8; the 0.1302169, 3.627858 and 3.179805 differ
/// in the sixth digit (relative 1e-5 to 3e-5), as from a slightly different optimum, so they
/// are checked to 5e-5 relative and lifetimes' to 1e-7.
#[test]
fn predictions_match_the_published_walkthrough() {
    let h = |x, t, n| DiscreteHistory::new(x, t, n).unwrap();
    let rounded = paper();
    // P(alive in 2002), n = 6: 0.11, 0.59, 0.93 (printed to two decimals)
    for ((x, t), want) in [((0, 0), 0.11), ((2, 4), 0.59), ((6, 6), 0.93)] {
        let got = rounded.p_alive(&h(x, t, 6), 1);
        assert!((got - want).abs() < 0.005, "P(alive) ({x}, {t}): {got}");
    }
    let m = BgBbParams::new(1.203522, 0.749716, 0.656718, 2.783442).unwrap();
    let close = |got: f64, want: f64, rel: f64, what: &str| {
        assert!((got / want - 1.0).abs() < rel, "{what}: {got} vs {want}");
    };
    // expected transactions in the next 10 opportunities
    let e00 = m
        .conditional_expected_transactions(&h(0, 0, 6), 10)
        .unwrap();
    close(e00, 0.1302169, 5e-5, "E (0, 0)");
    // lifetimes 0.11.3 at its own optimum, to its printed digits
    let lt = BgBbParams::new(
        1.2035223936080381,
        0.7497163581757634,
        0.6567181695499512,
        2.7834419828876076,
    )
    .unwrap();
    let lt00 = lt
        .conditional_expected_transactions(&h(0, 0, 6), 10)
        .unwrap();
    let lt45 = lt
        .conditional_expected_transactions(&h(4, 5, 6), 10)
        .unwrap();
    close(lt00, 0.13021809, 1e-7, "E (0, 0), lifetimes");
    close(lt45, 3.62796772, 1e-8, "E (4, 5), lifetimes");
    let e45 = m
        .conditional_expected_transactions(&h(4, 5, 6), 10)
        .unwrap();
    close(e45, 3.627858, 5e-5, "E (4, 5)");
    // a new customer over 10 opportunities
    close(
        m.expected_transactions(10).unwrap(),
        3.179805,
        5e-5,
        "E[X(10)]",
    );
    // donors (of 11,104) with 0 and 6 transactions in the first 6 opportunities
    let n0 = 11_104.0 * m.pmf(0, 6).unwrap();
    let n6 = 11_104.0 * m.pmf(6, 6).unwrap();
    assert!((n0 - 3454.9).abs() < 0.05, "{n0}");
    assert!((n6 - 1253.1).abs() < 0.05, "{n6}");
}

/// Internal consistency: the pmfs sum to 1 with the right means, P(alive) falls with m,
/// DERT at a tiny discount approaches the long-run sum, and the closed-form survival sum
/// matches the direct sum (γ below, at and above 1).
#[test]
fn predictions_are_consistent() {
    let m = paper();
    for n in [1, 6, 30] {
        let p: Vec<f64> = (0..=n).map(|k| m.pmf(k, n).unwrap()).collect();
        assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        let mean: f64 = p.iter().enumerate().map(|(k, p)| k as f64 * p).sum();
        assert!((mean / m.expected_transactions(n).unwrap() - 1.0).abs() < 1e-12);
    }
    for (x, t) in [(0, 0), (2, 4), (6, 6), (3, 3)] {
        let h = DiscreteHistory::new(x, t, 6).unwrap();
        for mm in [1, 5, 20] {
            let p: Vec<f64> = (0..=mm)
                .map(|k| m.conditional_pmf(&h, k, mm).unwrap())
                .collect();
            assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-12, "{x} {t} {mm}");
            let mean: f64 = p.iter().enumerate().map(|(k, p)| k as f64 * p).sum();
            let e = m.conditional_expected_transactions(&h, mm).unwrap();
            assert!((mean / e - 1.0).abs() < 1e-11, "{mean} vs {e}");
        }
        assert!(m.p_alive(&h, 0) >= m.p_alive(&h, 1));
        assert!(m.p_alive(&h, 1) > m.p_alive(&h, 10));
        // DERT: the sum of discounted expectations, term by term
        let d = 0.1;
        let mut direct = 0.0;
        for i in 1..=2000 {
            let step = m.conditional_expected_transactions(&h, i).unwrap()
                - m.conditional_expected_transactions(&h, i - 1).unwrap();
            direct += step / (1.0f64 + d).powi(i as i32);
        }
        let dert = m.dert(&h, d).unwrap();
        assert!((dert / direct - 1.0).abs() < 1e-10, "{dert} vs {direct}");
    }
    for gamma in [0.4, 1.0, 1.0 + 1e-12, 2.5] {
        let m = BgBbParams::new(1.2, 0.7, gamma, 2.8).unwrap();
        // E[X(n)] = α/(α+β) Σ_i E[(1−θ)^i] against P(alive at i) summed directly
        let h0 = DiscreteHistory::new(0, 0, 0).unwrap();
        let direct: f64 = (1..=40).map(|i| m.p_alive(&h0, i)).sum();
        let want = 1.2 / 1.9 * direct;
        let got = m.expected_transactions(40).unwrap();
        assert!(
            (got / want - 1.0).abs() < 1e-12,
            "γ {gamma}: {got} vs {want}"
        );
    }
}

#[test]
fn invalid_histories_and_rates_are_typed_errors() {
    assert!(DiscreteHistory::new(3, 2, 6).is_err());
    assert!(DiscreteHistory::new(0, 2, 6).is_err());
    assert!(DiscreteHistory::new(2, 7, 6).is_err());
    let m = paper();
    let h = DiscreteHistory::new(2, 4, 6).unwrap();
    assert!(m.dert(&h, 0.0).is_err());
    assert!(m.dert(&h, f64::NAN).is_err());
    assert!(m.dert(&h, -0.1).is_err());
    assert!(m.expected_transactions(u32::MAX).is_err());
    let e = DiscreteSummary::new(
        vec![1],
        vec![1],
        vec![6],
        Some(vec![-2.0]),
        None,
        TimeUnit::Weeks,
    )
    .unwrap_err();
    assert_eq!(e.to_string(), "row 1: weights must be > 0 (got -2)");
}
