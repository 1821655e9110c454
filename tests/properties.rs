//! Property tests over wide parameter and customer ranges (issue 7): parameters log-uniform
//! over [1e-3, 1e3]; customers with x up to 1e5, T up to 1e5 and t_x anywhere in [0, T].
//! `cargo test --test properties` runs 64 cases per property (a few seconds); for a long run:
//! `PROPTEST_CASES=20000 cargo test --release --test properties`.

use clv::fit::{MaximumLikelihood, gradient_discrepancy};
use clv::value::{ClvOptions, DiscountRate, customer_value, summary_values};
use clv::{
    BgNbdParams, Customer, GammaGammaParams, RfmSummary, SpendModel, TimeUnit, TransactionModel,
};
use proptest::prelude::*;

/// Log-uniform over [10^lo, 10^hi].
fn log_uniform(lo: f64, hi: f64) -> impl Strategy<Value = f64> {
    (lo..hi).prop_map(|e| 10f64.powf(e))
}

fn bgnbd() -> impl Strategy<Value = BgNbdParams> {
    (
        log_uniform(-3.0, 3.0),
        log_uniform(-3.0, 3.0),
        log_uniform(-3.0, 3.0),
        log_uniform(-3.0, 3.0),
    )
        .prop_map(|(r, al, a, b)| BgNbdParams::new(r, al, a, b).unwrap())
}

fn gamma_gamma() -> impl Strategy<Value = GammaGammaParams> {
    (
        log_uniform(-3.0, 3.0),
        log_uniform(-3.0, 3.0),
        log_uniform(-3.0, 3.0),
    )
        .prop_map(|(p, q, v)| GammaGammaParams::new(p, q, v).unwrap())
}

