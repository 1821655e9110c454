//! Static covariates: the Pareto/NBD with Gender and Channel in both processes on CLVTools'
//! apparel data reaches the exact maximum (CLVTools' own optimiser stops a little short), the
//! likelihood-ratio test against the model without covariates, gradients by central
//! differences, and an all-zero covariate leaving the model as it was.

use clv::fit::{FitOptions, fit, gradient_discrepancy};
use clv::io::{TransactionFormat, read_transactions_into};
use clv::models::covariates::{CovariateSummary, WithCovariates};

type ParetoNbdCovParams = WithCovariates<ParetoNbdParams>;
use clv::{
    BgNbdParams, Covariates, ParetoNbdParams, RfmSummary, SummaryBuilder, SummaryOptions, TimeUnit,
};

fn data(name: &str) -> String {
    format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// CLVTools' split: estimation to 2006-12-31 (104 weeks), same-day purchases merged.
fn apparel() -> (RfmSummary, Covariates) {
    let end = chrono::NaiveDate::from_ymd_opt(2006, 12, 31).unwrap();
    let opts = SummaryOptions::new(end, TimeUnit::Weeks).skipping_lines_after_end();
    let mut b = SummaryBuilder::new(opts);
    let f = TransactionFormat::csv("Id", "Date", Some("Price"));
    read_transactions_into(data("apparel_trans.csv"), &f, &mut b).unwrap();
    let s = b.finish().unwrap().summary;
    let text = std::fs::read_to_string(data("apparel_static_cov.csv")).unwrap();
    let mut by_id = std::collections::HashMap::new();
    for line in text.lines().skip(1) {
        let v: Vec<&str> = line.split(',').collect();
        by_id.insert(
            v[0].to_string(),
            vec![v[1].parse().unwrap(), v[2].parse().unwrap()],
        );
    }
    let rows = s.ids().iter().map(|id| by_id[id].clone()).collect();
    let z = Covariates::new(vec!["Gender".into(), "Channel".into()], rows).unwrap();
    (s, z)
}

#[test]
fn apparel_pareto_nbd_with_covariates_reaches_the_exact_maximum() {
    let (s, z) = apparel();
    assert_eq!(s.len(), 600);
    assert!(s.age().iter().all(|&t| (t - 104.0).abs() < 1e-12));
    let base = fit::<ParetoNbdParams>(&s, &FitOptions::default()).unwrap();
    assert!(
        (base.log_likelihood() - -5848.09783).abs() < 1e-5,
        "{}",
        base.log_likelihood()
    );
    let input = CovariateSummary::new(&s, &z, &z).unwrap();
    let f = fit::<ParetoNbdCovParams>(&input, &FitOptions::default()).unwrap();
    let th = clv::fit::MaximumLikelihood::to_vec(f.params());
    // the exact maximum (the issue's values; CLVTools prints r 1.8378, α 92.9123, s 0.5920,
    // β 49.6227, LL −5821.0627)
    let want = [
        1.838967, 92.96296, 0.591304, 49.51308, 0.286135, 0.623930, -0.641868, 0.789759,
    ];
    for (i, (g, w)) in th.iter().zip(want).enumerate() {
        assert!(
            (g - w).abs() < 2e-6 * w.abs().max(1.0),
            "{}: {g} vs {w}",
            f.names()[i]
        );
    }
    assert!((f.log_likelihood() - -5821.06269).abs() < 1e-5);
    // likelihood-ratio test against the model without covariates: 54.07 on 4 df
    let lr = 2.0 * (f.log_likelihood() - base.log_likelihood());
    assert!((lr - 54.07).abs() < 0.005, "{lr}");
    assert_eq!(
        f.names(),
        [
            "r",
            "alpha",
            "s",
            "beta",
            "purchase[Gender]",
            "purchase[Channel]",
            "dropout[Gender]",
            "dropout[Channel]"
        ]
    );
    assert!(f.standard_errors().is_some());
}

#[test]
fn gradients_match_central_differences() {
    let (s, z) = apparel();
    let input = CovariateSummary::new(&s, &z, &z).unwrap();
    let d = clv::fit::FitData::<ParetoNbdCovParams>::prepare(&input).unwrap();
    for theta in [
        [1.8, 93.0, 0.59, 49.5, 0.29, 0.62, -0.64, 0.79],
        [0.7, 20.0, 1.3, 10.0, -0.5, 1.0, 0.3, -1.2],
    ] {
        let err = gradient_discrepancy::<ParetoNbdCovParams>(&theta, &d, 1e-5);
        assert!(err < 1e-6, "{err}");
    }
}

#[test]
fn an_all_zero_covariate_leaves_the_model_as_it_was() {
    let (s, _) = apparel();
    let zero = Covariates::new(vec!["none".into()], vec![vec![0.0]; s.len()]).unwrap();
    assert!(zero.check_varies().is_err());
    let input = CovariateSummary::new(&s, &zero, &zero).unwrap();
    // the coefficients are not identified by the data: a small L2 penalty (on them only)
    // holds them at 0, and the rest is the model without covariates
    let f = fit::<ParetoNbdCovParams>(&input, &FitOptions::default().with_penalizer(0.1).unwrap())
        .unwrap();
    let base = fit::<ParetoNbdParams>(&s, &FitOptions::default()).unwrap();
    let th = clv::fit::MaximumLikelihood::to_vec(f.params());
    let b = clv::fit::MaximumLikelihood::to_vec(base.params());
    for i in 0..4 {
        assert!(
            (th[i] - b[i]).abs() < 1e-5 * b[i],
            "{i}: {} vs {}",
            th[i],
            b[i]
        );
    }
    assert!(th[4].abs() < 1e-8 && th[5].abs() < 1e-8);
    assert!((f.log_likelihood() - base.log_likelihood()).abs() < 1e-7);
}

/// BG/NBD with Gender and Channel in both processes has no finite maximum on the apparel
/// data: a and b run to infinity (the Beta of p turns into a point mass for the Channel-0
/// customers while dropout[Channel] runs to −∞, keeping the Channel-1 customers' Beta finite),
/// toward the supremum −5839.86205. The fit refuses with a typed error naming a and b; asked
/// for the numbers anyway, it reaches the supremum (BG/NBD's likelihood stays exact at
/// a, b ~ 10^12: the Beta ratio from differences of lnΓ and ψ, not of lnΓ(a+b) ~ 10^13).
#[test]
fn apparel_bgnbd_with_covariates_has_no_finite_maximum() {
    let (s, z) = apparel();
    let input = CovariateSummary::new(&s, &z, &z).unwrap();
    let err = fit::<WithCovariates<BgNbdParams>>(&input, &FitOptions::default()).unwrap_err();
    let clv::Error::NoFiniteMaximum {
        model,
        parameters,
        log_likelihood,
    } = &err
    else {
        panic!("{err:?}");
    };
    assert_eq!(*model, "bgnbd-cov");
    assert!(
        parameters.starts_with("a = ") && parameters.contains(", b = "),
        "{parameters}"
    );
    // the supremum, −5839.86205
    assert!(
        (log_likelihood - -5839.86205).abs() < 1e-5,
        "{log_likelihood}"
    );
    assert!(err.to_string().contains("has no finite maximum"), "{err}");
    let f =
        fit::<WithCovariates<BgNbdParams>>(&input, &FitOptions::default().allow_unconverged(true))
            .unwrap();
    assert!(
        (f.log_likelihood() - -5839.86205).abs() < 1e-5,
        "{}",
        f.log_likelihood()
    );
    assert!(f.warnings().iter().any(|w| w.code() == "boundary"));
}

#[test]
fn bgnbd_covariate_gradients_match_central_differences() {
    let (s, z) = apparel();
    let input = CovariateSummary::new(&s, &z, &z).unwrap();
    let d = clv::fit::FitData::<WithCovariates<BgNbdParams>>::prepare(&input).unwrap();
    let theta = [1.5, 80.0, 0.3, 0.5, 0.8, -0.4, 0.2, 0.6];
    let err = gradient_discrepancy::<WithCovariates<BgNbdParams>>(&theta, &d, 1e-5);
    assert!(err < 1e-6, "{err}");
}

/// Simulated customers with known coefficients: each draws covariates, gets its own
/// parameters from the model with covariates, and is simulated by the base model's simulator.
fn simulate<M>(
    truth: &WithCovariates<M>,
    n: usize,
    seed: u64,
    purchase: &[usize],
    dropout: &[usize],
) -> (RfmSummary, Covariates, Covariates)
where
    M: clv::models::covariates::Covariated + clv::sim::Simulate,
{
    use rand::{Rng, SeedableRng};
    let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(seed);
    let (mut x, mut tx, mut t, mut zt, mut zl) = (vec![], vec![], vec![], vec![], vec![]);
    for i in 0..n {
        // covariate 0: binary; covariate 1: numeric, a standard normal rounded to −2..2 (few
        // distinct patterns keep the test quick: a likelihood term per pattern)
        let normal: f64 = rand_distr::Distribution::sample(&rand_distr::StandardNormal, &mut rng);
        let z = [
            f64::from(u8::from(rng.random::<f64>() < 0.4)),
            normal.round().clamp(-2.0, 2.0),
        ];
        let zp: Vec<f64> = purchase.iter().map(|&j| z[j]).collect();
        let zd: Vec<f64> = dropout.iter().map(|&j| z[j]).collect();
        let own = truth.for_customer(&zp, &zd).unwrap();
        let age = 30.0 + 48.0 * rng.random::<f64>();
        let one = own
            .simulate(&[age], TimeUnit::Weeks, seed * 1_000_003 + i as u64)
            .unwrap();
        x.push(one.frequency()[0]);
        tx.push(one.recency()[0]);
        t.push(one.age()[0]);
        zt.push(zp);
        zl.push(zd);
    }
    let names = |idx: &[usize]| idx.iter().map(|j| format!("z{j}")).collect::<Vec<_>>();
    (
        RfmSummary::new(
            (0..n).map(|i| i.to_string()).collect(),
            x,
            tx,
            t,
            TimeUnit::Weeks,
        )
        .unwrap(),
        Covariates::new(names(purchase), zt).unwrap(),
        Covariates::new(names(dropout), zl).unwrap(),
    )
}

/// Known coefficients are recovered within 3 standard errors, in both processes, for
/// Pareto/NBD, BG/NBD and NBD, two seeds each.
#[test]
fn simulated_coefficients_are_recovered() {
    fn check<M>(truth: WithCovariates<M>, purchase: &[usize], dropout: &[usize], n: usize)
    where
        M: clv::models::covariates::Covariated + clv::sim::Simulate + clv::fit::FromRfm,
    {
        use clv::fit::MaximumLikelihood;
        let want = truth.to_vec();
        for seed in 1..=2 {
            let (s, zt, zl) = simulate(&truth, n, seed, purchase, dropout);
            let input = if dropout.is_empty() {
                CovariateSummary::purchase_only(&s, &zt).unwrap()
            } else {
                CovariateSummary::new(&s, &zt, &zl).unwrap()
            };
            let f = fit::<WithCovariates<M>>(&input, &FitOptions::default()).unwrap();
            let got = f.params().to_vec();
            let se = f.standard_errors().unwrap();
            for k in M::NAMES.len()..got.len() {
                assert!(
                    (got[k] - want[k]).abs() < 3.0 * se[k],
                    "{} seed {seed}: {} = {} ± {} vs {}",
                    M::LABEL,
                    f.names()[k],
                    got[k],
                    se[k],
                    want[k]
                );
            }
        }
    }
    let named = |v: &[(usize, f64)]| v.iter().map(|(j, g)| (format!("z{j}"), *g)).collect();
    check(
        WithCovariates::new(
            ParetoNbdParams::new(0.55, 10.6, 0.6, 11.7).unwrap(),
            named(&[(0, 0.5), (1, -0.3)]),
            named(&[(0, 0.7), (1, 0.4)]),
        )
        .unwrap(),
        &[0, 1],
        &[0, 1],
        4000,
    );
    check(
        WithCovariates::new(
            BgNbdParams::new(0.243, 4.414, 0.793, 2.426).unwrap(),
            named(&[(0, 0.6), (1, 0.3)]),
            named(&[(1, -0.5)]),
        )
        .unwrap(),
        &[0, 1],
        &[1],
        4000,
    );
    check(
        WithCovariates::new(
            clv::NbdParams::new(0.385, 12.07).unwrap(),
            named(&[(0, -0.4), (1, 0.25)]),
            vec![],
        )
        .unwrap(),
        &[0, 1],
        &[],
        3000,
    );
}

/// The equality constraint "same coefficient in both processes": Channel shared, Gender in
/// each; its gradient checks out, its maximum is below the unconstrained one by the constraint's
/// likelihood-ratio statistic (0.36 on 1 df: the data do not reject it).
#[test]
fn a_coefficient_shared_by_both_processes() {
    let (s, z) = apparel();
    let g = z.select(&["Gender"]).unwrap();
    let c = z.select(&["Channel"]).unwrap();
    let input = CovariateSummary::new(&s, &g, &g)
        .unwrap()
        .with_shared(&c)
        .unwrap();
    let d = clv::fit::FitData::<ParetoNbdCovParams>::prepare(&input).unwrap();
    let theta = [1.8, 93.0, 0.59, 49.5, 0.29, -0.64, 0.7];
    assert!(gradient_discrepancy::<ParetoNbdCovParams>(&theta, &d, 1e-5) < 1e-6);
    let f = fit::<ParetoNbdCovParams>(&input, &FitOptions::default()).unwrap();
    assert_eq!(
        f.names(),
        [
            "r",
            "alpha",
            "s",
            "beta",
            "purchase[Gender]",
            "dropout[Gender]",
            "both[Channel]"
        ]
    );
    let free = fit::<ParetoNbdCovParams>(
        &CovariateSummary::new(&s, &z, &z).unwrap(),
        &FitOptions::default(),
    )
    .unwrap();
    let lr = 2.0 * (free.log_likelihood() - f.log_likelihood());
    assert!(lr > 0.0 && lr < 1.0, "{lr}");
    let shared = clv::fit::MaximumLikelihood::to_vec(f.params())[6];
    assert!(shared > 0.623930 - 0.01 && shared < 0.789759, "{shared}");
    // a customer's own parameters use the shared value in both processes
    let own = f
        .params()
        .for_customer_with(&[0.0], &[0.0], &[1.0])
        .unwrap();
    let base = f.params().base();
    assert!((own.alpha() / base.alpha() - (-shared).exp()).abs() < 1e-12);
    assert!((own.beta() / base.beta() - (-shared).exp()).abs() < 1e-12);
}

/// A model file with covariates round-trips (names carry the covariates), and each customer's
/// predictions are the base model's at their own α_i = α e^{−γ_tᵀz}, β_i = β e^{−γ_lᵀz}.
#[test]
fn model_files_and_per_customer_predictions() {
    use clv::TransactionModel;
    use clv::fit::{MaximumLikelihood, ModelFile};
    let (s, z) = apparel();
    let input = CovariateSummary::new(&s, &z, &z).unwrap();
    let f = fit::<ParetoNbdCovParams>(&input, &FitOptions::default()).unwrap();
    let json = ModelFile::from_fitted(&f).to_json().unwrap();
    let back = ModelFile::from_json(&json)
        .unwrap()
        .to_fitted::<ParetoNbdCovParams>()
        .unwrap();
    assert_eq!(back.params(), f.params());
    assert_eq!(back.names(), f.names());
    // another model's file, or a name that is no coefficient, is refused
    assert!(
        ModelFile::from_json(&json)
            .unwrap()
            .to_fitted::<ParetoNbdParams>()
            .is_err()
    );
    let renamed = json.replace("purchase[Channel]", "channel");
    assert!(
        ModelFile::from_json(&renamed)
            .and_then(|m| m.to_fitted::<ParetoNbdCovParams>())
            .is_err()
    );
    // the same history, four covariate patterns: four different predictions, each the base
    // model's at the customer's own parameters
    let th = f.params().to_vec();
    let c = clv::Customer::new(3.0, 40.0, 104.0).unwrap();
    let mut seen = vec![];
    for (g, ch) in [(0.0, 0.0), (1.0, 0.0), (0.0, 1.0), (1.0, 1.0)] {
        let own = f.params().for_customer(&[g, ch], &[g, ch]).unwrap();
        let by_hand = ParetoNbdParams::new(
            th[0],
            th[1] * (-(th[4] * g + th[5] * ch)).exp(),
            th[2],
            th[3] * (-(th[6] * g + th[7] * ch)).exp(),
        )
        .unwrap();
        assert_eq!(own, by_hand);
        let e = own.conditional_expected_purchases(&c, 52.0);
        assert!(!seen.contains(&e));
        seen.push(e);
    }
}

/// Gamma-Gamma with spend covariates: gradients, an all-zero covariate leaves the fit as it
/// was, and a simulated spend effect is recovered within 3 SE.
#[test]
fn spend_covariates() {
    use clv::GammaGammaParams;
    use clv::fit::MaximumLikelihood;
    use clv::models::spend_covariates::{SpendCovariateSummary, SpendWithCovariates};
    use rand::{Rng, SeedableRng};
    let truth = SpendWithCovariates::new(
        GammaGammaParams::new(6.25, 3.74, 15.44).unwrap(),
        vec![("vip".into(), 0.5), ("region".into(), -0.2)],
    )
    .unwrap();
    for seed in 1..=2u64 {
        let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(seed);
        let n = 3000;
        let (mut x, mut m, mut rows) = (vec![], vec![], vec![]);
        for i in 0..n {
            let z = vec![
                f64::from(u8::from(rng.random::<f64>() < 0.3)),
                f64::from(rng.random_range(0..3u8)),
            ];
            let xi = f64::from(rng.random_range(0..6u8));
            let own = truth.for_customer(&z).unwrap();
            let mi =
                clv::sim::simulate_gamma_gamma(&own, &[xi], seed * 100_003 + i as u64).unwrap()[0];
            x.push(xi);
            m.push(mi);
            rows.push(z);
        }
        let s = RfmSummary::new(
            (0..n).map(|i| i.to_string()).collect(),
            x.clone(),
            x.clone(),
            vec![10.0; n],
            TimeUnit::Weeks,
        )
        .unwrap()
        .with_monetary_value(m)
        .unwrap();
        let z = Covariates::new(vec!["vip".into(), "region".into()], rows).unwrap();
        let input = SpendCovariateSummary::new(&s, &z).unwrap();
        let d = clv::fit::FitData::<SpendWithCovariates>::prepare(&input).unwrap();
        let theta = [6.0, 3.5, 16.0, 0.4, -0.1];
        assert!(gradient_discrepancy::<SpendWithCovariates>(&theta, &d, 1e-5) < 1e-6);
        let f = fit::<SpendWithCovariates>(&input, &FitOptions::default()).unwrap();
        let got = f.params().to_vec();
        let se = f.standard_errors().unwrap();
        let want = truth.to_vec();
        for k in 3..5 {
            assert!(
                (got[k] - want[k]).abs() < 3.0 * se[k],
                "seed {seed} {}: {} ± {} vs {}",
                f.names()[k],
                got[k],
                se[k],
                want[k]
            );
        }
        // an all-zero covariate, held at 0 by a small penalty, leaves the base fit
        if seed == 1 {
            let zero = Covariates::new(vec!["none".into()], vec![vec![0.0]; n]).unwrap();
            let f0 = fit::<SpendWithCovariates>(
                &SpendCovariateSummary::new(&s, &zero).unwrap(),
                &FitOptions::default().with_penalizer(0.1).unwrap(),
            )
            .unwrap();
            let base = GammaGammaParams::fit(&s, &FitOptions::default()).unwrap();
            assert!((f0.log_likelihood() - base.log_likelihood()).abs() < 1e-7);
            assert!(f0.params().to_vec()[3].abs() < 1e-8);
        }
    }
}

/// The predictive intervals of customers scored with their own covariates: on the apparel
/// data with a 52-week holdout (to 2007-12-30), the actual counts and spends fall inside the
/// 90% intervals for about 90% of customers or more (96.7% and 95.2%, as docs/cli.md quotes).
#[test]
fn own_model_predictive_intervals_cover_the_apparel_holdout() {
    use clv::GammaGammaParams;
    use clv::predictive::{purchase_interval, value_interval};
    use clv::value::ClvOptions;
    let end = chrono::NaiveDate::from_ymd_opt(2006, 12, 31).unwrap();
    let obs = chrono::NaiveDate::from_ymd_opt(2007, 12, 30).unwrap();
    let opts = SummaryOptions::new(end, TimeUnit::Weeks)
        .with_observation_end(obs)
        .unwrap()
        .skipping_lines_after_end();
    let mut b = SummaryBuilder::new(opts);
    let f = TransactionFormat::csv("Id", "Date", Some("Price"));
    read_transactions_into(data("apparel_trans.csv"), &f, &mut b).unwrap();
    let s = b.finish().unwrap().summary;
    let (_, z) = apparel();
    let input = CovariateSummary::new(&s, &z, &z).unwrap();
    let m = fit::<ParetoNbdCovParams>(&input, &FitOptions::default()).unwrap();
    let gg = GammaGammaParams::fit(&s, &FitOptions::default()).unwrap();
    let h = s.holdout().unwrap();
    let o = ClvOptions::new(h.duration, TimeUnit::Weeks).unwrap();
    let mv = s.monetary_value().unwrap();
    let (mut counts, mut spends) = (0, 0);
    for (i, (c, &m_i)) in s.customers().zip(mv).enumerate() {
        let own = m.params().for_customer(z.row(i), z.row(i)).unwrap();
        let p = purchase_interval(&own, &c, h.duration, 0.9).unwrap();
        counts += usize::from(p.contains(h.frequency[i]));
        let seed = 2 + i as u64;
        let v = value_interval(&own, gg.params(), &c, m_i, &o, 0.9, 2000, seed).unwrap();
        spends += usize::from(v.contains(h.frequency[i] * h.monetary_value[i]));
    }
    let n = s.len() as f64;
    let (cc, cs) = (counts as f64 / n, spends as f64 / n);
    eprintln!("apparel 52-week holdout: counts {cc:.4}, spends {cs:.4} inside the 90% intervals");
    assert!((0.9..0.99).contains(&cc), "{cc}");
    assert!((0.88..0.99).contains(&cs), "{cs}");
}
