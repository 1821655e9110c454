//! Discounted CLV reproduces lifetimes 0.11.3's `customer_lifetime_value` (time=12,
//! discount_rate=0.01, freq="W") on CDNOW when configured the same way: steps of 4.345 weeks,
//! 1% per step, lifetimes' own fitted parameters (`tests/data/lifetimes_clv_cdnow.csv`, made by
//! `scripts/lifetimes_clv_reference.py`).

use clv::io::read_summary_csv;
use clv::value::{ClvOptions, DiscountRate, summary_values};
use clv::{BgNbdParams, GammaGammaParams, TimeUnit};

/// Both implementations evaluate the same closed forms in double precision (lifetimes through
/// scipy's hyp2f1, accurate to ~1e-14 here): 1e-6 relative is the bar, with margin.
const REL_TOL: f64 = 1e-6;

#[test]
fn matches_lifetimes_customer_lifetime_value() {
    let text = include_str!("data/lifetimes_clv_cdnow.csv");
    let mut lines = text.lines();
    let head: Vec<f64> = lines
        .next()
        .unwrap()
        .split_whitespace()
        .filter_map(|w| w.parse().ok())
        .collect();
    let bg = BgNbdParams::new(head[0], head[1], head[2], head[3]).unwrap();
    let gg = GammaGammaParams::new(head[4], head[5], head[6]).unwrap();
    let want: Vec<f64> = lines
        .skip(1)
        .map(|l| l.split(',').nth(1).unwrap().parse().unwrap())
        .collect();
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/data/cdnow_customers_summary_with_transactions.csv"
    );
    let s = read_summary_csv(path, TimeUnit::Weeks).unwrap();
    let month = 4.345;
    let o = ClvOptions::new(12.0 * month, TimeUnit::Weeks)
        .unwrap()
        .with_step(month)
        .unwrap()
        .with_discount(DiscountRate::per_period(0.01, month, TimeUnit::Weeks).unwrap())
        .unwrap();
    let got = summary_values(&bg, &gg, &s, &o).unwrap();
    assert_eq!(got.len(), want.len());
    let mut worst = 0.0_f64;
    for (i, (g, w)) in got.iter().zip(&want).enumerate() {
        let rel = ((g - w) / w).abs();
        worst = worst.max(rel);
        assert!(rel < REL_TOL, "customer {}: {g} vs lifetimes {w}", i + 1);
    }
    eprintln!(
        "max relative difference to lifetimes over {} customers: {worst:e}",
        got.len()
    );
}
