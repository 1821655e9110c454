//! BG/CNBD-k and MBG/CNBD-k: the likelihood and its derivatives, the fit with k chosen by
//! likelihood, parameter recovery, the predictions and DERT. CDNOW shows no regularity: the published
//! BG/CNBD-k log-likelihoods by k are -9582.43, -9855.33, -10393.57, -11030.19, so k = 1 and the
//! fit equals BG/NBD's.

use clv::fit::{FitWarning, FromRfm, MaximumLikelihood, gradient_discrepancy, hessian_discrepancy};
use clv::models::cnbd::{BgCnbdParams, MbgCnbdParams};
use clv::{BgNbdParams, Customer, FitOptions, MbgNbdParams, RfmSummary, TimeUnit};

#[path = "support/cdnow_log.rs"]
mod cdnow_log;
#[path = "support/reference_table.rs"]
mod reference_table;

fn cdnow() -> RfmSummary {
    cdnow_log::cdnow_from_log()
}

#[test]
fn cdnow_log_likelihood_by_k_matches_the_published_values() {
    let s = cdnow();
    let f = BgCnbdParams::fit(&s, &FitOptions::default()).unwrap();
    let w = f.warnings().iter().find_map(|w| match w {
        FitWarning::ChosenByLikelihood { tried, .. } => Some(tried.clone()),
        _ => None,
    });
    let tried = w.unwrap();
    for (k, want) in [
        (1.0, -9582.43),
        (2.0, -9855.33),
        (3.0, -10393.57),
        (4.0, -11030.19),
    ] {
        let got = tried.iter().find(|(v, _)| *v == k).unwrap().1.unwrap();
        assert!((got - want).abs() < 0.01, "k = {k}: {got} vs {want}");
    }
    assert_eq!(f.params().k(), 1);
    let bg = BgNbdParams::fit(&s, &FitOptions::default()).unwrap();
    assert!((f.log_likelihood() - bg.log_likelihood()).abs() < 1e-6);
    assert!((f.params().r() / bg.params().r() - 1.0).abs() < 1e-5);
    // k = 1 MBG/CNBD-k is MBG/NBD
    let m = MbgCnbdParams::fit(&s, &FitOptions::default()).unwrap();
    let mb = MbgNbdParams::fit(&s, &FitOptions::default()).unwrap();
    assert_eq!(m.params().k(), 1);
    assert!((m.log_likelihood() - mb.log_likelihood()).abs() < 1e-6);
    let c = Customer::new(2.0, 30.43, 38.86).unwrap();
    use clv::TransactionModel;
    assert!((f.params().p_alive(&c) - bg.params().p_alive(&c)).abs() < 1e-5);
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
    .unwrap()
    .with_litt(vec![
        0.0,
        5f64.ln(),
        4.0 * 1.2,
        30.0 * 0.1,
        -2.0,
        300.0 * (-2.0),
    ])
    .unwrap();
    let bg = BgCnbdParams::prepare(&s).unwrap();
    let mbg = MbgCnbdParams::prepare(&s).unwrap();
    for theta in [
        [1.0, 0.5, 6.0, 0.9, 1.6],
        [3.0, 2.0, 10.0, 0.3, 4.0],
        [8.0, 0.7, 40.0, 2.0, 0.5],
    ] {
        for (err, what) in [
            (
                gradient_discrepancy::<BgCnbdParams>(&theta, &bg, 1e-5),
                "BG gradient",
            ),
            (
                hessian_discrepancy::<BgCnbdParams>(&theta, &bg, 1e-5).unwrap(),
                "BG Hessian",
            ),
            (
                gradient_discrepancy::<MbgCnbdParams>(&theta, &mbg, 1e-5),
                "MBG gradient",
            ),
            (
                hessian_discrepancy::<MbgCnbdParams>(&theta, &mbg, 1e-5).unwrap(),
                "MBG Hessian",
            ),
        ] {
            assert!(err < 1e-6, "{theta:?} {what}: {err:e}");
        }
    }
}

