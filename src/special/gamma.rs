//! Log-gamma for any real argument (with its sign) and accurate differences of log-gamma.

use statrs::function::gamma::ln_gamma;
use std::f64::consts::PI;

/// `sin(pi * x)`, exact at the integers and accurate for large |x|.
pub(crate) fn sin_pi(x: f64) -> f64 {
    let r = x - 2.0 * (x / 2.0).round(); // r in [-1, 1]
    let r = if r > 0.5 {
        1.0 - r
    } else if r < -0.5 {
        -1.0 - r
    } else {
        r
    };
    (PI * r).sin()
}

/// `(ln |Γ(x)|, sign Γ(x))` for any real `x`.
///
/// At the poles (`x` a non-positive integer) it returns `(+inf, 1.0)`, so that `1/Γ(x)`
/// computed as `exp(-ln)` is the correct 0.
///
/// ```
/// use clv::special::ln_gamma_signed;
/// let (l, s) = ln_gamma_signed(-0.5); // Γ(-1/2) = -2√π
/// assert_eq!(s, -1.0);
/// assert!((l - (2.0 * std::f64::consts::PI.sqrt()).ln()).abs() < 1e-14);
/// ```
pub fn ln_gamma_signed(x: f64) -> (f64, f64) {
    if x.is_nan() {
        return (f64::NAN, f64::NAN);
    }
    if x > 0.0 {
        return (ln_gamma(x), 1.0);
    }
    if x == x.floor() {
        return (f64::INFINITY, 1.0);
    }
    // Reflection: Γ(x) = π / (sin(πx) Γ(1 - x)).
    let s = sin_pi(x);
    (PI.ln() - s.abs().ln() - ln_gamma(1.0 - x), s.signum())
}

/// `ln(1 + d/x) / d`, with its limit `1/x` at `d = 0`.
#[inline]
pub(crate) fn ln1p_ratio(x: f64, d: f64) -> f64 {
    if d == 0.0 {
        1.0 / x
    } else {
        (d / x).ln_1p() / d
    }
}

/// `expm1(y) / y`, with its limit 1 at `y = 0`.
#[inline]
pub(crate) fn expm1_ratio(y: f64) -> f64 {
    if y == 0.0 { 1.0 } else { y.exp_m1() / y }
}

/// Stirling-series coefficients B_{2j} / (2j (2j - 1)), j = 1..8.
const STIRLING: [f64; 8] = [
    1.0 / 12.0,
    -1.0 / 360.0,
    1.0 / 1260.0,
    -1.0 / 1680.0,
    1.0 / 1188.0,
    -691.0 / 360360.0,
    1.0 / 156.0,
    -3617.0 / 122400.0,
];

/// `(ln Γ(x + d) - ln Γ(x)) / d` for `x > 0`, `x + d > 0`, accurate to a few ulps however
/// small `d` is; equals the digamma function ψ(x) at `d = 0`.
pub(crate) fn ln_gamma_diff_ratio(x: f64, d: f64) -> f64 {
    let mut x = x;
    let mut acc = 0.0;
    // ln Γ(x+d) - ln Γ(x) = [ln Γ(x+1+d) - ln Γ(x+1)] - ln(1 + d/x)
    while x < 10.0 {
        acc -= ln1p_ratio(x, d);
        x += 1.0;
    }
    // Stirling: ln Γ(y) = (y - 1/2) ln y - y + ln(2π)/2 + Σ c_j y^{-(2j-1)}
    let l = ln1p_ratio(x, d);
    let mut s = (x - 0.5) * l + (x + d).ln() - 1.0;
    let inv = 1.0 / x;
    let mut pow = inv; // x^{-n}, n = 2j - 1
    let inv2 = inv * inv;
    for (j, c) in STIRLING.iter().enumerate() {
        let n = (2 * j + 1) as f64;
        // [(x+d)^{-n} - x^{-n}] / d = x^{-n} expm1(-n d l) / d
        s += c * pow * expm1_ratio(-n * d * l) * (-n * l);
        pow *= inv2;
    }
    acc + s
}

/// `ln Γ(x + d) - ln Γ(x)`, accurate in relative terms even when `d` is tiny (where the naive
/// difference of two log-gammas cancels). Falls back to the plain difference of
/// [`ln_gamma_signed`] values when `x` or `x + d` is not positive.
///
/// ```
/// use clv::special::{ln_gamma_diff, digamma};
/// let d = 1e-12;
/// assert!((ln_gamma_diff(3.5, d) / d - digamma(3.5)).abs() < 1e-12);
/// ```
pub fn ln_gamma_diff(x: f64, d: f64) -> f64 {
    if x > 0.0 && x + d > 0.0 {
        d * ln_gamma_diff_ratio(x, d)
    } else {
        ln_gamma_signed(x + d).0 - ln_gamma_signed(x).0
    }
}

