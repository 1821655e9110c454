//! Adversarial numbers (NaN, ±inf, negative, 0, subnormal, huge) through every public
//! prediction and option constructor: nothing panics; a checked function returns an error or a
//! valid value; a raw prediction (`TransactionModel`, documented to need a finite horizon >= 0)
//! returns NaN for an invalid horizon and never NaN for a valid one.

use clv::diagnostics::{PropertyMatrix, period_transactions};
use clv::fit::MaximumLikelihood;
use clv::scorer::Scorer;
use clv::segments::StageRules;
use clv::uncertainty::BootstrapOptions;
use clv::value::{ClvOptions, DiscountRate, customer_value};
use clv::{
    AnyFitted, AnyParams, BgCnbdParams, BgNbdParams, Customer, Error, FitOptions, GammaGammaParams,
    GgomNbdParams, MbgCnbdParams, ParetoNbdParams, RfmSummary, Schedule, SpendModel, TimeUnit,
    TransactionModel,
};

#[path = "support/cdnow_log.rs"]
mod cdnow_log;

const NASTY: [f64; 14] = [
    f64::NAN,
    f64::INFINITY,
    f64::NEG_INFINITY,
    -1.0,
    -0.0,
    0.0,
    f64::MIN_POSITIVE,
    1e-300,
    1e-12,
    1.0,
    52.0,
    1e12,
    1e300,
    f64::MAX,
];

fn valid_t(t: f64) -> bool {
    (0.0..=clv::predict::MAX_HORIZON).contains(&t)
}

/// Extreme parameter sets, and every registered model fitted to CDNOW (so a model added to
/// the registry is checked here without editing this file).
fn models() -> Vec<AnyParams> {
    let mut m = vec![
        AnyParams::BgNbd(BgNbdParams::new(0.243, 4.414, 0.793, 2.426).unwrap()),
        AnyParams::BgNbd(BgNbdParams::new(2.0, 0.5, 0.3, 0.4).unwrap()),
        AnyParams::ParetoNbd(ParetoNbdParams::new(0.553, 10.578, 0.606, 11.669).unwrap()),
        AnyParams::ParetoNbd(ParetoNbdParams::new(0.8, 400.0, 1.5, 0.5).unwrap()),
        AnyParams::GgomNbd(GgomNbdParams::new(0.6, 8.0, 0.05, 1.2, 3.0).unwrap()),
        AnyParams::GgomNbd(GgomNbdParams::new(0.553, 10.578, 2e-4, 0.606, 2.3e-3).unwrap()),
        AnyParams::BgCnbd(BgCnbdParams::new(3, 1.5, 9.0, 0.6, 3.0).unwrap()),
        AnyParams::MbgCnbd(MbgCnbdParams::new(8, 40.0, 2.0, 0.3, 0.4).unwrap()),
    ];
    let s = cdnow();
    for name in AnyFitted::MODELS {
        if let Some(f) = fit_cdnow(name, &s) {
            m.push(f.params());
        }
    }
    m
}

/// The model fitted to CDNOW; `None` for GGom/NBD, whose maximum there is on its Pareto/NBD
/// boundary (a diagnosis, no fit: its parameters are covered by `models()` directly).
fn fit_cdnow(name: &str, s: &RfmSummary) -> Option<AnyFitted> {
    match AnyFitted::fit(name, s, &FitOptions::default()) {
        Err(Error::OnBoundary { .. }) if name == "ggomnbd" => None,
        other => Some(other.unwrap()),
    }
}

fn cdnow() -> RfmSummary {
    cdnow_log::cdnow_from_log()
}

fn customers() -> Vec<Customer> {
    [
        (0.0, 0.0, 0.0),
        (0.0, 0.0, 38.86),
        (2.0, 30.43, 38.86),
        (300.0, 78.0, 78.0),
        (5000.0, 999.5, 1000.0),
        (1.0, 1e-300, 1e6),
    ]
    .iter()
    .map(|&(x, tx, t)| Customer::new(x, tx, t).unwrap())
    .collect()
}

#[test]
fn raw_predictions_never_panic_and_flag_invalid_horizons_with_nan() {
    for m in models() {
        for &t in &NASTY {
            let ok = valid_t(t);
            let check = |what: &str, v: f64| {
                if ok {
                    assert!(!v.is_nan(), "{m:?} {what} at t = {t}: NaN");
                } else {
                    assert!(
                        v.is_nan(),
                        "{m:?} {what} at t = {t}: {v} for an invalid horizon"
                    );
                }
            };
            check("E[X(t)]", m.expected_purchases(t));
            for n in [0, 1, 1000] {
                let p = m.pmf(n, t);
                check("pmf", p);
                assert!(!ok || (0.0..=1.0).contains(&p), "{m:?} pmf({n}, {t}) = {p}");
            }
            for c in customers() {
                let pa = m.p_alive(&c);
                assert!((0.0..=1.0).contains(&pa), "{m:?} {c:?}: P(alive) {pa}");
                check("E[Y(t)]", m.conditional_expected_purchases(&c, t));
                let p0 = m.conditional_pmf(&c, 0, t);
                check("P(Y = 0)", p0);
                assert!(!ok || (0.0..=1.0).contains(&p0), "{m:?} {c:?} t {t}: {p0}");
                let s = m.score(&c, t);
                check("score", s.expected_purchases);
                // DERT is checked: an error or a finite value
                for delta in NASTY {
                    if let Ok(v) = m.dert(&c, delta, Some(t)) {
                        assert!(v.is_finite() && v >= 0.0, "{m:?} DERT {v}");
                    }
                    if let Ok(v) = m.dert(&c, delta, None) {
                        assert!(v.is_finite() && v >= 0.0, "{m:?} DERT {v}");
                    }
                }
            }
        }
    }
}