/// Parameter recovery from simulated regular buyers: k = 2 and k = 3 are found, and every
/// continuous estimate lies within 4 standard errors of the truth (probability > 0.9999 each
/// for a correct estimator; the seeds are fixed).
#[test]
fn simulated_regular_buyers_recover_k_and_the_parameters() {
    for (k, seed) in [(2u32, 21u64), (3, 22)] {
        let truth = BgCnbdParams::new(k, 1.5, 6.0 * f64::from(k) / 2.0, 0.6, 3.0).unwrap();
        let ages = clv::sim::uniform_ages(20_000, 10.0, 78.0, seed).unwrap();
        let s = truth.simulate(&ages, TimeUnit::Weeks, seed + 100).unwrap();
        let f = BgCnbdParams::fit(&s, &FitOptions::default()).unwrap();
        assert_eq!(f.params().k(), k, "{:?}", f.warnings());
        eprintln!(
            "BG/CNBD-k truth k = {k}: {:?} SE {:?}; {}",
            f.params(),
            f.standard_errors(),
            f.warnings()[0]
        );
        let se = f.standard_errors().unwrap();
        let (got, want) = (f.params().to_vec(), truth.to_vec());
        assert_eq!(se[0], 0.0);
        for i in 1..5 {
            let z = (got[i] - want[i]) / se[i];
            assert!(
                z.abs() < 4.0,
                "k = {k}, {}: {} vs {} (z = {z:.2})",
                BgCnbdParams::NAMES[i],
                got[i],
                want[i]
            );
        }
        let m = MbgCnbdParams::new(k, 1.5, 6.0 * f64::from(k) / 2.0, 0.6, 3.0).unwrap();
        let sm = m.simulate(&ages, TimeUnit::Weeks, seed + 200).unwrap();
        let fm = MbgCnbdParams::fit(&sm, &FitOptions::default()).unwrap();
        assert_eq!(fm.params().k(), k);
        let (got, want, se) = (
            fm.params().to_vec(),
            m.to_vec(),
            fm.standard_errors().unwrap(),
        );
        for i in 1..5 {
            let z = (got[i] - want[i]) / se[i];
            assert!(
                z.abs() < 4.0,
                "MBG k = {k}, {}: {} vs {} (z = {z:.2})",
                MbgCnbdParams::NAMES[i],
                got[i],
                want[i]
            );
        }
    }
}