/// Bernoulli numbers B_{2k}, k = 1..7.
const BERNOULLI: [f64; 7] = [
    1.0 / 6.0,
    -1.0 / 30.0,
    1.0 / 42.0,
    -1.0 / 30.0,
    5.0 / 66.0,
    -691.0 / 2730.0,
    7.0 / 6.0,
];

/// `(z+d)^{-n} − z^{-n}` without cancellation: z^{-n} · expm1(−n ln(1 + d/z)).
fn inv_pow_diff(z: f64, d: f64, n: f64) -> f64 {
    z.powf(-n) * (-n * (d / z).ln_1p()).exp_m1()
}

/// `ψ(z + d) − ψ(z)` for z > 0, d >= 0, accurate in relative terms however large z is (the
/// plain difference of two digammas loses everything once z ≫ d): below 10 by the
/// recurrence ψ(z+1) = ψ(z) + 1/z, above by the difference of the asymptotic series
/// ψ(y) ~ ln y − 1/(2y) − Σ B_{2k}/(2k y^{2k}) term by term.
pub(crate) fn digamma_diff(z: f64, d: f64) -> f64 {
    if d == 0.0 {
        return 0.0;
    }
    let (mut z, mut acc) = (z, 0.0);
    while z < 10.0 {
        // 1/z − 1/(z+d)
        acc += d / (z * (z + d));
        z += 1.0;
    }
    let mut s = (d / z).ln_1p() - 0.5 * inv_pow_diff(z, d, 1.0);
    for (k, b) in BERNOULLI.iter().enumerate() {
        let n = 2.0 * (k + 1) as f64;
        s -= b / n * inv_pow_diff(z, d, n);
    }
    acc + s
}

/// `ψ'(z + d) − ψ'(z)` for z > 0, d >= 0, as [`digamma_diff`]: ψ'(z) = ψ'(z+1) + 1/z² below
/// 10, ψ'(y) ~ 1/y + 1/(2y²) + Σ B_{2k}/y^{2k+1} above.
pub(crate) fn trigamma_diff(z: f64, d: f64) -> f64 {
    if d == 0.0 {
        return 0.0;
    }
    let (mut z, mut acc) = (z, 0.0);
    while z < 10.0 {
        // 1/(z+d)² − 1/z²
        acc += inv_pow_diff(z, d, 2.0);
        z += 1.0;
    }
    let mut s = inv_pow_diff(z, d, 1.0) + 0.5 * inv_pow_diff(z, d, 2.0);
    for (k, b) in BERNOULLI.iter().enumerate() {
        let n = 2.0 * (k + 1) as f64 + 1.0;
        s += b * inv_pow_diff(z, d, n);
    }
    acc + s
}

#[cfg(test)]
mod tests {
    use super::*;
    use statrs::function::gamma::digamma;

    #[test]
    fn digamma_and_trigamma_differences_are_exact_sums() {
        // for whole d, ψ(z+d) − ψ(z) = Σ_{j<d} 1/(z+j) and ψ'(z+d) − ψ'(z) = −Σ 1/(z+j)²
        for &z in &[0.3, 1.0, 7.5, 10.0, 123.4, 2.3e6, 4.1e11, 1.7e12] {
            for d in [1u32, 2, 5, 37, 1000] {
                let (mut s1, mut s2) = (0.0, 0.0);
                for j in (0..d).rev() {
                    let y = z + f64::from(j);
                    s1 += 1.0 / y;
                    s2 -= 1.0 / (y * y);
                }
                let df = f64::from(d);
                let (a, b) = (digamma_diff(z, df), trigamma_diff(z, df));
                assert!((a - s1).abs() <= 1e-13 * s1.abs(), "{z} {d}: {a} vs {s1}");
                assert!((b - s2).abs() <= 1e-12 * s2.abs(), "{z} {d}: {b} vs {s2}");
            }
        }
        assert_eq!(digamma_diff(3.0, 0.0), 0.0);
    }

    #[test]
    fn diff_ratio_matches_digamma_and_lgamma() {
        for &x in &[0.3, 1.0, 2.5, 9.9, 10.0, 57.0, 2004.0] {
            assert!(
                (ln_gamma_diff_ratio(x, 0.0) - digamma(x)).abs()
                    < 1e-13 * digamma(x).abs().max(1.0)
            );
            for &d in &[0.5, -0.25, 0.1, 1e-3] {
                // the naive difference loses ~|ln Γ(x)| * 1e-14 / d to cancellation
                let naive = (ln_gamma(x + d) - ln_gamma(x)) / d;
                let ours = ln_gamma_diff_ratio(x, d);
                let tol = 1e-14 * ln_gamma(x).abs().max(1.0) / d.abs() + 1e-13;
                assert!(
                    (naive - ours).abs() < tol * naive.abs().max(1.0),
                    "{x} {d} {naive} {ours}"
                );
            }
        }
    }

