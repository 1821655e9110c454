//! The shifted-beta-geometric model (Fader & Hardie 2007, 2010): the two cohorts' fits on
//! years 0..7, the projections against the held-back years, and the published DERL values.

use clv::fit::{FitData, gradient_discrepancy, hessian_discrepancy};
use clv::models::sbg::{SbgParams, SurvivalData};
use clv::{FitOptions, TimeUnit};

const REGULAR: [f64; 13] = [
    1000.0, 631.0, 468.0, 382.0, 326.0, 289.0, 262.0, 241.0, 223.0, 207.0, 194.0, 183.0, 173.0,
];
const HIGH_END: [f64; 13] = [
    1000.0, 869.0, 743.0, 653.0, 593.0, 551.0, 517.0, 491.0, 468.0, 445.0, 427.0, 409.0, 394.0,
];

fn calibration(alive: &[f64]) -> SurvivalData {
    SurvivalData::from_cohort_counts(&alive[..8], TimeUnit::Weeks).unwrap()
}

#[test]
fn cohort_fits_match_fader_hardie_2007() {
    for (alive, (a, b, ll, se)) in [
        (REGULAR, (0.70408, 1.18204, -1680.265, [0.0656, 0.1525])),
        (HIGH_END, (0.66809, 3.80609, -1611.158, [0.1037, 0.7855])),
    ] {
        let f = SbgParams::fit(&calibration(&alive), &FitOptions::default()).unwrap();
        let p = f.params();
        assert!((p.alpha() - a).abs() < 1e-5, "alpha {} vs {a}", p.alpha());
        assert!((p.beta() - b).abs() < 1e-5, "beta {} vs {b}", p.beta());
        assert!(
            (f.log_likelihood() - ll).abs() < 1e-3,
            "{}",
            f.log_likelihood()
        );
        let got = f.standard_errors().unwrap();
        for (g, w) in got.iter().zip(se) {
            assert!((g / w - 1.0).abs() < 0.02, "SE {g} vs {w}");
        }
        assert_eq!(f.n_customers(), 1000.0);
    }
}

/// Projected survival for the held-back years 8..12 against the file: within 1.5 percentage
/// points of the cohort for the regular and 2.5 for the high-end one (FH 2007, figure 3
/// shows the same close fit), while a constant retention rate (the mean of years 1..7) is
/// further off in year 12.
#[test]
fn projections_track_the_held_back_years() {
    for (alive, tol) in [(REGULAR, 15.0), (HIGH_END, 25.0)] {
        let f = SbgParams::fit(&calibration(&alive), &FitOptions::default()).unwrap();
        let m = f.params();
        let mut worst = 0.0f64;
        for (t, &obs) in alive.iter().enumerate().skip(8) {
            let pred = 1000.0 * m.survival(t as u32);
            worst = worst.max((pred - obs).abs());
        }
        assert!(worst < tol, "worst projection error {worst}");
        // a constant retention rate fitted to years 1..7
        let r = (alive[7] / alive[0]).powf(1.0 / 7.0);
        let constant = 1000.0 * r.powi(12);
        let sbg = 1000.0 * m.survival(12);
        assert!(
            (constant - alive[12]).abs() > (sbg - alive[12]).abs(),
            "{constant} vs {sbg} vs {}",
            alive[12]
        );
    }
}