/// The predictions' exact sums: at k = 1 they are BG/NBD's (MBG/NBD's) closed forms; for k > 1
/// the pmf sums to one with the right mean, conditionally too; and E[X(t)] matches a long
/// seeded simulation of Erlang-3 buyers.
#[test]
fn predictions_are_exact_sums() {
    use clv::TransactionModel;
    let cs = [
        Customer::new(0.0, 0.0, 38.86).unwrap(),
        Customer::new(2.0, 30.43, 38.86).unwrap(),
        Customer::new(26.0, 30.857143, 31.0).unwrap(),
        Customer::new(300.0, 70.0, 78.0).unwrap(),
    ];
    let bg = BgNbdParams::new(0.243, 4.414, 0.793, 2.426).unwrap();
    let c1 = BgCnbdParams::new(1, 0.243, 4.414, 0.793, 2.426).unwrap();
    let mb = MbgNbdParams::new(0.525, 6.183, 0.891, 1.614).unwrap();
    let m1 = MbgCnbdParams::new(1, 0.525, 6.183, 0.891, 1.614).unwrap();
    let close = |a: f64, b: f64, what: &str| {
        assert!(
            (a - b).abs() <= 1e-10 * b.abs().max(1e-3),
            "{what}: {a} vs {b}"
        );
    };
    for t in [1.0, 39.0, 104.0] {
        close(
            c1.expected_purchases(t),
            bg.expected_purchases(t),
            "BG E[X]",
        );
        close(
            m1.expected_purchases(t),
            mb.expected_purchases(t),
            "MBG E[X]",
        );
        for n in [0, 1, 5] {
            close(c1.pmf(n, t), bg.pmf(n, t), "BG pmf");
            close(m1.pmf(n, t), mb.pmf(n, t), "MBG pmf");
        }
        for c in &cs {
            close(
                c1.conditional_expected_purchases(c, t),
                bg.conditional_expected_purchases(c, t),
                "BG E[Y]",
            );
            close(
                m1.conditional_expected_purchases(c, t),
                mb.conditional_expected_purchases(c, t),
                "MBG E[Y]",
            );
            for n in [0, 1, 3] {
                close(
                    c1.conditional_pmf(c, n, t),
                    bg.conditional_pmf(c, n, t),
                    "BG cond pmf",
                );
                close(
                    m1.conditional_pmf(c, n, t),
                    mb.conditional_pmf(c, n, t),
                    "MBG cond pmf",
                );
            }
        }
    }
    let m3 = BgCnbdParams::new(3, 1.5, 9.0, 0.6, 3.0).unwrap();
    let t = 39.0;
    let p: Vec<f64> = (0..200).map(|n| m3.pmf(n, t)).collect();
    let mean: f64 = p.iter().enumerate().map(|(n, p)| n as f64 * p).sum();
    assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-12);
    assert!((mean / m3.expected_purchases(t) - 1.0).abs() < 1e-12);
    for c in &cs[..3] {
        let q: Vec<f64> = (0..400).map(|n| m3.conditional_pmf(c, n, t)).collect();
        let mean: f64 = q.iter().enumerate().map(|(n, p)| n as f64 * p).sum();
        assert!((q.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        assert!((mean / m3.conditional_expected_purchases(c, t) - 1.0).abs() < 1e-10);
    }
    // 200,000 simulated new customers observed for 39 weeks
    let sim = m3.simulate(&vec![t; 200_000], TimeUnit::Weeks, 99).unwrap();
    let n = sim.len() as f64;
    let xs = sim.frequency();
    let mean = xs.iter().sum::<f64>() / n;
    let sd = (xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n).sqrt();
    let want = m3.expected_purchases(t);
    assert!(
        (mean - want).abs() < 4.0 * sd / n.sqrt(),
        "{mean} vs {want}"
    );
    // and the share of zeros against P(X(39) = 0)
    let zeros = xs.iter().filter(|&&x| x == 0.0).count() as f64 / n;
    let p0 = m3.pmf(0, t);
    assert!(
        (zeros - p0).abs() < 4.0 * (p0 * (1.0 - p0) / n).sqrt(),
        "{zeros} vs {p0}"
    );
}

/// DERT: at k = 1 it is BG/NBD's (and MBG/NBD's); without discounting over a finite horizon it
/// is the conditional expectation; and for k = 3 a longer horizon is worth more.
#[test]
fn dert_matches_bgnbd_at_k_1_and_the_expectation_without_discounting() {
    use clv::TransactionModel;
    let bg = BgNbdParams::new(0.243, 4.414, 0.793, 2.426).unwrap();
    let c1 = BgCnbdParams::new(1, 0.243, 4.414, 0.793, 2.426).unwrap();
    let mb = MbgNbdParams::new(0.525, 6.183, 0.891, 1.614).unwrap();
    let m1 = MbgCnbdParams::new(1, 0.525, 6.183, 0.891, 1.614).unwrap();
    let delta = 0.1 / 52.0;
    for c in [
        Customer::new(0.0, 0.0, 38.86).unwrap(),
        Customer::new(2.0, 30.43, 38.86).unwrap(),
        Customer::new(26.0, 30.857143, 31.0).unwrap(),
    ] {
        for h in [Some(52.0), Some(520.0), None] {
            let (a, b) = (
                c1.dert(&c, delta, h).unwrap(),
                bg.dert(&c, delta, h).unwrap(),
            );
            assert!((a / b - 1.0).abs() < 1e-8, "{c:?} {h:?}: {a} vs {b}");
            let (a, b) = (
                m1.dert(&c, delta, h).unwrap(),
                mb.dert(&c, delta, h).unwrap(),
            );
            assert!((a / b - 1.0).abs() < 1e-8, "MBG {c:?} {h:?}: {a} vs {b}");
        }
        let m3 = BgCnbdParams::new(3, 1.5, 9.0, 0.6, 3.0).unwrap();
        let d = m3.dert(&c, 0.0, Some(52.0)).unwrap();
        let e = m3.conditional_expected_purchases(&c, 52.0);
        assert!((d / e - 1.0).abs() < 1e-12, "{d} vs {e}");
        assert!(m3.dert(&c, delta, None).unwrap() > m3.dert(&c, delta, Some(52.0)).unwrap());
        // the infinite horizon's closed form over p (one integral over λ) against the finite
        // horizon's integration by parts at a horizon where e^{-δH} = e^{-25} (below δH = 30,
        // where the finite horizon is still integrated by parts)
        let (inf, long) = (
            m3.dert(&c, 0.02, None).unwrap(),
            m3.dert(&c, 0.02, Some(1250.0)).unwrap(),
        );
        assert!((inf / long - 1.0).abs() < 1e-8, "{inf} vs {long}");
        assert!(m3.dert(&c, 0.0, None).is_err());
    }
}

/// Every prediction for k = 2..5 (BG and MBG, a below and above 1, light to heavy buyers; 348
/// values, worst 3.0e-11)
/// against `tests/data/cnbd_reference.csv`: mpmath values from `scripts/cnbd_reference.py`,
/// computed by another route (quadrature over λ of Poisson-tail sums over purchases, mpmath's
/// own ₂F₁ for the infinite-horizon DERT) than the crate's (negative binomial phase sums, the
/// roots-of-unity generating function integrated over p, and its own ₂F₁). DERT at δ = 0.05,
/// over 52 periods and an infinite horizon. Tolerance 1e-9 relative: the crate's routes are
/// accurate to ~1e-12 and the quadratures over λ to ~1e-15.
#[test]
fn predictions_match_the_mpmath_reference_table() {
    use clv::TransactionModel;
    let text = include_str!("data/cnbd_reference.csv");
    let (n, _) = reference_table::check(text, 1e-9, |row| {
        let p = &row.params;
        let (mbg, k) = (p[0] == 1.0, p[1] as u32);
        let get = |m: &dyn TransactionModel| {
            let c = || row.customer.unwrap();
            match row.quantity {
                "expected_purchases" => m.expected_purchases(row.t),
                "pmf" => m.pmf(row.n, row.t),
                "p_alive" => m.p_alive(&c()),
                "conditional_expected_purchases" => m.conditional_expected_purchases(&c(), row.t),
                "conditional_pmf" => m.conditional_pmf(&c(), row.n, row.t),
                "dert" => {
                    let h = (!row.t.is_nan()).then_some(row.t);
                    m.dert(&c(), 0.05, h).unwrap()
                }
                other => panic!("unknown quantity {other}"),
            }
        };
        if mbg {
            get(&MbgCnbdParams::new(k, p[2], p[3], p[4], p[5]).unwrap())
        } else {
            get(&BgCnbdParams::new(k, p[2], p[3], p[4], p[5]).unwrap())
        }
    });
    assert!(n > 340, "{n}");
}
