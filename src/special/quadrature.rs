//! Gauss–Legendre quadrature.

use std::sync::OnceLock;

/// Nodes and weights of the `N`-point Gauss–Legendre rule on [-1, 1], by Newton's method on the
/// Legendre polynomial (three-term recurrence), to full double precision.
fn rule<const N: usize>() -> ([f64; N], [f64; N]) {
    let (mut x, mut w) = ([0.0; N], [0.0; N]);
    let n = N as f64;
    for i in 0..N {
        // Tricomi's initial guess for the i-th root (descending)
        let mut z = (std::f64::consts::PI * (i as f64 + 0.75) / (n + 0.5)).cos();
        let mut dp = 0.0;
        for _ in 0..100 {
            let (mut p0, mut p1) = (1.0, z);
            for k in 2..=N {
                let k = k as f64;
                let p2 = ((2.0 * k - 1.0) * z * p1 - (k - 1.0) * p0) / k;
                p0 = p1;
                p1 = p2;
            }
            dp = n * (z * p1 - p0) / (z * z - 1.0);
            let dz = p1 / dp;
            z -= dz;
            if dz.abs() < 1e-16 {
                break;
            }
        }
        x[i] = z;
        w[i] = 2.0 / ((1.0 - z * z) * dp * dp);
    }
    (x, w)
}

/// The 20-point rule on [-1, 1] (nodes, weights), computed once: for integrating several
/// functions over the same nodes.
pub(crate) fn rule20() -> &'static ([f64; 20], [f64; 20]) {
    static R: OnceLock<([f64; 20], [f64; 20])> = OnceLock::new();
    R.get_or_init(rule::<20>)
}

/// ∫_lo^hi f(u) du by the 20-point Gauss–Legendre rule (exact for polynomials of degree 39).
///
/// ```
/// let v = clv::special::gauss_legendre(|x| x.exp(), 0.0, 1.0);
/// assert!((v - (1f64.exp() - 1.0)).abs() < 1e-15);
/// ```
pub fn gauss_legendre(f: impl Fn(f64) -> f64, lo: f64, hi: f64) -> f64 {
    let (x, w) = rule20();
    let (mid, half) = (0.5 * (lo + hi), 0.5 * (hi - lo));
    half * x
        .iter()
        .zip(w)
        .map(|(xi, wi)| wi * f(mid + half * xi))
        .sum::<f64>()
}

/// ∫ f over [lo, hi] by 20-point Gauss–Legendre with adaptive bisection: the panel whose rule
/// and two-half sum disagree most is split next, until every disagreement is below `rel_tol`
/// times the total (or 1e-300), or 4,000 panels have been used (a bound on the work when the
/// integrand carries rounding noise).
///
/// ```
/// use clv::special::adaptive_gauss_legendre;
/// // a sharp peak near 0 that one fixed panel would miss
/// let v = adaptive_gauss_legendre(|x: f64| 1e4 * (-1e4 * x).exp(), 0.0, 1.0, 1e-13);
/// assert!((v - (1.0 - (-1e4f64).exp())).abs() < 1e-12);
/// ```
pub fn adaptive_gauss_legendre(f: impl Fn(f64) -> f64, lo: f64, hi: f64, rel_tol: f64) -> f64 {
    // (lo, hi, value from the two halves, error estimate)
    let panel = |a: f64, b: f64| {
        let whole = gauss_legendre(&f, a, b);
        let mid = 0.5 * (a + b);
        let halves = gauss_legendre(&f, a, mid) + gauss_legendre(&f, mid, b);
        (a, b, halves, (halves - whole).abs())
    };
    let mut panels = vec![panel(lo, hi)];
    loop {
        let total: f64 = panels.iter().map(|p| p.2).sum();
        let (worst, err) = panels
            .iter()
            .enumerate()
            .map(|(i, p)| (i, p.3))
            .fold((0, 0.0), |acc, x| if x.1 > acc.1 { x } else { acc });
        let errs: f64 = panels.iter().map(|p| p.3).sum();
        if errs <= rel_tol * total.abs() || errs < 1e-300 || panels.len() >= 4000 || err == 0.0 {
            return total;
        }
        let (a, b, _, _) = panels.swap_remove(worst);
        let mid = 0.5 * (a + b);
        if !(a < mid && mid < b) {
            // the panel cannot be split further in f64
            panels.push((a, b, gauss_legendre(&f, a, b), 0.0));
            continue;
        }
        panels.push(panel(a, mid));
        panels.push(panel(mid, b));
    }
}

/// `∫_0^{u_end} f(u) du` for `u_end <= 1`, with `f` carrying a discount factor
/// `e^{-c·u/(1-u)}` (`c >= 0`) and possibly peaking or blowing up toward `u = 1`: 20-point
/// Gauss–Legendre on panels `[1 - 2^{-k}, 1 - 2^{-k-1}]` graded toward 1, stopping at `u_end`
/// or where the discount factor falls below e^{-745} (the rest is exactly 0 in f64). The DERT
/// integrals of every model use it.
pub(crate) fn integrate_graded_to_one(f: impl Fn(f64) -> f64, u_end: f64, c: f64) -> f64 {
    let mut total = 0.0;
    let mut lo = 0.0;
    for k in 1..=1100 {
        let hi = (1.0 - 0.5f64.powi(k)).min(u_end);
        total += gauss_legendre(&f, lo, hi);
        lo = hi;
        if hi >= u_end || (c > 0.0 && c * hi / (1.0 - hi) > 745.0) {
            break;
        }
    }
    total
}