#[test]
fn derl_matches_fader_hardie_2010() {
    let a = SbgParams::new(3.80, 15.20).unwrap();
    let b = SbgParams::new(1.0 / 15.0, 4.0 / 15.0).unwrap();
    for (n, (wa, wb)) in [
        (3.3098, 7.6815),
        (3.4510, 9.4620),
        (3.5865, 9.8560),
        (3.7168, 10.0605),
        (3.8421, 10.1924),
    ]
    .into_iter()
    .enumerate()
    {
        let n = n as u32 + 1;
        let (ga, gb) = (a.derl(0.1, n).unwrap(), b.derl(0.1, n).unwrap());
        assert!((ga - wa).abs() < 5e-5, "n {n}: {ga} vs {wa}");
        assert!((gb - wb).abs() < 5e-5, "n {n}: {gb} vs {wb}");
    }
    // both segments have the same mean churn, 0.2: a constant 80% retention values every
    // customer at 0.8 · 1.1/0.3 = 2.933, against 3.31 and 7.68 for a new customer and up to
    // 3.84 and 10.19 after four renewals once heterogeneity is modelled (FH 2010's point)
    let c = SbgParams::constant_retention_derl(0.8, 0.1).unwrap();
    assert!((c - 0.8 * 1.1 / 0.3).abs() < 1e-12);
    assert!(c < a.derl(0.1, 1).unwrap() && c < b.derl(0.1, 1).unwrap());
}

/// DERL is the discounted sum of the renewals still to come: Σ_{t>=1} S(n−1+t)/S(n−1)
/// (1+d)^{-(t−1)} (the next renewal undiscounted), summed directly; retention is S(t)/S(t−1); the churn probabilities and the survival add to 1.
#[test]
fn predictions_are_consistent() {
    let m = SbgParams::new(0.70408, 1.18204).unwrap();
    for n in [1u32, 2, 5, 20] {
        let d = 0.1;
        let base = m.survival(n - 1);
        let direct: f64 = (1..3000)
            .map(|t| m.survival(n - 1 + t) / base / (1.0f64 + d).powi(t as i32 - 1))
            .sum();
        let derl = m.derl(d, n).unwrap();
        assert!((derl / direct - 1.0).abs() < 1e-10, "{derl} vs {direct}");
    }
    for t in 1..30 {
        let r = m.survival(t) / m.survival(t - 1);
        assert!((r / m.retention(t) - 1.0).abs() < 1e-12);
    }
    let lost: f64 = (1..=10).map(|t| m.churn_at(t)).sum();
    assert!((lost + m.survival(10) - 1.0).abs() < 1e-12);
    // residual value of the regular cohort's 241 actives after 7 renewals, margin 1
    let v = m.residual_value(&[(7, 241.0)], 1.0, 0.1).unwrap();
    assert!((v - 241.0 * m.derl(0.1, 8).unwrap()).abs() < 1e-9);
}

#[test]
fn gradient_and_hessian_match_central_differences() {
    let d = FitData::<SbgParams>::prepare(&calibration(&REGULAR)).unwrap();
    for theta in [[0.7, 1.18], [3.0, 0.4], [0.2, 9.0]] {
        assert!(gradient_discrepancy::<SbgParams>(&theta, &d, 1e-5) < 1e-6);
        assert!(hessian_discrepancy::<SbgParams>(&theta, &d, 1e-5).unwrap() < 1e-5);
    }
}

#[test]
fn invalid_inputs_are_typed_errors() {
    let e = SurvivalData::from_cohort_counts(&[1000.0, 631.0, 700.0], TimeUnit::Weeks).unwrap_err();
    assert_eq!(
        e.to_string(),
        "row 3: alive is 700, more than the 631 of the period before (a cohort can only shrink)"
    );
    assert!(SurvivalData::from_cohort_counts(&[0.0, 0.0], TimeUnit::Weeks).is_err());
    let none_churned =
        SurvivalData::new(vec![3, 4], vec![false, false], None, TimeUnit::Weeks).unwrap();
    assert!(matches!(
        SbgParams::fit(&none_churned, &FitOptions::default()),
        Err(clv::Error::NotIdentifiable { .. })
    ));
    let m = SbgParams::new(1.0, 2.0).unwrap();
    assert!(m.derl(0.0, 1).is_err());
    assert!(m.derl(0.1, 0).is_err());
    assert!(m.derl(f64::NAN, 1).is_err());
    assert!(SbgParams::constant_retention_derl(1.0, 0.1).is_err());
}