    #[test]
    fn signed_gamma_negative() {
        // Γ(-1.5) = 4√π/3 > 0, Γ(-2.5) = -8√π/15
        let (l, s) = ln_gamma_signed(-1.5);
        assert_eq!(s, 1.0);
        assert!((l - (4.0 * PI.sqrt() / 3.0).ln()).abs() < 1e-14);
        let (l, s) = ln_gamma_signed(-2.5);
        assert_eq!(s, -1.0);
        assert!((l - (8.0 * PI.sqrt() / 15.0).ln()).abs() < 1e-14);
        assert_eq!(ln_gamma_signed(-3.0).0, f64::INFINITY);
    }
}

/// The trigamma function ψ₁(x) = d²/dx² ln Γ(x) for x > 0 (NaN otherwise): upward recurrence
/// ψ₁(x) = ψ₁(x+1) + 1/x² to x >= 12, then the asymptotic series
/// 1/x + 1/(2x²) + Σ B₂ₖ/x^{2k+1} (A&S 6.4.12) through B₁₄; relative error below 1e-14.
///
/// ```
/// use clv::special::trigamma;
/// let pi2_6 = std::f64::consts::PI.powi(2) / 6.0;
/// assert!((trigamma(1.0) / pi2_6 - 1.0).abs() < 1e-14);
/// assert!((trigamma(0.5) / (3.0 * pi2_6) - 1.0).abs() < 1e-14);
/// assert!(trigamma(-1.0).is_nan());
/// ```
pub fn trigamma(x: f64) -> f64 {
    if x.is_nan() || x <= 0.0 {
        return f64::NAN;
    }
    if x == f64::INFINITY {
        return 0.0;
    }
    let mut acc = 0.0;
    let mut x = x;
    while x < 12.0 {
        acc += 1.0 / (x * x);
        x += 1.0;
    }
    let z = 1.0 / (x * x);
    // B2 .. B14: 1/6, -1/30, 1/42, -1/30, 5/66, -691/2730, 7/6
    let series = (1.0 / x)
        * (1.0 / 6.0
            + z * (-1.0 / 30.0
                + z * (1.0 / 42.0
                    + z * (-1.0 / 30.0
                        + z * (5.0 / 66.0 + z * (-691.0 / 2730.0 + z * 7.0 / 6.0))))));
    acc + (1.0 + (0.5 + series) / x) / x
}

#[cfg(test)]
mod trigamma_tests {
    use super::trigamma;

    #[test]
    fn reference_values() {
        // ψ₁(n) = π²/6 - Σ_{k<n} 1/k²; ψ₁(1/4) = π² + 8G (Catalan's G); large x ~ 1/x + 1/(2x²)
        let pi2 = std::f64::consts::PI.powi(2);
        let catalan = 0.915_965_594_177_219_f64;
        let cases = [
            (1.0, pi2 / 6.0),
            (3.0, pi2 / 6.0 - 1.0 - 0.25),
            (0.25, pi2 + 8.0 * catalan),
            (11.5, 0.090_846_661_274_546_23), // mpmath psi(1, 11.5)
            (1e-3, 1_000_001.642_533_195_8),  // mpmath psi(1, 0.001)
        ];
        for (x, want) in cases {
            assert!(
                (trigamma(x) / want - 1.0).abs() < 2e-14,
                "{x}: {} vs {want}",
                trigamma(x)
            );
        }
        let x = 1e8;
        assert!((trigamma(x) - (1.0 / x + 0.5 / (x * x))).abs() < 1e-24);
    }
}

/// ln B(a, b) = ln Γ(a) + ln Γ(b) − ln Γ(a+b) for finite a, b > 0; NaN otherwise (statrs'
/// `ln_beta`, which computes it, panics there).
///
/// ```
/// use clv::special::ln_beta;
/// assert!((ln_beta(2.0, 3.0) - (1.0f64 / 12.0).ln()).abs() < 1e-14);
/// assert!(ln_beta(-1.0, 2.0).is_nan());
/// assert!(ln_beta(f64::NAN, 2.0).is_nan());
/// ```
pub fn ln_beta(a: f64, b: f64) -> f64 {
    if a > 0.0 && b > 0.0 && a.is_finite() && b.is_finite() {
        statrs::function::beta::ln_beta(a, b)
    } else {
        f64::NAN
    }
}