/// `∫_lo^hi f` for an integrand whose structure sits near known points: `features` holds
/// `(s_f, w_f)` pairs, and the panel starting at s has width `min_f max(w_f, |s − s_f|/4)`
/// (20-point Gauss–Legendre each), so panels are `w_f` wide near a feature and grow
/// geometrically (by 5/4 per panel) away from it. Meant for integrands that are smooth at scale
/// `w_f` around each feature and decay at least exponentially away from all of them, such as a
/// Gamma density in log space (feature: the mode, width: the standard deviation) times a
/// smoothed step. The work is O(Σ_f ln((hi − lo)/w_f)) panels.
pub(crate) fn integrate_near_features(
    f: impl Fn(f64) -> f64,
    lo: f64,
    hi: f64,
    features: &[(f64, f64)],
) -> f64 {
    let mut total = 0.0;
    let mut s = lo;
    let mut panels = 0;
    while s < hi && panels < 100_000 {
        let width = features
            .iter()
            .map(|&(at, w)| w.max((s - at).abs() / 4.0))
            .fold(hi - lo, f64::min);
        let next = (s + width).min(hi);
        if next <= s {
            break;
        }
        total += gauss_legendre(&f, s, next);
        s = next;
        panels += 1;
    }
    total
}

/// The 10-point rule on [-1, 1], computed once: the error estimate of [`adaptive_vec`].
fn rule10() -> &'static ([f64; 10], [f64; 10]) {
    static R: OnceLock<([f64; 10], [f64; 10])> = OnceLock::new();
    R.get_or_init(rule::<10>)
}

/// `∫_lo^hi` of a vector-valued integrand (`f(u, out)` writes its `N` components), with
/// adaptive bisection driven by component 0, which must be >= 0 (the others, derivatives of
/// it, ride on the same panels). A panel is accepted when its 10- and 20-point Gauss–Legendre
/// values of component 0 differ by at most `rel_tol` times the running estimate of the total
/// (the 20-point rule is then far more accurate than that difference), else halved, to at most
/// 30 halvings deep and 4,000 panels in all (a bound on the work when the integrand carries
/// rounding noise). Cheap where the integrand is smooth: 30 evaluations for the whole interval.
pub(crate) fn adaptive_vec<const N: usize>(
    f: &impl Fn(f64, &mut [f64; N]),
    lo: f64,
    hi: f64,
    rel_tol: f64,
) -> [f64; N] {
    let (x20, w20) = rule20();
    let (x10, w10) = rule10();
    let mut buf = [0.0; N];
    let mut panel = |a: f64, b: f64| {
        let (mid, half) = (0.5 * (a + b), 0.5 * (b - a));
        let mut s20 = [0.0; N];
        for (xi, wi) in x20.iter().zip(w20) {
            f(mid + half * xi, &mut buf);
            for (s, v) in s20.iter_mut().zip(&buf) {
                *s += wi * v * half;
            }
        }
        let mut s10 = 0.0;
        for (xi, wi) in x10.iter().zip(w10) {
            f(mid + half * xi, &mut buf);
            s10 += wi * buf[0] * half;
        }
        (s20, (s10 - s20[0]).abs())
    };
    let (whole, err) = panel(lo, hi);
    let scale = whole[0].abs();
    if err <= rel_tol * scale || hi <= lo || hi.is_nan() || lo.is_nan() {
        return whole;
    }
    let mut total = [0.0f64; N];
    let mut stack = vec![(lo, hi, 0u32)];
    let mut panels = 0;
    while let Some((a, b, depth)) = stack.pop() {
        let (s, err) = panel(a, b);
        panels += 1;
        let mid = 0.5 * (a + b);
        let last = depth >= 30 || panels >= 4000 || mid <= a || mid >= b;
        if last || err <= rel_tol * scale.max(total[0].abs()) {
            for (t, v) in total.iter_mut().zip(&s) {
                *t += v;
            }
        } else {
            stack.push((mid, b, depth + 1));
            stack.push((a, mid, depth + 1));
        }
    }
    total
}

#[cfg(test)]
mod vec_tests {
    use super::adaptive_vec;

    #[test]
    fn integrates_a_sharp_decay_and_its_derivative() {
        // ∫_0^10 (1+u)^-p du and its derivative in p, for p = 3001 (a decay over 1/3000)
        let p = 3001.0f64;
        let f = |u: f64, out: &mut [f64; 2]| {
            let l = (1.0 + u).ln();
            out[0] = (-p * l).exp();
            out[1] = -l * out[0];
        };
        let v = adaptive_vec(&f, 0.0, 10.0, 1e-13);
        let want = (1.0 - 11f64.powf(1.0 - p)) / (p - 1.0);
        assert!((v[0] / want - 1.0).abs() < 1e-12, "{} vs {want}", v[0]);
        // d/dp of 1/(p-1) (the 11^(1-p) term is 0 in f64)
        let dwant = -1.0 / ((p - 1.0) * (p - 1.0));
        assert!((v[1] / dwant - 1.0).abs() < 1e-10, "{} vs {dwant}", v[1]);
    }
}