#[test]
fn option_constructors_refuse_or_accept_without_panicking() {
    for &v in &NASTY {
        for &w in &NASTY {
            if let Ok(o) = ClvOptions::new(v, TimeUnit::Weeks).and_then(|o| o.with_step(w)) {
                // a valid option set gives a usable schedule
                let s = o.schedule();
                assert!(!s.horizons().is_empty());
            }
            let _ = DiscountRate::per_period(v, w, TimeUnit::Weeks);
            let _ = DiscountRate::continuous(v, TimeUnit::Days);
            let _ = Schedule::new(vec![v], vec![w]);
            let _ = StageRules::new(v, w, 0.3).and_then(|r| r.with_at_risk_after(w));
            let _ = Customer::new(v, w, 52.0);
            let _ = BgNbdParams::new(v, w, 1.0, 1.0);
            let _ = ParetoNbdParams::new(1.0, v, w, 1.0);
        }
        let _ = DiscountRate::annual(v);
        let _ = Schedule::horizon(v);
        let _ = TimeUnit::periods_of_days(v);
        let _ = FitOptions::default().with_penalizer(v);
        let _ = FitOptions::default().with_tol_grad(v);
        let _ = FitOptions::default().with_start(vec![v; 4]);
        let _ = BootstrapOptions::new(100, v, 1);
        let _ = ClvOptions::new(52.0, TimeUnit::Weeks)
            .unwrap()
            .with_margin(v);
        let gg = GammaGammaParams::new(6.25, 3.74, 15.44).unwrap();
        for &w in &NASTY {
            if let Ok(e) = gg.conditional_expected_spend(v, w) {
                assert!(e.is_finite() && e >= 0.0, "spend {v} {w}: {e}");
            }
        }
    }
    // the ones the review found
    let tiny = ClvOptions::new(52.0, TimeUnit::Weeks)
        .unwrap()
        .with_step(f64::MIN_POSITIVE);
    assert!(tiny.is_err());
    assert!(BgNbdParams::from_slice(&[1.0]).is_err());
    assert!(ParetoNbdParams::from_slice(&[]).is_err());
    assert!(GammaGammaParams::from_slice(&[1.0, 2.0]).is_err());
    let m = BgNbdParams::new(0.243, 4.414, 0.793, 2.426).unwrap();
    assert!(m.pmf(1, -1.0).is_nan());
    assert!(
        m.conditional_expected_purchases(&customers()[2], -5.0)
            .is_nan()
    );
    let s = RfmSummary::new(
        vec!["a".into(), "b".into()],
        vec![0.0, 2.0],
        vec![0.0, 10.0],
        vec![20.0, 30.0],
        TimeUnit::Weeks,
    )
    .unwrap();
    assert!(period_transactions(&m, &s, usize::MAX, None).is_err());
    assert!(PropertyMatrix::p_alive(&m, 52.0, usize::MAX, 10).is_err());
    assert!(PropertyMatrix::p_alive(&m, 52.0, 10, usize::MAX).is_err());
    assert!(clv::special::ln_beta(-1.0, 1.0).is_nan());
}

#[test]
fn checked_front_doors_return_errors_for_every_bad_number() {
    let s = cdnow();
    for name in AnyFitted::MODELS {
        let Some(f) = fit_cdnow(name, &s) else {
            continue;
        };
        let gg = GammaGammaParams::new(6.25, 3.74, 15.44).unwrap();
        for &h in &NASTY {
            match f.score(&s, h) {
                Ok(sc) => {
                    assert!(
                        h > 0.0 && h <= clv::predict::MAX_HORIZON,
                        "{name}: {h} accepted"
                    );
                    assert!(sc.iter().all(|x| x.p_alive.is_finite()
                        && x.expected_purchases.is_finite()
                        && x.prob_no_purchase.is_finite()));
                }
                Err(_) => assert!(
                    !(h > 0.0 && h <= clv::predict::MAX_HORIZON),
                    "{name}: {h} refused"
                ),
            }
            let Ok(scorer) = Scorer::builder(&f, h) else {
                continue;
            };
            let scorer = scorer.build();
            for &v in &NASTY {
                for &w in &NASTY {
                    if let Ok(sc) = scorer.score(v, w, 52.0) {
                        assert!(sc.p_alive.is_finite() && sc.expected_purchases.is_finite());
                    }
                }
            }
            let c = Customer::new(2.0, 30.0, 38.0).unwrap();
            if let Ok(o) = ClvOptions::new(h, TimeUnit::Weeks) {
                for &m in &NASTY {
                    if let Ok(v) = customer_value(&f.params(), &gg, &c, m, &o) {
                        assert!(v.is_finite() && v >= 0.0, "{name} CLV {v}");
                    }
                }
            }
        }
    }
}
