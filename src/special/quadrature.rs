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
