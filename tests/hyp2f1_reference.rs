//! `ln_hyp2f1` against 910 values computed with mpmath at 60 significant digits
//! (`tests/data/hyp2f1_cases.csv`, a copy of the shared reference table, columns
//! `family,a,b,c,z,value,ln_value`).
//!
//! Tolerances (from the acceptance criteria):
//! - model families: |ln error| <= 1e-12 * max(1, |ln value|);
//! - `edge` family (z -> 1 with c - a - b at or near an integer): |ln error| <= 1e-9.
//!
//! The table is in the repository, so the test runs on every fresh clone.

use clv::special::ln_hyp2f1;

const MODEL_TOL: f64 = 1e-12;
const EDGE_TOL: f64 = 1e-9;

#[test]
fn ln_hyp2f1_matches_mpmath_table() {
    let text = include_str!("data/hyp2f1_cases.csv");
    let mut worst_rel = 0.0_f64;
    let mut failures = Vec::new();
    let mut n = 0;
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        let family = f[0];
        let p = |i: usize| f[i].parse::<f64>().unwrap();
        let (a, b, c, z, want) = (p(1), p(2), p(3), p(4), p(6));
        let got = ln_hyp2f1(a, b, c, z);
        let err = (got - want).abs();
        let (ok, rel) = if family == "edge" {
            (err <= EDGE_TOL, err)
        } else {
            let rel = err / want.abs().max(1.0);
            (rel <= MODEL_TOL, rel)
        };
        if family != "edge" {
            worst_rel = worst_rel.max(rel);
        }
        if !ok || !got.is_finite() {
            failures.push(format!(
                "{family} a={a} b={b} c={c} z={z}: got {got}, want {want} (err {err:e})"
            ));
        }
        n += 1;
    }
    assert_eq!(n, 910, "reference table has changed size");
    eprintln!("worst relative ln error on model families: {worst_rel:e}");
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Every point of a wide grid with a, b, c > 0 and 0 <= z < 1 gives a finite value that is
/// at least ln 1 = 0 (all series terms are positive there, so 2F1 >= 1).
#[test]
fn ln_hyp2f1_finite_on_wide_grid() {
    let ps = [1e-3, 0.1, 0.5, 1.0, 2.5, 10.0, 100.0, 2000.0];
    let zs = [
        0.0,
        1e-10,
        0.1,
        0.49,
        0.5,
        0.51,
        0.9,
        0.99,
        0.9999,
        1.0 - 1e-10,
    ];
    let mut bad = Vec::new();
    for &a in &ps {
        for &b in &ps {
            for &c in &ps {
                for &z in &zs {
                    let v = ln_hyp2f1(a, b, c, z);
                    if !v.is_finite() || v < -1e-15 {
                        bad.push(format!("a={a} b={b} c={c} z={z}: {v}"));
                    }
                }
            }
        }
    }
    assert!(
        bad.is_empty(),
        "{} bad points:\n{}",
        bad.len(),
        bad.join("\n")
    );
}
