//! BG/NBD DERT (continuous discounting) against an independent computation: composite Simpson
//! integration in the time domain of e^{-δt} · dE[Y(t)]/dt, the purchase rate obtained by
//! central differences of the closed-form conditional expectation (eq. 10).

use clv::{BgNbdParams, Customer, TransactionModel};

/// Simpson on 20,000 panels with O(h²) difference quotients: ~1e-7 relative accuracy in the
/// reference; we ask for 1e-6.
const REL_TOL: f64 = 1e-6;

fn time_domain(m: &BgNbdParams, c: &Customer, delta: f64, h_end: f64) -> f64 {
    let n = 20_000;
    let h = h_end / n as f64;
    let eps = 1e-4;
    let rate = |t: f64| {
        let (lo, hi) = ((t - eps).max(0.0), t + eps);
        (m.conditional_expected_purchases(c, hi) - m.conditional_expected_purchases(c, lo))
            / (hi - lo)
    };
    let g = |t: f64| (-delta * t).exp() * rate(t);
    let mut s = g(0.0) + g(h_end);
    for i in 1..n {
        s += g(i as f64 * h) * if i % 2 == 1 { 4.0 } else { 2.0 };
    }
    s * h / 3.0
}

#[test]
fn dert_matches_time_domain_integration() {
    let models = [
        BgNbdParams::new(0.243, 4.414, 0.793, 2.426).unwrap(),
        BgNbdParams::new(1.5, 20.0, 3.2, 8.0).unwrap(),
    ];
    let customers = [
        Customer::new(0.0, 0.0, 38.86).unwrap(),
        Customer::new(2.0, 30.43, 38.86).unwrap(),
        Customer::new(25.0, 37.0, 38.0).unwrap(),
    ];
    for m in &models {
        for c in &customers {
            // finite horizon, 10%/year in weeks
            let delta = (1.1f64).ln() / 52.0;
            let got = m.dert(c, delta, Some(104.0)).unwrap();
            let want = time_domain(m, c, delta, 104.0);
            assert!(
                ((got - want) / want).abs() < REL_TOL,
                "{m:?} {c:?} H=104: {got} vs {want}"
            );
            // to infinity: a strong discount so that the time-domain integral can stop at 2000
            // weeks (e^{-0.02*2000} = e^{-40})
            let got = m.dert(c, 0.02, None).unwrap();
            let want = time_domain(m, c, 0.02, 2000.0);
            assert!(
                ((got - want) / want).abs() < REL_TOL,
                "{m:?} {c:?} H=inf: {got} vs {want}"
            );
        }
    }
}

#[test]
fn undiscounted_dert_is_the_conditional_expectation() {
    let m = BgNbdParams::new(0.243, 4.414, 0.793, 2.426).unwrap();
    for c in [
        Customer::new(2.0, 30.43, 38.86).unwrap(),
        Customer::new(3000.0, 519.0, 520.0).unwrap(),
    ] {
        for h in [1.0, 39.0, 520.0] {
            let d = m.dert(&c, 0.0, Some(h)).unwrap();
            let e = m.conditional_expected_purchases(&c, h);
            assert!(((d - e) / e).abs() < 1e-9, "{c:?} H={h}: {d} vs {e}");
        }
        let inf = m.dert(&c, 0.001, None).unwrap();
        assert!(inf.is_finite() && inf > m.dert(&c, 0.001, Some(520.0)).unwrap());
    }
}