/// x: small counts half the time, anything up to 1e5 otherwise; T log-uniform to 1e5;
/// t_x = u·T (0 when x = 0).
fn customer() -> impl Strategy<Value = Customer> {
    (
        prop_oneof![0u32..20, 0u32..=100_000],
        log_uniform(-2.0, 5.0),
        0.0f64..=1.0,
    )
        .prop_map(|(x, t, u)| {
            let x = x as f64;
            Customer::new(x, if x > 0.0 { u * t } else { 0.0 }, t).unwrap()
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn bgnbd_likelihood_is_finite(m in bgnbd(), c in customer()) {
        let ll = m.ln_likelihood(&c);
        // a density in t_x, so it may exceed 1: finiteness is the property
        prop_assert!(ll.is_finite(), "{m:?} {c:?}: {ll}");
    }

    #[test]
    fn p_alive_and_expectations_are_valid(m in bgnbd(), c in customer()) {
        let pa = m.p_alive(&c);
        prop_assert!((0.0..=1.0).contains(&pa), "{m:?} {c:?}: P(alive) {pa}");
        let mut last = 0.0;
        for t in [1e-3, 0.1, 1.0, 10.0, 100.0, 1e4, 1e6] {
            let e = m.conditional_expected_purchases(&c, t);
            prop_assert!(e.is_finite() && e >= 0.0, "{m:?} {c:?}: E[Y({t})] = {e}");
            prop_assert!(e >= last * (1.0 - 1e-9), "{m:?} {c:?}: E[Y] decreases at t = {t}: {last} -> {e}");
            last = e;
            let u = m.expected_purchases(t);
            prop_assert!(u.is_finite() && u >= 0.0, "{m:?}: E[X({t})] = {u}");
        }
    }

    #[test]
    fn conditional_pmf_sums_to_one(m in bgnbd(), c in customer(), t in log_uniform(-1.0, 2.0)) {
        // The count can be heavy-tailed (a customer with p near 0 never drops out), so the
        // check uses what the tail must satisfy: with S = Σ_{n<=N} P(Y=n) and
        // M = Σ_{n<=N} n·P(Y=n), the tail holds 1 - S and adds at least (N+1)(1 - S) to the
        // mean, so S <= 1, M <= E[Y] and (N+1)(1 - S) <= E[Y] - M. A wrong pmf breaks one.
        let e = m.conditional_expected_purchases(&c, t);
        prop_assume!(e <= 20.0);
        let big_n = 400u64;
        let mut sum = 0.0;
        let mut mean = 0.0;
        for n in 0..=big_n {
            let p = m.conditional_pmf(&c, n, t);
            prop_assert!((0.0..=1.0).contains(&p), "{m:?} {c:?} t={t}: P(Y={n}) = {p}");
            sum += p;
            mean += n as f64 * p;
        }
        let slack = 1e-7 * e.max(1.0);
        prop_assert!(sum <= 1.0 + 1e-9, "{m:?} {c:?} t={t}: sum {sum}");
        prop_assert!(mean <= e + slack, "{m:?} {c:?} t={t}: partial mean {mean} > {e}");
        prop_assert!(
            (big_n + 1) as f64 * (1.0 - sum) <= e - mean + slack,
            "{m:?} {c:?} t={t}: tail {} cannot hold the missing mean {}", 1.0 - sum, e - mean
        );
    }

    #[test]
    fn clv_is_finite_and_nonnegative(
        m in bgnbd(),
        g in gamma_gamma(),
        c in customer(),
        spend in log_uniform(-2.0, 4.0),
        margin in 0.0f64..=1.0,
        rate in -0.5f64..1.0,
    ) {
        let o = ClvOptions::new(52.0, TimeUnit::Weeks).unwrap().with_step(4.0).unwrap()
            .with_discount(DiscountRate::annual(rate).unwrap()).unwrap()
            .with_margin(margin).unwrap();
        let mean = if c.frequency() > 0.0 { spend } else { 0.0 };
        match customer_value(&m, &g, &c, mean, &o) {
            Ok(v) => prop_assert!(v.is_finite() && v >= 0.0, "{m:?} {g:?} {c:?}: CLV {v}"),
            // only the spend model may refuse: no finite mean spend (q <= 1 and x = 0, or
            // p·x + q <= 1)
            Err(e) => prop_assert!(
                g.conditional_expected_spend(c.frequency(), mean).is_err(),
                "{m:?} {g:?} {c:?}: {e}"
            ),
        }
    }

    #[test]
    fn gamma_gamma_likelihood_and_spend_are_valid(
        g in gamma_gamma(),
        x in 1u32..=100_000,
        spend in log_uniform(-3.0, 5.0),
    ) {
        let x = x as f64;
        let ll = g.ln_likelihood(x, spend);
        prop_assert!(ll.is_finite(), "{g:?} x={x} m={spend}: {ll}");
        if let Ok(s) = g.conditional_expected_spend(x, spend) {
            prop_assert!(s.is_finite() && s > 0.0, "{g:?} x={x} m={spend}: {s}");
        }
    }

    /// The batch (tabulated) CLV equals the per-customer formula.
    #[test]
    fn batch_clv_matches_per_customer(
        m in bgnbd(),
        // q > 1: the spend of customers with x = 0 (the population mean) exists
        g in (log_uniform(-3.0, 3.0), log_uniform(0.0, 3.0), log_uniform(-3.0, 3.0))
            .prop_filter("q > 1", |(_, q, _)| *q > 1.0)
            .prop_map(|(p, q, v)| GammaGammaParams::new(p, q, v).unwrap()),
        ages in proptest::collection::vec(log_uniform(0.0, 2.5), 200),
    ) {
        let n = ages.len();
        // 200 customers in 4 frequency groups, enough to be tabulated
        let x: Vec<f64> = (0..n).map(|i| (i % 4) as f64).collect();
        let tx: Vec<f64> = (0..n).map(|i| if x[i] > 0.0 { ages[i] * 0.5 } else { 0.0 }).collect();
        let s = RfmSummary::new((0..n).map(|i| i.to_string()).collect(), x.clone(), tx, ages, TimeUnit::Weeks)
            .unwrap()
            .with_monetary_value(x.iter().map(|&x| if x > 0.0 { 25.0 } else { 0.0 }).collect())
            .unwrap();
        let o = ClvOptions::new(52.0, TimeUnit::Weeks).unwrap().with_step(4.0).unwrap()
            .with_discount(DiscountRate::annual(0.1).unwrap()).unwrap();
        let batch = summary_values(&m, &g, &s, &o).unwrap();
        for (i, c) in s.customers().enumerate() {
            let one = customer_value(&m, &g, &c, s.monetary_value().unwrap()[i], &o).unwrap();
            prop_assert!(
                // the plan's interpolants are built to 1e-12 in ln F, but F sums discounted
                // differences of E[Y]; the worst case the property runs have found is 1.5e-9
                // (r = 79, α = 0.045, a = 0.003, b = 822, a value of 1.7e-16)
                (batch[i] - one).abs() <= 1e-8 * one.abs() + 1e-300,
                "{m:?} {c:?}: batch {} vs {one}", batch[i]
            );
        }
    }

    /// Where the likelihood is smooth (moderate parameters), the analytic gradient matches
    /// central differences.
    #[test]
    fn bgnbd_gradient_matches_finite_differences(
        r in log_uniform(-2.0, 2.0),
        al in log_uniform(-2.0, 2.0),
        a in log_uniform(-2.0, 2.0),
        b in log_uniform(-2.0, 2.0),
        cs in proptest::collection::vec(customer(), 5),
    ) {
        let s = RfmSummary::new(
            (0..cs.len()).map(|i| i.to_string()).collect(),
            cs.iter().map(|c| c.frequency()).collect(),
            cs.iter().map(|c| c.recency()).collect(),
            cs.iter().map(|c| c.age()).collect(),
            TimeUnit::Weeks,
        ).unwrap();
        let d = s.compress();
        // step h = 1e-5·θ: the central difference's rounding noise is about ε·|LL|/h, which
        // with x up to 1e5 (|LL| ~ 1e6) and θ ~ 0.015 reaches 1e-3 on its own; the bound is
        // 1e-3 above that noise (16 ε|LL|/h_min), which still catches any wrong term
        let theta = [r, al, a, b];
        let err = gradient_discrepancy::<BgNbdParams>(&theta, &d, 1e-5);
        let ll = BgNbdParams::log_likelihood_grad(&theta, &d, None).abs();
        let h_min = 1e-5 * theta.iter().copied().fold(f64::INFINITY, f64::min);
        let noise = 16.0 * f64::EPSILON * ll / h_min;
        prop_assert!(err < 1e-3 + noise, "{theta:?}: {err} (noise {noise})");
        let _ = BgNbdParams::n_rows(&d);
    }
}
