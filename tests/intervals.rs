//! Bootstrap intervals: seeded and reproducible, bracket the point predictions, and agree with
//! the delta method for P(alive) on CDNOW.

use clv::io::read_summary_csv;
use clv::uncertainty::{BootstrapOptions, intervals};
use clv::value::{ClvOptions, DiscountRate};
use clv::{BgNbdParams, FitOptions, GammaGammaParams, TimeUnit, TransactionModel};

#[test]
fn bootstrap_intervals_on_cdnow() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/data/cdnow_customers_summary_with_transactions.csv"
    );
    let s = read_summary_csv(path, TimeUnit::Weeks).unwrap();
    let bg = BgNbdParams::fit(&s, &FitOptions::default()).unwrap();
    let gg = GammaGammaParams::fit(&s, &FitOptions::default()).unwrap();
    let o = ClvOptions::new(52.0, TimeUnit::Weeks)
        .unwrap()
        .with_step(13.0)
        .unwrap()
        .with_discount(DiscountRate::annual(0.1).unwrap())
        .unwrap();
    let opts = BootstrapOptions::new(100, 0.9, 11).unwrap();
    let a = intervals(&bg, Some(&gg), &s, 39.0, Some(&o), &opts).unwrap();
    let b = intervals(&bg, Some(&gg), &s, 39.0, Some(&o), &opts).unwrap();
    assert_eq!(a, b, "same seed, same intervals");
    let values = clv::value::summary_values(bg.params(), gg.params(), &s, &o).unwrap();
    let m = bg.params();
    let mut inside = 0;
    for (i, c) in s.customers().enumerate() {
        let iv = a[i];
        let e = m.conditional_expected_purchases(&c, 39.0);
        let clv = iv.clv.unwrap();
        assert!(iv.expected_purchases.low <= iv.expected_purchases.high && clv.low <= clv.high);
        assert!((0.0..=1.0).contains(&iv.p_alive.low) && iv.p_alive.high <= 1.0);
        if iv.expected_purchases.low <= e
            && e <= iv.expected_purchases.high
            && clv.low <= values[i]
            && values[i] <= clv.high
        {
            inside += 1;
        }
    }
    // the point prediction sits inside its own 90% interval for (almost) everyone
    assert!(
        inside as f64 >= 0.99 * s.len() as f64,
        "{inside} of {}",
        s.len()
    );
    // delta-method cross-check for customer 1's P(alive): sd from the gradient and covariance
    let c = s.customer(0);
    let theta = [m.r(), m.alpha(), m.a(), m.b()];
    let cov = bg.covariance().unwrap();
    let pa = |t: [f64; 4]| {
        BgNbdParams::new(t[0], t[1], t[2], t[3])
            .unwrap()
            .p_alive(&c)
    };
    let grad: Vec<f64> = (0..4)
        .map(|i| {
            let (mut up, mut dn) = (theta, theta);
            let h = 1e-6 * theta[i];
            up[i] += h;
            dn[i] -= h;
            (pa(up) - pa(dn)) / (2.0 * h)
        })
        .collect();
    let var: f64 = (0..4)
        .map(|i| (0..4).map(|j| grad[i] * cov[i][j] * grad[j]).sum::<f64>())
        .sum();
    let width = a[0].p_alive.high - a[0].p_alive.low;
    let delta_width = 2.0 * 1.6449 * var.sqrt();
    assert!(
        (width / delta_width - 1.0).abs() < 0.25,
        "bootstrap width {width} vs delta method {delta_width}"
    );
}
